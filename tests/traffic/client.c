/*
 * siw_traffic client: one thread per QP, each connects to the server and
 * drives its own reproducible stream of operations (the PRNG is seeded
 * from the seed and the QP index), with up to opt.window of them in
 * flight.
 *
 * An op occupies one window slot s from its first work request until
 * every work request of it is known complete and the server's RESULT (if
 * it needs one) arrived. Slot s owns area s of the local buffer (source
 * and READ sink) and area s of the server's buffer, so ops in flight
 * never share memory. A work request is complete when its own completion
 * arrives (signaled) or when a later signaled one of the send queue does
 * (unsignaled). The last work request before the window fills or the run
 * ends is always signaled, so the client never waits for a completion
 * that cannot come.
 */
#define _GNU_SOURCE	/* pthread_timedjoin_np */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "traffic.h"

enum wr_kind { WR_CTRL, WR_WRITE, WR_READ, WR_SEND };

static const char *const wr_names[] = {
	[WR_CTRL] = "control SEND", [WR_WRITE] = "RDMA WRITE",
	[WR_READ] = "RDMA READ", [WR_SEND] = "data SEND",
};

struct wr_ent {
	uint64_t seq;		/* also its wr_id */
	uint8_t kind;		/* enum wr_kind */
	bool signaled;
	bool inl;
	bool wc_seen;
	bool done;
};

#define SESSION_OP	(-1)	/* HELLO or BYE, in the extra slot */

struct cop {
	bool active;
	int kind;		/* enum op_kind or SESSION_OP */
	uint32_t idx;
	uint64_t key;
	uint64_t len;
	uint64_t roff;		/* in the server's buffer */
	struct layout src;	/* WRITE/SEND source */
	struct layout dst;	/* READ sink */
	uint64_t dst_key;	/* what the sink must receive */
	uint64_t dst_pos0;
	int spare;
	bool need_result;
	bool got_result;
	int nwr;
	struct wr_ent wr[2];
};

struct cqp {
	int idx;
	pthread_t thr;
	bool joined;
	const char *volatile stage;	/* for the timeout report */
	const struct rdma_addrinfo *ai;
	struct rdma_event_channel *ech;
	struct endpoint ep;
	bool connected;
	bool peer_gone;		/* DISCONNECTED seen while running */
	uint8_t *buf;
	uint64_t buf_len;
	struct ibv_mr *mr;
	uint64_t slot;		/* size of one area */
	uint64_t ctrl_off;
	uint64_t recv_off;
	int nrecv;
	int sq_depth;
	int max_send_sge;
	int max_rd_sge;
	struct rng rng;
	uint64_t seq;
	int inflight;
	uint32_t next_op;
	struct cop ops[TR_MAX_WINDOW + 1];
	bool have_info;
	bool have_bye_ack;
	struct tr_msg info;
	struct tr_msg bye_ack;
	int nspare;
	uint32_t spare_rkey[TR_MAX_SPARE];
	bool spare_busy[TR_MAX_SPARE];
	/* accounting */
	uint32_t n_kind[OP_KINDS];
	uint64_t bytes_verified;
	uint64_t sig_posted;
	uint64_t sig_wcs;
	uint64_t unsig_posted;
	uint64_t n_inline;
	uint64_t exp_verify, exp_data, exp_inv, exp_bytes;
};

#define qfail(q, ...)	ep_fail(&(q)->ep, __VA_ARGS__)

static inline uint8_t *src_area(struct cqp *q, int s)
{
	return q->buf + (uint64_t)s * 2 * q->slot;
}

static inline uint8_t *dst_area(struct cqp *q, int s)
{
	return src_area(q, s) + q->slot;
}

static inline struct tr_msg *ctrl_msg(struct cqp *q, int s)
{
	return (struct tr_msg *)(q->buf + q->ctrl_off +
				 (uint64_t)s * sizeof(struct tr_msg));
}

static inline int op_slot(struct cqp *q, struct cop *op)
{
	return (int)(op - q->ops);
}

static const char *op_name(const struct cop *op)
{
	return op->kind == SESSION_OP ? "session" : op_names[op->kind];
}

/* --- posting ------------------------------------------------------------ */

static int post_recv(struct cqp *q, int i)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(q->buf + q->recv_off +
				    (uint64_t)i * sizeof(struct tr_msg)),
		.length = sizeof(struct tr_msg),
		.lkey = q->mr->lkey,
	};
	struct ibv_recv_wr wr = {
		.wr_id = TR_WRID_RECV | (uint64_t)i,
		.sg_list = &sge,
		.num_sge = 1,
	};

	return ep_post_recv(&q->ep, &wr);
}

/* Make the source of a completed (or inline) WRITE/SEND garbage. */
static void scribble_source(struct cqp *q, struct cop *op,
			    const struct wr_ent *e)
{
	int s = op_slot(q, op);

	if (e->kind == WR_CTRL)
		memset(ctrl_msg(q, s), TR_REUSE_FILL, sizeof(struct tr_msg));
	else if (e->kind == WR_WRITE || e->kind == WR_SEND)
		layout_fill(src_area(q, s), &op->src, 0, op->src.total,
			    TR_REUSE_FILL);
}

static int post_wr(struct cqp *q, struct cop *op, enum wr_kind kind,
		   enum ibv_wr_opcode opcode, struct ibv_sge *sge, int nsge,
		   bool signaled, bool inl, uint64_t raddr, uint32_t rkey,
		   uint32_t inv_rkey)
{
	struct wr_ent *e = &op->wr[op->nwr];
	struct ibv_send_wr wr, *bad;
	int ret;

	memset(&wr, 0, sizeof(wr));
	memset(e, 0, sizeof(*e));
	e->seq = ++q->seq;
	e->kind = (uint8_t)kind;
	e->signaled = signaled;
	e->inl = inl;
	wr.wr_id = e->seq;
	wr.sg_list = sge;
	wr.num_sge = nsge;
	wr.opcode = opcode;
	wr.send_flags = (signaled ? IBV_SEND_SIGNALED : 0) |
			(inl ? IBV_SEND_INLINE : 0);
	if (opcode == IBV_WR_RDMA_WRITE || opcode == IBV_WR_RDMA_READ) {
		wr.wr.rdma.remote_addr = raddr;
		wr.wr.rdma.rkey = rkey;
	}
	if (opcode == IBV_WR_SEND_WITH_INV) {
		wr.invalidate_rkey = inv_rkey;
		/*
		 * rdma-core 44's siw provider takes the STag to invalidate
		 * from wr.rdma.rkey, which SENDs do not use otherwise.
		 */
		wr.wr.rdma.rkey = inv_rkey;
	}
	ret = ibv_post_send(q->ep.qp, &wr, &bad);
	if (ret) {
		/* Some providers return negative errno values. */
		qfail(q, "op %u (%s): posting the %s (%d SGEs%s) failed: %s (%d)",
		      op->idx, op_name(op), wr_names[kind], nsge,
		      inl ? ", inline" : "", strerror(abs(ret)), ret);
		return -1;
	}
	op->nwr++;
	if (signaled)
		q->sig_posted++;
	else
		q->unsig_posted++;
	if (inl)
		q->n_inline++;
	/* Inline data is the provider's once posted: reuse at once. */
	if ((inl && opt.reuse) ||
	    (opt.inject_early_reuse && (kind == WR_WRITE || kind == WR_SEND)))
		scribble_source(q, op, e);
	return 0;
}

static int post_ctrl(struct cqp *q, struct cop *op, const struct tr_msg *m,
		     bool signaled)
{
	struct tr_msg *buf = ctrl_msg(q, op_slot(q, op));
	struct ibv_sge sge = {
		.addr = (uintptr_t)buf,
		.length = sizeof(*m),
		.lkey = q->mr->lkey,
	};
	bool inl = sizeof(*m) <= q->ep.max_inline && rng_below(&q->rng, 2);

	*buf = *m;
	return post_wr(q, op, WR_CTRL, IBV_WR_SEND, &sge, 1, signaled, inl,
		       0, 0, 0);
}

/* --- completion of work requests and ops ------------------------------- */

static void verify_sink(struct cqp *q, struct cop *op)
{
	uint8_t *base = dst_area(q, op_slot(q, op));
	struct mismatch m = { 0 };
	char text[160];

	if (op->idx == (uint64_t)opt.inject_flip && op->len) {
		layout_flip(base, &op->dst, op->len / 2);
		tr_log("%s: op %u: injected a corrupt byte at offset %" PRIu64,
		       q->ep.who, op->idx, op->len / 2);
	}
	layout_check(base, &op->dst, op->dst_key, op->dst_pos0, op->len, &m);
	if (m.count) {
		mismatch_str(&m, text, sizeof(text));
		qfail(q, "op %u (%s, %" PRIu64 " bytes, %d SGEs, server offset %" PRIu64 "): READ data wrong: %s",
		      op->idx, op_name(op), op->len, op->dst.n, op->roff, text);
		return;
	}
	q->bytes_verified += op->len;
}

static void wr_done(struct cqp *q, struct cop *op, struct wr_ent *e)
{
	if (e->done)
		return;
	e->done = true;
	if (e->kind == WR_READ)
		verify_sink(q, op);
	else if (opt.reuse)
		scribble_source(q, op, e);
}

static void try_complete(struct cqp *q, struct cop *op)
{
	int i;

	if (!op->active)
		return;
	for (i = 0; i < op->nwr; i++)
		if (!op->wr[i].done)
			return;
	if (op->need_result && !op->got_result)
		return;
	op->active = false;
	if (op->kind != SESSION_OP) {
		q->inflight--;
		q->n_kind[op->kind]++;
	}
}

static enum ibv_wc_opcode wc_opcode_of(uint8_t kind)
{
	switch (kind) {
	case WR_WRITE:
		return IBV_WC_RDMA_WRITE;
	case WR_READ:
		return IBV_WC_RDMA_READ;
	default:
		return IBV_WC_SEND;
	}
}

static void send_wc(struct endpoint *ep, const struct ibv_wc *wc)
{
	struct cqp *q = container_of(ep, struct cqp, ep);
	struct wr_ent *e = NULL, *x;
	struct cop *op = NULL;
	int s, i;

	for (s = 0; s <= opt.window && !e; s++) {
		if (!q->ops[s].active)
			continue;
		for (i = 0; i < q->ops[s].nwr; i++)
			if (q->ops[s].wr[i].seq == wc->wr_id) {
				op = &q->ops[s];
				e = &op->wr[i];
				break;
			}
	}
	if (!e) {
		if (!(q->ep.failed && wc->status == IBV_WC_WR_FLUSH_ERR))
			qfail(q, "send completion with unknown wr_id %" PRIu64 " (status %s, opcode %d)",
			      (uint64_t)wc->wr_id,
			      ibv_wc_status_str(wc->status), wc->opcode);
		return;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		if (!(q->ep.failed && wc->status == IBV_WC_WR_FLUSH_ERR))
			qfail(q, "op %u (%s, %" PRIu64 " bytes): %s completed with status %s (%d), vendor error 0x%x%s",
			      op->idx, op_name(op), op->len, wr_names[e->kind],
			      ibv_wc_status_str(wc->status), wc->status,
			      wc->vendor_err,
			      op->kind == OP_SENDINV ?
			      " (SEND_WITH_INV: try -I 0 if the device cannot invalidate ordinary MRs)" : "");
		return;
	}
	if (!e->signaled) {
		qfail(q, "op %u (%s): completion for an unsignaled %s",
		      op->idx, op_name(op), wr_names[e->kind]);
		return;
	}
	if (e->wc_seen) {
		qfail(q, "op %u (%s): second completion for its %s",
		      op->idx, op_name(op), wr_names[e->kind]);
		return;
	}
	e->wc_seen = true;
	q->sig_wcs++;
	if (wc->opcode != wc_opcode_of(e->kind))
		qfail(q, "op %u (%s): %s completed with opcode %d, expected %d",
		      op->idx, op_name(op), wr_names[e->kind], wc->opcode,
		      wc_opcode_of(e->kind));
	wr_done(q, op, e);
	/* Everything posted before it is complete too. */
	for (s = 0; s <= opt.window; s++) {
		if (!q->ops[s].active)
			continue;
		for (i = 0; i < q->ops[s].nwr; i++) {
			x = &q->ops[s].wr[i];
			if (x->seq < e->seq && !x->signaled)
				wr_done(q, &q->ops[s], x);
		}
	}
	for (s = 0; s <= opt.window; s++)
		try_complete(q, &q->ops[s]);
}

static void handle_result(struct cqp *q, const struct tr_msg *m)
{
	struct cop *op = NULL;
	int s;

	for (s = 0; s < opt.window; s++)
		if (q->ops[s].active && q->ops[s].idx == m->op &&
		    q->ops[s].need_result && !q->ops[s].got_result)
			op = &q->ops[s];
	if (!op) {
		qfail(q, "RESULT for op %u, which expects none", m->op);
		return;
	}
	op->got_result = true;
	if (m->status)
		qfail(q, "op %u (%s, %" PRIu64 " bytes, %d SGEs, server offset %" PRIu64 "): server: %s",
		      op->idx, op_name(op), op->len, op->src.n, op->roff,
		      m->text);
	else
		q->bytes_verified += op->len;
	if (op->kind == OP_SENDINV) {
		if (m->spare_idx != (uint32_t)op->spare) {
			qfail(q, "op %u: RESULT renews spare %u, not %d",
			      op->idx, m->spare_idx, op->spare);
		} else {
			q->spare_rkey[op->spare] = m->rkey;
			q->spare_busy[op->spare] = false;
		}
	}
	try_complete(q, op);
}

static void recv_wc(struct endpoint *ep, const struct ibv_wc *wc)
{
	struct cqp *q = container_of(ep, struct cqp, ep);
	int i = ep_recv_index(ep, wc, q->nrecv);
	uint8_t *buf;
	struct tr_msg m;

	if (i < 0)
		return;
	if (wc->status != IBV_WC_SUCCESS) {
		if (!(q->ep.failed && wc->status == IBV_WC_WR_FLUSH_ERR))
			qfail(q, "receive completed with status %s (%d), vendor error 0x%x",
			      ibv_wc_status_str(wc->status), wc->status,
			      wc->vendor_err);
		return;
	}
	if (wc->opcode != IBV_WC_RECV)
		qfail(q, "receive completed with opcode %d", wc->opcode);
	if (wc->byte_len != sizeof(m))
		qfail(q, "receive of %u bytes, expected a message of %zu",
		      wc->byte_len, sizeof(m));
	if (wc->wc_flags & IBV_WC_WITH_INV)
		qfail(q, "receive claims an invalidation (rkey 0x%x)",
		      wc->invalidated_rkey);
	buf = q->buf + q->recv_off + (uint64_t)i * sizeof(m);
	memcpy(&m, buf, sizeof(m));
	memset(buf, 0, sizeof(m));
	if (q->ep.failed || post_recv(q, i))
		return;
	if (!msg_valid(&m)) {
		qfail(q, "garbled message from the server (magic 0x%08x, type %u)",
		      m.magic, m.type);
		return;
	}
	switch (m.type) {
	case MSG_INFO:
		if (q->have_info)
			qfail(q, "second INFO");
		q->info = m;
		q->have_info = true;
		break;
	case MSG_RESULT:
		handle_result(q, &m);
		break;
	case MSG_BYE_ACK:
		q->bye_ack = m;
		q->have_bye_ack = true;
		break;
	default:
		qfail(q, "unexpected %s message", msg_type_name(m.type));
	}
}

/* Take the next rdma_cm event of q: its type and status. */
static int next_cm_event(struct cqp *q, enum rdma_cm_event_type *type,
			 int *status)
{
	struct rdma_cm_event *ev;

	if (rdma_get_cm_event(q->ech, &ev)) {
		qfail(q, "rdma_get_cm_event: %s", strerror(errno));
		return -1;
	}
	*type = ev->event;
	*status = ev->status;
	rdma_ack_cm_event(ev);
	return 0;
}

/* An rdma_cm event while ops run: the server went away, most likely. */
static int cm_event_while_running(struct cqp *q)
{
	enum rdma_cm_event_type type;
	int status;

	if (next_cm_event(q, &type, &status))
		return -1;
	if (type == RDMA_CM_EVENT_DISCONNECTED) {
		q->peer_gone = true;
		qfail(q, "the server disconnected with %d ops in flight",
		      q->inflight);
		return -1;
	}
	tr_log("qp %d: note: rdma_cm event %s (status %d) while running",
	       q->idx, rdma_event_str(type), status);
	return 0;
}

/* Wait for completions and handle them; -1 when waiting failed. */
static int pump(struct cqp *q)
{
	int n = ep_poll(&q->ep, TR_MAX_POLL, NULL, recv_wc, send_wc);

	if (n == -2)
		return cm_event_while_running(q);
	return n < 0 ? -1 : 0;
}

/* --- ops ---------------------------------------------------------------- */

static int pick_kind(struct cqp *q)
{
	static const unsigned int weight[OP_KINDS] = {
		[OP_WRITE] = 2, [OP_WREAD] = 1, [OP_READ] = 2,
		[OP_SEND] = 2, [OP_SENDINV] = 1,
	};
	unsigned int total = 0, r;
	int k;

	for (k = 0; k < OP_KINDS; k++)
		if (opt.op_mask & (1u << k))
			total += weight[k];
	r = (unsigned int)rng_below(&q->rng, total);
	for (k = 0; k < OP_KINDS; k++) {
		if (!(opt.op_mask & (1u << k)))
			continue;
		if (r < weight[k])
			break;
		r -= weight[k];
	}
	return k;
}

static bool maybe_inline(struct cqp *q, uint64_t len)
{
	return len <= q->ep.max_inline && rng_below(&q->rng, 2);
}

/* Fill the surroundings of a READ sink with guard bytes. */
static void guard_sink(struct cqp *q, struct cop *op)
{
	uint64_t lo, hi;

	layout_span(&op->dst, &lo, &hi);
	memset(dst_area(q, op_slot(q, op)) + lo - TR_GUARD_LEN, TR_GUARD,
	       hi - lo + 2 * TR_GUARD_LEN);
}

/* Lay out op's source, fill it with op's pattern and give its SGEs. */
static int make_src(struct cqp *q, struct cop *op, struct ibv_sge *sge)
{
	uint8_t *area = src_area(q, op_slot(q, op));

	layout_make(&op->src, &q->rng, q->slot, op->len, q->max_send_sge,
		    true);
	if (opt.avoid_intree_1seg && op->len <= TR_INTREE_1SEG_MAX)
		layout_within_page(&op->src, area);
	layout_fill_pattern(area, &op->src, op->key, 0);
	return layout_sges(&op->src, area, q->mr->lkey, sge);
}

/* READ op->len bytes at op->roff of the server into a guarded sink. */
static int post_read(struct cqp *q, struct cop *op)
{
	struct ibv_sge sge[TR_MAX_SGE];
	int n;

	layout_make(&op->dst, &q->rng, q->slot, op->len, q->max_rd_sge,
		    true);
	guard_sink(q, op);
	n = layout_sges(&op->dst, dst_area(q, op_slot(q, op)), q->mr->lkey,
			sge);
	return post_wr(q, op, WR_READ, IBV_WR_RDMA_READ, sge, n, true, false,
		       q->info.addr + op->roff, q->info.rkey, 0);
}

/* "offset+length ..." of each SGE, for -v */
static void layout_str(const struct layout *l, char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < l->n && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s%" PRIu64 "+%u",
				      i ? " " : "", l->p[i].off, l->p[i].len);
}

static int issue_op(struct cqp *q)
{
	struct ibv_sge sge[TR_MAX_SGE];
	struct tr_msg m;
	struct cop *op;
	int s, n, i, free_spares[TR_MAX_SPARE], nfree;
	bool last_sig, inl;

	for (s = 0; s < opt.window; s++)
		if (!q->ops[s].active)
			break;
	op = &q->ops[s];
	memset(op, 0, sizeof(*op));
	op->active = true;
	op->idx = q->next_op++;
	op->kind = pick_kind(q);
	op->len = choose_len(&q->rng, opt.max_size);
	op->spare = -1;
	q->inflight++;
	/* The window is full now, or nothing follows: signal the last WR. */
	last_sig = q->inflight == opt.window || q->next_op == opt.nops ||
		   !rng_below(&q->rng, opt.sig_every);

	if (op->kind == OP_SENDINV) {
		nfree = 0;
		for (i = 0; i < q->nspare; i++)
			if (!q->spare_busy[i])
				free_spares[nfree++] = i;
		if (nfree) {
			op->spare = free_spares[rng_below(&q->rng, nfree)];
			q->spare_busy[op->spare] = true;
		} else {
			op->kind = OP_SEND;
		}
	}
	op->key = pattern_key(opt.seed, (uint32_t)q->idx, op->idx,
			      (uint32_t)op->kind);

	switch (op->kind) {
	case OP_WRITE:
	case OP_WREAD:
		n = make_src(q, op, sge);
		/* Server slot s: verify area, then read-back area. */
		op->roff = (uint64_t)s * 2 * q->slot +
			   (op->kind == OP_WREAD ? q->slot : 0) +
			   choose_off(&q->rng, q->slot, op->len);
		inl = maybe_inline(q, op->len);
		if (post_wr(q, op, WR_WRITE, IBV_WR_RDMA_WRITE, sge, n,
			    !rng_below(&q->rng, opt.sig_every), inl,
			    q->info.addr + op->roff, q->info.rkey, 0))
			return -1;
		if (op->kind == OP_WRITE) {
			msg_init(&m, MSG_VERIFY);
			m.op = op->idx;
			m.key = op->key;
			m.off = op->roff;
			m.len = op->len;
			op->need_result = true;
			q->exp_verify++;
			q->exp_bytes += op->len;
			if (post_ctrl(q, op, &m, last_sig))
				return -1;
			break;
		}
		op->dst_key = op->key;
		op->dst_pos0 = 0;
		if (post_read(q, op))
			return -1;
		break;
	case OP_READ:
		op->dst_key = q->info.key;
		op->dst_pos0 = choose_off(&q->rng, q->info.v[2], op->len);
		op->roff = q->info.v[1] + op->dst_pos0;
		if (post_read(q, op))
			return -1;
		break;
	case OP_SEND:
	case OP_SENDINV:
		n = make_src(q, op, sge);
		msg_init(&m, MSG_DESC);
		m.op = op->idx;
		m.key = op->key;
		m.len = op->len;
		if (op->kind == OP_SENDINV) {
			m.flags = MSGF_INV;
			m.rkey = q->spare_rkey[op->spare];
			m.spare_idx = (uint32_t)op->spare;
			q->exp_inv++;
		}
		op->need_result = true;
		q->exp_data++;
		q->exp_bytes += op->len;
		if (post_ctrl(q, op, &m, !rng_below(&q->rng, opt.sig_every)))
			return -1;
		/* Inline is for SEND and RDMA WRITE only (ibv_post_send(3)). */
		inl = op->kind == OP_SEND && maybe_inline(q, op->len);
		if (post_wr(q, op, WR_SEND,
			    op->kind == OP_SENDINV ? IBV_WR_SEND_WITH_INV :
			    IBV_WR_SEND, sge, n, last_sig, inl, 0, 0,
			    op->kind == OP_SENDINV ? m.rkey : 0))
			return -1;
		break;
	}
	if (opt.verbose) {
		char src[160], dst[160];

		layout_str(&op->src, src, sizeof(src));
		layout_str(&op->dst, dst, sizeof(dst));
		tr_log("qp %d: op %u %s len %" PRIu64 " server offset %" PRIu64 " src [%s] dst [%s]%s%s",
		       q->idx, op->idx, op_names[op->kind], op->len,
		       op->roff, src, dst,
		       op->wr[op->nwr - 1].signaled ? " signaled" : "",
		       op->wr[0].inl ? " inline" : "");
	}
	return 0;
}

/* HELLO or BYE, then wait for the answer and the send completion. */
static int session_step(struct cqp *q, const struct tr_msg *m, bool *answered)
{
	struct cop *op = &q->ops[opt.window];

	memset(op, 0, sizeof(*op));
	op->active = true;
	op->kind = SESSION_OP;
	op->spare = -1;
	if (post_ctrl(q, op, m, true))
		return -1;
	while (!q->ep.failed && (op->active || !*answered))
		if (pump(q))
			return -1;
	return q->ep.failed ? -1 : 0;
}

/* --- connection --------------------------------------------------------- */

static int wait_cm(struct cqp *q, enum rdma_cm_event_type want)
{
	enum rdma_cm_event_type got;
	int status;

	if (next_cm_event(q, &got, &status))
		return -1;
	if (got != want) {
		qfail(q, "waiting for %s, got %s (status %d)",
		      rdma_event_str(want), rdma_event_str(got), status);
		return -1;
	}
	return 0;
}

/* Resources and receives of q; da is its device's attributes. */
static int setup(struct cqp *q, struct ibv_device_attr *da)
{
	struct ibv_qp_cap cap = { 0 };
	int i;

	q->sq_depth = 2 * opt.window + 4;
	q->nrecv = opt.window + 4;
	if (ep_open(&q->ep, da, q->sq_depth + q->nrecv + 8, q->ech->fd))
		return -1;
	q->max_send_sge = da->max_sge < TR_MAX_SGE ? da->max_sge : TR_MAX_SGE;
	q->max_rd_sge = da->max_sge_rd > 0 ? da->max_sge_rd : 1;
	if (q->max_rd_sge > q->max_send_sge)
		q->max_rd_sge = q->max_send_sge;
	cap.max_send_wr = (uint32_t)q->sq_depth;
	cap.max_recv_wr = (uint32_t)q->nrecv;
	cap.max_send_sge = (uint32_t)q->max_send_sge;
	cap.max_recv_sge = 1;
	if (ep_create_qp(&q->ep, &cap))
		return -1;

	q->slot = align_up(opt.max_size + TR_LAYOUT_SLACK, TR_PAGE);
	q->ctrl_off = (uint64_t)opt.window * 2 * q->slot;
	q->recv_off = q->ctrl_off + align_up((uint64_t)(opt.window + 1) *
					     sizeof(struct tr_msg), TR_PAGE);
	q->buf_len = q->recv_off + align_up((uint64_t)q->nrecv *
					    sizeof(struct tr_msg), TR_PAGE);
	q->buf = alloc_buf(q->buf_len, TR_GUARD);
	if (!q->buf) {
		q->ep.failed = true;
		return -1;
	}
	q->mr = ibv_reg_mr(q->ep.pd, q->buf, q->buf_len,
			   IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE |
			   IBV_ACCESS_REMOTE_READ);
	if (!q->mr) {
		qfail(q, "ibv_reg_mr of %" PRIu64 " bytes: %s", q->buf_len,
		      strerror(errno));
		return -1;
	}
	for (i = 0; i < q->nrecv; i++)
		if (post_recv(q, i))
			return -1;
	return 0;
}

static int connect_qp(struct cqp *q)
{
	struct ibv_device_attr da;
	struct rdma_conn_param cp;
	struct tr_cpriv priv;

	q->ech = rdma_create_event_channel();
	if (!q->ech || rdma_create_id(q->ech, &q->ep.id, q, RDMA_PS_TCP)) {
		qfail(q, "rdma_create_event_channel/rdma_create_id: %s",
		      strerror(errno));
		return -1;
	}
	if (rdma_resolve_addr(q->ep.id, q->ai->ai_src_addr, q->ai->ai_dst_addr,
			      5000)) {
		qfail(q, "rdma_resolve_addr: %s", strerror(errno));
		return -1;
	}
	q->stage = "resolving the address";
	if (wait_cm(q, RDMA_CM_EVENT_ADDR_RESOLVED))
		return -1;
	if (rdma_resolve_route(q->ep.id, 5000)) {
		qfail(q, "rdma_resolve_route: %s", strerror(errno));
		return -1;
	}
	q->stage = "resolving the route";
	if (wait_cm(q, RDMA_CM_EVENT_ROUTE_RESOLVED))
		return -1;
	q->stage = "setting up";
	if (setup(q, &da))
		return -1;

	memset(&priv, 0, sizeof(priv));
	priv.magic = TR_MAGIC;
	priv.version = TR_VERSION;
	priv.qp = (uint16_t)q->idx;
	priv.nqps = (uint32_t)opt.nqps;
	priv.window = (uint32_t)opt.window;
	priv.max_size = opt.max_size;
	memset(&cp, 0, sizeof(cp));
	cp.private_data = &priv;
	cp.private_data_len = sizeof(priv);
	cp.initiator_depth = (uint8_t)(da.max_qp_init_rd_atom < 16 ?
				       da.max_qp_init_rd_atom : 16);
	cp.responder_resources = (uint8_t)(da.max_qp_rd_atom < 16 ?
					   da.max_qp_rd_atom : 16);
	cp.retry_count = 7;
	cp.rnr_retry_count = 0;	/* a missing receive is an error, as on iWARP */
	if (rdma_connect(q->ep.id, &cp)) {
		qfail(q, "rdma_connect: %s", strerror(errno));
		return -1;
	}
	q->stage = "waiting for the connection to be established";
	if (wait_cm(q, RDMA_CM_EVENT_ESTABLISHED))
		return -1;
	q->connected = true;
	return 0;
}

static void disconnect_qp(struct cqp *q)
{
	struct pollfd pfd = { .fd = q->ech->fd, .events = POLLIN };
	struct rdma_cm_event *ev;
	enum rdma_cm_event_type got;
	int waited;

	if (q->peer_gone) {	/* just flush the QP */
		rdma_disconnect(q->ep.id);
		return;
	}
	if (rdma_disconnect(q->ep.id)) {
		qfail(q, "rdma_disconnect: %s", strerror(errno));
		return;
	}
	for (waited = 0; waited < 300; waited++) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		if (rdma_get_cm_event(q->ech, &ev))
			break;
		got = ev->event;
		rdma_ack_cm_event(ev);
		if (got == RDMA_CM_EVENT_DISCONNECTED)
			return;
	}
	qfail(q, "no DISCONNECTED event within 30 s of rdma_disconnect");
}

static void teardown(struct cqp *q)
{
	if (q->ep.qp)
		rdma_destroy_qp(q->ep.id);
	if (q->mr)
		ibv_dereg_mr(q->mr);
	free(q->buf);
	ep_close(&q->ep);
	if (q->ech)
		rdma_destroy_event_channel(q->ech);
}

static bool check_info(struct cqp *q)
{
	const struct tr_msg *m = &q->info;
	int i;

	if (m->v[0] != q->slot || m->v[2] < q->slot ||
	    m->len < (uint64_t)opt.window * 2 * q->slot ||
	    m->v[1] + m->v[2] > m->len || m->spare_idx > TR_MAX_SPARE) {
		qfail(q, "INFO does not match the run (slot %" PRIu64 " vs %" PRIu64 ", buffer %" PRIu64 ")",
		      m->v[0], q->slot, m->len);
		return false;
	}
	q->nspare = (int)m->spare_idx;
	for (i = 0; i < q->nspare; i++)
		q->spare_rkey[i] = m->spare_rkey[i];
	return true;
}

static void *qp_thread(void *arg)
{
	struct cqp *q = arg;
	struct tr_msg m;

	rng_seed(&q->rng, pattern_key(opt.seed, (uint32_t)q->idx, ~0ull, 0));
	if (connect_qp(q))
		goto out;
	q->stage = "waiting for the server's INFO";

	msg_init(&m, MSG_HELLO);
	m.op = (uint32_t)q->idx;
	m.key = opt.seed;
	m.len = opt.max_size;
	m.v[0] = (uint64_t)opt.nqps;
	m.v[1] = (uint64_t)opt.window;
	m.v[2] = opt.nops;
	m.v[3] = opt.inject_flip >= 0 ? (uint64_t)opt.inject_flip + 1 : 0;
	m.flags = opt.reuse ? MSGF_REUSE : 0;
	if (session_step(q, &m, &q->have_info) || !check_info(q))
		goto out;
	q->stage = "running";

	while (!q->ep.failed) {
		while (!q->ep.failed && q->inflight < opt.window &&
		       q->next_op < opt.nops)
			if (issue_op(q))
				break;
		if (q->ep.failed || !q->inflight)
			break;
		if (pump(q))
			break;
	}
	if (q->ep.failed)
		goto out;
	if (q->sig_wcs != q->sig_posted)
		qfail(q, "%" PRIu64 " signaled work requests, %" PRIu64 " completions",
		      q->sig_posted, q->sig_wcs);

	msg_init(&m, MSG_BYE);
	m.v[0] = q->exp_verify;
	m.v[1] = q->exp_data;
	m.v[2] = q->exp_inv;
	m.v[3] = q->exp_bytes;
	q->stage = "waiting for the server's BYE_ACK";
	if (session_step(q, &m, &q->have_bye_ack))
		goto out;
	if (q->bye_ack.status)
		qfail(q, "server reports failure: %s", q->bye_ack.text);
	if (memcmp(q->bye_ack.v, m.v, sizeof(m.v)))
		qfail(q, "server counted %" PRIu64 " verifies, %" PRIu64 " sends, %" PRIu64 " invalidations, %" PRIu64 " bytes; client sent %" PRIu64 ", %" PRIu64 ", %" PRIu64 ", %" PRIu64,
		      q->bye_ack.v[0], q->bye_ack.v[1], q->bye_ack.v[2],
		      q->bye_ack.v[3], m.v[0], m.v[1], m.v[2], m.v[3]);
	if (opt.linger && !q->ep.failed) {
		tr_log("qp %d: lingering %u s", q->idx, opt.linger);
		q->stage = "lingering";
		sleep(opt.linger);
	}
out:
	q->stage = "disconnecting";
	if (q->connected)
		disconnect_qp(q);
	tr_log("qp %d: %s: %u ops (write %u, wread %u, read %u, send %u, sendinv %u), %" PRIu64 " bytes verified, %" PRIu64 "/%" PRIu64 " signaled completions, %" PRIu64 " unsignaled, %" PRIu64 " inline",
	       q->idx, q->ep.failed ? "FAILED" : "OK",
	       q->n_kind[OP_WRITE] + q->n_kind[OP_WREAD] + q->n_kind[OP_READ] +
	       q->n_kind[OP_SEND] + q->n_kind[OP_SENDINV],
	       q->n_kind[OP_WRITE], q->n_kind[OP_WREAD], q->n_kind[OP_READ],
	       q->n_kind[OP_SEND], q->n_kind[OP_SENDINV], q->bytes_verified,
	       q->sig_wcs, q->sig_posted, q->unsig_posted, q->n_inline);
	q->stage = "tearing down";
	teardown(q);
	q->stage = "done";
	return NULL;
}

/*
 * What a QP that did not finish in time was waiting for. It reads the
 * thread's state without locking; the process exits right after.
 */
static void dump_stuck(struct cqp *q)
{
	char line[1024];
	const struct cop *op;
	size_t n;
	int s, i;

	tr_log("qp %d: stuck %s: %d ops in flight, %u issued, %" PRIu64 "/%" PRIu64 " signaled completions",
	       q->idx, q->stage, q->inflight, q->next_op, q->sig_wcs,
	       q->sig_posted);
	for (s = 0; s <= opt.window; s++) {
		op = &q->ops[s];
		if (!op->active)
			continue;
		n = (size_t)snprintf(line, sizeof(line),
				     "qp %d:   op %u (%s, %" PRIu64 " bytes) waits for",
				     q->idx, op->idx, op_name(op), op->len);
		for (i = 0; i < op->nwr && n < sizeof(line); i++)
			if (!op->wr[i].done)
				n += (size_t)snprintf(line + n, sizeof(line) - n,
						      " %s completion (wr_id %" PRIu64 ", %s)",
						      wr_names[op->wr[i].kind],
						      op->wr[i].seq,
						      op->wr[i].signaled ? "signaled" :
						      "unsignaled");
		if (op->need_result && !op->got_result && n < sizeof(line))
			snprintf(line + n, sizeof(line) - n,
				 " the server's RESULT");
		tr_log("%s", line);
	}
}

int run_client(void)
{
	struct rdma_addrinfo hints, *ai;
	struct timespec deadline;
	struct cqp *qps;
	char dst[96];
	int i, failed = 0, started = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_port_space = RDMA_PS_TCP;
	if (rdma_getaddrinfo(opt.addr, opt.port, &hints, &ai)) {
		fprintf(stderr, "siw_traffic: cannot resolve %s port %s: %s\n",
			opt.addr, opt.port, strerror(errno));
		return 1;
	}
	addr_str(ai->ai_dst_addr, dst, sizeof(dst));
	tr_log("client: %s, %d QPs x %u ops, sizes up to %" PRIu64 ", window %d, seed %" PRIu64 "%s%s",
	       dst, opt.nqps, opt.nops, opt.max_size, opt.window, opt.seed,
	       opt.reuse ? ", reuse" : "",
	       opt.use_inv ? "" : ", no SEND_WITH_INV");

	qps = calloc((size_t)opt.nqps, sizeof(*qps));
	if (!qps) {
		rdma_freeaddrinfo(ai);
		return 1;
	}
	for (i = 0; i < opt.nqps; i++) {
		qps[i].idx = i;
		snprintf(qps[i].ep.who, sizeof(qps[i].ep.who), "qp %d", i);
		qps[i].ai = ai;
		qps[i].stage = "starting";
		if (pthread_create(&qps[i].thr, NULL, qp_thread, &qps[i])) {
			tr_log("qp %d: FAIL: cannot start a thread", i);
			failed = 1;
			break;
		}
		started++;
	}
	/* The alarm (a bit later) is only the backstop for this. */
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += opt.timeout ? opt.timeout : 1000000000;
	for (i = 0; i < started; i++) {
		if (pthread_timedjoin_np(qps[i].thr, NULL, &deadline)) {
			tr_log("client: TIMEOUT: not done after %u s", opt.timeout);
			for (i = 0; i < started; i++)
				if (!qps[i].joined)
					dump_stuck(&qps[i]);
			_exit(2);
		}
		qps[i].joined = true;
		if (qps[i].ep.failed)
			failed = 1;
	}
	tr_log("client: %s (seed %" PRIu64 ")",
	       failed ? "FAILED" : "all QPs verified", opt.seed);
	free(qps);
	rdma_freeaddrinfo(ai);
	return failed;
}
