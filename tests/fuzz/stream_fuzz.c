// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * stream_fuzz: a live-stream fuzzer for siw's receive path. It is an
 * iWARP peer on a plain TCP socket that completes MPA connection setup
 * (revision 1 or 2, CRC off or on, peer-to-peer with each RTR type) and
 * then streams FPDUs at siw: mostly valid ones, built with siw_wire.c,
 * with every so often one mutated field by field (lengths, DDP and RDMAP
 * control bits, STags, tagged offsets, queue numbers, MSN, MO, pad, CRC,
 * Terminate and Read Request contents), byte by byte, or cut off, and
 * valid ones split across TCP writes at every byte position.
 *
 *   stream_fuzz connect ADDR PORT [options]
 *	siw is the responder: siw_target fuzz-serve listens at ADDR PORT.
 *	The fuzzer sends Writes, Sends and Read Requests; it checks each
 *	Read Response siw sends against the request and the data.
 *   stream_fuzz listen ADDR PORT [options]
 *	siw is the initiator: siw_target fuzz-client connects. The fuzzer
 *	answers siw's Read Requests with (sometimes mutated) Read Responses
 *	and sends Writes and Sends of its own.
 *
 *   --fpdus N	stop after N FPDUs (default 100000)
 *   --secs S	or after S seconds (default 600)
 *   --seed X	random seed (default: from the clock, printed)
 *   --mutate N	one FPDU in N is mutated (default 64)
 *
 * What siw sends back must hold up: its FPDUs parse and carry a correct
 * CRC, its Read Responses answer our Read Requests exactly, it keeps to
 * the IRD we granted, a stream that was never mutated is never
 * terminated, siw never stops reading a stream it has not ended, and
 * every Terminate is laid out as RFC 5040 section 4.8 says: DDP queue 2,
 * MSN 1, MO 0, L set, a reason the RFCs define, reserved Hdrct bits
 * clear, and the quoted segment length and headers are bytes we sent.
 * Exit 0 with a coverage report if all held, 1 at the first that did
 * not, 2 if the fuzzer could not run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "siw_wire.h"
#include "fuzz_proto.h"

#define MAX_SEG_PAYLOAD	1024
#define BATCH_MAX	(64 * 1024)
#define IN_MAX		(2 * 70 * 1024)
#define SENT_KEEP	(16u << 20)	/* stream bytes kept for quote checks */
#define MAX_READS	16
#define PEER_IRD	4		/* what we grant siw as initiator */
#define IO_TIMEOUT_S	10

#define OUR_SRC_ADDR	0x7f0000100000ull
#define OUR_SRC_RKEY	0x00abcd01u
#define OUR_SRC_LEN	(1u << 20)

enum mutation {
	M_LEN_RANDOM, M_LEN_SHORT, M_LEN_OFF, M_DDP_T, M_DDP_L, M_DDP_DV,
	M_DDP_RSVD, M_RDMAP_RV, M_RDMAP_OPCODE, M_STAG_QN, M_TO, M_MSN, M_MO,
	M_INVALIDATE, M_PAD, M_CRC, M_TERMINATE, M_READ_REQ, M_READ_RESP,
	M_RAW, M_TRUNCATE,
	M_NUM
};

static const char *const mutation_name[M_NUM] = {
	"ulpdu_len random", "ulpdu_len short", "ulpdu_len off", "DDP T bit",
	"DDP L bit", "DDP version", "DDP reserved", "RDMAP version",
	"RDMAP opcode", "STag / queue number", "tagged offset", "MSN", "MO",
	"Send with Invalidate", "pad bytes", "CRC", "Terminate contents",
	"Read Request fields", "Read Response mismatch", "raw bytes",
	"cut off mid-FPDU",
};

/*
 * What became of a mutation: siw terminated the stream, ended it without
 * a Terminate, or carried on (a Read Request sent behind it was answered,
 * or the stream ended ours with nothing said); undecided when another
 * mutation followed before any of that was seen.
 */
enum outcome { O_TERMINATED, O_CLOSED, O_SURVIVED, O_UNDECIDED, O_NUM };

struct stats {
	uint64_t fpdus, mutated, split, connections, rresp_checked;
	uint64_t reads_served, quotes_checked, quotes_unverifiable, cut_short;
	uint64_t by_mutation[M_NUM], outcome[M_NUM][O_NUM];
	uint64_t term[3][4][256];	/* layer, etype, ecode */
	uint64_t setups[2][2][4];	/* rev - 1, crc, rtr (0 = none) */
	uint8_t split_at[64];		/* split positions reached */
};

static struct stats st;
static uint64_t rng_state;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 11);
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (seed and progress: see above; %llu FPDUs sent)\n",
	       (unsigned long long)st.fpdus);
	fflush(stdout);
	exit(1);
}

static void die(const char *what)
{
	fprintf(stderr, "stream_fuzz: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* ---- CRC32c as MPA uses it ----------------------------------------- */

static uint32_t crc_table[256];

static void crc_init(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = ~0u;

	while (n--)
		c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- one stream ----------------------------------------------------- */

struct read_out {		/* a Read Request of ours, siw to answer */
	uint32_t sink_stag;
	uint64_t sink_to;
	uint32_t size, got;
	uint64_t src_off;
	int loose;	/* mutated on its way: any answer ending in L goes */
};

struct conn {
	int fd;
	int initiator;		/* we connected; siw is the responder */
	int crc, rev;
	uint8_t rtr;		/* agreed RTR type if peer-to-peer, else 0 */
	struct fuzz_target_info peer;
	uint32_t msn[SIW_DDP_NUM_QN];	/* last MSN we used, per queue */
	uint32_t sends_left;
	uint32_t ird;		/* Read Requests siw takes at once */
	struct read_out rd[MAX_READS];
	int rd_head, rd_count;
	struct siw_read_req req[PEER_IRD + 1];	/* siw's, for us to answer */
	int req_count;
	int rtr_seen;		/* siw's RTR message, when it owes one */
	size_t sent_len;	/* of stream_sent */
	int sent_lost;		/* log truncated: quotes unverifiable */
	uint8_t in[IN_MAX];
	size_t in_len;
	int mutation;		/* the last one sent, undecided, or -1 */
	int probe;		/* a Read Request behind it is outstanding */
	uint32_t probe_stag;
	int dead, terminated;
	int we_closed;		/* our FIN went first */
	struct siw_term_reason term;	/* siw's Terminate, if terminated */
	uint8_t quote[64];
	uint32_t quote_len;
};

/* What we sent on the current stream, for quote checks. */
static uint8_t *stream_sent;

static void log_sent(struct conn *c, const uint8_t *p, size_t n)
{
	if (c->sent_lost || c->sent_len + n > SENT_KEEP) {
		c->sent_lost = 1;
		return;
	}
	memcpy(stream_sent + c->sent_len, p, n);
	c->sent_len += n;
}

static int xmit(struct conn *c, const uint8_t *p, size_t n)
{
	size_t done = 0;
	ssize_t r;

	while (done < n) {
		r = send(c->fd, p + done, n - done, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				fail("siw stopped reading a stream it did not end (send blocked %d s)",
				     IO_TIMEOUT_S);
			c->dead = 1;
			return -1;
		}
		log_sent(c, p + done, r);
		done += r;
	}
	return 0;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		die("setsockopt");
}

static int recv_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = recv(fd, (uint8_t *)buf + got, n - got, 0);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		got += r;
	}
	return 0;
}

/* ---- building FPDUs ------------------------------------------------- */

/* Adds pad and CRC behind a ULPDU already at f + 2; returns the length. */
static uint32_t fpdu_close(const struct conn *c, uint8_t *f)
{
	uint32_t ulen = f[0] << 8 | f[1];
	uint32_t len = SIW_MPA_LEN_SIZE + ulen + siw_fpdu_pad(ulen);
	uint32_t crc;

	memset(f + SIW_MPA_LEN_SIZE + ulen, 0, siw_fpdu_pad(ulen));
	crc = c->crc ? crc32c(f, len) : 0;
	f[len] = crc;
	f[len + 1] = crc >> 8;
	f[len + 2] = crc >> 16;
	f[len + 3] = crc >> 24;
	return len + SIW_MPA_CRC_SIZE;
}

static uint32_t build_tagged(const struct conn *c, uint8_t *f, uint8_t opcode,
			     uint32_t stag, uint64_t to, const uint8_t *data,
			     uint32_t len, int last)
{
	struct siw_ddp_info info = {
		.opcode = opcode, .tagged = 1, .last = last, .stag = stag,
		.to = to, .payload_len = len,
	};
	int hdr = siw_ddp_build_tagged(f, BATCH_MAX, &info);

	if (hdr < 0)
		fail("siw_ddp_build_tagged: %d", hdr);
	if (data)
		memcpy(f + hdr, data, len);
	else
		memset(f + hdr, 0x5a, len);
	return fpdu_close(c, f);
}

static uint32_t build_untagged(struct conn *c, uint8_t *f,
			       struct siw_ddp_info *info)
{
	int hdr = siw_ddp_build_untagged(f, BATCH_MAX, info);
	uint32_t i;

	if (hdr < 0)
		fail("siw_ddp_build_untagged: %d", hdr);
	if (info->opcode != SIW_RDMAP_READ_REQ &&
	    info->opcode != SIW_RDMAP_TERMINATE)
		for (i = 0; i < info->payload_len; i++)
			f[hdr + i] = (uint8_t)(info->mo + i);
	return fpdu_close(c, f);
}

static uint32_t build_send(struct conn *c, uint8_t *f, uint32_t msn,
			   uint32_t mo, uint32_t len, int last)
{
	struct siw_ddp_info info = {
		.opcode = rnd_below(4) ? SIW_RDMAP_SEND : SIW_RDMAP_SEND_SE,
		.last = last, .qn = SIW_DDP_QN_SEND, .msn = msn, .mo = mo,
		.payload_len = len,
	};

	return build_untagged(c, f, &info);
}

static uint32_t build_read_req(struct conn *c, uint8_t *f,
			       const struct siw_read_req *rr)
{
	struct siw_ddp_info info = {
		.opcode = SIW_RDMAP_READ_REQ, .last = 1,
		.qn = SIW_DDP_QN_READ_REQ, .msn = ++c->msn[SIW_DDP_QN_READ_REQ],
		.rreq = *rr,
	};

	return build_untagged(c, f, &info);
}

/* As initiator: siw takes one more Read Request of ours now. */
static int read_room(const struct conn *c)
{
	return c->initiator && c->rd_count < (int)c->ird &&
	       c->rd_count < MAX_READS;
}

/* The Read Request of ours sent last. */
static struct read_out *last_read(struct conn *c)
{
	return &c->rd[(c->rd_head + c->rd_count - 1) % MAX_READS];
}

/* A valid Read Request of ours; its response is checked on arrival. */
static uint32_t valid_read_req(struct conn *c, uint8_t *f)
{
	struct read_out *r = &c->rd[(c->rd_head + c->rd_count) % MAX_READS];
	uint32_t len = rnd_below(4) ? rnd_below(4096) + 1 : 0;
	struct siw_read_req rr;

	if (len > c->peer.rd_len)
		len = c->peer.rd_len;
	r->src_off = rnd_below(c->peer.rd_len - len + 1);
	r->size = len;
	r->got = 0;
	r->sink_stag = rnd() | 1;
	r->sink_to = (uint64_t)rnd() << 20;
	r->loose = 0;
	c->rd_count++;
	rr.sink_stag = r->sink_stag;
	rr.sink_to = r->sink_to;
	rr.size = len;
	rr.src_stag = c->peer.rd_rkey;
	rr.src_to = c->peer.rd_addr + r->src_off;
	return build_read_req(c, f, &rr);
}

/* One valid FPDU (or a few, for a message of several segments). */
static uint32_t valid_fpdus(struct conn *c, uint8_t *f)
{
	uint32_t n = 0, len, off, segs, i, seg;
	uint32_t pick = rnd_below(100);

	if (pick < 20 && read_room(c))
		return valid_read_req(c, f);
	if (pick < 40 && c->sends_left) {
		c->sends_left--;
		len = rnd_below(c->peer.recv_len + 1);
		c->msn[SIW_DDP_QN_SEND]++;
		segs = len > 1 && rnd_below(4) == 0 ? 2 : 1;
		for (off = 0, i = 0; i < segs; i++) {
			seg = i + 1 == segs ? len - off : len / 2;
			n += build_send(c, f + n, c->msn[SIW_DDP_QN_SEND], off,
					seg, i + 1 == segs);
			off += seg;
		}
		return n;
	}
	len = rnd_below(MAX_SEG_PAYLOAD + 1);
	if (len > c->peer.wr_len)
		len = c->peer.wr_len;
	off = rnd_below(c->peer.wr_len - len + 1);
	segs = len > 1 && rnd_below(4) == 0 ? 2 : 1;
	for (i = 0; i < segs; i++) {
		seg = i + 1 == segs ? len - (len / 2) * i : len / 2;
		n += build_tagged(c, f + n, SIW_RDMAP_WRITE, c->peer.wr_rkey,
				  c->peer.wr_addr + off, NULL, seg,
				  i + 1 == segs);
		off += seg;
	}
	return n;
}

/*
 * A Read Response for siw's Read Request: the whole of it, in segments.
 * With bad set, one of several ways of not answering it.
 */
static uint32_t read_response(struct conn *c, uint8_t *f,
			      const struct siw_read_req *rr, int bad)
{
	uint8_t data[MAX_SEG_PAYLOAD];
	uint32_t n = 0, off = 0, seg, i, size = rr->size;
	uint64_t src = rr->src_to - OUR_SRC_ADDR;
	uint32_t stag = rr->sink_stag;
	uint64_t to = rr->sink_to;

	switch (bad) {
	case 1:
		size = size ? rnd_below(size) : 1;	/* short, or long */
		break;
	case 2:
		size += rnd_below(64) + 1;
		break;
	case 3:
		stag ^= rnd() | 1;
		break;
	case 4:
		to += rnd_below(4096) + 1;
		break;
	}
	do {
		seg = size - off < MAX_SEG_PAYLOAD ? size - off : MAX_SEG_PAYLOAD;
		for (i = 0; i < seg; i++)
			data[i] = fuzz_pattern(src + off + i);
		n += build_tagged(c, f + n, SIW_RDMAP_READ_RESP, stag, to + off,
				  data, seg, off + seg == size);
		off += seg;
	} while (off < size);
	return n;
}

/*
 * Mutates the FPDU at f (len bytes, built valid). Returns its new length
 * on the wire; the CRC is recomputed unless the mutation is about it.
 */
static uint32_t mutate(struct conn *c, uint8_t *f, uint32_t len, int m)
{
	int tagged = f[2] & SIW_DDP_T;
	uint32_t ulen = f[0] << 8 | f[1], v, i;
	uint64_t to;

	switch (m) {
	case M_LEN_RANDOM:
		v = rnd() & 0xffff;
		goto set_len;
	case M_LEN_SHORT:
		v = rnd_below(tagged ? 14 : 18);
		goto set_len;
	case M_LEN_OFF:
		v = (ulen + (rnd_below(2) ? 1 : -1) * (rnd_below(8) + 1)) & 0xffff;
set_len:
		f[0] = v >> 8;
		f[1] = v;
		return len;
	case M_DDP_T:
		f[2] ^= SIW_DDP_T;
		break;
	case M_DDP_L:
		f[2] ^= SIW_DDP_L;
		break;
	case M_DDP_DV:
		f[2] = (f[2] & ~SIW_DDP_DV_MASK) | ((SIW_DDP_VERSION + 1 +
			rnd_below(3)) & SIW_DDP_DV_MASK);
		break;
	case M_DDP_RSVD:
		f[2] |= (rnd() & SIW_DDP_RSVD) | 0x04;
		f[3] |= rnd() & SIW_RDMAP_RSVD;
		break;
	case M_RDMAP_RV:
		f[3] = (f[3] & 0x3f) | (((SIW_RDMAP_VERSION + 1 +
			rnd_below(3)) & 3) << SIW_RDMAP_RV_SHIFT);
		break;
	case M_RDMAP_OPCODE:
		f[3] = (f[3] & ~SIW_RDMAP_OPCODE_MASK) | rnd_below(16);
		break;
	case M_STAG_QN:
		if (tagged) {
			v = rnd_below(3) ? rnd() : (f[7] ^ 1u) |
			    (uint32_t)f[4] << 24 | f[5] << 16 | f[6] << 8;
			if (rnd_below(4) == 0)
				v = 0;
			f[4] = v >> 24; f[5] = v >> 16; f[6] = v >> 8; f[7] = v;
		} else {
			v = rnd_below(2) ? rnd_below(8) : rnd();
			f[8] = v >> 24; f[9] = v >> 16; f[10] = v >> 8; f[11] = v;
		}
		break;
	case M_TO:
		if (!tagged)
			return mutate(c, f, len, M_MO);
		to = 0;
		for (i = 0; i < 8; i++)
			to = to << 8 | f[8 + i];
		switch (rnd_below(4)) {
		case 0:
			to = (uint64_t)rnd() << 32 | rnd();
			break;
		case 1:
			to += c->peer.wr_len - rnd_below(64);
			break;
		case 2:
			to = ~0ull - rnd_below(256);
			break;
		default:
			to -= rnd_below(64) + 1;
		}
		for (i = 0; i < 8; i++)
			f[8 + i] = to >> (56 - 8 * i);
		break;
	case M_MSN:
		if (tagged)
			return mutate(c, f, len, M_STAG_QN);
		v = (uint32_t)f[12] << 24 | f[13] << 16 | f[14] << 8 | f[15];
		v = rnd_below(2) ? v + (rnd_below(2) ? 1 : -1) : rnd();
		f[12] = v >> 24; f[13] = v >> 16; f[14] = v >> 8; f[15] = v;
		break;
	case M_MO:
		if (tagged)
			return mutate(c, f, len, M_TO);
		v = rnd_below(2) ? rnd_below(4096) + 1 : rnd();
		f[16] = v >> 24; f[17] = v >> 16; f[18] = v >> 8; f[19] = v;
		break;
	case M_PAD:
		if (!siw_fpdu_pad(ulen))
			return mutate(c, f, len, M_CRC);
		for (i = 0; i < siw_fpdu_pad(ulen); i++)
			f[SIW_MPA_LEN_SIZE + ulen + i] = rnd() | 1;
		goto crc;
	case M_CRC:
		f[len - 1 - rnd_below(4)] ^= 1 << rnd_below(8);
		return len;
	case M_RAW:
		for (i = rnd_below(4) + 1; i; i--)
			f[rnd_below(len)] ^= rnd() | 1;
		return len;
	}
	/* Pad and CRC as a sender that means it would have them. */
	memset(f + SIW_MPA_LEN_SIZE + ulen, 0, siw_fpdu_pad(ulen));
crc:
	v = c->crc ? crc32c(f, SIW_MPA_LEN_SIZE + ulen + siw_fpdu_pad(ulen)) : 0;
	for (i = 0; i < 4; i++)
		f[SIW_MPA_LEN_SIZE + ulen + siw_fpdu_pad(ulen) + i] = v >> (8 * i);
	return len;
}

/* One FPDU built for the mutation m, which some kinds need built so. */
static uint32_t mutated_fpdu(struct conn *c, uint8_t *f, int m)
{
	struct siw_ddp_info info = { .last = 1 };
	struct siw_read_req rr;
	uint32_t len;

	switch (m) {
	case M_INVALIDATE:
		info.opcode = rnd_below(2) ? SIW_RDMAP_SEND_INV :
			      SIW_RDMAP_SEND_SE_INV;
		info.qn = SIW_DDP_QN_SEND;
		info.msn = ++c->msn[SIW_DDP_QN_SEND];
		info.inval_stag = rnd_below(2) ? c->peer.wr_rkey :
				  rnd_below(2) ? c->peer.rd_rkey : rnd();
		info.payload_len = rnd_below(64);
		return build_untagged(c, f, &info);
	case M_TERMINATE:
		info.opcode = SIW_RDMAP_TERMINATE;
		info.qn = SIW_DDP_QN_TERMINATE;
		info.msn = rnd_below(2) ? 1 : rnd();
		info.term.layer = rnd_below(4);
		info.term.etype = rnd_below(4);
		info.term.ecode = rnd();
		info.payload_len = rnd_below(2) ? 0 : rnd_below(64);
		len = build_untagged(c, f, &info);
		return rnd_below(2) ? len : mutate(c, f, len, M_RAW);
	case M_READ_REQ:
		/* Always out of bounds or rights, whatever else is random. */
		rr.sink_stag = rnd();
		rr.sink_to = (uint64_t)rnd() << 32 | rnd();
		rr.src_stag = c->peer.rd_rkey;
		len = rnd_below(c->peer.rd_len);
		rr.src_to = c->peer.rd_addr + len;
		rr.size = c->peer.rd_len - len + 1 + rnd_below(4096);
		switch (rnd_below(5)) {
		case 0:
			rr.size = rnd() | 0x80000000u;
			break;
		case 1:
			rr.src_stag = rnd_below(2) ? c->peer.wr_rkey : rnd();
			rr.size = rnd_below(4096) + 1;
			break;
		case 2:
			rr.src_to = c->peer.rd_addr - rnd_below(4096) - 1;
			rr.size = rnd_below(4096) + 1;
			break;
		case 3:
			rr.src_to = ~0ull - rnd_below(4096);
			rr.size = rnd_below(8192) + 4097;
			break;
		}
		return build_read_req(c, f, &rr);
	case M_READ_RESP:
		/* Nothing of ours is outstanding that this could answer. */
		return build_tagged(c, f, SIW_RDMAP_READ_RESP,
				    rnd_below(2) ? rnd() : c->peer.wr_rkey,
				    c->peer.wr_addr, NULL, rnd_below(256),
				    rnd_below(4) != 0);
	}
	/* Mutate a valid FPDU of the kind the stream carries anyway. */
	if (rnd_below(2) && read_room(c)) {
		len = valid_read_req(c, f);
		last_read(c)->loose = 1;
	} else if (rnd_below(2) && c->sends_left) {
		c->sends_left--;
		len = build_send(c, f, ++c->msn[SIW_DDP_QN_SEND], 0,
				 rnd_below(c->peer.recv_len + 1), 1);
	} else {
		len = build_tagged(c, f, SIW_RDMAP_WRITE, c->peer.wr_rkey,
				   c->peer.wr_addr +
				   rnd_below(c->peer.wr_len - 256),
				   NULL, rnd_below(256), 1);
	}
	return mutate(c, f, len, m);
}

/* ---- what siw sends ------------------------------------------------- */

static int term_reason_known(const struct siw_term_reason *t)
{
	switch (t->layer) {
	case SIW_TERM_LAYER_RDMAP:
		if (t->etype == SIW_RDMAP_ETYPE_CATASTROPHIC)
			return t->ecode == 0;
		if (t->etype == SIW_RDMAP_ETYPE_REMOTE_PROT)
			return t->ecode <= 0x04 || t->ecode == 0x09 ||
			       t->ecode == 0xff;
		if (t->etype == SIW_RDMAP_ETYPE_REMOTE_OP)
			return (t->ecode >= 0x05 && t->ecode <= 0x09) ||
			       t->ecode == 0xff;
		return 0;
	case SIW_TERM_LAYER_DDP:
		if (t->etype == SIW_DDP_ETYPE_CATASTROPHIC)
			return t->ecode == 0;
		if (t->etype == SIW_DDP_ETYPE_TAGGED)
			return t->ecode <= 0x04;
		if (t->etype == SIW_DDP_ETYPE_UNTAGGED)
			return t->ecode >= 0x01 && t->ecode <= 0x06;
		return 0;
	case SIW_TERM_LAYER_LLP:
		return t->etype == SIW_LLP_ETYPE_MPA && t->ecode >= 0x02 &&
		       t->ecode <= 0x05;
	}
	return 0;
}

/* RFC 5040 section 4.8; ulpdu is the whole Terminate ULPDU. */
static void check_terminate(struct conn *c, const struct siw_ddp_info *info,
			    const uint8_t *ulpdu, uint32_t ulen)
{
	const uint8_t *q = ulpdu + sizeof(struct siw_ddp_untagged) +
			   sizeof(struct siw_rdmap_term);
	uint32_t qlen = ulen - sizeof(struct siw_ddp_untagged) -
			sizeof(struct siw_rdmap_term);
	uint16_t hdrct = ulpdu[20] << 8 | ulpdu[21];
	const struct siw_term_reason *t = &info->term;
	uint32_t want = 0;

	if (c->terminated)
		fail("a second Terminate on one stream");
	c->terminated = 1;
	c->term = info->term;
	c->quote_len = qlen < sizeof(c->quote) ? qlen : sizeof(c->quote);
	memcpy(c->quote, q, c->quote_len);
	if (info->qn != SIW_DDP_QN_TERMINATE || !info->last || info->mo ||
	    info->msn != 1)
		fail("Terminate on queue %u, MSN %u, MO %u, L %u", info->qn,
		     info->msn, info->mo, info->last);
	if (!term_reason_known(t))
		fail("Terminate with a reason no RFC defines: layer %u type %u code %#x",
		     t->layer, t->etype, t->ecode);
	if (t->layer == SIW_TERM_LAYER_LLP && t->ecode == SIW_LLP_ECODE_CRC &&
	    !c->crc)
		fail("Terminate for a CRC error on a stream without CRC");
	if (hdrct & ~SIW_TERM_HDRCT_MASK)
		fail("Terminate with reserved Hdrct bits set: %#x", hdrct);
	if ((hdrct & SIW_TERM_HDRCT_D) && !(hdrct & SIW_TERM_HDRCT_M))
		fail("Terminate quotes a DDP header without the segment length");
	if ((hdrct & SIW_TERM_HDRCT_R) && !(hdrct & SIW_TERM_HDRCT_D))
		fail("Terminate quotes a Read Request without its DDP header");
	if (hdrct & SIW_TERM_HDRCT_M)
		want += SIW_MPA_LEN_SIZE;
	if (hdrct & SIW_TERM_HDRCT_D) {
		if (qlen < SIW_MPA_LEN_SIZE + 1)
			fail("Terminate with D set is too short (%u)", qlen);
		want += q[2] & SIW_DDP_T ? sizeof(struct siw_ddp_tagged) :
			sizeof(struct siw_ddp_untagged);
	}
	if (hdrct & SIW_TERM_HDRCT_R) {
		if ((q[3] & SIW_RDMAP_OPCODE_MASK) != SIW_RDMAP_READ_REQ ||
		    (q[2] & SIW_DDP_T))
			fail("Terminate with R set quotes opcode %u", q[3] & 15);
		want += sizeof(struct siw_rdmap_read_req);
	}
	if (qlen != want)
		fail("Terminate of %u bytes after its header; Hdrct %#x says %u",
		     qlen, hdrct, want);
	st.term[t->layer][t->etype][t->ecode]++;
	if (!qlen)
		return;
	if (c->sent_lost) {
		st.quotes_unverifiable++;
		return;
	}
	if (!memmem(stream_sent, c->sent_len, q, qlen))
		fail("Terminate quotes %u bytes that were never sent", qlen);
	st.quotes_checked++;
}

static void check_read_response(struct conn *c, const struct siw_ddp_info *i,
				const uint8_t *payload)
{
	struct read_out *r = &c->rd[c->rd_head];
	uint32_t k;

	if (!c->rd_count)
		fail("a Read Response with no Read Request outstanding");
	if (r->loose) {
		if (i->last) {
			c->rd_head = (c->rd_head + 1) % MAX_READS;
			c->rd_count--;
		}
		return;
	}
	if (i->stag != r->sink_stag || i->to != r->sink_to + r->got ||
	    r->got + i->payload_len > r->size)
		fail("Read Response stag %#x to %#llx len %u answers stag %#x to %#llx size %u (%u in)",
		     i->stag, (unsigned long long)i->to, i->payload_len,
		     r->sink_stag, (unsigned long long)r->sink_to, r->size,
		     r->got);
	for (k = 0; k < i->payload_len; k++)
		if (payload[k] != fuzz_pattern(r->src_off + r->got + k))
			fail("Read Response data wrong at offset %u",
			     r->got + k);
	r->got += i->payload_len;
	if (i->last != (r->got == r->size))
		fail("Read Response L bit %u after %u of %u bytes", i->last,
		     r->got, r->size);
	if (i->last) {
		if (c->probe && r->sink_stag == c->probe_stag) {
			c->probe = 0;
			if (c->mutation >= 0)
				st.outcome[c->mutation][O_SURVIVED]++;
			c->mutation = -2;	/* decided */
		}
		c->rd_head = (c->rd_head + 1) % MAX_READS;
		c->rd_count--;
		st.rresp_checked++;
	}
}

/* siw as initiator: its Read Requests, which we answer. */
static void take_read_request(struct conn *c, const struct siw_ddp_info *i)
{
	const struct siw_read_req *rr = &i->rreq;

	if (c->rtr == SIW_MPA_RTR_READ && !c->rtr_seen) {
		c->rtr_seen = 1;
		if (rr->size)
			fail("RTR Read Request of %u bytes", rr->size);
	} else if (rr->src_stag != OUR_SRC_RKEY ||
		   rr->src_to < OUR_SRC_ADDR || rr->size > OUR_SRC_LEN ||
		   rr->src_to - OUR_SRC_ADDR > OUR_SRC_LEN - rr->size) {
		fail("siw reads stag %#x to %#llx size %u outside what we offered",
		     rr->src_stag, (unsigned long long)rr->src_to, rr->size);
	}
	if (c->req_count >= PEER_IRD)
		fail("siw has more than the %d Read Requests outstanding we granted",
		     PEER_IRD);
	c->req[c->req_count++] = *rr;
}

static void handle_fpdu(struct conn *c, const uint8_t *ulpdu, uint32_t ulen)
{
	struct siw_ddp_info info;
	struct siw_term_reason why;
	int hdr = siw_ddp_parse_hdr(ulpdu, ulen, ulen, &info, &why);

	if (hdr < 0 || (uint32_t)hdr > ulen)
		fail("siw sent an FPDU that does not parse (layer %u type %u code %#x)",
		     why.layer, why.etype, why.ecode);
	if (c->terminated)
		fail("siw sent opcode %u after its Terminate", info.opcode);
	switch (info.opcode) {
	case SIW_RDMAP_TERMINATE:
		check_terminate(c, &info, ulpdu, ulen);
		return;
	case SIW_RDMAP_READ_RESP:
		if (!c->initiator)
			fail("siw as initiator sent a Read Response");
		check_read_response(c, &info, ulpdu + hdr);
		return;
	case SIW_RDMAP_READ_REQ:
		if (c->initiator)
			fail("siw as responder sent a Read Request");
		take_read_request(c, &info);
		return;
	case SIW_RDMAP_SEND:
	case SIW_RDMAP_WRITE:
		/* siw_target sends nothing else: these are RTR messages. */
		if (!c->initiator && !c->rtr_seen && !info.payload_len &&
		    siw_mpa_rtr_opcode(c->rtr) == info.opcode && c->rtr) {
			c->rtr_seen = 1;
			return;
		}
		/* fallthrough */
	default:
		fail("siw sent an unexpected %s FPDU, opcode %u len %u",
		     c->initiator ? "responder's" : "initiator's", info.opcode,
		     info.payload_len);
	}
}

/* Takes in what siw sent; with wait, until the stream ends. */
static void drain(struct conn *c, int wait)
{
	uint32_t ulen, flen, crc;
	ssize_t r;
	size_t off;

	for (;;) {
		r = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 wait ? 0 : MSG_DONTWAIT);
		if (r == 0) {
			c->dead = 1;
		} else if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (wait)
					fail("siw kept a stream open %d s after %s (rev %d, CRC %d, RTR %u, last mutation %s, %zu bytes of an FPDU in)",
					     IO_TIMEOUT_S, c->we_closed ?
					     "our FIN" : "we cut it off",
					     c->rev, c->crc, c->rtr,
					     c->mutation >= 0 ?
					     mutation_name[c->mutation] :
					     "none undecided", c->in_len);
				return;
			}
			c->dead = 1;
		} else {
			c->in_len += r;
		}
		off = 0;
		while (c->in_len - off >= SIW_MPA_LEN_SIZE) {
			ulen = c->in[off] << 8 | c->in[off + 1];
			flen = siw_fpdu_len(ulen);
			if (c->in_len - off < flen)
				break;
			if (c->crc) {
				crc = crc32c(c->in + off, flen - SIW_MPA_CRC_SIZE);
				if (memcmp(&crc, c->in + off + flen - 4, 4))
					fail("siw sent an FPDU with a wrong CRC");
			}
			handle_fpdu(c, c->in + off + SIW_MPA_LEN_SIZE, ulen);
			off += flen;
		}
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
		if (c->dead)
			return;
	}
}

/* ---- connection setup ----------------------------------------------- */

static struct addrinfo *resolve(const char *addr, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	if (getaddrinfo(addr, port, &hints, &ai))
		die("getaddrinfo");
	return ai;
}

static void take_target_info(struct conn *c, const void *pd, uint32_t len)
{
	struct fuzz_target_info t;

	if (len < sizeof(t))
		fail("siw_target's private data is %u bytes", len);
	memcpy(&t, pd, sizeof(t));
	c->peer.wr_addr = be64toh(t.wr_addr);
	c->peer.wr_rkey = be32toh(t.wr_rkey);
	c->peer.wr_len = be32toh(t.wr_len);
	c->peer.rd_addr = be64toh(t.rd_addr);
	c->peer.rd_rkey = be32toh(t.rd_rkey);
	c->peer.rd_len = be32toh(t.rd_len);
	c->peer.rq_depth = be32toh(t.rq_depth);
	c->peer.recv_len = be32toh(t.recv_len);
	if (c->peer.wr_len < 4096 || c->peer.rd_len < 4096 ||
	    c->peer.recv_len > MAX_SEG_PAYLOAD)
		fail("siw_target's private data makes no sense");
	c->sends_left = c->peer.rq_depth;
}

static int read_mpa(int fd, uint8_t *buf, enum siw_mpa_kind kind,
		    struct siw_mpa_info *info)
{
	struct siw_mpa_rr *rr = (void *)buf;
	int ret;

	if (recv_exact(fd, buf, sizeof(*rr)))
		return -1;
	ret = siw_mpa_parse(buf, sizeof(*rr), kind, info);
	if (ret < 0)
		fail("siw's MPA %s does not parse: %d",
		     kind == SIW_MPA_REPLY ? "Reply" : "Request", ret);
	if (recv_exact(fd, buf + sizeof(*rr), ret - sizeof(*rr)))
		return -1;
	if (siw_mpa_parse(buf, ret, kind, info) != ret)
		fail("siw's MPA frame does not parse whole");
	return 0;
}

static void count_setup(const struct conn *c)
{
	st.setups[c->rev - 1][c->crc][c->rtr == SIW_MPA_RTR_SEND ? 1 :
		c->rtr == SIW_MPA_RTR_WRITE ? 2 : c->rtr ? 3 : 0]++;
}

/* One connection's worth of MPA as the initiator; the stream is then in c. */
static int setup_initiator(struct conn *c, struct addrinfo *ai, unsigned int k)
{
	static const uint8_t rtrs[] = { 0, SIW_MPA_RTR_SEND, SIW_MPA_RTR_WRITE,
					SIW_MPA_RTR_READ };
	uint8_t buf[sizeof(struct siw_mpa_rr) + SIW_MPA_MAX_PRIVATE_DATA];
	struct siw_mpa_info req = { 0 }, rep;
	uint8_t want_rtr = rtrs[k % 4];
	int len;

	c->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (c->fd < 0)
		die("socket");
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen))
		fail("connect to siw_target: %s", strerror(errno));
	set_timeouts(c->fd);
	c->rev = (k / 4) % 3 == 2 ? SIW_MPA_REV_1 : SIW_MPA_REV_2;
	req.rev = c->rev;
	if ((k / 12) % 2)
		req.flags |= SIW_MPA_CRC;
	if (c->rev == SIW_MPA_REV_2) {
		req.flags |= SIW_MPA_ENHANCED;
		req.ird = req.ord = 8;
		if (want_rtr) {
			req.flags |= SIW_MPA_P2P;
			req.rtr = want_rtr;
		}
	}
	len = siw_mpa_req_build(buf, sizeof(buf), &req);
	if (len < 0)
		fail("siw_mpa_req_build: %d", len);
	if (xmit(c, buf, len) || read_mpa(c->fd, buf, SIW_MPA_REPLY, &rep))
		fail("MPA Request answered by the end of the stream");
	if (rep.flags & SIW_MPA_REJECT)
		fail("siw rejected the connection");
	c->crc = !!((rep.flags | req.flags) & SIW_MPA_CRC);
	c->ird = 1;
	if (rep.flags & SIW_MPA_ENHANCED) {
		c->ird = rep.ird < 8 ? rep.ird : 8;
		if (rep.flags & SIW_MPA_P2P)
			c->rtr = rep.rtr;
	}
	take_target_info(c, rep.pd, rep.pd_len);
	count_setup(c);
	if (c->rtr) {
		uint8_t f[128];
		struct siw_ddp_info info = { .last = 1 };
		uint32_t n;

		if (c->rtr == SIW_MPA_RTR_WRITE) {
			n = build_tagged(c, f, SIW_RDMAP_WRITE, 0, 0, NULL, 0, 1);
		} else if (c->rtr == SIW_MPA_RTR_READ) {
			struct read_out *r = &c->rd[c->rd_head];
			struct siw_read_req rr = { .sink_stag = 0x5a5a5a5a };

			memset(r, 0, sizeof(*r));
			r->sink_stag = rr.sink_stag;
			c->rd_count = 1;
			n = build_read_req(c, f, &rr);
		} else {
			info.opcode = SIW_RDMAP_SEND;
			info.qn = SIW_DDP_QN_SEND;
			info.msn = ++c->msn[SIW_DDP_QN_SEND];
			n = build_untagged(c, f, &info);
		}
		if (xmit(c, f, n))
			return -1;
		st.fpdus++;
	}
	return 0;
}

static int setup_responder(struct conn *c, int lfd, unsigned int k)
{
	uint8_t buf[sizeof(struct siw_mpa_rr) + SIW_MPA_MAX_PRIVATE_DATA];
	struct fuzz_source_info src = {
		.addr = htobe64(OUR_SRC_ADDR), .rkey = htobe32(OUR_SRC_RKEY),
		.len = htobe32(OUR_SRC_LEN),
	};
	struct siw_mpa_info req, rep = { .pd = &src, .pd_len = sizeof(src) };
	static const uint8_t order[] = { SIW_MPA_RTR_SEND, SIW_MPA_RTR_WRITE,
					 SIW_MPA_RTR_READ };
	int len, i;

	c->fd = accept(lfd, NULL, NULL);
	if (c->fd < 0)
		fail("no connection from siw_target: %s", strerror(errno));
	set_timeouts(c->fd);
	if (read_mpa(c->fd, buf, SIW_MPA_REQUEST, &req))
		fail("siw ended the stream inside its MPA Request");
	take_target_info(c, req.pd, req.pd_len);
	c->rev = req.rev;
	rep.rev = req.rev;
	c->crc = (req.flags & SIW_MPA_CRC) || k % 2;
	if (c->crc)
		rep.flags |= SIW_MPA_CRC;
	c->ird = 0;
	if (req.flags & SIW_MPA_ENHANCED) {
		rep.flags |= SIW_MPA_ENHANCED;
		rep.ird = PEER_IRD;
		rep.ord = 0;
		if (req.flags & SIW_MPA_P2P) {
			for (i = 0; i < 3; i++) {
				c->rtr = order[(k / 2 + i) % 3];
				if (req.rtr & c->rtr)
					break;
			}
			if (i == 3)
				fail("siw asks for peer-to-peer with no RTR type");
			rep.flags |= SIW_MPA_P2P;
			rep.rtr = c->rtr;
		}
	}
	len = siw_mpa_rep_build(buf, sizeof(buf), &rep);
	if (len < 0)
		fail("siw_mpa_rep_build: %d", len);
	count_setup(c);
	return xmit(c, buf, len);
}

/* ---- the fuzzing loop ----------------------------------------------- */

static uint64_t max_fpdus = 100000, mutate_every = 64;
static time_t deadline;

static int done(void)
{
	return st.fpdus >= max_fpdus || time(NULL) >= deadline;
}

/* Sends f[0..n) as one write, or split at *at, which walks the FPDU. */
static void send_maybe_split(struct conn *c, const uint8_t *f, uint32_t n,
			     int split)
{
	static uint32_t at;
	uint32_t k;

	if (!split || n < 2) {
		xmit(c, f, n);
		return;
	}
	k = 1 + at++ % (n - 1 < 63 ? n - 1 : 63);
	st.split_at[k] = 1;
	st.split++;
	if (xmit(c, f, k))
		return;
	/* Long enough for siw to take in the first part on its own. */
	usleep(300);
	xmit(c, f + k, n - k);
}

/*
 * Waits for the Read Request behind a mutation to be answered or for the
 * stream to end. Neither within PROBE_MS means siw still takes the
 * mutated FPDU in (a longer ULPDU_Length swallowed the probe): undecided.
 */
#define PROBE_MS	200

/* Room for the probe: waits for siw to answer reads until one more fits. */
static void await_reads(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	while (c->rd_count >= (int)c->ird && !c->dead &&
	       poll(&p, 1, PROBE_MS) == 1)
		drain(c, 0);
}

static void await_probe(struct conn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	while (c->probe && !c->dead) {
		if (poll(&p, 1, PROBE_MS) != 1) {
			c->probe = 0;
			return;
		}
		drain(c, 0);
	}
}

static void run_stream(struct conn *c)
{
	static uint8_t batch[BATCH_MAX + 4096];
	uint32_t n, len, i, count, fpdus = 0, limit = 200 + rnd_below(4000);
	int m, mutated;

	c->mutation = -1;
	c->probe = 0;
	/* RFC 6581: the responder sends nothing before the initiator's RTR. */
	while (!c->initiator && c->rtr && !c->rtr_seen && !c->dead) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (poll(&p, 1, IO_TIMEOUT_S * 1000) != 1)
			fail("no RTR message from siw in %d s", IO_TIMEOUT_S);
		drain(c, 0);
	}
	while (!c->dead && !done() && fpdus < limit) {
		drain(c, 0);
		if (c->dead)
			break;
		n = 0;
		for (i = 0; i < (uint32_t)c->req_count; i++) {
			n += read_response(c, batch + n, &c->req[i], 0);
			st.reads_served++;
		}
		c->req_count = 0;
		count = 1 + rnd_below(32);
		mutated = 0;
		for (i = 0; i < count && n < BATCH_MAX - 8192; i++, fpdus++) {
			if (rnd_below(mutate_every)) {
				len = valid_fpdus(c, batch + n);
				if (rnd_below(64) == 0) {
					xmit(c, batch, n);
					send_maybe_split(c, batch + n, len, 1);
					n = 0;
					st.fpdus++;
					continue;
				}
				n += len;
				st.fpdus++;
				continue;
			}
			m = rnd_below(M_NUM);
			if (c->mutation >= 0)
				st.outcome[c->mutation][O_UNDECIDED]++;
			c->mutation = m;
			mutated = 1;
			st.mutated++;
			st.by_mutation[m]++;
			st.fpdus++;
			if (m == M_READ_RESP && !c->initiator) {
				struct siw_read_req rr = {
					.sink_stag = rnd(), .sink_to = 0,
					.size = rnd_below(512) + 1,
					.src_to = OUR_SRC_ADDR,
				};

				len = read_response(c, batch + n, &rr, 1 + rnd_below(4));
			} else {
				len = m == M_TRUNCATE ? valid_fpdus(c, batch + n) :
				      mutated_fpdu(c, batch + n, m);
			}
			if (m == M_TRUNCATE) {
				xmit(c, batch, n + 1 + rnd_below(len - 1));
				shutdown(c->fd, SHUT_WR);
				drain(c, 1);
				return;
			}
			n += len;
		}
		if (mutated && c->initiator && c->ird) {
			xmit(c, batch, n);
			n = 0;
			await_reads(c);
		}
		if (mutated && !c->dead && read_room(c)) {
			n += valid_read_req(c, batch + n);
			c->probe = 1;
			c->probe_stag = last_read(c)->sink_stag;
		}
		xmit(c, batch, n);
		if (c->probe)
			await_probe(c);
	}
	if (!c->dead) {
		c->we_closed = 1;
		shutdown(c->fd, SHUT_WR);
	}
	drain(c, 1);
}

static void account(struct conn *c)
{
	enum outcome o = c->terminated ? O_TERMINATED :
			 c->mutation >= 0 && !c->we_closed ? O_CLOSED :
			 O_SURVIVED;

	if (c->terminated && c->mutation == -1) {
		char hex[3 * sizeof(c->quote) + 1] = "";
		uint32_t i;

		for (i = 0; i < c->quote_len; i++)
			sprintf(hex + 3 * i, " %02x", c->quote[i]);
		fail("siw terminated a stream we never mutated (rev %d, CRC %d, RTR %u): layer %u type %u code %#x, quoting%s",
		     c->rev, c->crc, c->rtr, c->term.layer, c->term.etype,
		     c->term.ecode, hex);
	}
	if (c->in_len)
		st.cut_short++;
	if (c->mutation >= 0)
		st.outcome[c->mutation][o]++;
	st.connections++;
}

static void report(double secs)
{
	static const char *const rtr_name[] = { "no RTR", "RTR Send",
						"RTR Write", "RTR Read" };
	unsigned int l, e, k, v, crc, r, n = 0;

	printf("%llu FPDUs in %.0f s on %llu connections: %llu mutated, %llu split\n",
	       (unsigned long long)st.fpdus, secs,
	       (unsigned long long)st.connections,
	       (unsigned long long)st.mutated, (unsigned long long)st.split);
	printf("checked: %llu Read Responses, %llu Read Requests served, %llu Terminate quotes (%llu unverifiable)\n",
	       (unsigned long long)st.rresp_checked,
	       (unsigned long long)st.reads_served,
	       (unsigned long long)st.quotes_checked,
	       (unsigned long long)st.quotes_unverifiable);
	printf("streams siw ended inside an FPDU of its own: %llu\n",
	       (unsigned long long)st.cut_short);
	printf("coverage: connection setups (MPA revision, CRC, RTR):\n");
	for (v = 0; v < 2; v++)
		for (crc = 0; crc < 2; crc++)
			for (r = 0; r < 4; r++)
				if (st.setups[v][crc][r])
					printf("  rev %u, CRC %s, %-9s %llu\n", v + 1,
					       crc ? "on " : "off", rtr_name[r],
					       (unsigned long long)st.setups[v][crc][r]);
	printf("coverage: mutation -> terminated / closed / survived / undecided:\n");
	for (k = 0; k < M_NUM; k++)
		printf("  %-24s %6llu -> %llu / %llu / %llu / %llu\n", mutation_name[k],
		       (unsigned long long)st.by_mutation[k],
		       (unsigned long long)st.outcome[k][O_TERMINATED],
		       (unsigned long long)st.outcome[k][O_CLOSED],
		       (unsigned long long)st.outcome[k][O_SURVIVED],
		       (unsigned long long)st.outcome[k][O_UNDECIDED]);
	printf("coverage: Terminate reasons siw sent (layer/type/code: count):\n");
	for (l = 0; l < 3; l++)
		for (e = 0; e < 4; e++)
			for (k = 0; k < 256; k++)
				if (st.term[l][e][k])
					printf("  %u/%u/%#04x: %llu\n", l, e, k,
					       (unsigned long long)st.term[l][e][k]);
	for (k = 1; k < 64; k++)
		n += st.split_at[k];
	printf("coverage: FPDUs split at %u distinct byte positions (1-63)\n", n);
}

int main(int argc, char **argv)
{
	struct addrinfo *ai;
	struct timespec t0, t1;
	unsigned int k;
	struct conn *c;
	int lfd = -1, one = 1, i, secs = 600;
	uint64_t seed;

	if (argc < 4 || (strcmp(argv[1], "connect") && strcmp(argv[1], "listen"))) {
		fprintf(stderr, "usage: see the comment at the top of stream_fuzz.c\n");
		return 2;
	}
	clock_gettime(CLOCK_REALTIME, &t0);
	seed = (uint64_t)t0.tv_sec * 1000003 ^ t0.tv_nsec;
	for (i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--fpdus"))
			max_fpdus = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--secs"))
			secs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[i + 1], NULL, 0);
		else if (!strcmp(argv[i], "--mutate"))
			mutate_every = strtoull(argv[i + 1], NULL, 0);
		else
			break;
	}
	if (i != argc || !mutate_every) {
		fprintf(stderr, "stream_fuzz: bad option %s\n", argv[i]);
		return 2;
	}
	rng_state = seed | 1;
	printf("stream_fuzz %s %s %s: seed %#llx\n", argv[1], argv[2], argv[3],
	       (unsigned long long)seed);
	fflush(stdout);
	crc_init();
	c = calloc(1, sizeof(*c));
	stream_sent = malloc(SENT_KEEP);
	if (!c || !stream_sent)
		die("malloc");
	ai = resolve(argv[2], argv[3]);
	if (!strcmp(argv[1], "listen")) {
		lfd = socket(ai->ai_family, SOCK_STREAM, 0);
		if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one,
					  sizeof(one)) ||
		    bind(lfd, ai->ai_addr, ai->ai_addrlen) || listen(lfd, 8))
			die("listen");
		printf("listening\n");
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	deadline = time(NULL) + secs;
	for (k = 0; !done(); k++) {
		memset(c, 0, sizeof(*c));
		c->initiator = lfd < 0;
		if (c->initiator ? setup_initiator(c, ai, k) :
				   setup_responder(c, lfd, k)) {
			close(c->fd);
			continue;
		}
		run_stream(c);
		account(c);
		close(c->fd);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	report(t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("stream_fuzz: all checks held\n");
	return 0;
}
