/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The queue locks of the fast path. pthread_spin_lock() and its unlock
 * are calls through the PLT on every post and poll, which cost about as
 * many instructions as the work they protect; these are inline. A
 * zeroed lock is unlocked, so calloc() initialises it.
 */
#ifndef SIW_LOCK_H
#define SIW_LOCK_H

#include <stdatomic.h>

struct siw_lock {
	atomic_int taken;
};

static inline void siw_lock(struct siw_lock *l)
{
	while (atomic_exchange_explicit(&l->taken, 1, memory_order_acquire)) {
		/* Wait on a plain read: no cache line ping-pong meanwhile. */
		while (atomic_load_explicit(&l->taken, memory_order_relaxed)) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		}
	}
}

static inline void siw_unlock(struct siw_lock *l)
{
	atomic_store_explicit(&l->taken, 0, memory_order_release);
}

#endif /* SIW_LOCK_H */
