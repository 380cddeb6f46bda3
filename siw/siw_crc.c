// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Which code computes the MPA CRC32C (RFC 5044, section 4.3).
 *
 * The crypto API's best crc32c, which libcrc32c's crc32c() calls, is
 * chosen by priority, and priorities assume hardware: on x86 the SSE4.2
 * crc32 instruction (crc32c-intel), several GB/s on a real CPU. A guest
 * under binary translation (QEMU TCG, where people test RDMA software
 * without RDMA hardware) has that instruction emulated bit by bit, and
 * the crc32c library code of lib/crc32.c, table-driven on x86, is then
 * six times as fast (660 against 112 MB/s, 6.1 under TCG; on the host
 * the instruction does 9 GB/s).
 * So by default both are timed at load and the faster one is used.
 * Both compute the same function of the same CRC register, so the choice
 * may change at any time, even in the middle of an FPDU.
 */
#include <crypto/hash.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/random.h>
#include <linux/string.h>
#include <linux/preempt.h>

#include "siw.h"

bool siw_crc_use_lib __read_mostly;

static const char * const siw_crc_names[] = {
	[SIW_CRC_AUTO] = "auto",
	[SIW_CRC_LIB] = "lib",
	[SIW_CRC_CRYPTO] = "crypto",
};

/* Whether mpa_crc_impl was given at load, which then chose already. */
static bool siw_crc_chosen;

static u32 siw_crc_by_lib(u32 crc, const void *p, size_t len)
{
	return __crc32c_le(crc, p, len);
}

static u32 siw_crc_by_crypto(u32 crc, const void *p, size_t len)
{
	return crc32c(crc, p, len);
}

#define SIW_CRC_TIMED_PASSES	8
#define SIW_CRC_TIMED_ROUNDS	5

/*
 * MB/s over the best of a few short rounds: a round that was interrupted
 * or ran on a descheduled vCPU only makes itself slower. Each pass goes
 * on from the CRC before it, or the compiler would compute a __pure
 * function's same call only once.
 */
static u64 siw_crc_rate(u32 (*fn)(u32, const void *, size_t), const u8 *buf,
			u32 *crc)
{
	u64 best = U64_MAX, t;
	int round, pass;

	*crc = ~0U;
	for (round = 0; round < SIW_CRC_TIMED_ROUNDS; round++) {
		preempt_disable();
		t = ktime_get_ns();
		for (pass = 0; pass < SIW_CRC_TIMED_PASSES; pass++)
			*crc = fn(*crc, buf, SZ_4K);
		t = ktime_get_ns() - t;
		preempt_enable();
		best = min(best, t);
	}
	return div64_u64((u64)SIW_CRC_TIMED_PASSES * SZ_4K * 1000, max(best, 1ULL));
}

/* For the log: the driver crc32c() uses, the highest priority one. */
static void siw_crc_crypto_name(char *name, size_t size)
{
	struct crypto_shash *tfm = crypto_alloc_shash("crc32c", 0, 0);

	if (IS_ERR(tfm)) {
		strscpy(name, "crc32c", size);
		return;
	}
	strscpy(name, crypto_shash_driver_name(tfm), size);
	crypto_free_shash(tfm);
}

/* Times both on a page of random bytes and uses the faster one. */
static int siw_crc_time(void)
{
	char name[CRYPTO_MAX_ALG_NAME];
	u64 lib_mbs, crypto_mbs;
	u32 lib_crc, crypto_crc;
	u8 *buf;

	buf = kmalloc(SZ_4K, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	get_random_bytes(buf, SZ_4K);
	lib_mbs = siw_crc_rate(siw_crc_by_lib, buf, &lib_crc);
	crypto_mbs = siw_crc_rate(siw_crc_by_crypto, buf, &crypto_crc);
	kfree(buf);
	siw_crc_crypto_name(name, sizeof(name));

	if (lib_crc != crypto_crc) {
		pr_err("siw: mpa_crc_impl: lib/crc32 and %s disagree (%08x, %08x); using %s\n",
		       name, lib_crc, crypto_crc, name);
		WRITE_ONCE(siw_crc_use_lib, false);
		return 0;
	}
	WRITE_ONCE(siw_crc_use_lib, lib_mbs > crypto_mbs);
	pr_info("siw: MPA CRC32C: lib/crc32 %llu MB/s, %s %llu MB/s: using %s\n",
		lib_mbs, name, crypto_mbs,
		lib_mbs > crypto_mbs ? "lib/crc32" : name);
	return 0;
}

int siw_crc_select(enum siw_crc_impl impl)
{
	int rv = 0;

	switch (impl) {
	case SIW_CRC_AUTO:
		rv = siw_crc_time();
		break;
	case SIW_CRC_LIB:
		WRITE_ONCE(siw_crc_use_lib, true);
		break;
	case SIW_CRC_CRYPTO:
		WRITE_ONCE(siw_crc_use_lib, false);
		break;
	}
	if (!rv)
		siw_crc_chosen = true;
	return rv;
}

int siw_crc_init(void)
{
	return siw_crc_chosen ? 0 : siw_crc_select(SIW_CRC_AUTO);
}

int siw_crc_parse(const char *val, enum siw_crc_impl *impl)
{
	int i = sysfs_match_string(siw_crc_names, val);

	if (i < 0)
		return i;
	*impl = i;
	return 0;
}

const char *siw_crc_in_use(void)
{
	return READ_ONCE(siw_crc_use_lib) ? siw_crc_names[SIW_CRC_LIB] :
					      siw_crc_names[SIW_CRC_CRYPTO];
}
