// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Unit tests of the iWARP wire codec (siw/siw_wire.c), run on the host.
 * Built with ASan/UBSan: parsers get inputs in buffers of exactly the
 * length they are told, so reading one byte too far fails the test.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "siw_wire.h"

static int n_pass, n_fail;

static void result(int ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok %s\n", name);
		n_pass++;
		return;
	}
	printf("not ok %s: ", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	n_fail++;
}

/* Bitwise CRC32c (Castagnoli, reflected polynomial 0x82f63b78). */
static uint32_t siw_crc32c_sw(uint32_t crc, const void *p, size_t len)
{
	const uint8_t *b = p;
	int k;

	while (len--) {
		crc ^= *b++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78 & -(crc & 1));
	}
	return crc;
}

static uint32_t mpa_crc(const void *p, size_t len)
{
	return ~siw_crc32c_sw(~0u, p, len);
}

/* A copy of n bytes in a heap block of exactly n bytes. */
static uint8_t *exact(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	if (!q) {
		perror("malloc");
		exit(2);
	}
	memcpy(q, p, n);
	return q;
}

/* ---- CRC32c vectors (RFC 3720 appendix B.4) ------------------------- */

static void test_crc32c(void)
{
	uint8_t buf[32];
	int i;

	memset(buf, 0, sizeof(buf));
	result(mpa_crc(buf, 32) == 0x8a9136aa, "crc32c_zeros", "%08x",
	       mpa_crc(buf, 32));
	memset(buf, 0xff, sizeof(buf));
	result(mpa_crc(buf, 32) == 0x62a8ab43, "crc32c_ones", "%08x",
	       mpa_crc(buf, 32));
	for (i = 0; i < 32; i++)
		buf[i] = i;
	result(mpa_crc(buf, 32) == 0x46dd794e, "crc32c_incrementing", "%08x",
	       mpa_crc(buf, 32));
	for (i = 0; i < 32; i++)
		buf[i] = 31 - i;
	result(mpa_crc(buf, 32) == 0x113fdb5c, "crc32c_decrementing", "%08x",
	       mpa_crc(buf, 32));
}

/* ---- MPA ------------------------------------------------------------ */

#define KEY_REQ 'M', 'P', 'A', ' ', 'I', 'D', ' ', 'R', 'e', 'q', ' ', \
		'F', 'r', 'a', 'm', 'e'
#define KEY_REP 'M', 'P', 'A', ' ', 'I', 'D', ' ', 'R', 'e', 'p', ' ', \
		'F', 'r', 'a', 'm', 'e'

/* Rev 2 request, C and enhanced set, IRD 16, ORD 8, no application data. */
static const uint8_t img_req_v2[] = {
	KEY_REQ, 0x50, 0x02, 0x00, 0x04,
	0x00, 0x10, 0x00, 0x08,
};

/* Rev 2 request, P2P with Write and Read RTR, IRD 16, ORD 8, "abc". */
static const uint8_t img_req_v2_p2p[] = {
	KEY_REQ, 0x10, 0x02, 0x00, 0x07,
	0x80, 0x10, 0xc0, 0x08, 'a', 'b', 'c',
};

/* Rev 2 reply: P2P, Send RTR, IRD 0x3fff, ORD 1, CRC. */
static const uint8_t img_rep_v2_p2p[] = {
	KEY_REP, 0x50, 0x02, 0x00, 0x04,
	0xff, 0xff, 0x00, 0x01,
};

/* Rev 1 request offering CRC and large FPDUs, no private data. */
static const uint8_t img_req_v1_large[] = {
	KEY_REQ, 0x48, 0x01, 0x00, 0x00,
};

/* Rev 1 reply rejecting, no private data. */
static const uint8_t img_rep_v1_reject[] = {
	KEY_REP, 0x20, 0x01, 0x00, 0x00,
};

struct mpa_image {
	const char *name;
	const uint8_t *img;
	size_t len;
	enum siw_mpa_kind kind;
	struct siw_mpa_info info;
};

static const struct mpa_image mpa_images[] = {
	{ "req_v2_crc_ird16_ord8", img_req_v2, sizeof(img_req_v2),
	  SIW_MPA_REQUEST,
	  { .flags = SIW_MPA_CRC | SIW_MPA_ENHANCED, .rev = 2,
	    .ird = 16, .ord = 8 } },
	{ "req_v2_p2p_write_read", img_req_v2_p2p, sizeof(img_req_v2_p2p),
	  SIW_MPA_REQUEST,
	  { .flags = SIW_MPA_ENHANCED | SIW_MPA_P2P, .rev = 2,
	    .rtr = SIW_MPA_RTR_WRITE | SIW_MPA_RTR_READ,
	    .ird = 16, .ord = 8, .pd_len = 3, .pd = "abc" } },
	{ "rep_v2_p2p_send", img_rep_v2_p2p, sizeof(img_rep_v2_p2p),
	  SIW_MPA_REPLY,
	  { .flags = SIW_MPA_CRC | SIW_MPA_ENHANCED | SIW_MPA_P2P, .rev = 2,
	    .rtr = SIW_MPA_RTR_SEND, .ird = 0x3fff, .ord = 1 } },
	{ "req_v1_crc_large", img_req_v1_large, sizeof(img_req_v1_large),
	  SIW_MPA_REQUEST, { .flags = SIW_MPA_CRC | SIW_MPA_LARGE_FPDU, .rev = 1 } },
	{ "rep_v1_reject", img_rep_v1_reject, sizeof(img_rep_v1_reject),
	  SIW_MPA_REPLY, { .flags = SIW_MPA_REJECT, .rev = 1 } },
};

static int mpa_info_eq(const struct siw_mpa_info *a,
		       const struct siw_mpa_info *b)
{
	return a->flags == b->flags && a->rev == b->rev && a->rtr == b->rtr &&
	       a->ird == b->ird && a->ord == b->ord && a->pd_len == b->pd_len &&
	       (!a->pd_len || !memcmp(a->pd, b->pd, a->pd_len));
}

static int mpa_build(enum siw_mpa_kind kind, void *buf, uint32_t size,
		     const struct siw_mpa_info *info)
{
	if (kind == SIW_MPA_REQUEST)
		return siw_mpa_req_build(buf, size, info);
	return siw_mpa_rep_build(buf, size, info);
}

static void test_mpa_images(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(mpa_images) / sizeof(mpa_images[0]); i++) {
		const struct mpa_image *m = &mpa_images[i];
		struct siw_mpa_info info;
		uint8_t buf[600], *in;
		int ret;

		ret = mpa_build(m->kind, buf, sizeof(buf), &m->info);
		snprintf(name, sizeof(name), "mpa_image_build_%s", m->name);
		result(ret == (int)m->len && !memcmp(buf, m->img, m->len), name,
		       "ret %d, bytes differ", ret);

		in = exact(m->img, m->len);
		memset(&info, 0, sizeof(info));
		ret = siw_mpa_parse(in, m->len, m->kind, &info);
		snprintf(name, sizeof(name), "mpa_image_parse_%s", m->name);
		result(ret == (int)m->len && mpa_info_eq(&info, &m->info) &&
		       (!info.pd_len || info.pd == in + m->len - info.pd_len),
		       name, "ret %d flags %x rev %u rtr %x ird %u ord %u pd %u",
		       ret, info.flags, info.rev, info.rtr, info.ird, info.ord,
		       info.pd_len);
		free(in);
	}
}

static void test_mpa_roundtrip(void)
{
	static uint8_t pd[SIW_MPA_MAX_PRIVATE_DATA];
	static const struct siw_mpa_info cases[] = {
		{ .rev = 1 },
		{ .rev = 1, .flags = SIW_MPA_CRC, .pd_len = 1 },
		{ .rev = 1, .pd_len = SIW_MPA_MAX_PRIVATE_DATA },
		{ .rev = 2 },
		{ .rev = 2, .flags = SIW_MPA_CRC, .pd_len = 100 },
		{ .rev = 2, .flags = SIW_MPA_ENHANCED },
		{ .rev = 2, .flags = SIW_MPA_ENHANCED, .ird = 0x3fff,
		  .ord = 0x3fff, .pd_len = SIW_MPA_MAX_PRIVATE_DATA - 4 },
		{ .rev = 2, .flags = SIW_MPA_ENHANCED | SIW_MPA_P2P,
		  .rtr = SIW_MPA_RTR_ALL, .ird = 1, .ord = 0 },
		{ .rev = 2, .flags = SIW_MPA_ENHANCED | SIW_MPA_P2P |
		  SIW_MPA_CRC, .rtr = SIW_MPA_RTR_READ, .ird = 2, .ord = 3,
		  .pd_len = 7 },
		{ .rev = 1, .flags = SIW_MPA_LARGE_FPDU },
		{ .rev = 2, .flags = SIW_MPA_ENHANCED | SIW_MPA_LARGE_FPDU |
		  SIW_MPA_CRC, .ird = 5, .ord = 6, .pd_len = 2 },
	};
	char name[128];
	size_t i, j;
	int kind;

	for (i = 0; i < sizeof(pd); i++)
		pd[i] = i * 7 + 1;

	for (kind = SIW_MPA_REQUEST; kind <= SIW_MPA_REPLY; kind++) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct siw_mpa_info in = cases[i], out;
			uint8_t buf[600], *frame;
			int len, ret;

			in.pd = pd;
			for (j = 0; j < 2; j++) {
				if (j == 1) {
					if (kind != SIW_MPA_REPLY)
						break;
					in.flags |= SIW_MPA_REJECT;
				}
				len = mpa_build(kind, buf, sizeof(buf), &in);
				frame = exact(buf, len > 0 ? len : 0);
				memset(&out, 0, sizeof(out));
				ret = siw_mpa_parse(frame, len, kind, &out);
				snprintf(name, sizeof(name),
					 "mpa_roundtrip_%s_%zu%s",
					 kind == SIW_MPA_REQUEST ? "req" : "rep",
					 i, j ? "_reject" : "");
				result(len > 0 && ret == len &&
				       mpa_info_eq(&in, &out), name,
				       "len %d ret %d", len, ret);
				free(frame);
			}
		}
	}
}

static void test_mpa_build_limits(void)
{
	static uint8_t pd[SIW_MPA_MAX_PRIVATE_DATA + 1];
	uint8_t buf[600];
	struct {
		const char *name;
		enum siw_mpa_kind kind;
		struct siw_mpa_info info;
		uint32_t size;
		int ret;
	} cases[] = {
		{ "ird_max", SIW_MPA_REQUEST, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .ird = 0x3fff }, 600, 24 },
		{ "ird_over", SIW_MPA_REQUEST, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .ird = 0x4000 }, 600, -EINVAL },
		{ "ord_over", SIW_MPA_REPLY, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .ord = 0x4000 }, 600, -EINVAL },
		{ "rtr_unknown", SIW_MPA_REQUEST, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .rtr = 8 }, 600, -EINVAL },
		{ "pd_512", SIW_MPA_REQUEST, { .rev = 1, .pd_len = 512 },
		  600, 532 },
		{ "pd_513", SIW_MPA_REQUEST, { .rev = 1, .pd_len = 513 },
		  600, -E2BIG },
		{ "pd_508_enhanced", SIW_MPA_REPLY, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .pd_len = 508 }, 600, 532 },
		{ "pd_509_enhanced", SIW_MPA_REPLY, { .rev = 2,
		  .flags = SIW_MPA_ENHANCED, .pd_len = 509 }, 600, -E2BIG },
		{ "buffer_exact", SIW_MPA_REQUEST, { .rev = 1, .pd_len = 10 },
		  30, 30 },
		{ "buffer_short", SIW_MPA_REQUEST, { .rev = 1, .pd_len = 10 },
		  29, -ENOSPC },
		{ "rev_0", SIW_MPA_REQUEST, { .rev = 0 }, 600, -EINVAL },
		{ "rev_3", SIW_MPA_REPLY, { .rev = 3 }, 600, -EINVAL },
		{ "reject_in_request", SIW_MPA_REQUEST, { .rev = 1,
		  .flags = SIW_MPA_REJECT }, 600, -EINVAL },
		{ "unknown_flag", SIW_MPA_REPLY, { .rev = 1, .flags = 1 << 7 },
		  600, -EINVAL },
		{ "enhanced_rev1", SIW_MPA_REQUEST, { .rev = 1,
		  .flags = SIW_MPA_ENHANCED }, 600, -EINVAL },
		{ "p2p_not_enhanced", SIW_MPA_REQUEST, { .rev = 2,
		  .flags = SIW_MPA_P2P }, 600, -EINVAL },
		{ "ird_not_enhanced", SIW_MPA_REQUEST, { .rev = 2, .ird = 1 },
		  600, -EINVAL },
		{ "rtr_not_enhanced", SIW_MPA_REPLY, { .rev = 2,
		  .rtr = SIW_MPA_RTR_WRITE }, 600, -EINVAL },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct siw_mpa_info info = cases[i].info;
		int ret;

		info.pd = pd;
		ret = mpa_build(cases[i].kind, buf, cases[i].size, &info);
		snprintf(name, sizeof(name), "mpa_build_%s", cases[i].name);
		result(ret == cases[i].ret, name, "got %d want %d", ret,
		       cases[i].ret);
	}

	{
		struct siw_mpa_info info = { .rev = 1, .pd_len = 1 };

		result(siw_mpa_req_build(buf, sizeof(buf), &info) == -EINVAL,
		       "mpa_build_pd_null", "accepted");
	}
}

static void mpa_parse_case(const char *what, const uint8_t *img, size_t len,
			   enum siw_mpa_kind kind, int want)
{
	struct siw_mpa_info info;
	uint8_t *in = exact(img, len);
	char name[128];
	int ret = siw_mpa_parse(in, len, kind, &info);

	snprintf(name, sizeof(name), "mpa_parse_%s", what);
	result(ret == want, name, "got %d want %d", ret, want);
	free(in);
}

static void test_mpa_parse_errors(void)
{
	uint8_t f[600];
	struct siw_mpa_info info;
	uint8_t *in;
	int ret;

	memcpy(f, img_req_v2, sizeof(img_req_v2));
	mpa_parse_case("req_as_reply", f, sizeof(img_req_v2), SIW_MPA_REPLY,
		       -EPROTO);
	mpa_parse_case("key_first_byte", (const uint8_t *)"X", 1,
		       SIW_MPA_REQUEST, -EPROTO);
	mpa_parse_case("key_prefix_ok", f, 9, SIW_MPA_REQUEST, 20);
	mpa_parse_case("empty", f, 0, SIW_MPA_REQUEST, 20);

	f[16] |= SIW_MPA_FLAG_M;
	mpa_parse_case("markers", f, sizeof(img_req_v2), SIW_MPA_REQUEST,
		       -EPROTONOSUPPORT);
	mpa_parse_case("markers_17_bytes", f, 17, SIW_MPA_REQUEST,
		       -EPROTONOSUPPORT);
	f[16] &= ~SIW_MPA_FLAG_M;

	f[17] = 0;
	mpa_parse_case("rev_0", f, sizeof(img_req_v2), SIW_MPA_REQUEST,
		       -EOPNOTSUPP);
	f[17] = 3;
	mpa_parse_case("rev_3_18_bytes", f, 18, SIW_MPA_REQUEST, -EOPNOTSUPP);
	f[17] = 0xff;
	mpa_parse_case("rev_255", f, sizeof(img_req_v2), SIW_MPA_REQUEST,
		       -EOPNOTSUPP);
	f[17] = 2;

	f[18] = 0x02;
	f[19] = 0x01;
	mpa_parse_case("pd_len_513", f, 20, SIW_MPA_REQUEST, -EPROTO);
	f[18] = 0x02;
	f[19] = 0x00;
	memset(f + 20, 0, 512);
	mpa_parse_case("pd_len_512", f, 532, SIW_MPA_REQUEST, 532);

	f[18] = 0;
	f[19] = 3;
	mpa_parse_case("enhanced_without_word", f, 23, SIW_MPA_REQUEST,
		       -EPROTO);

	/* Bits RFC 5044 says not to check on receipt are ignored. */
	memcpy(f, img_req_v2, sizeof(img_req_v2));
	f[16] |= SIW_MPA_FLAG_R | SIW_MPA_FLAG_RES;
	in = exact(f, sizeof(img_req_v2));
	ret = siw_mpa_parse(in, sizeof(img_req_v2), SIW_MPA_REQUEST, &info);
	result(ret == sizeof(img_req_v2) &&
	       info.flags == (SIW_MPA_CRC | SIW_MPA_ENHANCED),
	       "mpa_parse_ignores_res_and_r_in_request", "ret %d flags %x",
	       ret, info.flags);
	free(in);

	/* In revision 1 the enhanced bit is reserved: no word is taken. */
	memcpy(f, img_rep_v1_reject, sizeof(img_rep_v1_reject));
	f[16] |= SIW_MPA_FLAG_ENHANCED;
	f[19] = 2;
	f[20] = 0x12;
	f[21] = 0x34;
	in = exact(f, 22);
	ret = siw_mpa_parse(in, 22, SIW_MPA_REPLY, &info);
	result(ret == 22 && info.flags == SIW_MPA_REJECT && info.pd_len == 2,
	       "mpa_parse_rev1_enhanced_bit_ignored", "ret %d flags %x pd %u",
	       ret, info.flags, info.pd_len);
	free(in);
}

static void test_mpa_truncated(void)
{
	char name[128];
	size_t i, l;

	for (i = 0; i < sizeof(mpa_images) / sizeof(mpa_images[0]); i++) {
		const struct mpa_image *m = &mpa_images[i];
		int bad = 0, ret = 0;

		for (l = 0; l < m->len && !bad; l++) {
			struct siw_mpa_info info;
			uint8_t *in = exact(m->img, l);

			ret = siw_mpa_parse(in, l, m->kind, &info);
			bad = ret <= (int)l || ret > (int)m->len ||
			      (l >= 20 && ret != (int)m->len);
			free(in);
		}
		snprintf(name, sizeof(name), "mpa_truncated_%s", m->name);
		result(!bad, name, "length %zu returned %d", l - 1, ret);
	}
}

/* ---- RFC 6581 negotiation ------------------------------------------ */

static int nego_eq(const struct siw_mpa_nego *a, const struct siw_mpa_nego *b)
{
	return a->init_ird == b->init_ird && a->init_ord == b->init_ord &&
	       a->resp_ird == b->resp_ird && a->resp_ord == b->resp_ord &&
	       a->crc == b->crc && a->p2p == b->p2p && a->rtr == b->rtr &&
	       a->large_fpdu == b->large_fpdu;
}

#define ENH SIW_MPA_ENHANCED
#define N(ii, io, ri, ro, c, p, r) { .init_ird = ii, .init_ord = io, \
	.resp_ird = ri, .resp_ord = ro, .crc = c, .p2p = p, .rtr = r }
#define NL(ii, io, ri, ro, c, p, r, l) { .init_ird = ii, .init_ord = io, \
	.resp_ird = ri, .resp_ord = ro, .crc = c, .p2p = p, .rtr = r, \
	.large_fpdu = l }
#define P2P (SIW_MPA_ENHANCED | SIW_MPA_P2P)
#define LARGE SIW_MPA_LARGE_FPDU
#define W SIW_MPA_RTR_WRITE
#define R SIW_MPA_RTR_READ
#define S SIW_MPA_RTR_SEND

static void test_negotiate(void)
{
	static const struct {
		const char *name;
		struct siw_mpa_info req, rep;
		int ret;
		struct siw_mpa_nego out;
	} cases[] = {
		{ "rev1_keeps_local",
		  { .rev = 1 }, { .rev = 1, .flags = SIW_MPA_CRC },
		  0, N(0, 0, 0, 0, 1, 0, 0) },
		{ "one_side_not_enhanced",
		  { .rev = 2, .flags = ENH, .ird = 4, .ord = 4 },
		  { .rev = 2 }, 0, N(4, 4, 0, 0, 0, 0, 0) },
		{ "equal",
		  { .rev = 2, .flags = ENH, .ird = 16, .ord = 8 },
		  { .rev = 2, .flags = ENH, .ird = 16, .ord = 8 },
		  0, N(16, 8, 16, 8, 0, 0, 0) },
		{ "init_ord_cut_to_resp_ird",
		  { .rev = 2, .flags = ENH, .ird = 16, .ord = 8 },
		  { .rev = 2, .flags = ENH, .ird = 2, .ord = 8 },
		  0, N(16, 2, 2, 8, 0, 0, 0) },
		{ "resp_ord_cut_to_init_ird",
		  { .rev = 2, .flags = ENH, .ird = 1, .ord = 8 },
		  { .rev = 2, .flags = ENH, .ird = 16, .ord = 32 },
		  0, N(1, 8, 16, 1, 0, 0, 0) },
		{ "zero_ird_both",
		  { .rev = 2, .flags = ENH, .ird = 0, .ord = 8 },
		  { .rev = 2, .flags = ENH, .ird = 0, .ord = 8 },
		  0, N(0, 0, 0, 0, 0, 0, 0) },
		{ "crc_either",
		  { .rev = 2, .flags = ENH | SIW_MPA_CRC, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = ENH, .ird = 1, .ord = 1 },
		  0, N(1, 1, 1, 1, 1, 0, 0) },
		{ "p2p_prefers_write",
		  { .rev = 2, .flags = P2P, .rtr = W | R | S, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = P2P, .rtr = W | R | S, .ird = 1, .ord = 1 },
		  0, N(1, 1, 1, 1, 0, 1, W) },
		{ "p2p_read_before_send",
		  { .rev = 2, .flags = P2P, .rtr = R | S, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = P2P, .rtr = W | R | S, .ird = 1, .ord = 1 },
		  0, N(1, 1, 1, 1, 0, 1, R) },
		{ "p2p_read_needs_ord",
		  { .rev = 2, .flags = P2P, .rtr = R | S, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = P2P, .rtr = R | S, .ird = 0, .ord = 1 },
		  0, N(1, 0, 0, 1, 0, 1, S) },
		{ "p2p_only_common",
		  { .rev = 2, .flags = P2P, .rtr = S, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = P2P, .rtr = W | S, .ird = 1, .ord = 1 },
		  0, N(1, 1, 1, 1, 0, 1, S) },
		{ "p2p_nothing_common",
		  { .rev = 2, .flags = P2P, .rtr = W, .ird = 1, .ord = 1 },
		  { .rev = 2, .flags = P2P, .rtr = R | S, .ird = 1, .ord = 1 },
		  -EPROTO, N(1, 1, 1, 1, 0, 0, 0) },
		{ "p2p_only_read_no_ord",
		  { .rev = 2, .flags = P2P, .rtr = R, .ird = 1, .ord = 0 },
		  { .rev = 2, .flags = P2P, .rtr = R, .ird = 1, .ord = 1 },
		  -EPROTO, N(1, 0, 1, 1, 0, 0, 0) },
		{ "p2p_one_side_only",
		  { .rev = 2, .flags = P2P, .rtr = W, .ird = 3, .ord = 3 },
		  { .rev = 2, .flags = ENH, .ird = 3, .ord = 3 },
		  0, N(3, 3, 3, 3, 0, 0, 0) },
		{ "large_fpdu_both_rev1",
		  { .rev = 1, .flags = LARGE }, { .rev = 1, .flags = LARGE },
		  0, NL(0, 0, 0, 0, 0, 0, 0, 1) },
		{ "large_fpdu_both_rev2",
		  { .rev = 2, .flags = ENH | LARGE, .ird = 2, .ord = 2 },
		  { .rev = 2, .flags = ENH | LARGE | SIW_MPA_CRC, .ird = 2, .ord = 2 },
		  0, NL(2, 2, 2, 2, 1, 0, 0, 1) },
		{ "large_fpdu_offer_declined",
		  { .rev = 2, .flags = ENH | LARGE, .ird = 2, .ord = 2 },
		  { .rev = 2, .flags = ENH, .ird = 2, .ord = 2 },
		  0, NL(2, 2, 2, 2, 0, 0, 0, 0) },
		{ "large_fpdu_reply_only",
		  { .rev = 1 }, { .rev = 1, .flags = LARGE },
		  0, NL(0, 0, 0, 0, 0, 0, 0, 0) },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct siw_mpa_nego out, want = cases[i].out, again;
		int ret = siw_mpa_negotiate(&cases[i].req, &cases[i].rep, &out);
		int ok = ret == cases[i].ret;

		if (!ret)
			ok = ok && nego_eq(&out, &want);
		else
			ok = ok && out.init_ird == want.init_ird &&
			     out.init_ord == want.init_ord &&
			     out.resp_ird == want.resp_ird &&
			     out.resp_ord == want.resp_ord;
		snprintf(name, sizeof(name), "negotiate_%s", cases[i].name);
		result(ok, name,
		       "ret %d ird/ord init %u/%u resp %u/%u crc %u p2p %u rtr %u",
		       ret, out.init_ird, out.init_ord, out.resp_ird,
		       out.resp_ord, out.crc, out.p2p, out.rtr);

		/*
		 * The initiator repeats the computation with the Reply the
		 * responder built from the result; both must agree.
		 */
		if (!ret && (cases[i].req.flags & cases[i].rep.flags & ENH)) {
			struct siw_mpa_info rep = cases[i].rep;

			rep.ord = out.resp_ord;
			if (out.p2p)
				rep.rtr = out.rtr;
			ret = siw_mpa_negotiate(&cases[i].req, &rep, &again);
			snprintf(name, sizeof(name), "negotiate_agree_%s",
				 cases[i].name);
			result(!ret && nego_eq(&out, &again), name,
			       "initiator computes something else");
		}
	}
}

#undef N
#undef ENH
#undef P2P
#undef W
#undef R
#undef S

/* ---- DDP / RDMAP ---------------------------------------------------- */

/* Write, last, STag 0x12345678, TO 0x0102030405060708, 4 bytes payload. */
static const uint8_t img_write[] = {
	0x00, 0x12, 0xc1, 0x40, 0x12, 0x34, 0x56, 0x78,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
};

/* Send with SE and Invalidate, not last: inval 0xaabbccdd, MSN 5, MO 64. */
static const uint8_t img_send_se_inv[] = {
	0x00, 0x12 + 8, 0x01, 0x46, 0xaa, 0xbb, 0xcc, 0xdd,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x00, 0x00, 0x40,
};

/* Read Request, MSN 1: sink 0x100/0x2000, 4096 bytes, source 0x200/0x3000. */
static const uint8_t img_read_req[] = {
	0x00, 0x2e, 0x41, 0x41, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,
	0x00, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x02, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00,
};

/* Terminate MSN 1: DDP untagged invalid QN, no headers copied. */
static const uint8_t img_term[] = {
	0x00, 0x16, 0x41, 0x47, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00,
	0x12, 0x01, 0x00, 0x00,
};

struct ddp_image {
	const char *name;
	const uint8_t *img;
	size_t len;
	struct siw_ddp_info info;
};

static const struct ddp_image ddp_images[] = {
	{ "write", img_write, sizeof(img_write),
	  { .opcode = SIW_RDMAP_WRITE, .tagged = 1, .last = 1,
	    .stag = 0x12345678, .to = 0x0102030405060708ull,
	    .payload_len = 4 } },
	{ "send_se_inv", img_send_se_inv, sizeof(img_send_se_inv),
	  { .opcode = SIW_RDMAP_SEND_SE_INV, .qn = 0, .msn = 5, .mo = 64,
	    .inval_stag = 0xaabbccdd, .payload_len = 8 } },
	{ "read_req", img_read_req, sizeof(img_read_req),
	  { .opcode = SIW_RDMAP_READ_REQ, .last = 1, .qn = 1, .msn = 1,
	    .rreq = { 0x100, 0x2000, 4096, 0x200, 0x3000 } } },
	{ "terminate", img_term, sizeof(img_term),
	  { .opcode = SIW_RDMAP_TERMINATE, .last = 1, .qn = 2, .msn = 1,
	    .term = { SIW_TERM_LAYER_DDP, SIW_DDP_ETYPE_UNTAGGED,
		      SIW_DDP_UNTAGGED_ECODE_QN } } },
};

static int ddp_info_eq(const struct siw_ddp_info *a,
		       const struct siw_ddp_info *b)
{
	return a->opcode == b->opcode && a->tagged == b->tagged &&
	       a->last == b->last && a->stag == b->stag && a->to == b->to &&
	       a->qn == b->qn && a->msn == b->msn && a->mo == b->mo &&
	       a->inval_stag == b->inval_stag &&
	       a->payload_len == b->payload_len &&
	       a->rreq.sink_stag == b->rreq.sink_stag &&
	       a->rreq.sink_to == b->rreq.sink_to &&
	       a->rreq.size == b->rreq.size &&
	       a->rreq.src_stag == b->rreq.src_stag &&
	       a->rreq.src_to == b->rreq.src_to &&
	       a->term.layer == b->term.layer &&
	       a->term.etype == b->term.etype &&
	       a->term.ecode == b->term.ecode &&
	       a->term_hdrct == b->term_hdrct;
}

static int ddp_build(void *buf, uint32_t size, const struct siw_ddp_info *info)
{
	if (info->opcode < SIW_RDMAP_NUM_OPCODES &&
	    siw_rdmap_ops[info->opcode].tagged)
		return siw_ddp_build_tagged(buf, size, info);
	return siw_ddp_build_untagged(buf, size, info);
}

/* Parses a header image that starts with ULPDU_Length. */
static int ddp_parse(const uint8_t *img, size_t len, struct siw_ddp_info *info,
		     struct siw_term_reason *why)
{
	uint16_t ulpdu = img[0] << 8 | img[1];
	uint8_t *in = exact(img + 2, len - 2);
	int ret = siw_ddp_parse_hdr(in, len - 2, ulpdu, info, why);

	free(in);
	return ret;
}

static void test_ddp_images(void)
{
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(ddp_images) / sizeof(ddp_images[0]); i++) {
		const struct ddp_image *d = &ddp_images[i];
		struct siw_ddp_info info;
		struct siw_term_reason why;
		uint8_t buf[80];
		int ret = ddp_build(buf, sizeof(buf), &d->info);

		snprintf(name, sizeof(name), "ddp_image_build_%s", d->name);
		result(ret == (int)d->len && !memcmp(buf, d->img, d->len), name,
		       "ret %d, bytes differ", ret);

		ret = ddp_parse(d->img, d->len, &info, &why);
		snprintf(name, sizeof(name), "ddp_image_parse_%s", d->name);
		result(ret == (int)d->len - 2 && ddp_info_eq(&info, &d->info),
		       name, "ret %d", ret);
	}
}

static void test_ddp_roundtrip(void)
{
	static const uint32_t u32s[] = { 0, 1, 0x7fffffff, 0xffffffff };
	static const uint64_t u64s[] = { 0, 1, 0xffffffffull,
					 0xffffffffffffffffull };
	char name[128];
	unsigned int op;
	size_t i;

	for (op = 0; op < SIW_RDMAP_NUM_OPCODES; op++) {
		const struct siw_rdmap_op *o = &siw_rdmap_ops[op];
		uint32_t max_pl = o->payload ? 0xffff - (o->hdr_len - 2) : 0;
		int bad = 0;

		for (i = 0; i < 4 && !bad; i++) {
			struct siw_ddp_info in = {
				.opcode = op,
				.tagged = o->tagged,
				.last = o->single || (i & 1),
				.payload_len = i & 1 ? max_pl : 0,
			}, out;
			struct siw_term_reason why;
			uint8_t buf[80];
			int ret;

			if (o->tagged) {
				in.stag = u32s[i];
				in.to = u64s[i];
			} else {
				in.qn = o->qn;
				in.msn = u32s[i];
				in.mo = o->single ? 0 : u32s[3 - i];
				in.inval_stag = o->inval ? u32s[i] : 0;
			}
			if (op == SIW_RDMAP_READ_REQ)
				in.rreq = (struct siw_read_req){ u32s[i], u64s[i],
					u32s[3 - i], u32s[(i + 1) & 3],
					u64s[3 - i] };
			if (op == SIW_RDMAP_TERMINATE) {
				in.term = (struct siw_term_reason){ i, 3 - i,
								    0xff - i };
				in.term_hdrct = (i << 13) & SIW_TERM_HDRCT_MASK;
			}
			ret = ddp_build(buf, sizeof(buf), &in);
			if (ret != o->hdr_len) {
				bad = 1;
				break;
			}
			memset(&out, 0x5a, sizeof(out));
			ret = ddp_parse(buf, ret, &out, &why);
			bad = ret != o->hdr_len - 2 || !ddp_info_eq(&in, &out);
		}
		snprintf(name, sizeof(name), "ddp_roundtrip_opcode_%u", op);
		result(!bad, name, "case %zu", i);
	}
}

static void test_ddp_build_errors(void)
{
	uint8_t buf[80];
	struct {
		const char *name;
		int tagged;
		struct siw_ddp_info info;
		uint32_t size;
		int ret;
	} cases[] = {
		{ "tagged_send", 1, { .opcode = SIW_RDMAP_SEND }, 80, -EINVAL },
		{ "untagged_write", 0, { .opcode = SIW_RDMAP_WRITE }, 80,
		  -EINVAL },
		{ "opcode_8", 0, { .opcode = 8 }, 80, -EINVAL },
		{ "write_payload_max", 1, { .opcode = SIW_RDMAP_WRITE,
		  .payload_len = 0xffff - 14 }, 80, 16 },
		{ "write_payload_over", 1, { .opcode = SIW_RDMAP_WRITE,
		  .payload_len = 0xffff - 13 }, 80, -EINVAL },
		{ "send_payload_max", 0, { .opcode = SIW_RDMAP_SEND,
		  .payload_len = 0xffff - 18 }, 80, 20 },
		{ "send_payload_over", 0, { .opcode = SIW_RDMAP_SEND,
		  .payload_len = 0xffff - 17 }, 80, -EINVAL },
		{ "send_with_inval_stag", 0, { .opcode = SIW_RDMAP_SEND,
		  .inval_stag = 1 }, 80, -EINVAL },
		{ "read_req_not_last", 0, { .opcode = SIW_RDMAP_READ_REQ },
		  80, -EINVAL },
		{ "read_req_mo", 0, { .opcode = SIW_RDMAP_READ_REQ, .last = 1,
		  .mo = 4 }, 80, -EINVAL },
		{ "read_req_payload", 0, { .opcode = SIW_RDMAP_READ_REQ,
		  .last = 1, .payload_len = 1 }, 80, -EINVAL },
		{ "terminate_not_last", 0, { .opcode = SIW_RDMAP_TERMINATE },
		  80, -EINVAL },
		{ "read_req_buffer_exact", 0, { .opcode = SIW_RDMAP_READ_REQ,
		  .last = 1 }, 48, 48 },
		{ "read_req_buffer_short", 0, { .opcode = SIW_RDMAP_READ_REQ,
		  .last = 1 }, 47, -ENOSPC },
		{ "write_buffer_short", 1, { .opcode = SIW_RDMAP_WRITE }, 15,
		  -ENOSPC },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ret = cases[i].tagged ?
			siw_ddp_build_tagged(buf, cases[i].size, &cases[i].info) :
			siw_ddp_build_untagged(buf, cases[i].size,
					       &cases[i].info);

		snprintf(name, sizeof(name), "ddp_build_%s", cases[i].name);
		result(ret == cases[i].ret, name, "got %d want %d", ret,
		       cases[i].ret);
	}
}

/* One malformed segment per TERMINATE reason siw_ddp_parse_hdr gives. */
static void test_ddp_term_reasons(void)
{
	enum { DDP = 2, RDMAP = 3, QN = 11, MO = 19 };
	struct {
		const char *name;
		const uint8_t *base;
		size_t len;
		int off;	/* byte to change, -1 for none */
		uint8_t val;
		int ulpdu_adj;	/* added to the image's ULPDU_Length */
		struct siw_term_reason why;
	} cases[] = {
		{ "ddp_version_0_tagged", img_write, sizeof(img_write), DDP,
		  0xc0, 0, { 1, 1, 0x04 } },
		{ "ddp_version_3_tagged", img_write, sizeof(img_write), DDP,
		  0xc3, 0, { 1, 1, 0x04 } },
		{ "ddp_version_2_untagged", img_send_se_inv,
		  sizeof(img_send_se_inv), DDP, 0x02, 0, { 1, 2, 0x06 } },
		{ "rdmap_version_0", img_write, sizeof(img_write), RDMAP, 0x00,
		  0, { 0, 2, 0x05 } },
		{ "rdmap_version_2", img_send_se_inv, sizeof(img_send_se_inv),
		  RDMAP, 0x86, 0, { 0, 2, 0x05 } },
		{ "opcode_8", img_send_se_inv, sizeof(img_send_se_inv), RDMAP,
		  0x48, 0, { 0, 2, 0x06 } },
		{ "opcode_15", img_write, sizeof(img_write), RDMAP, 0x4f, 0,
		  { 0, 2, 0x06 } },
		{ "send_tagged", img_write, sizeof(img_write), RDMAP, 0x43, 0,
		  { 0, 2, 0x06 } },
		{ "read_resp_untagged", img_send_se_inv,
		  sizeof(img_send_se_inv), RDMAP, 0x42, 0, { 0, 2, 0x06 } },
		{ "qn_3", img_send_se_inv, sizeof(img_send_se_inv), QN, 3, 0,
		  { 1, 2, 0x01 } },
		{ "qn_255", img_send_se_inv, sizeof(img_send_se_inv), QN, 0xff,
		  0, { 1, 2, 0x01 } },
		{ "send_on_qn_1", img_send_se_inv, sizeof(img_send_se_inv), QN,
		  1, 0, { 0, 2, 0x06 } },
		{ "read_req_on_qn_0", img_read_req, sizeof(img_read_req), QN, 0,
		  0, { 0, 2, 0x06 } },
		{ "terminate_on_qn_1", img_term, sizeof(img_term), QN, 1, 0,
		  { 0, 2, 0x06 } },
		{ "read_req_not_last", img_read_req, sizeof(img_read_req), DDP,
		  0x01, 0, { 0, 2, 0xff } },
		{ "terminate_not_last", img_term, sizeof(img_term), DDP, 0x01,
		  0, { 0, 2, 0xff } },
		{ "read_req_mo", img_read_req, sizeof(img_read_req), MO, 4, 0,
		  { 1, 2, 0x04 } },
		{ "terminate_mo", img_term, sizeof(img_term), MO, 1, 0,
		  { 1, 2, 0x04 } },
		{ "read_req_with_payload", img_read_req, sizeof(img_read_req),
		  -1, 0, 1, { 0, 2, 0xff } },
		{ "read_req_short", img_read_req, sizeof(img_read_req), -1, 0,
		  -1, { 0, 2, 0xff } },
		{ "write_ulpdu_short", img_write, sizeof(img_write), -1, 0, -5,
		  { 0, 2, 0xff } },
		{ "send_ulpdu_short", img_send_se_inv, sizeof(img_send_se_inv),
		  -1, 0, -9, { 0, 2, 0xff } },
		{ "terminate_ulpdu_short", img_term, sizeof(img_term), -1, 0,
		  -1, { 0, 2, 0xff } },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t img[64];
		struct siw_ddp_info info;
		struct siw_term_reason why = { 0x5a, 0x5a, 0x5a };
		uint16_t ulpdu;
		uint8_t *in;
		int ret;

		memcpy(img, cases[i].base, cases[i].len);
		if (cases[i].off >= 0)
			img[cases[i].off] = cases[i].val;
		ulpdu = (img[0] << 8 | img[1]) + cases[i].ulpdu_adj;
		in = exact(img + 2, cases[i].len - 2);
		ret = siw_ddp_parse_hdr(in, cases[i].len - 2, ulpdu, &info,
					&why);
		free(in);
		snprintf(name, sizeof(name), "ddp_terminate_%s", cases[i].name);
		result(ret == -EPROTO && why.layer == cases[i].why.layer &&
		       why.etype == cases[i].why.etype &&
		       why.ecode == cases[i].why.ecode, name,
		       "ret %d layer %u etype %u ecode 0x%02x", ret, why.layer,
		       why.etype, why.ecode);
	}
}

static void test_ddp_reserved_ignored(void)
{
	uint8_t img[sizeof(img_write)];
	struct siw_ddp_info info;
	struct siw_term_reason why;
	int ret;

	memcpy(img, img_write, sizeof(img));
	img[2] |= SIW_DDP_RSVD;
	img[3] |= SIW_RDMAP_RSVD;
	ret = ddp_parse(img, sizeof(img), &info, &why);
	result(ret == 14 && ddp_info_eq(&info, &ddp_images[0].info),
	       "ddp_parse_ignores_reserved", "ret %d", ret);
}

static void test_ddp_truncated(void)
{
	char name[128];
	size_t i, l;

	for (i = 0; i < sizeof(ddp_images) / sizeof(ddp_images[0]); i++) {
		const struct ddp_image *d = &ddp_images[i];
		uint16_t ulpdu = d->img[0] << 8 | d->img[1];
		size_t hdr = d->len - 2;
		int bad = 0, ret = 0;

		for (l = 0; l < hdr && !bad; l++) {
			struct siw_ddp_info info;
			struct siw_term_reason why;
			uint8_t *in = exact(d->img + 2, l);

			ret = siw_ddp_parse_hdr(in, l, ulpdu, &info, &why);
			bad = ret <= (int)l || ret > (int)hdr;
			free(in);
		}
		snprintf(name, sizeof(name), "ddp_truncated_%s", d->name);
		result(!bad, name, "length %zu returned %d", l - 1, ret);
	}
}

static void test_terminate_build(void)
{
	uint8_t buf[SIW_TERM_MAX_LEN], *in;
	struct siw_term_reason why = { SIW_TERM_LAYER_RDMAP,
				       SIW_RDMAP_ETYPE_REMOTE_PROT,
				       SIW_RDMAP_ECODE_INVALID_STAG }, got;
	struct siw_ddp_info info;
	struct {
		const char *name;
		const uint8_t *fpdu;
		uint32_t len;
		uint16_t hdrct;
		uint32_t copy;
	} cases[] = {
		{ "no_headers", NULL, 0, 0, 0 },
		{ "tagged", img_write, sizeof(img_write),
		  SIW_TERM_HDRCT_M | SIW_TERM_HDRCT_D, 16 },
		{ "tagged_partial", img_write, 15, 0, 0 },
		{ "send", img_send_se_inv, sizeof(img_send_se_inv),
		  SIW_TERM_HDRCT_M | SIW_TERM_HDRCT_D, 20 },
		{ "send_partial", img_send_se_inv, 19, 0, 0 },
		{ "read_req", img_read_req, sizeof(img_read_req),
		  SIW_TERM_HDRCT_M | SIW_TERM_HDRCT_D | SIW_TERM_HDRCT_R, 48 },
		{ "read_req_partial", img_read_req, 47,
		  SIW_TERM_HDRCT_M | SIW_TERM_HDRCT_D, 20 },
	};
	char name[128];
	size_t i;
	int ret;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *f = cases[i].fpdu ? exact(cases[i].fpdu,
						   cases[i].len) : NULL;
		int len = siw_term_build(buf, sizeof(buf), 7, &why, f,
					 cases[i].len);

		memset(&info, 0, sizeof(info));

		ret = len > 0 ? ddp_parse(buf, len, &info, &got) : len;
		snprintf(name, sizeof(name), "terminate_build_%s",
			 cases[i].name);
		result(len == (int)(24 + cases[i].copy) && ret == 22 &&
		       info.opcode == SIW_RDMAP_TERMINATE && info.msn == 7 &&
		       info.qn == 2 && info.last && info.mo == 0 &&
		       !memcmp(&info.term, &why, sizeof(why)) &&
		       info.term_hdrct == cases[i].hdrct &&
		       info.payload_len == cases[i].copy &&
		       (!cases[i].copy ||
			!memcmp(buf + 24, cases[i].fpdu, cases[i].copy)),
		       name, "len %d parse %d hdrct %x", len, ret,
		       info.term_hdrct);
		free(f);
	}

	in = exact(img_read_req, sizeof(img_read_req));
	ret = siw_term_build(buf, 71, 0, &why, in, sizeof(img_read_req));
	result(ret == -ENOSPC, "terminate_build_buffer_short", "got %d", ret);
	ret = siw_term_build(buf, 72, 0, &why, in, sizeof(img_read_req));
	result(ret == 72 && SIW_TERM_MAX_LEN == 72,
	       "terminate_build_max_len", "got %d", ret);
	free(in);
}

/* ---- Framing -------------------------------------------------------- */

static void test_framing(void)
{
	static const struct { uint32_t ulpdu, pad, fpdu; } pads[] = {
		{ 0, 2, 8 }, { 1, 1, 8 }, { 2, 0, 8 }, { 3, 3, 12 },
		{ 14, 0, 20 }, { 18, 0, 24 }, { 19, 3, 28 },
		{ 0xffff, 3, 0x10008 },
	};
	static const struct { uint32_t mss; unsigned int op; uint32_t max; }
	mss[] = {
		{ 1460, SIW_RDMAP_WRITE, 1440 },
		{ 1460, SIW_RDMAP_READ_RESP, 1440 },
		{ 1460, SIW_RDMAP_SEND, 1436 },
		{ 1460, SIW_RDMAP_SEND_SE_INV, 1436 },
		{ 1460, SIW_RDMAP_TERMINATE, 1432 },
		{ 1460, SIW_RDMAP_READ_REQ, 0 },
		{ 1448, SIW_RDMAP_WRITE, 1428 },
		{ 1447, SIW_RDMAP_WRITE, 1424 },
		{ 8960, SIW_RDMAP_SEND, 8936 },
		{ 65535, SIW_RDMAP_WRITE, 65512 },
		{ 65536 + 100, SIW_RDMAP_WRITE, 65521 },
		{ 65536 + 100, SIW_RDMAP_SEND, 65517 },
		{ 20, SIW_RDMAP_WRITE, 0 },
		{ 23, SIW_RDMAP_WRITE, 0 },
		{ 24, SIW_RDMAP_WRITE, 4 },
		{ 19, SIW_RDMAP_WRITE, 0 },
		{ 0, SIW_RDMAP_SEND, 0 },
		{ 1460, 8, 0 },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		snprintf(name, sizeof(name), "fpdu_pad_%u", pads[i].ulpdu);
		result(siw_fpdu_pad(pads[i].ulpdu) == pads[i].pad &&
		       siw_fpdu_len(pads[i].ulpdu) == pads[i].fpdu, name,
		       "pad %u len %u", siw_fpdu_pad(pads[i].ulpdu),
		       siw_fpdu_len(pads[i].ulpdu));
	}
	for (i = 0; i < sizeof(mss) / sizeof(mss[0]); i++) {
		uint32_t got = siw_fpdu_max_payload(mss[i].mss, mss[i].op);
		int ok = got == mss[i].max;

		/* The FPDU of the largest payload must fit the segment. */
		if (got && mss[i].op < SIW_RDMAP_NUM_OPCODES) {
			uint32_t ulpdu = siw_rdmap_ops[mss[i].op].hdr_len - 2 +
					 got;

			ok = ok && siw_fpdu_len(ulpdu) <= mss[i].mss;
		}
		snprintf(name, sizeof(name), "max_payload_mss_%u_op_%u",
			 mss[i].mss, mss[i].op);
		result(ok, name, "got %u want %u", got, mss[i].max);
	}
}

/* A complete Send FPDU with pad and CRC, checked as a receiver would. */
static void test_crc_frame(void)
{
	static const char msg[] = "hello";
	struct siw_ddp_info info = { .opcode = SIW_RDMAP_SEND, .last = 1,
				     .msn = 1, .payload_len = 5 }, got;
	struct siw_term_reason why;
	uint8_t f[64];
	uint32_t ulpdu, len, crc;
	int hdr = siw_ddp_build_untagged(f, sizeof(f), &info), ret;

	memcpy(f + hdr, msg, 5);
	ulpdu = f[0] << 8 | f[1];
	len = siw_fpdu_len(ulpdu);
	memset(f + hdr + 5, 0, siw_fpdu_pad(ulpdu));
	crc = mpa_crc(f, len - 4);
	f[len - 4] = crc;
	f[len - 3] = crc >> 8;
	f[len - 2] = crc >> 16;
	f[len - 1] = crc >> 24;

	ret = ddp_parse(f, hdr, &got, &why);
	result(hdr == 20 && ulpdu == 23 && len == 32 && ret == 18 &&
	       got.payload_len == 5 &&
	       mpa_crc(f, len - 4) == (uint32_t)(f[28] | f[29] << 8 |
						 f[30] << 16 |
						 (uint32_t)f[31] << 24),
	       "crc_frame_send", "hdr %d ulpdu %u len %u", hdr, ulpdu, len);
	f[hdr] ^= 1;
	result(mpa_crc(f, len - 4) != crc, "crc_frame_detects_flip",
	       "CRC unchanged");
}

/* Large FPDUs: whole segments, as many as GSO packs, within 16 bits. */
static void test_large_fpdu_bytes(void)
{
	static const struct {
		uint32_t mss, segs, bytes;
	} cases[] = {
		{ 1448, 0, 1448 },	/* TCP has not sent yet */
		{ 1448, 1, 1448 },
		{ 1448, 10, 14480 },
		{ 1448, 44, 63712 },
		{ 1448, 64, 45 * 1448 },	/* 65160: ULPDU_Length's bound */
		{ 9000, 10, 7 * 9000 },
		{ 65483, 2, 65483 },	/* loopback's MSS: one segment */
		{ 70000, 3, 70000 },	/* larger than any FPDU: the MSS */
		{ 0, 5, 0 },
	};
	char name[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got = siw_fpdu_large_bytes(cases[i].mss, cases[i].segs);
		uint32_t pay = siw_fpdu_max_payload(got, SIW_RDMAP_WRITE);
		int ok = got == cases[i].bytes;

		/* What it yields still fits an FPDU's length field. */
		if (pay)
			ok = ok && siw_rdmap_ops[SIW_RDMAP_WRITE].hdr_len - 2 +
				   pay <= SIW_MPA_ULPDU_MAX;
		snprintf(name, sizeof(name), "large_fpdu_bytes_mss_%u_segs_%u",
			 cases[i].mss, cases[i].segs);
		result(ok, name, "got %u want %u", got, cases[i].bytes);
	}
}

int main(void)
{
	test_crc32c();
	test_mpa_images();
	test_mpa_roundtrip();
	test_mpa_build_limits();
	test_mpa_parse_errors();
	test_mpa_truncated();
	test_negotiate();
	test_ddp_images();
	test_ddp_roundtrip();
	test_ddp_build_errors();
	test_ddp_term_reasons();
	test_ddp_reserved_ignored();
	test_ddp_truncated();
	test_terminate_build();
	test_framing();
	test_crc_frame();
	test_large_fpdu_bytes();

	printf("%d passed, %d failed\n", n_pass, n_fail);
	return n_fail ? 1 : 0;
}
