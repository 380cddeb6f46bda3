// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * ib_device_ops entry points: validate what the consumer asks for
 * against the limits in siw_limits.h, then call into the object layers.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/log2.h>
#include <linux/slab.h>
#include <rdma/ib_verbs.h>
#include <rdma/iw_cm.h>
#include <rdma/restrack.h>
#include <rdma/uverbs_ioctl.h>

#include "siw.h"

static int siw_query_device(struct ib_device *ibdev,
			    struct ib_device_attr *attr, struct ib_udata *udata)
{
	struct siw_device *sdev = to_siw_dev(ibdev);

	if (udata && (udata->inlen || udata->outlen))
		return -EINVAL;

	memset(attr, 0, sizeof(*attr));
	attr->fw_ver = (u64)SIW_FW_MAJOR << 32 | SIW_FW_MINOR << 16 |
		       SIW_FW_SUBMINOR;
	attr->sys_image_guid = sdev->base_dev.node_guid;
	attr->max_mr_size = SIW_MAX_MR_SIZE;
	attr->page_size_cap = PAGE_SIZE;
	attr->vendor_id = SIW_VENDOR_ID;
	attr->vendor_part_id = SIW_VENDOR_PART_ID;
	attr->max_qp = SIW_MAX_QP;
	attr->max_qp_wr = SIW_MAX_QP_WR;
	attr->device_cap_flags = IB_DEVICE_MEM_MGT_EXTENSIONS;
	attr->kernel_cap_flags = IBK_ALLOW_USER_UNREG;
	attr->max_send_sge = SIW_MAX_SEND_SGE;
	attr->max_recv_sge = SIW_MAX_RECV_SGE;
	attr->max_sge_rd = SIW_MAX_SGE_RD;
	attr->max_cq = SIW_MAX_CQ;
	attr->max_cqe = SIW_MAX_CQE;
	attr->max_mr = SIW_MAX_MR;
	attr->max_pd = SIW_MAX_PD;
	attr->max_qp_rd_atom = SIW_MAX_IRD;
	attr->max_qp_init_rd_atom = SIW_MAX_ORD;
	attr->max_res_rd_atom = SIW_MAX_QP * SIW_MAX_IRD;
	attr->max_srq = SIW_MAX_SRQ;
	attr->max_srq_wr = SIW_MAX_SRQ_WR;
	attr->max_srq_sge = SIW_MAX_RECV_SGE;
	attr->max_fast_reg_page_list_len = SIW_MAX_FRMR_PAGES;
	attr->max_pkeys = 1;
	attr->atomic_cap = IB_ATOMIC_NONE;
	return 0;
}

/*
 * IB speed and width closest to the interface's link speed. Virtual
 * interfaces (lo, dummy, veth) have none; they are reported as 1 Gb/s
 * like the RDMA core does, but without its log line on every query.
 */
static void siw_port_speed(struct net_device *netdev, u16 *speed, u8 *width)
{
	static const struct {
		u32 mbps;
		u16 speed;
		u8 width;
	} map[] = {
		{ 2500, IB_SPEED_SDR, IB_WIDTH_1X },
		{ 5000, IB_SPEED_DDR, IB_WIDTH_1X },
		{ 10000, IB_SPEED_QDR, IB_WIDTH_1X },
		{ 20000, IB_SPEED_DDR, IB_WIDTH_4X },
		{ 25000, IB_SPEED_EDR, IB_WIDTH_1X },
		{ 40000, IB_SPEED_QDR, IB_WIDTH_4X },
		{ 50000, IB_SPEED_HDR, IB_WIDTH_1X },
		{ 100000, IB_SPEED_EDR, IB_WIDTH_4X },
		{ 200000, IB_SPEED_HDR, IB_WIDTH_4X },
		{ U32_MAX, IB_SPEED_NDR, IB_WIDTH_4X },
	};
	struct ethtool_link_ksettings lks;
	u32 mbps = 1000;
	int i;

	rtnl_lock();
	if (!__ethtool_get_link_ksettings(netdev, &lks) &&
	    lks.base.speed != (u32)SPEED_UNKNOWN && lks.base.speed)
		mbps = lks.base.speed;
	rtnl_unlock();

	for (i = 0; mbps > map[i].mbps; i++)
		;
	*speed = map[i].speed;
	*width = map[i].width;
}

static int siw_query_port(struct ib_device *ibdev, u32 port,
			  struct ib_port_attr *attr)
{
	struct siw_device *sdev = to_siw_dev(ibdev);

	siw_port_speed(sdev->netdev, &attr->active_speed,
		       &attr->active_width);
	attr->state = READ_ONCE(sdev->port_state);
	attr->phys_state = attr->state == IB_PORT_ACTIVE ?
			   IB_PORT_PHYS_STATE_LINK_UP : IB_PORT_PHYS_STATE_DISABLED;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = ib_mtu_int_to_enum(READ_ONCE(sdev->netdev->mtu));
	attr->gid_tbl_len = 1;
	attr->pkey_tbl_len = 1;
	attr->port_cap_flags = IB_PORT_CM_SUP | IB_PORT_DEVICE_MGMT_SUP;
	attr->max_msg_sz = SIW_MAX_MSG_SIZE;
	attr->max_vl_num = 1;
	return 0;
}

static int siw_get_port_immutable(struct ib_device *ibdev, u32 port,
				  struct ib_port_immutable *immutable)
{
	immutable->gid_tbl_len = 1;
	immutable->pkey_tbl_len = 1;
	immutable->core_cap_flags = RDMA_CORE_PORT_IWARP;
	return 0;
}

/* iWARP has no GID table: the one GID is the interface's MAC address. */
static int siw_query_gid(struct ib_device *ibdev, u32 port, int index,
			 union ib_gid *gid)
{
	struct siw_device *sdev = to_siw_dev(ibdev);

	if (index)
		return -EINVAL;
	memset(gid, 0, sizeof(*gid));
	ether_addr_copy(gid->raw, sdev->netdev->dev_addr);
	return 0;
}

static int siw_query_pkey(struct ib_device *ibdev, u32 port, u16 index,
			  u16 *pkey)
{
	if (index)
		return -EINVAL;
	*pkey = 0xffff;
	return 0;
}

static int siw_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata)
{
	struct siw_device *sdev = to_siw_dev(uctx->device);
	struct siw_abi_resp_alloc_ctx resp = {
		.dev_id = sdev->base_dev.index,
	};
	int rv;

	if (atomic_inc_return(&sdev->num_ctx) > SIW_MAX_CTX) {
		rv = -ENOMEM;
		goto err;
	}
	if (udata->outlen < sizeof(resp)) {
		rv = -EINVAL;
		goto err;
	}
	rv = ib_copy_to_udata(udata, &resp, sizeof(resp));
	if (rv)
		goto err;
	return 0;
err:
	atomic_dec(&sdev->num_ctx);
	return rv;
}

static void siw_dealloc_ucontext(struct ib_ucontext *uctx)
{
	atomic_dec(&to_siw_dev(uctx->device)->num_ctx);
}

/*
 * The device is going away under a live process. Providing this lets the
 * core destroy the process's objects and finish unregistering instead of
 * waiting for the process to exit. Nothing is left to tear down here:
 * queue mappings stay safe because their pages are reference counted,
 * so the process merely keeps memory that no device reads any more.
 */
static void siw_disassociate_ucontext(struct ib_ucontext *uctx)
{
}

static int siw_alloc_pd(struct ib_pd *pd, struct ib_udata *udata)
{
	struct siw_device *sdev = to_siw_dev(pd->device);

	if (atomic_inc_return(&sdev->num_pd) > SIW_MAX_PD) {
		atomic_dec(&sdev->num_pd);
		return -ENOMEM;
	}
	return 0;
}

static int siw_dealloc_pd(struct ib_pd *pd, struct ib_udata *udata)
{
	atomic_dec(&to_siw_dev(pd->device)->num_pd);
	return 0;
}

static int siw_create_cq(struct ib_cq *ibcq, const struct ib_cq_init_attr *attr,
			 SIW_CREATE_CQ_UARG)
{
	struct ib_udata *udata = siw_create_cq_udata(uarg);
	struct siw_device *sdev = to_siw_dev(ibcq->device);
	struct siw_cq *cq = to_siw_cq(ibcq);
	struct siw_abi_resp_create_cq resp = {};
	u64 key = SIW_ABI_INVAL_UOBJ_KEY;
	u32 num_cqe;
	int rv;

	if (attr->flags)
		return -EOPNOTSUPP;
	if (attr->cqe < 1 || attr->cqe > SIW_MAX_CQE)
		return -EINVAL;
	if (attr->comp_vector >= ibcq->device->num_comp_vectors)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&sdev->num_cq) > SIW_MAX_CQ) {
		rv = -ENOMEM;
		goto err_count;
	}

	num_cqe = roundup_pow_of_two(attr->cqe);
	rv = siw_cq_init(cq, num_cqe, udata, &key);
	if (rv)
		goto err_count;
	ibcq->cqe = num_cqe;

	if (udata) {
		resp.cq_id = atomic_inc_return(&sdev->cq_id_next);
		resp.num_cqe = num_cqe;
		resp.cq_key = key;
		rv = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (rv)
			goto err_cq;
	}
	return 0;

err_cq:
	siw_cq_fini(cq);
err_count:
	atomic_dec(&sdev->num_cq);
	return rv;
}

static int siw_destroy_cq(struct ib_cq *ibcq, struct ib_udata *udata)
{
	siw_cq_fini(to_siw_cq(ibcq));
	atomic_dec(&to_siw_dev(ibcq->device)->num_cq);
	return 0;
}

/*
 * Kernel CQs only. A user CQ's ring is the process's to write, so what
 * it holds (qp_ptr among it) means nothing to the kernel: user space
 * polls it itself and the POLL_CQ command gets no answer from the ring.
 */
static int siw_poll_cq(struct ib_cq *ibcq, int num, struct ib_wc *wc)
{
	struct siw_cq *cq = to_siw_cq(ibcq);

	if (cq->user)
		return -EOPNOTSUPP;
	return siw_cq_poll(cq, num, wc);
}

static int siw_req_notify_cq(struct ib_cq *ibcq, enum ib_cq_notify_flags flags)
{
	return siw_cq_arm(to_siw_cq(ibcq), flags);
}

static int siw_create_srq(struct ib_srq *ibsrq,
			  struct ib_srq_init_attr *init_attr,
			  struct ib_udata *udata)
{
	struct siw_device *sdev = to_siw_dev(ibsrq->device);
	struct siw_srq *srq = to_siw_srq(ibsrq);
	struct ib_srq_attr *attr = &init_attr->attr;
	struct siw_abi_resp_create_srq resp = {};
	u64 key = SIW_ABI_INVAL_UOBJ_KEY;
	u32 num_rqe;
	int rv;

	if (init_attr->srq_type != IB_SRQT_BASIC)
		return -EOPNOTSUPP;
	if (attr->max_wr < 1 || attr->max_wr > SIW_MAX_SRQ_WR ||
	    attr->max_sge > SIW_MAX_RECV_SGE)
		return -EINVAL;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&sdev->num_srq) > SIW_MAX_SRQ) {
		rv = -ENOMEM;
		goto err_count;
	}

	num_rqe = roundup_pow_of_two(attr->max_wr);
	rv = siw_srq_init(srq, num_rqe, attr->max_sge, udata, &key);
	if (rv)
		goto err_count;
	attr->max_wr = num_rqe;

	if (udata) {
		resp.num_rqe = num_rqe;
		resp.srq_key = key;
		rv = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (rv)
			goto err_srq;
	}
	return 0;

err_srq:
	siw_srq_fini(srq);
err_count:
	atomic_dec(&sdev->num_srq);
	return rv;
}

static int siw_modify_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr,
			  enum ib_srq_attr_mask mask, struct ib_udata *udata)
{
	struct siw_srq *srq = to_siw_srq(ibsrq);
	unsigned long flags;

	/* The queue is shared memory of fixed size: no resizing. */
	if (mask & IB_SRQ_MAX_WR)
		return -EOPNOTSUPP;
	if (!(mask & IB_SRQ_LIMIT))
		return 0;
	if (attr->srq_limit > srq->num_rqe)
		return -EINVAL;

	spin_lock_irqsave(&srq->lock, flags);
	srq->limit = attr->srq_limit;
	spin_unlock_irqrestore(&srq->lock, flags);
	return 0;
}

static int siw_query_srq(struct ib_srq *ibsrq, struct ib_srq_attr *attr)
{
	struct siw_srq *srq = to_siw_srq(ibsrq);

	attr->max_wr = srq->num_rqe;
	attr->max_sge = srq->max_sge;
	attr->srq_limit = READ_ONCE(srq->limit);
	return 0;
}

static int siw_destroy_srq(struct ib_srq *ibsrq, struct ib_udata *udata)
{
	siw_srq_fini(to_siw_srq(ibsrq));
	atomic_dec(&to_siw_dev(ibsrq->device)->num_srq);
	return 0;
}

static int siw_post_srq_recv(struct ib_srq *ibsrq, const struct ib_recv_wr *wr,
			     const struct ib_recv_wr **bad_wr)
{
	struct siw_srq *srq = to_siw_srq(ibsrq);

	/* User SRQs are filled through their mapping. */
	if (srq->user) {
		*bad_wr = wr;
		return -EINVAL;
	}
	return siw_srq_post(srq, wr, bad_wr);
}

static int siw_check_qp_caps(const struct ib_qp_init_attr *attr)
{
	const struct ib_qp_cap *cap = &attr->cap;

	if (attr->qp_type != IB_QPT_RC)
		return -EOPNOTSUPP;
	if (attr->create_flags)
		return -EOPNOTSUPP;
	if (!attr->send_cq || !attr->recv_cq)
		return -EINVAL;
	if (cap->max_send_wr > SIW_MAX_QP_WR ||
	    cap->max_send_sge > SIW_MAX_SEND_SGE ||
	    cap->max_inline_data > SIW_MAX_INLINE_DATA)
		return -EINVAL;
	/* With an SRQ the receive capabilities are ignored. */
	if (!attr->srq && (cap->max_recv_wr > SIW_MAX_QP_WR ||
			   cap->max_recv_sge > SIW_MAX_RECV_SGE))
		return -EINVAL;
	return 0;
}

static int siw_create_qp(struct ib_qp *ibqp, struct ib_qp_init_attr *attr,
			 struct ib_udata *udata)
{
	struct siw_device *sdev = to_siw_dev(ibqp->device);
	struct siw_qp *qp = to_siw_qp(ibqp);
	struct siw_abi_resp_create_qp resp = {};
	u64 sq_key = SIW_ABI_INVAL_UOBJ_KEY, rq_key = SIW_ABI_INVAL_UOBJ_KEY;
	int rv;

	rv = siw_check_qp_caps(attr);
	if (rv)
		return rv;
	if (udata && udata->outlen < sizeof(resp))
		return -EINVAL;
	if (atomic_inc_return(&sdev->num_qp) > SIW_MAX_QP) {
		rv = -ENOMEM;
		goto err_count;
	}

	/* Inline data always fits the SQE, whatever was asked for. */
	attr->cap.max_inline_data = SIW_MAX_INLINE_DATA;
	if (attr->srq) {
		attr->cap.max_recv_wr = 0;
		attr->cap.max_recv_sge = 0;
	}
	rv = siw_qp_init(qp, sdev, attr, udata, &sq_key, &rq_key);
	if (rv)
		goto err_count;
	rv = siw_stream_qp_init(qp);
	if (rv)
		goto err_qp;
	attr->cap.max_send_wr = qp->num_sqe;
	attr->cap.max_recv_wr = qp->num_rqe;

	if (udata) {
		resp.qp_id = ibqp->qp_num;
		resp.num_sqe = qp->num_sqe;
		resp.num_rqe = qp->num_rqe;
		resp.sq_key = sq_key;
		resp.rq_key = rq_key;
		rv = ib_copy_to_udata(udata, &resp, sizeof(resp));
		if (rv)
			goto err_qp;
	}
	return 0;

err_qp:
	siw_stream_destroy_qp(qp);
err_count:
	atomic_dec(&sdev->num_qp);
	return rv;
}

static int siw_modify_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			 int mask, struct ib_udata *udata)
{
	return siw_qp_modify(to_siw_qp(ibqp), attr, mask);
}

static int siw_query_qp(struct ib_qp *ibqp, struct ib_qp_attr *attr,
			int mask, struct ib_qp_init_attr *init_attr)
{
	struct siw_qp *qp = to_siw_qp(ibqp);

	memset(attr, 0, sizeof(*attr));
	memset(init_attr, 0, sizeof(*init_attr));

	down_read(&qp->state_lock);
	attr->qp_state = qp->state;
	attr->qp_access_flags = qp->access;
	attr->max_rd_atomic = qp->ord;
	attr->max_dest_rd_atomic = qp->ird;
	up_read(&qp->state_lock);

	attr->cur_qp_state = attr->qp_state;
	attr->path_mtu = ib_mtu_int_to_enum(READ_ONCE(qp->sdev->netdev->mtu));
	attr->port_num = 1;
	attr->cap.max_send_wr = qp->num_sqe;
	attr->cap.max_recv_wr = qp->num_rqe;
	attr->cap.max_send_sge = qp->max_send_sge;
	attr->cap.max_recv_sge = qp->max_recv_sge;
	attr->cap.max_inline_data = qp->max_inline;

	init_attr->qp_type = IB_QPT_RC;
	init_attr->send_cq = ibqp->send_cq;
	init_attr->recv_cq = ibqp->recv_cq;
	init_attr->srq = ibqp->srq;
	init_attr->cap = attr->cap;
	init_attr->sq_sig_type = qp->sq_sig_all ? IB_SIGNAL_ALL_WR :
						  IB_SIGNAL_REQ_WR;
	return 0;
}

static int siw_destroy_qp(struct ib_qp *ibqp, struct ib_udata *udata)
{
	siw_stream_destroy_qp(to_siw_qp(ibqp));
	atomic_dec(&to_siw_dev(ibqp->device)->num_qp);
	return 0;
}

static int siw_post_send(struct ib_qp *ibqp, const struct ib_send_wr *wr,
			 const struct ib_send_wr **bad_wr)
{
	struct siw_qp *qp = to_siw_qp(ibqp);

	/*
	 * User QPs post through the mapped SQ; the system call is only the
	 * doorbell and must carry no work requests.
	 */
	if (qp->user) {
		if (wr) {
			*bad_wr = wr;
			return -EINVAL;
		}
		siw_tx_doorbell(qp);
		return 0;
	}
	return siw_qp_post_send(qp, wr, bad_wr);
}

static int siw_post_recv(struct ib_qp *ibqp, const struct ib_recv_wr *wr,
			 const struct ib_recv_wr **bad_wr)
{
	return siw_qp_post_recv(to_siw_qp(ibqp), wr, bad_wr);
}

static struct ib_mr *siw_mr_create(struct ib_pd *pd, enum siw_mem_type type,
				   int access, u8 key)
{
	struct siw_mem *mem;
	struct siw_mr *mr;

	mr = kzalloc(sizeof(*mr), GFP_KERNEL);
	if (!mr)
		return ERR_PTR(-ENOMEM);
	mem = siw_mem_alloc(to_siw_dev(pd->device), pd, type, access, key);
	if (IS_ERR(mem)) {
		kfree(mr);
		return ERR_CAST(mem);
	}
	mr->mem = mem;
	mr->base_mr.lkey = mem->stag;
	mr->base_mr.rkey = mem->stag;
	return &mr->base_mr;
}

static void siw_mr_free(struct ib_mr *ibmr)
{
	struct siw_mr *mr = to_siw_mr(ibmr);

	siw_mem_destroy(mr->mem);
	kfree(mr);
}

static struct ib_mr *siw_get_dma_mr(struct ib_pd *pd, int access)
{
	struct ib_mr *ibmr = siw_mr_create(pd, SIW_MEM_DMA, access, 0);
	struct siw_mem *mem;

	if (IS_ERR(ibmr))
		return ibmr;
	mem = to_siw_mr(ibmr)->mem;
	mem->va = 0;
	mem->len = U64_MAX;
	mem->valid = true;
	return ibmr;
}

static struct ib_mr *siw_reg_user_mr(struct ib_pd *pd, u64 start, u64 len,
				     u64 va, int access, struct ib_udata *udata)
{
	struct siw_abi_req_reg_mr req = {};
	struct siw_abi_resp_reg_mr resp = {};
	struct siw_mem *mem;
	struct ib_mr *ibmr;
	int rv;

	if (!len || len > SIW_MAX_MR_SIZE)
		return ERR_PTR(-EINVAL);
	if (udata && udata->inlen) {
		rv = ib_copy_from_udata(&req, udata,
					min(sizeof(req), udata->inlen));
		if (rv)
			return ERR_PTR(rv);
	}

	ibmr = siw_mr_create(pd, SIW_MEM_USER, access, req.stag_key);
	if (IS_ERR(ibmr))
		return ibmr;
	mem = to_siw_mr(ibmr)->mem;
	rv = siw_mem_pin_user(mem, start, len, va);
	if (rv)
		goto err;

	if (udata && udata->outlen) {
		resp.stag = mem->stag;
		rv = ib_copy_to_udata(udata, &resp,
				      min(sizeof(resp), udata->outlen));
		if (rv)
			goto err;
	}
	mem->valid = true;
	return ibmr;
err:
	siw_mr_free(ibmr);
	return ERR_PTR(rv);
}

static struct ib_mr *siw_alloc_mr(struct ib_pd *pd, enum ib_mr_type type,
				  u32 max_num_sg)
{
	struct ib_mr *ibmr;
	int rv;

	if (type != IB_MR_TYPE_MEM_REG)
		return ERR_PTR(-EOPNOTSUPP);
	if (!max_num_sg || max_num_sg > SIW_MAX_FRMR_PAGES)
		return ERR_PTR(-EINVAL);

	/* Fast-registration STags start out invalid (RFC 5040 5.2). */
	ibmr = siw_mr_create(pd, SIW_MEM_PBL, 0, 0);
	if (IS_ERR(ibmr))
		return ibmr;
	rv = siw_mem_alloc_pbl(to_siw_mr(ibmr)->mem, max_num_sg);
	if (rv) {
		siw_mr_free(ibmr);
		return ERR_PTR(rv);
	}
	return ibmr;
}

static int siw_set_page(struct ib_mr *ibmr, u64 addr)
{
	struct siw_mem *mem = to_siw_mr(ibmr)->mem;

	if (mem->pbl_len >= mem->pbl_max)
		return -ENOMEM;
	mem->pbl[mem->pbl_len++] = addr;
	return 0;
}

/*
 * Records the page list only; the iova, length and access it describes
 * take effect when the consumer posts IB_WR_REG_MR.
 */
static int siw_map_mr_sg(struct ib_mr *ibmr, struct scatterlist *sg,
			 int sg_nents, unsigned int *sg_offset)
{
	struct siw_mem *mem = to_siw_mr(ibmr)->mem;

	mem->pbl_len = 0;
	mem->page_shift = ilog2(ibmr->page_size);
	return ib_sg_to_pages(ibmr, sg, sg_nents, sg_offset, siw_set_page);
}

static int siw_dereg_mr(struct ib_mr *ibmr, struct ib_udata *udata)
{
	siw_mr_free(ibmr);
	return 0;
}

static void siw_iw_add_ref(struct ib_qp *ibqp)
{
	siw_qp_get(to_siw_qp(ibqp));
}

static void siw_iw_rem_ref(struct ib_qp *ibqp)
{
	siw_qp_put(to_siw_qp(ibqp));
}

static struct ib_qp *siw_iw_get_qp(struct ib_device *ibdev, int qpn)
{
	struct siw_qp *qp = siw_qp_lookup(to_siw_dev(ibdev), qpn);

	return qp ? &qp->base_qp : NULL;
}

static const struct rdma_stat_desc siw_stat_descs[SIW_NUM_STATS] = {
	[SIW_STAT_TX_ZCOPY_WRS].name = "tx_zcopy_wrs",
	[SIW_STAT_TX_ZCOPY_COPIED_QPS].name = "tx_zcopy_copied_qps",
	[SIW_STAT_TX_FPDUS].name = "tx_fpdus",
	[SIW_STAT_TX_BYTES].name = "tx_bytes",
	[SIW_STAT_RX_FPDUS].name = "rx_fpdus",
	[SIW_STAT_RX_BYTES].name = "rx_bytes",
	[SIW_STAT_TX_LENT].name = "tx_lent",
};

static struct rdma_hw_stats *siw_alloc_hw_port_stats(struct ib_device *ibdev,
						     u32 port)
{
	return rdma_alloc_hw_stats_struct(siw_stat_descs, SIW_NUM_STATS,
					  RDMA_HW_STATS_DEFAULT_LIFESPAN);
}

static int siw_get_hw_stats(struct ib_device *ibdev,
			    struct rdma_hw_stats *stats, u32 port, int index)
{
	struct siw_device *sdev = to_siw_dev(ibdev);
	int cpu, i;

	for (i = 0; i < SIW_NUM_STATS; i++) {
		s64 sum = 0;

		for_each_possible_cpu(cpu)
			sum += READ_ONCE(per_cpu_ptr(sdev->stats, cpu)->v[i]);
		stats->value[i] = sum;
	}
	return SIW_NUM_STATS;
}

/*
 * What MPA negotiated for a QP's connection, for "rdma resource show qp
 * -d": which of a peer's profiles a connection ended up with is the
 * first question when two iWARP stacks do not get along.
 */
static int siw_fill_res_qp_entry(struct sk_buff *msg, struct ib_qp *base_qp)
{
	static const char *const rtr_name[] = {
		[SIW_MPA_RTR_WRITE] = "write",
		[SIW_MPA_RTR_READ] = "read",
		[SIW_MPA_RTR_SEND] = "send",
	};
	struct siw_qp *qp = to_siw_qp(base_qp);
	u8 rev = READ_ONCE(qp->mpa_rev);
	u8 rtr = READ_ONCE(qp->mpa_rtr);
	struct nlattr *table;

	if (!rev)
		return 0;	/* never connected */
	table = nla_nest_start(msg, RDMA_NLDEV_ATTR_DRIVER);
	if (!table)
		return -EMSGSIZE;
	if (rdma_nl_put_driver_u32(msg, "mpa_rev", rev) ||
	    rdma_nl_put_driver_string(msg, "mpa_crc",
				      READ_ONCE(qp->crc) ? "on" : "off") ||
	    rdma_nl_put_driver_string(msg, "mpa_rtr",
				      rtr < ARRAY_SIZE(rtr_name) &&
				      rtr_name[rtr] ? rtr_name[rtr] : "none") ||
	    rdma_nl_put_driver_u32(msg, "ird", READ_ONCE(qp->ird)) ||
	    rdma_nl_put_driver_u32(msg, "ord", READ_ONCE(qp->ord)) ||
	    rdma_nl_put_driver_u32(msg, "large_fpdu",
				   READ_ONCE(qp->tx.large_fpdu))) {
		nla_nest_cancel(msg, table);
		return -EMSGSIZE;
	}
	nla_nest_end(msg, table);
	return 0;
}

const struct ib_device_ops siw_device_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_SIW,
	.uverbs_abi_ver = SIW_ABI_VERSION_1,

	.alloc_hw_port_stats = siw_alloc_hw_port_stats,
	.alloc_mr = siw_alloc_mr,
	.alloc_pd = siw_alloc_pd,
	.alloc_ucontext = siw_alloc_ucontext,
	.create_cq = siw_create_cq,
	.create_qp = siw_create_qp,
	.create_srq = siw_create_srq,
	.dealloc_pd = siw_dealloc_pd,
	.dealloc_ucontext = siw_dealloc_ucontext,
	.dereg_mr = siw_dereg_mr,
	.fill_res_qp_entry = siw_fill_res_qp_entry,
	.disassociate_ucontext = siw_disassociate_ucontext,
	.destroy_cq = siw_destroy_cq,
	.destroy_qp = siw_destroy_qp,
	.destroy_srq = siw_destroy_srq,
	.get_dma_mr = siw_get_dma_mr,
	.get_hw_stats = siw_get_hw_stats,
	.get_port_immutable = siw_get_port_immutable,
	.iw_accept = siw_cm_accept,
	.iw_add_ref = siw_iw_add_ref,
	.iw_connect = siw_cm_connect,
	.iw_create_listen = siw_cm_create_listen,
	.iw_destroy_listen = siw_cm_destroy_listen,
	.iw_get_qp = siw_iw_get_qp,
	.iw_reject = siw_cm_reject,
	.iw_rem_ref = siw_iw_rem_ref,
	.map_mr_sg = siw_map_mr_sg,
	.mmap = siw_mmap,
	.mmap_free = siw_mmap_free,
	.modify_qp = siw_modify_qp,
	.modify_srq = siw_modify_srq,
	.poll_cq = siw_poll_cq,
	.post_recv = siw_post_recv,
	.post_send = siw_post_send,
	.post_srq_recv = siw_post_srq_recv,
	.query_device = siw_query_device,
	.query_gid = siw_query_gid,
	.query_pkey = siw_query_pkey,
	.query_port = siw_query_port,
	.query_qp = siw_query_qp,
	.query_srq = siw_query_srq,
	.reg_user_mr = siw_reg_user_mr,
	.req_notify_cq = siw_req_notify_cq,

	INIT_RDMA_OBJ_SIZE(ib_cq, siw_cq, base_cq),
	INIT_RDMA_OBJ_SIZE(ib_pd, siw_pd, base_pd),
	INIT_RDMA_OBJ_SIZE(ib_qp, siw_qp, base_qp),
	INIT_RDMA_OBJ_SIZE(ib_srq, siw_srq, base_srq),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, siw_ucontext, base_ucontext),
};
