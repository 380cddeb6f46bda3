/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * iWARP wire formats: MPA (RFC 5044, RFC 6581), DDP (RFC 5041) and
 * RDMAP (RFC 5040), and the codec in siw/siw_wire.c.
 *
 * Shared by the kernel module and by user-space tests, so it includes
 * nothing but <linux/types.h> and a byte-order section, and uses __u32
 * rather than size_t for lengths. Every multi-byte field is big endian
 * on the wire; structs describing wire images are packed because the
 * RFC layouts put 64-bit fields at 2-byte offsets.
 */
#ifndef SIW_WIRE_H
#define SIW_WIRE_H

#include <linux/types.h>

#ifdef __KERNEL__
#include <asm/byteorder.h>

static inline __u16 siw_be16_to_cpu(__be16 v) { return be16_to_cpu(v); }
static inline __u32 siw_be32_to_cpu(__be32 v) { return be32_to_cpu(v); }
static inline __u64 siw_be64_to_cpu(__be64 v) { return be64_to_cpu(v); }
static inline __be16 siw_cpu_to_be16(__u16 v) { return cpu_to_be16(v); }
static inline __be32 siw_cpu_to_be32(__u32 v) { return cpu_to_be32(v); }
static inline __be64 siw_cpu_to_be64(__u64 v) { return cpu_to_be64(v); }
#else
#include <endian.h>

static inline __u16 siw_be16_to_cpu(__be16 v) { return be16toh(v); }
static inline __u32 siw_be32_to_cpu(__be32 v) { return be32toh(v); }
static inline __u64 siw_be64_to_cpu(__be64 v) { return be64toh(v); }
static inline __be16 siw_cpu_to_be16(__u16 v) { return htobe16(v); }
static inline __be32 siw_cpu_to_be32(__u32 v) { return htobe32(v); }
static inline __be64 siw_cpu_to_be64(__u64 v) { return htobe64(v); }
#endif

/* ---- MPA connection setup (RFC 5044 section 7.1, RFC 6581) ---------- */

#define SIW_MPA_KEY_LEN		16
#define SIW_MPA_KEY_REQ		"MPA ID Req Frame"
#define SIW_MPA_KEY_REP		"MPA ID Rep Frame"
#define SIW_MPA_REV_1		1
#define SIW_MPA_REV_2		2	/* RFC 6581 enhanced establishment */
/* Bound on PD_Length; in revision 2 it includes the enhanced word. */
#define SIW_MPA_MAX_PRIVATE_DATA	512

/* Request and Reply frame header; private data follows. */
struct siw_mpa_rr {
	__u8 key[SIW_MPA_KEY_LEN];
	__u8 flags;		/* SIW_MPA_FLAG_* */
	__u8 rev;
	__be16 pd_len;
} __attribute__((packed));

/*
 * M: the sender requires markers in what it receives. siw never sends
 * markers, so a peer setting M is refused rather than half-served.
 * C: CRC wanted; CRC is used when either side sets it.
 * R: the Reply rejects the connection (ignored in a Request).
 * ENHANCED (revision 2 only, the first Res bit): the private data starts
 * with struct siw_mpa_v2.
 * LARGE_FPDU (the second Res bit, the Linux siw's MPA_RR_FLAG_GSO_EXP):
 * the sender takes FPDUs larger than the MSS and sends them when the
 * other side sets it too. An RFC 5044 peer sends it as zero and ignores
 * it, so such a peer always gets FPDUs sized to the MSS.
 * The rest of Res is sent as zero and, as RFC 5044 asks, not checked on
 * receipt.
 */
#define SIW_MPA_FLAG_M		0x80
#define SIW_MPA_FLAG_C		0x40
#define SIW_MPA_FLAG_R		0x20
#define SIW_MPA_FLAG_ENHANCED	0x10
#define SIW_MPA_FLAG_LARGE_FPDU	0x08
#define SIW_MPA_FLAG_RES	0x07

/*
 * RFC 6581 section 3: Enhanced RDMA Connection Establishment data, the
 * first four bytes of the private data of a revision 2 frame.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |P|S|           IRD             |W|R|           ORD             |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * P: peer-to-peer mode; the initiator sends a ready-to-receive (RTR)
 * message before the responder may send. S, W, R: the RTR message may
 * be (initiator: any set) or is (responder: exactly one) a zero-length
 * Send, RDMA Write or RDMA Read.
 */
struct siw_mpa_v2 {
	__be16 ird;
	__be16 ord;
} __attribute__((packed));

#define SIW_MPA_V2_P2P		0x8000	/* in ird */
#define SIW_MPA_V2_RTR_SEND	0x4000	/* in ird */
#define SIW_MPA_V2_RTR_WRITE	0x8000	/* in ord */
#define SIW_MPA_V2_RTR_READ	0x4000	/* in ord */
#define SIW_MPA_V2_IRD_ORD_MAX	0x3fff

/* ---- MPA framing (RFC 5044 section 4) ------------------------------- */

/*
 * FPDU: ULPDU_Length (16 bits, counts the ULPDU only), the ULPDU (DDP
 * header and payload), 0-3 pad bytes that make the FPDU so far a
 * multiple of 4, and a 32-bit CRC field. The CRC field is always there;
 * without CRC negotiated it is sent as zero and not checked.
 *
 * The CRC is CRC32c (Castagnoli) over the whole FPDU from the first byte
 * of ULPDU_Length through the last pad byte: seed ~0, result inverted,
 * the 32-bit value stored least significant byte first as iSCSI does
 * (RFC 3720 B.4: 32 zero bytes give bytes aa 36 91 8a).
 */
#define SIW_MPA_LEN_SIZE	2
#define SIW_MPA_CRC_SIZE	4
#define SIW_MPA_ULPDU_MAX	0xffff

static inline __u32 siw_fpdu_pad(__u32 ulpdu_len)
{
	return (4 - ((SIW_MPA_LEN_SIZE + ulpdu_len) & 3)) & 3;
}

/* Bytes on the stream for a ULPDU of ulpdu_len bytes. */
static inline __u32 siw_fpdu_len(__u32 ulpdu_len)
{
	return SIW_MPA_LEN_SIZE + ulpdu_len + siw_fpdu_pad(ulpdu_len) +
	       SIW_MPA_CRC_SIZE;
}

/* ---- DDP (RFC 5041) and RDMAP (RFC 5040) headers -------------------- */

#define SIW_DDP_VERSION		1
#define SIW_RDMAP_VERSION	1

/*
 * The first two bytes of every DDP segment: the DDP control field
 * (T, L, Rsvd, DV) and the RDMAP control field carried in DDP's RsvdULP
 * (RV, Rsvd, Opcode). Rsvd bits are sent as zero and not checked.
 */
struct siw_ddp_ctrl {
	__u8 ddp;
	__u8 rdmap;
} __attribute__((packed));

#define SIW_DDP_T		0x80	/* tagged buffer model */
#define SIW_DDP_L		0x40	/* last segment of the message */
#define SIW_DDP_RSVD		0x3c
#define SIW_DDP_DV_MASK		0x03
#define SIW_RDMAP_RV_SHIFT	6
#define SIW_RDMAP_RSVD		0x30
#define SIW_RDMAP_OPCODE_MASK	0x0f

struct siw_ddp_tagged {
	struct siw_ddp_ctrl ctrl;
	__be32 stag;
	__be64 to;
} __attribute__((packed));

struct siw_ddp_untagged {
	struct siw_ddp_ctrl ctrl;
	__be32 rsvd_ulp;	/* RDMAP: Invalidate STag, else zero */
	__be32 qn;
	__be32 msn;
	__be32 mo;
} __attribute__((packed));

enum siw_ddp_qn {
	SIW_DDP_QN_SEND = 0,
	SIW_DDP_QN_READ_REQ = 1,
	SIW_DDP_QN_TERMINATE = 2,
	SIW_DDP_NUM_QN = 3
};

enum siw_rdmap_opcode {
	SIW_RDMAP_WRITE = 0,
	SIW_RDMAP_READ_REQ = 1,
	SIW_RDMAP_READ_RESP = 2,
	SIW_RDMAP_SEND = 3,
	SIW_RDMAP_SEND_INV = 4,
	SIW_RDMAP_SEND_SE = 5,
	SIW_RDMAP_SEND_SE_INV = 6,
	SIW_RDMAP_TERMINATE = 7,
	SIW_RDMAP_NUM_OPCODES = 8
};

/* RDMA Read Request message, the whole ULP payload of queue 1. */
struct siw_rdmap_read_req {
	__be32 sink_stag;
	__be64 sink_to;
	__be32 size;
	__be32 src_stag;
	__be64 src_to;
} __attribute__((packed));

/*
 * Terminate header (RFC 5040 section 4.8). After this word come, as
 * Hdrct says: the DDP Segment Length (M, 16 bits, the ULPDU_Length of the
 * offending FPDU), the offending DDP header (D) and the RDMA Read Request
 * header (R). The segment length and the DDP header are thus a copy of
 * the offending FPDU from its ULPDU_Length field on; siw sets M and D
 * together.
 */
struct siw_rdmap_term {
	__u8 layer_etype;	/* Layer << 4 | EType */
	__u8 ecode;
	__be16 hdrct;		/* M D R, 13 reserved bits */
} __attribute__((packed));

#define SIW_TERM_HDRCT_M	0x8000
#define SIW_TERM_HDRCT_D	0x4000
#define SIW_TERM_HDRCT_R	0x2000
#define SIW_TERM_HDRCT_MASK	0xe000

/* Complete headers as they follow ULPDU_Length, one per message kind. */
struct siw_fpdu_tagged {
	__be16 mpa_len;
	struct siw_ddp_tagged ddp;
} __attribute__((packed));

struct siw_fpdu_send {
	__be16 mpa_len;
	struct siw_ddp_untagged ddp;
} __attribute__((packed));

struct siw_fpdu_read_req {
	__be16 mpa_len;
	struct siw_ddp_untagged ddp;
	struct siw_rdmap_read_req rreq;
} __attribute__((packed));

struct siw_fpdu_term {
	__be16 mpa_len;
	struct siw_ddp_untagged ddp;
	struct siw_rdmap_term term;
} __attribute__((packed));

_Static_assert(sizeof(struct siw_mpa_rr) == 20, "MPA frame header");
_Static_assert(sizeof(struct siw_ddp_tagged) == 14, "DDP tagged header");
_Static_assert(sizeof(struct siw_ddp_untagged) == 18, "DDP untagged header");
_Static_assert(sizeof(struct siw_rdmap_read_req) == 28, "Read Request");
_Static_assert(sizeof(struct siw_fpdu_read_req) == 48, "Read Request FPDU");
_Static_assert(sizeof(struct siw_fpdu_term) == 24, "Terminate FPDU");

/* Largest Terminate message: header, segment length, DDP and RDMA headers. */
#define SIW_TERM_MAX_LEN	(sizeof(struct siw_fpdu_term) + \
				 sizeof(struct siw_fpdu_read_req))

/* ---- TERMINATE reasons (RFC 5040 7.2, RFC 5041 7.2, RFC 5044 8) ------- */

enum siw_term_layer {
	SIW_TERM_LAYER_RDMAP = 0,
	SIW_TERM_LAYER_DDP = 1,
	SIW_TERM_LAYER_LLP = 2	/* MPA */
};

enum siw_rdmap_etype {
	SIW_RDMAP_ETYPE_CATASTROPHIC = 0,	/* error code 0 */
	SIW_RDMAP_ETYPE_REMOTE_PROT = 1,
	SIW_RDMAP_ETYPE_REMOTE_OP = 2
};

/*
 * Remote protection errors use 0x00-0x04, 0x09 and 0xff; remote operation
 * errors 0x05-0x09 and 0xff.
 */
enum siw_rdmap_ecode {
	SIW_RDMAP_ECODE_INVALID_STAG = 0x00,
	SIW_RDMAP_ECODE_BASE_BOUNDS = 0x01,
	SIW_RDMAP_ECODE_ACCESS_RIGHTS = 0x02,
	SIW_RDMAP_ECODE_STAG_NOT_ASSOC = 0x03,
	SIW_RDMAP_ECODE_TO_WRAP = 0x04,
	SIW_RDMAP_ECODE_VERSION = 0x05,
	SIW_RDMAP_ECODE_OPCODE = 0x06,
	SIW_RDMAP_ECODE_CATASTROPHIC_STREAM = 0x07,
	SIW_RDMAP_ECODE_CATASTROPHIC_GLOBAL = 0x08,
	SIW_RDMAP_ECODE_CANNOT_INVALIDATE = 0x09,
	SIW_RDMAP_ECODE_UNSPECIFIED = 0xff
};

enum siw_ddp_etype {
	SIW_DDP_ETYPE_CATASTROPHIC = 0,	/* error code 0 */
	SIW_DDP_ETYPE_TAGGED = 1,
	SIW_DDP_ETYPE_UNTAGGED = 2
};

enum siw_ddp_tagged_ecode {
	SIW_DDP_TAGGED_ECODE_INVALID_STAG = 0x00,
	SIW_DDP_TAGGED_ECODE_BASE_BOUNDS = 0x01,
	SIW_DDP_TAGGED_ECODE_STAG_NOT_ASSOC = 0x02,
	SIW_DDP_TAGGED_ECODE_TO_WRAP = 0x03,
	SIW_DDP_TAGGED_ECODE_VERSION = 0x04
};

enum siw_ddp_untagged_ecode {
	SIW_DDP_UNTAGGED_ECODE_QN = 0x01,
	SIW_DDP_UNTAGGED_ECODE_MSN_NOBUF = 0x02,
	SIW_DDP_UNTAGGED_ECODE_MSN_RANGE = 0x03,
	SIW_DDP_UNTAGGED_ECODE_MO = 0x04,
	SIW_DDP_UNTAGGED_ECODE_TOO_LONG = 0x05,
	SIW_DDP_UNTAGGED_ECODE_VERSION = 0x06
};

enum siw_llp_etype {
	SIW_LLP_ETYPE_MPA = 0
};

enum siw_llp_ecode {
	SIW_LLP_ECODE_TCP_LOST = 0x01,		/* never sent: no stream */
	SIW_LLP_ECODE_CRC = 0x02,
	SIW_LLP_ECODE_MARKER = 0x03,
	SIW_LLP_ECODE_REQ_REP = 0x04,
	SIW_LLP_ECODE_CATASTROPHIC = 0x05
};

struct siw_term_reason {
	__u8 layer;
	__u8 etype;
	__u8 ecode;
};

/* ---- RDMAP opcode properties --------------------------------------- */

struct siw_rdmap_op {
	__u8 tagged;
	__u8 qn;		/* untagged opcodes only */
	__u8 hdr_len;		/* ULPDU_Length field + DDP + RDMAP headers */
	__u8 payload;		/* bytes may follow the header */
	__u8 inval;		/* carries an Invalidate STag */
	__u8 single;		/* one segment only: L set, MO 0 */
};

extern const struct siw_rdmap_op siw_rdmap_ops[SIW_RDMAP_NUM_OPCODES];

/* ---- Codec ---------------------------------------------------------- */

/* Host-order view of an MPA Request or Reply (SIW_MPA_* flags). */
enum siw_mpa_info_flags {
	SIW_MPA_CRC = 1 << 0,
	SIW_MPA_REJECT = 1 << 1,	/* Reply only */
	SIW_MPA_ENHANCED = 1 << 2,	/* revision 2 word present */
	SIW_MPA_P2P = 1 << 3,
	SIW_MPA_LARGE_FPDU = 1 << 4	/* SIW_MPA_FLAG_LARGE_FPDU */
};

enum siw_mpa_rtr {
	SIW_MPA_RTR_SEND = 1 << 0,
	SIW_MPA_RTR_WRITE = 1 << 1,
	SIW_MPA_RTR_READ = 1 << 2,
	SIW_MPA_RTR_ALL = SIW_MPA_RTR_SEND | SIW_MPA_RTR_WRITE |
			  SIW_MPA_RTR_READ
};

/* The opcode of an RFC 6581 ready-to-receive message of type rtr. */
static inline __u8 siw_mpa_rtr_opcode(__u8 rtr)
{
	switch (rtr) {
	case SIW_MPA_RTR_WRITE:
		return SIW_RDMAP_WRITE;
	case SIW_MPA_RTR_READ:
		return SIW_RDMAP_READ_REQ;
	default:
		return SIW_RDMAP_SEND;
	}
}

struct siw_mpa_info {
	__u32 flags;		/* enum siw_mpa_info_flags */
	__u8 rev;
	__u8 rtr;		/* enum siw_mpa_rtr mask */
	__u16 ird;		/* IRD, ORD, rtr: SIW_MPA_ENHANCED only */
	__u16 ord;
	__u16 pd_len;		/* application private data, after the word */
	const void *pd;
};

enum siw_mpa_kind {
	SIW_MPA_REQUEST,
	SIW_MPA_REPLY
};

/* What a connection ends up with once Request and Reply are known. */
struct siw_mpa_nego {
	__u16 init_ird;
	__u16 init_ord;
	__u16 resp_ird;
	__u16 resp_ord;
	__u8 rev;		/* the Reply's: the connection's revision */
	__u8 crc;
	__u8 p2p;
	__u8 rtr;		/* one SIW_MPA_RTR_* if p2p, else 0 */
	__u8 large_fpdu;	/* both sides set SIW_MPA_LARGE_FPDU */
};

struct siw_read_req {
	__u32 sink_stag;
	__u64 sink_to;
	__u32 size;
	__u32 src_stag;
	__u64 src_to;
};

/* Host-order view of a DDP segment header. */
struct siw_ddp_info {
	__u8 opcode;		/* enum siw_rdmap_opcode */
	__u8 tagged;
	__u8 last;
	__u32 stag;		/* tagged */
	__u64 to;
	__u32 qn;		/* untagged */
	__u32 msn;
	__u32 mo;
	__u32 inval_stag;	/* Send with Invalidate */
	__u32 payload_len;	/* ULPDU bytes after the headers */
	struct siw_read_req rreq;	/* Read Request */
	struct siw_term_reason term;	/* Terminate */
	__u16 term_hdrct;		/* Terminate: SIW_TERM_HDRCT_* */
};

int siw_mpa_req_build(void *buf, __u32 size, const struct siw_mpa_info *info);
int siw_mpa_rep_build(void *buf, __u32 size, const struct siw_mpa_info *info);
int siw_mpa_parse(const void *buf, __u32 len, enum siw_mpa_kind kind,
		  struct siw_mpa_info *info);
int siw_mpa_negotiate(const struct siw_mpa_info *req,
		      const struct siw_mpa_info *rep, struct siw_mpa_nego *out);

int siw_ddp_parse_hdr(const void *buf, __u32 len, __u16 ulpdu_len,
		      struct siw_ddp_info *info, struct siw_term_reason *why);
int siw_ddp_build_tagged(void *buf, __u32 size,
			 const struct siw_ddp_info *info);
int siw_ddp_build_untagged(void *buf, __u32 size,
			   const struct siw_ddp_info *info);
void siw_rdmap_build_read_req(struct siw_rdmap_read_req *wire,
			      const struct siw_read_req *rreq);
int siw_term_build(void *buf, __u32 size, __u32 msn,
		   const struct siw_term_reason *why,
		   const void *fpdu, __u32 fpdu_len);
__u32 siw_fpdu_max_payload(__u32 mss, unsigned int opcode);
__u32 siw_fpdu_large_bytes(__u32 mss, __u32 gso_segs);

#endif /* SIW_WIRE_H */
