/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What stream_fuzz (tests/fuzz/stream_fuzz.c) and the siw side of its
 * runs (siw_target fuzz-serve and fuzz-client, tests/hostile/) agree on.
 * Every field is big endian, as it travels in MPA private data.
 */
#ifndef FUZZ_PROTO_H
#define FUZZ_PROTO_H

#include <stdint.h>

/* siw_target's side: in its MPA Reply (fuzz-serve) or Request (fuzz-client). */
struct fuzz_target_info {
	uint64_t wr_addr;	/* a region the peer may RDMA WRITE */
	uint32_t wr_rkey;
	uint32_t wr_len;
	uint64_t rd_addr;	/* one it may RDMA READ: fuzz_pattern() */
	uint32_t rd_rkey;
	uint32_t rd_len;
	uint32_t rq_depth;	/* receives posted, once */
	uint32_t recv_len;	/* bytes each */
} __attribute__((packed));

/* stream_fuzz's side, in its MPA Reply: where siw as initiator reads. */
struct fuzz_source_info {
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
} __attribute__((packed));

/* The byte at offset off of a region whose contents both sides know. */
static inline uint8_t fuzz_pattern(uint64_t off)
{
	return (uint8_t)(off * 131 + (off >> 8) + 7);
}

#endif /* FUZZ_PROTO_H */
