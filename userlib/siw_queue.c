// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Ring logic shared with the kernel; see siw_queue.h. The element flags
 * live at the same offset in SQE, RQE and CQE (16 bits in work queue
 * elements, 8 in CQEs), which is what lets one ring type serve all.
 */
#include <stdatomic.h>
#include <string.h>

#include "siw_queue.h"

_Static_assert(offsetof(struct siw_abi_sqe, flags) ==
	       offsetof(struct siw_abi_rqe, flags), "WQE flags moved");
_Static_assert(sizeof(struct siw_abi_sge) == sizeof(struct siw_sge_src),
	       "SGE layout differs");

/*
 * The kernel accesses these fields with its own atomics; plain u16/u8
 * and their _Atomic counterparts have the same size and alignment on
 * every ABI we build for, so viewing them as atomics is sound.
 */
static inline _Atomic uint16_t *wqe_flags(void *wqe)
{
	return (_Atomic uint16_t *)&((struct siw_abi_sqe *)wqe)->flags;
}

static inline _Atomic uint8_t *cqe_flags(struct siw_abi_cqe *cqe)
{
	return (_Atomic uint8_t *)&cqe->flags;
}

int siw_ring_init(struct siw_ring *ring, void *base, uint32_t num,
		  uint32_t elem_size, uint32_t first_idx)
{
	if (!num || (num & (num - 1)))
		return -1;
	ring->base = base;
	ring->num = num;
	ring->elem_size = elem_size;
	ring->idx = first_idx;
	return 0;
}

void *siw_wq_claim(struct siw_ring *ring)
{
	void *wqe = siw_ring_slot(ring, ring->idx);

	/* Acquire: the kernel's last reads of the element happen before. */
	if (atomic_load_explicit(wqe_flags(wqe), memory_order_acquire) &
	    SIW_ABI_WQE_VALID)
		return NULL;
	return wqe;
}

void siw_wq_publish(struct siw_ring *ring, void *wqe, uint16_t flags)
{
	/* Release: the element's contents are visible before VALID. */
	atomic_store_explicit(wqe_flags(wqe), flags | SIW_ABI_WQE_VALID,
			      memory_order_release);
	ring->idx++;
}

bool siw_sq_needs_doorbell(const struct siw_ring *ring, uint32_t first)
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
	return !(atomic_load_explicit(wqe_flags(prev), memory_order_acquire) &
		 SIW_ABI_WQE_VALID);
}

struct siw_abi_cqe *siw_cq_peek(const struct siw_ring *ring)
{
	struct siw_abi_cqe *cqe = siw_ring_slot(ring, ring->idx);

	/* Acquire: the CQE body is read only after seeing VALID. */
	if (!(atomic_load_explicit(cqe_flags(cqe), memory_order_acquire) &
	      SIW_ABI_WQE_VALID))
		return NULL;
	return cqe;
}

void siw_cq_release(struct siw_ring *ring, struct siw_abi_cqe *cqe)
{
	/* Release: we are done reading before the kernel may refill it. */
	atomic_store_explicit(cqe_flags(cqe), 0, memory_order_release);
	ring->idx++;
}

bool siw_cq_arm(const struct siw_ring *ring, struct siw_abi_cq_ctrl *ctrl,
		bool solicited_only)
{
	uint32_t arm = SIW_ABI_NOTIFY_SOLICITED;

	if (!solicited_only)
		arm |= SIW_ABI_NOTIFY_NEXT_COMPLETION;
	/*
	 * Sequentially consistent, so the check for a waiting CQE below
	 * cannot be ordered before the arm becomes visible to the kernel.
	 */
	atomic_store_explicit((_Atomic uint32_t *)&ctrl->flags, arm,
			      memory_order_seq_cst);
	return siw_cq_peek(ring) != NULL;
}

bool siw_track_room(const struct siw_wq_track *t, const struct siw_ring *ring)
{
	if (atomic_load_explicit(&t->lax, memory_order_relaxed))
		return true;
	/* Acquire: the poller was done with the slot's completion. */
	return ring->idx - atomic_load_explicit(&t->polled, memory_order_acquire) <
	       ring->num;
}

void siw_track_sq_posted(struct siw_wq_track *t, const struct siw_ring *ring,
			 uint32_t idx, bool signaled)
{
	atomic_store_explicit(&t->signaled[idx & (ring->num - 1)], signaled,
			      memory_order_relaxed);
	/* Release: the poller reads no flag beyond what this publishes. */
	atomic_store_explicit(&t->posted, idx + 1, memory_order_release);
}

void siw_track_sq_polled(struct siw_wq_track *t, const struct siw_ring *ring,
			 bool success)
{
	uint32_t at = atomic_load_explicit(&t->polled, memory_order_relaxed);
	uint32_t end = atomic_load_explicit(&t->posted, memory_order_acquire);

	if (!success) {
		atomic_store_explicit(&t->lax, true, memory_order_relaxed);
		return;
	}
	/*
	 * Send completions come in SQ order, and only signaled requests
	 * succeed visibly: this one is the first signaled request not yet
	 * polled, and the unsignaled ones before it are done too.
	 */
	for (; at != end; at++) {
		if (atomic_load_explicit(&t->signaled[at & (ring->num - 1)],
					 memory_order_relaxed)) {
			atomic_store_explicit(&t->polled, at + 1,
					      memory_order_release);
			return;
		}
	}
	/* No signaled request outstanding: we lost track, let VALID decide. */
	atomic_store_explicit(&t->lax, true, memory_order_relaxed);
}

void siw_track_rq_polled(struct siw_wq_track *t)
{
	atomic_fetch_add_explicit(&t->polled, 1, memory_order_release);
}

void siw_track_reset(struct siw_wq_track *t, const struct siw_ring *ring)
{
	atomic_store_explicit(&t->posted, ring->idx, memory_order_relaxed);
	atomic_store_explicit(&t->polled, ring->idx, memory_order_release);
	atomic_store_explicit(&t->lax, false, memory_order_relaxed);
}

bool siw_sqe_set_sges(struct siw_abi_sqe *sqe, const struct siw_sge_src *sg,
		      int n, int max)
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

bool siw_sqe_set_inline(struct siw_abi_sqe *sqe, const struct siw_sge_src *sg,
			int n)
{
	char *data = (char *)&sqe->sge[1];
	size_t room = SIW_ABI_MAX_INLINE, used = 0;
	int i;

	if (n < 0)
		return false;
	for (i = 0; i < n; i++) {
		if (sg[i].length > room - used)
			return false;
		memcpy(data + used, (const void *)(uintptr_t)sg[i].addr,
		       sg[i].length);
		used += sg[i].length;
	}
	/* The same encoding the kernel uses for its own consumers. */
	sqe->sge[0].laddr = (uintptr_t)data;
	sqe->sge[0].length = used;
	sqe->sge[0].lkey = 0;
	sqe->num_sge = used ? 1 : 0;
	return true;
}
