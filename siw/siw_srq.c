// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Shared receive queues. Same element format and hand-over protocol as a
 * QP's receive queue; user SRQs are filled by the provider through the
 * mapping, kernel SRQs through siw_srq_post().
 */
#include <linux/spinlock.h>
#include <rdma/ib_verbs.h>

#include "siw.h"

int siw_srq_init(struct siw_srq *srq, u32 num_rqe, u32 max_sge,
		 struct ib_udata *udata, u64 *key)
{
	int rv;

	spin_lock_init(&srq->lock);
	rv = siw_queue_alloc(&srq->q, num_rqe * sizeof(struct siw_abi_rqe),
			     udata, key);
	if (rv)
		return rv;
	srq->recvq = srq->q.addr;
	srq->num_rqe = num_rqe;
	srq->max_sge = max_sge;
	srq->user = !!udata;
	return 0;
}

void siw_srq_fini(struct siw_srq *srq)
{
	siw_queue_free(&srq->q);
	srq->recvq = NULL;
}

static int siw_rqe_from_wr(struct siw_abi_rqe *rqe, const struct ib_recv_wr *wr,
			   u32 max_sge)
{
	int i;

	if (wr->num_sge < 0 || wr->num_sge > max_sge)
		return -EINVAL;
	rqe->id = wr->wr_id;
	rqe->num_sge = wr->num_sge;
	rqe->opcode = SIW_ABI_OP_RECEIVE;
	for (i = 0; i < wr->num_sge; i++) {
		rqe->sge[i].laddr = wr->sg_list[i].addr;
		rqe->sge[i].length = wr->sg_list[i].length;
		rqe->sge[i].lkey = wr->sg_list[i].lkey;
	}
	return 0;
}

/*
 * Queues one kernel receive request at *put of a receive ring (a QP's
 * RQ or an SRQ); the caller holds the ring's lock.
 */
int siw_rq_post_one(struct siw_abi_rqe *ring, u32 num, u32 *put,
		    const struct ib_recv_wr *wr, u32 max_sge)
{
	struct siw_abi_rqe *rqe = &ring[*put % num];
	int rv;

	if (smp_load_acquire(&rqe->flags) & SIW_ABI_WQE_VALID)
		return -ENOMEM;
	rv = siw_rqe_from_wr(rqe, wr, max_sge);
	if (rv)
		return rv;
	siw_wqe_flags_release(&rqe->flags, SIW_ABI_WQE_VALID);
	(*put)++;
	return 0;
}

int siw_srq_post(struct siw_srq *srq, const struct ib_recv_wr *wr,
		 const struct ib_recv_wr **bad_wr)
{
	unsigned long flags;
	int rv = 0;

	spin_lock_irqsave(&srq->lock, flags);
	for (; wr; wr = wr->next) {
		rv = siw_rq_post_one(srq->recvq, srq->num_rqe, &srq->rq_put, wr,
				     srq->max_sge);
		if (rv)
			break;
	}
	spin_unlock_irqrestore(&srq->lock, flags);
	if (rv)
		*bad_wr = wr;
	return rv;
}

/*
 * Takes the receive request at *get of a ring for an incoming Send: it
 * is copied out and its slot handed back at once, so the consumer may
 * refill it while the message is still arriving. Caller holds the lock.
 */
bool siw_rq_take(struct siw_abi_rqe *ring, u32 num, u32 *get,
		 struct siw_abi_rqe *out)
{
	struct siw_abi_rqe *rqe = &ring[*get % num];

	if (!(siw_wqe_flags_acquire(&rqe->flags) & SIW_ABI_WQE_VALID))
		return false;
	memcpy(out, rqe, sizeof(*out));
	siw_wqe_flags_release(&rqe->flags, 0);
	(*get)++;
	return true;
}

/* Posted receive requests left, counting no further than limit. */
static u32 siw_srq_count(struct siw_srq *srq, u32 limit)
{
	u32 n;

	for (n = 0; n < limit && n < srq->num_rqe; n++) {
		struct siw_abi_rqe *rqe =
			&srq->recvq[(srq->rq_get + n) % srq->num_rqe];

		if (!(siw_wqe_flags_acquire(&rqe->flags) & SIW_ABI_WQE_VALID))
			break;
	}
	return n;
}

/*
 * siw_rq_take() for an SRQ. Raises IB_EVENT_SRQ_LIMIT_REACHED, once per
 * arming, when fewer requests than the limit are left.
 */
bool siw_srq_take(struct siw_srq *srq, struct siw_abi_rqe *out)
{
	struct ib_event event = {
		.device = srq->base_srq.device,
		.element.srq = &srq->base_srq,
		.event = IB_EVENT_SRQ_LIMIT_REACHED,
	};
	unsigned long flags;
	bool fire = false;
	bool got;

	spin_lock_irqsave(&srq->lock, flags);
	got = siw_rq_take(srq->recvq, srq->num_rqe, &srq->rq_get, out);
	if (got && srq->limit && siw_srq_count(srq, srq->limit) < srq->limit) {
		srq->limit = 0;
		fire = true;
	}
	spin_unlock_irqrestore(&srq->lock, flags);
	if (fire && srq->base_srq.event_handler)
		srq->base_srq.event_handler(&event, srq->base_srq.srq_context);
	return got;
}
