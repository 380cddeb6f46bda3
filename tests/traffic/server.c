/*
 * siw_traffic server: the main thread handles rdma_cm events; every
 * accepted connection gets its own PD, CQ, QP, buffers and thread.
 *
 * Server buffer of a connection (one MR, remote read and write):
 *   window x [verify area | read-back area], each "slot" bytes, then the
 *   read area (slot bytes) holding a pattern the client reads.
 * Verify areas hold guard bytes except while the client's WRITE for a
 * VERIFY is in flight; after checking the data the server checks the
 * guard bytes around it and restores them.
 *
 * Receives: 2 x window + 4 buffers of the largest message, each posted
 * as a random scatter list (up to the device's receive SGEs, pieces in
 * random memory order). After the receive the TR_GUARD_LEN bytes past
 * the data, the gaps between the pieces and TR_GUARD_LEN bytes around
 * them must still hold guard bytes (the rest of the buffer is not
 * checked). Every receive is reposted before the reply that lets the
 * client send again, so a SEND never finds the receive queue empty.
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "traffic.h"

#define READ_SALT	0x52454144u	/* "READ" */

struct sconn {
	struct sconn *next;
	struct endpoint ep;
	pthread_t thr;
	bool thr_started;
	volatile bool stop;
	bool finished;		/* BYE_ACK sent and completed */
	bool dead;		/* QP broke: stop processing */
	char peer[96];
	struct tr_cpriv cp;
	uint64_t cap;		/* receive capacity */
	uint64_t slot;
	uint8_t *buf;
	uint64_t buf_len;
	struct ibv_mr *mr;
	uint64_t read_off;
	uint64_t read_key;
	uint8_t *rbuf;
	uint64_t rstride;
	struct ibv_mr *rmr;
	int nrecv;
	int max_recv_sge;
	struct layout *rlay;
	struct tr_msg *reply;
	struct ibv_mr *rpmr;
	int nreply;
	bool *reply_busy;
	int bye_reply;		/* reply slot of the BYE_ACK, or -1 */
	uint8_t *spare[TR_NSPARE];
	struct ibv_mr *spare_mr[TR_NSPARE];
	struct rng rng;
	bool hello_done;
	bool bye_seen;
	uint64_t inject_op;	/* op to corrupt + 1, 0 = none */
	bool have_desc;
	struct tr_msg desc;
	struct ibv_wc *fifo;	/* completions polled, not yet handled */
	int fifo_cap, fifo_head, fifo_len;
	uint64_t n_verify, n_data, n_inv, bytes;
};

static struct sconn *conns;
static int active, done_conns, expected_conns;
static bool server_failed;

#define cfail(c, ...)	ep_fail(&(c)->ep, __VA_ARGS__)

/* --- receives and replies ---------------------------------------------- */

static inline uint8_t *rbuf_of(struct sconn *c, int i)
{
	return c->rbuf + (uint64_t)i * c->rstride;
}

static int post_recv(struct sconn *c, int i)
{
	struct ibv_sge sge[TR_MAX_SGE];
	struct ibv_recv_wr wr;

	layout_make(&c->rlay[i], &c->rng, c->rstride, c->cap,
		    c->max_recv_sge, false);
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = TR_WRID_RECV | (uint64_t)i;
	wr.sg_list = sge;
	wr.num_sge = layout_sges(&c->rlay[i], rbuf_of(c, i), c->rmr->lkey,
				 sge);
	if (ep_post_recv(&c->ep, &wr)) {
		c->dead = true;
		return -1;
	}
	return 0;
}

static void send_wc(struct endpoint *ep, const struct ibv_wc *wc)
{
	struct sconn *c = container_of(ep, struct sconn, ep);
	uint64_t i = wc->wr_id;

	if (i >= (uint64_t)c->nreply || !c->reply_busy[i]) {
		cfail(c, "send completion with unknown wr_id %" PRIu64,
		      (uint64_t)wc->wr_id);
		return;
	}
	c->reply_busy[i] = false;
	/*
	 * After the BYE the client has every reply it waits for and checks
	 * them itself; it may disconnect before their sends complete here.
	 */
	if (wc->status != IBV_WC_SUCCESS && c->bye_seen) {
		if (wc->status != IBV_WC_WR_FLUSH_ERR)
			tr_log("server qp %d (%s): note: a reply completed with status %s after the client's BYE",
			       c->cp.qp, c->peer,
			       ibv_wc_status_str(wc->status));
		if ((int)i == c->bye_reply)
			c->finished = true;
		return;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		if (!c->dead)
			cfail(c, "reply SEND completed with status %s (%d)",
			      ibv_wc_status_str(wc->status), wc->status);
		c->dead = true;
		return;
	}
	if (wc->opcode != IBV_WC_SEND)
		cfail(c, "reply SEND completed with opcode %d", wc->opcode);
	if ((int)i == c->bye_reply)
		c->finished = true;
}

static void fifo_push(struct endpoint *ep, const struct ibv_wc *wc)
{
	struct sconn *c = container_of(ep, struct sconn, ep);

	if (c->fifo_len == c->fifo_cap) {
		cfail(c, "more completions than the CQ holds");
		c->dead = true;
		return;
	}
	c->fifo[(c->fifo_head + c->fifo_len++) % c->fifo_cap] = *wc;
}

/*
 * Poll completions into the FIFO, handling send completions at once.
 * Receive completions keep their order behind those already queued.
 */
static int poll_into_fifo(struct sconn *c)
{
	int n = ep_poll(&c->ep, 16, &c->stop, fifo_push, send_wc);

	if (n < 0)
		c->dead = true;
	return n;
}

static int reply(struct sconn *c, const struct tr_msg *m)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	int i, ret;

	for (;;) {
		for (i = 0; i < c->nreply; i++)
			if (!c->reply_busy[i])
				break;
		if (i < c->nreply)
			break;
		if (c->dead || c->stop || poll_into_fifo(c) < 0)
			return -1;
	}
	c->reply[i] = *m;
	sge.addr = (uintptr_t)&c->reply[i];
	sge.length = sizeof(*m);
	sge.lkey = c->rpmr->lkey;
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = (uint64_t)i;
	wr.sg_list = &sge;
	wr.num_sge = 1;
	wr.opcode = IBV_WR_SEND;
	wr.send_flags = IBV_SEND_SIGNALED;
	if (sizeof(*m) <= c->ep.max_inline && rng_below(&c->rng, 2))
		wr.send_flags |= IBV_SEND_INLINE;
	ret = ibv_post_send(c->ep.qp, &wr, &bad);
	if (ret) {
		cfail(c, "posting a %s reply: %s (%d)", msg_type_name(m->type),
		      strerror(abs(ret)), ret);
		c->dead = true;
		return -1;
	}
	c->reply_busy[i] = true;
	if (m->type == MSG_BYE_ACK)
		c->bye_reply = i;
	return 0;
}

/* Fill a RESULT from a comparison (and an earlier problem in text). */
static void result_of(struct tr_msg *r, uint32_t op, const struct mismatch *m,
		      const char *problem)
{
	msg_init(r, MSG_RESULT);
	r->op = op;
	if (problem && *problem) {
		r->status = 1;
		snprintf(r->text, sizeof(r->text), "%s", problem);
	} else if (m->count) {
		r->status = 1;
		r->off = m->off;
		r->len = m->count;
		r->expected = m->expected;
		r->got = m->got;
		mismatch_str(m, r->text, sizeof(r->text));
	}
}

/* --- request handling --------------------------------------------------- */

static void handle_hello(struct sconn *c, const struct tr_msg *m)
{
	struct tr_msg r;
	int i;

	if (c->hello_done || m->op != c->cp.qp || m->len != c->cp.max_size ||
	    m->v[1] != c->cp.window) {
		cfail(c, "HELLO does not match the connection request");
		c->dead = true;
		return;
	}
	c->hello_done = true;
	c->inject_op = m->v[3];
	c->read_key = pattern_key(m->key, c->cp.qp, 0, READ_SALT);
	pattern_fill(c->buf + c->read_off, 0, c->slot, c->read_key);

	msg_init(&r, MSG_INFO);
	r.addr = (uintptr_t)c->buf;
	r.rkey = c->mr->rkey;
	r.len = c->buf_len;
	r.v[0] = c->slot;
	r.v[1] = c->read_off;
	r.v[2] = c->slot;
	r.key = c->read_key;
	r.spare_idx = TR_NSPARE;
	for (i = 0; i < TR_NSPARE; i++)
		r.spare_rkey[i] = c->spare_mr[i]->rkey;
	reply(c, &r);
}

static void handle_verify(struct sconn *c, const struct tr_msg *m)
{
	uint64_t area = 2 * c->slot, s = m->off / area, in = m->off % area;
	struct mismatch mm = { 0 };
	uint8_t *p = c->buf + m->off;
	struct tr_msg r;
	char text[160];

	if (s >= c->cp.window || in < TR_GUARD_LEN ||
	    m->len > c->slot - 2 * TR_GUARD_LEN ||
	    in + m->len + TR_GUARD_LEN > c->slot) {
		cfail(c, "op %u: VERIFY of %" PRIu64 " bytes at %" PRIu64 " is outside the verify areas",
		      m->op, m->len, m->off);
		c->dead = true;
		return;
	}
	if (c->inject_op == (uint64_t)m->op + 1 && m->len) {
		p[m->len / 2] ^= 0x10;
		tr_log("%s: op %u: injected a corrupt byte at offset %" PRIu64,
		       c->ep.who, m->op, m->len / 2);
	}
	pattern_check(p, 0, m->len, m->key, 0, &mm);
	fill_check(p - TR_GUARD_LEN, TR_GUARD_LEN, TR_GUARD,
		   m->off - TR_GUARD_LEN,
		   "guard before the region (buffer offset)", &mm);
	fill_check(p + m->len, TR_GUARD_LEN, TR_GUARD, m->off + m->len,
		   "guard after the region (buffer offset)", &mm);
	memset(p, TR_GUARD, m->len);
	c->n_verify++;
	if (mm.count) {
		mismatch_str(&mm, text, sizeof(text));
		cfail(c, "op %u: WRITE of %" PRIu64 " bytes at %" PRIu64 ": %s",
		      m->op, m->len, m->off, text);
	} else {
		c->bytes += m->len;
	}
	result_of(&r, m->op, &mm, NULL);
	reply(c, &r);
}

/* Replace an invalidated spare MR by a fresh registration. */
static uint32_t renew_spare(struct sconn *c, uint32_t i)
{
	if (c->spare_mr[i] && ibv_dereg_mr(c->spare_mr[i]))
		cfail(c, "ibv_dereg_mr of spare %u failed", i);
	c->spare_mr[i] = ibv_reg_mr(c->ep.pd, c->spare[i], TR_SPARE_SIZE,
				    IBV_ACCESS_LOCAL_WRITE |
				    IBV_ACCESS_REMOTE_WRITE |
				    IBV_ACCESS_REMOTE_READ);
	if (!c->spare_mr[i]) {
		cfail(c, "re-registering spare %u: %s", i, strerror(errno));
		c->dead = true;
		return 0;
	}
	return c->spare_mr[i]->rkey;
}

static void handle_data(struct sconn *c, const struct ibv_wc *wc, int i)
{
	const struct tr_msg *d = &c->desc;
	const struct layout *l = &c->rlay[i];
	struct mismatch mm = { 0 };
	uint8_t *base = rbuf_of(c, i);
	char problem[120] = "", text[160];
	uint64_t nb = wc->byte_len;
	bool inv = d->flags & MSGF_INV;
	struct tr_msg r;

	c->have_desc = false;
	if (wc->byte_len != d->len)
		snprintf(problem, sizeof(problem),
			 "SEND arrived with byte_len %u, sent %" PRIu64,
			 wc->byte_len, d->len);
	else if (inv && !(wc->wc_flags & IBV_WC_WITH_INV))
		snprintf(problem, sizeof(problem),
			 "SEND_WITH_INV arrived without IBV_WC_WITH_INV");
	else if (inv && wc->invalidated_rkey != d->rkey)
		snprintf(problem, sizeof(problem),
			 "SEND_WITH_INV invalidated rkey 0x%x, sent 0x%x",
			 wc->invalidated_rkey, d->rkey);
	else if (!inv && (wc->wc_flags & IBV_WC_WITH_INV))
		snprintf(problem, sizeof(problem),
			 "plain SEND arrived with IBV_WC_WITH_INV (rkey 0x%x)",
			 wc->invalidated_rkey);
	if (nb > l->total)
		nb = l->total;
	if (c->inject_op == (uint64_t)d->op + 1 && nb) {
		layout_flip(base, l, nb / 2);
		tr_log("%s: op %u: injected a corrupt byte at offset %" PRIu64,
		       c->ep.who, d->op, nb / 2);
	}
	layout_check(base, l, d->key, 0, nb, &mm);
	layout_fill(base, l, 0, nb, TR_GUARD);
	if (post_recv(c, i))
		return;

	c->n_data++;
	if (inv)
		c->n_inv++;
	if (*problem) {
		cfail(c, "op %u: %s", d->op, problem);
	} else if (mm.count) {
		mismatch_str(&mm, text, sizeof(text));
		cfail(c, "op %u: SEND of %" PRIu64 " bytes into %d SGEs: %s",
		      d->op, d->len, l->n, text);
	} else {
		c->bytes += d->len;
	}
	result_of(&r, d->op, &mm, problem);
	if (inv) {
		r.spare_idx = d->spare_idx;
		r.rkey = renew_spare(c, d->spare_idx);
	}
	reply(c, &r);
}

static void handle_ctrl(struct sconn *c, const struct ibv_wc *wc, int i)
{
	const struct layout *l = &c->rlay[i];
	uint8_t *base = rbuf_of(c, i);
	struct mismatch mm = { 0 };
	struct tr_msg m, r;

	if (wc->byte_len != sizeof(m)) {
		cfail(c, "received %u bytes, expected a control message of %zu",
		      wc->byte_len, sizeof(m));
		c->dead = true;
		return;
	}
	if (wc->wc_flags & IBV_WC_WITH_INV)
		cfail(c, "control message arrived with IBV_WC_WITH_INV");
	layout_gather(base, l, &m, sizeof(m));
	layout_check_guards(base, l, sizeof(m), &mm);
	if (mm.count)
		cfail(c, "receive buffer changed outside the message: %s at offset %" PRIu64 ": 0x%02x",
		      mm.where, mm.off, mm.got);
	layout_fill(base, l, 0, sizeof(m), TR_GUARD);
	if (post_recv(c, i))
		return;
	if (!msg_valid(&m)) {
		cfail(c, "garbled control message (magic 0x%08x, type %u)",
		      m.magic, m.type);
		c->dead = true;
		return;
	}
	if (!c->hello_done && m.type != MSG_HELLO) {
		cfail(c, "%s before HELLO", msg_type_name(m.type));
		c->dead = true;
		return;
	}
	switch (m.type) {
	case MSG_HELLO:
		handle_hello(c, &m);
		break;
	case MSG_VERIFY:
		handle_verify(c, &m);
		break;
	case MSG_DESC:
		if (m.len > c->cp.max_size ||
		    ((m.flags & MSGF_INV) && m.spare_idx >= TR_NSPARE)) {
			cfail(c, "op %u: bad DESC", m.op);
			c->dead = true;
			break;
		}
		c->desc = m;
		c->have_desc = true;
		break;
	case MSG_BYE:
		c->bye_seen = true;
		msg_init(&r, MSG_BYE_ACK);
		r.v[0] = c->n_verify;
		r.v[1] = c->n_data;
		r.v[2] = c->n_inv;
		r.v[3] = c->bytes;
		r.status = c->ep.failed;
		if (c->ep.failed)
			snprintf(r.text, sizeof(r.text),
				 "%d check(s) failed on the server",
				 c->ep.errors);
		reply(c, &r);
		break;
	default:
		cfail(c, "unexpected %s message", msg_type_name(m.type));
		c->dead = true;
	}
}

static void recv_wc(struct sconn *c, const struct ibv_wc *wc)
{
	int i = ep_recv_index(&c->ep, wc, c->nrecv);

	if (i < 0) {
		c->dead = true;
		return;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		/* Receives left over at the end are flushed. */
		if (wc->status == IBV_WC_WR_FLUSH_ERR && c->bye_seen)
			return;
		cfail(c, "receive completed with status %s (%d), vendor error 0x%x",
		      ibv_wc_status_str(wc->status), wc->status,
		      wc->vendor_err);
		c->dead = true;
		return;
	}
	if (c->bye_seen) {
		cfail(c, "message after BYE");
		c->dead = true;
		return;
	}
	if (wc->opcode != IBV_WC_RECV)
		cfail(c, "receive completed with opcode %d", wc->opcode);
	if (c->have_desc)
		handle_data(c, wc, i);
	else
		handle_ctrl(c, wc, i);
}

static void *conn_thread(void *arg)
{
	struct sconn *c = arg;
	struct ibv_wc wc;

	while (!c->finished && !c->dead && !c->stop) {
		if (!c->fifo_len) {
			if (poll_into_fifo(c) <= 0)
				continue;
		}
		while (c->fifo_len && !c->dead) {
			wc = c->fifo[c->fifo_head];
			c->fifo_head = (c->fifo_head + 1) % c->fifo_cap;
			c->fifo_len--;
			recv_wc(c, &wc);
		}
	}
	/* Broken off: make sure the client learns it and stops waiting. */
	if (c->dead && !c->finished)
		rdma_disconnect(c->ep.id);
	return NULL;
}

/* --- connection set-up and tear-down ----------------------------------- */

static void conn_free(struct sconn *c)
{
	int i;

	if (c->ep.qp)
		rdma_destroy_qp(c->ep.id);
	for (i = 0; i < TR_NSPARE; i++) {
		if (c->spare_mr[i])
			ibv_dereg_mr(c->spare_mr[i]);
		free(c->spare[i]);
	}
	if (c->mr)
		ibv_dereg_mr(c->mr);
	if (c->rmr)
		ibv_dereg_mr(c->rmr);
	if (c->rpmr)
		ibv_dereg_mr(c->rpmr);
	free(c->buf);
	free(c->rbuf);
	free(c->reply);
	free(c->reply_busy);
	free(c->rlay);
	free(c->fifo);
	ep_close(&c->ep);
	free(c);
}

/* Resources and receives of c; da is its device's attributes. */
static int conn_setup(struct sconn *c, struct ibv_device_attr *da)
{
	const int acc = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			IBV_ACCESS_REMOTE_READ;
	struct ibv_qp_cap cap = { 0 };
	int i, cqe;

	c->nrecv = 2 * (int)c->cp.window + 4;
	c->nreply = 2 * (int)c->cp.window + 8;
	c->bye_reply = -1;
	cqe = c->nrecv + c->nreply + 8;
	if (ep_open(&c->ep, da, cqe, -1))
		return -1;
	c->fifo_cap = cqe;
	c->fifo = calloc((size_t)cqe, sizeof(*c->fifo));
	c->rlay = calloc((size_t)c->nrecv, sizeof(*c->rlay));
	c->reply_busy = calloc((size_t)c->nreply, sizeof(*c->reply_busy));
	if (!c->fifo || !c->rlay || !c->reply_busy) {
		cfail(c, "calloc: %s", strerror(errno));
		return -1;
	}
	c->max_recv_sge = da->max_sge < TR_MAX_SGE ? da->max_sge : TR_MAX_SGE;
	cap.max_send_wr = (uint32_t)c->nreply;
	cap.max_recv_wr = (uint32_t)c->nrecv;
	cap.max_send_sge = 1;
	cap.max_recv_sge = (uint32_t)c->max_recv_sge;
	if (ep_create_qp(&c->ep, &cap))
		return -1;

	c->slot = align_up(c->cp.max_size + TR_LAYOUT_SLACK, TR_PAGE);
	c->read_off = (uint64_t)c->cp.window * 2 * c->slot;
	c->buf_len = c->read_off + c->slot;
	c->cap = c->cp.max_size > sizeof(struct tr_msg) ?
		 c->cp.max_size : sizeof(struct tr_msg);
	c->rstride = align_up(c->cap + TR_LAYOUT_SLACK, TR_PAGE);
	c->buf = alloc_buf(c->buf_len, TR_GUARD);
	c->rbuf = alloc_buf(c->rstride * (uint64_t)c->nrecv, TR_GUARD);
	c->reply = alloc_buf((uint64_t)c->nreply * sizeof(struct tr_msg), 0);
	if (!c->buf || !c->rbuf || !c->reply)
		return -1;
	c->mr = ibv_reg_mr(c->ep.pd, c->buf, c->buf_len, acc);
	c->rmr = ibv_reg_mr(c->ep.pd, c->rbuf, c->rstride * (uint64_t)c->nrecv,
			    IBV_ACCESS_LOCAL_WRITE);
	c->rpmr = ibv_reg_mr(c->ep.pd, c->reply,
			     (uint64_t)c->nreply * sizeof(struct tr_msg), 0);
	if (!c->mr || !c->rmr || !c->rpmr) {
		cfail(c, "ibv_reg_mr: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < TR_NSPARE; i++) {
		c->spare[i] = alloc_buf(TR_SPARE_SIZE, 0);
		if (!c->spare[i])
			return -1;
		c->spare_mr[i] = ibv_reg_mr(c->ep.pd, c->spare[i],
					    TR_SPARE_SIZE, acc);
		if (!c->spare_mr[i]) {
			cfail(c, "ibv_reg_mr: %s", strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < c->nrecv; i++)
		if (post_recv(c, i))
			return -1;
	return 0;
}

static void on_connect_request(struct rdma_cm_id *id, const void *pdata,
			       uint8_t plen, uint8_t peer_ird, uint8_t peer_ord)
{
	struct rdma_conn_param cp;
	struct ibv_device_attr da;
	struct sconn *c;

	c = calloc(1, sizeof(*c));
	if (!c) {
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	c->ep.id = id;
	id->context = c;
	addr_str(rdma_get_peer_addr(id), c->peer, sizeof(c->peer));
	if (plen < sizeof(c->cp)) {
		tr_log("server: rejecting %s: %u bytes of private data",
		       c->peer, plen);
		goto reject;
	}
	memcpy(&c->cp, pdata, sizeof(c->cp));
	if (c->cp.magic != TR_MAGIC || c->cp.version != TR_VERSION ||
	    !c->cp.window || c->cp.window > TR_MAX_WINDOW ||
	    c->cp.max_size > TR_MAX_SIZE || !c->cp.nqps ||
	    c->cp.nqps > TR_MAX_QPS) {
		tr_log("server: rejecting %s: not a siw_traffic client",
		       c->peer);
		goto reject;
	}
	snprintf(c->ep.who, sizeof(c->ep.who), "server qp %d (%s)", c->cp.qp,
		 c->peer);
	rng_seed(&c->rng, (uint64_t)c->cp.qp << 32 ^ (uintptr_t)c);
	if (conn_setup(c, &da))
		goto reject;
	memset(&cp, 0, sizeof(cp));
	cp.responder_resources = (uint8_t)(peer_ord < da.max_qp_rd_atom ?
					   peer_ord : da.max_qp_rd_atom);
	cp.initiator_depth = (uint8_t)(peer_ird < da.max_qp_init_rd_atom ?
				       peer_ird : da.max_qp_init_rd_atom);
	cp.retry_count = 7;
	cp.rnr_retry_count = 0;
	if (rdma_accept(id, &cp)) {
		tr_log("server: rdma_accept for %s: %s", c->peer,
		       strerror(errno));
		goto fail;
	}
	if (pthread_create(&c->thr, NULL, conn_thread, c)) {
		tr_log("server: cannot start a thread for %s", c->peer);
		rdma_disconnect(id);
		goto fail;
	}
	c->thr_started = true;
	if ((int)c->cp.nqps > expected_conns)
		expected_conns = (int)c->cp.nqps;
	c->next = conns;
	conns = c;
	active++;
	return;
reject:
	rdma_reject(id, NULL, 0);
fail:
	server_failed = true;
	conn_free(c);
}

static void on_conn_end(struct sconn *c, const char *why, bool peer_closed)
{
	struct sconn **pp;
	struct timespec ts;

	/*
	 * Its QP flushes now: give the thread time to see the rest. The
	 * client closed first, as a rule, and an application's disconnect
	 * after the peer's must still succeed.
	 */
	if (rdma_disconnect(c->ep.id) && peer_closed)
		cfail(c, "rdma_disconnect after %s: %s", why, strerror(errno));
	if (c->thr_started) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		if (pthread_timedjoin_np(c->thr, NULL, &ts)) {
			c->stop = true;
			pthread_join(c->thr, NULL);
		}
	}
	if (c->bye_reply < 0)
		cfail(c, "connection ended (%s) before the client's BYE was answered",
		      why);
	tr_log("server qp %d (%s): %s: %" PRIu64 " verifies, %" PRIu64 " sends (%" PRIu64 " with invalidate), %" PRIu64 " bytes verified",
	       c->cp.qp, c->peer, c->ep.failed ? "FAILED" : "OK", c->n_verify,
	       c->n_data, c->n_inv, c->bytes);
	if (c->ep.failed)
		server_failed = true;
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	active--;
	done_conns++;
	conn_free(c);
}

/* A listening id for sa; v6only keeps an IPv6 wildcard to IPv6. */
static struct rdma_cm_id *listen_on(struct rdma_event_channel *ech,
				    struct sockaddr *sa, bool v6only,
				    bool quiet)
{
	struct rdma_cm_id *lid;
	char a[96];
	int one = 1;

	addr_str(sa, a, sizeof(a));
	if (rdma_create_id(ech, &lid, NULL, RDMA_PS_TCP)) {
		fprintf(stderr, "siw_traffic: rdma_create_id: %s\n",
			strerror(errno));
		return NULL;
	}
	if ((v6only && rdma_set_option(lid, RDMA_OPTION_ID,
				       RDMA_OPTION_ID_AFONLY, &one,
				       sizeof(one))) ||
	    rdma_bind_addr(lid, sa) || rdma_listen(lid, opt.backlog)) {
		if (!quiet)
			fprintf(stderr, "siw_traffic: cannot listen on %s: %s\n",
				a, strerror(errno));
		rdma_destroy_id(lid);
		return NULL;
	}
	tr_log("server: listening on %s", a);
	return lid;
}

/*
 * -b ADDR: that address. Otherwise the IPv4 and the IPv6 wildcard, each
 * for its family only: not every iWARP device serves IPv4 through an
 * IPv6 wildcard listener. Either may be missing (no IPv6, say).
 */
static int listen_all(struct rdma_event_channel *ech,
		      struct rdma_cm_id *lid[2])
{
	struct rdma_addrinfo hints, *ai;
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;

	if (opt.bind_addr) {
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = RAI_PASSIVE;
		hints.ai_port_space = RDMA_PS_TCP;
		if (rdma_getaddrinfo(opt.bind_addr, opt.port, &hints, &ai)) {
			fprintf(stderr, "siw_traffic: cannot resolve %s: %s\n",
				opt.bind_addr, strerror(errno));
			return -1;
		}
		lid[0] = listen_on(ech, ai->ai_src_addr, false, false);
		rdma_freeaddrinfo(ai);
		return lid[0] ? 0 : -1;
	}
	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	s4.sin_addr.s_addr = htonl(INADDR_ANY);
	s4.sin_port = htons((uint16_t)atoi(opt.port));
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_any;
	s6.sin6_port = s4.sin_port;
	lid[0] = listen_on(ech, (struct sockaddr *)&s4, false, false);
	lid[1] = listen_on(ech, (struct sockaddr *)&s6, true, !!lid[0]);
	return lid[0] || lid[1] ? 0 : -1;
}

int run_server(void)
{
	struct rdma_event_channel *ech;
	struct rdma_cm_id *lid[2] = { NULL, NULL }, *id;
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type type;
	uint8_t pdata[256], plen, ird, ord;
	struct pollfd pfd;
	struct sconn *c;
	int status;

	ech = rdma_create_event_channel();
	if (!ech) {
		fprintf(stderr, "siw_traffic: rdma_create_event_channel: %s\n",
			strerror(errno));
		return 1;
	}
	if (listen_all(ech, lid))
		return 1;
	pfd.fd = ech->fd;
	pfd.events = POLLIN;

	while (opt.keep_serving || !done_conns || active ||
	       done_conns < expected_conns) {
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		if (rdma_get_cm_event(ech, &ev)) {
			fprintf(stderr, "siw_traffic: rdma_get_cm_event: %s\n",
				strerror(errno));
			return 1;
		}
		type = ev->event;
		id = ev->id;
		status = ev->status;
		plen = 0;
		ird = ord = 0;
		if (type == RDMA_CM_EVENT_CONNECT_REQUEST) {
			plen = ev->param.conn.private_data_len;
			if (ev->param.conn.private_data)
				memcpy(pdata, ev->param.conn.private_data,
				       plen);
			else
				plen = 0;
			ird = ev->param.conn.responder_resources;
			ord = ev->param.conn.initiator_depth;
		}
		rdma_ack_cm_event(ev);

		c = id && id != lid[0] && id != lid[1] ? id->context : NULL;
		switch (type) {
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			if (opt.accept_delay_ms)
				usleep(opt.accept_delay_ms * 1000u);
			on_connect_request(id, pdata, plen, ird, ord);
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			break;
		case RDMA_CM_EVENT_DISCONNECTED:
		case RDMA_CM_EVENT_CONNECT_ERROR:
		case RDMA_CM_EVENT_UNREACHABLE:
		case RDMA_CM_EVENT_REJECTED:
			if (c)
				on_conn_end(c, rdma_event_str(type),
					    type == RDMA_CM_EVENT_DISCONNECTED);
			break;
		case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		case RDMA_CM_EVENT_ADDR_CHANGE:
			break;
		case RDMA_CM_EVENT_DEVICE_REMOVAL:
			tr_log("server: FAIL: device removed");
			return 1;
		default:
			tr_log("server: unexpected event %s (status %d)",
			       rdma_event_str(type), status);
			break;
		}
	}
	if (lid[0])
		rdma_destroy_id(lid[0]);
	if (lid[1])
		rdma_destroy_id(lid[1]);
	rdma_destroy_event_channel(ech);
	tr_log("server: %d connection(s), %s", done_conns,
	       server_failed ? "FAILED" : "all verified");
	return server_failed ? 1 : 0;
}
