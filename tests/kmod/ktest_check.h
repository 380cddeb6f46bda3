/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The test modules' one checking primitive: every check leaves a line in
 * the kernel log ("MODULE: ok   what" or "MODULE: FAIL what (file:line)"),
 * which the VM tests read, and failures are counted for the module's
 * verdict at load time.
 */
#ifndef KTEST_CHECK_H
#define KTEST_CHECK_H

#include <linux/printk.h>

static int failures;

/* Evaluates to whether COND held, so that a test can stop on a failure. */
#define CHECK(cond, fmt, ...)						\
	({								\
		bool __ok = (cond);					\
									\
		if (__ok)						\
			pr_info(KBUILD_MODNAME ": ok   " fmt "\n",	\
				##__VA_ARGS__);				\
		else {							\
			pr_err(KBUILD_MODNAME ": FAIL " fmt " (%s:%d)\n", \
			       ##__VA_ARGS__, __FILE__, __LINE__);	\
			failures++;					\
		}							\
		__ok;							\
	})

#endif
