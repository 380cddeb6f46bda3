// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Completion queues. The queue is an array of CQEs followed by a control
 * word; for user CQs both live in memory the process maps, so the
 * provider polls and arms without system calls. Ownership of a CQE moves
 * with its VALID flag: the kernel fills it and sets VALID, the poller
 * reads it and clears VALID.
 */
#include <linux/spinlock.h>
#include <rdma/ib_verbs.h>

#include "siw.h"

static const enum ib_wc_opcode siw_wc_opcode[SIW_ABI_NUM_OPCODES] = {
	[SIW_ABI_OP_WRITE] = IB_WC_RDMA_WRITE,
	[SIW_ABI_OP_READ] = IB_WC_RDMA_READ,
	[SIW_ABI_OP_READ_LOCAL_INV] = IB_WC_RDMA_READ,
	[SIW_ABI_OP_SEND] = IB_WC_SEND,
	[SIW_ABI_OP_SEND_WITH_IMM] = IB_WC_SEND,
	[SIW_ABI_OP_SEND_REMOTE_INV] = IB_WC_SEND,
	[SIW_ABI_OP_FETCH_AND_ADD] = IB_WC_FETCH_ADD,
	[SIW_ABI_OP_COMP_AND_SWAP] = IB_WC_COMP_SWAP,
	[SIW_ABI_OP_RECEIVE] = IB_WC_RECV,
	[SIW_ABI_OP_READ_RESPONSE] = IB_WC_RDMA_READ,
	[SIW_ABI_OP_INVAL_STAG] = IB_WC_LOCAL_INV,
	[SIW_ABI_OP_REG_MR] = IB_WC_REG_MR,
};

static const enum ib_wc_status siw_wc_status[SIW_ABI_NUM_WC_STATUS] = {
	[SIW_ABI_WC_SUCCESS] = IB_WC_SUCCESS,
	[SIW_ABI_WC_LOC_LEN_ERR] = IB_WC_LOC_LEN_ERR,
	[SIW_ABI_WC_LOC_PROT_ERR] = IB_WC_LOC_PROT_ERR,
	[SIW_ABI_WC_LOC_QP_OP_ERR] = IB_WC_LOC_QP_OP_ERR,
	[SIW_ABI_WC_WR_FLUSH_ERR] = IB_WC_WR_FLUSH_ERR,
	[SIW_ABI_WC_BAD_RESP_ERR] = IB_WC_BAD_RESP_ERR,
	[SIW_ABI_WC_LOC_ACCESS_ERR] = IB_WC_LOC_ACCESS_ERR,
	[SIW_ABI_WC_REM_ACCESS_ERR] = IB_WC_REM_ACCESS_ERR,
	[SIW_ABI_WC_REM_INV_REQ_ERR] = IB_WC_REM_INV_REQ_ERR,
	[SIW_ABI_WC_GENERAL_ERR] = IB_WC_GENERAL_ERR,
};

int siw_cq_init(struct siw_cq *cq, u32 num_cqe, struct ib_udata *udata,
		u64 *key)
{
	size_t size = num_cqe * sizeof(struct siw_abi_cqe) +
		      sizeof(struct siw_abi_cq_ctrl);
	int rv;

	spin_lock_init(&cq->lock);
	rv = siw_queue_alloc(&cq->q, size, udata, key);
	if (rv)
		return rv;
	cq->queue = cq->q.addr;
	cq->notify = (struct siw_abi_cq_ctrl *)&cq->queue[num_cqe];
	cq->num_cqe = num_cqe;
	cq->user = !!udata;
	return 0;
}

void siw_cq_fini(struct siw_cq *cq)
{
	siw_queue_free(&cq->q);
	cq->queue = NULL;
	cq->notify = NULL;
}

/*
 * Consumes the arming if this completion satisfies it. The arm word is
 * shared with user space, which may re-arm concurrently: only the value
 * we inspected is swapped out, so a fresh arm is never lost.
 */
static bool siw_cq_take_arm(struct siw_cq *cq, bool solicited)
{
	u32 armed = READ_ONCE(cq->notify->flags);

	if (!(armed & SIW_ABI_NOTIFY_NEXT_COMPLETION) &&
	    !((armed & SIW_ABI_NOTIFY_SOLICITED) && solicited))
		return false;
	return cmpxchg(&cq->notify->flags, armed, SIW_ABI_NOTIFY_NOT) == armed;
}

static void siw_cq_overflow(struct siw_cq *cq)
{
	struct ib_event event = {
		.device = cq->base_cq.device,
		.element.cq = &cq->base_cq,
		.event = IB_EVENT_CQ_ERR,
	};

	ibdev_err_ratelimited(cq->base_cq.device, "CQ %u overflow\n",
			      cq->base_cq.res.id);
	if (cq->base_cq.event_handler)
		cq->base_cq.event_handler(&event, cq->base_cq.cq_context);
}

/*
 * Adds one completion. Returns 1 if the consumer must be notified, which
 * the caller does with siw_cq_notify() once it holds no locks of its own:
 * completion handlers may post work right away. Returns -ENOMEM when the
 * CQ is full; the consumer then gets IB_EVENT_CQ_ERR.
 */
int siw_cq_add(struct siw_cq *cq, const struct siw_abi_cqe *cqe,
	       bool solicited)
{
	struct siw_abi_cqe *slot;
	unsigned long flags;
	int notify;

	spin_lock_irqsave(&cq->lock, flags);
	slot = &cq->queue[cq->cq_put % cq->num_cqe];
	if (smp_load_acquire(&slot->flags) & SIW_ABI_WQE_VALID) {
		spin_unlock_irqrestore(&cq->lock, flags);
		siw_cq_overflow(cq);
		return -ENOMEM;
	}
	slot->id = cqe->id;
	slot->opcode = cqe->opcode;
	slot->status = cqe->status;
	slot->bytes = cqe->bytes;
	slot->imm_data = cqe->imm_data;
	slot->qp_id = cqe->qp_id;
	smp_store_release(&slot->flags, cqe->flags | SIW_ABI_WQE_VALID);
	cq->cq_put++;
	/*
	 * A poller arms, then polls once more before it sleeps. The CQE
	 * must be visible before we read the arm word, or both sides could
	 * miss each other: no event and a sleeping consumer.
	 */
	smp_mb();
	notify = siw_cq_take_arm(cq, solicited);
	spin_unlock_irqrestore(&cq->lock, flags);
	return notify;
}

/*
 * Whether the newest completion is still waiting for its poller. Read
 * without the lock, a hint for the transmit engine (siw_tx_awaited()).
 */
bool siw_cq_unpolled(struct siw_cq *cq)
{
	u32 newest = (READ_ONCE(cq->cq_put) - 1) % cq->num_cqe;

	return READ_ONCE(cq->queue[newest].flags) & SIW_ABI_WQE_VALID;
}

void siw_cq_notify(struct siw_cq *cq)
{
	if (cq->base_cq.comp_handler)
		cq->base_cq.comp_handler(&cq->base_cq, cq->base_cq.cq_context);
}

static void siw_cqe_to_wc(const struct siw_abi_cqe *cqe, struct ib_wc *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = cqe->id;
	wc->byte_len = cqe->bytes;
	wc->qp = (struct ib_qp *)(uintptr_t)cqe->qp_ptr;
	wc->status = cqe->status < SIW_ABI_NUM_WC_STATUS ?
		     siw_wc_status[cqe->status] : IB_WC_GENERAL_ERR;
	wc->opcode = cqe->opcode < SIW_ABI_NUM_OPCODES ?
		     siw_wc_opcode[cqe->opcode] : IB_WC_SEND;
	if (cqe->flags & SIW_ABI_WQE_REM_INVAL) {
		wc->wc_flags = IB_WC_WITH_INVALIDATE;
		wc->ex.invalidate_rkey = cqe->inval_stag;
	}
}

/* poll_cq of kernel CQs; user CQs are polled by the provider. */
int siw_cq_poll(struct siw_cq *cq, int num, struct ib_wc *wc)
{
	unsigned long flags;
	int n;

	spin_lock_irqsave(&cq->lock, flags);
	for (n = 0; n < num; n++) {
		struct siw_abi_cqe *slot = &cq->queue[cq->cq_get % cq->num_cqe];

		if (!(smp_load_acquire(&slot->flags) & SIW_ABI_WQE_VALID))
			break;
		siw_cqe_to_wc(slot, &wc[n]);
		smp_store_release(&slot->flags, 0);
		cq->cq_get++;
	}
	spin_unlock_irqrestore(&cq->lock, flags);
	return n;
}

/*
 * req_notify_cq of kernel CQs. With IB_CQ_REPORT_MISSED_EVENTS, returns
 * 1 if completions are already waiting, so the caller polls again
 * instead of sleeping on an event that will not come.
 */
int siw_cq_arm(struct siw_cq *cq, enum ib_cq_notify_flags flags)
{
	u32 arm = SIW_ABI_NOTIFY_SOLICITED;
	struct siw_abi_cqe *slot;
	unsigned long irqflags;
	int pending;

	if ((flags & IB_CQ_SOLICITED_MASK) == IB_CQ_NEXT_COMP)
		arm |= SIW_ABI_NOTIFY_NEXT_COMPLETION;
	/* Orders the arm before the check for missed completions below. */
	smp_store_mb(cq->notify->flags, arm);

	if (!(flags & IB_CQ_REPORT_MISSED_EVENTS))
		return 0;
	spin_lock_irqsave(&cq->lock, irqflags);
	slot = &cq->queue[cq->cq_get % cq->num_cqe];
	pending = !!(smp_load_acquire(&slot->flags) & SIW_ABI_WQE_VALID);
	spin_unlock_irqrestore(&cq->lock, irqflags);
	return pending;
}
