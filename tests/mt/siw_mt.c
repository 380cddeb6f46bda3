// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * siw_mt: several threads post and poll on shared queues, and no
 * completion may be lost or seen twice.
 *
 *  siw_mt ADDR PORT [-q QPS] [-t POSTERS] [-p POLLERS] [-n OPS] [-L MAX]
 *         [-E] [-W]
 *
 * One process is both ends. It listens on ADDR:PORT and connects QPS
 * client QPs to it. The client QPs share one send CQ; the server QPs
 * share one SRQ and one receive CQ. Then:
 *  - POSTERS threads each post OPS work requests, in lists of one to
 *    MAX (default 4), to QPs picked in turn, so every SQ is fed by several threads
 *    at once. Each request k has a unique id and its own source,
 *    target and length: a SEND (sometimes inline) carrying k, an RDMA
 *    WRITE (sometimes inline, a quarter unsignaled) of k's pattern into
 *    the server's slot k, or an RDMA READ of the server's slot k. The SQs
 *    are small, so posting often fails with ENOMEM; the poster then
 *    reposts from *bad_wr, which must point into its list. With -E the
 *    error must be the positive errno libibverbs documents; without,
 *    -ENOMEM (what rdma-core 44's siw provider returns) is counted and
 *    taken as ENOMEM. That provider also returns 0 after posting only
 *    part of a list when it rang the doorbell on the way, dropping the
 *    rest unreported: with it, -L 1.
 *    The send CQ has room for the SQs' depth and no more, which the
 *    verbs guarantee to suffice: a request holds its SQ slot until its
 *    completion is polled. rdma-core 44's siw provider frees the slot
 *    when the kernel completes it, earlier, so that posters outpacing
 *    the pollers overflow the CQ; -W makes the posters wait until fewer
 *    than the CQ's size of signaled requests are unpolled, which is what
 *    an application has to do with that provider.
 *  - POLLERS threads poll the shared send CQ with batches of 1 to 16 and
 *    claim each completion's id: an id claimed twice, a completion of an
 *    unsignaled request, a wrong opcode or QP, a bad status, or READ data
 *    that is not the server's pattern is a failure.
 *  - POLLERS more threads poll the shared receive CQ, check the SEND's
 *    bytes, claim its id and repost the receive buffer to the SRQ, from
 *    all of them at once. Senders take a credit per SEND and the
 *    receive pollers return it after reposting, so a SEND never finds
 *    the SRQ empty (iWARP has no RNR retry).
 * Finally each client QP sends one last SEND; the server's receiving it
 * means every WRITE on that QP before it is placed, and every WRITE
 * target is then checked. Every signaled request must have completed
 * exactly once and every SEND arrived exactly once; the CQs must then be
 * empty. Exit status 0 on success, 1 on any failure (first ones
 * printed); SIGALRM ends a run that hangs after 240 s.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define MAX_QPS		16
#define MAX_THREADS	16
#define SLOT		64u		/* bytes per request, each side */
#define SQ_DEPTH	16
#define SRQ_DEPTH	256
#define INLINE_MAX	32u
#define MAX_LIST	4
#define STALL_SECS	30		/* no progress for this long: lost */

enum op { OP_SEND, OP_WRITE, OP_READ };

struct qp_pair {
	struct rdma_cm_id *client;
};

static struct {
	int nqps, nposters, npollers;
	bool strict_errno;		/* -E */
	bool window;			/* -W */
	int max_list;			/* -L */
	uint32_t ops_per_poster;
	uint32_t total;			/* requests, finals excluded */

	struct ibv_pd *pd;
	struct ibv_cq *client_scq, *client_rcq, *server_scq, *server_rcq;
	struct ibv_srq *srq;
	struct qp_pair qp[MAX_QPS];

	uint8_t *src;			/* client: slot k is k's source */
	uint8_t *read_dst;		/* client: slot k gets READ k */
	uint8_t *target;		/* server: WRITE target / READ source */
	uint8_t *rbuf;			/* server: SRQ receive buffers */
	struct ibv_mr *src_mr, *read_mr, *target_mr, *rbuf_mr;

	_Atomic uint8_t *send_seen;	/* completions on the send CQ, per k */
	_Atomic uint8_t *recv_seen;	/* SENDs received, per k */
	_Atomic uint32_t *posted_qp;	/* QP index k went to, + 1 */
	atomic_uint_fast64_t sq_done, recv_done;
	atomic_uint_fast64_t signaled_posted, sends_posted;
	atomic_uint_fast64_t enomem, neg_enomem, reposts;
	atomic_int credits;
	atomic_int unpolled;		/* -W: signaled, completion not polled */
	atomic_int finals_seen;
	atomic_bool stop;
	atomic_int failures;
} g;

static void die(const char *what)
{
	fprintf(stderr, "siw_mt: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Reports a failure; the first few are printed, all are counted. The
 * run stops: after a lost or wrong completion the threads could wait
 * for each other for good.
 */
static void failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failure(const char *fmt, ...)
{
	va_list ap;

	atomic_store(&g.stop, true);
	if (atomic_fetch_add(&g.failures, 1) >= 20)
		return;
	va_start(ap, fmt);
	fputs("siw_mt: FAIL: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Request k's properties are a pure function of k, so every thread agrees. */
static uint32_t mix(uint32_t k)
{
	k ^= k >> 16;
	k *= 0x7feb352du;
	k ^= k >> 15;
	k *= 0x846ca68bu;
	return k ^ (k >> 16);
}

static enum op op_of(uint32_t k)
{
	uint32_t h = mix(k) % 10;

	return h < 4 ? OP_SEND : h < 8 ? OP_WRITE : OP_READ;
}

/* A SEND carries its id in its first 8 bytes. */
static uint32_t len_of(uint32_t k)
{
	uint32_t h = mix(k) >> 8;

	return op_of(k) == OP_SEND ? 8 + h % (SLOT - 7) : 1 + h % SLOT;
}

static bool signaled(uint32_t k)
{
	return op_of(k) != OP_WRITE || (mix(k) >> 20) % 4 != 0;
}

static bool inlined(uint32_t k)
{
	return op_of(k) != OP_READ && len_of(k) <= INLINE_MAX &&
	       (mix(k) >> 24) % 2;
}

static uint8_t pattern(uint32_t k, uint32_t i)
{
	return (uint8_t)(k * 131 + i * 7 + 1);
}

static void fill(uint8_t *p, uint32_t k)
{
	uint32_t i;

	for (i = 0; i < SLOT; i++)
		p[i] = pattern(k, i);
	if (op_of(k) == OP_SEND)
		memcpy(p, &(uint64_t){ k }, sizeof(uint64_t));
}

static bool matches(const uint8_t *p, uint32_t k, uint32_t from, uint32_t len)
{
	uint32_t i;

	for (i = from; i < len; i++)
		if (p[i] != pattern(k, i))
			return false;
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --- posting ------------------------------------------------------------- */

static void take_credit(void)
{
	int c;

	for (;;) {
		c = atomic_load(&g.credits);
		if (c > 0 && atomic_compare_exchange_weak(&g.credits, &c, c - 1))
			return;
		if (atomic_load(&g.stop))
			return;
		sched_yield();
	}
}

/* -W: room in the send CQ for @n more signaled requests. */
static void reserve_cq(int n)
{
	int limit = g.nqps * SQ_DEPTH, c;

	if (!g.window || !n)
		return;
	for (;;) {
		c = atomic_load(&g.unpolled);
		if (c + n <= limit &&
		    atomic_compare_exchange_weak(&g.unpolled, &c, c + n))
			return;
		if (atomic_load(&g.stop))
			return;
		sched_yield();
	}
}

static void build_wr(struct ibv_send_wr *wr, struct ibv_sge *sge, uint32_t k)
{
	enum op op = op_of(k);

	memset(wr, 0, sizeof(*wr));
	wr->wr_id = k;
	wr->sg_list = sge;
	wr->num_sge = 1;
	sge->length = len_of(k);
	if (signaled(k))
		wr->send_flags |= IBV_SEND_SIGNALED;
	if (inlined(k))
		wr->send_flags |= IBV_SEND_INLINE;

	wr->opcode = op == OP_SEND ? IBV_WR_SEND :
		     op == OP_WRITE ? IBV_WR_RDMA_WRITE : IBV_WR_RDMA_READ;
	/* A READ lands in read_dst; everything else goes out of src. */
	if (op == OP_READ) {
		sge->addr = (uintptr_t)(g.read_dst + (size_t)k * SLOT);
		sge->lkey = g.read_mr->lkey;
	} else {
		sge->addr = (uintptr_t)(g.src + (size_t)k * SLOT);
		sge->lkey = g.src_mr->lkey;
	}
	if (op != OP_SEND) {
		wr->wr.rdma.remote_addr = (uintptr_t)(g.target + (size_t)k * SLOT);
		wr->wr.rdma.rkey = g.target_mr->rkey;
	}
}

/*
 * Posts the list wr[0..n-1] to QP q until all of it is queued. On ENOMEM
 * the part from *bad_wr on is posted again once the pollers made room.
 */
static void post_list(int q, struct ibv_send_wr *wr, int n)
{
	struct ibv_qp *qp = g.qp[q].client->qp;
	struct ibv_send_wr *next = wr, *bad;
	int rv, i, at;

	while (next && !atomic_load(&g.stop)) {
		bad = NULL;
		rv = ibv_post_send(qp, next, &bad);
		if (!rv)
			return;
		for (at = -1, i = 0; i < n; i++)
			if (bad == &wr[i])
				at = i;
		/* rdma-core 44's siw provider returns -ENOMEM. */
		if (rv == -ENOMEM) {
			atomic_fetch_add(&g.neg_enomem, 1);
			if (!g.strict_errno)
				rv = ENOMEM;
		}
		if (rv != ENOMEM) {
			failure("post_send on QP %d returned %d (%s)", q, rv,
				strerror(rv < 0 ? -rv : rv));
			atomic_store(&g.stop, true);
			return;
		}
		if (at < 0 || bad < next) {
			failure("post_send on QP %d: ENOMEM with bad_wr %s", q,
				at < 0 ? "outside the list" : "before the first unposted");
			atomic_store(&g.stop, true);
			return;
		}
		atomic_fetch_add(&g.enomem, 1);
		if (bad != next)
			atomic_fetch_add(&g.reposts, 1);
		next = bad;
		sched_yield();
	}
}

static void *poster(void *arg)
{
	uint32_t t = (uint32_t)(uintptr_t)arg;
	uint32_t first = t * g.ops_per_poster, end = first + g.ops_per_poster;
	struct ibv_send_wr wr[MAX_LIST];
	struct ibv_sge sge[MAX_LIST];
	uint32_t k = first, turn = t;
	int n, i, q, nsig;

	while (k < end && !atomic_load(&g.stop)) {
		n = 1 + mix(k ^ 0x5a5a5a5a) % g.max_list;
		if ((uint32_t)n > end - k)
			n = end - k;
		q = turn++ % g.nqps;
		for (nsig = 0, i = 0; i < n; i++)
			nsig += signaled(k + i);
		reserve_cq(nsig);
		for (i = 0; i < n; i++) {
			build_wr(&wr[i], &sge[i], k + i);
			wr[i].next = i + 1 < n ? &wr[i + 1] : NULL;
			if (op_of(k + i) == OP_SEND) {
				take_credit();
				atomic_fetch_add(&g.sends_posted, 1);
			}
			if (signaled(k + i))
				atomic_fetch_add(&g.signaled_posted, 1);
			atomic_store_explicit(&g.posted_qp[k + i], q + 1,
					      memory_order_relaxed);
		}
		post_list(q, wr, n);
		k += n;
	}
	return NULL;
}

/* --- polling ------------------------------------------------------------ */

static enum ibv_wc_opcode wc_opcode_of(uint32_t k)
{
	switch (op_of(k)) {
	case OP_SEND:
		return IBV_WC_SEND;
	case OP_WRITE:
		return IBV_WC_RDMA_WRITE;
	default:
		return IBV_WC_RDMA_READ;
	}
}

static void check_send_wc(const struct ibv_wc *wc)
{
	uint64_t k = wc->wr_id;
	uint32_t q;

	if (wc->status != IBV_WC_SUCCESS) {
		failure("send CQ: id %llu: status %s", (unsigned long long)k,
			ibv_wc_status_str(wc->status));
		return;
	}
	if (k >= g.total) {
		/* A final SEND, or a stall probe (diagnose_stall()). */
		if (k - g.total >= 2 * (uint64_t)g.nqps)
			failure("send CQ: unknown id %llu", (unsigned long long)k);
		return;
	}
	if (atomic_exchange(&g.send_seen[k], 1))
		failure("send CQ: id %llu completed twice", (unsigned long long)k);
	if (!signaled(k))
		failure("send CQ: id %llu was not signaled", (unsigned long long)k);
	if (wc->opcode != wc_opcode_of(k))
		failure("send CQ: id %llu: opcode %d, not %d", (unsigned long long)k,
			wc->opcode, wc_opcode_of(k));
	q = atomic_load_explicit(&g.posted_qp[k], memory_order_relaxed);
	if (!q || wc->qp_num != g.qp[q - 1].client->qp->qp_num)
		failure("send CQ: id %llu: QP %u, posted to %u", (unsigned long long)k,
			wc->qp_num, q ? g.qp[q - 1].client->qp->qp_num : 0);
	if (op_of(k) == OP_READ &&
	    !matches(g.read_dst + k * SLOT, (uint32_t)k, 0, len_of(k)))
		failure("READ %llu brought wrong data", (unsigned long long)k);
}

static void post_srq(uint64_t buf)
{
	struct ibv_sge sge = {
		.addr = (uintptr_t)(g.rbuf + buf * SLOT),
		.length = SLOT,
		.lkey = g.rbuf_mr->lkey,
	};
	struct ibv_recv_wr wr = { .wr_id = buf, .sg_list = &sge, .num_sge = 1 };
	struct ibv_recv_wr *bad;
	int rv = ibv_post_srq_recv(g.srq, &wr, &bad);

	if (rv) {
		failure("post_srq_recv: %s", strerror(rv));
		atomic_store(&g.stop, true);
	}
}

static void check_recv_wc(const struct ibv_wc *wc)
{
	const uint8_t *p;
	uint64_t k;

	if (wc->status != IBV_WC_SUCCESS || wc->opcode != IBV_WC_RECV ||
	    wc->wr_id >= SRQ_DEPTH) {
		failure("receive CQ: status %s, opcode %d, id %llu",
			ibv_wc_status_str(wc->status), wc->opcode,
			(unsigned long long)wc->wr_id);
		return;
	}
	p = g.rbuf + wc->wr_id * SLOT;
	memcpy(&k, p, sizeof(k));
	if (k >= g.total + (uint64_t)g.nqps) {
		failure("received a SEND with unknown id %llu", (unsigned long long)k);
	} else if (k >= g.total) {
		if (wc->byte_len != 8)
			failure("final SEND of %u bytes", wc->byte_len);
		atomic_fetch_add(&g.finals_seen, 1);
	} else if (op_of(k) != OP_SEND || wc->byte_len != len_of(k) ||
		   !matches(p, (uint32_t)k, 8, wc->byte_len)) {
		failure("SEND %llu: %u bytes or contents wrong", (unsigned long long)k,
			wc->byte_len);
	} else if (atomic_exchange(&g.recv_seen[k], 1)) {
		failure("SEND %llu received twice", (unsigned long long)k);
	}
	post_srq(wc->wr_id);
	atomic_fetch_add(&g.credits, 1);
}

struct poller_arg {
	struct ibv_cq *cq;
	bool recv;
	unsigned int seed;
};

static void *poller(void *arg)
{
	struct poller_arg *pa = arg;
	struct ibv_wc wc[16];
	int n, i;

	while (!atomic_load(&g.stop)) {
		n = ibv_poll_cq(pa->cq, 1 + rand_r(&pa->seed) % 16, wc);
		if (n < 0) {
			failure("poll_cq: %d", n);
			atomic_store(&g.stop, true);
			break;
		}
		if (!n) {
			sched_yield();
			continue;
		}
		for (i = 0; i < n; i++) {
			if (pa->recv)
				check_recv_wc(&wc[i]);
			else
				check_send_wc(&wc[i]);
		}
		atomic_fetch_add(pa->recv ? &g.recv_done : &g.sq_done, n);
		if (!pa->recv && g.window)
			atomic_fetch_sub(&g.unpolled, n);
	}
	return NULL;
}

/* --- connections -------------------------------------------------------- */

static struct ibv_qp_init_attr qp_attr(bool server)
{
	struct ibv_qp_init_attr a = {
		.qp_type = IBV_QPT_RC,
		.cap = {
			.max_send_wr = SQ_DEPTH,
			.max_recv_wr = 1,
			.max_send_sge = 1,
			.max_recv_sge = 1,
			.max_inline_data = INLINE_MAX,
		},
	};

	if (server) {
		a.send_cq = g.server_scq;
		a.recv_cq = g.server_rcq;
		a.srq = g.srq;
	} else {
		a.send_cq = g.client_scq;
		a.recv_cq = g.client_rcq;
	}
	return a;
}

static struct ibv_mr *reg(void *p, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(g.pd, p, len, access);

	if (!mr)
		die("ibv_reg_mr");
	return mr;
}

static void *zalloc(size_t len)
{
	void *p = aligned_alloc(4096, (len + 4095) & ~(size_t)4095);

	if (!p)
		die("aligned_alloc");
	memset(p, 0, len);
	return p;
}

/* Device-wide objects, once the listener is bound to the device. */
static void setup_device(struct ibv_context *ctx)
{
	size_t len = (size_t)g.total * SLOT;
	struct ibv_srq_init_attr sa = {
		.attr = { .max_wr = SRQ_DEPTH, .max_sge = 1 },
	};
	uint32_t k;

	g.pd = ibv_alloc_pd(ctx);
	if (!g.pd)
		die("ibv_alloc_pd");
	g.client_scq = ibv_create_cq(ctx, g.nqps * SQ_DEPTH, NULL, NULL, 0);
	g.client_rcq = ibv_create_cq(ctx, g.nqps, NULL, NULL, 0);
	g.server_scq = ibv_create_cq(ctx, g.nqps, NULL, NULL, 0);
	g.server_rcq = ibv_create_cq(ctx, SRQ_DEPTH, NULL, NULL, 0);
	if (!g.client_scq || !g.client_rcq || !g.server_scq || !g.server_rcq)
		die("ibv_create_cq");
	g.srq = ibv_create_srq(g.pd, &sa);
	if (!g.srq)
		die("ibv_create_srq");

	g.src = zalloc(len);
	g.read_dst = zalloc(len);
	g.target = zalloc(len);
	g.rbuf = zalloc((size_t)SRQ_DEPTH * SLOT);
	for (k = 0; k < g.total; k++) {
		if (op_of(k) == OP_READ)
			fill(g.target + (size_t)k * SLOT, k);
		else
			fill(g.src + (size_t)k * SLOT, k);
	}
	g.src_mr = reg(g.src, len, 0);
	g.read_mr = reg(g.read_dst, len, IBV_ACCESS_LOCAL_WRITE);
	g.target_mr = reg(g.target, len, IBV_ACCESS_LOCAL_WRITE |
			  IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
	g.rbuf_mr = reg(g.rbuf, (size_t)SRQ_DEPTH * SLOT, IBV_ACCESS_LOCAL_WRITE);
	for (k = 0; k < SRQ_DEPTH; k++)
		post_srq(k);
	atomic_store(&g.credits, SRQ_DEPTH);
}

/*
 * One event channel serves the listener and every client id; the loop
 * ends when all QPS pairs are established.
 */
static void connect_all(const char *addr, const char *port)
{
	struct rdma_event_channel *ch = rdma_create_event_channel();
	struct rdma_addrinfo hints = { .ai_port_space = RDMA_PS_TCP }, *res;
	struct rdma_conn_param cp = { .responder_resources = 4, .initiator_depth = 4 };
	struct ibv_qp_init_attr qa;
	struct rdma_cm_event *ev;
	struct rdma_cm_id *listen_id;
	int up = 0, i;

	if (!ch)
		die("rdma_create_event_channel");
	hints.ai_flags = RAI_PASSIVE;
	if (rdma_getaddrinfo(addr, port, &hints, &res))
		die("rdma_getaddrinfo");
	if (rdma_create_id(ch, &listen_id, NULL, RDMA_PS_TCP) ||
	    rdma_bind_addr(listen_id, res->ai_src_addr) || rdma_listen(listen_id, 16))
		die("listen");
	if (!listen_id->verbs) {
		errno = ENODEV;
		die("the address is on no RDMA device");
	}
	setup_device(listen_id->verbs);

	for (i = 0; i < g.nqps; i++) {
		if (rdma_create_id(ch, &g.qp[i].client, &g.qp[i], RDMA_PS_TCP) ||
		    rdma_resolve_addr(g.qp[i].client, NULL, res->ai_src_addr, 5000))
			die("rdma_resolve_addr");
	}

	while (up < 2 * g.nqps) {
		if (rdma_get_cm_event(ch, &ev))
			die("rdma_get_cm_event");
		switch (ev->event) {
		case RDMA_CM_EVENT_ADDR_RESOLVED:
			if (rdma_resolve_route(ev->id, 5000))
				die("rdma_resolve_route");
			break;
		case RDMA_CM_EVENT_ROUTE_RESOLVED:
			qa = qp_attr(false);
			if (ev->id->verbs != listen_id->verbs) {
				errno = EXDEV;
				die("client and server ended up on different devices");
			}
			if (rdma_create_qp(ev->id, g.pd, &qa) || rdma_connect(ev->id, &cp))
				die("client QP");
			break;
		case RDMA_CM_EVENT_CONNECT_REQUEST:
			qa = qp_attr(true);
			if (rdma_create_qp(ev->id, g.pd, &qa) || rdma_accept(ev->id, &cp))
				die("server QP");
			break;
		case RDMA_CM_EVENT_ESTABLISHED:
			up++;
			break;
		default:
			fprintf(stderr, "siw_mt: unexpected %s (status %d)\n",
				rdma_event_str(ev->event), ev->status);
			exit(1);
		}
		rdma_ack_cm_event(ev);
	}
	rdma_freeaddrinfo(res);
}

/* --- the run ---------------------------------------------------------------- */

/* Waits until *done reaches want; false after STALL_SECS without progress. */
static bool await_count(atomic_uint_fast64_t *done, uint64_t want)
{
	uint64_t last = atomic_load(done), since = now_ms(), d;

	while ((d = atomic_load(done)) < want) {
		if (d != last) {
			last = d;
			since = now_ms();
		} else if (now_ms() - since > STALL_SECS * 1000) {
			return false;
		}
		if (atomic_load(&g.stop))
			return false;
		usleep(1000);
	}
	return true;
}

/* One last SEND per client QP: behind it, all of that QP's WRITEs are placed. */
static void post_finals(void)
{
	struct ibv_send_wr wr, *bad;
	struct ibv_sge sge;
	uint64_t *ids = zalloc((size_t)g.nqps * sizeof(*ids));
	struct ibv_mr *mr = reg(ids, (size_t)g.nqps * sizeof(*ids), 0);
	int q, rv;

	for (q = 0; q < g.nqps; q++) {
		ids[q] = g.total + q;
		sge = (struct ibv_sge){ .addr = (uintptr_t)&ids[q], .length = 8,
					.lkey = mr->lkey };
		wr = (struct ibv_send_wr){ .wr_id = g.total + q, .sg_list = &sge,
					   .num_sge = 1, .opcode = IBV_WR_SEND,
					   .send_flags = IBV_SEND_SIGNALED };
		take_credit();
		reserve_cq(1);
		while ((rv = ibv_post_send(g.qp[q].client->qp, &wr, &bad)) == ENOMEM ||
		       rv == -ENOMEM)
			sched_yield();
		if (rv) {
			failure("final SEND on QP %d: %s", q, strerror(rv));
			atomic_store(&g.stop, true);
		}
	}
}

/*
 * The send CQ stopped short. Says per QP how many completions are
 * missing and what state it is in, then posts a zero-length WRITE to
 * each such QP: if completions resume, the QP had work it did not know
 * about (a doorbell lost between provider and kernel), otherwise the
 * kernel is stuck on the work it has.
 */
static void diagnose_stall(void)
{
	uint64_t before = atomic_load(&g.sq_done);
	struct ibv_qp_init_attr init;
	struct ibv_qp_attr attr;
	struct ibv_send_wr wr, *bad;
	uint32_t k, missing[MAX_QPS] = { 0 };
	int q;

	for (k = 0; k < g.total; k++)
		if (signaled(k) && !atomic_load(&g.send_seen[k]) && g.posted_qp[k])
			missing[g.posted_qp[k] - 1]++;
	for (q = 0; q < g.nqps; q++) {
		if (!missing[q])
			continue;
		attr.qp_state = IBV_QPS_RESET;
		ibv_query_qp(g.qp[q].client->qp, &attr, IBV_QP_STATE, &init);
		wr = (struct ibv_send_wr){ .wr_id = g.total + g.nqps + q,
					   .opcode = IBV_WR_RDMA_WRITE,
					   .send_flags = IBV_SEND_SIGNALED };
		wr.wr.rdma.remote_addr = (uintptr_t)g.target;
		wr.wr.rdma.rkey = g.target_mr->rkey;
		fprintf(stderr, "siw_mt: QP %d (%u): %u completions missing, "
			"state %d; probe WRITE posted: %d\n", q,
			g.qp[q].client->qp->qp_num, missing[q], attr.qp_state,
			ibv_post_send(g.qp[q].client->qp, &wr, &bad));
	}
	sleep(5);
	fprintf(stderr, "siw_mt: %llu completions in the 5 s after the probes\n",
		(unsigned long long)(atomic_load(&g.sq_done) - before));
}

/* After the run: every request accounted for exactly as it should be. */
static void verify_all(void)
{
	uint64_t lost_c = 0, lost_r = 0;
	uint32_t k;

	for (k = 0; k < g.total; k++) {
		/* Requests a stopped run never posted are nobody's loss. */
		if (!atomic_load(&g.posted_qp[k]))
			continue;
		if (signaled(k) && !atomic_load(&g.send_seen[k]) && lost_c++ < 5)
			failure("request %u (%s) never completed", k,
				op_of(k) == OP_SEND ? "SEND" :
				op_of(k) == OP_WRITE ? "WRITE" : "READ");
		if (op_of(k) == OP_SEND && !atomic_load(&g.recv_seen[k]) && lost_r++ < 5)
			failure("SEND %u never arrived", k);
		if (op_of(k) == OP_WRITE &&
		    !matches(g.target + (size_t)k * SLOT, k, 0, len_of(k)))
			failure("WRITE %u: target slot holds wrong data", k);
	}
	if (lost_c || lost_r)
		failure("%llu completions and %llu SENDs lost in all",
			(unsigned long long)lost_c, (unsigned long long)lost_r);
}

static void usage(void)
{
	fprintf(stderr, "usage: siw_mt ADDR PORT [-q QPS] [-t POSTERS] "
		"[-p POLLERS] [-n OPS] [-L MAX] [-E] [-W]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	pthread_t posters[MAX_THREADS], pollers[2 * MAX_THREADS];
	struct poller_arg pargs[2 * MAX_THREADS];
	struct ibv_wc wc;
	uint64_t t0;
	int opt, i;

	g.nqps = 4;
	g.nposters = 4;
	g.npollers = 3;
	g.ops_per_poster = 20000;
	g.max_list = MAX_LIST;
	while ((opt = getopt(argc, argv, "q:t:p:n:L:EW")) != -1) {
		switch (opt) {
		case 'q': g.nqps = atoi(optarg); break;
		case 't': g.nposters = atoi(optarg); break;
		case 'p': g.npollers = atoi(optarg); break;
		case 'n': g.ops_per_poster = strtoul(optarg, NULL, 0); break;
		case 'L': g.max_list = atoi(optarg); break;
		case 'E': g.strict_errno = true; break;
		case 'W': g.window = true; break;
		default: usage();
		}
	}
	if (argc - optind != 2 || g.nqps < 1 || g.nqps > MAX_QPS ||
	    g.nposters < 1 || g.nposters > MAX_THREADS ||
	    g.npollers < 1 || g.npollers > MAX_THREADS ||
	    g.max_list < 1 || g.max_list > MAX_LIST || !g.ops_per_poster ||
	    g.ops_per_poster > (1u << 24) / g.nposters)
		usage();
	g.total = g.ops_per_poster * g.nposters;
	g.send_seen = zalloc(g.total);
	g.recv_seen = zalloc(g.total);
	g.posted_qp = zalloc((size_t)g.total * sizeof(*g.posted_qp));
	alarm(240);

	connect_all(argv[optind], argv[optind + 1]);
	printf("siw_mt: %d QPs up; %d posters x %u requests, %d pollers per CQ\n",
	       g.nqps, g.nposters, g.ops_per_poster, g.npollers);
	fflush(stdout);

	t0 = now_ms();
	for (i = 0; i < 2 * g.npollers; i++) {
		pargs[i].recv = i >= g.npollers;
		pargs[i].cq = pargs[i].recv ? g.server_rcq : g.client_scq;
		pargs[i].seed = i + 1;
		if (pthread_create(&pollers[i], NULL, poller, &pargs[i]))
			die("pthread_create");
	}
	for (i = 0; i < g.nposters; i++)
		if (pthread_create(&posters[i], NULL, poster, (void *)(uintptr_t)i))
			die("pthread_create");
	for (i = 0; i < g.nposters; i++)
		pthread_join(posters[i], NULL);
	post_finals();

	/* A failure stops the run at once; only a stall is reported here. */
	if (!await_count(&g.sq_done, atomic_load(&g.signaled_posted) + g.nqps) &&
	    !atomic_load(&g.stop)) {
		diagnose_stall();
		failure("send CQ: %llu of %llu completions, none for %d s",
			(unsigned long long)atomic_load(&g.sq_done),
			(unsigned long long)atomic_load(&g.signaled_posted) + g.nqps,
			STALL_SECS);
	}
	if (!await_count(&g.recv_done, atomic_load(&g.sends_posted) + g.nqps) &&
	    !atomic_load(&g.stop))
		failure("receive CQ: %llu of %llu SENDs, none for %d s",
			(unsigned long long)atomic_load(&g.recv_done),
			(unsigned long long)atomic_load(&g.sends_posted) + g.nqps,
			STALL_SECS);
	atomic_store(&g.stop, true);
	for (i = 0; i < 2 * g.npollers; i++)
		pthread_join(pollers[i], NULL);

	if (atomic_load(&g.finals_seen) != g.nqps)
		failure("%d of %d final SENDs arrived", atomic_load(&g.finals_seen),
			g.nqps);
	verify_all();
	/* Anything left now would be a completion produced twice. */
	if (ibv_poll_cq(g.client_scq, 1, &wc) || ibv_poll_cq(g.server_rcq, 1, &wc) ||
	    ibv_poll_cq(g.client_rcq, 1, &wc) || ibv_poll_cq(g.server_scq, 1, &wc))
		failure("a CQ holds a completion after all were accounted for");

	printf("siw_mt: %u requests (%llu signaled, %llu SENDs) in %.1f s; "
	       "ENOMEM %llu times, %llu lists reposted from bad_wr\n",
	       g.total, (unsigned long long)atomic_load(&g.signaled_posted),
	       (unsigned long long)atomic_load(&g.sends_posted),
	       (now_ms() - t0) / 1000.0, (unsigned long long)atomic_load(&g.enomem),
	       (unsigned long long)atomic_load(&g.reposts));
	if (atomic_load(&g.neg_enomem))
		printf("siw_mt: the provider returned -ENOMEM, a negative errno, "
		       "%llu times\n", (unsigned long long)atomic_load(&g.neg_enomem));
	if (!atomic_load(&g.enomem))
		failure("no post ever found its SQ full: the full-queue path went untested");
	if (atomic_load(&g.failures)) {
		printf("siw_mt: %d failures\n", atomic_load(&g.failures));
		return 1;
	}
	printf("siw_mt: every completion seen exactly once, all data verified\n");
	return 0;
}
