// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Ring logic shared with the kernel; see siw_queue.h. The element flags
 * live at the same offset in SQE, RQE and CQE (16 bits in work queue
 * elements, 8 in CQEs), which is what lets one ring type serve all.
 * What runs for every request or completion is inline in the header.
 */
#include <stdatomic.h>
#include <string.h>

#include "siw_queue.h"

_Static_assert(offsetof(struct siw_abi_sqe, flags) ==
	       offsetof(struct siw_abi_rqe, flags), "WQE flags moved");
_Static_assert(sizeof(struct siw_abi_sge) == sizeof(struct siw_sge_src),
	       "SGE layout differs");

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

void siw_sq_reset(struct siw_sq_track *t, const struct siw_ring *ring)
{
	atomic_store_explicit(&t->sig_head,
			      atomic_load_explicit(&t->sig_tail, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&t->polled, ring->idx, memory_order_release);
	atomic_store_explicit(&t->lax, false, memory_order_relaxed);
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
