/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause */
/*
 * User/kernel ABI of the siw device, version 1.
 *
 * This must stay byte-identical to the Linux siw ABI (<rdma/siw-abi.h>,
 * RDMA_DRIVER_SIW, ABI version 1) so that the siw provider shipped with
 * rdma-core works unchanged. siw/siw_abi_check.c proves the layout
 * against the kernel's header at build time. Shared with userlib/.
 */
#ifndef SIW_ABI_H
#define SIW_ABI_H

#include <linux/types.h>

#define SIW_ABI_VERSION_1	1
#define SIW_ABI_MAX_SGE		6
/* Inline payload lives in the SQE where sge[1..] would be. */
#define SIW_ABI_MAX_INLINE	(sizeof(struct siw_abi_sge) * (SIW_ABI_MAX_SGE - 1))

/* mmap keys are < this; the value itself tells user space "no mapping". */
#define SIW_ABI_MAX_UOBJ_KEY	0x08ffffULL
#define SIW_ABI_INVAL_UOBJ_KEY	(SIW_ABI_MAX_UOBJ_KEY + 1)

/* Work queue opcodes as carried in SQE, RQE and CQE. */
enum siw_abi_opcode {
	SIW_ABI_OP_WRITE = 0,
	SIW_ABI_OP_READ = 1,
	SIW_ABI_OP_READ_LOCAL_INV = 2,
	SIW_ABI_OP_SEND = 3,
	SIW_ABI_OP_SEND_WITH_IMM = 4,
	SIW_ABI_OP_SEND_REMOTE_INV = 5,
	SIW_ABI_OP_FETCH_AND_ADD = 6,	/* not supported */
	SIW_ABI_OP_COMP_AND_SWAP = 7,	/* not supported */
	SIW_ABI_OP_RECEIVE = 8,
	SIW_ABI_OP_READ_RESPONSE = 9,	/* internal to the provider */
	SIW_ABI_OP_INVAL_STAG = 10,	/* kernel consumers only */
	SIW_ABI_OP_REG_MR = 11,		/* kernel consumers only */
	SIW_ABI_NUM_OPCODES = 12
};

/* Flags of SQE and RQE; the low bits are shared with the CQE flags. */
enum siw_abi_wqe_flags {
	SIW_ABI_WQE_VALID = 1 << 0,
	SIW_ABI_WQE_INLINE = 1 << 1,
	SIW_ABI_WQE_SIGNALLED = 1 << 2,
	SIW_ABI_WQE_SOLICITED = 1 << 3,
	SIW_ABI_WQE_READ_FENCE = 1 << 4,
	SIW_ABI_WQE_REM_INVAL = 1 << 5,
	SIW_ABI_WQE_COMPLETED = 1 << 6
};

enum siw_abi_notify_flags {
	SIW_ABI_NOTIFY_NOT = 0,
	SIW_ABI_NOTIFY_SOLICITED = 1 << 0,
	SIW_ABI_NOTIFY_NEXT_COMPLETION = 1 << 1,
	SIW_ABI_NOTIFY_MISSED_EVENTS = 1 << 2,
	SIW_ABI_NOTIFY_ALL = SIW_ABI_NOTIFY_SOLICITED |
			     SIW_ABI_NOTIFY_NEXT_COMPLETION |
			     SIW_ABI_NOTIFY_MISSED_EVENTS
};

enum siw_abi_wc_status {
	SIW_ABI_WC_SUCCESS = 0,
	SIW_ABI_WC_LOC_LEN_ERR = 1,
	SIW_ABI_WC_LOC_PROT_ERR = 2,
	SIW_ABI_WC_LOC_QP_OP_ERR = 3,
	SIW_ABI_WC_WR_FLUSH_ERR = 4,
	SIW_ABI_WC_BAD_RESP_ERR = 5,
	SIW_ABI_WC_LOC_ACCESS_ERR = 6,
	SIW_ABI_WC_REM_ACCESS_ERR = 7,
	SIW_ABI_WC_REM_INV_REQ_ERR = 8,
	SIW_ABI_WC_GENERAL_ERR = 9,
	SIW_ABI_NUM_WC_STATUS = 10
};

/* Same layout as struct ibv_sge, so providers may copy SGE lists whole. */
struct siw_abi_sge {
	__aligned_u64 laddr;
	__u32 length;
	__u32 lkey;
};

struct siw_abi_sqe {
	__aligned_u64 id;
	__u16 flags;
	__u8 num_sge;
	__u8 opcode;		/* enum siw_abi_opcode */
	__u32 rkey;
	union {
		__aligned_u64 raddr;
		__aligned_u64 base_mr;	/* SIW_ABI_OP_REG_MR: struct ib_mr * */
	};
	union {
		struct siw_abi_sge sge[SIW_ABI_MAX_SGE];
		__aligned_u64 access;	/* SIW_ABI_OP_REG_MR */
	};
};

struct siw_abi_rqe {
	__aligned_u64 id;
	__u16 flags;
	__u8 num_sge;
	__u8 opcode;		/* written by the kernel only */
	__u32 unused;
	struct siw_abi_sge sge[SIW_ABI_MAX_SGE];
};

struct siw_abi_cqe {
	__aligned_u64 id;
	__u8 flags;
	__u8 opcode;
	__u16 status;
	__u32 bytes;
	union {
		__aligned_u64 imm_data;
		__u32 inval_stag;
	};
	union {
		__aligned_u64 qp_ptr;	/* kernel CQs: struct ib_qp * */
		__aligned_u64 qp_id;	/* user CQs: QP number */
	};
};

/* Follows the last CQE of a user CQ's mapping. */
struct siw_abi_cq_ctrl {
	__u32 flags;		/* enum siw_abi_notify_flags */
	__u32 pad;
};

struct siw_abi_resp_alloc_ctx {
	__u32 dev_id;
	__u32 pad;
};

struct siw_abi_resp_create_cq {
	__u32 cq_id;
	__u32 num_cqe;
	__aligned_u64 cq_key;
};

struct siw_abi_resp_create_qp {
	__u32 qp_id;
	__u32 num_sqe;
	__u32 num_rqe;
	__u32 pad;
	__aligned_u64 sq_key;
	__aligned_u64 rq_key;
};

struct siw_abi_req_reg_mr {
	__u8 stag_key;
	__u8 reserved[3];
	__u32 pad;
};

struct siw_abi_resp_reg_mr {
	__u32 stag;
	__u32 pad;
};

struct siw_abi_resp_create_srq {
	__u32 num_rqe;
	__u32 pad;
	__aligned_u64 srq_key;
};

#endif /* SIW_ABI_H */
