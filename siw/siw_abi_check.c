// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Build-time proof that include/siw_abi.h is the Linux siw ABI: every
 * offset and size the stock rdma-core provider depends on is compared
 * with the kernel's own <rdma/siw-abi.h>. Generates no code.
 */
#include <linux/build_bug.h>
#include <linux/stddef.h>
#include <rdma/siw-abi.h>

#include "siw_abi.h"

#define SAME_VALUE(ours, theirs) \
	static_assert((long)(ours) == (long)(theirs))
#define SAME_SIZE(ours, theirs) \
	static_assert(sizeof(struct ours) == sizeof(struct theirs))
#define SAME_FIELD(ours, theirs, f) \
	static_assert(offsetof(struct ours, f) == offsetof(struct theirs, f) && \
		      sizeof(((struct ours *)0)->f) == sizeof(((struct theirs *)0)->f))

SAME_VALUE(SIW_ABI_VERSION_1, SIW_ABI_VERSION);
SAME_VALUE(SIW_ABI_MAX_SGE, SIW_MAX_SGE);
SAME_VALUE(SIW_ABI_MAX_INLINE, SIW_MAX_INLINE);
SAME_VALUE(SIW_ABI_INVAL_UOBJ_KEY, SIW_INVAL_UOBJ_KEY);

SAME_VALUE(SIW_ABI_OP_WRITE, SIW_OP_WRITE);
SAME_VALUE(SIW_ABI_OP_READ, SIW_OP_READ);
SAME_VALUE(SIW_ABI_OP_READ_LOCAL_INV, SIW_OP_READ_LOCAL_INV);
SAME_VALUE(SIW_ABI_OP_SEND, SIW_OP_SEND);
SAME_VALUE(SIW_ABI_OP_SEND_WITH_IMM, SIW_OP_SEND_WITH_IMM);
SAME_VALUE(SIW_ABI_OP_SEND_REMOTE_INV, SIW_OP_SEND_REMOTE_INV);
SAME_VALUE(SIW_ABI_OP_FETCH_AND_ADD, SIW_OP_FETCH_AND_ADD);
SAME_VALUE(SIW_ABI_OP_COMP_AND_SWAP, SIW_OP_COMP_AND_SWAP);
SAME_VALUE(SIW_ABI_OP_RECEIVE, SIW_OP_RECEIVE);
SAME_VALUE(SIW_ABI_OP_READ_RESPONSE, SIW_OP_READ_RESPONSE);
SAME_VALUE(SIW_ABI_OP_INVAL_STAG, SIW_OP_INVAL_STAG);
SAME_VALUE(SIW_ABI_OP_REG_MR, SIW_OP_REG_MR);
SAME_VALUE(SIW_ABI_NUM_OPCODES, SIW_NUM_OPCODES);

SAME_VALUE(SIW_ABI_WQE_VALID, SIW_WQE_VALID);
SAME_VALUE(SIW_ABI_WQE_INLINE, SIW_WQE_INLINE);
SAME_VALUE(SIW_ABI_WQE_SIGNALLED, SIW_WQE_SIGNALLED);
SAME_VALUE(SIW_ABI_WQE_SOLICITED, SIW_WQE_SOLICITED);
SAME_VALUE(SIW_ABI_WQE_READ_FENCE, SIW_WQE_READ_FENCE);
SAME_VALUE(SIW_ABI_WQE_REM_INVAL, SIW_WQE_REM_INVAL);
SAME_VALUE(SIW_ABI_WQE_COMPLETED, SIW_WQE_COMPLETED);

SAME_VALUE(SIW_ABI_NOTIFY_SOLICITED, SIW_NOTIFY_SOLICITED);
SAME_VALUE(SIW_ABI_NOTIFY_NEXT_COMPLETION, SIW_NOTIFY_NEXT_COMPLETION);
SAME_VALUE(SIW_ABI_NOTIFY_MISSED_EVENTS, SIW_NOTIFY_MISSED_EVENTS);

SAME_VALUE(SIW_ABI_WC_SUCCESS, SIW_WC_SUCCESS);
SAME_VALUE(SIW_ABI_WC_LOC_LEN_ERR, SIW_WC_LOC_LEN_ERR);
SAME_VALUE(SIW_ABI_WC_LOC_PROT_ERR, SIW_WC_LOC_PROT_ERR);
SAME_VALUE(SIW_ABI_WC_LOC_QP_OP_ERR, SIW_WC_LOC_QP_OP_ERR);
SAME_VALUE(SIW_ABI_WC_WR_FLUSH_ERR, SIW_WC_WR_FLUSH_ERR);
SAME_VALUE(SIW_ABI_WC_BAD_RESP_ERR, SIW_WC_BAD_RESP_ERR);
SAME_VALUE(SIW_ABI_WC_LOC_ACCESS_ERR, SIW_WC_LOC_ACCESS_ERR);
SAME_VALUE(SIW_ABI_WC_REM_ACCESS_ERR, SIW_WC_REM_ACCESS_ERR);
SAME_VALUE(SIW_ABI_WC_REM_INV_REQ_ERR, SIW_WC_REM_INV_REQ_ERR);
SAME_VALUE(SIW_ABI_WC_GENERAL_ERR, SIW_WC_GENERAL_ERR);
SAME_VALUE(SIW_ABI_NUM_WC_STATUS, SIW_NUM_WC_STATUS);

SAME_SIZE(siw_abi_sge, siw_sge);
SAME_FIELD(siw_abi_sge, siw_sge, laddr);
SAME_FIELD(siw_abi_sge, siw_sge, length);
SAME_FIELD(siw_abi_sge, siw_sge, lkey);

SAME_SIZE(siw_abi_sqe, siw_sqe);
SAME_FIELD(siw_abi_sqe, siw_sqe, id);
SAME_FIELD(siw_abi_sqe, siw_sqe, flags);
SAME_FIELD(siw_abi_sqe, siw_sqe, num_sge);
SAME_FIELD(siw_abi_sqe, siw_sqe, opcode);
SAME_FIELD(siw_abi_sqe, siw_sqe, rkey);
SAME_FIELD(siw_abi_sqe, siw_sqe, raddr);
SAME_FIELD(siw_abi_sqe, siw_sqe, base_mr);
SAME_FIELD(siw_abi_sqe, siw_sqe, sge);
SAME_FIELD(siw_abi_sqe, siw_sqe, access);

SAME_SIZE(siw_abi_rqe, siw_rqe);
SAME_FIELD(siw_abi_rqe, siw_rqe, id);
SAME_FIELD(siw_abi_rqe, siw_rqe, flags);
SAME_FIELD(siw_abi_rqe, siw_rqe, num_sge);
SAME_FIELD(siw_abi_rqe, siw_rqe, opcode);
SAME_FIELD(siw_abi_rqe, siw_rqe, sge);

SAME_SIZE(siw_abi_cqe, siw_cqe);
SAME_FIELD(siw_abi_cqe, siw_cqe, id);
SAME_FIELD(siw_abi_cqe, siw_cqe, flags);
SAME_FIELD(siw_abi_cqe, siw_cqe, opcode);
SAME_FIELD(siw_abi_cqe, siw_cqe, status);
SAME_FIELD(siw_abi_cqe, siw_cqe, bytes);
SAME_FIELD(siw_abi_cqe, siw_cqe, imm_data);
SAME_FIELD(siw_abi_cqe, siw_cqe, inval_stag);
SAME_FIELD(siw_abi_cqe, siw_cqe, qp_id);
static_assert(offsetof(struct siw_abi_cqe, qp_ptr) ==
	      offsetof(struct siw_cqe, base_qp));

SAME_SIZE(siw_abi_cq_ctrl, siw_cq_ctrl);
SAME_FIELD(siw_abi_cq_ctrl, siw_cq_ctrl, flags);

SAME_SIZE(siw_abi_resp_alloc_ctx, siw_uresp_alloc_ctx);
SAME_FIELD(siw_abi_resp_alloc_ctx, siw_uresp_alloc_ctx, dev_id);

SAME_SIZE(siw_abi_resp_create_cq, siw_uresp_create_cq);
SAME_FIELD(siw_abi_resp_create_cq, siw_uresp_create_cq, cq_id);
SAME_FIELD(siw_abi_resp_create_cq, siw_uresp_create_cq, num_cqe);
SAME_FIELD(siw_abi_resp_create_cq, siw_uresp_create_cq, cq_key);

SAME_SIZE(siw_abi_resp_create_qp, siw_uresp_create_qp);
SAME_FIELD(siw_abi_resp_create_qp, siw_uresp_create_qp, qp_id);
SAME_FIELD(siw_abi_resp_create_qp, siw_uresp_create_qp, num_sqe);
SAME_FIELD(siw_abi_resp_create_qp, siw_uresp_create_qp, num_rqe);
SAME_FIELD(siw_abi_resp_create_qp, siw_uresp_create_qp, sq_key);
SAME_FIELD(siw_abi_resp_create_qp, siw_uresp_create_qp, rq_key);

SAME_SIZE(siw_abi_req_reg_mr, siw_ureq_reg_mr);
SAME_FIELD(siw_abi_req_reg_mr, siw_ureq_reg_mr, stag_key);

SAME_SIZE(siw_abi_resp_reg_mr, siw_uresp_reg_mr);
SAME_FIELD(siw_abi_resp_reg_mr, siw_uresp_reg_mr, stag);

SAME_SIZE(siw_abi_resp_create_srq, siw_uresp_create_srq);
SAME_FIELD(siw_abi_resp_create_srq, siw_uresp_create_srq, num_rqe);
SAME_FIELD(siw_abi_resp_create_srq, siw_uresp_create_srq, srq_key);
