/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Every resource limit the device advertises, in one place, so that
 * query_device, argument validation and the tests agree by construction.
 */
#ifndef SIW_LIMITS_H
#define SIW_LIMITS_H

#include "siw_abi.h"

#define SIW_VENDOR_ID		0x736977	/* "siw" */
#define SIW_VENDOR_PART_ID	1
#define SIW_FW_MAJOR		1
#define SIW_FW_MINOR		0
#define SIW_FW_SUBMINOR		0

#define SIW_MAX_QP		(64 * 1024)
#define SIW_MAX_QP_WR		(16 * 1024)
#define SIW_MAX_CQ		(64 * 1024)
/* A CQ of this size takes 8 MiB of vmalloc space. */
#define SIW_MAX_CQE		(256 * 1024)
#define SIW_MAX_PD		(64 * 1024)
#define SIW_MAX_MR		(256 * 1024)
#define SIW_MAX_SRQ		(64 * 1024)
#define SIW_MAX_SRQ_WR		(64 * 1024)
#define SIW_MAX_CTX		(16 * 1024)
/*
 * Queue memory (rings and their kernel shadows) one user context may
 * hold; a process's memory cgroup is charged for it as well. 128 send
 * queues of the largest size, or as many CQs, fit.
 */
#define SIW_MAX_UCTX_QUEUE_BYTES	(1ULL << 30)

/* The SQE/RQE layout of the user ABI fixes the SGE count. */
#define SIW_MAX_SEND_SGE	SIW_ABI_MAX_SGE
#define SIW_MAX_RECV_SGE	SIW_ABI_MAX_SGE
#define SIW_MAX_SGE_RD		SIW_ABI_MAX_SGE
#define SIW_MAX_INLINE_DATA	SIW_ABI_MAX_INLINE

/* Outstanding RDMA READs per QP, as initiator (ORD) and responder (IRD). */
#define SIW_MAX_ORD		128
#define SIW_MAX_IRD		128

/* Largest fast-registration page list, also the PBL size of alloc_mr. */
#define SIW_MAX_FRMR_PAGES	1024

#define SIW_MAX_MR_SIZE		(1ULL << 40)
#define SIW_MAX_MSG_SIZE	0x7fffffffU

/*
 * STag = 24-bit index | 8-bit key. Index 0 is never handed out, so no
 * valid STag is zero.
 */
#define SIW_STAG_KEY_BITS	8
#define SIW_STAG_KEY_MASK	0xffU
#define SIW_STAG_MAX_INDEX	0xffffffU

/* QP number 0 is never used: iw_cm treats qpn 0 as "no QP". */
#define SIW_MAX_QPN		0xffffffU

/*
 * Zero-copy transmit only for messages of at least this many bytes. A
 * zero-copy message completes when TCP has the peer's ACK for all of
 * it: a small message then waits out the peer's delayed ACK (tens of
 * milliseconds) to save a copy that costs less than the page references
 * (ib_write_bw 4 KiB: 21 MB/s zero-copy against 71 MB/s copied, 6.12).
 */
#define SIW_ZCOPY_MIN_BYTES	16384

/*
 * A user's doorbell transmits a message of up to this many bytes from
 * the posting task; a larger one goes to the QP's work item. For a small
 * message the hand-off would be most of its latency; for a large one the
 * copying is, and work items let several QPs of one poster transmit on
 * all CPUs while it goes on posting and polling (ib_write_bw 64 KiB with
 * 8 QPs: 231-276 MB/s all sent by the poster, 364-422 MB/s handed off;
 * 6.12 under TCG).
 */
#define SIW_TX_DOORBELL_MAX_BYTES	16384

/*
 * Transmits of other QPs one doorbell may run after its own
 * (siw_tx_lend()), bounding its system call; further ones are handed
 * over as usual.
 */
#define SIW_TX_LEND_MAX			4

/*
 * How long modify_qp(RESET) waits for the connection manager to let go
 * of the QP's old stream: it resets the stream at once, so this only
 * bounds the wait for a connection manager that does not respond.
 */
#define SIW_QP_UNBIND_TIMEOUT	(30 * HZ)

#endif /* SIW_LIMITS_H */
