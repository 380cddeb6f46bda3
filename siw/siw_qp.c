// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Queue pairs: work queues, the QP state machine and flushing.
 *
 * siw keeps QP states in their IB verbs names, which map one to one onto
 * the iWARP verbs states (RDMAC verbs, RFC 5040 section 6):
 *
 *   RESET, INIT, RTR  iWARP Idle: set up, no LLP stream attached
 *   RTS               iWARP RTS: connected, data transfer
 *   SQD               iWARP Closing: graceful LLP close under way
 *   SQE               iWARP Terminate: TERMINATE sent or received
 *   ERR               iWARP Error: work requests are flushed
 */
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <rdma/ib_verbs.h>

#include "siw.h"

enum siw_transition {
	SIW_T_NO,	/* illegal */
	SIW_T_OK,	/* consumer may request it through modify_qp */
	SIW_T_LLP,	/* only the connection manager may take the QP there */
};

/*
 * Which modify_qp state changes are legal. Entering RTS needs an
 * established LLP stream, which only connection setup provides; SQE is
 * entered only by the protocol engine when a TERMINATE is exchanged.
 */
static const u8 siw_transitions[IB_QPS_ERR + 1][IB_QPS_ERR + 1] = {
	[IB_QPS_RESET] = {
		[IB_QPS_RESET] = SIW_T_OK,
		[IB_QPS_INIT] = SIW_T_OK,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_INIT] = {
		[IB_QPS_RESET] = SIW_T_OK,
		[IB_QPS_INIT] = SIW_T_OK,
		[IB_QPS_RTR] = SIW_T_OK,
		[IB_QPS_RTS] = SIW_T_LLP,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_RTR] = {
		[IB_QPS_RESET] = SIW_T_OK,
		[IB_QPS_RTR] = SIW_T_OK,
		[IB_QPS_RTS] = SIW_T_LLP,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_RTS] = {
		[IB_QPS_RTS] = SIW_T_OK,
		[IB_QPS_SQD] = SIW_T_OK,
		[IB_QPS_SQE] = SIW_T_LLP,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_SQD] = {
		[IB_QPS_SQD] = SIW_T_OK,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_SQE] = {
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_ERR] = {
		[IB_QPS_RESET] = SIW_T_OK,
		[IB_QPS_ERR] = SIW_T_OK,
	},
};

/* Attributes that exist on iWARP; the rest of IB's are path properties. */
#define SIW_QP_ATTRS	(IB_QP_STATE | IB_QP_CUR_STATE | IB_QP_ACCESS_FLAGS | \
			 IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_MAX_QP_RD_ATOMIC | \
			 IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_EN_SQD_ASYNC_NOTIFY)

#define SIW_QP_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC)

static void siw_qp_release(struct kref *ref)
{
	complete(&container_of(ref, struct siw_qp, ref)->released);
}

void siw_qp_get(struct siw_qp *qp)
{
	kref_get(&qp->ref);
}

void siw_qp_put(struct siw_qp *qp)
{
	kref_put(&qp->ref, siw_qp_release);
}

int siw_qp_init(struct siw_qp *qp, struct siw_device *sdev,
		const struct ib_qp_init_attr *attr, struct ib_udata *udata,
		u64 *sq_key, u64 *rq_key)
{
	u32 qpn;
	int rv;

	qp->sdev = sdev;
	kref_init(&qp->ref);
	init_completion(&qp->released);
	init_rwsem(&qp->state_lock);
	spin_lock_init(&qp->sq_lock);
	spin_lock_init(&qp->rq_lock);
	qp->state = IB_QPS_RESET;
	qp->user = !!udata;
	qp->sq_sig_all = attr->sq_sig_type == IB_SIGNAL_ALL_WR;
	qp->scq = to_siw_cq(attr->send_cq);
	qp->rcq = to_siw_cq(attr->recv_cq);
	qp->srq = attr->srq ? to_siw_srq(attr->srq) : NULL;
	qp->max_send_sge = attr->cap.max_send_sge;
	qp->max_recv_sge = attr->cap.max_recv_sge;
	qp->max_inline = attr->cap.max_inline_data;

	/* Power-of-two sizes keep ring indices valid across u32 wrap. */
	qp->num_sqe = roundup_pow_of_two(max(attr->cap.max_send_wr, 1U));
	rv = siw_queue_alloc(&qp->sq_mem,
			     qp->num_sqe * sizeof(struct siw_abi_sqe), udata,
			     sq_key);
	if (rv)
		return rv;
	qp->sendq = qp->sq_mem.addr;

	/*
	 * A QP on an SRQ has no receive queue of its own. Its rq_key must
	 * still not read "invalid": the stock provider rejects that even
	 * though it never maps the RQ of such a QP.
	 */
	*rq_key = 0;
	if (!qp->srq) {
		qp->num_rqe = roundup_pow_of_two(max(attr->cap.max_recv_wr, 1U));
		rv = siw_queue_alloc(&qp->rq_mem,
				     qp->num_rqe * sizeof(struct siw_abi_rqe),
				     udata, rq_key);
		if (rv)
			goto err_sq;
		qp->recvq = qp->rq_mem.addr;
	}

	rv = xa_alloc_cyclic(&sdev->qp_xa, &qpn, qp,
			     XA_LIMIT(1, SIW_MAX_QPN), &sdev->qp_next,
			     GFP_KERNEL);
	if (rv < 0)
		goto err_rq;
	qp->base_qp.qp_num = qpn;
	return 0;

err_rq:
	if (qp->recvq)
		siw_queue_free(&qp->rq_mem);
err_sq:
	siw_queue_free(&qp->sq_mem);
	return rv;
}

struct siw_qp *siw_qp_lookup(struct siw_device *sdev, u32 qpn)
{
	return xa_load(&sdev->qp_xa, qpn);
}

static void siw_qp_event(struct siw_qp *qp, enum ib_event_type type)
{
	struct ib_event event = {
		.device = qp->base_qp.device,
		.element.qp = &qp->base_qp,
		.event = type,
	};

	if (!qp->in_destroy && qp->base_qp.event_handler)
		qp->base_qp.event_handler(&event, qp->base_qp.qp_context);
}

/* Returns true if the CQ's consumer wants a notification. */
static bool siw_qp_complete(struct siw_qp *qp, struct siw_cq *cq, u64 id,
			    u8 opcode, enum siw_abi_wc_status status)
{
	struct siw_abi_cqe cqe = {
		.id = id,
		.opcode = opcode,
		.status = status,
	};

	if (cq->user)
		cqe.qp_id = qp->base_qp.qp_num;
	else
		cqe.qp_ptr = (uintptr_t)&qp->base_qp;
	return siw_cq_add(cq, &cqe, false) > 0;
}

/*
 * Walks a ring from *get while elements are VALID, completing each with
 * a flush error on @cq (if given) and releasing it. Bounded by the ring
 * size: user space could keep setting VALID behind us. Returns true if
 * @cq must be notified once the caller has dropped its locks.
 */
static bool siw_ring_drain(struct siw_qp *qp, struct siw_cq *cq,
			   void *ring, size_t elem_size, u32 num, u32 *get,
			   bool rqe)
{
	bool notify = false;
	u32 n;

	for (n = 0; n < num; n++) {
		void *elem = ring + (*get % num) * elem_size;
		/* flags, id and opcode sit at the same offsets in SQE and RQE */
		struct siw_abi_sqe *wqe = elem;
		u64 id;
		u8 opcode;

		if (!(siw_wqe_flags_acquire(&wqe->flags) & SIW_ABI_WQE_VALID))
			break;
		id = READ_ONCE(wqe->id);
		opcode = rqe ? SIW_ABI_OP_RECEIVE : READ_ONCE(wqe->opcode);
		if (cq)
			notify |= siw_qp_complete(qp, cq, id, opcode,
						  SIW_ABI_WC_WR_FLUSH_ERR);
		siw_wqe_flags_release(&wqe->flags, 0);
		(*get)++;
	}
	return notify;
}

static_assert(offsetof(struct siw_abi_sqe, flags) ==
	      offsetof(struct siw_abi_rqe, flags));
static_assert(offsetof(struct siw_abi_sqe, id) ==
	      offsetof(struct siw_abi_rqe, id));

/*
 * Empties both work queues. With @flush every work request completes
 * with IB_WC_WR_FLUSH_ERR, signaled or not, as the verbs require when a
 * QP enters Error; without it they are dropped (reset, destroy).
 */
static void siw_qp_drain(struct siw_qp *qp, bool flush)
{
	unsigned long flags;
	bool notify;

	spin_lock_irqsave(&qp->sq_lock, flags);
	notify = siw_ring_drain(qp, flush ? qp->scq : NULL, qp->sendq,
				sizeof(struct siw_abi_sqe), qp->num_sqe,
				&qp->sq_get, false);
	if (!qp->user)
		qp->sq_put = qp->sq_get;
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (notify)
		siw_cq_notify(qp->scq);

	if (!qp->recvq)
		return;
	spin_lock_irqsave(&qp->rq_lock, flags);
	notify = siw_ring_drain(qp, flush ? qp->rcq : NULL, qp->recvq,
				sizeof(struct siw_abi_rqe), qp->num_rqe,
				&qp->rq_get, true);
	if (!qp->user)
		qp->rq_put = qp->rq_get;
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	if (notify)
		siw_cq_notify(qp->rcq);
}

/* Caller holds state_lock for writing. */
static void siw_qp_enter(struct siw_qp *qp, enum ib_qp_state state)
{
	enum ib_qp_state old = qp->state;

	WRITE_ONCE(qp->state, state);

	switch (state) {
	case IB_QPS_ERR:
		/*
		 * Also on ERR -> ERR: a user QP's provider may have queued
		 * requests since, without a system call to tell us.
		 */
		siw_qp_drain(qp, true);
		/* No receive will be taken from the SRQ for this QP again. */
		if (qp->srq && old != IB_QPS_ERR)
			siw_qp_event(qp, IB_EVENT_QP_LAST_WQE_REACHED);
		break;
	case IB_QPS_RESET:
		if (old != IB_QPS_RESET)
			siw_qp_drain(qp, false);
		break;
	default:
		break;
	}
}

static int siw_qp_check_attrs(struct siw_qp *qp, const struct ib_qp_attr *attr,
			      int mask, enum ib_qp_state next)
{
	if (mask & ~SIW_QP_ATTRS)
		return -EINVAL;
	if ((mask & IB_QP_PKEY_INDEX) && attr->pkey_index)
		return -EINVAL;
	if ((mask & IB_QP_ACCESS_FLAGS) &&
	    (attr->qp_access_flags & ~SIW_QP_ACCESS))
		return -EINVAL;
	if ((mask & IB_QP_MAX_QP_RD_ATOMIC) &&
	    attr->max_rd_atomic > SIW_MAX_ORD)
		return -EINVAL;
	if ((mask & IB_QP_MAX_DEST_RD_ATOMIC) &&
	    attr->max_dest_rd_atomic > SIW_MAX_IRD)
		return -EINVAL;
	if ((mask & IB_QP_EN_SQD_ASYNC_NOTIFY) && next != IB_QPS_SQD)
		return -EINVAL;
	return 0;
}

/* modify_qp on behalf of the consumer. */
int siw_qp_modify(struct siw_qp *qp, const struct ib_qp_attr *attr, int mask)
{
	enum ib_qp_state cur, next;
	int rv;

	down_write(&qp->state_lock);
	cur = qp->state;
	next = (mask & IB_QP_STATE) ? attr->qp_state : cur;

	rv = -EINVAL;
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur)
		goto out;
	if (next > IB_QPS_ERR || siw_transitions[cur][next] != SIW_T_OK) {
		ibdev_dbg(qp->base_qp.device, "QP %u: state %d -> %d %s\n",
			  qp->base_qp.qp_num, cur, next,
			  next <= IB_QPS_ERR &&
			  siw_transitions[cur][next] == SIW_T_LLP ?
			  "is taken by the protocol engine only" :
			  "is illegal");
		goto out;
	}
	rv = siw_qp_check_attrs(qp, attr, mask, next);
	if (rv)
		goto out;

	if (mask & IB_QP_ACCESS_FLAGS)
		qp->access = attr->qp_access_flags;
	/*
	 * Once connected, ORD and IRD are what MPA negotiated with the
	 * peer (RFC 6581); later requests must not exceed that, and the
	 * rdma_cm library restates them on RTS, so they are left alone.
	 */
	if (cur < IB_QPS_RTS) {
		if (mask & IB_QP_MAX_QP_RD_ATOMIC)
			qp->ord = attr->max_rd_atomic;
		if (mask & IB_QP_MAX_DEST_RD_ATOMIC)
			qp->ird = attr->max_dest_rd_atomic;
	}
	siw_qp_enter(qp, next);
out:
	up_write(&qp->state_lock);
	return rv;
}

/*
 * Destroys the work queues. Outstanding work requests are dropped, not
 * completed: the consumer is done with this QP and its CQs may outlive it.
 */
void siw_qp_destroy(struct siw_qp *qp)
{
	down_write(&qp->state_lock);
	qp->in_destroy = true;
	siw_qp_drain(qp, false);
	WRITE_ONCE(qp->state, IB_QPS_ERR);
	up_write(&qp->state_lock);

	xa_erase(&qp->sdev->qp_xa, qp->base_qp.qp_num);

	/* Wait for the connection manager and the data path to let go. */
	siw_qp_put(qp);
	wait_for_completion(&qp->released);

	if (qp->recvq)
		siw_queue_free(&qp->rq_mem);
	siw_queue_free(&qp->sq_mem);
}

static const u8 siw_wr_opcode[] = {
	[IB_WR_RDMA_WRITE] = SIW_ABI_OP_WRITE,
	[IB_WR_SEND] = SIW_ABI_OP_SEND,
	[IB_WR_SEND_WITH_INV] = SIW_ABI_OP_SEND_REMOTE_INV,
	[IB_WR_RDMA_READ] = SIW_ABI_OP_READ,
	[IB_WR_RDMA_READ_WITH_INV] = SIW_ABI_OP_READ_LOCAL_INV,
	[IB_WR_LOCAL_INV] = SIW_ABI_OP_INVAL_STAG,
	[IB_WR_REG_MR] = SIW_ABI_OP_REG_MR,
};

/* 0 is SIW_ABI_OP_WRITE: a separate table says which entries are real. */
static const bool siw_wr_supported[] = {
	[IB_WR_RDMA_WRITE] = true,
	[IB_WR_SEND] = true,
	[IB_WR_SEND_WITH_INV] = true,
	[IB_WR_RDMA_READ] = true,
	[IB_WR_RDMA_READ_WITH_INV] = true,
	[IB_WR_LOCAL_INV] = true,
	[IB_WR_REG_MR] = true,
};

static int siw_sqe_copy_inline(struct siw_qp *qp, struct siw_abi_sqe *sqe,
			       const struct ib_send_wr *wr)
{
	char *data = (char *)&sqe->sge[1];
	u32 bytes = 0;
	int i;

	for (i = 0; i < wr->num_sge; i++) {
		u32 len = wr->sg_list[i].length;

		if (len > qp->max_inline - bytes)
			return -EINVAL;
		/* Kernel consumers of a software device pass virtual addresses. */
		memcpy(data + bytes, (void *)(uintptr_t)wr->sg_list[i].addr, len);
		bytes += len;
	}
	sqe->num_sge = bytes ? 1 : 0;
	sqe->sge[0].laddr = (uintptr_t)data;
	sqe->sge[0].length = bytes;
	sqe->sge[0].lkey = 0;
	return 0;
}

static int siw_sqe_from_wr(struct siw_qp *qp, struct siw_abi_sqe *sqe,
			   const struct ib_send_wr *wr)
{
	u16 flags = 0;
	int i;

	if (wr->opcode >= ARRAY_SIZE(siw_wr_supported) ||
	    !siw_wr_supported[wr->opcode])
		return -EINVAL;
	if (wr->num_sge < 0)
		return -EINVAL;

	sqe->id = wr->wr_id;
	sqe->opcode = siw_wr_opcode[wr->opcode];
	if ((wr->send_flags & IB_SEND_SIGNALED) || qp->sq_sig_all)
		flags |= SIW_ABI_WQE_SIGNALLED;
	if (wr->send_flags & IB_SEND_SOLICITED)
		flags |= SIW_ABI_WQE_SOLICITED;
	if (wr->send_flags & IB_SEND_FENCE)
		flags |= SIW_ABI_WQE_READ_FENCE;

	switch (wr->opcode) {
	case IB_WR_REG_MR:
		sqe->base_mr = (uintptr_t)reg_wr(wr)->mr;
		sqe->rkey = reg_wr(wr)->key;
		sqe->access = reg_wr(wr)->access;
		sqe->num_sge = 0;
		goto done;
	case IB_WR_LOCAL_INV:
		sqe->rkey = wr->ex.invalidate_rkey;
		sqe->num_sge = 0;
		goto done;
	case IB_WR_SEND_WITH_INV:
		sqe->rkey = wr->ex.invalidate_rkey;
		break;
	case IB_WR_RDMA_READ:
	case IB_WR_RDMA_READ_WITH_INV:
		if (wr->num_sge > SIW_MAX_SGE_RD || (wr->send_flags & IB_SEND_INLINE))
			return -EINVAL;
		fallthrough;
	case IB_WR_RDMA_WRITE:
		sqe->raddr = rdma_wr(wr)->remote_addr;
		sqe->rkey = rdma_wr(wr)->rkey;
		break;
	default:
		break;
	}

	if (wr->send_flags & IB_SEND_INLINE) {
		if (siw_sqe_copy_inline(qp, sqe, wr))
			return -EINVAL;
		flags |= SIW_ABI_WQE_INLINE;
		goto done;
	}
	if (wr->num_sge > qp->max_send_sge)
		return -EINVAL;
	sqe->num_sge = wr->num_sge;
	for (i = 0; i < wr->num_sge; i++) {
		sqe->sge[i].laddr = wr->sg_list[i].addr;
		sqe->sge[i].length = wr->sg_list[i].length;
		sqe->sge[i].lkey = wr->sg_list[i].lkey;
	}
done:
	siw_wqe_flags_release(&sqe->flags, flags | SIW_ABI_WQE_VALID);
	return 0;
}

/*
 * post_send of kernel QPs. May run in atomic context, so the state is
 * sampled under the queue lock rather than the state semaphore: entering
 * Error publishes the state before it drains the queue under the same
 * lock, so every request either lands before that drain or sees Error
 * here and is flushed at once. ib_drain_qp() relies on the latter.
 */
int siw_qp_post_send(struct siw_qp *qp, const struct ib_send_wr *wr,
		     const struct ib_send_wr **bad_wr)
{
	enum ib_qp_state state;
	bool notify = false;
	unsigned long flags;
	int rv = 0;

	if (qp->user) {
		/*
		 * User QPs post through the mapped SQ; the system call is
		 * only the doorbell and must carry no work requests.
		 */
		if (wr) {
			*bad_wr = wr;
			return -EINVAL;
		}
		down_read(&qp->state_lock);
		if (qp->state == IB_QPS_ERR)
			siw_qp_drain(qp, true);
		up_read(&qp->state_lock);
		return 0;
	}

	spin_lock_irqsave(&qp->sq_lock, flags);
	state = READ_ONCE(qp->state);
	for (; wr; wr = wr->next) {
		struct siw_abi_sqe *sqe = &qp->sendq[qp->sq_put % qp->num_sqe];

		if (state == IB_QPS_RESET) {
			rv = -EINVAL;
			break;
		}
		if (smp_load_acquire(&sqe->flags) & SIW_ABI_WQE_VALID) {
			rv = -ENOMEM;
			break;
		}
		rv = siw_sqe_from_wr(qp, sqe, wr);
		if (rv)
			break;
		qp->sq_put++;
		if (state == IB_QPS_ERR)
			notify |= siw_ring_drain(qp, qp->scq, qp->sendq,
						 sizeof(struct siw_abi_sqe),
						 qp->num_sqe, &qp->sq_get,
						 false);
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (notify)
		siw_cq_notify(qp->scq);
	if (rv)
		*bad_wr = wr;
	return rv;
}

/* post_recv of kernel QPs; same locking rules as siw_qp_post_send(). */
int siw_qp_post_recv(struct siw_qp *qp, const struct ib_recv_wr *wr,
		     const struct ib_recv_wr **bad_wr)
{
	enum ib_qp_state state;
	bool notify = false;
	unsigned long flags;
	int rv = 0;

	if (qp->user || qp->srq) {
		*bad_wr = wr;
		return -EINVAL;
	}

	spin_lock_irqsave(&qp->rq_lock, flags);
	state = READ_ONCE(qp->state);
	for (; wr; wr = wr->next) {
		rv = state == IB_QPS_RESET ? -EINVAL :
		     siw_rq_post_one(qp->recvq, qp->num_rqe, &qp->rq_put, wr,
				     qp->max_recv_sge);
		if (rv)
			break;
		if (state == IB_QPS_ERR)
			notify |= siw_ring_drain(qp, qp->rcq, qp->recvq,
						 sizeof(struct siw_abi_rqe),
						 qp->num_rqe, &qp->rq_get,
						 true);
	}
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	if (notify)
		siw_cq_notify(qp->rcq);
	if (rv)
		*bad_wr = wr;
	return rv;
}
