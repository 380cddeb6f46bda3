// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * iWARP wire codec: building and checking MPA, DDP and RDMAP headers.
 *
 * Pure functions over caller buffers, without allocation, locking or
 * logging, so that the same file builds into siw.ko and into the user
 * space unit tests and fuzz target. Nothing here reads past the length
 * it is given: parsers report how many bytes they need instead.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#endif

#include "siw_wire.h"

const struct siw_rdmap_op siw_rdmap_ops[SIW_RDMAP_NUM_OPCODES] = {
	[SIW_RDMAP_WRITE] = {
		.tagged = 1,
		.hdr_len = sizeof(struct siw_fpdu_tagged),
		.payload = 1,
	},
	[SIW_RDMAP_READ_REQ] = {
		.qn = SIW_DDP_QN_READ_REQ,
		.hdr_len = sizeof(struct siw_fpdu_read_req),
		.single = 1,
	},
	[SIW_RDMAP_READ_RESP] = {
		.tagged = 1,
		.hdr_len = sizeof(struct siw_fpdu_tagged),
		.payload = 1,
	},
	[SIW_RDMAP_SEND] = {
		.qn = SIW_DDP_QN_SEND,
		.hdr_len = sizeof(struct siw_fpdu_send),
		.payload = 1,
	},
	[SIW_RDMAP_SEND_INV] = {
		.qn = SIW_DDP_QN_SEND,
		.hdr_len = sizeof(struct siw_fpdu_send),
		.payload = 1,
		.inval = 1,
	},
	[SIW_RDMAP_SEND_SE] = {
		.qn = SIW_DDP_QN_SEND,
		.hdr_len = sizeof(struct siw_fpdu_send),
		.payload = 1,
	},
	[SIW_RDMAP_SEND_SE_INV] = {
		.qn = SIW_DDP_QN_SEND,
		.hdr_len = sizeof(struct siw_fpdu_send),
		.payload = 1,
		.inval = 1,
	},
	/* The copied headers after the Terminate control word are payload. */
	[SIW_RDMAP_TERMINATE] = {
		.qn = SIW_DDP_QN_TERMINATE,
		.hdr_len = sizeof(struct siw_fpdu_term),
		.payload = 1,
		.single = 1,
	},
};

static __u32 siw_min_u32(__u32 a, __u32 b)
{
	return a < b ? a : b;
}

/* ---- MPA ------------------------------------------------------------ */

static int siw_mpa_build(void *buf, __u32 size, const char *key,
			 __u32 allowed, const struct siw_mpa_info *info)
{
	struct siw_mpa_rr *rr = buf;
	__u32 enhanced = info->flags & SIW_MPA_ENHANCED;
	__u32 pd_len = info->pd_len;
	__u8 *pd;

	if (info->flags & ~allowed)
		return -EINVAL;
	if (info->rev != SIW_MPA_REV_1 && info->rev != SIW_MPA_REV_2)
		return -EINVAL;
	if (enhanced) {
		if (info->rev != SIW_MPA_REV_2 ||
		    info->ird > SIW_MPA_V2_IRD_ORD_MAX ||
		    info->ord > SIW_MPA_V2_IRD_ORD_MAX ||
		    (info->rtr & ~SIW_MPA_RTR_ALL))
			return -EINVAL;
		pd_len += sizeof(struct siw_mpa_v2);
	} else if ((info->flags & SIW_MPA_P2P) || info->rtr || info->ird ||
		   info->ord) {
		/* Without the enhanced word they could not be sent. */
		return -EINVAL;
	}
	if (info->pd_len && !info->pd)
		return -EINVAL;
	if (pd_len > SIW_MPA_MAX_PRIVATE_DATA)
		return -E2BIG;
	if (size < sizeof(*rr) + pd_len)
		return -ENOSPC;

	memcpy(rr->key, key, SIW_MPA_KEY_LEN);
	rr->flags = 0;
	if (info->flags & SIW_MPA_CRC)
		rr->flags |= SIW_MPA_FLAG_C;
	if (info->flags & SIW_MPA_REJECT)
		rr->flags |= SIW_MPA_FLAG_R;
	if (enhanced)
		rr->flags |= SIW_MPA_FLAG_ENHANCED;
	if (info->flags & SIW_MPA_LARGE_FPDU)
		rr->flags |= SIW_MPA_FLAG_LARGE_FPDU;
	rr->rev = info->rev;
	rr->pd_len = siw_cpu_to_be16(pd_len);

	pd = (__u8 *)(rr + 1);
	if (enhanced) {
		struct siw_mpa_v2 *v2 = (struct siw_mpa_v2 *)pd;
		__u16 ird = info->ird, ord = info->ord;

		if (info->flags & SIW_MPA_P2P)
			ird |= SIW_MPA_V2_P2P;
		if (info->rtr & SIW_MPA_RTR_SEND)
			ird |= SIW_MPA_V2_RTR_SEND;
		if (info->rtr & SIW_MPA_RTR_WRITE)
			ord |= SIW_MPA_V2_RTR_WRITE;
		if (info->rtr & SIW_MPA_RTR_READ)
			ord |= SIW_MPA_V2_RTR_READ;
		v2->ird = siw_cpu_to_be16(ird);
		v2->ord = siw_cpu_to_be16(ord);
		pd += sizeof(*v2);
	}
	if (info->pd_len)
		memcpy(pd, info->pd, info->pd_len);

	return sizeof(*rr) + pd_len;
}

/*
 * Returns the frame length, -EINVAL for parameters that cannot be sent
 * (unknown flags, revision, IRD/ORD range, enhanced fields without the
 * enhanced word, Reject in a Request),
 * -E2BIG for too much private data, -ENOSPC if buf is too small.
 */
int siw_mpa_req_build(void *buf, __u32 size, const struct siw_mpa_info *info)
{
	return siw_mpa_build(buf, size, SIW_MPA_KEY_REQ,
			     SIW_MPA_CRC | SIW_MPA_ENHANCED | SIW_MPA_P2P |
			     SIW_MPA_LARGE_FPDU, info);
}

int siw_mpa_rep_build(void *buf, __u32 size, const struct siw_mpa_info *info)
{
	return siw_mpa_build(buf, size, SIW_MPA_KEY_REP,
			     SIW_MPA_CRC | SIW_MPA_REJECT | SIW_MPA_ENHANCED |
			     SIW_MPA_P2P | SIW_MPA_LARGE_FPDU, info);
}

/*
 * Checks what of a Request or Reply has arrived so far. Returns the
 * length of the whole frame; if that is more than len, the frame is
 * incomplete (nothing wrong seen yet) and info is untouched. Otherwise
 * info describes the frame, its private data pointing into buf.
 * Errors: -EPROTO for a wrong key, PD_Length over 512 or a missing
 * enhanced word, -EOPNOTSUPP for a revision other than 1 and 2 (RFC 5044
 * lets the responder answer that with its own revision), and
 * -EPROTONOSUPPORT for a peer that requires markers.
 */
int siw_mpa_parse(const void *buf, __u32 len, enum siw_mpa_kind kind,
		  struct siw_mpa_info *info)
{
	const struct siw_mpa_rr *rr = buf;
	const __u8 *p = buf;
	const char *key = kind == SIW_MPA_REQUEST ? SIW_MPA_KEY_REQ :
						    SIW_MPA_KEY_REP;
	__u32 pd_len, need;
	__u8 flags;

	/* Judge each byte as it comes, so garbage fails before a timeout. */
	if (memcmp(p, key, siw_min_u32(len, SIW_MPA_KEY_LEN)))
		return -EPROTO;
	if (len > SIW_MPA_KEY_LEN && (p[SIW_MPA_KEY_LEN] & SIW_MPA_FLAG_M))
		return -EPROTONOSUPPORT;
	if (len > SIW_MPA_KEY_LEN + 1 && p[SIW_MPA_KEY_LEN + 1] != SIW_MPA_REV_1 &&
	    p[SIW_MPA_KEY_LEN + 1] != SIW_MPA_REV_2)
		return -EOPNOTSUPP;
	if (len < sizeof(*rr))
		return sizeof(*rr);

	pd_len = siw_be16_to_cpu(rr->pd_len);
	if (pd_len > SIW_MPA_MAX_PRIVATE_DATA)
		return -EPROTO;
	flags = rr->flags;
	if (rr->rev != SIW_MPA_REV_2)
		flags &= ~SIW_MPA_FLAG_ENHANCED;
	if ((flags & SIW_MPA_FLAG_ENHANCED) && pd_len < sizeof(struct siw_mpa_v2))
		return -EPROTO;
	need = sizeof(*rr) + pd_len;
	if (len < need)
		return need;

	info->flags = 0;
	if (flags & SIW_MPA_FLAG_C)
		info->flags |= SIW_MPA_CRC;
	if (kind == SIW_MPA_REPLY && (flags & SIW_MPA_FLAG_R))
		info->flags |= SIW_MPA_REJECT;
	if (flags & SIW_MPA_FLAG_LARGE_FPDU)
		info->flags |= SIW_MPA_LARGE_FPDU;
	info->rev = rr->rev;
	info->rtr = 0;
	info->ird = 0;
	info->ord = 0;
	info->pd = rr + 1;
	info->pd_len = pd_len;
	if (flags & SIW_MPA_FLAG_ENHANCED) {
		const struct siw_mpa_v2 *v2 = info->pd;
		__u16 ird = siw_be16_to_cpu(v2->ird);
		__u16 ord = siw_be16_to_cpu(v2->ord);

		info->flags |= SIW_MPA_ENHANCED;
		if (ird & SIW_MPA_V2_P2P)
			info->flags |= SIW_MPA_P2P;
		if (ird & SIW_MPA_V2_RTR_SEND)
			info->rtr |= SIW_MPA_RTR_SEND;
		if (ord & SIW_MPA_V2_RTR_WRITE)
			info->rtr |= SIW_MPA_RTR_WRITE;
		if (ord & SIW_MPA_V2_RTR_READ)
			info->rtr |= SIW_MPA_RTR_READ;
		info->ird = ird & SIW_MPA_V2_IRD_ORD_MAX;
		info->ord = ord & SIW_MPA_V2_IRD_ORD_MAX;
		info->pd = v2 + 1;
		info->pd_len = pd_len - sizeof(*v2);
	}
	return need;
}

/*
 * RFC 6581 outcome of a Request (the initiator's offer) and a Reply (the
 * responder's answer, or its local limits when it is deciding what to
 * answer: the result is the same, so both ends agree).
 *
 * Neither side may have more reads outstanding than the other accepts,
 * so each ORD is cut to the peer's IRD; an IRD is what its owner offered.
 * Peer-to-peer mode needs both P flags. The RTR message is the first in
 * both sets, in the order zero-length Write, Read, Send: a Write uses no
 * resource at the responder, a Read an IRD slot and ORD credit (so only
 * when the initiator's ORD is still at least one), a Send a posted
 * receive buffer the responder's application must provide. Returns
 * -EPROTO if peer-to-peer mode is on with no RTR type in common.
 */
int siw_mpa_negotiate(const struct siw_mpa_info *req,
		      const struct siw_mpa_info *rep, struct siw_mpa_nego *out)
{
	__u8 common;

	out->init_ird = req->ird;
	out->init_ord = req->ord;
	out->resp_ird = rep->ird;
	out->resp_ord = rep->ord;
	out->rev = rep->rev;
	out->crc = !!((req->flags | rep->flags) & SIW_MPA_CRC);
	out->large_fpdu = !!(req->flags & rep->flags & SIW_MPA_LARGE_FPDU);
	out->p2p = 0;
	out->rtr = 0;
	if (!(req->flags & rep->flags & SIW_MPA_ENHANCED))
		return 0;

	out->init_ord = siw_min_u32(req->ord, rep->ird);
	out->resp_ord = siw_min_u32(rep->ord, req->ird);
	if (!(req->flags & rep->flags & SIW_MPA_P2P))
		return 0;

	common = req->rtr & rep->rtr;
	if (!out->init_ord)
		common &= ~SIW_MPA_RTR_READ;
	if (common & SIW_MPA_RTR_WRITE)
		out->rtr = SIW_MPA_RTR_WRITE;
	else if (common & SIW_MPA_RTR_READ)
		out->rtr = SIW_MPA_RTR_READ;
	else if (common & SIW_MPA_RTR_SEND)
		out->rtr = SIW_MPA_RTR_SEND;
	else
		return -EPROTO;
	out->p2p = 1;
	return 0;
}

/* ---- DDP / RDMAP ---------------------------------------------------- */

static int siw_term(struct siw_term_reason *why, __u8 layer, __u8 etype,
		    __u8 ecode)
{
	why->layer = layer;
	why->etype = etype;
	why->ecode = ecode;
	return -EPROTO;
}

static int siw_rdmap_op_error(struct siw_term_reason *why, __u8 ecode)
{
	return siw_term(why, SIW_TERM_LAYER_RDMAP, SIW_RDMAP_ETYPE_REMOTE_OP,
			ecode);
}

/*
 * Checks the headers of a DDP segment. buf holds what follows the MPA
 * ULPDU_Length field, len bytes of it so far; ulpdu_len is that field.
 * Returns the header length (excluding ULPDU_Length); if more than len,
 * that many bytes are needed before the headers can be judged, and info
 * is untouched. On success info describes the segment. On a violation
 * returns -EPROTO with the TERMINATE reason the RFCs prescribe in *why.
 *
 * Checked here: DDP and RDMAP versions, the opcode and its buffer model,
 * queue number, the Last flag and zero MO of single-segment messages,
 * and that the ULPDU holds the headers (exactly, for a Read Request).
 * Left to the receiver, which has the state: MSN, STag and TO, buffers.
 */
int siw_ddp_parse_hdr(const void *buf, __u32 len, __u16 ulpdu_len,
		      struct siw_ddp_info *info, struct siw_term_reason *why)
{
	const struct siw_ddp_ctrl *ctrl = buf;
	const struct siw_rdmap_op *op;
	__u32 need, qn = 0;
	__u8 tagged, opcode;

	if (len < sizeof(*ctrl))
		return sizeof(*ctrl);

	tagged = !!(ctrl->ddp & SIW_DDP_T);
	if ((ctrl->ddp & SIW_DDP_DV_MASK) != SIW_DDP_VERSION) {
		if (tagged)
			return siw_term(why, SIW_TERM_LAYER_DDP,
					SIW_DDP_ETYPE_TAGGED,
					SIW_DDP_TAGGED_ECODE_VERSION);
		return siw_term(why, SIW_TERM_LAYER_DDP, SIW_DDP_ETYPE_UNTAGGED,
				SIW_DDP_UNTAGGED_ECODE_VERSION);
	}
	if (ctrl->rdmap >> SIW_RDMAP_RV_SHIFT != SIW_RDMAP_VERSION)
		return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_VERSION);

	opcode = ctrl->rdmap & SIW_RDMAP_OPCODE_MASK;
	if (opcode >= SIW_RDMAP_NUM_OPCODES)
		return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_OPCODE);
	op = &siw_rdmap_ops[opcode];
	if (op->tagged != tagged)
		return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_OPCODE);
	/* RDMAP has no code for a split Read Request or Terminate. */
	if (op->single && !(ctrl->ddp & SIW_DDP_L))
		return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_UNSPECIFIED);

	need = op->hdr_len - SIW_MPA_LEN_SIZE;
	if (ulpdu_len < need || (!op->payload && ulpdu_len != need))
		return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_UNSPECIFIED);
	if (len < need)
		return need;

	if (!tagged) {
		const struct siw_ddp_untagged *u = buf;

		qn = siw_be32_to_cpu(u->qn);
		if (qn >= SIW_DDP_NUM_QN)
			return siw_term(why, SIW_TERM_LAYER_DDP,
					SIW_DDP_ETYPE_UNTAGGED,
					SIW_DDP_UNTAGGED_ECODE_QN);
		/* A known queue, but RDMAP expects this opcode elsewhere. */
		if (qn != op->qn)
			return siw_rdmap_op_error(why, SIW_RDMAP_ECODE_OPCODE);
		if (op->single && u->mo)
			return siw_term(why, SIW_TERM_LAYER_DDP,
					SIW_DDP_ETYPE_UNTAGGED,
					SIW_DDP_UNTAGGED_ECODE_MO);
	}

	memset(info, 0, sizeof(*info));
	info->opcode = opcode;
	info->tagged = tagged;
	info->last = !!(ctrl->ddp & SIW_DDP_L);
	info->payload_len = ulpdu_len - need;
	if (tagged) {
		const struct siw_ddp_tagged *t = buf;

		info->stag = siw_be32_to_cpu(t->stag);
		info->to = siw_be64_to_cpu(t->to);
	} else {
		const struct siw_ddp_untagged *u = buf;

		info->qn = qn;
		info->msn = siw_be32_to_cpu(u->msn);
		info->mo = siw_be32_to_cpu(u->mo);
		if (op->inval)
			info->inval_stag = siw_be32_to_cpu(u->rsvd_ulp);
	}

	if (opcode == SIW_RDMAP_READ_REQ) {
		const struct siw_rdmap_read_req *rr = (const void *)
			((const __u8 *)buf + sizeof(struct siw_ddp_untagged));

		info->rreq.sink_stag = siw_be32_to_cpu(rr->sink_stag);
		info->rreq.sink_to = siw_be64_to_cpu(rr->sink_to);
		info->rreq.size = siw_be32_to_cpu(rr->size);
		info->rreq.src_stag = siw_be32_to_cpu(rr->src_stag);
		info->rreq.src_to = siw_be64_to_cpu(rr->src_to);
	} else if (opcode == SIW_RDMAP_TERMINATE) {
		const struct siw_rdmap_term *term = (const void *)
			((const __u8 *)buf + sizeof(struct siw_ddp_untagged));

		info->term.layer = term->layer_etype >> 4;
		info->term.etype = term->layer_etype & 0x0f;
		info->term.ecode = term->ecode;
		info->term_hdrct = siw_be16_to_cpu(term->hdrct) &
				   SIW_TERM_HDRCT_MASK;
	}
	return need;
}

static int siw_ddp_build_check(__u32 size, const struct siw_ddp_info *info,
			       __u8 tagged)
{
	const struct siw_rdmap_op *op;
	__u32 hdr_len;

	if (info->opcode >= SIW_RDMAP_NUM_OPCODES)
		return -EINVAL;
	op = &siw_rdmap_ops[info->opcode];
	hdr_len = op->hdr_len;
	if (op->tagged != tagged)
		return -EINVAL;
	if (info->payload_len >
	    SIW_MPA_ULPDU_MAX - (hdr_len - SIW_MPA_LEN_SIZE) ||
	    (!op->payload && info->payload_len))
		return -EINVAL;
	if (size < hdr_len)
		return -ENOSPC;
	return hdr_len;
}

static void siw_ddp_build_ctrl(struct siw_ddp_ctrl *ctrl,
			       const struct siw_ddp_info *info, __u8 tagged)
{
	ctrl->ddp = SIW_DDP_VERSION;
	if (tagged)
		ctrl->ddp |= SIW_DDP_T;
	if (info->last)
		ctrl->ddp |= SIW_DDP_L;
	ctrl->rdmap = SIW_RDMAP_VERSION << SIW_RDMAP_RV_SHIFT | info->opcode;
}

/*
 * Writes ULPDU_Length and the headers of a Write or Read Response
 * segment carrying info->payload_len bytes. Returns the header length,
 * -EINVAL for another opcode or a payload ULPDU_Length cannot describe,
 * -ENOSPC if buf is too small.
 */
int siw_ddp_build_tagged(void *buf, __u32 size,
			 const struct siw_ddp_info *info)
{
	struct siw_fpdu_tagged *f = buf;
	int hdr_len = siw_ddp_build_check(size, info, 1);

	if (hdr_len < 0)
		return hdr_len;
	f->mpa_len = siw_cpu_to_be16(hdr_len - SIW_MPA_LEN_SIZE +
				     info->payload_len);
	siw_ddp_build_ctrl(&f->ddp.ctrl, info, 1);
	f->ddp.stag = siw_cpu_to_be32(info->stag);
	f->ddp.to = siw_cpu_to_be64(info->to);
	return hdr_len;
}

void siw_rdmap_build_read_req(struct siw_rdmap_read_req *wire,
			      const struct siw_read_req *rreq)
{
	wire->sink_stag = siw_cpu_to_be32(rreq->sink_stag);
	wire->sink_to = siw_cpu_to_be64(rreq->sink_to);
	wire->size = siw_cpu_to_be32(rreq->size);
	wire->src_stag = siw_cpu_to_be32(rreq->src_stag);
	wire->src_to = siw_cpu_to_be64(rreq->src_to);
}

/*
 * Writes ULPDU_Length and the headers of an untagged segment: the queue
 * number follows from the opcode, a Read Request gets info->rreq and a
 * Terminate info->term and info->term_hdrct (the copied headers are its
 * payload, see siw_term_build()). Returns the header length, -EINVAL for
 * a tagged opcode, an Invalidate STag on an opcode without one, a
 * single-segment message without L or with MO, or a bad payload length,
 * -ENOSPC if buf is too small.
 */
int siw_ddp_build_untagged(void *buf, __u32 size,
			   const struct siw_ddp_info *info)
{
	struct siw_fpdu_send *f = buf;
	const struct siw_rdmap_op *op;
	int hdr_len = siw_ddp_build_check(size, info, 0);

	if (hdr_len < 0)
		return hdr_len;
	op = &siw_rdmap_ops[info->opcode];
	if ((!op->inval && info->inval_stag) ||
	    (op->single && (!info->last || info->mo)))
		return -EINVAL;

	f->mpa_len = siw_cpu_to_be16(hdr_len - SIW_MPA_LEN_SIZE +
				     info->payload_len);
	siw_ddp_build_ctrl(&f->ddp.ctrl, info, 0);
	f->ddp.rsvd_ulp = siw_cpu_to_be32(info->inval_stag);
	f->ddp.qn = siw_cpu_to_be32(op->qn);
	f->ddp.msn = siw_cpu_to_be32(info->msn);
	f->ddp.mo = siw_cpu_to_be32(info->mo);

	if (info->opcode == SIW_RDMAP_READ_REQ) {
		struct siw_fpdu_read_req *r = buf;

		siw_rdmap_build_read_req(&r->rreq, &info->rreq);
	} else if (info->opcode == SIW_RDMAP_TERMINATE) {
		struct siw_fpdu_term *t = buf;

		t->term.layer_etype = info->term.layer << 4 |
				      (info->term.etype & 0x0f);
		t->term.ecode = info->term.ecode;
		t->term.hdrct = siw_cpu_to_be16(info->term_hdrct &
						SIW_TERM_HDRCT_MASK);
	}
	return hdr_len;
}

/*
 * Builds a whole Terminate message (ULPDU_Length through the copied
 * headers; pad and CRC are the sender's) with message number msn on
 * queue 2. fpdu, if not NULL, is the offending FPDU from its
 * ULPDU_Length field on, fpdu_len bytes of it: its segment length and
 * DDP header are copied when complete (M and D), and its Read Request
 * header too if it is one (R), as RFC 5040 section 4.8 asks. Returns the
 * message length or -ENOSPC; SIW_TERM_MAX_LEN always suffices.
 */
int siw_term_build(void *buf, __u32 size, __u32 msn,
		   const struct siw_term_reason *why,
		   const void *fpdu, __u32 fpdu_len)
{
	const __u8 *p = fpdu;
	struct siw_ddp_info info = {
		.opcode = SIW_RDMAP_TERMINATE,
		.last = 1,
		.msn = msn,
		.term = *why,
	};
	__u32 copy = 0;
	int hdr_len;

	if (p && fpdu_len >= sizeof(struct siw_fpdu_tagged)) {
		const struct siw_ddp_ctrl *ctrl =
			(const void *)(p + SIW_MPA_LEN_SIZE);

		if (ctrl->ddp & SIW_DDP_T) {
			copy = sizeof(struct siw_fpdu_tagged);
		} else if (fpdu_len >= sizeof(struct siw_fpdu_send)) {
			copy = sizeof(struct siw_fpdu_send);
			if ((ctrl->rdmap & SIW_RDMAP_OPCODE_MASK) ==
			    SIW_RDMAP_READ_REQ &&
			    fpdu_len >= sizeof(struct siw_fpdu_read_req)) {
				copy = sizeof(struct siw_fpdu_read_req);
				info.term_hdrct |= SIW_TERM_HDRCT_R;
			}
		}
		if (copy)
			info.term_hdrct |= SIW_TERM_HDRCT_M | SIW_TERM_HDRCT_D;
	}
	info.payload_len = copy;

	hdr_len = siw_ddp_build_untagged(buf, size, &info);
	if (hdr_len < 0)
		return hdr_len;
	if (size < hdr_len + copy)
		return -ENOSPC;
	if (copy)
		memcpy((__u8 *)buf + hdr_len, p, copy);
	return hdr_len + copy;
}

/*
 * Largest payload of one segment of opcode that keeps the FPDU (length
 * field, headers, payload, pad, CRC) within mss bytes, and within what
 * ULPDU_Length can count; 0 for an opcode without payload or an mss too
 * small. The headers are multiples of 4 bytes, so rounding the room
 * left for them and the payload down to 4 bytes leaves space for the pad.
 */
__u32 siw_fpdu_max_payload(__u32 mss, unsigned int opcode)
{
	__u32 hdr_len, room;

	if (opcode >= SIW_RDMAP_NUM_OPCODES || !siw_rdmap_ops[opcode].payload)
		return 0;
	hdr_len = siw_rdmap_ops[opcode].hdr_len;
	if (mss < hdr_len + SIW_MPA_CRC_SIZE)
		return 0;
	room = ((mss - SIW_MPA_CRC_SIZE) & ~3u) - hdr_len;
	return siw_min_u32(room, SIW_MPA_ULPDU_MAX -
				 (hdr_len - SIW_MPA_LEN_SIZE));
}

/*
 * What an FPDU may take where both sides offered large FPDUs: gso_segs
 * whole segments of mss bytes (at least one), so that FPDUs still start
 * on segment boundaries, but no more segments than an FPDU with the
 * largest ULPDU_Length fills.
 */
__u32 siw_fpdu_large_bytes(__u32 mss, __u32 gso_segs)
{
	__u32 most;

	if (!mss)
		return 0;
	most = (SIW_MPA_LEN_SIZE + SIW_MPA_ULPDU_MAX + SIW_MPA_CRC_SIZE) / mss;
	if (!most)
		return mss;
	return siw_min_u32(gso_segs ? gso_segs : 1, most) * mss;
}
