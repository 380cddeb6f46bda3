/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Objects of the siw device and the interfaces between its layers.
 *
 * Layering (each file uses only those above it):
 *   siw_settings.c - a device's interop settings, its sysfs attributes
 *   siw_queue.c  - memory of work and completion queues, user mappings
 *   siw_mem.c    - STags and memory regions
 *   siw_cq.c     - completion queues
 *   siw_srq.c    - shared receive queues
 *   siw_wire.c   - MPA/DDP/RDMAP codec (also built into user-space tests)
 *   siw_qp.c     - QP state machine, work queues, completions, flushing
 *   siw_tx.c     - transmit engine: FPDUs out of the SQ and read responses
 *   siw_rx.c     - receive engine: stream parser, placement, validation
 *   siw_cm.c     - iWARP connection management: TCP, MPA, iw_cm events
 *   siw_verbs.c  - ib_device_ops entry points and argument validation
 *   siw_main.c   - module parameters, device life cycle, netdev events
 */
#ifndef SIW_H
#define SIW_H

#include <linux/netdevice.h>
#include <linux/xarray.h>
#include <linux/kref.h>
#include <linux/completion.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/skbuff.h>
#include <linux/bvec.h>
#include <linux/crc32.h>
#include <linux/crc32c.h>
#include <net/sock.h>
#include <rdma/ib_verbs.h>

#include "siw_abi.h"
#include "siw_limits.h"
#include "siw_wire.h"
#include "siw_compat.h"

/* Port counters (rdma statistic, hw_counters in sysfs). */
enum siw_stat {
	SIW_STAT_TX_ZCOPY_WRS,		/* work requests sent zero-copy */
	SIW_STAT_TX_ZCOPY_COPIED_QPS,	/* QPs whose zero-copy data the kernel copied */
	SIW_STAT_TX_FPDUS,		/* FPDUs built for the stream */
	SIW_STAT_TX_BYTES,		/* their bytes on the stream, MPA framing included */
	SIW_STAT_RX_FPDUS,		/* FPDUs received whole and accepted */
	SIW_STAT_RX_BYTES,		/* their bytes on the stream */
	SIW_STAT_TX_LENT,		/* transmitter runs in another QP's doorbell */
	SIW_NUM_STATS
};

/*
 * Per CPU, so that QPs served on several CPUs do not bounce one cache
 * line per FPDU, and added to with this_cpu_add(), which no preemption
 * or interrupt can split: one unlocked instruction on x86. Locked adds
 * were four of the eight atomic instructions a round trip gained over
 * the code before them, each many times an ordinary one under emulation
 * (tools/bench --count). Read summed and unlocked: on a 32-bit kernel
 * a read racing an add may see half of it, a passing glitch in a figure
 * people watch and nothing decides on.
 */
struct siw_stats {
	u64 v[SIW_NUM_STATS];
};

/* zcopy_tx values */
enum siw_zcopy_mode {
	SIW_ZCOPY_OFF,
	SIW_ZCOPY_ON,		/* unless the stack copies anyway (ZC_COPIED) */
	SIW_ZCOPY_ALWAYS,	/* even then: measuring and testing zero-copy */
};

enum siw_crc_mode {
	SIW_CRC_OFF,
	SIW_CRC_ON,		/* offer it, and use it if either side does */
	SIW_CRC_STRICT,		/* and refuse peers that do not */
};

/*
 * A device's interop choices for its new connections (siw_settings.c).
 * All unsigned int: siw_settings.c reads and writes them by offset.
 */
struct siw_settings {
	unsigned int mpa_rev;	/* to initiate with; the highest answered with */
	unsigned int crc;	/* enum siw_crc_mode */
	unsigned int p2p;	/* initiator asks for RFC 6581 peer-to-peer */
	unsigned int rtr;	/* SIW_MPA_RTR_* offered, or accepted */
	unsigned int max_ird;	/* announced at most */
	unsigned int max_ord;
	unsigned int zcopy_tx;	/* enum siw_zcopy_mode */
	unsigned int large_fpdu;	/* offer SIW_MPA_LARGE_FPDU */
};

struct siw_device {
	struct ib_device base_dev;
	struct net_device *netdev;
	netdevice_tracker netdev_tracker;

	/* Protects port_state against concurrent netdev events. */
	spinlock_t lock;
	enum ib_port_state port_state;

	struct xarray qp_xa;	/* qp_num -> struct siw_qp */
	u32 qp_next;
	struct xarray mem_xa;	/* STag index -> struct siw_mem */
	u32 mem_next;

	atomic_t num_ctx;
	atomic_t num_pd;
	atomic_t num_cq;
	atomic_t num_qp;
	atomic_t num_srq;
	atomic_t num_mr;
	atomic_t cq_id_next;

	struct siw_stats __percpu *stats;

	spinlock_t settings_lock;
	struct siw_settings settings;

	/*
	 * Wildcard listeners, which listen on each address of the interface
	 * and follow it as addresses come (siw_cm.c).
	 */
	struct mutex listen_lock;
	struct list_head listeners;
	struct work_struct addr_work;
};

static inline void siw_stat_add(struct siw_device *sdev, enum siw_stat stat,
				s64 n)
{
	this_cpu_add(sdev->stats->v[stat], n);
}

struct siw_ucontext {
	struct ib_ucontext base_ucontext;
	/* Queue memory of the context's live objects, in bytes. */
	atomic64_t queue_bytes;
};

struct siw_pd {
	struct ib_pd base_pd;
};

/*
 * Queue memory that user space maps. Once the entry is inserted it owns
 * the memory, which is freed from mmap_free; pages still mapped by a
 * process stay alive through their own page references.
 */
struct siw_queue_entry {
	struct rdma_user_mmap_entry rdma_entry;
	void *addr;		/* vmap() of pages */
	struct page **pages;
	unsigned long npages;
};

struct siw_queue {
	void *addr;
	struct rdma_user_mmap_entry *entry;	/* NULL for kernel queues */
	struct siw_ucontext *uctx;		/* user queues: charged here */
	size_t charged;
};

enum siw_mem_type {
	SIW_MEM_DMA,	/* all of kernel memory: addresses are kernel virtual */
	SIW_MEM_USER,	/* pinned user pages */
	SIW_MEM_PBL,	/* fast-registration page list of a kernel consumer */
};

struct siw_mem {
	struct siw_device *sdev;
	struct kref ref;
	struct rcu_head rcu;
	struct work_struct free_work;
	enum siw_mem_type type;
	struct ib_pd *pd;
	u32 stag;		/* index << 8 | key */
	bool valid;		/* iWARP: STag state valid vs. invalid */
	int access;		/* IB_ACCESS_* */
	u64 va;
	u64 len;

	/* SIW_MEM_USER */
	struct ib_umem *umem;
	struct page **pages;
	unsigned long npages;

	/* SIW_MEM_PBL */
	u64 *pbl;
	u32 pbl_max;
	u32 pbl_len;
	u32 page_shift;
};

struct siw_mr {
	struct ib_mr base_mr;
	struct siw_mem *mem;
};

struct siw_cq {
	struct ib_cq base_cq;
	spinlock_t lock;
	struct siw_queue q;
	struct siw_abi_cqe *queue;
	struct siw_abi_cq_ctrl *notify;
	u32 num_cqe;
	u32 cq_put;
	u32 cq_get;		/* kernel CQs only; user space polls its own */
	bool user;
};

struct siw_srq {
	struct ib_srq base_srq;
	spinlock_t lock;
	struct siw_queue q;
	struct siw_abi_rqe *recvq;
	u32 num_rqe;
	u32 rq_put;		/* kernel SRQs only */
	u32 rq_get;
	u32 max_sge;
	u32 limit;		/* armed while non-zero (IB_SRQ_LIMIT) */
	bool user;
};

/* Kernel-private state of one send queue slot, from start to completion. */
enum siw_wqe_state {
	SIW_WQE_IDLE,		/* not started by the transmit engine */
	SIW_WQE_ACTIVE,		/* being transmitted */
	SIW_WQE_READ,		/* Read Request sent, response outstanding */
	SIW_WQE_DONE,		/* may complete once all before it have */
};

struct siw_wqe {
	/* A private copy: user space may scribble on the shared SQE. */
	struct siw_abi_sqe sqe;
	struct siw_mem *mem[SIW_ABI_MAX_SGE];
	struct siw_qp *qp;
	/* Zero-copy transmit: TCP drops its last page reference here. */
	struct ubuf_info ubuf;
	u32 bytes;		/* message length */
	u32 sent;		/* payload bytes handed to TCP so far */
	u8 state;		/* enum siw_wqe_state */
	u8 status;		/* enum siw_abi_wc_status */
	bool zc_pending;	/* ubuf still referenced by skbs */
};

/* An inbound RDMA Read Request, served from the IRQ by the transmitter. */
struct siw_irq_entry {
	struct siw_read_req rreq;
	struct siw_mem *mem;	/* the validated source */
	u32 sent;
	bool rtr;		/* zero-length RTR read: nothing to look up */
};

/*
 * Where an FPDU being transmitted stands; bvecs cover header to CRC.
 * Payload is split at page boundaries: an SGE of L bytes takes at most
 * ceil(L / PAGE_SIZE) + 1 pieces (it may start and end mid-page), and
 * the ceilings of S SGEs add up to at most ceil(total / PAGE_SIZE) +
 * S - 1. So a payload of up to SIW_MPA_ULPDU_MAX bytes takes at most
 * that many pages plus 2 S - 1 pieces, and the header and the trailer
 * one bvec each.
 */
#define SIW_TX_MAX_BVEC	(DIV_ROUND_UP(SIW_MPA_ULPDU_MAX, PAGE_SIZE) + \
			 2 * SIW_ABI_MAX_SGE + 1)

/* How a bvec's bytes go to TCP. */
enum siw_tx_how {
	SIW_TX_COPY,
	SIW_TX_ZC,	/* MSG_ZEROCOPY: completes when TCP lets go */
	SIW_TX_REF,	/* TCP keeps page references, tells nobody */
};

struct siw_tx {
	struct bio_vec bvec[SIW_TX_MAX_BVEC];
	u8 how[SIW_TX_MAX_BVEC];	/* enum siw_tx_how */
	unsigned int nr_bvec;
	unsigned int cur;		/* bvec being sent */
	u32 cur_off;			/* bytes of it sent */
	struct siw_wqe *wqe;		/* work request being sent */
	struct siw_irq_entry *rresp;	/* or read response being sent, */
	struct siw_irq_entry rresp_cur;	/* which lives here */
	u8 hdr[SIW_TERM_MAX_LEN + 8] __aligned(8);
	u8 inline_buf[SIW_MAX_INLINE_DATA];
	u8 trailer[8];
	bool busy;			/* an FPDU is partly sent */
	u8 zcopy;			/* enum siw_zcopy_mode, per stream */
	bool large_fpdu;		/* negotiated: FPDUs of the GSO size */
	u32 ddp_msn[SIW_DDP_NUM_QN];	/* last MSN sent per queue */
};

enum siw_rx_state {
	SIW_RX_HDR,
	SIW_RX_PAYLOAD,
	SIW_RX_TRAILER,
	SIW_RX_DEAD,		/* after an error: discard everything */
};

/* A receive buffer taken from the RQ or SRQ for the message in progress. */
struct siw_rx_rqe {
	struct siw_abi_rqe rqe;
	struct siw_mem *mem[SIW_ABI_MAX_SGE];
	u32 len;		/* sum of the SGE lengths */
	bool active;
};

struct siw_rx {
	enum siw_rx_state state;
	u8 hdr[sizeof(struct siw_fpdu_read_req)] __aligned(8);
	u32 hdr_have;
	u32 hdr_need;
	u16 ulpdu_len;
	struct siw_ddp_info info;
	u32 payload_left;
	u32 trailer_have;
	u32 trailer_need;
	u8 trailer[8];
	u32 crc;
	bool crc_on;

	/* Placement target of the current segment. */
	struct siw_mem *tmem;		/* tagged: the STag's memory */
	u64 taddr;
	struct siw_mem *smem[SIW_ABI_MAX_SGE];	/* untagged / read response */
	const struct siw_abi_sge *sge;
	u32 num_sge;
	u32 msg_off;			/* offset into the SGE list */

	struct siw_rx_rqe rqe;		/* Send in progress */
	u32 msn[SIW_DDP_NUM_QN];	/* next expected per queue */
	u32 send_len;			/* bytes of the current Send so far */
	u32 rresp_len;			/* and of the current Read Response */
	bool send_active;		/* a Send is under way (rqe taken) */
	u8 rtr_pending;			/* responder waits for this RTR */
	bool rtr_read_reply;		/* initiator: RTR read response due */
	u32 msgs_in;			/* messages received whole, any kind */
};

/* The connection manager's hooks, called by the protocol engine. */
struct siw_llp {
	/* The stream is done for: graceful after a Terminate or SQD. */
	void (*close)(struct siw_llp *llp, bool abort);
};

struct siw_qp {
	struct ib_qp base_qp;
	struct siw_device *sdev;
	struct siw_pd *pd;

	/* Held by the verbs object, iw_cm and connection endpoints. */
	struct kref ref;
	struct completion released;

	/* Serializes state changes; taken by modify_qp and the CM. */
	struct rw_semaphore state_lock;
	enum ib_qp_state state;
	int access;		/* IB_ACCESS_REMOTE_{READ,WRITE} */
	u32 ord;
	u32 ird;
	bool sq_sig_all;
	bool user;
	struct pid *owner;	/* user QPs: the creating process */
	struct siw_ucontext *uctx;	/* user QPs: charged for the shadow */
	bool in_destroy;

	struct siw_cq *scq;
	struct siw_cq *rcq;
	struct siw_srq *srq;

	spinlock_t sq_lock;
	struct siw_queue sq_mem;
	struct siw_abi_sqe *sendq;
	struct siw_wqe *wqe;	/* shadow of each SQ slot */
	u32 num_sqe;
	u32 sq_put;		/* kernel QPs only */
	u32 sq_get;		/* oldest slot not completed */
	u32 sq_tx;		/* next slot the transmitter starts */
	u32 max_send_sge;
	u32 max_inline;

	spinlock_t rq_lock;
	struct siw_queue rq_mem;
	struct siw_abi_rqe *recvq;
	u32 num_rqe;
	u32 rq_put;		/* kernel QPs only */
	u32 rq_get;
	u32 max_recv_sge;

	/* The LLP stream, between MPA completion and teardown. */
	struct socket *sock;
	struct siw_llp *llp;
	bool crc;
	u8 rtr;			/* SIW_MPA_RTR_* the initiator must send */
	u8 mpa_rev;		/* what MPA negotiated, for restrack */
	u8 mpa_rtr;		/* peer-to-peer mode's RTR type, or 0 */
	atomic_t zc_inflight;
	wait_queue_head_t zc_wait;

	/*
	 * Whoever holds tx_mutex is the transmitter: tx_work, or a user's
	 * doorbell sending from its own task (siw_tx_now()).
	 */
	struct mutex tx_mutex;
	/* Task of the last doorbell: compared, never dereferenced. */
	struct task_struct *tx_poster;
	/* rx.msgs_in at the last doorbell: has the peer answered since? */
	u32 tx_db_msgs_in;
	/* Where tx_work runs when queued from outside it (siw_tx_cpu()). */
	int tx_cpu;
	struct work_struct tx_work;
	struct siw_tx tx;
	struct siw_rx rx;

	/* Outbound reads: SQ slots of READs awaiting their response. */
	u32 orq[SIW_MAX_ORD];
	u32 orq_put;
	u32 orq_get;

	/* Inbound reads to answer, filled by rx, drained by tx. */
	spinlock_t irq_lock;
	struct siw_irq_entry irq[SIW_MAX_IRD];
	u32 irq_put;
	u32 irq_get;

	/* Set by the engine in atomic context, acted on by tx_work. */
	unsigned long flags;	/* SIW_QP_F_* bits */
	u8 term_buf[SIW_TERM_MAX_LEN] __aligned(8);
	u32 term_len;
};

enum siw_qp_flag {
	SIW_QP_F_TERM_SEND,	/* a Terminate waits in term_buf */
	SIW_QP_F_FATAL,		/* go to ERROR and drop the stream */
	SIW_QP_F_CLOSED,	/* llp->close was called */
	SIW_QP_F_ABORTED,	/* llp->close was called with abort */
	SIW_QP_F_TX_AGAIN,	/* the transmitter must look once more */
	/*
	 * The stack copied this connection's zero-copy pages on their way
	 * (local delivery over loopback or veth, a packet tap): zero-copy
	 * saves nothing here, so zcopy_tx=1 stops using it.
	 */
	SIW_QP_F_ZC_COPIED,
};

static inline struct siw_device *to_siw_dev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct siw_device, base_dev);
}

static inline struct siw_pd *to_siw_pd(struct ib_pd *pd)
{
	return container_of(pd, struct siw_pd, base_pd);
}

static inline struct siw_mr *to_siw_mr(struct ib_mr *mr)
{
	return container_of(mr, struct siw_mr, base_mr);
}

static inline struct siw_cq *to_siw_cq(struct ib_cq *cq)
{
	return container_of(cq, struct siw_cq, base_cq);
}

static inline struct siw_srq *to_siw_srq(struct ib_srq *srq)
{
	return container_of(srq, struct siw_srq, base_srq);
}

static inline struct siw_qp *to_siw_qp(struct ib_qp *qp)
{
	return container_of(qp, struct siw_qp, base_qp);
}

static inline struct siw_queue_entry *
to_siw_queue_entry(struct rdma_user_mmap_entry *entry)
{
	return container_of(entry, struct siw_queue_entry, rdma_entry);
}

/*
 * Work queue elements shared with user space are handed over through
 * their flags word: the producer fills the element, then publishes
 * VALID with release semantics; the consumer reads flags with acquire
 * semantics before anything else and clears them when done.
 */
static inline u16 siw_wqe_flags_acquire(const __u16 *flags)
{
	return smp_load_acquire(flags);
}

static inline void siw_wqe_flags_release(__u16 *flags, u16 val)
{
	smp_store_release(flags, val);
}

/*
 * Whether the peer's messages may still be placed and its Read Requests
 * served: only while connected or closing gracefully (RTS, SQD). The
 * receive engine tests this per segment and per piece of payload, and
 * siw_qp_enter() waits out a receive in progress when it leaves these
 * states, so nothing is placed once the consumer saw the QP leave them.
 */
static inline bool siw_qp_rx_open(struct siw_qp *qp)
{
	enum ib_qp_state state = READ_ONCE(qp->state);

	return state == IB_QPS_RTS || state == IB_QPS_SQD;
}

/*
 * The SQE the transmitter starts next is posted and its slot free to
 * start (a full ring's oldest slot is still awaiting completion).
 * Caller holds sq_lock.
 */
static inline bool siw_sq_next_posted(struct siw_qp *qp)
{
	return qp->sq_tx - qp->sq_get < qp->num_sqe &&
	       (siw_wqe_flags_acquire(&qp->sendq[qp->sq_tx % qp->num_sqe].flags) &
		SIW_ABI_WQE_VALID);
}

/* siw_crc.c: mpa_crc_impl values */
enum siw_crc_impl {
	SIW_CRC_AUTO,		/* whichever is faster here, timed at load */
	SIW_CRC_LIB,		/* __crc32c_le(), lib/crc32.c or the arch's */
	SIW_CRC_CRYPTO,		/* the crypto API's best crc32c */
};

extern bool siw_crc_use_lib;

int siw_crc_init(void);
int siw_crc_select(enum siw_crc_impl impl);
int siw_crc_parse(const char *val, enum siw_crc_impl *impl);
const char *siw_crc_in_use(void);

/* The MPA CRC register over len more bytes: no inversion in or out. */
static inline u32 siw_crc32c(u32 crc, const void *p, size_t len)
{
	if (READ_ONCE(siw_crc_use_lib))
		return __crc32c_le(crc, p, len);
	return crc32c(crc, p, len);
}

/* siw_queue.c */
int siw_queue_alloc(struct siw_queue *q, size_t size, struct ib_udata *udata,
		    u64 *key);
void siw_queue_free(struct siw_queue *q);
int siw_uctx_charge(struct siw_ucontext *uctx, size_t bytes);
void siw_uctx_uncharge(struct siw_ucontext *uctx, size_t bytes);
int siw_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void siw_mmap_free(struct rdma_user_mmap_entry *entry);

/* siw_mem.c */
int siw_mem_init(void);
void siw_mem_exit(void);
void siw_mem_flush(void);
struct siw_mem *siw_mem_alloc(struct siw_device *sdev, struct ib_pd *pd,
			      enum siw_mem_type type, int access, u8 key);
void siw_mem_put(struct siw_mem *mem);
void siw_mem_destroy(struct siw_mem *mem);
int siw_mem_pin_user(struct siw_mem *mem, u64 start, u64 len, u64 va);
int siw_mem_alloc_pbl(struct siw_mem *mem, u32 max_pages);
struct siw_mem *siw_mem_lookup(struct siw_device *sdev, u32 stag);
int siw_mem_check(struct siw_mem *mem, struct ib_pd *pd, int access,
		  u64 addr, u64 len);
struct page *siw_mem_page(struct siw_mem *mem, u64 addr, u32 *off);
bool siw_mem_still(struct siw_mem *mem, u32 stag);
int siw_mem_invalidate(struct siw_device *sdev, struct ib_pd *pd, u32 stag,
		       bool remote);
void siw_mem_put_sges(struct siw_mem **mem);
int siw_mem_resolve_sges(struct siw_device *sdev, struct ib_pd *pd,
			 const struct siw_abi_sge *sge, u32 num_sge, int access,
			 struct siw_mem **mem, u64 *total);

/* siw_cq.c */
int siw_cq_init(struct siw_cq *cq, u32 num_cqe, struct ib_udata *udata,
		u64 *key);
void siw_cq_fini(struct siw_cq *cq);
int siw_cq_add(struct siw_cq *cq, const struct siw_abi_cqe *cqe,
	       bool solicited);
void siw_cq_notify(struct siw_cq *cq);
bool siw_cq_unpolled(struct siw_cq *cq);
int siw_cq_poll(struct siw_cq *cq, int num, struct ib_wc *wc);
int siw_cq_arm(struct siw_cq *cq, enum ib_cq_notify_flags flags);

/* siw_srq.c */
int siw_srq_init(struct siw_srq *srq, u32 num_rqe, u32 max_sge,
		 struct ib_udata *udata, u64 *key);
void siw_srq_fini(struct siw_srq *srq);
int siw_rq_post_one(struct siw_abi_rqe *ring, u32 num, u32 *put,
		    const struct ib_recv_wr *wr, u32 max_sge);
int siw_srq_post(struct siw_srq *srq, const struct ib_recv_wr *wr,
		 const struct ib_recv_wr **bad_wr);
bool siw_rq_take(struct siw_abi_rqe *ring, u32 num, u32 *get,
		 struct siw_abi_rqe *out);
bool siw_srq_take(struct siw_srq *srq, struct siw_abi_rqe *out);

/* siw_sched.c */
int siw_sched_init(void);
void siw_sched_exit(void);
void siw_tx_schedule(struct siw_qp *qp);

/*
 * A doorbell transmitting from its task, and the QPs whose transmits
 * softirqs in that task left to it (siw_tx_lend()).
 */
struct siw_tx_lender {
	struct task_struct *task;
	unsigned int taken;
	struct siw_qp *qp[SIW_TX_LEND_MAX];
};

void siw_tx_lend_begin(struct siw_tx_lender *lender);
void siw_tx_lend_end(struct siw_tx_lender *lender);

/* siw_qp.c: the QP's state, its work queues, and what the engines report */
int siw_qp_init(struct siw_qp *qp, struct siw_device *sdev,
		const struct ib_qp_init_attr *attr, struct ib_udata *udata,
		u64 *sq_key, u64 *rq_key);
int siw_qp_publish(struct siw_qp *qp);
void siw_qp_retire(struct siw_qp *qp);
void siw_qp_free(struct siw_qp *qp);
void siw_qp_get(struct siw_qp *qp);
void siw_qp_put(struct siw_qp *qp);
struct siw_qp *siw_qp_lookup(struct siw_device *sdev, u32 qpn);
struct siw_qp *siw_qp_lookup_get(struct siw_device *sdev, u32 qpn);
int siw_qp_modify(struct siw_qp *qp, const struct ib_qp_attr *attr,
		  int mask);
int siw_qp_post_send(struct siw_qp *qp, const struct ib_send_wr *wr,
		     const struct ib_send_wr **bad_wr);
int siw_qp_post_recv(struct siw_qp *qp, const struct ib_recv_wr *wr,
		     const struct ib_recv_wr **bad_wr);
void siw_qp_kick(struct siw_qp *qp);
int siw_qp_bind_check(struct siw_qp *qp);
void siw_qp_bind(struct siw_qp *qp, struct socket *sock, struct siw_llp *llp,
		 const struct siw_mpa_nego *nego, bool initiator);
bool siw_qp_llp_lost(struct siw_qp *qp, struct siw_llp *llp);
void siw_qp_unbind(struct siw_qp *qp);
/* The engines' reports; nothing else of the QP do they call. */
bool siw_qp_complete(struct siw_qp *qp, struct siw_cq *cq,
		     const struct siw_abi_cqe *cqe, bool solicited);
void siw_qp_reap(struct siw_qp *qp);
void siw_qp_fatal(struct siw_qp *qp, const struct siw_term_reason *why,
		  const void *fpdu, u32 fpdu_len);
void siw_qp_local_error(struct siw_qp *qp);
void siw_qp_peer_terminated(struct siw_qp *qp);
void siw_qp_error(struct siw_qp *qp);
void siw_qp_llp_close(struct siw_qp *qp, bool abort);

/* siw_tx.c */
void siw_tx_qp_init(struct siw_qp *qp);
void siw_tx_init_stream(struct siw_qp *qp, u8 zcopy_tx, bool large_fpdu);
void siw_tx_doorbell(struct siw_qp *qp);
void siw_tx_stop(struct siw_qp *qp);
void siw_tx_hold(struct siw_qp *qp);
void siw_tx_unhold(struct siw_qp *qp);

/* siw_rx.c */
int siw_rx_data(struct siw_qp *qp, struct sock *sk);
void siw_rx_release(struct siw_qp *qp);
void siw_rx_init(struct siw_qp *qp, bool crc, u8 rtr_pending);

/* siw_stream.c: a QP's stream binding and its engines' lifetime */
int siw_stream_attach(struct siw_qp *qp, struct socket *sock,
		      struct siw_llp *llp, const struct siw_mpa_nego *nego,
		      bool initiator, u8 zcopy_tx);
void siw_stream_detach(struct siw_qp *qp, struct siw_llp *llp);
int siw_stream_qp_init(struct siw_qp *qp);
void siw_stream_destroy_qp(struct siw_qp *qp);

/*
 * Memory a process's verbs make the kernel allocate for it: charged to
 * its memory cgroup, and at the cgroup's limit the verb fails with
 * ENOMEM instead of waking the cgroup's OOM killer (__GFP_RETRY_MAYFAIL).
 */
#define SIW_GFP_USER_QUEUE	(GFP_KERNEL_ACCOUNT | __GFP_RETRY_MAYFAIL | \
				 __GFP_NOWARN)

/* siw_settings.c */
extern const struct attribute_group siw_settings_group;
void siw_settings_init(struct siw_device *sdev);
void siw_settings_get(struct siw_device *sdev, struct siw_settings *out);

/* siw_cm.c */
int siw_cm_init(void);
void siw_cm_exit(void);

int siw_cm_connect(struct iw_cm_id *id, struct iw_cm_conn_param *param);
int siw_cm_accept(struct iw_cm_id *id, struct iw_cm_conn_param *param);
int siw_cm_reject(struct iw_cm_id *id, const void *pdata, u8 pdata_len);
int siw_cm_create_listen(struct iw_cm_id *id, int backlog);
int siw_cm_destroy_listen(struct iw_cm_id *id);
void siw_cm_dev_init(struct siw_device *sdev);
void siw_cm_dev_exit(struct siw_device *sdev);
void siw_cm_addr_added(struct siw_device *sdev);

/* siw_verbs.c */
extern const struct ib_device_ops siw_device_ops;

#endif /* SIW_H */
