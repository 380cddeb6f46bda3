// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Receive engine: the MPA stream parser, DDP placement and RDMAP
 * receive processing.
 *
 * Runs from the socket's data_ready callback (softirq, socket lock held)
 * through tcp_read_sock(), consuming skbs as they come: FPDUs may be
 * split across skbs and segments at any byte. Each FPDU goes through
 * three phases: header (collected in a small buffer, then checked by the
 * codec and against the QP's state), payload (copied from the skb
 * straight into the target buffer: the registered region of a tagged
 * STag, or the SGE list of a receive or read work request), and
 * trailer (pad and CRC, checked last).
 *
 * Remote access is granted by the rights of the STag's memory alone. The
 * QP's own access flags are not consulted: rdma_cm never sets them on an
 * active side's user QP (rdma_init_qp_attr() gives it none before the
 * connection exists), so iWARP providers cannot rely on them.
 *
 * Every violation ends the stream with a TERMINATE carrying the RFC's
 * reason and takes the QP to Error; nothing is placed before the
 * segment's header has been fully validated, and nothing outside the
 * validated range. MPA CRC errors can only be seen after placement:
 * the message in question then never completes.
 */
#include <linux/highmem.h>
#include <linux/tcp.h>
#include <net/tcp.h>

#include "siw.h"

static int siw_rx_fail(struct siw_qp *qp, u8 layer, u8 etype, u8 ecode)
{
	struct siw_term_reason why = {
		.layer = layer, .etype = etype, .ecode = ecode,
	};
	struct siw_rx *rx = &qp->rx;

	ibdev_info_ratelimited(&qp->sdev->base_dev,
			       "QP %u: sending Terminate, layer %u type %u code %#x (opcode %u msn %u len %u)\n",
			       qp->base_qp.qp_num, layer, etype, ecode,
			       rx->info.opcode, rx->info.msn,
			       rx->info.payload_len);
	rx->state = SIW_RX_DEAD;
	siw_qp_fatal(qp, &why, rx->hdr, rx->hdr_have);
	return -EPROTO;
}

static int siw_rx_fail_why(struct siw_qp *qp, const struct siw_term_reason *why)
{
	return siw_rx_fail(qp, why->layer, why->etype, why->ecode);
}

/* Maps a siw_mem_check() result onto the RFC 5041 tagged error codes. */
static int siw_rx_tagged_error(struct siw_qp *qp, int rv)
{
	switch (rv) {
	case -EPERM:
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP, SIW_DDP_ETYPE_TAGGED,
				   SIW_DDP_TAGGED_ECODE_STAG_NOT_ASSOC);
	case -EACCES:
		return siw_rx_fail(qp, SIW_TERM_LAYER_RDMAP,
				   SIW_RDMAP_ETYPE_REMOTE_PROT,
				   SIW_RDMAP_ECODE_ACCESS_RIGHTS);
	case -ERANGE:
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP, SIW_DDP_ETYPE_TAGGED,
				   SIW_DDP_TAGGED_ECODE_BASE_BOUNDS);
	default:
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP, SIW_DDP_ETYPE_TAGGED,
				   SIW_DDP_TAGGED_ECODE_INVALID_STAG);
	}
}

/* The same for the source of an RDMA Read Request (RFC 5040 7.2). */
static int siw_rx_read_error(struct siw_qp *qp, int rv)
{
	static const u8 ecode[] = {
		[ENOENT] = SIW_RDMAP_ECODE_INVALID_STAG,
		[EPERM] = SIW_RDMAP_ECODE_STAG_NOT_ASSOC,
		[EACCES] = SIW_RDMAP_ECODE_ACCESS_RIGHTS,
		[ERANGE] = SIW_RDMAP_ECODE_BASE_BOUNDS,
	};
	u8 code = -rv < ARRAY_SIZE(ecode) ? ecode[-rv] : 0;

	return siw_rx_fail(qp, SIW_TERM_LAYER_RDMAP, SIW_RDMAP_ETYPE_REMOTE_PROT,
			   code);
}

/* Drops every memory reference the receiver holds. */
void siw_rx_release(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_irq_entry *pending;

	if (rx->tmem)
		siw_mem_put(rx->tmem);
	rx->tmem = NULL;
	siw_mem_put_sges(rx->smem);
	siw_mem_put_sges(rx->rqe.mem);
	/* A Read Request whose FPDU never completed, so was not queued. */
	pending = &qp->irq[qp->irq_put % SIW_MAX_IRD];
	if (pending->mem)
		siw_mem_put(pending->mem);
	pending->mem = NULL;
	rx->state = SIW_RX_DEAD;
}

/* ---- header processing ---------------------------------------------- */

static int siw_rx_write(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;
	struct siw_mem *mem = rx->tmem;
	int rv;

	/* Zero-length Writes (RTR, fences) name no memory to check. */
	if (!info->payload_len)
		return 0;
	if (!mem || mem->stag != info->stag) {
		if (mem)
			siw_mem_put(mem);
		mem = siw_mem_lookup(qp->sdev, info->stag);
		rx->tmem = mem;
		if (!mem)
			return siw_rx_tagged_error(qp, -ENOENT);
	}
	rv = siw_mem_check(mem, &qp->pd->base_pd, IB_ACCESS_REMOTE_WRITE,
			   info->to, info->payload_len);
	if (rv)
		return siw_rx_tagged_error(qp, rv);
	rx->taddr = info->to;
	return 0;
}

/* Takes the memory references of an SGE list for this segment. */
static void siw_rx_hold_sges(struct siw_rx *rx, struct siw_mem **mem)
{
	int i;

	for (i = 0; i < SIW_ABI_MAX_SGE; i++) {
		rx->smem[i] = mem[i];
		if (mem[i])
			kref_get(&mem[i]->ref);
	}
}

/*
 * A Read Response that does not answer the READ at the head of the ORQ
 * (wrong STag or offset, more or less data than asked for): that READ
 * completes with a bad response and the stream ends, since whatever the
 * peer sent cannot be told apart from data the READ is still owed.
 * Caller holds sq_lock.
 */
static void siw_rx_read_resp_bad(struct siw_qp *qp, struct siw_wqe *wqe)
{
	if (wqe->state != SIW_WQE_READ)
		return;
	wqe->status = SIW_ABI_WC_BAD_RESP_ERR;
	wqe->state = SIW_WQE_DONE;
	qp->orq_get++;
}

static int siw_rx_read_resp(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;
	struct siw_wqe *wqe;
	unsigned long flags;
	int rv = 0;
	u64 off, end;

	if (rx->rtr_read_reply) {
		/* Our RTR read's answer: must be empty, places nothing. */
		if (info->payload_len || !info->last)
			return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
					   SIW_DDP_ETYPE_TAGGED,
					   SIW_DDP_TAGGED_ECODE_BASE_BOUNDS);
		rx->num_sge = 0;
		return 0;
	}

	spin_lock_irqsave(&qp->sq_lock, flags);
	if (qp->orq_get == qp->orq_put || !siw_qp_rx_open(qp)) {
		spin_unlock_irqrestore(&qp->sq_lock, flags);
		return siw_rx_tagged_error(qp, -ENOENT);
	}
	wqe = &qp->wqe[qp->orq[qp->orq_get % SIW_MAX_ORD]];
	rx->sge = wqe->sqe.sge;
	rx->num_sge = wqe->sqe.num_sge;
	off = info->to - (rx->num_sge ? wqe->sqe.sge[0].laddr : 0);
	end = off + info->payload_len;
	if (rx->num_sge && info->stag != wqe->sqe.sge[0].lkey)
		rv = -ENOENT;
	else if (off != rx->rresp_len || end > wqe->bytes ||
		 (info->last && end != wqe->bytes))
		rv = -ERANGE;
	if (rv) {
		siw_rx_read_resp_bad(qp, wqe);
		rx->num_sge = 0;
		rx->sge = NULL;
	} else {
		siw_rx_hold_sges(rx, wqe->mem);
	}
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	if (rv)
		return siw_rx_tagged_error(qp, rv);
	rx->msg_off = off;
	return 0;
}

static int siw_rx_check_msn(struct siw_qp *qp, u32 qn)
{
	struct siw_rx *rx = &qp->rx;

	if (rx->info.msn != rx->msn[qn])
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
				   SIW_DDP_ETYPE_UNTAGGED,
				   SIW_DDP_UNTAGGED_ECODE_MSN_RANGE);
	return 0;
}

/* Takes a receive buffer for a new Send and checks its SGE list. */
static int siw_rx_take_rqe(struct siw_qp *qp)
{
	struct siw_rx_rqe *r = &qp->rx.rqe;
	unsigned long flags;
	bool got = false;
	u64 len;

	/*
	 * Taken and marked active in one step under the RQ lock, which the
	 * Error flush holds too: a request is either flushed from its queue
	 * or flushed as the active one, never lost in between.
	 */
	spin_lock_irqsave(&qp->rq_lock, flags);
	if (siw_qp_rx_open(qp))
		got = qp->srq ? siw_srq_take(qp->srq, &r->rqe) :
		      siw_rq_take(qp->recvq, qp->num_rqe, &qp->rq_get, &r->rqe);
	r->active = got;
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	if (!got)
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
				   SIW_DDP_ETYPE_UNTAGGED,
				   SIW_DDP_UNTAGGED_ECODE_MSN_NOBUF);

	if (!siw_mem_resolve_sges(qp->sdev, &qp->pd->base_pd, r->rqe.sge,
				  r->rqe.num_sge, IB_ACCESS_LOCAL_WRITE, r->mem,
				  &len)) {
		r->len = min_t(u64, len, SIW_MAX_MSG_SIZE);
		return 0;
	}
	/* The consumer's own buffer is bad: a local error, flushed as such. */
	return siw_rx_fail(qp, SIW_TERM_LAYER_RDMAP,
			   SIW_RDMAP_ETYPE_CATASTROPHIC, 0);
}

static int siw_rx_send(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;
	int rv;

	rv = siw_rx_check_msn(qp, SIW_DDP_QN_SEND);
	if (rv)
		return rv;
	if (info->mo != rx->send_len)
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
				   SIW_DDP_ETYPE_UNTAGGED,
				   SIW_DDP_UNTAGGED_ECODE_MO);
	/*
	 * Segments of one Send share its MSN; a zero-length segment leaves
	 * the offset at 0, so the next one starts at MO 0 too and belongs
	 * to the same message and receive buffer.
	 */
	if (!rx->send_active) {
		rv = siw_rx_take_rqe(qp);
		if (rv)
			return rv;
		rx->send_active = true;
	}
	if ((u64)rx->send_len + info->payload_len > rx->rqe.len)
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
				   SIW_DDP_ETYPE_UNTAGGED,
				   SIW_DDP_UNTAGGED_ECODE_TOO_LONG);
	siw_rx_hold_sges(rx, rx->rqe.mem);
	rx->sge = rx->rqe.rqe.sge;
	rx->num_sge = rx->rqe.rqe.num_sge;
	rx->msg_off = rx->send_len;
	return 0;
}

static int siw_rx_read_req(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_read_req *rr = &rx->info.rreq;
	struct siw_irq_entry *e;
	struct siw_mem *mem = NULL;
	int rv;

	rv = siw_rx_check_msn(qp, SIW_DDP_QN_READ_REQ);
	if (rv)
		return rv;
	/*
	 * The IRQ holds a request until the last FPDU of its response is
	 * built (siw_tx.c), so this counts every request the peer may
	 * consider outstanding; IRD 0 admits none. Acquire: the slot
	 * freed is written next (siw_tx_irq_release()).
	 */
	if (qp->irq_put - smp_load_acquire(&qp->irq_get) >= qp->ird)
		return siw_rx_fail(qp, SIW_TERM_LAYER_DDP,
				   SIW_DDP_ETYPE_UNTAGGED,
				   SIW_DDP_UNTAGGED_ECODE_MSN_NOBUF);
	if (rr->size) {
		mem = siw_mem_lookup(qp->sdev, rr->src_stag);
		if (!mem)
			return siw_rx_read_error(qp, -ENOENT);
		rv = siw_mem_check(mem, &qp->pd->base_pd, IB_ACCESS_REMOTE_READ,
				   rr->src_to, rr->size);
		if (rv) {
			siw_mem_put(mem);
			return siw_rx_read_error(qp, rv);
		}
	}
	/* Queued when the FPDU's CRC has been checked. */
	e = &qp->irq[qp->irq_put % SIW_MAX_IRD];
	e->rreq = *rr;
	e->mem = mem;
	e->sent = 0;
	return 0;
}

/* The first message of a peer-to-peer responder's stream (RFC 6581). */
static int siw_rx_rtr(struct siw_qp *qp)
{
	struct siw_ddp_info *info = &qp->rx.info;

	if (info->payload_len || !info->last ||
	    info->opcode != siw_mpa_rtr_opcode(qp->rx.rtr_pending))
		return siw_rx_fail(qp, SIW_TERM_LAYER_LLP, SIW_LLP_ETYPE_MPA,
				   SIW_LLP_ECODE_REQ_REP);
	if (info->opcode == SIW_RDMAP_READ_REQ && info->rreq.size)
		return siw_rx_fail(qp, SIW_TERM_LAYER_LLP, SIW_LLP_ETYPE_MPA,
				   SIW_LLP_ECODE_REQ_REP);
	if (!info->tagged)
		return siw_rx_check_msn(qp, info->qn);
	return 0;
}

/* A complete header is in rx->hdr: judge it and set up placement. */
static int siw_rx_hdr(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;

	/*
	 * A QP on its way to Error (its CQ overran, a work request failed)
	 * must not place or complete more of the peer's messages.
	 */
	if (test_bit(SIW_QP_F_FATAL, &qp->flags) || !siw_qp_rx_open(qp))
		return -EPROTO;
	rx->payload_left = info->payload_len;
	rx->num_sge = 0;
	rx->sge = NULL;
	if (rx->crc_on)
		rx->crc = siw_crc32c(~0U, rx->hdr, rx->hdr_have);

	if (rx->rtr_pending)
		return siw_rx_rtr(qp);

	switch (info->opcode) {
	case SIW_RDMAP_WRITE:
		return siw_rx_write(qp);
	case SIW_RDMAP_READ_RESP:
		return siw_rx_read_resp(qp);
	case SIW_RDMAP_READ_REQ:
		return siw_rx_read_req(qp);
	case SIW_RDMAP_TERMINATE:
		return 0;
	default:
		return siw_rx_send(qp);
	}
}

/* ---- placement ------------------------------------------------------ */

/*
 * Copies len bytes at skb offset off into mem at addr, adding to the CRC.
 * Returns false where mem no longer holds the page (siw_mem_page()).
 */
static bool siw_rx_copy(struct siw_rx *rx, struct siw_mem *mem, u64 addr,
			const struct sk_buff *skb, int off, u32 len)
{
	while (len) {
		u32 poff, n;
		struct page *page = siw_mem_page(mem, addr, &poff);
		void *p;

		if (!page)
			return false;
		n = min_t(u32, len, PAGE_SIZE - poff);
		p = kmap_local_page(page);
		if (skb_copy_bits(skb, off, p + poff, n))
			memset(p + poff, 0, n);	/* cannot happen: skb holds it */
		if (rx->crc_on)
			rx->crc = siw_crc32c(rx->crc, p + poff, n);
		kunmap_local(p);
		addr += n;
		off += n;
		len -= n;
	}
	return true;
}

/* Payload that is not placed (Terminate's copied headers): CRC only. */
static void siw_rx_skip(struct siw_rx *rx, const struct sk_buff *skb, int off,
			u32 len)
{
	u8 buf[64];

	while (len) {
		u32 n = min_t(u32, len, sizeof(buf));

		if (rx->crc_on && !skb_copy_bits(skb, off, buf, n))
			rx->crc = siw_crc32c(rx->crc, buf, n);
		off += n;
		len -= n;
	}
}

/*
 * Places len bytes of payload. Returns <0 once the stream died: a tagged
 * target checked at the segment's header is checked again for every
 * piece, since a fast registration may be invalidated (by the peer's own
 * Send with Invalidate, say) and registered anew between two data_ready
 * calls.
 */
static int siw_rx_place(struct siw_qp *qp, const struct sk_buff *skb, int off,
			u32 len)
{
	struct siw_rx *rx = &qp->rx;
	u32 i, pos;

	if (rx->info.opcode == SIW_RDMAP_WRITE) {
		if (!siw_mem_still(rx->tmem, rx->info.stag))
			return siw_rx_tagged_error(qp, -ENOENT);
		if (!siw_rx_copy(rx, rx->tmem, rx->taddr, skb, off, len))
			return siw_rx_tagged_error(qp, -ERANGE);
		rx->taddr += len;
		return 0;
	}
	if (!rx->sge) {
		siw_rx_skip(rx, skb, off, len);
		return 0;
	}
	pos = rx->msg_off;
	for (i = 0; i < rx->num_sge && len; i++) {
		const struct siw_abi_sge *sge = &rx->sge[i];
		u32 n;

		if (pos >= sge->length) {
			pos -= sge->length;
			continue;
		}
		n = min(len, sge->length - pos);
		/* Our own buffer changed under the work request. */
		if (!siw_rx_copy(rx, rx->smem[i], sge->laddr + pos, skb, off, n))
			return siw_rx_fail(qp, SIW_TERM_LAYER_RDMAP,
					   SIW_RDMAP_ETYPE_CATASTROPHIC, 0);
		rx->msg_off += n;
		off += n;
		len -= n;
		pos = 0;
	}
	return 0;
}

/* ---- end of an FPDU ------------------------------------------------- */

static void siw_rx_send_done(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;
	struct siw_abi_cqe cqe = {
		.id = rx->rqe.rqe.id,
		.opcode = SIW_ABI_OP_RECEIVE,
		.bytes = rx->send_len,
	};
	bool solicited = info->opcode == SIW_RDMAP_SEND_SE ||
			 info->opcode == SIW_RDMAP_SEND_SE_INV;
	unsigned long flags;
	bool notify = false;

	if (siw_rdmap_ops[info->opcode].inval) {
		if (siw_mem_invalidate(qp->sdev, &qp->pd->base_pd,
				       info->inval_stag, true)) {
			siw_rx_fail(qp, SIW_TERM_LAYER_RDMAP,
				    SIW_RDMAP_ETYPE_REMOTE_OP,
				    SIW_RDMAP_ECODE_CANNOT_INVALIDATE);
			return;
		}
		cqe.flags |= SIW_ABI_WQE_REM_INVAL;
		cqe.inval_stag = info->inval_stag;
	}
	if (solicited)
		cqe.flags |= SIW_ABI_WQE_SOLICITED;

	spin_lock_irqsave(&qp->rq_lock, flags);
	if (rx->rqe.active) {
		rx->rqe.active = false;
		notify = siw_qp_complete(qp, qp->rcq, &cqe, solicited);
	}
	spin_unlock_irqrestore(&qp->rq_lock, flags);
	if (notify)
		siw_cq_notify(qp->rcq);
	siw_mem_put_sges(rx->rqe.mem);
}

static void siw_rx_read_resp_done(struct siw_qp *qp)
{
	unsigned long flags;
	bool next;

	spin_lock_irqsave(&qp->sq_lock, flags);
	if (qp->orq_get != qp->orq_put) {
		struct siw_wqe *wqe = &qp->wqe[qp->orq[qp->orq_get++ % SIW_MAX_ORD]];

		if (wqe->state == SIW_WQE_READ) {
			if (wqe->sqe.opcode == SIW_ABI_OP_READ_LOCAL_INV &&
			    wqe->sqe.num_sge &&
			    siw_mem_invalidate(qp->sdev, &qp->pd->base_pd,
					       wqe->sqe.sge[0].lkey, false))
				wqe->status = SIW_ABI_WC_LOC_PROT_ERR;
			wqe->state = SIW_WQE_DONE;
		}
	}
	/* The ORD limit or a read fence may have held this one back. */
	next = siw_sq_next_posted(qp);
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	/*
	 * Completing here rather than in tx_work saves a READ's round trip
	 * two context switches.
	 */
	siw_qp_reap(qp);
	if (next)
		siw_tx_schedule(qp);
}

static int siw_rx_fpdu_done(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_ddp_info *info = &rx->info;

	if (rx->crc_on) {
		u32 pad = rx->trailer_need - SIW_MPA_CRC_SIZE;
		__le32 want;

		rx->crc = siw_crc32c(rx->crc, rx->trailer, pad);
		want = cpu_to_le32(~rx->crc);
		if (memcmp(&want, rx->trailer + pad, sizeof(want)))
			return siw_rx_fail(qp, SIW_TERM_LAYER_LLP,
					   SIW_LLP_ETYPE_MPA, SIW_LLP_ECODE_CRC);
	}
	siw_mem_put_sges(rx->smem);
	siw_stat_add(qp->sdev, SIW_STAT_RX_FPDUS, 1);
	siw_stat_add(qp->sdev, SIW_STAT_RX_BYTES, SIW_MPA_LEN_SIZE +
		     rx->ulpdu_len + rx->trailer_need);
	if (info->last)
		WRITE_ONCE(rx->msgs_in, rx->msgs_in + 1);

	if (rx->rtr_pending) {
		rx->rtr_pending = 0;
		if (info->opcode == SIW_RDMAP_READ_REQ) {
			struct siw_irq_entry *e = &qp->irq[qp->irq_put % SIW_MAX_IRD];
			unsigned long flags;

			memset(e, 0, sizeof(*e));
			e->rreq = info->rreq;
			spin_lock_irqsave(&qp->irq_lock, flags);
			WRITE_ONCE(qp->irq_put, qp->irq_put + 1);
			spin_unlock_irqrestore(&qp->irq_lock, flags);
		}
		if (!info->tagged)
			rx->msn[info->qn]++;
		siw_tx_schedule(qp);
		return 0;
	}

	switch (info->opcode) {
	case SIW_RDMAP_WRITE:
		break;
	case SIW_RDMAP_READ_RESP:
		if (rx->rtr_read_reply) {
			rx->rtr_read_reply = false;
			break;
		}
		rx->rresp_len += info->payload_len;
		if (info->last) {
			rx->rresp_len = 0;
			siw_rx_read_resp_done(qp);
		}
		break;
	case SIW_RDMAP_READ_REQ: {
		unsigned long flags;

		rx->msn[SIW_DDP_QN_READ_REQ]++;
		spin_lock_irqsave(&qp->irq_lock, flags);
		WRITE_ONCE(qp->irq_put, qp->irq_put + 1);
		spin_unlock_irqrestore(&qp->irq_lock, flags);
		siw_tx_schedule(qp);
		break;
	}
	case SIW_RDMAP_TERMINATE:
		ibdev_info_ratelimited(&qp->sdev->base_dev,
			"QP %u: peer terminated: layer %u type %u code %#x\n",
			qp->base_qp.qp_num, info->term.layer,
			info->term.etype, info->term.ecode);
		rx->state = SIW_RX_DEAD;
		siw_qp_peer_terminated(qp);
		return -ECONNRESET;
	default:
		rx->send_len += info->payload_len;
		if (info->last) {
			siw_rx_send_done(qp);
			rx->send_len = 0;
			rx->send_active = false;
			rx->msn[SIW_DDP_QN_SEND]++;
		}
		break;
	}
	return 0;
}

/* ---- the stream parser ---------------------------------------------- */

static void siw_rx_next_fpdu(struct siw_rx *rx)
{
	rx->state = SIW_RX_HDR;
	rx->hdr_have = 0;
	/* ULPDU_Length and the DDP/RDMAP control bytes name the opcode. */
	rx->hdr_need = SIW_MPA_LEN_SIZE + sizeof(struct siw_ddp_ctrl);
}

/* Header bytes so far are in rx->hdr; returns <0 once the stream died. */
static int siw_rx_hdr_bytes(struct siw_qp *qp)
{
	struct siw_rx *rx = &qp->rx;
	struct siw_term_reason why;
	int need;

	rx->ulpdu_len = be16_to_cpup((__be16 *)rx->hdr);
	need = siw_ddp_parse_hdr(rx->hdr + SIW_MPA_LEN_SIZE,
				 rx->hdr_have - SIW_MPA_LEN_SIZE, rx->ulpdu_len,
				 &rx->info, &why);
	if (need < 0)
		return siw_rx_fail_why(qp, &why);
	if (need + SIW_MPA_LEN_SIZE > rx->hdr_have) {
		rx->hdr_need = need + SIW_MPA_LEN_SIZE;
		return 0;
	}
	rx->trailer_have = 0;
	rx->trailer_need = siw_fpdu_pad(rx->ulpdu_len) + SIW_MPA_CRC_SIZE;
	if (siw_rx_hdr(qp))
		return -EPROTO;
	rx->state = rx->payload_left ? SIW_RX_PAYLOAD : SIW_RX_TRAILER;
	return 0;
}

static int siw_rx_actor(read_descriptor_t *desc, struct sk_buff *skb,
			unsigned int off, size_t len)
{
	struct siw_qp *qp = desc->arg.data;
	struct siw_rx *rx = &qp->rx;
	size_t left = len;

	while (left) {
		u32 n;

		switch (rx->state) {
		case SIW_RX_HDR:
			n = min_t(size_t, left, rx->hdr_need - rx->hdr_have);
			if (skb_copy_bits(skb, off, rx->hdr + rx->hdr_have, n))
				goto dead;
			rx->hdr_have += n;
			if (rx->hdr_have == rx->hdr_need && siw_rx_hdr_bytes(qp))
				goto dead;
			break;
		case SIW_RX_PAYLOAD:
			/* The consumer may have moved the QP on meanwhile. */
			if (!siw_qp_rx_open(qp))
				goto dead;
			n = min_t(size_t, left, rx->payload_left);
			if (siw_rx_place(qp, skb, off, n))
				goto dead;
			rx->payload_left -= n;
			if (!rx->payload_left)
				rx->state = SIW_RX_TRAILER;
			break;
		case SIW_RX_TRAILER:
			n = min_t(size_t, left, rx->trailer_need - rx->trailer_have);
			if (skb_copy_bits(skb, off, rx->trailer + rx->trailer_have, n))
				goto dead;
			rx->trailer_have += n;
			if (rx->trailer_have == rx->trailer_need) {
				if (siw_rx_fpdu_done(qp))
					goto dead;
				siw_rx_next_fpdu(rx);
			}
			break;
		default:
			goto dead;
		}
		off += n;
		left -= n;
	}
	return len;
dead:
	rx->state = SIW_RX_DEAD;
	return len;	/* everything after an error is discarded */
}

/*
 * Consumes what the socket has. Called with the socket lock held, from
 * data_ready or right after the stream became an RDMA stream.
 */
int siw_rx_data(struct siw_qp *qp, struct sock *sk)
{
	read_descriptor_t desc = {
		.arg.data = qp,
		.count = 1,
	};

	return tcp_read_sock(sk, &desc, siw_rx_actor);
}

/*
 * Prepares the parser for a new stream; crc as negotiated, rtr_pending
 * the SIW_MPA_RTR_* message a peer-to-peer responder waits for, or 0.
 */
void siw_rx_init(struct siw_qp *qp, bool crc, u8 rtr_pending)
{
	struct siw_rx *rx = &qp->rx;
	int i;

	siw_rx_release(qp);
	memset(rx, 0, sizeof(*rx));
	for (i = 0; i < SIW_DDP_NUM_QN; i++)
		rx->msn[i] = 1;
	rx->crc_on = crc;
	rx->rtr_pending = rtr_pending;
	siw_rx_next_fpdu(rx);
}
