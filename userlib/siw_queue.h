/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Rings shared with the siw kernel module: SQ, RQ, SRQ and CQ. Nothing
 * here knows about libibverbs, so the unit tests link it alone.
 *
 * Ring sizes are powers of two and indices are free-running u32 values,
 * so "index modulo size" stays right when the index wraps. Ownership of
 * an element is its VALID flag (design.md, "Queues shared with user
 * space"): whoever fills an element sets VALID last with a release store;
 * whoever empties it reads the flags first with an acquire load and
 * clears them with a release store when done.
 */
#ifndef SIW_QUEUE_H
#define SIW_QUEUE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "siw_abi.h"

struct siw_ring {
	void *base;
	uint32_t num;		/* elements, a power of two */
	uint32_t elem_size;
	uint32_t idx;		/* next element we produce or consume */
};

/* Returns -1 unless num is a non-zero power of two. */
int siw_ring_init(struct siw_ring *ring, void *base, uint32_t num,
		  uint32_t elem_size, uint32_t first_idx);

static inline void *siw_ring_slot(const struct siw_ring *ring, uint32_t idx)
{
	return (char *)ring->base +
	       (size_t)(idx & (ring->num - 1)) * ring->elem_size;
}

/*
 * The kernel accesses the flags with its own atomics; plain u16/u8 and
 * their _Atomic counterparts have the same size and alignment on every
 * ABI we build for, so viewing them as atomics is sound. The element
 * flags live at the same offset in SQE and RQE, which is what lets one
 * ring type serve all work queues.
 */
static inline _Atomic uint16_t *siw_wqe_flags(void *wqe)
{
	return (_Atomic uint16_t *)&((struct siw_abi_sqe *)wqe)->flags;
}

static inline _Atomic uint8_t *siw_cqe_flags(struct siw_abi_cqe *cqe)
{
	return (_Atomic uint8_t *)&cqe->flags;
}

/*
 * Work queues (SQ, RQ, SRQ): we produce, the kernel consumes.
 * siw_wq_claim() returns the next free element, or NULL while the kernel
 * still owns it (the queue is full). siw_wq_publish() hands it over.
 * These and the CQ's peek and release run for every work request and
 * completion, so they are inline.
 */
static inline void *siw_wq_claim(struct siw_ring *ring)
{
	void *wqe = siw_ring_slot(ring, ring->idx);

	/* Acquire: the kernel's last reads of the element happen before. */
	if (atomic_load_explicit(siw_wqe_flags(wqe), memory_order_acquire) &
	    SIW_ABI_WQE_VALID)
		return NULL;
	return wqe;
}

static inline void siw_wq_publish(struct siw_ring *ring, void *wqe,
				  uint16_t flags)
{
	/* Release: the element's contents are visible before VALID. */
	atomic_store_explicit(siw_wqe_flags(wqe), flags | SIW_ABI_WQE_VALID,
			      memory_order_release);
	ring->idx++;
}

/*
 * After publishing elements starting at @first: true if the kernel has
 * already consumed the element before @first, i.e. it may have gone idle
 * and will not find the new work without a doorbell. A still-VALID
 * predecessor means the kernel has work queued ahead of ours and will
 * reach ours on its own.
 */
static inline bool siw_sq_needs_doorbell(const struct siw_ring *ring,
					 uint32_t first)
{
	void *prev = siw_ring_slot(ring, first - 1);

	/*
	 * A batch that filled the whole ring has only its own elements
	 * before it (on a one-slot SQ, every post): nothing tells us the
	 * kernel is at work.
	 */
	if (ring->idx - first >= ring->num)
		return true;

	/*
	 * Our VALID stores must be ordered before this load: otherwise we
	 * could read a predecessor still VALID while the kernel, about to
	 * stop, does not yet see our element either.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	return !(atomic_load_explicit(siw_wqe_flags(prev), memory_order_acquire) &
		 SIW_ABI_WQE_VALID);
}

/* CQ: the kernel produces, we consume. */
static inline struct siw_abi_cqe *siw_cq_peek(const struct siw_ring *ring)
{
	struct siw_abi_cqe *cqe = siw_ring_slot(ring, ring->idx);

	/* Acquire: the CQE body is read only after seeing VALID. */
	if (!(atomic_load_explicit(siw_cqe_flags(cqe), memory_order_acquire) &
	      SIW_ABI_WQE_VALID))
		return NULL;
	return cqe;
}

static inline void siw_cq_release(struct siw_ring *ring,
				  struct siw_abi_cqe *cqe)
{
	/* Release: we are done reading before the kernel may refill it. */
	atomic_store_explicit(siw_cqe_flags(cqe), 0, memory_order_release);
	ring->idx++;
}

/*
 * Arms the CQ through its control word. Returns true if a completion is
 * already waiting (the caller may want to poll instead of sleeping).
 */
bool siw_cq_arm(const struct siw_ring *ring, struct siw_abi_cq_ctrl *ctrl,
		bool solicited_only);

/*
 * When a work queue slot may be reused. The verbs let a work request hold
 * its slot until the consumer has polled its completion (an unsignaled
 * send's, until a later signaled one's): that is what keeps the
 * completions waiting in a CQ within the queue depths the consumer sized
 * the CQ for. The kernel clears VALID earlier, when it writes the
 * completion, so posting on VALID alone lets a fast producer and a slow
 * poller overflow a correctly sized CQ. A slot is free here only once
 * both have happened.
 *
 * Receive queues: receive completions come one per slot, so the poller
 * counts them in @polled (under its CQ's lock) and the poster compares.
 *
 * The SQ: send completions come in SQ order, and only signaled requests
 * complete visibly. The poster (under the SQ lock) appends the index of
 * each signaled request to a ring of the SQ's size (there are never more
 * of them than slots taken); the poller (under its CQ's lock) takes the
 * oldest for each successful completion and frees the slots up to it,
 * in constant time. After a send completes in error the kernel flushes
 * the rest, unsignaled requests included, and no longer tells which
 * completion is whose: the SQ then goes by VALID alone (@lax) until the
 * QP is reset.
 */
struct siw_rq_track {
	_Atomic uint32_t polled;	/* slots before this index are free */
};

struct siw_sq_track {
	_Atomic uint32_t polled;	/* slots before this index are free */
	_Atomic bool lax;
	_Atomic uint32_t *sig;		/* signaled requests' indices, ring->num */
	_Atomic uint32_t sig_head;	/* the poller's */
	_Atomic uint32_t sig_tail;	/* the poster's */
};

/* Room at @ring->idx, the slots before index @polled being free? */
static inline bool siw_room_before(const _Atomic uint32_t *polled,
				   const struct siw_ring *ring)
{
	/* Acquire: the poller was done with the slot's completion. */
	return ring->idx - atomic_load_explicit(polled, memory_order_acquire) <
	       ring->num;
}

/* Room for one more receive at @ring->idx? */
static inline bool siw_rq_room(const struct siw_rq_track *t,
			       const struct siw_ring *ring)
{
	return siw_room_before(&t->polled, ring);
}

/* A receive completion was polled: one RQ or SRQ slot is done. */
static inline void siw_rq_polled(struct siw_rq_track *t)
{
	atomic_fetch_add_explicit(&t->polled, 1, memory_order_release);
}

/* The QP went to Reset: the kernel dropped all requests unreported. */
static inline void siw_rq_reset(struct siw_rq_track *t,
				const struct siw_ring *ring)
{
	atomic_store_explicit(&t->polled, ring->idx, memory_order_release);
}

/* Room for one more send at @ring->idx? */
static inline bool siw_sq_room(const struct siw_sq_track *t,
			       const struct siw_ring *ring)
{
	return atomic_load_explicit(&t->lax, memory_order_relaxed) ||
	       siw_room_before(&t->polled, ring);
}

/* The send request just written at @idx does (not) produce a completion. */
static inline void siw_sq_posted(struct siw_sq_track *t,
				 const struct siw_ring *ring, uint32_t idx,
				 bool signaled)
{
	uint32_t tail;

	if (!signaled)
		return;
	tail = atomic_load_explicit(&t->sig_tail, memory_order_relaxed);
	atomic_store_explicit(&t->sig[tail & (ring->num - 1)], idx,
			      memory_order_relaxed);
	/* Release: the poller reads no index beyond what this publishes. */
	atomic_store_explicit(&t->sig_tail, tail + 1, memory_order_release);
}

/* A send completion was polled, with @success or an error status. */
static inline void siw_sq_polled(struct siw_sq_track *t,
				 const struct siw_ring *ring, bool success)
{
	uint32_t head = atomic_load_explicit(&t->sig_head, memory_order_relaxed);
	uint32_t idx;

	/* A success without a signaled request outstanding: lost track. */
	if (!success ||
	    head == atomic_load_explicit(&t->sig_tail, memory_order_acquire)) {
		atomic_store_explicit(&t->lax, true, memory_order_relaxed);
		return;
	}
	/*
	 * The oldest signaled request completed: it and the unsignaled ones
	 * before it are done.
	 */
	idx = atomic_load_explicit(&t->sig[head & (ring->num - 1)],
				   memory_order_relaxed);
	atomic_store_explicit(&t->sig_head, head + 1, memory_order_relaxed);
	atomic_store_explicit(&t->polled, idx + 1, memory_order_release);
}

/* The QP went to Reset: the kernel dropped all requests unreported. */
void siw_sq_reset(struct siw_sq_track *t, const struct siw_ring *ring);

/* Copies @n gather elements into @sqe; false if @n exceeds @max. */
struct siw_sge_src {
	uint64_t addr;
	uint32_t length;
	uint32_t lkey;
};
static inline bool siw_sqe_set_sges(struct siw_abi_sqe *sqe,
				    const struct siw_sge_src *sg, int n, int max)
{
	int i;

	if (n < 0 || n > max || n > SIW_ABI_MAX_SGE)
		return false;
	for (i = 0; i < n; i++) {
		sqe->sge[i].laddr = sg[i].addr;
		sqe->sge[i].length = sg[i].length;
		sqe->sge[i].lkey = sg[i].lkey;
	}
	sqe->num_sge = n;
	return true;
}

/*
 * Copies the data @sg points to into the SQE itself. False if it does
 * not fit (SIW_ABI_MAX_INLINE bytes).
 */
bool siw_sqe_set_inline(struct siw_abi_sqe *sqe, const struct siw_sge_src *sg,
			int n);

#endif /* SIW_QUEUE_H */
