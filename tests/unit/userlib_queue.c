// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Host unit test of userlib's ring logic (userlib/siw_queue.c): ring
 * indexing across u32 wrap, VALID handover in both directions, full and
 * empty queues, CQ arming, SGE and inline encoding. The test plays the
 * kernel's part on plain memory. Prints "N passed, N failed".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siw_queue.h"

static int passed, failed;

#define CHECK(cond, ...)						\
	do {								\
		if (cond) {						\
			passed++;					\
		} else {						\
			failed++;					\
			printf("FAIL %s:%d: ", __func__, __LINE__);	\
			printf(__VA_ARGS__);				\
			printf("\n");					\
		}							\
	} while (0)

/* The kernel's side: consume the SQE at its index if VALID. */
static int kernel_take_wqe(struct siw_abi_sqe *q, uint32_t num, uint32_t *get,
			   uint64_t *id)
{
	struct siw_abi_sqe *e = &q[*get % num];

	if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & SIW_ABI_WQE_VALID))
		return 0;
	*id = e->id;
	__atomic_store_n(&e->flags, 0, __ATOMIC_RELEASE);
	(*get)++;
	return 1;
}

/* The kernel's side: add a CQE at its index unless the CQ is full. */
static int kernel_add_cqe(struct siw_abi_cqe *q, uint32_t num, uint32_t *put,
			  uint64_t id)
{
	struct siw_abi_cqe *e = &q[*put % num];

	if (__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) & SIW_ABI_WQE_VALID)
		return 0;
	e->id = id;
	e->bytes = (uint32_t)id;
	__atomic_store_n(&e->flags, SIW_ABI_WQE_VALID, __ATOMIC_RELEASE);
	(*put)++;
	return 1;
}

static void test_init(void)
{
	struct siw_abi_sqe q[4];
	struct siw_ring r;

	CHECK(siw_ring_init(&r, q, 0, sizeof(q[0]), 0) < 0, "size 0 accepted");
	CHECK(siw_ring_init(&r, q, 3, sizeof(q[0]), 0) < 0, "size 3 accepted");
	CHECK(siw_ring_init(&r, q, 4, sizeof(q[0]), 0) == 0, "size 4 refused");
	CHECK(siw_ring_slot(&r, 5) == &q[1], "slot 5 of 4 is not 1");
	CHECK(siw_ring_slot(&r, 0xffffffffu) == &q[3], "slot ~0 is not 3");
}

/* Producer and consumer indices start just below 2^32 and wrap. */
static void test_sq_wrap_full_empty(uint32_t start)
{
	enum { NUM = 8 };
	struct siw_abi_sqe q[NUM];
	uint32_t kget = start;
	struct siw_ring r;
	uint64_t next_id = 0, want_id = 0, id;
	int round, i, ok;

	memset(q, 0, sizeof(q));
	siw_ring_init(&r, q, NUM, sizeof(q[0]), start);

	for (round = 0; round < 5; round++) {
		/* Fill to the brim; the next claim must see a full queue. */
		for (i = 0; i < NUM; i++) {
			struct siw_abi_sqe *e = siw_wq_claim(&r);

			if (!e)
				break;
			e->id = next_id++;
			siw_wq_publish(&r, e, SIW_ABI_WQE_SIGNALLED);
		}
		CHECK(i == NUM, "round %d: only %d of %d posted", round, i, NUM);
		CHECK(siw_wq_claim(&r) == NULL, "round %d: full queue not full",
		      round);
		/* The predecessor is still queued: no doorbell needed. */
		CHECK(!siw_sq_needs_doorbell(&r, r.idx), "doorbell on busy SQ");
		/* But a batch that wrote the whole ring must ring. */
		CHECK(siw_sq_needs_doorbell(&r, r.idx - NUM),
		      "no doorbell for a batch that filled the ring");

		/* Kernel drains some, then all; order must be FIFO. */
		ok = 1;
		for (i = 0; i < 3; i++)
			ok &= kernel_take_wqe(q, NUM, &kget, &id) &&
			      id == want_id++;
		CHECK(ok, "round %d: partial drain out of order", round);
		CHECK(siw_wq_claim(&r) != NULL, "round %d: freed slot not free",
		      round);
		while (kernel_take_wqe(q, NUM, &kget, &id))
			ok &= id == want_id++;
		CHECK(ok && kget == r.idx, "round %d: drain mismatch", round);
		/* Kernel idle now: posting must ring. */
		CHECK(siw_sq_needs_doorbell(&r, r.idx), "no doorbell on idle SQ");
	}
	CHECK(r.idx == start + 5u * NUM, "index did not advance mod 2^32");
	CHECK(start < 0xffffff00u || r.idx < start, "index did not wrap");
}

/*
 * A one-slot SQ (perftest's control QP): the slot before a new request
 * is the request itself, so every post must ring the doorbell.
 */
static void test_sq_one_slot(void)
{
	struct siw_abi_sqe q[1];
	uint32_t kget = 0, first;
	struct siw_ring r;
	uint64_t id;
	int i;

	memset(q, 0, sizeof(q));
	CHECK(siw_ring_init(&r, q, 1, sizeof(q[0]), 0) == 0, "one-slot ring");
	for (i = 0; i < 3; i++) {
		struct siw_abi_sqe *e = siw_wq_claim(&r);

		CHECK(e != NULL, "one-slot SQ: slot not free for post %d", i);
		if (!e)
			return;
		first = r.idx;
		e->id = i;
		siw_wq_publish(&r, e, SIW_ABI_WQE_SIGNALLED);
		CHECK(siw_sq_needs_doorbell(&r, first),
		      "one-slot SQ: post %d rings no doorbell", i);
		CHECK(kernel_take_wqe(q, 1, &kget, &id) && id == (uint64_t)i,
		      "one-slot SQ: post %d not taken", i);
	}
}

static void test_cq(uint32_t start)
{
	enum { NUM = 4 };
	struct {
		struct siw_abi_cqe cqe[NUM];
		struct siw_abi_cq_ctrl ctrl;
	} m;
	uint32_t kput = start;
	struct siw_abi_cqe *c;
	struct siw_ring r;
	uint64_t id = 100, want = 100;
	int i, ok = 1;

	memset(&m, 0, sizeof(m));
	siw_ring_init(&r, m.cqe, NUM, sizeof(m.cqe[0]), start);

	CHECK(siw_cq_peek(&r) == NULL, "empty CQ not empty");
	CHECK(!siw_cq_arm(&r, &m.ctrl, false), "arm on empty CQ sees a CQE");
	CHECK(m.ctrl.flags == (SIW_ABI_NOTIFY_SOLICITED |
			       SIW_ABI_NOTIFY_NEXT_COMPLETION),
	      "arm wrote 0x%x", m.ctrl.flags);
	siw_cq_arm(&r, &m.ctrl, true);
	CHECK(m.ctrl.flags == SIW_ABI_NOTIFY_SOLICITED,
	      "solicited arm wrote 0x%x", m.ctrl.flags);

	for (i = 0; i < NUM; i++)
		ok &= kernel_add_cqe(m.cqe, NUM, &kput, id++);
	CHECK(ok, "kernel could not fill the CQ");
	CHECK(!kernel_add_cqe(m.cqe, NUM, &kput, id), "full CQ accepted more");
	CHECK(siw_cq_arm(&r, &m.ctrl, false), "arm misses waiting CQEs");

	/* Interleave consumption and production across the wrap. */
	for (i = 0; i < 3 * NUM; i++) {
		c = siw_cq_peek(&r);
		if (!c) {
			ok = 0;
			break;
		}
		ok &= c->id == want++;
		siw_cq_release(&r, c);
		ok &= kernel_add_cqe(m.cqe, NUM, &kput, id++);
	}
	CHECK(ok, "CQ handover out of order or lost");
	for (i = 0; i < NUM; i++) {
		c = siw_cq_peek(&r);
		if (c) {
			ok &= c->id == want++;
			siw_cq_release(&r, c);
		}
	}
	CHECK(ok && siw_cq_peek(&r) == NULL, "CQ not empty after draining");
	CHECK(r.idx == kput, "consumer %u != producer %u", r.idx, kput);
}

static void test_sge_inline(void)
{
	struct siw_abi_sqe sqe;
	char buf[200];
	struct siw_sge_src sg[SIW_ABI_MAX_SGE + 1];
	int i;

	for (i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)i;
	for (i = 0; i <= SIW_ABI_MAX_SGE; i++) {
		sg[i].addr = (uintptr_t)&buf[i * 10];
		sg[i].length = 10;
		sg[i].lkey = 0x100 + i;
	}
	memset(&sqe, 0, sizeof(sqe));
	CHECK(siw_sqe_set_sges(&sqe, sg, 3, 3) && sqe.num_sge == 3 &&
	      sqe.sge[2].lkey == 0x102 && sqe.sge[2].laddr == sg[2].addr,
	      "3 SGEs not copied");
	CHECK(!siw_sqe_set_sges(&sqe, sg, 4, 3), "num_sge above max accepted");
	CHECK(!siw_sqe_set_sges(&sqe, sg, SIW_ABI_MAX_SGE + 1, 100),
	      "num_sge above ABI max accepted");

	CHECK(siw_sqe_set_inline(&sqe, sg, 3) && sqe.num_sge == 1 &&
	      sqe.sge[0].length == 30 &&
	      !memcmp(&sqe.sge[1], buf, 30), "inline data not copied");
	CHECK(siw_sqe_set_inline(&sqe, sg, 0) && sqe.num_sge == 0 &&
	      sqe.sge[0].length == 0, "empty inline wrong");
	sg[0].addr = (uintptr_t)buf;
	sg[0].length = SIW_ABI_MAX_INLINE;
	CHECK(siw_sqe_set_inline(&sqe, sg, 1) &&
	      sqe.sge[0].length == SIW_ABI_MAX_INLINE, "max inline refused");
	sg[0].length = SIW_ABI_MAX_INLINE + 1;
	CHECK(!siw_sqe_set_inline(&sqe, sg, 1), "inline too long accepted");
}

/*
 * A send slot is free only once the kernel released it and its
 * completion (or a later signaled one's) was polled; an error hands the
 * SQ to VALID alone, a reset starts over.
 */
static void test_sq_track(uint32_t start)
{
	struct siw_abi_sqe q[4];
	_Atomic uint32_t sig[4];
	struct siw_sq_track t = { .sig = sig };
	struct siw_ring r;
	static const bool pattern[4] = { false, false, true, false };
	uint32_t get = start, i;
	uint64_t id;
	void *e;

	memset(q, 0, sizeof(q));
	siw_ring_init(&r, q, 4, sizeof(q[0]), start);
	siw_sq_reset(&t, &r);

	for (i = 0; i < 4; i++) {
		CHECK(siw_sq_room(&t, &r), "no room for request %u", i);
		e = siw_wq_claim(&r);
		siw_sq_posted(&t, &r, r.idx, pattern[i]);
		siw_wq_publish(&r, e, 0);
	}
	CHECK(!siw_sq_room(&t, &r), "room in a full SQ");
	while (kernel_take_wqe(q, 4, &get, &id))
		;
	CHECK(siw_wq_claim(&r) != NULL, "kernel released nothing");
	CHECK(!siw_sq_room(&t, &r), "room before any completion was polled");

	/* The signaled third request's completion frees it and the two before. */
	siw_sq_polled(&t, &r, true);
	CHECK(siw_sq_room(&t, &r), "no room after a completion was polled");
	CHECK(atomic_load(&t.polled) == start + 3, "freed up to %u, not 3",
	      atomic_load(&t.polled) - start);
	e = siw_wq_claim(&r);
	siw_sq_posted(&t, &r, r.idx, true);
	siw_wq_publish(&r, e, 0);
	for (i = 0; i < 2; i++) {
		CHECK(siw_sq_room(&t, &r), "no room for refill %u", i);
		e = siw_wq_claim(&r);
		siw_sq_posted(&t, &r, r.idx, false);
		siw_wq_publish(&r, e, 0);
	}
	CHECK(!siw_sq_room(&t, &r), "the unsignaled fourth request was freed early");

	/* Slot 4 (unsignaled), slot 5 (signaled): one completion frees both. */
	siw_sq_polled(&t, &r, true);
	CHECK(siw_sq_room(&t, &r) && atomic_load(&t.polled) == start + 5,
	      "freed up to %u, not 5", atomic_load(&t.polled) - start);

	/* Only unsignaled requests left, yet a success: lost track. */
	siw_sq_polled(&t, &r, true);
	CHECK(atomic_load(&t.lax),
	      "a completion without a signaled request went unnoticed");
	siw_sq_reset(&t, &r);
	CHECK(!atomic_load(&t.lax) && atomic_load(&t.polled) == r.idx,
	      "reset did not start over");

	siw_sq_polled(&t, &r, false);
	CHECK(atomic_load(&t.lax) && siw_sq_room(&t, &r),
	      "after an error the SQ should go by VALID alone");

	/*
	 * Signaled requests only, many times the SQ's size: each completion
	 * frees exactly its own slot while the ring of signaled indices
	 * wraps.
	 */
	while (kernel_take_wqe(q, 4, &get, &id))
		;
	siw_sq_reset(&t, &r);
	for (i = 0; i < 6 * 4; i++) {
		if (i >= 4) {
			CHECK(!siw_sq_room(&t, &r), "room in a full SQ at %u", i);
			siw_sq_polled(&t, &r, true);
		}
		CHECK(siw_sq_room(&t, &r), "no room for signaled request %u", i);
		CHECK(r.idx - atomic_load(&t.polled) == (i >= 4 ? 3 : i),
		      "request %u: freed %u behind", i,
		      r.idx - atomic_load(&t.polled));
		e = siw_wq_claim(&r);
		CHECK(e != NULL, "slot of request %u still the kernel's", i);
		siw_sq_posted(&t, &r, r.idx, true);
		siw_wq_publish(&r, e, 0);
		kernel_take_wqe(q, 4, &get, &id);
	}
	CHECK(!atomic_load(&t.lax), "lost track of signaled requests");

	/* Several completions polled while the poster waited: each frees one. */
	for (i = 0; i < 3; i++)
		siw_sq_polled(&t, &r, true);
	CHECK(siw_sq_room(&t, &r) && r.idx - atomic_load(&t.polled) == 1,
	      "freed %u behind after three completions",
	      r.idx - atomic_load(&t.polled));
}

/* A receive slot is free once its completion was polled. */
static void test_rq_track(uint32_t start)
{
	struct siw_abi_rqe q[4];
	struct siw_rq_track t;
	struct siw_ring r;

	memset(q, 0, sizeof(q));
	siw_ring_init(&r, q, 4, sizeof(q[0]), start);
	siw_rq_reset(&t, &r);
	r.idx += 4;
	CHECK(!siw_rq_room(&t, &r), "room in a full RQ");
	siw_rq_polled(&t);
	CHECK(siw_rq_room(&t, &r), "no room after a receive was polled");
}

int main(void)
{
	test_init();
	test_sq_wrap_full_empty(0);
	test_sq_wrap_full_empty(0xfffffff5u);
	test_sq_one_slot();
	test_cq(0);
	test_cq(0xfffffffdu);
	test_sge_inline();
	test_sq_track(0);
	test_sq_track(0xfffffffeu);
	test_rq_track(0);
	test_rq_track(0xfffffffeu);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
