/*
 * siw_traffic: helpers shared by client and server.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

const char *const op_names[OP_KINDS] = {
	[OP_WRITE] = "write",
	[OP_WREAD] = "wread",
	[OP_READ] = "read",
	[OP_SEND] = "send",
	[OP_SENDINV] = "sendinv",
};

/* --- PRNG and pattern --------------------------------------------------- */

/* The splitmix64 finalizer: every input bit affects every output bit. */
uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

void rng_seed(struct rng *r, uint64_t seed)
{
	r->s = mix64(seed ^ 0x5157a7f1c0ffee11ull);
}

uint64_t rng_next(struct rng *r)
{
	r->s += 0x9e3779b97f4a7c15ull;
	return mix64(r->s);
}

uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

uint64_t pattern_key(uint64_t seed, uint32_t qp, uint64_t op, uint32_t salt)
{
	uint64_t k = mix64(seed + 0x243f6a8885a308d3ull);

	k = mix64(k ^ ((uint64_t)qp << 32 | salt));
	return mix64(k ^ op);
}

static inline uint64_t pattern_word(uint64_t key, uint64_t w)
{
	return mix64(key ^ (w * 0x9e3779b97f4a7c15ull));
}

uint8_t pattern_byte(uint64_t key, uint64_t pos)
{
	return (uint8_t)(pattern_word(key, pos >> 3) >> (8 * (pos & 7)));
}

void pattern_fill(void *dst, uint64_t pos, uint64_t len, uint64_t key)
{
	uint8_t *d = dst;
	uint64_t v;

	while (len && (pos & 7)) {
		*d++ = pattern_byte(key, pos++);
		len--;
	}
	while (len >= 8) {
		v = htole64(pattern_word(key, pos >> 3));
		memcpy(d, &v, 8);
		d += 8;
		pos += 8;
		len -= 8;
	}
	while (len--)
		*d++ = pattern_byte(key, pos++);
}

static void note_bad(struct mismatch *m, uint64_t off, uint8_t expected,
		     uint8_t got, const char *where)
{
	if (!m->count++) {
		m->off = off;
		m->expected = expected;
		m->got = got;
		m->where = where;
	}
}

void pattern_check(const void *buf, uint64_t pos, uint64_t len, uint64_t key,
		   uint64_t rel, struct mismatch *m)
{
	const uint8_t *b = buf;
	uint64_t v, i;
	uint8_t e;

	while (len && (pos & 7)) {
		e = pattern_byte(key, pos);
		if (*b != e)
			note_bad(m, pos - rel, e, *b, "data");
		b++;
		pos++;
		len--;
	}
	while (len >= 8) {
		v = htole64(pattern_word(key, pos >> 3));
		if (memcmp(b, &v, 8)) {
			for (i = 0; i < 8; i++) {
				e = ((const uint8_t *)&v)[i];
				if (b[i] != e)
					note_bad(m, pos + i - rel, e, b[i],
						 "data");
			}
		}
		b += 8;
		pos += 8;
		len -= 8;
	}
	while (len--) {
		e = pattern_byte(key, pos);
		if (*b != e)
			note_bad(m, pos - rel, e, *b, "data");
		b++;
		pos++;
	}
}

void fill_check(const void *buf, uint64_t len, uint8_t value,
		uint64_t off_base, const char *where, struct mismatch *m)
{
	const uint8_t *b = buf;
	uint64_t i;

	for (i = 0; i < len; i++)
		if (b[i] != value)
			note_bad(m, off_base + i, value, b[i], where);
}

void mismatch_str(const struct mismatch *m, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 " bytes differ, first in %s at offset %" PRIu64 ": expected 0x%02x, got 0x%02x",
		 m->count, m->where, m->off, m->expected, m->got);
}

/* --- scatter/gather layouts -------------------------------------------- */

void layout_make(struct layout *l, struct rng *r, uint64_t area,
		 uint64_t len, int max_sge, bool zero_sge_ok)
{
	uint64_t lens[TR_MAX_SGE], rest, cur, pos, room;
	int ord[TR_MAX_SGE], n, i, j, t;

	if (max_sge > TR_MAX_SGE)
		max_sge = TR_MAX_SGE;
	if (max_sge < 1)
		max_sge = 1;
	n = 1 + (int)rng_below(r, max_sge);
	if (len == 0)
		n = zero_sge_ok && rng_below(r, 2) ? 0 : 1;
	else if ((uint64_t)n > len)
		n = (int)len;

	/* Split len into n non-empty pieces, some tiny, then shuffle them. */
	rest = len;
	for (i = 0; i < n - 1; i++) {
		room = rest - (uint64_t)(n - 1 - i);
		if (rng_below(r, 2))
			lens[i] = 1 + rng_below(r, room < 64 ? room : 64);
		else
			lens[i] = 1 + rng_below(r, room);
		rest -= lens[i];
	}
	if (n > 0)
		lens[n - 1] = rest;
	for (i = n - 1; i > 0; i--) {
		j = (int)rng_below(r, (uint64_t)i + 1);
		cur = lens[i];
		lens[i] = lens[j];
		lens[j] = cur;
	}

	/* Memory order of the pieces: a random permutation of SGE order. */
	for (i = 0; i < n; i++)
		ord[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (int)rng_below(r, (uint64_t)i + 1);
		t = ord[i];
		ord[i] = ord[j];
		ord[j] = t;
	}

	l->n = n;
	l->total = len;
	pos = 0;
	for (i = 0; i < n; i++) {
		l->p[i].len = (uint32_t)lens[i];
		l->p[i].pos = pos;
		pos += lens[i];
	}
	if (rng_below(r, 2))
		cur = TR_GUARD_LEN + rng_below(r, TR_PAGE);
	else	/* just below a page boundary: the first piece crosses it */
		cur = TR_PAGE - 1 - rng_below(r, 64);
	for (i = 0; i < n; i++) {
		if (i > 0 && rng_below(r, 2))
			cur += 1 + rng_below(r, 63);
		l->p[ord[i]].off = cur;
		cur += lens[ord[i]];
	}
	if (n == 0)
		l->p[0].off = cur;
	if (cur + TR_GUARD_LEN > area) {
		fprintf(stderr, "siw_traffic: internal error: layout of %llu bytes does not fit %llu\n",
			(unsigned long long)len, (unsigned long long)area);
		abort();
	}
}

void layout_fill_pattern(uint8_t *base, const struct layout *l, uint64_t key,
			 uint64_t pos0)
{
	int i;

	for (i = 0; i < l->n; i++)
		pattern_fill(base + l->p[i].off, pos0 + l->p[i].pos,
			     l->p[i].len, key);
}

void layout_fill(uint8_t *base, const struct layout *l, uint64_t from,
		 uint64_t to, uint8_t value)
{
	uint64_t s, e;
	int i;

	for (i = 0; i < l->n; i++) {
		s = l->p[i].pos;
		e = s + l->p[i].len;
		if (s < from)
			s = from;
		if (e > to)
			e = to;
		if (s < e)
			memset(base + l->p[i].off + (s - l->p[i].pos), value,
			       e - s);
	}
}

void layout_within_page(struct layout *l, const uint8_t *base)
{
	uintptr_t first = (uintptr_t)base + l->p[0].off;
	uintptr_t last = first + l->p[0].len - 1;

	if (l->n == 1 && l->p[0].len && first / TR_PAGE != last / TR_PAGE)
		l->p[0].off += TR_PAGE - first % TR_PAGE;
}

void layout_span(const struct layout *l, uint64_t *lo, uint64_t *hi)
{
	int i;

	*lo = l->p[0].off;
	*hi = l->p[0].off;
	for (i = 0; i < l->n; i++) {
		if (l->p[i].off < *lo)
			*lo = l->p[i].off;
		if (l->p[i].off + l->p[i].len > *hi)
			*hi = l->p[i].off + l->p[i].len;
	}
}

void layout_check(const uint8_t *base, const struct layout *l, uint64_t key,
		  uint64_t pos0, uint64_t nbytes, struct mismatch *m)
{
	const struct piece *p;
	uint64_t s, e;
	int i;

	/* The data, in stream order. */
	for (i = 0; i < l->n; i++) {
		p = &l->p[i];
		s = p->pos;
		e = s + p->len;
		if (e > nbytes)
			e = nbytes;
		if (s < e)
			pattern_check(base + p->off, pos0 + s, e - s, key, pos0,
				      m);
	}
	layout_check_guards(base, l, nbytes, m);
}

void layout_check_guards(const uint8_t *base, const struct layout *l,
			 uint64_t nbytes, struct mismatch *m)
{
	uint64_t s, e, guard_end, prev_end;
	const struct piece *p;
	int ord[TR_MAX_SGE], i, j, t;

	/* Bytes past the data must be untouched. */
	guard_end = nbytes + TR_GUARD_LEN;
	if (guard_end > l->total)
		guard_end = l->total;
	for (i = 0; i < l->n; i++) {
		p = &l->p[i];
		s = p->pos;
		e = s + p->len;
		if (s < nbytes)
			s = nbytes;
		if (e > guard_end)
			e = guard_end;
		if (s < e)
			fill_check(base + p->off + (s - p->pos), e - s,
				   TR_GUARD, p->off + (s - p->pos),
				   "guard after the data (buffer offset)", m);
	}
	/* And so must the gaps between pieces and their surroundings. */
	for (i = 0; i < l->n; i++)
		ord[i] = i;
	for (i = 1; i < l->n; i++)
		for (j = i; j > 0 && l->p[ord[j - 1]].off > l->p[ord[j]].off;
		     j--) {
			t = ord[j];
			ord[j] = ord[j - 1];
			ord[j - 1] = t;
		}
	if (l->n == 0)
		return;
	s = l->p[ord[0]].off - TR_GUARD_LEN;
	fill_check(base + s, TR_GUARD_LEN, TR_GUARD, s,
		   "guard around the buffer (buffer offset)", m);
	prev_end = l->p[ord[0]].off + l->p[ord[0]].len;
	for (i = 1; i < l->n; i++) {
		p = &l->p[ord[i]];
		if (p->off > prev_end)
			fill_check(base + prev_end, p->off - prev_end,
				   TR_GUARD, prev_end,
				   "gap between SGEs (buffer offset)", m);
		prev_end = p->off + p->len;
	}
	fill_check(base + prev_end, TR_GUARD_LEN, TR_GUARD, prev_end,
		   "guard around the buffer (buffer offset)", m);
}

void layout_gather(const uint8_t *base, const struct layout *l, void *dst,
		   uint64_t len)
{
	uint8_t *d = dst;
	uint64_t n;
	int i;

	for (i = 0; i < l->n && len; i++) {
		n = l->p[i].len < len ? l->p[i].len : len;
		memcpy(d, base + l->p[i].off, n);
		d += n;
		len -= n;
	}
}

int layout_sges(const struct layout *l, uint8_t *base, uint32_t lkey,
		struct ibv_sge *sge)
{
	int i;

	for (i = 0; i < l->n; i++) {
		sge[i].addr = (uintptr_t)(base + l->p[i].off);
		sge[i].length = l->p[i].len;
		sge[i].lkey = lkey;
	}
	return l->n;
}

void layout_flip(uint8_t *base, const struct layout *l, uint64_t pos)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (pos >= l->p[i].pos && pos < l->p[i].pos + l->p[i].len)
			base[l->p[i].off + pos - l->p[i].pos] ^= 0x10;
}

uint64_t choose_len(struct rng *r, uint64_t max)
{
	uint64_t len;

	switch (rng_below(r, 10)) {
	case 0:
		len = 0;
		break;
	case 1:
		len = 1;
		break;
	case 2:
		len = 2 + rng_below(r, 62);
		break;
	case 3:
		len = (64 + rng_below(r, 4032)) | 1;
		break;
	case 4:	/* a page multiple, or one byte off */
		len = TR_PAGE * (1 + rng_below(r, 4)) + rng_below(r, 3) - 1;
		break;
	case 5:
		len = 4097 + rng_below(r, 61440);
		break;
	default:
		len = rng_below(r, max + 1);
		break;
	}
	if (len > max)
		len = rng_below(r, max + 1);
	return len;
}

uint64_t choose_off(struct rng *r, uint64_t area, uint64_t len)
{
	uint64_t lo = TR_GUARD_LEN, hi, b, off;

	if (area < len + 2 * TR_GUARD_LEN) {
		fprintf(stderr, "siw_traffic: internal error: %llu bytes do not fit %llu\n",
			(unsigned long long)len, (unsigned long long)area);
		abort();
	}
	hi = area - len - TR_GUARD_LEN;
	b = TR_PAGE * (1 + rng_below(r, area / TR_PAGE));
	switch (rng_below(r, 3)) {
	case 0:
		off = lo + rng_below(r, hi - lo + 1);
		break;
	case 1:	/* start just below a page boundary */
		off = b - 1 - rng_below(r, 64);
		break;
	default:	/* on a page boundary or one past */
		off = b + rng_below(r, 2);
		break;
	}
	if (off < lo)
		off = lo;
	if (off > hi)
		off = hi;
	return off;
}

/* --- completions -------------------------------------------------------- */

int cq_wait(struct cq_waiter *w, struct ibv_wc *wc, int max,
	    const volatile bool *stop)
{
	struct pollfd pfd[2] = {
		{ .fd = w->ch->fd, .events = POLLIN },
		{ .fd = w->other_fd, .events = POLLIN },
	};
	struct ibv_cq *ev_cq;
	void *ev_ctx;
	int n;

	for (;;) {
		n = ibv_poll_cq(w->cq, max, wc);
		if (n < 0) {
			tr_log("ibv_poll_cq failed: %d", n);
			return -1;
		}
		if (n > 0)
			return n;
		if (stop && *stop)
			return 0;
		if (!w->armed) {
			if (ibv_req_notify_cq(w->cq, 0)) {
				tr_log("ibv_req_notify_cq failed: %s",
				       strerror(errno));
				return -1;
			}
			w->armed = true;
			continue;	/* poll once more: no lost wake-up */
		}
		n = poll(pfd, w->other_fd >= 0 ? 2 : 1, 200);
		if (n < 0 && errno != EINTR) {
			tr_log("poll on the completion channel: %s",
			       strerror(errno));
			return -1;
		}
		if (n > 0 && w->other_fd >= 0 && pfd[1].revents)
			return -2;
		if (n > 0 && pfd[0].revents) {
			if (ibv_get_cq_event(w->ch, &ev_cq, &ev_ctx)) {
				tr_log("ibv_get_cq_event failed: %s",
				       strerror(errno));
				return -1;
			}
			ibv_ack_cq_events(ev_cq, 1);
			w->armed = false;
		}
	}
}

/* --- one end of a connection -------------------------------------------- */

void ep_fail(struct endpoint *ep, const char *fmt, ...)
{
	char text[768];
	va_list ap;

	ep->failed = true;
	if (++ep->errors > 5)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	tr_log("%s: FAIL: %s", ep->who, text);
}

int ep_open(struct endpoint *ep, struct ibv_device_attr *da, int cqe,
	    int other_fd)
{
	struct ibv_context *ctx = ep->id->verbs;
	int ret;

	ret = ibv_query_device(ctx, da);
	if (ret) {
		ep_fail(ep, "ibv_query_device: %s", strerror(ret));
		return -1;
	}
	ep->cw.other_fd = other_fd;
	ep->pd = ibv_alloc_pd(ctx);
	ep->cw.ch = ep->pd ? ibv_create_comp_channel(ctx) : NULL;
	if (!ep->cw.ch) {
		ep_fail(ep, "ibv_alloc_pd/ibv_create_comp_channel: %s",
			strerror(errno));
		return -1;
	}
	ep->cw.cq = ibv_create_cq(ctx, cqe, NULL, ep->cw.ch, 0);
	if (!ep->cw.cq) {
		ep_fail(ep, "ibv_create_cq: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int ep_create_qp(struct endpoint *ep, const struct ibv_qp_cap *cap)
{
	struct ibv_qp_init_attr qa;
	uint32_t inl;

	/* As much inline data as the device takes, up to TR_MAX_INLINE. */
	for (inl = TR_MAX_INLINE;; inl = inl > 16 ? inl / 2 : 0) {
		memset(&qa, 0, sizeof(qa));
		qa.send_cq = ep->cw.cq;
		qa.recv_cq = ep->cw.cq;
		qa.qp_type = IBV_QPT_RC;
		qa.cap = *cap;
		qa.cap.max_inline_data = inl;
		if (!rdma_create_qp(ep->id, ep->pd, &qa))
			break;
		if (!inl) {
			ep_fail(ep, "rdma_create_qp: %s", strerror(errno));
			return -1;
		}
	}
	ep->qp = ep->id->qp;
	ep->max_inline = qa.cap.max_inline_data < inl ?
			 qa.cap.max_inline_data : inl;
	return 0;
}

int ep_post_recv(struct endpoint *ep, struct ibv_recv_wr *wr)
{
	struct ibv_recv_wr *bad;
	int ret;

	ret = ibv_post_recv(ep->qp, wr, &bad);
	if (ret) {
		/* Some providers return negative errno values. */
		ep_fail(ep, "ibv_post_recv: %s (%d)", strerror(abs(ret)), ret);
		return -1;
	}
	return 0;
}

int ep_poll(struct endpoint *ep, int max, const volatile bool *stop,
	    wc_handler *on_recv, wc_handler *on_send)
{
	struct ibv_wc wc[TR_MAX_POLL];
	int n, i;

	n = cq_wait(&ep->cw, wc, max, stop);
	if (n == -1)
		ep_fail(ep, "waiting for completions failed");
	for (i = 0; i < n; i++)
		if (wc[i].qp_num != ep->qp->qp_num)
			ep_fail(ep, "completion for QP %u on the CQ of QP %u",
				wc[i].qp_num, ep->qp->qp_num);
		else if (wc[i].wr_id & TR_WRID_RECV)
			on_recv(ep, &wc[i]);
		else
			on_send(ep, &wc[i]);
	return n;
}

int ep_recv_index(struct endpoint *ep, const struct ibv_wc *wc, int nrecv)
{
	uint64_t i = wc->wr_id & ~TR_WRID_RECV;

	if (i >= (uint64_t)nrecv) {
		ep_fail(ep, "receive completion with unknown wr_id 0x%" PRIx64,
			(uint64_t)wc->wr_id);
		return -1;
	}
	return (int)i;
}

void ep_close(struct endpoint *ep)
{
	if (ep->cw.cq)
		ibv_destroy_cq(ep->cw.cq);
	if (ep->cw.ch)
		ibv_destroy_comp_channel(ep->cw.ch);
	if (ep->pd)
		ibv_dealloc_pd(ep->pd);
	if (ep->id)
		rdma_destroy_id(ep->id);
}

/* --- misc --------------------------------------------------------------- */

void msg_init(struct tr_msg *m, enum msg_type type)
{
	memset(m, 0, sizeof(*m));
	m->magic = TR_MAGIC;
	m->type = (uint16_t)type;
}

const char *msg_type_name(unsigned int type)
{
	static const char *const names[] = {
		[MSG_HELLO] = "HELLO", [MSG_INFO] = "INFO",
		[MSG_VERIFY] = "VERIFY", [MSG_DESC] = "DESC",
		[MSG_RESULT] = "RESULT", [MSG_BYE] = "BYE",
		[MSG_BYE_ACK] = "BYE_ACK",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

bool msg_valid(const struct tr_msg *m)
{
	return m->magic == TR_MAGIC && m->type >= MSG_HELLO &&
	       m->type <= MSG_BYE_ACK &&
	       memchr(m->text, 0, sizeof(m->text)) != NULL;
}

void addr_str(const struct sockaddr *sa, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (!sa) {
		snprintf(buf, len, "?");
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, len, "family %d", sa->sa_family);
	}
}

uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

void *alloc_buf(uint64_t len, uint8_t fill)
{
	void *p;

	if (posix_memalign(&p, TR_PAGE, len)) {
		tr_log("cannot allocate %llu bytes", (unsigned long long)len);
		return NULL;
	}
	memset(p, fill, len);
	return p;
}

/* One line to stdout, whole, even with several threads printing. */
void tr_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	flockfile(stdout);
	fputs(line, stdout);
	fputc('\n', stdout);
	fflush(stdout);
	funlockfile(stdout);
}
