/*
 * siw_traffic: verifying RDMA traffic test over librdmacm and libibverbs.
 *
 * Shared declarations of the client (client.c), the server (server.c) and
 * the helpers both use (common.c): options, the control message format,
 * the byte pattern, scatter/gather layouts, completion waiting and what
 * both ends keep of a connection.
 */
#ifndef TRAFFIC_H
#define TRAFFIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define TR_MAGIC	0x54574953u	/* "SIWT" */
#define TR_VERSION	1
#define TR_PAGE		4096u
#define TR_MAX_SGE	8		/* most SGEs any work request uses */
#define TR_MAX_SPARE	16		/* spare MRs for SEND_WITH_INV */
#define TR_NSPARE	8		/* spare MRs a server offers */
#define TR_SPARE_SIZE	4096u
#define TR_MAX_WINDOW	64
#define TR_MAX_QPS	1024
#define TR_MAX_SIZE	(64ull << 20)
#define TR_GUARD	0xeeu		/* unused buffer bytes */
#define TR_REUSE_FILL	0xa5u		/* what --reuse overwrites with */
/* The in-tree siw's MAX_HDR_INLINE: what it sends via siw_try_1seg(). */
#define TR_INTREE_1SEG_MAX 32u
#define TR_GUARD_LEN	64u		/* guard bytes checked around data */
#define TR_MAX_INLINE	256u		/* largest inline size requested */
#define TR_MAX_POLL	32		/* most completions polled at once */

/* Receive wr_ids carry this bit, send wr_ids never do. */
#define TR_WRID_RECV	(1ull << 63)

enum op_kind {
	OP_WRITE,	/* RDMA WRITE, server verifies on request */
	OP_WREAD,	/* RDMA WRITE, then RDMA READ back and compare */
	OP_READ,	/* RDMA READ of the server's read area */
	OP_SEND,	/* SEND, server verifies */
	OP_SENDINV,	/* SEND_WITH_INV naming a spare MR of the server */
	OP_KINDS
};

extern const char *const op_names[OP_KINDS];

struct options {
	bool server;
	bool keep_serving;		/* -S */
	const char *addr;		/* -c */
	const char *bind_addr;		/* -b */
	const char *port;		/* -p */
	int nqps;			/* -q */
	int window;			/* -w */
	uint32_t nops;			/* -n */
	uint64_t max_size;		/* -m */
	uint64_t seed;			/* -r */
	bool reuse;			/* -R, --reuse */
	bool use_inv;			/* -I 0|1 */
	bool verbose;			/* -v */
	unsigned int timeout;		/* -t, 0 = none */
	unsigned int op_mask;		/* -O */
	unsigned int sig_every;		/* -k */
	int64_t inject_flip;		/* --inject flip=N, -1 = off */
	bool inject_early_reuse;	/* --inject early-reuse */
	bool avoid_intree_1seg;		/* --avoid intree-1seg */
	int backlog;			/* --backlog */
	unsigned int accept_delay_ms;	/* --accept-delay */
	unsigned int linger;		/* --linger, seconds */
};

extern struct options opt;

/*
 * Connection request private data (client to server): enough for the
 * server to size its buffers and post its receives before it accepts.
 * It must fit into the 56 bytes rdma_cm leaves on InfiniBand/RoCE.
 */
struct tr_cpriv {
	uint32_t magic;
	uint16_t version;
	uint16_t qp;		/* index of this QP in the client's run */
	uint32_t nqps;		/* QPs of the run */
	uint32_t window;
	uint64_t max_size;
};

enum msg_type {
	MSG_HELLO = 1,	/* c->s: run parameters */
	MSG_INFO,	/* s->c: buffer address, rkeys, layout */
	MSG_VERIFY,	/* c->s: check a region the client wrote */
	MSG_DESC,	/* c->s: the next receive is a data SEND like this */
	MSG_RESULT,	/* s->c: outcome of a VERIFY or a data SEND */
	MSG_BYE,	/* c->s: done, with the client's counts */
	MSG_BYE_ACK,	/* s->c: the server's counts */
};

#define MSGF_REUSE	1u	/* HELLO: client runs with --reuse */
#define MSGF_INV	2u	/* DESC: data comes as SEND_WITH_INV */

/*
 * Every control message has this one size, so receivers check byte_len
 * exactly. Both ends are this program on the same architecture, so the
 * fields are in host byte order; the magic catches anything else.
 *
 *   HELLO:   op = QP index, key = seed, len = max_size, v[0] = nqps,
 *            v[1] = window, v[2] = ops, v[3] = op to corrupt + 1 (0 none)
 *   INFO:    addr/rkey/len = server buffer, v[0] = slot size, v[1] =
 *            read area offset, v[2] = read area length, key = read area
 *            pattern key, spare_idx = number of spares, spare_rkey[]
 *   VERIFY:  op, key, off (in server buffer), len
 *   DESC:    op, key, len, flags (MSGF_INV), rkey (to be invalidated),
 *            spare_idx
 *   RESULT:  op, status (0 = good), off (first bad byte), len (bad
 *            bytes), expected, got, text; after an invalidation
 *            spare_idx and rkey give the spare's new rkey
 *   BYE/BYE_ACK: v[0] = VERIFYs, v[1] = data SENDs, v[2] = of those
 *            with invalidate, v[3] = bytes the server verified
 */
struct tr_msg {
	uint32_t magic;
	uint16_t type;
	uint16_t flags;
	uint32_t op;
	uint32_t status;
	uint64_t key;
	uint64_t addr;
	uint64_t off;
	uint64_t len;
	uint64_t v[4];
	uint32_t rkey;
	uint32_t spare_idx;
	uint32_t expected;
	uint32_t got;
	uint32_t spare_rkey[TR_MAX_SPARE];
	char text[120];
};

/* --- PRNG and pattern --------------------------------------------------- */

struct rng {
	uint64_t s;
};

uint64_t mix64(uint64_t x);
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);	/* 0..n-1, n > 0 */

/* Pattern key of one op: depends on everything that identifies it. */
uint64_t pattern_key(uint64_t seed, uint32_t qp, uint64_t op, uint32_t salt);

/* Byte pos of the endless pattern stream of key. */
uint8_t pattern_byte(uint64_t key, uint64_t pos);
void pattern_fill(void *dst, uint64_t pos, uint64_t len, uint64_t key);

/* Where a comparison first went wrong. */
struct mismatch {
	uint64_t count;		/* bytes that differ (0: all good) */
	uint64_t off;		/* first of them: stream or buffer offset */
	uint8_t expected;
	uint8_t got;
	const char *where;	/* "data", "guard", ... */
};

/*
 * Compare len bytes at buf with the stream of key from pos and add to m;
 * offsets are reported as stream position - rel.
 */
void pattern_check(const void *buf, uint64_t pos, uint64_t len, uint64_t key,
		   uint64_t rel, struct mismatch *m);
/* Compare len bytes at buf with value; off_base names buf in reports. */
void fill_check(const void *buf, uint64_t len, uint8_t value,
		uint64_t off_base, const char *where, struct mismatch *m);
/* "N bytes differ, first in ..." of a comparison that found some. */
void mismatch_str(const struct mismatch *m, char *buf, size_t len);

/* --- scatter/gather layouts -------------------------------------------- */

/*
 * A message scattered over up to TR_MAX_SGE pieces of one area: piece i
 * carries stream bytes [pos, pos + len) at area offset off. Pieces lie in
 * the area in a random order with random gaps, at least TR_GUARD_LEN
 * bytes from its ends.
 */
struct piece {
	uint64_t off;
	uint64_t pos;
	uint32_t len;
};

struct layout {
	int n;
	uint64_t total;
	struct piece p[TR_MAX_SGE];
};

/* Room an area needs beyond the message for any layout. */
#define TR_LAYOUT_SLACK	(2 * TR_PAGE + TR_MAX_SGE * 64 + 2 * TR_GUARD_LEN)

void layout_make(struct layout *l, struct rng *r, uint64_t area,
		 uint64_t len, int max_sge, bool zero_sge_ok);
void layout_fill_pattern(uint8_t *base, const struct layout *l, uint64_t key,
			 uint64_t pos0);
/* Set stream bytes [from, to) of the layout to value. */
void layout_fill(uint8_t *base, const struct layout *l, uint64_t from,
		 uint64_t to, uint8_t value);
/*
 * Check a layout after data was placed into it: stream bytes [0, nbytes)
 * must be the pattern of key from pos0, the next up to TR_GUARD_LEN stream
 * bytes, the gaps between pieces and TR_GUARD_LEN bytes around them
 * TR_GUARD.
 */
void layout_check(const uint8_t *base, const struct layout *l, uint64_t key,
		  uint64_t pos0, uint64_t nbytes, struct mismatch *m);
/* Just the guard part of layout_check. */
void layout_check_guards(const uint8_t *base, const struct layout *l,
			 uint64_t nbytes, struct mismatch *m);
/*
 * Move a layout of one piece that crosses a page of base to the start of
 * the next page (a layout of one piece starts at most a page in, so it
 * still fits its area); others are left as they are.
 */
void layout_within_page(struct layout *l, const uint8_t *base);
/* Lowest and highest area offset the layout's pieces use. */
void layout_span(const struct layout *l, uint64_t *lo, uint64_t *hi);
/* Copy stream bytes [0, len) out of the layout. */
void layout_gather(const uint8_t *base, const struct layout *l, void *dst,
		   uint64_t len);
int layout_sges(const struct layout *l, uint8_t *base, uint32_t lkey,
		struct ibv_sge *sge);
/* --inject flip: corrupt stream byte pos of the layout. */
void layout_flip(uint8_t *base, const struct layout *l, uint64_t pos);

/* A random length for an op: 0, 1, odd, page sized, large, ... */
uint64_t choose_len(struct rng *r, uint64_t max);
/* A random offset for len bytes in an area, often near a page end. */
uint64_t choose_off(struct rng *r, uint64_t area, uint64_t len);

/* --- completions -------------------------------------------------------- */

struct cq_waiter {
	struct ibv_comp_channel *ch;
	struct ibv_cq *cq;
	bool armed;
	int other_fd;		/* also wake up for this fd, if >= 0 */
};

/*
 * Poll up to max completions, sleeping on the channel while there are
 * none. Returns the number (> 0), 0 when *stop became true, -1 on error,
 * -2 when other_fd became readable.
 */
int cq_wait(struct cq_waiter *w, struct ibv_wc *wc, int max,
	    const volatile bool *stop);

/* --- one end of a connection -------------------------------------------- */

/*
 * What the client's and the server's view of a connection have in common:
 * its verbs resources and its failures, all of which are counted and the
 * first few printed.
 */
struct endpoint {
	char who[128];		/* log prefix: "qp 3", "server qp 3 (peer)" */
	bool failed;
	int errors;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct cq_waiter cw;
	struct ibv_qp *qp;
	uint32_t max_inline;
};

void ep_fail(struct endpoint *ep, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Query the device of ep->id, then a PD and a CQ of cqe entries. */
int ep_open(struct endpoint *ep, struct ibv_device_attr *da, int cqe,
	    int other_fd);
/* An RC QP on ep's CQ with cap and as much inline data as it takes. */
int ep_create_qp(struct endpoint *ep, const struct ibv_qp_cap *cap);
int ep_post_recv(struct endpoint *ep, struct ibv_recv_wr *wr);

/* A wc_handler finds its connection, which embeds ep, with this. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

typedef void wc_handler(struct endpoint *ep, const struct ibv_wc *wc);

/*
 * cq_wait for up to max (<= TR_MAX_POLL) completions and hand each to
 * on_recv or on_send by its wr_id; one of another QP is a failure. Returns
 * what cq_wait returned.
 */
int ep_poll(struct endpoint *ep, int max, const volatile bool *stop,
	    wc_handler *on_recv, wc_handler *on_send);
/* Index of a receive completion's buffer, -1 (a failure) if unknown. */
int ep_recv_index(struct endpoint *ep, const struct ibv_wc *wc, int nrecv);
/* Release what ep_open set up and the id; the QP and MRs must be gone. */
void ep_close(struct endpoint *ep);

/* --- misc --------------------------------------------------------------- */

void msg_init(struct tr_msg *m, enum msg_type type);
const char *msg_type_name(unsigned int type);
bool msg_valid(const struct tr_msg *m);
/* "192.0.2.1:7471" or "[fd00::1]:7471" */
void addr_str(const struct sockaddr *sa, char *buf, size_t len);
uint64_t align_up(uint64_t v, uint64_t a);
void *alloc_buf(uint64_t len, uint8_t fill);
void tr_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int run_client(void);
int run_server(void);

#endif /* TRAFFIC_H */
