// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Fuzz target for the iWARP wire codec (siw/siw_wire.c).
 *
 * The input is taken as an MPA Request, as an MPA Reply and as an FPDU
 * (ULPDU_Length first). Invariants: nothing outside the input is read
 * (ASan), lengths reported lie within the input, whatever parses builds
 * back to the same bytes (bits the RFCs say not to check aside), and a
 * rejected segment yields a TERMINATE that parses with its reason.
 *
 * Built two ways (tests/Makefile): with gcc and a small driver (main()
 * below) that runs a fixed number of random and mutated valid inputs as
 * a host test, and with clang -fsanitize=fuzzer -DSIW_LIBFUZZER
 * ('make -C tests fuzz') for open-ended libFuzzer runs.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siw_wire.h"

#define MPA_MAX (sizeof(struct siw_mpa_rr) + SIW_MPA_MAX_PRIVATE_DATA)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "wire_fuzz: invariant broken: %s\n", what);
		abort();
	}
}

#define CHECK(cond) check(!!(cond), #cond)

static void fuzz_mpa(const uint8_t *data, uint32_t len,
		     enum siw_mpa_kind kind)
{
	struct siw_mpa_info info;
	uint8_t in[MPA_MAX], out[MPA_MAX];
	const uint8_t *pd;
	int ret, n;

	ret = siw_mpa_parse(data, len, kind, &info);
	if (ret < 0) {
		CHECK(ret == -EPROTO || ret == -EOPNOTSUPP ||
		      ret == -EPROTONOSUPPORT);
		return;
	}
	CHECK(ret >= (int)sizeof(struct siw_mpa_rr) && ret <= (int)MPA_MAX);
	if ((uint32_t)ret > len) {
		CHECK(len < sizeof(struct siw_mpa_rr) ||
		      ret == (int)sizeof(struct siw_mpa_rr) +
			     (data[18] << 8 | data[19]));
		return;
	}

	pd = info.pd;
	CHECK(pd >= data + sizeof(struct siw_mpa_rr));
	CHECK(pd + info.pd_len == data + ret);

	if (kind == SIW_MPA_REQUEST)
		n = siw_mpa_req_build(out, sizeof(out), &info);
	else
		n = siw_mpa_rep_build(out, sizeof(out), &info);
	CHECK(n == ret);

	memcpy(in, data, ret);
	in[16] &= ~SIW_MPA_FLAG_RES;
	if (kind == SIW_MPA_REQUEST)
		in[16] &= ~SIW_MPA_FLAG_R;
	if (in[17] != SIW_MPA_REV_2)
		in[16] &= ~SIW_MPA_FLAG_ENHANCED;
	CHECK(!memcmp(in, out, ret));
}

static int term_reason_known(const struct siw_term_reason *why)
{
	switch (why->layer) {
	case SIW_TERM_LAYER_RDMAP:
		return why->etype == SIW_RDMAP_ETYPE_REMOTE_OP &&
		       (why->ecode == SIW_RDMAP_ECODE_VERSION ||
			why->ecode == SIW_RDMAP_ECODE_OPCODE ||
			why->ecode == SIW_RDMAP_ECODE_UNSPECIFIED);
	case SIW_TERM_LAYER_DDP:
		if (why->etype == SIW_DDP_ETYPE_TAGGED)
			return why->ecode == SIW_DDP_TAGGED_ECODE_VERSION;
		return why->etype == SIW_DDP_ETYPE_UNTAGGED &&
		       (why->ecode == SIW_DDP_UNTAGGED_ECODE_QN ||
			why->ecode == SIW_DDP_UNTAGGED_ECODE_MO ||
			why->ecode == SIW_DDP_UNTAGGED_ECODE_VERSION);
	}
	return 0;
}

static void fuzz_terminate(const uint8_t *data, uint32_t len,
			   const struct siw_term_reason *why)
{
	uint8_t term[SIW_TERM_MAX_LEN];
	struct siw_ddp_info info;
	struct siw_term_reason again;
	int n, ret;

	n = siw_term_build(term, sizeof(term), 1, why, data, len);
	CHECK(n >= (int)sizeof(struct siw_fpdu_term) &&
	      n <= (int)SIW_TERM_MAX_LEN);
	CHECK((uint32_t)n - sizeof(struct siw_fpdu_term) <= len);
	ret = siw_ddp_parse_hdr(term + 2, n - 2, n - 2, &info, &again);
	CHECK(ret == (int)sizeof(struct siw_fpdu_term) - 2);
	CHECK(info.opcode == SIW_RDMAP_TERMINATE);
	CHECK(info.term.layer == why->layer && info.term.etype == why->etype &&
	      info.term.ecode == why->ecode);
	CHECK(info.payload_len == n - sizeof(struct siw_fpdu_term));
}

static void fuzz_ddp(const uint8_t *data, uint32_t len)
{
	uint8_t in[sizeof(struct siw_fpdu_read_req)];
	uint8_t out[sizeof(struct siw_fpdu_read_req)];
	struct siw_ddp_info info;
	struct siw_term_reason why;
	uint16_t ulpdu;
	int ret, n;

	if (len < SIW_MPA_LEN_SIZE)
		return;
	ulpdu = data[0] << 8 | data[1];
	ret = siw_ddp_parse_hdr(data + 2, len - 2, ulpdu, &info, &why);
	if (ret < 0) {
		CHECK(ret == -EPROTO);
		CHECK(term_reason_known(&why));
		fuzz_terminate(data, len, &why);
		return;
	}
	CHECK(ret <= (int)sizeof(struct siw_fpdu_read_req) - 2);
	if ((uint32_t)ret > len - 2)
		return;
	CHECK(ret >= (int)sizeof(struct siw_ddp_tagged));

	CHECK(info.opcode < SIW_RDMAP_NUM_OPCODES);
	CHECK(ret + info.payload_len == ulpdu);
	if (info.tagged)
		n = siw_ddp_build_tagged(out, sizeof(out), &info);
	else
		n = siw_ddp_build_untagged(out, sizeof(out), &info);
	CHECK(n == ret + 2);

	memcpy(in, data, n);
	in[2] &= ~SIW_DDP_RSVD;
	in[3] &= ~SIW_RDMAP_RSVD;
	if (!info.tagged && !siw_rdmap_ops[info.opcode].inval)
		memset(in + 4, 0, 4);
	if (info.opcode == SIW_RDMAP_TERMINATE) {
		in[22] &= SIW_TERM_HDRCT_MASK >> 8;
		in[23] = 0;
	}
	CHECK(!memcmp(in, out, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t len = size > UINT32_MAX ? UINT32_MAX : size;

	fuzz_mpa(data, len, SIW_MPA_REQUEST);
	fuzz_mpa(data, len, SIW_MPA_REPLY);
	fuzz_ddp(data, len);
	return 0;
}

#ifndef SIW_LIBFUZZER
static uint64_t rng = 0x5157a11ce5eedull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 32;
}

/* A valid MPA frame or FPDU header from random parameters, or 0. */
static uint32_t seed_valid(uint8_t *buf, uint32_t size)
{
	static const uint8_t pd[SIW_MPA_MAX_PRIVATE_DATA] = { 1, 2, 3 };
	int ret;

	if (rnd() & 1) {
		struct siw_mpa_info info = {
			.rev = 1 + (rnd() & 1),
			.flags = rnd() & (SIW_MPA_CRC | SIW_MPA_REJECT),
			.pd = pd,
			.pd_len = rnd() % 40,
		};

		if (info.rev == SIW_MPA_REV_2 && (rnd() & 1)) {
			info.flags |= SIW_MPA_ENHANCED | (rnd() & SIW_MPA_P2P);
			info.rtr = rnd() & SIW_MPA_RTR_ALL;
			info.ird = rnd() & SIW_MPA_V2_IRD_ORD_MAX;
			info.ord = rnd() & SIW_MPA_V2_IRD_ORD_MAX;
		}
		if (rnd() & 1) {
			info.flags &= ~SIW_MPA_REJECT;
			ret = siw_mpa_req_build(buf, size, &info);
		} else {
			ret = siw_mpa_rep_build(buf, size, &info);
		}
	} else {
		unsigned int op = rnd() % SIW_RDMAP_NUM_OPCODES;
		const struct siw_rdmap_op *o = &siw_rdmap_ops[op];
		struct siw_ddp_info info = {
			.opcode = op,
			.last = o->single || (rnd() & 1),
			.stag = rnd(),
			.to = (uint64_t)rnd() << 32 | rnd(),
			.msn = rnd(),
			.mo = o->single ? 0 : rnd(),
			.inval_stag = o->inval ? rnd() : 0,
			.payload_len = o->payload ? rnd() % 64 : 0,
			.rreq = { rnd(), rnd(), rnd(), rnd(), rnd() },
			.term = { rnd() & 3, rnd() & 15, rnd() },
			.term_hdrct = rnd() & SIW_TERM_HDRCT_MASK,
		};

		if (o->tagged)
			ret = siw_ddp_build_tagged(buf, size, &info);
		else
			ret = siw_ddp_build_untagged(buf, size, &info);
		if (ret > 0 && ret + info.payload_len <= size) {
			memset(buf + ret, 0xa5, info.payload_len);
			ret += info.payload_len;
		}
	}
	return ret > 0 ? ret : 0;
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 200000;
	uint8_t buf[1024];
	long i;

	for (i = 0; i < iterations; i++) {
		uint32_t len = 0, k, flips;
		uint8_t *in;

		if (i % 4)
			len = seed_valid(buf, sizeof(buf));
		if (!len) {
			len = rnd() % 96;
			for (k = 0; k < len; k++)
				buf[k] = rnd();
		} else {
			flips = rnd() % 4;
			for (k = 0; k < flips; k++)
				buf[rnd() % len] ^= 1u << (rnd() % 8);
			if (!(rnd() % 4))
				len = rnd() % (len + 1);
		}
		/* Exactly len bytes on the heap, so overreads trip ASan. */
		in = malloc(len ? len : 1);
		if (!in)
			return 2;
		memcpy(in, buf, len);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	printf("ok wire_fuzz %ld inputs\n1 passed, 0 failed\n", iterations);
	return 0;
}
#endif
