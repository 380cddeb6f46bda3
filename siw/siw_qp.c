// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Queue pairs: work queues, the QP state machine and flushing, and what
 * the engines report to the QP. Below both engines: nothing here calls
 * into them; it asks the transmitter to run (siw_tx_schedule()) and
 * leaves starting and stopping them to siw_stream.c.
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
	SIW_T_PAST,	/* already past it: succeeds, the state stays */
};

/*
 * Which modify_qp state changes are legal. Entering RTS needs an
 * established LLP stream, which only connection setup provides; SQE is
 * entered only by the protocol engine when a TERMINATE is exchanged.
 * librdmacm's rdma_disconnect() moves an iWARP QP to SQD before it asks
 * the kernel to close; when the peer closed first the QP is already in
 * SQE or ERR, and refusing would fail a correct application's disconnect.
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
		[IB_QPS_SQD] = SIW_T_PAST,
		[IB_QPS_ERR] = SIW_T_OK,
	},
	[IB_QPS_ERR] = {
		[IB_QPS_RESET] = SIW_T_OK,
		[IB_QPS_SQD] = SIW_T_PAST,
		[IB_QPS_ERR] = SIW_T_OK,
	},
};

/* Attributes that exist on iWARP; the rest of IB's are path properties. */
#define SIW_QP_ATTRS	(IB_QP_STATE | IB_QP_CUR_STATE | IB_QP_ACCESS_FLAGS | \
			 IB_QP_PKEY_INDEX | IB_QP_PORT | IB_QP_MAX_QP_RD_ATOMIC | \
			 IB_QP_MAX_DEST_RD_ATOMIC | IB_QP_EN_SQD_ASYNC_NOTIFY)

#define SIW_QP_ACCESS	(IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_WRITE | \
			 IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_ATOMIC)

static size_t siw_qp_shadow_bytes(const struct siw_qp *qp)
{
	return qp->num_sqe * sizeof(*qp->wqe);
}

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
	u32 n;
	int rv;

	qp->sdev = sdev;
	qp->pd = to_siw_pd(qp->base_qp.pd);
	kref_init(&qp->ref);
	init_completion(&qp->released);
	init_rwsem(&qp->state_lock);
	spin_lock_init(&qp->sq_lock);
	spin_lock_init(&qp->rq_lock);
	spin_lock_init(&qp->irq_lock);
	init_waitqueue_head(&qp->zc_wait);
	/*
	 * A new iWARP QP is Idle, reported as INIT as hardware RNICs do
	 * (rdma-core's tests expect it of an RNIC): receives may be posted
	 * at once. RESET is only ever entered on request.
	 */
	qp->state = IB_QPS_INIT;
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
	/* The shadow grows with the SQ a process asked for: its memory too. */
	if (udata) {
		qp->uctx = rdma_udata_to_drv_context(udata, struct siw_ucontext,
						     base_ucontext);
		rv = siw_uctx_charge(qp->uctx, siw_qp_shadow_bytes(qp));
		if (rv)
			goto err_sq;
	}
	qp->wqe = kvcalloc(qp->num_sqe, sizeof(*qp->wqe),
			   udata ? SIW_GFP_USER_QUEUE : GFP_KERNEL);
	if (!qp->wqe) {
		rv = -ENOMEM;
		goto err_charge;
	}
	for (n = 0; n < qp->num_sqe; n++)
		qp->wqe[n].qp = qp;

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
			goto err_wqe;
		qp->recvq = qp->rq_mem.addr;
	}

	if (qp->user)
		qp->owner = get_pid(task_tgid(current));
	return 0;

err_wqe:
	kvfree(qp->wqe);
err_charge:
	if (qp->uctx)
		siw_uctx_uncharge(qp->uctx, siw_qp_shadow_bytes(qp));
err_sq:
	siw_queue_free(&qp->sq_mem);
	return rv;
}

/*
 * Makes the QP findable by number (the connection manager binds it so):
 * only once everything of it is initialised, the engines' parts too.
 * On failure the caller destroys the QP as it would a published one.
 */
int siw_qp_publish(struct siw_qp *qp)
{
	struct siw_device *sdev = qp->sdev;
	u32 qpn;
	int rv;

	rv = xa_alloc_cyclic(&sdev->qp_xa, &qpn, qp, XA_LIMIT(1, SIW_MAX_QPN),
			     &sdev->qp_next, GFP_KERNEL);
	if (rv < 0)
		return rv;
	qp->base_qp.qp_num = qpn;
	return 0;
}

struct siw_qp *siw_qp_lookup(struct siw_device *sdev, u32 qpn)
{
	return xa_load(&sdev->qp_xa, qpn);
}

/*
 * The QP with a reference that keeps it from being destroyed, or NULL:
 * destroy takes the QP out of the table under the same lock before it
 * waits for the references to go.
 */
struct siw_qp *siw_qp_lookup_get(struct siw_device *sdev, u32 qpn)
{
	struct siw_qp *qp;

	xa_lock(&sdev->qp_xa);
	qp = xa_load(&sdev->qp_xa, qpn);
	if (qp && !kref_get_unless_zero(&qp->ref))
		qp = NULL;
	xa_unlock(&sdev->qp_xa);
	return qp;
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

/*
 * Adds a completion of this QP to cq. Returns true if the CQ's consumer
 * must be notified once the caller holds no locks.
 *
 * A completion that does not fit is lost, so the QP cannot go on as if
 * its work had completed: it goes to Error (IB_EVENT_QP_FATAL) after a
 * Terminate that tells the peer of a local catastrophic error, as the
 * verbs require of every QP whose CQ overran. Any context, any locks.
 */
bool siw_qp_complete(struct siw_qp *qp, struct siw_cq *cq,
		     const struct siw_abi_cqe *cqe, bool solicited)
{
	struct siw_abi_cqe c = *cqe;
	int rv;

	if (cq->user)
		c.qp_id = qp->base_qp.qp_num;
	else
		c.qp_ptr = (uintptr_t)&qp->base_qp;
	rv = siw_cq_add(cq, &c, solicited);
	/* Flushing in Error: the QP is where an overrun would take it. */
	if (rv < 0 && READ_ONCE(qp->state) != IB_QPS_ERR)
		siw_qp_local_error(qp);
	return rv > 0;
}

static bool siw_qp_flush_one(struct siw_qp *qp, struct siw_cq *cq, u64 id,
			     u8 opcode)
{
	struct siw_abi_cqe cqe = {
		.id = id,
		.opcode = opcode,
		.status = SIW_ABI_WC_WR_FLUSH_ERR,
	};

	return siw_qp_complete(qp, cq, &cqe, false);
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
		/* Freed before it completes, as in siw_qp_reap(). */
		siw_wqe_flags_release(&wqe->flags, 0);
		(*get)++;
		if (cq)
			notify |= siw_qp_flush_one(qp, cq, id, opcode);
	}
	return notify;
}

static_assert(offsetof(struct siw_abi_sqe, flags) ==
	      offsetof(struct siw_abi_rqe, flags));
static_assert(offsetof(struct siw_abi_sqe, id) ==
	      offsetof(struct siw_abi_rqe, id));

/* Hands the oldest started slot back to the producer. Caller holds sq_lock. */
static void siw_sq_retire(struct siw_qp *qp)
{
	u32 slot = qp->sq_get++ % qp->num_sqe;

	siw_mem_put_sges(qp->wqe[slot].mem);
	qp->wqe[slot].state = SIW_WQE_IDLE;
	siw_wqe_flags_release(&qp->sendq[slot].flags, 0);
}

/*
 * Completes send queue work requests in order, as far as they are done:
 * a request still being transmitted, waiting for its read response or
 * for TCP to release its zero-copy pages holds back all after it. In
 * Error, requests waiting for a read response and those never started
 * are flushed; the transmitter finishes off the others and calls again.
 */
void siw_qp_reap(struct siw_qp *qp)
{
	unsigned long flags;
	bool notify = false;
	bool retired = false;
	bool more = false;
	bool err;

	spin_lock_irqsave(&qp->sq_lock, flags);
	err = READ_ONCE(qp->state) == IB_QPS_ERR;
	while (qp->sq_get != qp->sq_tx) {
		struct siw_wqe *wqe = &qp->wqe[qp->sq_get % qp->num_sqe];
		struct siw_abi_cqe cqe = {};
		bool signal;

		if (smp_load_acquire(&wqe->state) == SIW_WQE_ACTIVE ||
		    smp_load_acquire(&wqe->zc_pending))
			break;
		if (wqe->state == SIW_WQE_READ) {
			if (!err)
				break;
			wqe->status = SIW_ABI_WC_WR_FLUSH_ERR;
		}
		cqe.id = wqe->sqe.id;
		cqe.opcode = wqe->sqe.opcode;
		cqe.status = wqe->status;
		cqe.bytes = wqe->bytes;
		signal = wqe->status || (wqe->sqe.flags & SIW_ABI_WQE_SIGNALLED);

		/*
		 * The slot is free before its completion is visible: a
		 * consumer that polls it may post again at once.
		 */
		siw_sq_retire(qp);
		retired = true;
		if (signal)
			notify |= siw_qp_complete(qp, qp->scq, &cqe, false);
	}
	if (retired && !err) {
		/*
		 * The provider rings no doorbell for a request it posts
		 * behind one still VALID, trusting us to find it. Having
		 * released slots, look once more: the full barrier pairs
		 * with the provider's between posting and checking the
		 * slot before.
		 */
		smp_mb();
		more = siw_sq_next_posted(qp);
	}
	if (err && qp->sq_get == qp->sq_tx) {
		notify |= siw_ring_drain(qp, qp->scq, qp->sendq,
					 sizeof(struct siw_abi_sqe), qp->num_sqe,
					 &qp->sq_get, false);
		qp->sq_tx = qp->sq_get;
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (notify)
		siw_cq_notify(qp->scq);
	if (more)
		siw_tx_schedule(qp);
}

/*
 * Empties both work queues. With @flush every work request completes
 * with IB_WC_WR_FLUSH_ERR, signaled or not, as the verbs require when a
 * QP enters Error; without it they are dropped (reset, destroy), which
 * needs the transmitter stopped.
 */
static void siw_qp_drain(struct siw_qp *qp, bool flush)
{
	unsigned long flags;
	bool notify = false;

	if (flush) {
		siw_qp_reap(qp);
	} else {
		spin_lock_irqsave(&qp->sq_lock, flags);
		while (qp->sq_get != qp->sq_tx)
			siw_sq_retire(qp);
		siw_ring_drain(qp, NULL, qp->sendq, sizeof(struct siw_abi_sqe),
			       qp->num_sqe, &qp->sq_get, false);
		qp->sq_tx = qp->sq_get;
		if (!qp->user)
			qp->sq_put = qp->sq_get;
		qp->orq_get = qp->orq_put;
		spin_unlock_irqrestore(&qp->sq_lock, flags);
	}

	spin_lock_irqsave(&qp->rq_lock, flags);
	if (qp->rx.rqe.active) {
		qp->rx.rqe.active = false;
		if (flush)
			notify = siw_qp_flush_one(qp, qp->rcq, qp->rx.rqe.rqe.id,
						  SIW_ABI_OP_RECEIVE);
	}
	if (qp->recvq) {
		notify |= siw_ring_drain(qp, flush ? qp->rcq : NULL, qp->recvq,
					 sizeof(struct siw_abi_rqe), qp->num_rqe,
					 &qp->rq_get, true);
		if (!qp->user)
			qp->rq_put = qp->rq_get;
	}
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	if (notify)
		siw_cq_notify(qp->rcq);
}

void siw_qp_llp_close(struct siw_qp *qp, bool abort)
{
	struct siw_llp *llp = READ_ONCE(qp->llp);

	if (!llp || test_and_set_bit(SIW_QP_F_CLOSED, &qp->flags))
		return;
	if (abort)
		set_bit(SIW_QP_F_ABORTED, &qp->flags);
	llp->close(llp, abort);
}

/*
 * Resets the stream even where a graceful close is under way already
 * (one that waits for a silent peer's FIN would otherwise hold the
 * stream for its whole timeout). Caller holds state_lock.
 */
static void siw_qp_llp_abort(struct siw_qp *qp)
{
	set_bit(SIW_QP_F_CLOSED, &qp->flags);
	if (qp->llp && !test_and_set_bit(SIW_QP_F_ABORTED, &qp->flags))
		qp->llp->close(qp->llp, true);
}

/*
 * Waits out the receive engine where it runs for this QP right now: it
 * runs under the socket's lock, from data_ready (softirq, the lock's
 * spinlock held) or from the connection manager (lock_sock()). Callers
 * changed the state first, so a receive that starts later sees it.
 * Caller holds state_lock, which keeps the socket attached.
 */
static void siw_qp_rx_sync(struct siw_qp *qp)
{
	if (qp->sock) {
		lock_sock(qp->sock->sk);
		release_sock(qp->sock->sk);
	}
}

/* Caller holds state_lock for writing. */
static void siw_qp_enter(struct siw_qp *qp, enum ib_qp_state state)
{
	enum ib_qp_state old = qp->state;

	WRITE_ONCE(qp->state, state);

	switch (state) {
	case IB_QPS_ERR:
		/*
		 * No receive work request is flushed while the receive
		 * engine may still be placing into it.
		 */
		siw_qp_rx_sync(qp);
		/* Unless the engine already ended the stream, reset it. */
		siw_qp_llp_close(qp, true);
		/*
		 * Also on ERR -> ERR: a user QP's provider may have queued
		 * requests since, without a system call to tell us.
		 */
		siw_qp_drain(qp, true);
		if (qp->sock)
			siw_tx_schedule(qp);
		/* No receive will be taken from the SRQ for this QP again. */
		if (qp->srq && old != IB_QPS_ERR)
			siw_qp_event(qp, IB_EVENT_QP_LAST_WQE_REACHED);
		break;
	case IB_QPS_RESET:
		if (old != IB_QPS_RESET)
			siw_qp_drain(qp, false);
		break;
	case IB_QPS_SQD:
		/* The transmitter sends what it started, then the FIN. */
		if (old == IB_QPS_RTS && qp->sock)
			siw_tx_schedule(qp);
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

/*
 * A QP that goes back to RESET may be connected anew at once, so the old
 * stream must be gone by then: detached by the connection manager, its
 * engines stopped (siw_stream_detach()), TCP done with the zero-copy pages
 * that still name the QP's work requests. Called with state_lock held
 * and returns with it held; drops it while waiting. Returns -EBUSY if
 * the stream is still attached after the wait (a connection manager
 * that does not respond), so that RESET fails rather than hangs.
 */
static bool siw_qp_bound(struct siw_qp *qp)
{
	return READ_ONCE(qp->llp) || atomic_read(&qp->zc_inflight);
}

static int siw_qp_wait_unbound(struct siw_qp *qp)
{
	long left;

	siw_qp_llp_abort(qp);
	up_write(&qp->state_lock);
	left = wait_event_timeout(qp->zc_wait, !siw_qp_bound(qp),
				  SIW_QP_UNBIND_TIMEOUT);
	down_write(&qp->state_lock);
	if (!left) {
		ibdev_warn(qp->base_qp.device,
			   "QP %u: stream still attached, RESET refused\n",
			   qp->base_qp.qp_num);
		return -EBUSY;
	}
	return 0;
}

/* modify_qp on behalf of the consumer. */
int siw_qp_modify(struct siw_qp *qp, const struct ib_qp_attr *attr, int mask)
{
	enum ib_qp_state cur, next;
	u8 how;
	int rv;

	down_write(&qp->state_lock);
again:
	cur = qp->state;
	next = (mask & IB_QP_STATE) ? attr->qp_state : cur;
	how = next <= IB_QPS_ERR ? siw_transitions[cur][next] : SIW_T_NO;

	rv = -EINVAL;
	if ((mask & IB_QP_CUR_STATE) && attr->cur_qp_state != cur)
		goto out;
	if (how != SIW_T_OK && how != SIW_T_PAST) {
		ibdev_dbg(qp->base_qp.device, "QP %u: state %d -> %d %s\n",
			  qp->base_qp.qp_num, cur, next,
			  how == SIW_T_LLP ? "is taken by the protocol engine only" :
			  "is illegal");
		goto out;
	}
	rv = siw_qp_check_attrs(qp, attr, mask, next);
	if (rv)
		goto out;
	if (how == SIW_T_PAST)
		next = cur;
	if (next == IB_QPS_RESET && siw_qp_bound(qp)) {
		rv = siw_qp_wait_unbound(qp);
		if (rv)
			goto out;
		/* The state may have moved on while the lock was dropped. */
		goto again;
	}

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
 * First half of destroy_qp: the QP stops being findable and reachable,
 * its stream is reset, and everything that holds a reference (the
 * connection manager, TCP's zero-copy pages) lets go. The engines are
 * stopped next (siw_stream_destroy_qp()), then siw_qp_free().
 */
void siw_qp_retire(struct siw_qp *qp)
{
	down_write(&qp->state_lock);
	qp->in_destroy = true;
	WRITE_ONCE(qp->state, IB_QPS_ERR);
	siw_qp_llp_close(qp, true);
	up_write(&qp->state_lock);

	if (qp->base_qp.qp_num)
		xa_erase(&qp->sdev->qp_xa, qp->base_qp.qp_num);

	siw_qp_put(qp);
	wait_for_completion(&qp->released);
	wait_event(qp->zc_wait, !atomic_read(&qp->zc_inflight));
}

/*
 * Last half: the work queues go. Outstanding work requests are dropped,
 * not completed: the consumer is done with this QP and its CQs may
 * outlive it.
 */
void siw_qp_free(struct siw_qp *qp)
{
	siw_qp_drain(qp, false);
	kvfree(qp->wqe);
	if (qp->uctx)
		siw_uctx_uncharge(qp->uctx, siw_qp_shadow_bytes(qp));

	if (qp->recvq)
		siw_queue_free(&qp->rq_mem);
	siw_queue_free(&qp->sq_mem);
	put_pid(qp->owner);
}

/*
 * New work, from any context: the transmitter's work item looks, or in
 * Error the requests are flushed (a user QP's provider may have queued
 * receives as well). A user's doorbell in RTS transmits itself instead
 * (siw_tx_doorbell()).
 */
void siw_qp_kick(struct siw_qp *qp)
{
	switch (READ_ONCE(qp->state)) {
	case IB_QPS_RTS:
		siw_tx_schedule(qp);
		break;
	case IB_QPS_ERR:
		siw_qp_drain(qp, true);
		break;
	default:
		break;
	}
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
	unsigned long flags;
	int rv = 0;

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
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	siw_qp_kick(qp);
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

/*
 * The protocol engine found the stream unusable; any context. With why,
 * a Terminate naming it (and the offending FPDU's headers) goes out
 * first. The transmitter then takes the QP to Error.
 */
void siw_qp_fatal(struct siw_qp *qp, const struct siw_term_reason *why,
		  const void *fpdu, u32 fpdu_len)
{
	if (test_and_set_bit(SIW_QP_F_FATAL, &qp->flags))
		return;
	if (why) {
		int len = siw_term_build(qp->term_buf, sizeof(qp->term_buf), 1,
					 why, fpdu, fpdu_len);

		if (len > 0) {
			qp->term_len = len;
			set_bit(SIW_QP_F_TERM_SEND, &qp->flags);
		}
	}
	siw_tx_schedule(qp);
}

/* Our own failure, not the peer's: a local catastrophic error. */
void siw_qp_local_error(struct siw_qp *qp)
{
	static const struct siw_term_reason why = {
		.layer = SIW_TERM_LAYER_RDMAP,
		.etype = SIW_RDMAP_ETYPE_CATASTROPHIC,
	};

	siw_qp_fatal(qp, &why, NULL, 0);
}

void siw_qp_peer_terminated(struct siw_qp *qp)
{
	siw_qp_fatal(qp, NULL, NULL, 0);
}

/* Caller holds state_lock: would entering Error now be news to the user? */
static bool siw_qp_error_is_news(struct siw_qp *qp)
{
	return qp->state == IB_QPS_RTS || qp->state == IB_QPS_SQD ||
	       qp->state == IB_QPS_SQE;
}

/* From the transmitter, once a Terminate is out: to Error, tell the user. */
void siw_qp_error(struct siw_qp *qp)
{
	bool event;

	down_write(&qp->state_lock);
	event = siw_qp_error_is_news(qp);
	if (qp->state != IB_QPS_ERR) {
		/* The Terminate is queued: close gracefully, not with a reset. */
		siw_qp_llp_close(qp, false);
		siw_qp_enter(qp, IB_QPS_ERR);
	}
	up_write(&qp->state_lock);
	if (event)
		siw_qp_event(qp, IB_EVENT_QP_FATAL);
}

/*
 * Binding to a stream (siw_stream_attach()). Caller holds state_lock:
 * may this QP take a stream now? Only from INIT or RTR, and never while
 * an old one is still bound (RESET waited for it to go).
 */
int siw_qp_bind_check(struct siw_qp *qp)
{
	if (qp->state != IB_QPS_INIT && qp->state != IB_QPS_RTR)
		return -EINVAL;
	if (WARN_ON_ONCE(qp->llp))
		return -EBUSY;
	return 0;
}

/*
 * Caller holds state_lock, checked with siw_qp_bind_check() and set up
 * both engines for the stream: the QP takes what MPA negotiated, owns
 * the socket's data from now on and goes to RTS.
 */
void siw_qp_bind(struct siw_qp *qp, struct socket *sock, struct siw_llp *llp,
		 const struct siw_mpa_nego *nego, bool initiator)
{
	qp->flags = 0;
	qp->crc = nego->crc;
	qp->ord = min_t(u32, initiator ? nego->init_ord : nego->resp_ord,
			SIW_MAX_ORD);
	qp->ird = min_t(u32, initiator ? nego->init_ird : nego->resp_ird,
			SIW_MAX_IRD);
	qp->rtr = initiator && nego->p2p ? nego->rtr : 0;
	qp->mpa_rev = nego->rev;
	qp->mpa_rtr = nego->p2p ? nego->rtr : 0;
	qp->orq_get = qp->orq_put = 0;
	qp->irq_get = qp->irq_put = 0;
	qp->llp = llp;
	WRITE_ONCE(qp->sock, sock);
	siw_qp_enter(qp, IB_QPS_RTS);
}

/*
 * Unbinding (siw_stream_detach()), first step: the socket is going. The
 * QP goes to Error (a closed stream flushes, RFC 5040 section 6.2) and
 * lets go of the socket. False if the QP is not bound to llp: then it
 * is a later stream's, and nothing happens.
 */
bool siw_qp_llp_lost(struct siw_qp *qp, struct siw_llp *llp)
{
	bool event;

	down_write(&qp->state_lock);
	if (WARN_ON_ONCE(qp->llp != llp)) {
		up_write(&qp->state_lock);
		return false;
	}
	/*
	 * A QP that failed may lose the stream (the peer, told by our
	 * Terminate, closed it) before the transmitter took it to Error:
	 * the failure is then reported here.
	 */
	event = test_bit(SIW_QP_F_FATAL, &qp->flags) &&
		siw_qp_error_is_news(qp);
	set_bit(SIW_QP_F_CLOSED, &qp->flags);
	set_bit(SIW_QP_F_ABORTED, &qp->flags);
	WRITE_ONCE(qp->sock, NULL);
	if (qp->state != IB_QPS_ERR)
		siw_qp_enter(qp, IB_QPS_ERR);
	up_write(&qp->state_lock);
	if (event)
		siw_qp_event(qp, IB_EVENT_QP_FATAL);
	return true;
}

/*
 * Last step, once both engines are done with the stream: the QP is
 * unbound, and a RESET waiting for that may go on.
 */
void siw_qp_unbind(struct siw_qp *qp)
{
	siw_qp_reap(qp);
	down_write(&qp->state_lock);
	qp->llp = NULL;
	up_write(&qp->state_lock);
	wake_up(&qp->zc_wait);
}
