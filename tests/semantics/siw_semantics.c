// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * siw_semantics: completion events and the read fence over a real
 * connection.
 *
 *   siw_semantics -s ADDR PORT     server
 *   siw_semantics -c ADDR PORT     client
 *
 * 1. The server arms its receive CQ for solicited completions only; the
 *    client sends three plain Sends, waits two seconds and sends one
 *    with the Solicited Event flag. The server must get exactly one
 *    event, and only once all four have arrived: an event raised by the
 *    plain ones shows up as a wake-up with three completions.
 * 2. Armed for the next completion, one more plain Send must raise an
 *    event.
 * 3. The client RDMA READs 1 MiB of the server's pattern into a local
 *    buffer and, without waiting, posts an RDMA WRITE of that buffer to
 *    a second server region with IBV_SEND_FENCE, then a Send. The fence
 *    holds the WRITE until the READ's data is in, so the second region
 *    must hold the pattern; a transport ignoring the fence writes the
 *    buffer's old contents.
 * 4. The client RDMA WRITEs six SGEs of that buffer, each starting one
 *    byte before a page ends (five of one byte, a page and one byte,
 *    then one of 48 KiB): over loopback, whose MSS is near 64 KiB, the
 *    first FPDU then takes 27 pieces of pages, the most an FPDU can
 *    need. The server checks every byte, then tells the client to go on.
 *    Each step waits for the server's go-ahead: a Send the client
 *    receives.
 * 5. The client posts signaled RDMA WRITEs without polling until its
 *    send CQ overruns. The lost completion must take the QP to Error:
 *    the client gets IBV_EVENT_CQ_ERR for the CQ and IBV_EVENT_QP_FATAL
 *    for the QP, and the Terminate that tells the server takes the
 *    server's QP to Error as well (IBV_EVENT_QP_FATAL there too).
 * Each side exits 0 when all went as it should, 1 otherwise; SIGALRM
 * ends a run that hangs after 90 s.
 */
#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>
#include <rdma/rdma_verbs.h>

#define MSG_SIZE	64
#define NUM_RECV	8
#define GAP_US		2000000		/* before the solicited Send */
#define FENCE_LEN	(1 << 20)
#define PAGE		4096
#define NUM_SGE		6
#define SGE_SHORT	(PAGE + 2)	/* one byte, a page, one byte */
#define SGE_LONG	(48 * 1024)
#define SGE_TOTAL	((NUM_SGE - 1) * SGE_SHORT + SGE_LONG)

/* Where SGE k starts in the client's buffer: one byte before a page end. */
static size_t sge_offset(int k)
{
	return (size_t)(4 * k + 1) * 4 * PAGE - 1;
}

static size_t sge_length(int k)
{
	return k < NUM_SGE - 1 ? SGE_SHORT : SGE_LONG;
}

/* What the server tells the client in its MPA Reply's private data. */
struct regions {
	uint64_t pattern;	/* FENCE_LEN bytes to read */
	uint64_t target;	/* 2 x FENCE_LEN bytes to write */
	uint32_t rkey;
};

static uint8_t pattern_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 4096 + 3);
}

static void die(const char *what)
{
	fprintf(stderr, "siw_semantics: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "siw_semantics: FAIL: %s\n", what);
	exit(1);
}

struct conn {
	struct rdma_cm_id *id;
	struct ibv_comp_channel *ch;
	struct ibv_cq *scq, *rcq;
	struct ibv_mr *mr;
	char buf[NUM_RECV + 1][MSG_SIZE];
};

static void conn_setup(struct conn *c)
{
	struct ibv_qp_init_attr qa = {
		.cap = { .max_send_wr = 8, .max_recv_wr = NUM_RECV,
			 .max_send_sge = NUM_SGE, .max_recv_sge = 1 },
		.qp_type = IBV_QPT_RC,
		.sq_sig_all = 1,
	};

	c->ch = ibv_create_comp_channel(c->id->verbs);
	if (!c->ch)
		die("ibv_create_comp_channel");
	c->rcq = ibv_create_cq(c->id->verbs, NUM_RECV, NULL, c->ch, 0);
	/*
	 * Smaller than the send queue: a provider that keeps send queue
	 * slots until their completions are polled (userlib does) would
	 * otherwise never let the client overrun it.
	 */
	c->scq = ibv_create_cq(c->id->verbs, 4, NULL, NULL, 0);
	if (!c->rcq || !c->scq)
		die("ibv_create_cq");
	qa.send_cq = c->scq;
	qa.recv_cq = c->rcq;
	if (rdma_create_qp(c->id, NULL, &qa))
		die("rdma_create_qp");
	c->mr = rdma_reg_msgs(c->id, c->buf, sizeof(c->buf));
	if (!c->mr)
		die("rdma_reg_msgs");
}

static struct rdma_cm_event *cm_wait(struct rdma_event_channel *ech,
				     enum rdma_cm_event_type want)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(ech, &ev))
		die("rdma_get_cm_event");
	if (ev->event != want) {
		fprintf(stderr, "siw_semantics: got %s, wanted %s (status %d)\n",
			rdma_event_str(ev->event), rdma_event_str(want),
			ev->status);
		exit(1);
	}
	return ev;
}

/* Waits up to ms for a CQ event; returns 1 if one came, 0 if not. */
static int wait_event(struct conn *c, int ms)
{
	struct pollfd p = { .fd = c->ch->fd, .events = POLLIN };
	struct ibv_cq *cq;
	void *ctx;
	int n = poll(&p, 1, ms);

	if (n < 0)
		die("poll");
	if (!n)
		return 0;
	if (ibv_get_cq_event(c->ch, &cq, &ctx))
		die("ibv_get_cq_event");
	ibv_ack_cq_events(cq, 1);
	return 1;
}

static int drain(struct ibv_cq *cq)
{
	struct ibv_wc wc;
	int n = 0, r;

	while ((r = ibv_poll_cq(cq, 1, &wc)) > 0) {
		if (wc.status != IBV_WC_SUCCESS) {
			fprintf(stderr, "siw_semantics: completion status %s\n",
				ibv_wc_status_str(wc.status));
			exit(1);
		}
		n++;
	}
	if (r < 0)
		die("ibv_poll_cq");
	return n;
}

/* Polls until n completions are in; fails with "what" after 30 s. */
static void await_completions(struct ibv_cq *cq, int n, const char *what)
{
	int i, done = 0;

	for (i = 0; (done += drain(cq)) < n; i++) {
		if (i == 30000) {
			fprintf(stderr, "siw_semantics: FAIL: %s within 30 s\n",
				what);
			exit(1);
		}
		usleep(1000);
	}
}

/*
 * Waits up to ms for async events until every type in want (a mask of
 * 1 << ibv_event_type) has come for this connection's QP or CQs. Returns
 * the types that came.
 */
static unsigned int await_async(struct conn *c, unsigned int want, int ms)
{
	struct ibv_context *ctx = c->id->verbs;
	struct pollfd p = { .fd = ctx->async_fd, .events = POLLIN };
	unsigned int got = 0;
	int i;

	for (i = 0; i < ms / 100 && (got & want) != want; i++) {
		struct ibv_async_event ev;
		int n = poll(&p, 1, 100);

		if (n < 0)
			die("poll(async_fd)");
		if (!n)
			continue;
		if (ibv_get_async_event(ctx, &ev))
			die("ibv_get_async_event");
		switch (ev.event_type) {
		case IBV_EVENT_CQ_ERR:
			if (ev.element.cq == c->scq || ev.element.cq == c->rcq)
				got |= 1u << ev.event_type;
			break;
		case IBV_EVENT_QP_FATAL:
			if (ev.element.qp == c->id->qp)
				got |= 1u << ev.event_type;
			break;
		default:
			break;
		}
		ibv_ack_async_event(&ev);
	}
	return got;
}

static void expect_qp_error(struct conn *c, const char *who)
{
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr attr;

	if (ibv_query_qp(c->id->qp, &attr, IBV_QP_STATE, &init))
		die("ibv_query_qp");
	if (attr.qp_state != IBV_QPS_ERR) {
		fprintf(stderr, "siw_semantics: FAIL: %s QP is in state %d, not Error\n",
			who, attr.qp_state);
		exit(1);
	}
}

/*
 * Signaled RDMA WRITEs, never polled, one more than the send CQ holds.
 * Zero-length, so the server's regions stay as its checks left them.
 * Once the QP is in Error posting may fail: that ends the loop too.
 */
static void overrun_send_cq(struct conn *c, const struct regions *reg)
{
	int want = c->scq->cqe + 1, posted = 0, waited = 0;

	while (posted < want) {
		struct ibv_send_wr wr = {
			.opcode = IBV_WR_RDMA_WRITE,
			.send_flags = IBV_SEND_SIGNALED,
			.wr.rdma = { .remote_addr = reg->target,
				     .rkey = reg->rkey },
		}, *bad;
		int rc = ibv_post_send(c->id->qp, &wr, &bad);

		if (rc == ENOMEM && waited++ < 30000) {
			usleep(1000);	/* the send queue is full for now */
			continue;
		}
		if (rc)
			break;
		posted++;
	}
}

static void post_send(struct conn *c, int flags)
{
	if (rdma_post_send(c->id, NULL, c->buf[NUM_RECV], MSG_SIZE, c->mr,
			   flags))
		die("rdma_post_send");
	await_completions(c->scq, 1, "a Send did not complete");
}

static int server(struct rdma_addrinfo *ai)
{
	struct rdma_event_channel *ech = rdma_create_event_channel();
	struct rdma_cm_id *lid;
	struct rdma_conn_param param = {};
	struct rdma_cm_event *ev;
	struct ibv_mr *big_mr;
	struct regions reg;
	struct conn c = {};
	uint8_t *big;
	int got;
	size_t i;

	if (!ech || rdma_create_id(ech, &lid, NULL, RDMA_PS_TCP))
		die("rdma_create_id");
	if (rdma_bind_addr(lid, ai->ai_src_addr) || rdma_listen(lid, 1))
		die("rdma_listen");
	printf("server: listening\n");
	fflush(stdout);
	ev = cm_wait(ech, RDMA_CM_EVENT_CONNECT_REQUEST);
	c.id = ev->id;
	rdma_ack_cm_event(ev);
	conn_setup(&c);
	for (i = 0; i < NUM_RECV; i++)
		if (rdma_post_recv(c.id, NULL, c.buf[i], MSG_SIZE, c.mr))
			die("rdma_post_recv");
	if (ibv_req_notify_cq(c.rcq, 1))
		die("ibv_req_notify_cq(solicited)");
	/* The pattern, the fenced WRITE's target, the SGE WRITE's target. */
	big = calloc(3, FENCE_LEN);
	if (!big)
		die("calloc");
	for (i = 0; i < FENCE_LEN; i++)
		big[i] = pattern_byte(i);
	big_mr = ibv_reg_mr(c.id->pd, big, 3 * FENCE_LEN,
			    IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
			    IBV_ACCESS_REMOTE_WRITE);
	if (!big_mr)
		die("ibv_reg_mr");
	reg.pattern = (uintptr_t)big;
	reg.target = (uintptr_t)big + FENCE_LEN;
	reg.rkey = big_mr->rkey;
	param.private_data = &reg;
	param.private_data_len = sizeof(reg);
	param.responder_resources = 1;
	param.initiator_depth = 1;
	if (rdma_accept(c.id, &param))
		die("rdma_accept");
	rdma_ack_cm_event(cm_wait(ech, RDMA_CM_EVENT_ESTABLISHED));

	/* Three plain Sends, a gap, one solicited: one event, after it. */
	if (!wait_event(&c, 30000))
		fail("no event for the solicited Send within 30 s");
	got = drain(c.rcq);
	if (got != 4) {
		fprintf(stderr, "siw_semantics: FAIL: woken with %d receive(s) done, not 4: %s\n",
			got, got < 4 ? "an unsolicited Send raised the event" :
				       "more than was sent");
		return 1;
	}
	if (wait_event(&c, 500))
		fail("a second event for the same arming");
	printf("server: solicited-only arming: one event, after all 4 receives\n");

	/* Armed for the next completion, a plain Send raises it. */
	if (ibv_req_notify_cq(c.rcq, 0))
		die("ibv_req_notify_cq(next)");
	post_send(&c, 0);	/* tells the client to go on */
	if (!wait_event(&c, 30000))
		fail("no event for a plain Send with next-completion arming");
	if (drain(c.rcq) != 1)
		fail("not exactly one receive with the next-completion event");
	printf("server: next-completion arming: one event for a plain Send\n");

	/* The client's Send after its fenced WRITE. */
	await_completions(c.rcq, 1, "the client's fence round did not end");
	for (i = 0; i < FENCE_LEN; i++)
		if (big[FENCE_LEN + i] != pattern_byte(i)) {
			fprintf(stderr, "siw_semantics: FAIL: byte %zu of the fenced WRITE is %#x, not %#x: the WRITE went before the READ's data was in\n",
				i, big[FENCE_LEN + i], pattern_byte(i));
			return 1;
		}
	printf("server: fenced WRITE after READ: all %d bytes are the pattern\n",
	       FENCE_LEN);

	/* Go-ahead, then the client's Send after its WRITE of six SGEs. */
	post_send(&c, 0);
	await_completions(c.rcq, 1, "the client's SGE round did not end");
	{
		size_t at = 0, j;
		int k;

		for (k = 0; k < NUM_SGE; k++)
			for (j = 0; j < sge_length(k); j++, at++)
				if (big[2 * FENCE_LEN + at] != pattern_byte(sge_offset(k) + j)) {
					fprintf(stderr, "siw_semantics: FAIL: byte %zu of the %d-SGE WRITE (SGE %d, byte %zu) is %#x, not %#x\n",
						at, NUM_SGE, k, j, big[2 * FENCE_LEN + at],
						pattern_byte(sge_offset(k) + j));
					return 1;
				}
	}
	printf("server: %d-SGE WRITE across page edges: all %d bytes in place\n",
	       NUM_SGE, SGE_TOTAL);

	/*
	 * Our go-ahead: the client's overrun flushes our receives, and
	 * until now a flushed one would have failed the checks above.
	 * Then its Terminate must reach us.
	 */
	post_send(&c, 0);
	if (!await_async(&c, 1u << IBV_EVENT_QP_FATAL, 30000))
		fail("no IBV_EVENT_QP_FATAL after the client's CQ overran");
	expect_qp_error(&c, "the server's");
	printf("server: the client's CQ overrun took this QP to Error\n");

	rdma_disconnect(c.id);
	return 0;
}

static int client(struct rdma_addrinfo *ai)
{
	struct rdma_event_channel *ech = rdma_create_event_channel();
	struct rdma_conn_param param = {};
	struct rdma_cm_event *ev;
	struct ibv_mr *local_mr;
	struct regions reg;
	struct conn c = {};
	unsigned int got;
	uint8_t *local;
	int i;

	if (!ech || rdma_create_id(ech, &c.id, NULL, RDMA_PS_TCP))
		die("rdma_create_id");
	if (rdma_resolve_addr(c.id, NULL, ai->ai_dst_addr, 5000))
		die("rdma_resolve_addr");
	rdma_ack_cm_event(cm_wait(ech, RDMA_CM_EVENT_ADDR_RESOLVED));
	if (rdma_resolve_route(c.id, 5000))
		die("rdma_resolve_route");
	rdma_ack_cm_event(cm_wait(ech, RDMA_CM_EVENT_ROUTE_RESOLVED));
	conn_setup(&c);
	/*
	 * The server's go-aheads: for the plain Send, for the SGE round, for
	 * the CQ overrun.
	 */
	for (i = 0; i < 3; i++)
		if (rdma_post_recv(c.id, NULL, c.buf[i], MSG_SIZE, c.mr))
			die("rdma_post_recv");
	param.responder_resources = 1;
	param.initiator_depth = 1;
	if (rdma_connect(c.id, &param))
		die("rdma_connect");
	ev = cm_wait(ech, RDMA_CM_EVENT_ESTABLISHED);
	if (ev->param.conn.private_data_len < sizeof(reg))
		fail("no region description in the server's private data");
	memcpy(&reg, ev->param.conn.private_data, sizeof(reg));
	rdma_ack_cm_event(ev);

	for (i = 0; i < 3; i++)
		post_send(&c, 0);
	usleep(GAP_US);
	post_send(&c, IBV_SEND_SOLICITED);
	/* The server's go-ahead, then the plain Send it waits for. */
	await_completions(c.rcq, 1, "no go-ahead from the server");
	post_send(&c, 0);

	/* READ, then a fenced WRITE of what it read, then a Send. */
	/* Page-aligned, so that sge_offset() means what it says. */
	local = aligned_alloc(PAGE, FENCE_LEN);
	if (!local)
		die("aligned_alloc");
	memset(local, 0x55, FENCE_LEN);
	local_mr = ibv_reg_mr(c.id->pd, local, FENCE_LEN, IBV_ACCESS_LOCAL_WRITE);
	if (!local_mr)
		die("ibv_reg_mr");
	if (rdma_post_read(c.id, NULL, local, FENCE_LEN, local_mr, 0,
			   reg.pattern, reg.rkey) ||
	    rdma_post_write(c.id, NULL, local, FENCE_LEN, local_mr,
			    IBV_SEND_FENCE, reg.target, reg.rkey) ||
	    rdma_post_send(c.id, NULL, c.buf[NUM_RECV], MSG_SIZE, c.mr, 0))
		die("posting the fence round");
	await_completions(c.scq, 3, "the fence round did not complete");

	/* Six SGEs from that buffer, each starting just before a page end. */
	await_completions(c.rcq, 1, "no go-ahead for the SGE round");
	{
		struct ibv_sge sge[NUM_SGE];
		struct ibv_send_wr wr = {
			.sg_list = sge, .num_sge = NUM_SGE,
			.opcode = IBV_WR_RDMA_WRITE,
			.wr.rdma = { .remote_addr = reg.target + FENCE_LEN,
				     .rkey = reg.rkey },
		}, *bad;
		int k;

		for (k = 0; k < NUM_SGE; k++)
			sge[k] = (struct ibv_sge){
				.addr = (uintptr_t)local + sge_offset(k),
				.length = sge_length(k),
				.lkey = local_mr->lkey,
			};
		if (ibv_post_send(c.id->qp, &wr, &bad) ||
		    rdma_post_send(c.id, NULL, c.buf[NUM_RECV], MSG_SIZE, c.mr, 0))
			die("posting the SGE round");
		await_completions(c.scq, 2, "the SGE round did not complete");
	}

	await_completions(c.rcq, 1, "no go-ahead for the CQ overrun");
	overrun_send_cq(&c, &reg);
	got = await_async(&c, 1u << IBV_EVENT_CQ_ERR | 1u << IBV_EVENT_QP_FATAL,
			  30000);
	if (!(got & 1u << IBV_EVENT_CQ_ERR))
		fail("no IBV_EVENT_CQ_ERR when the send CQ overran");
	if (!(got & 1u << IBV_EVENT_QP_FATAL))
		fail("no IBV_EVENT_QP_FATAL when the send CQ overran");
	expect_qp_error(&c, "the client's");
	printf("client: CQ overrun: CQ_ERR and QP_FATAL, QP in Error\n");
	rdma_ack_cm_event(cm_wait(ech, RDMA_CM_EVENT_DISCONNECTED));
	printf("client: done\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *ai;
	int srv;

	if (argc != 4 || (strcmp(argv[1], "-s") && strcmp(argv[1], "-c"))) {
		fprintf(stderr, "usage: siw_semantics -s|-c ADDR PORT\n");
		return 2;
	}
	srv = !strcmp(argv[1], "-s");
	if (srv)
		hints.ai_flags = RAI_PASSIVE;
	if (rdma_getaddrinfo(argv[2], argv[3], &hints, &ai))
		die("rdma_getaddrinfo");
	alarm(90);
	return srv ? server(ai) : client(ai);
}
