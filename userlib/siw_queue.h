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
 * Work queues (SQ, RQ, SRQ): we produce, the kernel consumes.
 * siw_wq_claim() returns the next free element, or NULL while the kernel
 * still owns it (the queue is full). siw_wq_publish() hands it over.
 */
void *siw_wq_claim(struct siw_ring *ring);
void siw_wq_publish(struct siw_ring *ring, void *wqe, uint16_t flags);

/*
 * After publishing elements starting at @first: true if the kernel has
 * already consumed the element before @first, i.e. it may have gone idle
 * and will not find the new work without a doorbell. A still-VALID
 * predecessor means the kernel has work queued ahead of ours and will
 * reach ours on its own.
 */
bool siw_sq_needs_doorbell(const struct siw_ring *ring, uint32_t first);

/* CQ: the kernel produces, we consume. */
struct siw_abi_cqe *siw_cq_peek(const struct siw_ring *ring);
void siw_cq_release(struct siw_ring *ring, struct siw_abi_cqe *cqe);

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
 * The poller advances @polled (under its CQ's lock), the poster reads it
 * (under the queue's lock). After a send completes in error the kernel
 * flushes the rest, unsignaled requests included, and no longer tells
 * which completion is whose: the SQ then goes by VALID alone (@lax) until
 * the QP is reset.
 */
struct siw_wq_track {
	_Atomic uint32_t polled;	/* slots up to here are the poster's */
	_Atomic uint32_t posted;	/* SQ only: signaled[] is set up to here */
	_Atomic bool lax;
	_Atomic uint8_t *signaled;	/* SQ only: per slot, completes visibly */
};

/* Room for one more request at @ring->idx? */
bool siw_track_room(const struct siw_wq_track *t, const struct siw_ring *ring);
/* The SQ request just written at @idx does (not) produce a completion. */
void siw_track_sq_posted(struct siw_wq_track *t, const struct siw_ring *ring,
			 uint32_t idx, bool signaled);
/* A send completion was polled, with @success or an error status. */
void siw_track_sq_polled(struct siw_wq_track *t, const struct siw_ring *ring,
			 bool success);
/* A receive completion was polled: one RQ or SRQ slot is done. */
void siw_track_rq_polled(struct siw_wq_track *t);
/* The QP went to Reset: the kernel dropped all requests unreported. */
void siw_track_reset(struct siw_wq_track *t, const struct siw_ring *ring);

/* Copies @n gather elements into @sqe; false if @n exceeds @max. */
struct siw_sge_src {
	uint64_t addr;
	uint32_t length;
	uint32_t lkey;
};
bool siw_sqe_set_sges(struct siw_abi_sqe *sqe, const struct siw_sge_src *sg,
		      int n, int max);
/*
 * Copies the data @sg points to into the SQE itself. False if it does
 * not fit (SIW_ABI_MAX_INLINE bytes).
 */
bool siw_sqe_set_inline(struct siw_abi_sqe *sqe, const struct siw_sge_src *sg,
			int n);

#endif /* SIW_QUEUE_H */
