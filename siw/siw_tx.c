// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Transmit engine: turns send queue work requests and inbound RDMA Read
 * Requests into FPDUs on the QP's TCP socket.
 *
 * A QP has one transmitter at a time, the holder of its tx_mutex, so its
 * FPDUs never interleave: its work item, or a user's doorbell, which
 * sends a small message of a round trip from the posting task itself
 * when the transmitter is idle (a hand-off to the work item would cost
 * it two context switches); a streaming poster's work goes to the work
 * item, on another CPU. Nothing here sleeps on the socket: sends are
 * non-blocking, and when TCP runs out of room the transmitter stops and
 * the socket's write_space callback queues the work item. A run gives up
 * after a bounded number of FPDUs and queues the work item for the rest,
 * which keeps the transmitters of many QPs fair to each other and bounds
 * the time a doorbell spends in the kernel.
 *
 * Messages are cut at FPDU boundaries sized from the connection's
 * current MSS (RFC 5044 section 5: one FPDU per TCP segment), or from
 * the GSO packet's size where both sides offered large FPDUs in MPA
 * (SIW_MPA_FLAG_LARGE_FPDU). Messages of different kinds switch only at
 * message boundaries.
 *
 * Zero-copy (zcopy_tx): payload pages are handed to TCP by reference,
 * with a ubuf_info per work request that TCP releases once no skb refers
 * to the pages any more, including clones waiting for retransmission or
 * delivery. Only then is the work request completed, so a consumer that
 * reuses its buffer the moment it polls the completion can never change
 * data still to be sent.
 */
#include <linux/highmem.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/tcp.h>

#include "siw.h"

/* FPDUs one run of the work item may send before it yields. */
#define SIW_TX_BUDGET	64

static void siw_tx_work(struct work_struct *work);

/* Before the QP is published: the transmitter's part of a new QP. */
void siw_tx_qp_init(struct siw_qp *qp)
{
	mutex_init(&qp->tx_mutex);
	INIT_WORK(&qp->tx_work, siw_tx_work);
	qp->tx_cpu = -1;
}

/* A new stream: MSNs start over, nothing is in progress. */
void siw_tx_init_stream(struct siw_qp *qp, u8 zcopy_tx, bool large_fpdu)
{
	struct siw_tx *tx = &qp->tx;

	tx->zcopy = zcopy_tx;
	WRITE_ONCE(tx->large_fpdu, large_fpdu);
	memset(tx->ddp_msn, 0, sizeof(tx->ddp_msn));
	tx->busy = false;
	tx->wqe = NULL;
	tx->rresp = NULL;
}

static void siw_tx_zc_done(struct sk_buff *skb, struct ubuf_info *ubuf,
			   bool success)
{
	struct siw_wqe *wqe = container_of(ubuf, struct siw_wqe, ubuf);
	struct siw_qp *qp = wqe->qp;

	/* skb_copy_ubufs() replaced our pages by copies: see ZC_COPIED. */
	if (!success && !test_and_set_bit(SIW_QP_F_ZC_COPIED, &qp->flags)) {
		siw_stat_add(qp->sdev, SIW_STAT_TX_ZCOPY_COPIED_QPS, 1);
		ibdev_dbg(&qp->sdev->base_dev,
			  "QP %u: the kernel copies zero-copy data on this connection\n",
			  qp->base_qp.qp_num);
	}
	if (!refcount_dec_and_test(&ubuf->refcnt))
		return;
	/* Publishes everything about the WQE before it may complete. */
	smp_store_release(&wqe->zc_pending, false);
	siw_tx_schedule(qp);
	if (atomic_dec_and_test(&qp->zc_inflight))
		wake_up(&qp->zc_wait);
}

SIW_DEFINE_UBUF_OPS(siw_tx_zc_ops, siw_tx_zc_done);

/* ---- building FPDUs ------------------------------------------------- */

static void siw_tx_add(struct siw_tx *tx, struct page *page, u32 off, u32 len,
		       enum siw_tx_how how)
{
	struct bio_vec *bv = &tx->bvec[tx->nr_bvec];

	bvec_set_page(bv, page, len, off);
	tx->how[tx->nr_bvec++] = how;
}

static void siw_tx_add_buf(struct siw_tx *tx, void *buf, u32 len)
{
	siw_tx_add(tx, virt_to_page(buf), offset_in_page(buf), len, SIW_TX_COPY);
}

/*
 * Adds len bytes of the work request's SGE list from message offset off
 * to the FPDU, split at page boundaries, each page sent as how asks if
 * TCP may take a reference to it, else copied.
 * Returns 0, -EFAULT where the memory no longer holds a page for the
 * address (siw_mem_page()), or -EMSGSIZE if the FPDU has no bvec left,
 * which SIW_TX_MAX_BVEC rules out.
 */
static int siw_tx_add_sges(struct siw_tx *tx, struct siw_mem **mem,
			    const struct siw_abi_sge *sge, u32 num_sge,
			    u32 off, u32 len, enum siw_tx_how how)
{
	u32 i;

	for (i = 0; i < num_sge && len; i++) {
		u64 addr;
		u32 chunk;

		if (off >= sge[i].length) {
			off -= sge[i].length;
			continue;
		}
		addr = sge[i].laddr + off;
		chunk = min_t(u64, len, sge[i].length - off);
		off = 0;
		len -= chunk;
		while (chunk) {
			u32 poff, n;
			struct page *page = siw_mem_page(mem[i], addr, &poff);

			if (!page)
				return -EFAULT;
			n = min_t(u32, chunk, PAGE_SIZE - poff);
			if (WARN_ON_ONCE(tx->nr_bvec >= SIW_TX_MAX_BVEC - 1))
				return -EMSGSIZE;
			siw_tx_add(tx, page, poff, n,
				   mem[i]->type != SIW_MEM_DMA &&
				   sendpage_ok(page) ? how : SIW_TX_COPY);
			addr += n;
			chunk -= n;
		}
	}
	return len ? -EMSGSIZE : 0;
}

/* Adds pad and CRC, computing the CRC over everything added so far. */
static void siw_tx_seal(struct siw_qp *qp, u32 ulpdu_len)
{
	struct siw_tx *tx = &qp->tx;
	u32 pad = siw_fpdu_pad(ulpdu_len);
	__le32 crc_le = 0;
	unsigned int i;

	memset(tx->trailer, 0, sizeof(tx->trailer));
	if (qp->crc) {
		u32 crc = ~0U;

		for (i = 0; i < tx->nr_bvec; i++) {
			struct bio_vec *bv = &tx->bvec[i];
			void *p = kmap_local_page(bv->bv_page);

			crc = siw_crc32c(crc, p + bv->bv_offset, bv->bv_len);
			kunmap_local(p);
		}
		crc = siw_crc32c(crc, tx->trailer, pad);
		crc_le = cpu_to_le32(~crc);
	}
	memcpy(tx->trailer + pad, &crc_le, sizeof(crc_le));
	siw_tx_add_buf(tx, tx->trailer, pad + SIW_MPA_CRC_SIZE);
	tx->cur = 0;
	tx->busy = true;
	siw_stat_add(qp->sdev, SIW_STAT_TX_FPDUS, 1);
	siw_stat_add(qp->sdev, SIW_STAT_TX_BYTES, SIW_MPA_LEN_SIZE + ulpdu_len +
		     pad + SIW_MPA_CRC_SIZE);
}

/*
 * What one FPDU may take of the stream: the MSS, or where both sides
 * offered large FPDUs, as many segments as TCP puts into one GSO packet
 * (gso_segs, set by each send from the size goal, sk_gso_max_size and
 * half the peer's window): one FPDU per GSO packet instead of one per
 * segment, cut into MSS-sized segments below us as before.
 */
static u32 siw_tx_fpdu_bytes(const struct siw_tx *tx, struct socket *sock)
{
	const struct tcp_sock *tp = tcp_sk(sock->sk);
	u32 mss = READ_ONCE(tp->mss_cache);

	if (!tx->large_fpdu)
		return mss;
	return siw_fpdu_large_bytes(mss, READ_ONCE(tp->gso_segs));
}

/* Starts an FPDU with the header info describes; returns its length. */
static int siw_tx_add_hdr(struct siw_tx *tx, const struct siw_ddp_info *info)
{
	int hdr_len = info->tagged ?
		      siw_ddp_build_tagged(tx->hdr, sizeof(tx->hdr), info) :
		      siw_ddp_build_untagged(tx->hdr, sizeof(tx->hdr), info);

	if (hdr_len < 0)
		return hdr_len;
	tx->nr_bvec = 0;
	siw_tx_add_buf(tx, tx->hdr, hdr_len);
	return hdr_len;
}

/*
 * Starts the next FPDU of a message with left bytes still to send: its
 * payload is what one FPDU carries over this connection. Sets info's
 * payload length and last flag; returns the header length.
 */
static int siw_tx_begin_fpdu(struct siw_tx *tx, struct socket *sock,
			     struct siw_ddp_info *info, u32 left)
{
	u32 max = siw_fpdu_max_payload(siw_tx_fpdu_bytes(tx, sock),
				       info->opcode);

	if (!max)
		return -EMSGSIZE;
	info->payload_len = min(left, max);
	info->last = info->payload_len == left;
	return siw_tx_add_hdr(tx, info);
}

/* Headers that need no payload: Read Request, Terminate, RTR messages. */
static void siw_tx_hdr_only(struct siw_qp *qp, const struct siw_ddp_info *info,
			    const void *prebuilt, u32 len)
{
	struct siw_tx *tx = &qp->tx;
	int hdr_len = len;

	if (prebuilt) {
		memcpy(tx->hdr, prebuilt, len);
		tx->nr_bvec = 0;
		siw_tx_add_buf(tx, tx->hdr, len);
	} else {
		hdr_len = siw_tx_add_hdr(tx, info);
		/* Our own header fields never fail to encode. */
		if (WARN_ON_ONCE(hdr_len < 0))
			return;
	}
	siw_tx_seal(qp, hdr_len - SIW_MPA_LEN_SIZE);
}

static const u8 siw_send_opcode[2][2] = {
	/* [invalidate][solicited] */
	{ SIW_RDMAP_SEND, SIW_RDMAP_SEND_SE },
	{ SIW_RDMAP_SEND_INV, SIW_RDMAP_SEND_SE_INV },
};

/* Builds the next FPDU of the work request being transmitted. */
static int siw_tx_build_wqe(struct siw_qp *qp, struct socket *sock)
{
	struct siw_tx *tx = &qp->tx;
	struct siw_wqe *wqe = tx->wqe;
	struct siw_abi_sqe *sqe = &wqe->sqe;
	struct siw_ddp_info info = {};
	bool inl = sqe->flags & SIW_ABI_WQE_INLINE;
	u32 len;
	int hdr_len;

	switch (sqe->opcode) {
	case SIW_ABI_OP_WRITE:
		info.opcode = SIW_RDMAP_WRITE;
		info.tagged = 1;
		info.stag = sqe->rkey;
		info.to = sqe->raddr + wqe->sent;
		break;
	case SIW_ABI_OP_READ:
	case SIW_ABI_OP_READ_LOCAL_INV: {
		unsigned long flags;

		/* The response may be back before sendmsg() returns. */
		spin_lock_irqsave(&qp->sq_lock, flags);
		qp->orq[qp->orq_put++ % SIW_MAX_ORD] = wqe - qp->wqe;
		wqe->state = SIW_WQE_READ;
		spin_unlock_irqrestore(&qp->sq_lock, flags);

		info.opcode = SIW_RDMAP_READ_REQ;
		info.last = 1;
		info.msn = ++tx->ddp_msn[SIW_DDP_QN_READ_REQ];
		info.rreq.sink_stag = sqe->num_sge ? sqe->sge[0].lkey : 0;
		info.rreq.sink_to = sqe->num_sge ? sqe->sge[0].laddr : 0;
		info.rreq.size = wqe->bytes;
		info.rreq.src_stag = sqe->rkey;
		info.rreq.src_to = sqe->raddr;
		siw_tx_hdr_only(qp, &info, NULL, 0);
		wqe->sent = wqe->bytes;
		return 0;
	}
	default: {
		bool inv = sqe->opcode == SIW_ABI_OP_SEND_REMOTE_INV;

		info.opcode = siw_send_opcode[inv]
			[!!(sqe->flags & SIW_ABI_WQE_SOLICITED)];
		if (!wqe->sent)
			++tx->ddp_msn[SIW_DDP_QN_SEND];
		info.msn = tx->ddp_msn[SIW_DDP_QN_SEND];
		info.mo = wqe->sent;
		if (inv)
			info.inval_stag = sqe->rkey;
		break;
	}
	}

	hdr_len = siw_tx_begin_fpdu(tx, sock, &info, wqe->bytes - wqe->sent);
	if (hdr_len < 0)
		return hdr_len;
	len = info.payload_len;
	if (inl) {
		if (len)
			siw_tx_add_buf(tx, tx->inline_buf + wqe->sent, len);
	} else {
		int rv = siw_tx_add_sges(tx, wqe->mem, sqe->sge, sqe->num_sge,
					 wqe->sent, len, wqe->zc_pending ?
					 SIW_TX_ZC : SIW_TX_COPY);

		/* A local fast registration changed under the WR. */
		if (rv == -EFAULT)
			wqe->status = SIW_ABI_WC_LOC_PROT_ERR;
		if (rv)
			return rv;
	}
	wqe->sent += len;
	siw_tx_seal(qp, hdr_len - SIW_MPA_LEN_SIZE + len);
	return 0;
}

/*
 * The Read Request being answered leaves the IRQ once the last FPDU of
 * its response is built, before that FPDU is sent: until then the peer
 * counts it against our IRD, and once the FPDU is out it may send its
 * next request at once, which can arrive (over loopback, from within
 * the send call) before the call returns here.
 */
static void siw_tx_irq_release(struct siw_qp *qp)
{
	/*
	 * Only the transmitter moves irq_get, and its copy of the entry
	 * was taken under irq_lock: the release orders that before the
	 * receiver may reuse the slot, which it does only after reading
	 * the new irq_get.
	 */
	smp_store_release(&qp->irq_get, qp->irq_get + 1);
}

/* Builds the next Read Response FPDU of the IRQ entry being served. */
static int siw_tx_build_rresp(struct siw_qp *qp, struct socket *sock)
{
	struct siw_tx *tx = &qp->tx;
	struct siw_irq_entry *e = tx->rresp;
	struct siw_abi_sge sge = {
		.laddr = e->rreq.src_to,
		.length = e->rreq.size,
	};
	struct siw_ddp_info info = {
		.opcode = SIW_RDMAP_READ_RESP,
		.tagged = 1,
		.stag = e->rreq.sink_stag,
		.to = e->rreq.sink_to + e->sent,
	};
	int hdr_len;
	u32 len;

	/*
	 * The source was checked when the request came in. A fast
	 * registration invalidated (locally, or by the peer's own Send with
	 * Invalidate) since no longer serves it, nor one registered anew.
	 */
	if (e->mem && !siw_mem_still(e->mem, e->rreq.src_stag))
		return -EKEYREVOKED;
	hdr_len = siw_tx_begin_fpdu(tx, sock, &info, e->rreq.size - e->sent);
	if (hdr_len < 0)
		return hdr_len;
	len = info.payload_len;
	/*
	 * Nothing completes on the responder, so nothing need wait for TCP
	 * to let go of the pages: it may keep references instead of a copy.
	 * Not under a CRC though: a page changed before TCP sends it (or
	 * sends it again) would no longer match the CRC computed here.
	 */
	if (len) {
		int rv = siw_tx_add_sges(tx, &e->mem, &sge, 1, e->sent, len,
					 qp->crc ? SIW_TX_COPY : SIW_TX_REF);

		if (rv)
			return rv == -EFAULT ? -EKEYREVOKED : rv;
	}
	e->sent += len;
	siw_tx_seal(qp, hdr_len - SIW_MPA_LEN_SIZE + len);
	if (info.last)
		siw_tx_irq_release(qp);
	return 0;
}

/* ---- sending -------------------------------------------------------- */

/*
 * Sends what is left of the current FPDU. Returns 0 once all of it is
 * with TCP, -EAGAIN when the socket is full (write_space requeues us).
 */
static int siw_tx_push(struct siw_qp *qp, struct socket *sock)
{
	struct siw_tx *tx = &qp->tx;

	while (tx->cur < tx->nr_bvec) {
		unsigned int end = tx->cur + 1;
		enum siw_tx_how how = tx->how[tx->cur];
		size_t size = tx->bvec[tx->cur].bv_len;
		int flags = MSG_DONTWAIT | MSG_NOSIGNAL;
		int rv;

		while (end < tx->nr_bvec && tx->how[end] == how)
			size += tx->bvec[end++].bv_len;
		if (end < tx->nr_bvec)
			flags |= MSG_MORE;

		if (how == SIW_TX_REF) {
			rv = siw_send_page_refs(sock, &tx->bvec[tx->cur],
						end - tx->cur, size, flags);
		} else {
			struct msghdr msg = { .msg_flags = flags };

			if (how == SIW_TX_ZC) {
				msg.msg_flags |= MSG_ZEROCOPY;
				msg.msg_ubuf = &tx->wqe->ubuf;
			}
			iov_iter_bvec(&msg.msg_iter, ITER_SOURCE,
				      &tx->bvec[tx->cur], end - tx->cur, size);
			rv = sock_sendmsg(sock, &msg);
		}
		if (rv <= 0)
			return rv ? rv : -EAGAIN;

		/* Consume what went out; a partly sent bvec is trimmed. */
		while (rv) {
			struct bio_vec *bv = &tx->bvec[tx->cur];
			u32 n = min_t(u32, rv, bv->bv_len);

			bv->bv_offset += n;
			bv->bv_len -= n;
			rv -= n;
			if (!bv->bv_len)
				tx->cur++;
		}
	}
	tx->busy = false;
	return 0;
}

/* ---- work requests -------------------------------------------------- */

static int siw_tx_resolve_sges(struct siw_qp *qp, struct siw_wqe *wqe,
			       int access)
{
	u64 total;
	int rv;

	rv = siw_mem_resolve_sges(qp->sdev, &qp->pd->base_pd, wqe->sqe.sge,
				  wqe->sqe.num_sge, access, wqe->mem, &total);
	if (rv)
		return rv;
	if (total > SIW_MAX_MSG_SIZE)
		return -EMSGSIZE;
	wqe->bytes = total;
	return 0;
}

static int siw_tx_reg_mr(struct siw_qp *qp, struct siw_wqe *wqe)
{
	struct ib_mr *ibmr = (struct ib_mr *)(uintptr_t)wqe->sqe.base_mr;
	struct siw_mem *mem = to_siw_mr(ibmr)->mem;
	u32 key = wqe->sqe.rkey & SIW_STAG_KEY_MASK;

	if (mem->pd != &qp->pd->base_pd || mem->type != SIW_MEM_PBL ||
	    READ_ONCE(mem->valid) ||
	    (wqe->sqe.rkey >> SIW_STAG_KEY_BITS) !=
	    (mem->stag >> SIW_STAG_KEY_BITS))
		return -EINVAL;
	mem->access = wqe->sqe.access;
	mem->va = ibmr->iova;
	mem->len = ibmr->length;
	mem->stag = (mem->stag & ~SIW_STAG_KEY_MASK) | key;
	/* Lookups from the wire see the new mapping whole once valid. */
	smp_store_release(&mem->valid, true);
	return 0;
}

/* The work request is with TCP (or done locally): it may complete. */
static void siw_tx_wqe_sent(struct siw_qp *qp, struct siw_wqe *wqe)
{
	bool zc = wqe->zc_pending;

	/*
	 * A Read Request went on the ORQ when it was built. No lock: only
	 * the transmitter moves a request out of ACTIVE (the receiver moves
	 * Reads out of READ), and the release publishes the request's
	 * status with it to the reaper (siw_qp_reap()).
	 */
	if (READ_ONCE(wqe->state) == SIW_WQE_ACTIVE)
		smp_store_release(&wqe->state, SIW_WQE_DONE);
	qp->tx.wqe = NULL;
	/* Drop the transmitter's own reference: TCP holds the rest. */
	if (zc)
		siw_tx_zc_done(NULL, &wqe->ubuf, true);
}

/* Fails a work request locally; the QP then goes to Error. */
static void siw_tx_wqe_fail(struct siw_qp *qp, struct siw_wqe *wqe,
			    enum siw_abi_wc_status status)
{
	ibdev_dbg(&qp->sdev->base_dev, "QP %u: work request %llx failed: %u\n",
		  qp->base_qp.qp_num, wqe->sqe.id, status);
	wqe->status = status;
	siw_tx_wqe_sent(qp, wqe);
	siw_qp_local_error(qp);
}

/*
 * Where the kernel copies the pages on their way anyway (local delivery,
 * MSG_ZEROCOPY's SO_EE_CODE_ZEROCOPY_COPIED case), zero-copy would only
 * add the wait for the peer's ACK before the work request completes:
 * write_bw 1 MiB over a local route ran at half the copied rate.
 */
static bool siw_tx_zcopy_wanted(struct siw_qp *qp)
{
	switch (qp->tx.zcopy) {
	case SIW_ZCOPY_ON:
		return !test_bit(SIW_QP_F_ZC_COPIED, &qp->flags);
	case SIW_ZCOPY_ALWAYS:
		return true;
	default:
		return false;
	}
}

/*
 * Takes the next work request off the send queue, unless the ORD limit
 * or a read fence holds it back. Local operations are carried out here.
 * Returns true if there was anything to do.
 */
static bool siw_tx_start_wqe(struct siw_qp *qp)
{
	struct siw_abi_sqe *sqe;
	struct siw_wqe *wqe;
	unsigned long flags;
	u16 wqe_flags;
	bool read;
	int rv;

	/*
	 * Nothing posted at sq_tx, seen without the lock: whoever posts
	 * there next asks for a transmitter run after it.
	 */
	sqe = &qp->sendq[qp->sq_tx % qp->num_sqe];
	if (!(siw_wqe_flags_acquire(&sqe->flags) & SIW_ABI_WQE_VALID))
		return false;

	spin_lock_irqsave(&qp->sq_lock, flags);
	if (READ_ONCE(qp->state) != IB_QPS_RTS)
		goto idle;
	/*
	 * On a full ring the slot at sq_tx is the oldest one, still valid
	 * until it is completed: started again, it would go out twice.
	 */
	if (qp->sq_tx - qp->sq_get >= qp->num_sqe)
		goto idle;
	wqe_flags = siw_wqe_flags_acquire(&sqe->flags);
	if (!(wqe_flags & SIW_ABI_WQE_VALID))
		goto idle;
	wqe = &qp->wqe[qp->sq_tx % qp->num_sqe];
	memcpy(&wqe->sqe, sqe, sizeof(wqe->sqe));
	wqe->sqe.flags = wqe_flags;
	read = wqe->sqe.opcode == SIW_ABI_OP_READ ||
	       wqe->sqe.opcode == SIW_ABI_OP_READ_LOCAL_INV;
	if ((read && qp->orq_put - qp->orq_get >= max(qp->ord, 1U)) ||
	    ((wqe_flags & SIW_ABI_WQE_READ_FENCE) &&
	     qp->orq_put != qp->orq_get))
		goto idle;	/* a read response will kick us */
	qp->sq_tx++;
	wqe->state = SIW_WQE_ACTIVE;
	spin_unlock_irqrestore(&qp->sq_lock, flags);

	wqe->status = SIW_ABI_WC_SUCCESS;
	wqe->sent = 0;
	wqe->bytes = 0;
	wqe->zc_pending = false;
	memset(wqe->mem, 0, sizeof(wqe->mem));

	switch (wqe->sqe.opcode) {
	case SIW_ABI_OP_REG_MR:
	case SIW_ABI_OP_INVAL_STAG:
		/* base_mr is a kernel pointer: never from user space. */
		if (qp->user) {
			siw_tx_wqe_fail(qp, wqe, SIW_ABI_WC_LOC_QP_OP_ERR);
			return true;
		}
		rv = wqe->sqe.opcode == SIW_ABI_OP_REG_MR ?
		     siw_tx_reg_mr(qp, wqe) :
		     siw_mem_invalidate(qp->sdev, &qp->pd->base_pd,
					wqe->sqe.rkey, false);
		if (rv)
			siw_tx_wqe_fail(qp, wqe, SIW_ABI_WC_LOC_PROT_ERR);
		else
			siw_tx_wqe_sent(qp, wqe);
		return true;
	case SIW_ABI_OP_WRITE:
	case SIW_ABI_OP_SEND:
	case SIW_ABI_OP_SEND_REMOTE_INV:
	case SIW_ABI_OP_READ:
	case SIW_ABI_OP_READ_LOCAL_INV:
		break;
	default:
		siw_tx_wqe_fail(qp, wqe, SIW_ABI_WC_LOC_QP_OP_ERR);
		return true;
	}

	if (wqe->sqe.flags & SIW_ABI_WQE_INLINE) {
		u32 len = wqe->sqe.sge[0].length;

		if (read || len > SIW_MAX_INLINE_DATA) {
			siw_tx_wqe_fail(qp, wqe, SIW_ABI_WC_LOC_LEN_ERR);
			return true;
		}
		/* The inline bytes sit where sge[1] and on would be. */
		memcpy(qp->tx.inline_buf, &wqe->sqe.sge[1], len);
		wqe->bytes = len;
	} else {
		rv = siw_tx_resolve_sges(qp, wqe, read ? IB_ACCESS_LOCAL_WRITE : 0);
		if (rv) {
			siw_tx_wqe_fail(qp, wqe, rv == -EMSGSIZE ?
					SIW_ABI_WC_LOC_LEN_ERR :
					SIW_ABI_WC_LOC_PROT_ERR);
			return true;
		}
	}
	if (!read && wqe->bytes >= SIW_ZCOPY_MIN_BYTES &&
	    !(wqe->sqe.flags & SIW_ABI_WQE_INLINE) && siw_tx_zcopy_wanted(qp)) {
		siw_ubuf_init(&wqe->ubuf, &siw_tx_zc_ops, siw_tx_zc_done);
		wqe->zc_pending = true;
		atomic_inc(&qp->zc_inflight);
		siw_stat_add(qp->sdev, SIW_STAT_TX_ZCOPY_WRS, 1);
	}
	qp->tx.wqe = wqe;
	return true;

idle:
	spin_unlock_irqrestore(&qp->sq_lock, flags);
	return false;
}

/*
 * Starts answering the oldest Read Request. Its entry stays in the IRQ
 * until siw_tx_irq_release(); the transmitter works on a copy, which
 * owns the memory reference from now on.
 */
static bool siw_tx_start_rresp(struct siw_qp *qp)
{
	struct siw_irq_entry *e;
	unsigned long flags;
	bool rv = false;

	/*
	 * A look without the lock first: the receiver queues a request
	 * under it and then asks for a transmitter run, which comes after
	 * this one. Two lock round trips saved per message sent.
	 */
	if (READ_ONCE(qp->irq_get) == READ_ONCE(qp->irq_put))
		return false;
	spin_lock_irqsave(&qp->irq_lock, flags);
	if (qp->irq_get != qp->irq_put) {
		e = &qp->irq[qp->irq_get % SIW_MAX_IRD];
		qp->tx.rresp_cur = *e;
		e->mem = NULL;
		qp->tx.rresp = &qp->tx.rresp_cur;
		rv = true;
	}
	spin_unlock_irqrestore(&qp->irq_lock, flags);
	return rv;
}

static void siw_tx_rresp_done(struct siw_qp *qp)
{
	struct siw_irq_entry *e = qp->tx.rresp;

	if (e->mem)
		siw_mem_put(e->mem);
	e->mem = NULL;
	qp->tx.rresp = NULL;
}

/* Read Requests that will get no response now drop their memory. */
static void siw_tx_drop_irq(struct siw_qp *qp)
{
	struct siw_irq_entry *e;
	unsigned long flags;

	spin_lock_irqsave(&qp->irq_lock, flags);
	while (qp->irq_get != qp->irq_put) {
		e = &qp->irq[qp->irq_get++ % SIW_MAX_IRD];
		if (e->mem)
			siw_mem_put(e->mem);
		e->mem = NULL;
	}
	spin_unlock_irqrestore(&qp->irq_lock, flags);
}

/* The ready-to-receive message of an RFC 6581 initiator. */
static void siw_tx_rtr(struct siw_qp *qp)
{
	struct siw_ddp_info info = {
		.opcode = siw_mpa_rtr_opcode(qp->rtr),
		.last = 1,
	};

	switch (info.opcode) {
	case SIW_RDMAP_WRITE:
		info.tagged = 1;
		break;
	case SIW_RDMAP_READ_REQ:
		info.msn = ++qp->tx.ddp_msn[SIW_DDP_QN_READ_REQ];
		qp->rx.rtr_read_reply = true;
		break;
	default:
		info.msn = ++qp->tx.ddp_msn[SIW_DDP_QN_SEND];
		break;
	}
	qp->rtr = 0;
	siw_tx_hdr_only(qp, &info, NULL, 0);
}

/*
 * Whatever was in progress when the QP failed is finished off: the
 * current work request completes (flushed unless it already failed),
 * the read response being sent and those still queued are dropped.
 */
static void siw_tx_abort(struct siw_qp *qp)
{
	struct siw_wqe *wqe = qp->tx.wqe;

	qp->tx.busy = false;
	if (wqe) {
		if (wqe->status == SIW_ABI_WC_SUCCESS)
			wqe->status = SIW_ABI_WC_WR_FLUSH_ERR;
		siw_tx_wqe_sent(qp, wqe);
	}
	if (qp->tx.rresp)
		siw_tx_rresp_done(qp);
	siw_tx_drop_irq(qp);
}

/*
 * Building or sending an FPDU failed with rv. Nothing of the FPDU is on
 * the stream when building failed, so a Terminate can still say why; a
 * failed send leaves the stream broken, and no Terminate can follow.
 */
static void siw_tx_error(struct siw_qp *qp, int rv)
{
	static const struct siw_term_reason too_big = {
		.layer = SIW_TERM_LAYER_LLP,
		.etype = SIW_LLP_ETYPE_MPA,
		.ecode = SIW_LLP_ECODE_CATASTROPHIC,
	};
	static const struct siw_term_reason revoked = {
		.layer = SIW_TERM_LAYER_RDMAP,
		.etype = SIW_RDMAP_ETYPE_REMOTE_PROT,
		.ecode = SIW_RDMAP_ECODE_INVALID_STAG,
	};

	ibdev_dbg(&qp->sdev->base_dev, "QP %u: transmit error %d\n",
		  qp->base_qp.qp_num, rv);
	switch (rv) {
	case -EMSGSIZE:
		siw_qp_fatal(qp, &too_big, NULL, 0);
		break;
	case -EKEYREVOKED:
		siw_qp_fatal(qp, &revoked, NULL, 0);
		break;
	case -EFAULT:
		/* Our own work request failed; its status says how. */
		siw_qp_local_error(qp);
		break;
	default:
		clear_bit(SIW_QP_F_TERM_SEND, &qp->flags);
		qp->tx.busy = false;
		siw_qp_fatal(qp, NULL, NULL, 0);
		break;
	}
}

/*
 * Caller holds tx_mutex. A doorbell hands a large work request to
 * tx_work once it is started (SIW_TX_DOORBELL_MAX_BYTES).
 */
static void siw_tx_run(struct siw_qp *qp, bool doorbell)
{
	struct socket *sock = READ_ONCE(qp->sock);
	struct siw_tx *tx = &qp->tx;
	int budget = SIW_TX_BUDGET;
	int rv = 0;

	if (!sock)
		goto stop;

	while (budget) {
		if (tx->busy) {
			rv = siw_tx_push(qp, sock);
			if (rv)
				break;
			budget--;
			if (tx->wqe && tx->wqe->sent == tx->wqe->bytes)
				siw_tx_wqe_sent(qp, tx->wqe);
			else if (tx->rresp && tx->rresp->sent == tx->rresp->rreq.size)
				siw_tx_rresp_done(qp);
			continue;
		}
		/* Looked at first: the locked clear only when it is set. */
		if (test_bit(SIW_QP_F_TERM_SEND, &qp->flags) &&
		    test_and_clear_bit(SIW_QP_F_TERM_SEND, &qp->flags)) {
			siw_tx_hdr_only(qp, NULL, qp->term_buf, qp->term_len);
			continue;
		}
		if (test_bit(SIW_QP_F_FATAL, &qp->flags))
			break;
		/* Nothing more is served or sent once the QP left RTS/SQD. */
		if (!siw_qp_rx_open(qp))
			break;
		if (qp->rx.rtr_pending)
			break;	/* responder: silent until the RTR arrived */
		if (qp->rtr) {
			siw_tx_rtr(qp);
			continue;
		}
		if (tx->wqe) {
			rv = siw_tx_build_wqe(qp, sock);
			if (rv)
				break;
			continue;
		}
		if (tx->rresp) {
			rv = siw_tx_build_rresp(qp, sock);
			if (rv)
				break;
			continue;
		}
		if (siw_tx_start_rresp(qp)) {
			if (doorbell &&
			    tx->rresp->rreq.size > SIW_TX_DOORBELL_MAX_BYTES) {
				budget = 0;
				break;
			}
			continue;
		}
		if (siw_tx_start_wqe(qp)) {
			if (doorbell && tx->wqe &&
			    tx->wqe->bytes > SIW_TX_DOORBELL_MAX_BYTES) {
				budget = 0;
				break;
			}
			continue;
		}
		break;
	}

	if (!budget)
		siw_tx_schedule(qp);
	else if (rv && rv != -EAGAIN)
		siw_tx_error(qp, rv);

	if (test_bit(SIW_QP_F_FATAL, &qp->flags) && !tx->busy &&
	    !test_bit(SIW_QP_F_TERM_SEND, &qp->flags)) {
		/* In Error now: what was in progress is finished off below. */
		siw_qp_error(qp);
	} else if (READ_ONCE(qp->state) == IB_QPS_SQD && !tx->busy &&
		   !tx->wqe && !tx->rresp) {
		/* Closing: all that was started is out, now send the FIN. */
		siw_qp_llp_close(qp, false);
	}
stop:
	if (!sock || READ_ONCE(qp->state) == IB_QPS_ERR)
		siw_tx_abort(qp);
	siw_qp_reap(qp);
}

/*
 * Becomes the transmitter, or leaves the work to the current one: the
 * TX_AGAIN bit, set before the second try, makes that one run once
 * more. Nobody sleeps on tx_mutex here, so posters racing each other
 * only set a bit.
 */
static bool siw_tx_enter(struct siw_qp *qp)
{
	/*
	 * The bit only when the mutex is taken: a doorbell on an idle QP
	 * then costs one atomic instruction here instead of three, each
	 * many times an ordinary one under emulation (tools/bench --count).
	 * The work posted before must be visible to whoever sees the bit.
	 */
	if (!mutex_trylock(&qp->tx_mutex)) {
		smp_mb__before_atomic();
		set_bit(SIW_QP_F_TX_AGAIN, &qp->flags);
		smp_mb__after_atomic();
		if (!mutex_trylock(&qp->tx_mutex))
			return false;
	}
	/* This run looks at everything asked for before the bit was set. */
	if (test_bit(SIW_QP_F_TX_AGAIN, &qp->flags)) {
		clear_bit(SIW_QP_F_TX_AGAIN, &qp->flags);
		smp_mb__after_atomic();
	}
	return true;
}

/*
 * Pairs with siw_tx_enter(): whoever failed to take tx_mutex set
 * TX_AGAIN before it tried, so either it saw the mutex free or we see
 * the bit. Work asked for meanwhile goes to tx_work.
 */
static void siw_tx_leave(struct siw_qp *qp)
{
	mutex_unlock(&qp->tx_mutex);
	smp_mb();
	if (test_bit(SIW_QP_F_TX_AGAIN, &qp->flags))
		siw_tx_schedule(qp);
}

static void siw_tx_try(struct siw_qp *qp, bool doorbell)
{
	if (!siw_tx_enter(qp))
		return;
	siw_tx_run(qp, doorbell);
	siw_tx_leave(qp);
}

static void siw_tx_work(struct work_struct *work)
{
	siw_tx_try(container_of(work, struct siw_qp, tx_work), false);
}

/*
 * Whether a doorbell should transmit from the poster: only if the peer
 * answered since the previous doorbell and no Read is outstanding, that
 * is if the poster waited for a round trip before it posted again. Its
 * latency is then what counts, and a hand-off to tx_work would add two
 * context switches to it. A poster that rings again without an answer
 * streams: handed over, its transmits run on another CPU while it goes
 * on posting, and it rings no doorbell while tx_work has its earlier
 * requests in hand (4 KiB, ours over the in-tree siw in the same VM:
 * ib_write_bw 1.88 -> 2.49, ib_read_bw 1.15 -> 2.48; ib_write_lat
 * within the noise, where handing every message over made it 176 us
 * against 41; 6.12 under TCG).
 */
static bool siw_tx_answered(struct siw_qp *qp)
{
	u32 in = READ_ONCE(qp->rx.msgs_in);
	bool answered = in != qp->tx_db_msgs_in;

	qp->tx_db_msgs_in = in;
	return answered && READ_ONCE(qp->orq_put) == READ_ONCE(qp->orq_get);
}

/*
 * Whether the poster will wait for the work request this doorbell sends:
 * it asked for its completion and has taken every earlier one. Only
 * then may the doorbell also send what its sends asked of other QPs
 * (siw_tx_lend()), completing a Read on one host before the system call
 * returns. A streaming reader leaves completions in the CQ or posts
 * unsignalled Reads; a Read completed inside its doorbell would look
 * answered to the next one (siw_tx_answered()), and every Read after it
 * would go out and complete in the poster's task, one round trip after
 * another on one CPU (ib_read_bw 4 KiB at 0.67 of the pipelined
 * transfer, 6.12 under TCG).
 */
static bool siw_tx_awaited(struct siw_qp *qp)
{
	u32 slot = READ_ONCE(qp->sq_tx) % qp->num_sqe;

	if (!qp->sq_sig_all &&
	    !(READ_ONCE(qp->sendq[slot].flags) & SIW_ABI_WQE_SIGNALLED))
		return false;
	return !siw_cq_unpolled(qp->scq);
}

/*
 * A user's doorbell, in the posting task, which may sleep. Small
 * messages of a round trip go out from here (siw_tx_answered()); large
 * ones are handed over once started. When the QP has a transmitter
 * already, that one runs again instead.
 *
 * Only a QP that one task rings for transmits from it. Tasks sharing a
 * QP would otherwise take turns at sending each other's requests, and
 * one preempted while it holds the transmitter (posters are often CPU
 * hogs) would hold up all the others until it ran again.
 *
 * What the softirqs of its own sends ask of other transmitters, such as
 * the Read Response of a peer QP on the same host, it sends next
 * (siw_tx_lend()), under the same limit on size.
 */
static void siw_tx_now(struct siw_qp *qp)
{
	struct siw_tx_lender lender;
	unsigned int i;

	/* Plain accesses: two tasks racing here both hand over anyway. */
	if (READ_ONCE(qp->tx_poster) != current) {
		WRITE_ONCE(qp->tx_poster, current);
		siw_tx_schedule(qp);
		return;
	}
	if (!siw_tx_answered(qp)) {
		siw_tx_schedule(qp);
		return;
	}
	if (!siw_tx_awaited(qp)) {
		siw_tx_try(qp, true);
		return;
	}
	siw_tx_lend_begin(&lender);
	siw_tx_try(qp, true);
	siw_tx_lend_end(&lender);

	for (i = 0; i < lender.taken; i++) {
		siw_stat_add(lender.qp[i]->sdev, SIW_STAT_TX_LENT, 1);
		siw_tx_try(lender.qp[i], true);
		siw_qp_put(lender.qp[i]);
	}
}

/*
 * post_send of a user QP, whose work requests are in the mapped SQ: the
 * system call is only the doorbell.
 */
void siw_tx_doorbell(struct siw_qp *qp)
{
	if (READ_ONCE(qp->state) == IB_QPS_RTS)
		siw_tx_now(qp);
	else
		siw_qp_kick(qp);
}

/*
 * Keeps the transmitter from running until siw_tx_unhold(): whoever asks
 * for it meanwhile leaves TX_AGAIN behind (siw_tx_enter()), and the work
 * is done then. The connection manager holds it while it sends the MPA
 * Reply on a stream the QP already owns.
 */
void siw_tx_hold(struct siw_qp *qp)
{
	mutex_lock(&qp->tx_mutex);
}

void siw_tx_unhold(struct siw_qp *qp)
{
	siw_tx_leave(qp);
}

/*
 * The socket is gone (or the QP is) and tx_work flushed: wait out a
 * doorbell still transmitting, then finish off what was in progress.
 */
void siw_tx_stop(struct siw_qp *qp)
{
	mutex_lock(&qp->tx_mutex);
	siw_tx_abort(qp);
	mutex_unlock(&qp->tx_mutex);
}
