// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * siw_target: the siw side of the hostile-peer tests (tests/vm/48-*),
 * where the other side is tests/lib/iwarp_peer.py or a second siw_target.
 *
 *   siw_target err-place ADDR PORT
 *	Server. Accepts one connection; its MPA Reply's private data names
 *	a 64 KiB buffer the peer may RDMA WRITE (struct target_info). When
 *	the peer's first Send arrives, moves the QP to Error, then watches
 *	the buffer for two seconds: it must not change any more, whatever
 *	the peer still writes (exit 1 if it did).
 *   siw_target reuse ADDR PORT
 *	Client. Connects a QP of its own (ibv_create_qp, bound by number),
 *	disconnects, takes the QP through ERR, RESET and INIT and connects
 *	it again to the same listener, whose first connection stays open
 *	and silent. 12 s later, past the old connection's close timeout,
 *	the new one must still carry a Send (exit 1 if not).
 *   siw_target reset-busy ADDR PORT N
 *	Client. N times: connects a QP of its own, posts Sends of 64 KiB
 *	that a slowly reading peer keeps the transmitter busy with, then
 *	destroys the connection's id and takes the QP to ERR and at once
 *	to RESET, and connects it again.
 *	RESET must wait for the transmitter: the kernel log judges.
 *   siw_target hold ADDR
 *	Creates a QP on the device of ADDR, moves it to INIT, prints
 *	"qpn N" and waits to be killed.
 *   siw_target steal QPN ADDR PORT
 *	Asks rdma_cm to connect QP number QPN, which another process owns.
 *	Exits 0 if that is refused, 1 if it was connected.
 *   siw_target cq-hog ADDR N
 *	Creates up to N CQs of the largest size on the device of ADDR,
 *	holding them all, and prints "created K CQs" when one fails or
 *	all N are there. The caller judges K.
 *
 * SIGALRM ends a run that hangs after 60 s.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <netdb.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define BUF_LEN		(64 * 1024)
#define MSG_LEN		16

/* Big endian, as the peer reads it off the wire. */
struct target_info {
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
} __attribute__((packed));

struct conn {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	struct ibv_mr *mr;
	uint8_t *buf;
};

static void die(const char *what)
{
	fprintf(stderr, "siw_target: %s: %s\n", what, strerror(errno));
	exit(2);
}

static struct rdma_cm_event *wait_event(struct conn *c,
					enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(c->ch, &ev))
		die("rdma_get_cm_event");
	if (ev->event != want) {
		fprintf(stderr, "siw_target: cm event %s (status %d), wanted %s\n",
			rdma_event_str(ev->event), ev->status,
			rdma_event_str(want));
		exit(1);
	}
	return ev;
}

static struct rdma_addrinfo *resolve(const char *addr, const char *port,
				     int passive)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP };
	struct rdma_addrinfo *res;

	if (passive)
		hints.ai_flags = RAI_PASSIVE;
	if (rdma_getaddrinfo(addr, port, &hints, &res))
		die("rdma_getaddrinfo");
	return res;
}

/* PD, CQ and MR on the id's device; the QP is the caller's business. */
static void setup_verbs(struct conn *c, struct ibv_context *ctx)
{
	c->pd = ibv_alloc_pd(ctx);
	c->cq = c->pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	c->buf = calloc(1, BUF_LEN);
	if (!c->cq || !c->buf)
		die("verbs setup");
	c->mr = ibv_reg_mr(c->pd, c->buf, BUF_LEN, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	if (!c->mr)
		die("ibv_reg_mr");
}

static struct ibv_qp *create_qp(struct conn *c)
{
	struct ibv_qp_init_attr attr = {
		.send_cq = c->cq,
		.recv_cq = c->cq,
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_qp *qp = ibv_create_qp(c->pd, &attr);

	if (!qp)
		die("ibv_create_qp");
	return qp;
}

static void post_recv(struct conn *c)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)c->buf, .length = MSG_LEN, .lkey = c->mr->lkey,
	};
	struct ibv_recv_wr wr = { .sg_list = &sge, .num_sge = 1 }, *bad;

	if (ibv_post_recv(c->qp, &wr, &bad))
		die("ibv_post_recv");
}

static int poll_one(struct conn *c, struct ibv_wc *wc, int secs)
{
	int i, n;

	for (i = 0; i < secs * 1000; i++) {
		n = ibv_poll_cq(c->cq, 1, wc);
		if (n)
			return n;
		usleep(1000);
	}
	return 0;
}

static int modify_state(struct ibv_qp *qp, enum ibv_qp_state state)
{
	struct ibv_qp_attr attr = { .qp_state = state };

	return ibv_modify_qp(qp, &attr, IBV_QP_STATE);
}

/* Moves a QP of our own to INIT the way rdma_cm would for this id. */
static void qp_to_init(struct rdma_cm_id *id, struct ibv_qp *qp)
{
	struct ibv_qp_attr attr;
	int mask;

	attr.qp_state = IBV_QPS_INIT;
	if (rdma_init_qp_attr(id, &attr, &mask))
		die("rdma_init_qp_attr");
	if (ibv_modify_qp(qp, &attr, mask))
		die("modify_qp INIT");
}

static int err_place(const char *addr, const char *port)
{
	struct target_info info;
	struct rdma_conn_param param = {
		.responder_resources = 1, .initiator_depth = 1,
		.private_data = &info, .private_data_len = sizeof(info),
	};
	struct ibv_qp_init_attr qa = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct rdma_addrinfo *ai = resolve(addr, port, 1);
	struct rdma_cm_event *ev;
	struct rdma_cm_id *listen;
	struct conn c = {};
	uint8_t *snap;
	struct ibv_wc wc;
	int i, changed = 0;
	time_t t;

	c.ch = rdma_create_event_channel();
	if (!c.ch || rdma_create_id(c.ch, &listen, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen, ai->ai_src_addr) || rdma_listen(listen, 4))
		die("listen");
	printf("listening\n");
	fflush(stdout);
	ev = wait_event(&c, RDMA_CM_EVENT_CONNECT_REQUEST);
	c.id = ev->id;
	rdma_ack_cm_event(ev);
	setup_verbs(&c, c.id->verbs);
	qa.send_cq = qa.recv_cq = c.cq;
	if (rdma_create_qp(c.id, c.pd, &qa))
		die("rdma_create_qp");
	c.qp = c.id->qp;
	post_recv(&c);
	info.addr = htobe64((uintptr_t)c.buf);
	info.rkey = htobe32(c.mr->rkey);
	info.len = htobe32(BUF_LEN);
	if (rdma_accept(c.id, &param))
		die("rdma_accept");
	rdma_ack_cm_event(wait_event(&c, RDMA_CM_EVENT_ESTABLISHED));

	if (!poll_one(&c, &wc, 30) || wc.status != IBV_WC_SUCCESS) {
		fprintf(stderr, "siw_target: no Send from the peer\n");
		return 1;
	}
	if (modify_state(c.qp, IBV_QPS_ERR))
		die("modify_qp ERR");
	snap = malloc(BUF_LEN);
	if (!snap)
		die("malloc");
	memcpy(snap, c.buf, BUF_LEN);
	/*
	 * Spinning rather than sleeping: whatever siw still does for the
	 * old stream in the meantime gets the time to show.
	 */
	for (t = time(NULL); time(NULL) - t < 2;)
		if (memcmp(snap, c.buf, BUF_LEN))
			break;
	usleep(100000);
	for (i = 0; i < BUF_LEN; i++)
		changed += snap[i] != c.buf[i];
	printf("in Error\n");
	if (changed) {
		printf("FAIL: %d bytes placed after the QP entered Error\n",
		       changed);
		return 1;
	}
	printf("nothing placed after Error\n");
	return 0;
}

/* An id on a new event channel of c's, its address resolved to ai's. */
static struct rdma_cm_id *resolved_id(struct conn *c, struct rdma_addrinfo *ai)
{
	struct rdma_cm_id *id;

	c->ch = rdma_create_event_channel();
	if (!c->ch || rdma_create_id(c->ch, &id, NULL, RDMA_PS_TCP) ||
	    rdma_resolve_addr(id, ai->ai_src_addr, ai->ai_dst_addr, 2000))
		die("resolve addr");
	rdma_ack_cm_event(wait_event(c, RDMA_CM_EVENT_ADDR_RESOLVED));
	return id;
}

/*
 * Connects QP number qpn (moving qp, if ours, to INIT first). Returns the
 * connected id, or NULL with *refused set if rdma_connect() itself
 * failed, clear if the connection failed later.
 */
static struct rdma_cm_id *connect_by_number(struct conn *c,
					    struct rdma_addrinfo *ai,
					    uint32_t qpn, struct ibv_qp *qp,
					    int *refused)
{
	struct rdma_conn_param param = {
		.responder_resources = 1, .initiator_depth = 1,
		.qp_num = qpn,
	};
	/* Each connection its own channel: the old one's events stay there. */
	struct rdma_cm_id *id = resolved_id(c, ai);
	struct rdma_cm_event *ev;

	if (rdma_resolve_route(id, 2000))
		die("resolve route");
	rdma_ack_cm_event(wait_event(c, RDMA_CM_EVENT_ROUTE_RESOLVED));
	if (qp)
		qp_to_init(id, qp);
	*refused = 1;
	if (rdma_connect(id, &param))
		return NULL;
	*refused = 0;
	if (rdma_get_cm_event(c->ch, &ev))
		die("rdma_get_cm_event");
	printf("connect: %s (status %d)\n", rdma_event_str(ev->event),
	       ev->status);
	fflush(stdout);
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED) {
		rdma_ack_cm_event(ev);
		return NULL;
	}
	rdma_ack_cm_event(ev);
	return id;
}

/* A client's verbs and a QP of its own, on the device that reaches ai. */
static void client_setup(struct conn *c, struct rdma_addrinfo *ai)
{
	setup_verbs(c, resolved_id(c, ai)->verbs);
	c->qp = create_qp(c);
}

static int reuse(const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 0);
	struct rdma_cm_id *first, *second;
	struct conn c = {};
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct ibv_wc wc;
	int refused;

	client_setup(&c, ai);

	first = connect_by_number(&c, ai, c.qp->qp_num, c.qp, &refused);
	if (!first)
		return 1;
	/* Graceful: our FIN goes out, the silent peer never answers it. */
	if (rdma_disconnect(first))
		die("rdma_disconnect");
	if (modify_state(c.qp, IBV_QPS_ERR) || modify_state(c.qp, IBV_QPS_RESET))
		die("modify_qp ERR, RESET");
	while (poll_one(&c, &wc, 0))
		;
	second = connect_by_number(&c, ai, c.qp->qp_num, c.qp, &refused);
	if (!second)
		return 1;
	printf("reconnected; waiting past the old connection's timeout\n");
	fflush(stdout);
	sleep(12);
	memset(c.buf, 'r', MSG_LEN);
	sge.addr = (uintptr_t)c.buf;
	sge.length = MSG_LEN;
	sge.lkey = c.mr->lkey;
	if (ibv_post_send(c.qp, &wr, &bad))
		die("ibv_post_send");
	if (!poll_one(&c, &wc, 10) || wc.status != IBV_WC_SUCCESS) {
		printf("FAIL: Send on the reused QP: status %s\n",
		       ibv_wc_status_str(wc.status));
		return 1;
	}
	printf("Send on the reused QP completed\n");
	return 0;
}

static int reset_busy(const char *addr, const char *port, int n)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 0);
	struct rdma_cm_id *id;
	struct conn c = {};
	struct ibv_sge sge;
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1,
				  .opcode = IBV_WR_SEND }, *bad;
	struct ibv_wc wc;
	int i, k, refused;

	client_setup(&c, ai);
	sge.addr = (uintptr_t)c.buf;
	sge.length = BUF_LEN;
	sge.lkey = c.mr->lkey;
	for (i = 0; i < n; i++) {
		id = connect_by_number(&c, ai, c.qp->qp_num, c.qp, &refused);
		if (!id)
			return 1;
		for (k = 0; k < 8; k++) {
			wr.send_flags = k == 7 ? IBV_SEND_SIGNALED : 0;
			if (ibv_post_send(c.qp, &wr, &bad))
				die("ibv_post_send");
		}
		usleep(100000 + 20000 * (i % 5));
		/*
		 * The id goes first: iw_cm moves the QP it connected to
		 * Error when its id is destroyed, which would undo a RESET
		 * done before.
		 */
		rdma_destroy_id(id);
		if (modify_state(c.qp, IBV_QPS_ERR) ||
		    modify_state(c.qp, IBV_QPS_RESET))
			die("modify_qp ERR, RESET");
		while (poll_one(&c, &wc, 0))
			;
	}
	printf("%d rounds of ERR and RESET under a busy transmitter\n", n);
	return 0;
}

static int hold(const char *addr)
{
	struct rdma_addrinfo *ai = resolve(addr, NULL, 1);
	struct rdma_cm_id *id;
	struct conn c = {};

	c.ch = rdma_create_event_channel();
	if (!c.ch || rdma_create_id(c.ch, &id, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(id, ai->ai_src_addr) || !id->verbs)
		die("bind");
	setup_verbs(&c, id->verbs);
	c.qp = create_qp(&c);
	qp_to_init(id, c.qp);
	printf("qpn %u\n", c.qp->qp_num);
	fflush(stdout);
	pause();
	return 0;
}

static int steal(uint32_t qpn, const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 0);
	struct conn c = {};
	int refused;

	c.ch = rdma_create_event_channel();
	if (!c.ch)
		die("rdma_create_event_channel");
	if (connect_by_number(&c, ai, qpn, NULL, &refused)) {
		printf("FAIL: another process's QP %u was connected\n", qpn);
		return 1;
	}
	if (!refused) {
		printf("FAIL: rdma_connect took QP %u; the connection failed later\n",
		       qpn);
		return 1;
	}
	printf("refused: %s\n", strerror(errno));
	return 0;
}

static int cq_hog(const char *addr, int n)
{
	struct rdma_addrinfo *ai = resolve(addr, NULL, 1);
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct ibv_device_attr attr;
	struct rdma_cm_id *id;
	int k;

	if (!ch || rdma_create_id(ch, &id, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(id, ai->ai_src_addr) || !id->verbs ||
	    ibv_query_device(id->verbs, &attr))
		die("bind");
	for (k = 0; k < n; k++) {
		if (!ibv_create_cq(id->verbs, attr.max_cqe, NULL, NULL, 0)) {
			printf("CQ %d of %d entries: %s\n", k + 1, attr.max_cqe,
			       strerror(errno));
			break;
		}
	}
	printf("created %d CQs\n", k);
	return 0;
}

int main(int argc, char **argv)
{
	alarm(60);
	if (argc == 4 && !strcmp(argv[1], "err-place"))
		return err_place(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "reuse"))
		return reuse(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "reset-busy"))
		return reset_busy(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "cq-hog"))
		return cq_hog(argv[2], atoi(argv[3]));
	if (argc == 5 && !strcmp(argv[1], "steal"))
		return steal(strtoul(argv[2], NULL, 0), argv[3], argv[4]);
	fprintf(stderr, "usage: see the comment at the top of siw_target.c\n");
	return 2;
}
