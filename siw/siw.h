/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Objects of the siw device and the interfaces between its layers.
 *
 * Layering (each file uses only those above it):
 *   siw_queue.c  - memory of work and completion queues, user mappings
 *   siw_mem.c    - STags and memory regions
 *   siw_cq.c     - completion queues
 *   siw_srq.c    - shared receive queues
 *   siw_qp.c     - QP state machine, work queues, flushing
 *   siw_cm.c     - iWARP connection management (iw_cm ops)
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
#include <rdma/ib_verbs.h>

#include "siw_abi.h"
#include "siw_limits.h"
#include "siw_compat.h"

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
};

struct siw_ucontext {
	struct ib_ucontext base_ucontext;
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
	void *addr;
};

struct siw_queue {
	void *addr;
	struct rdma_user_mmap_entry *entry;	/* NULL for kernel queues */
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

struct siw_qp {
	struct ib_qp base_qp;
	struct siw_device *sdev;

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
	bool in_destroy;

	struct siw_cq *scq;
	struct siw_cq *rcq;
	struct siw_srq *srq;

	spinlock_t sq_lock;
	struct siw_queue sq_mem;
	struct siw_abi_sqe *sendq;
	u32 num_sqe;
	u32 sq_put;		/* kernel QPs only */
	u32 sq_get;
	u32 max_send_sge;
	u32 max_inline;

	spinlock_t rq_lock;
	struct siw_queue rq_mem;
	struct siw_abi_rqe *recvq;
	u32 num_rqe;
	u32 rq_put;		/* kernel QPs only */
	u32 rq_get;
	u32 max_recv_sge;
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

/* siw_queue.c */
int siw_queue_alloc(struct siw_queue *q, size_t size, struct ib_udata *udata,
		    u64 *key);
void siw_queue_free(struct siw_queue *q);
int siw_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma);
void siw_mmap_free(struct rdma_user_mmap_entry *entry);

/* siw_mem.c */
struct siw_mem *siw_mem_alloc(struct siw_device *sdev, struct ib_pd *pd,
			      enum siw_mem_type type, int access, u8 key);
void siw_mem_put(struct siw_mem *mem);
void siw_mem_destroy(struct siw_mem *mem);
int siw_mem_pin_user(struct siw_mem *mem, u64 start, u64 len, u64 va);
int siw_mem_alloc_pbl(struct siw_mem *mem, u32 max_pages);

/* siw_cq.c */
int siw_cq_init(struct siw_cq *cq, u32 num_cqe, struct ib_udata *udata,
		u64 *key);
void siw_cq_fini(struct siw_cq *cq);
int siw_cq_add(struct siw_cq *cq, const struct siw_abi_cqe *cqe,
	       bool solicited);
void siw_cq_notify(struct siw_cq *cq);
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

/* siw_qp.c */
int siw_qp_init(struct siw_qp *qp, struct siw_device *sdev,
		const struct ib_qp_init_attr *attr, struct ib_udata *udata,
		u64 *sq_key, u64 *rq_key);
void siw_qp_get(struct siw_qp *qp);
void siw_qp_put(struct siw_qp *qp);
void siw_qp_destroy(struct siw_qp *qp);
struct siw_qp *siw_qp_lookup(struct siw_device *sdev, u32 qpn);
int siw_qp_modify(struct siw_qp *qp, const struct ib_qp_attr *attr,
		  int mask);
int siw_qp_post_send(struct siw_qp *qp, const struct ib_send_wr *wr,
		     const struct ib_send_wr **bad_wr);
int siw_qp_post_recv(struct siw_qp *qp, const struct ib_recv_wr *wr,
		     const struct ib_recv_wr **bad_wr);

/* siw_cm.c */
int siw_cm_connect(struct iw_cm_id *id, struct iw_cm_conn_param *param);
int siw_cm_accept(struct iw_cm_id *id, struct iw_cm_conn_param *param);
int siw_cm_reject(struct iw_cm_id *id, const void *pdata, u8 pdata_len);
int siw_cm_create_listen(struct iw_cm_id *id, int backlog);
int siw_cm_destroy_listen(struct iw_cm_id *id);

/* siw_verbs.c */
extern const struct ib_device_ops siw_device_ops;

#endif /* SIW_H */
