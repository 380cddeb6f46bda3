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
 *   siw_target ird-zero ADDR PORT
 *	Server. Accepts one connection with an IRD of 0 and names in its
 *	MPA Reply's private data a 64 KiB buffer the peer may RDMA READ
 *	(struct target_info), then waits for the connection to end. The
 *	peer judges: its Read Request must get a Terminate, not data.
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
 *	Asks rdma_cm to connect QP number QPN, which another process or
 *	the kernel owns.
 *	Exits 0 if that is refused, 1 if it was connected.
 *   siw_target fuzz-serve ADDR PORT
 *	Server for tests/fuzz/stream_fuzz.c, until killed: accepts every
 *	connection, with a QP whose receive queue is filled once, and
 *	names in its MPA Reply (struct fuzz_target_info) a region the peer may
 *	write, one it may read (filled with fuzz_pattern()) and its
 *	receive queue. A connection that ends is torn down, nothing more.
 *   siw_target fuzz-client ADDR PORT
 *	Client for stream_fuzz, until killed: connects, names the same in
 *	its MPA Request, and issues RDMA READs of random size from the
 *	region the peer's Reply names, one after another, until the
 *	connection fails; then connects again.
 *   siw_target cq-hog ADDR N [hold]
 *	Creates up to N CQs of the largest size on the device of ADDR,
 *	holding them all, and prints "created K CQs" when one fails or
 *	all N are there. The caller judges K. With "hold", it then keeps
 *	them until killed.
 *
 * SIGALRM ends a run that hangs after 60 s (not the fuzz modes, nor cq-hog
 * with hold, which the caller kills).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

#include "../fuzz/fuzz_proto.h"

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

/*
 * Server side of one connection: accepts the first connection request on
 * addr:port with responder resources ird, a QP with one receive posted,
 * and names c->buf in the Reply's private data.
 */
static void accept_one(struct conn *c, const char *addr, const char *port,
		       uint8_t ird)
{
	struct target_info info;
	struct rdma_conn_param param = {
		.responder_resources = ird, .initiator_depth = 1,
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

	c->ch = rdma_create_event_channel();
	if (!c->ch || rdma_create_id(c->ch, &listen, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen, ai->ai_src_addr) || rdma_listen(listen, 4))
		die("listen");
	printf("listening\n");
	fflush(stdout);
	ev = wait_event(c, RDMA_CM_EVENT_CONNECT_REQUEST);
	c->id = ev->id;
	rdma_ack_cm_event(ev);
	setup_verbs(c, c->id->verbs);
	qa.send_cq = qa.recv_cq = c->cq;
	if (rdma_create_qp(c->id, c->pd, &qa))
		die("rdma_create_qp");
	c->qp = c->id->qp;
	post_recv(c);
	info.addr = htobe64((uintptr_t)c->buf);
	info.rkey = htobe32(c->mr->rkey);
	info.len = htobe32(BUF_LEN);
	if (rdma_accept(c->id, &param))
		die("rdma_accept");
	rdma_ack_cm_event(wait_event(c, RDMA_CM_EVENT_ESTABLISHED));
}

static int err_place(const char *addr, const char *port)
{
	struct conn c = {};
	uint8_t *snap;
	struct ibv_wc wc;
	int i, changed = 0;
	time_t t;

	accept_one(&c, addr, port, 1);
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

static int ird_zero(const char *addr, const char *port)
{
	struct conn c = {};

	accept_one(&c, addr, port, 0);
	printf("accepted with IRD 0\n");
	fflush(stdout);
	rdma_ack_cm_event(wait_event(&c, RDMA_CM_EVENT_DISCONNECTED));
	printf("disconnected\n");
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
		printf("FAIL: QP %u, not ours, was connected\n", qpn);
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

static int cq_hog(const char *addr, int n, int keep)
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
	if (keep) {
		fflush(stdout);
		pause();
	}
	return 0;
}

/* ---- the siw side of stream_fuzz ------------------------------------ */

#define FUZZ_REGION	(64 * 1024)
#define FUZZ_RQ_DEPTH	128
#define FUZZ_RECV_LEN	512
#define FUZZ_CONNS	16

struct fuzz_dev {
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *wr, *rd, *rq;
	struct fuzz_target_info info;
};

static void fuzz_dev_setup(struct fuzz_dev *d, struct ibv_context *ctx)
{
	uint8_t *wr = calloc(1, FUZZ_REGION), *rd = malloc(FUZZ_REGION);
	uint8_t *rq = malloc(FUZZ_RQ_DEPTH * FUZZ_RECV_LEN);
	int i;

	if (!wr || !rd || !rq)
		die("malloc");
	for (i = 0; i < FUZZ_REGION; i++)
		rd[i] = fuzz_pattern(i);
	d->pd = ibv_alloc_pd(ctx);
	d->cq = d->pd ? ibv_create_cq(ctx, 4096, NULL, NULL, 0) : NULL;
	if (!d->cq)
		die("verbs setup");
	d->wr = ibv_reg_mr(d->pd, wr, FUZZ_REGION,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE);
	d->rd = ibv_reg_mr(d->pd, rd, FUZZ_REGION, IBV_ACCESS_REMOTE_READ);
	d->rq = ibv_reg_mr(d->pd, rq, FUZZ_RQ_DEPTH * FUZZ_RECV_LEN,
			   IBV_ACCESS_LOCAL_WRITE);
	if (!d->wr || !d->rd || !d->rq)
		die("ibv_reg_mr");
	d->info.wr_addr = htobe64((uintptr_t)wr);
	d->info.wr_rkey = htobe32(d->wr->rkey);
	d->info.wr_len = htobe32(FUZZ_REGION);
	d->info.rd_addr = htobe64((uintptr_t)rd);
	d->info.rd_rkey = htobe32(d->rd->rkey);
	d->info.rd_len = htobe32(FUZZ_REGION);
	d->info.rq_depth = htobe32(FUZZ_RQ_DEPTH);
	d->info.recv_len = htobe32(FUZZ_RECV_LEN);
}

/* A QP on id with its receive queue full; 0 or -1. */
static int fuzz_qp(struct fuzz_dev *d, struct rdma_cm_id *id)
{
	struct ibv_qp_init_attr qa = {
		.send_cq = d->cq, .recv_cq = d->cq, .qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = FUZZ_RQ_DEPTH,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	struct ibv_recv_wr wr = { .num_sge = 1 }, *bad;
	struct ibv_sge sge = { .length = FUZZ_RECV_LEN, .lkey = d->rq->lkey };
	int i;

	if (rdma_create_qp(id, d->pd, &qa))
		return -1;
	wr.sg_list = &sge;
	for (i = 0; i < FUZZ_RQ_DEPTH; i++) {
		sge.addr = (uintptr_t)d->rq->addr + i * FUZZ_RECV_LEN;
		if (ibv_post_recv(id->qp, &wr, &bad))
			return -1;
	}
	return 0;
}

/* Completions only keep the CQ from overflowing; the fuzzer judges. */
static void fuzz_poll(struct fuzz_dev *d)
{
	struct ibv_wc wc[64];

	if (d->cq)
		while (ibv_poll_cq(d->cq, 64, wc) > 0)
			;
}

static void fuzz_nonblock(struct rdma_event_channel *ch)
{
	if (fcntl(ch->fd, F_SETFL, fcntl(ch->fd, F_GETFL) | O_NONBLOCK))
		die("fcntl");
}

static int fuzz_serve(const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 1);
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_conn_param param = {
		.responder_resources = 8, .initiator_depth = 0,
	};
	struct fuzz_dev d = {};
	struct rdma_cm_event *ev;
	struct rdma_cm_id *listen, *id;
	unsigned long accepted = 0;

	if (!ch || rdma_create_id(ch, &listen, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen, ai->ai_src_addr) || rdma_listen(listen, 8))
		die("listen");
	fuzz_nonblock(ch);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = ch->fd, .events = POLLIN };

		fuzz_poll(&d);
		if (poll(&p, 1, 20) < 1 || rdma_get_cm_event(ch, &ev))
			continue;
		id = ev->id;
		switch (ev->event) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			rdma_ack_cm_event(ev);
			if (!d.pd)
				fuzz_dev_setup(&d, id->verbs);
			param.private_data = &d.info;
			param.private_data_len = sizeof(d.info);
			if (fuzz_qp(&d, id) || rdma_accept(id, &param)) {
				if (id->qp)
					rdma_destroy_qp(id);
				rdma_destroy_id(id);
				break;
			}
			if (++accepted % 1000 == 0) {
				printf("%lu connections\n", accepted);
				fflush(stdout);
			}
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
			rdma_ack_cm_event(ev);
			rdma_destroy_qp(id);
			rdma_destroy_id(id);
			break;
		default:
			rdma_ack_cm_event(ev);
		}
	}
	return 0;
}

/* One connection of fuzz-client: READs until one fails. */
static void fuzz_client_conn(struct fuzz_dev *d, struct rdma_addrinfo *ai,
			     unsigned int *seed)
{
	struct rdma_conn_param param = {
		.responder_resources = 0, .initiator_depth = 4,
		.private_data = &d->info, .private_data_len = sizeof(d->info),
	};
	struct ibv_send_wr wr = { .num_sge = 1, .opcode = IBV_WR_RDMA_READ,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;
	struct conn c = {};
	struct rdma_cm_event *ev;
	struct rdma_cm_id *id = resolved_id(&c, ai);
	struct ibv_sge sge;
	struct fuzz_source_info src;
	uint64_t src_addr;
	uint32_t src_len;
	struct ibv_wc wc;
	int i;

	if (rdma_resolve_route(id, 2000))
		die("resolve route");
	rdma_ack_cm_event(wait_event(&c, RDMA_CM_EVENT_ROUTE_RESOLVED));
	if (!d->pd)
		fuzz_dev_setup(d, id->verbs);
	if (fuzz_qp(d, id) || rdma_connect(id, &param))
		goto out;
	if (rdma_get_cm_event(c.ch, &ev))
		die("rdma_get_cm_event");
	if (ev->event != RDMA_CM_EVENT_ESTABLISHED ||
	    ev->param.conn.private_data_len < sizeof(src)) {
		rdma_ack_cm_event(ev);
		goto out;
	}
	memcpy(&src, ev->param.conn.private_data, sizeof(src));
	rdma_ack_cm_event(ev);
	src_addr = be64toh(src.addr);
	src_len = be32toh(src.len);
	wr.sg_list = &sge;
	wr.wr.rdma.rkey = be32toh(src.rkey);
	sge.addr = (uintptr_t)d->wr->addr;
	sge.lkey = d->wr->lkey;
	fuzz_nonblock(c.ch);
	for (i = 0; i < 64; i++) {
		struct pollfd p = { .fd = c.ch->fd, .events = POLLIN };
		int waited;

		sge.length = rand_r(seed) % (8192 + 1);
		if (sge.length > src_len)
			sge.length = src_len;
		wr.wr.rdma.remote_addr = src_addr +
			rand_r(seed) % (src_len - sge.length + 1);
		if (ibv_post_send(id->qp, &wr, &bad))
			break;
		for (waited = 0; waited < 5000; waited++) {
			/* Receives the fuzzer's Sends took pass by. */
			if (ibv_poll_cq(d->cq, 1, &wc) > 0 &&
			    wc.qp_num == id->qp->qp_num &&
			    (wc.status != IBV_WC_SUCCESS ||
			     wc.opcode == IBV_WC_RDMA_READ))
				break;
			if (poll(&p, 1, 1) == 1)
				goto out;	/* disconnected */
		}
		if (waited == 5000 || wc.status != IBV_WC_SUCCESS)
			break;
	}
out:
	rdma_disconnect(id);
	fuzz_poll(d);
	if (id->qp)
		rdma_destroy_qp(id);
	rdma_destroy_id(id);
	rdma_destroy_event_channel(c.ch);
	fuzz_poll(d);
}

static int fuzz_client(const char *addr, const char *port)
{
	struct rdma_addrinfo *ai = resolve(addr, port, 0);
	struct fuzz_dev d = {};
	unsigned int seed = getpid();
	unsigned long n;

	for (n = 1;; n++) {
		fuzz_client_conn(&d, ai, &seed);
		if (n % 1000 == 0) {
			printf("%lu connections\n", n);
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	alarm(60);
	if (argc == 4 && !strcmp(argv[1], "err-place"))
		return err_place(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "ird-zero"))
		return ird_zero(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "reuse"))
		return reuse(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "reset-busy"))
		return reset_busy(argv[2], argv[3], atoi(argv[4]));
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return hold(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "fuzz-serve")) {
		alarm(0);
		return fuzz_serve(argv[2], argv[3]);
	}
	if (argc == 4 && !strcmp(argv[1], "fuzz-client")) {
		alarm(0);
		return fuzz_client(argv[2], argv[3]);
	}
	if (argc == 4 && !strcmp(argv[1], "cq-hog"))
		return cq_hog(argv[2], atoi(argv[3]), 0);
	if (argc == 5 && !strcmp(argv[1], "cq-hog") && !strcmp(argv[4], "hold")) {
		alarm(0);
		return cq_hog(argv[2], atoi(argv[3]), 1);
	}
	if (argc == 5 && !strcmp(argv[1], "steal"))
		return steal(strtoul(argv[2], NULL, 0), argv[3], argv[4]);
	fprintf(stderr, "usage: see the comment at the top of siw_target.c\n");
	return 2;
}
