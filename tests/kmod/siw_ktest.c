// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Kernel-consumer test of a siw device: exercises the verbs a kernel
 * ULP (NVMe-oF, NFS/RDMA, iSER) uses, through the RDMA core, on the
 * device named by the "dev" parameter. Runs at load; loading fails with
 * -EIO if any check fails, and every check logs "siw_ktest: ok|FAIL".
 *
 * With hold=1 it runs no checks but stays loaded with a kernel QP in
 * INIT, logging "siw_ktest: holding QP N", for tests that try to take
 * that QP from user space; unloading checks that it is still in INIT.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/scatterlist.h>
#include <linux/completion.h>
#include <rdma/ib_verbs.h>

#include "ktest_check.h"

MODULE_DESCRIPTION("siw kernel verbs test");
MODULE_LICENSE("Dual BSD/GPL");

static char *dev = "siw_lo";
module_param(dev, charp, 0444);
MODULE_PARM_DESC(dev, "RDMA device to test");

static bool hold;
module_param(hold, bool, 0444);
MODULE_PARM_DESC(hold, "keep a kernel QP in INIT until unloaded instead of testing");

struct ktest_cq_ctx {
	atomic_t comp_events;
	atomic_t err_events;
};

static void ktest_comp(struct ib_cq *cq, void *ctx)
{
	atomic_inc(&((struct ktest_cq_ctx *)ctx)->comp_events);
}

static void ktest_cq_event(struct ib_event *ev, void *ctx)
{
	if (ev->event == IB_EVENT_CQ_ERR)
		atomic_inc(&((struct ktest_cq_ctx *)ctx)->err_events);
}

static struct ib_qp *ktest_qp(struct ib_pd *pd, struct ib_cq *cq,
			      struct ib_srq *srq, u32 wr)
{
	struct ib_qp_init_attr attr = {
		.qp_type = IB_QPT_RC,
		.send_cq = cq,
		.recv_cq = cq,
		.srq = srq,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = {
			.max_send_wr = wr,
			.max_recv_wr = srq ? 0 : wr,
			.max_send_sge = 2,
			.max_recv_sge = srq ? 0 : 2,
			.max_inline_data = 64,
		},
	};

	return ib_create_qp(pd, &attr);
}

static noinline_for_stack bool ktest_in_state(struct ib_qp *qp,
					       enum ib_qp_state state)
{
	struct ib_qp_init_attr init;
	struct ib_qp_attr attr;

	return !ib_query_qp(qp, &attr, IB_QP_STATE, &init) &&
	       attr.qp_state == state;
}

static int ktest_modify(struct ib_qp *qp, enum ib_qp_state state)
{
	struct ib_qp_attr attr = {
		.qp_state = state,
		.qp_access_flags = IB_ACCESS_REMOTE_READ | IB_ACCESS_REMOTE_WRITE,
		.port_num = 1,
	};
	int mask = IB_QP_STATE;

	if (state == IB_QPS_INIT)
		mask |= IB_QP_ACCESS_FLAGS | IB_QP_PORT;
	return ib_modify_qp(qp, &attr, mask);
}

static int ktest_post_recv(struct ib_qp *qp, struct ib_sge *sge, u64 id)
{
	struct ib_recv_wr wr = { .wr_id = id, .sg_list = sge, .num_sge = 1 };

	return ib_post_recv(qp, &wr, NULL);
}

static int ktest_post_send(struct ib_qp *qp, enum ib_wr_opcode op,
			   struct ib_sge *sge, u64 id, int flags)
{
	struct ib_rdma_wr wr = {
		.wr = {
			.wr_id = id,
			.opcode = op,
			.sg_list = sge,
			.num_sge = sge ? 1 : 0,
			.send_flags = flags,
		},
		.remote_addr = 0x1000,
		.rkey = 0x100,
	};

	if (op == IB_WR_LOCAL_INV)
		wr.wr.ex.invalidate_rkey = 0x100;
	return ib_post_send(qp, &wr.wr, NULL);
}

/* Polls up to @max completions, waiting up to a second for them. */
static int ktest_poll(struct ib_cq *cq, struct ib_wc *wc, int max)
{
	unsigned long end = jiffies + HZ;
	int n = 0, rv;

	while (n < max && time_before(jiffies, end)) {
		rv = ib_poll_cq(cq, max - n, wc + n);
		if (rv < 0)
			return rv;
		n += rv;
		if (n < max)
			msleep(10);
	}
	return n;
}

static void ktest_flush(struct ib_device *ibdev, struct ib_pd *pd,
			struct ib_sge *sge)
{
	static const enum ib_wc_opcode expect[] = {
		IB_WC_SEND, IB_WC_RDMA_WRITE, IB_WC_LOCAL_INV, IB_WC_SEND,
	};
	struct ib_cq_init_attr cq_attr = { .cqe = 64 };
	struct ktest_cq_ctx ctx = {};
	struct ib_wc wc[16];
	struct ib_cq *cq;
	struct ib_qp *qp;
	int i, n, sends = 0, recvs = 0, rv;
	bool in_order = true;

	cq = ib_create_cq(ibdev, ktest_comp, ktest_cq_event, &ctx, &cq_attr);
	CHECK(!IS_ERR(cq), "create kernel CQ");
	if (IS_ERR(cq))
		return;
	qp = ktest_qp(pd, cq, NULL, 16);
	CHECK(!IS_ERR(qp), "create kernel QP");
	if (IS_ERR(qp))
		goto out_cq;

	CHECK(ktest_in_state(qp, IB_QPS_INIT), "a new QP is Idle (INIT)");
	CHECK(ktest_modify(qp, IB_QPS_RESET) == 0, "INIT -> RESET");
	CHECK(ktest_post_recv(qp, sge, 1) == -EINVAL, "post_recv in RESET fails");
	CHECK(ktest_modify(qp, IB_QPS_INIT) == 0, "RESET -> INIT");
	for (i = 0; i < 4; i++)
		CHECK(ktest_post_recv(qp, sge, 100 + i) == 0, "post_recv %d in INIT", i);
	CHECK(ktest_post_send(qp, IB_WR_SEND, sge, 200, IB_SEND_SIGNALED) == 0,
	      "post SEND in INIT");
	CHECK(ktest_post_send(qp, IB_WR_RDMA_WRITE, sge, 201, 0) == 0,
	      "post unsignaled WRITE in INIT");
	CHECK(ktest_post_send(qp, IB_WR_LOCAL_INV, NULL, 202, IB_SEND_SIGNALED) == 0,
	      "post LOCAL_INV in INIT");
	CHECK(ktest_post_send(qp, IB_WR_SEND, sge, 203,
			      IB_SEND_SIGNALED | IB_SEND_INLINE) == 0,
	      "post inline SEND in INIT");
	CHECK(ktest_post_send(qp, IB_WR_RDMA_WRITE_WITH_IMM, sge, 204, 0) == -EINVAL,
	      "WRITE_WITH_IMM rejected (not in RDMAP)");
	CHECK(ktest_post_send(qp, IB_WR_ATOMIC_CMP_AND_SWP, sge, 205, 0) == -EINVAL,
	      "atomics rejected");

	CHECK(ib_req_notify_cq(cq, IB_CQ_NEXT_COMP | IB_CQ_REPORT_MISSED_EVENTS) == 0,
	      "arm empty CQ reports nothing missed");
	CHECK(ktest_modify(qp, IB_QPS_ERR) == 0, "INIT -> ERR");
	CHECK(ktest_in_state(qp, IB_QPS_ERR), "query shows ERR");

	n = ktest_poll(cq, wc, 16);
	CHECK(n == 8, "8 flush completions (got %d)", n);
	for (i = 0; i < n; i++) {
		if (wc[i].status != IB_WC_WR_FLUSH_ERR || wc[i].qp != qp)
			in_order = false;
		if (wc[i].opcode == IB_WC_RECV) {
			if (wc[i].wr_id != 100 + recvs++)
				in_order = false;
		} else if (sends < ARRAY_SIZE(expect)) {
			if (wc[i].wr_id != 200 + sends ||
			    wc[i].opcode != expect[sends])
				in_order = false;
			sends++;
		}
	}
	CHECK(in_order && sends == 4 && recvs == 4,
	      "flushed in order with FLUSH_ERR, right opcodes and qp");
	CHECK(atomic_read(&ctx.comp_events) == 1,
	      "one completion event for the armed CQ (got %d)",
	      atomic_read(&ctx.comp_events));

	CHECK(ktest_post_send(qp, IB_WR_SEND, sge, 300, 0) == 0 &&
	      ktest_post_recv(qp, sge, 301) == 0, "posting in ERR succeeds");
	n = ktest_poll(cq, wc, 2);
	CHECK(n == 2 && wc[0].wr_id == 300 && wc[1].wr_id == 301 &&
	      wc[0].status == IB_WC_WR_FLUSH_ERR,
	      "requests posted in ERR complete at once with FLUSH_ERR");

	CHECK(ktest_modify(qp, IB_QPS_RESET) == 0, "ERR -> RESET");
	CHECK(ktest_modify(qp, IB_QPS_INIT) == 0, "RESET -> INIT again");
	rv = ktest_modify(qp, IB_QPS_RTS);
	CHECK(rv == -EINVAL, "INIT -> RTS without connection fails (%d)", rv);
	for (i = 0; i < 16; i++)
		if (ktest_post_recv(qp, sge, i))
			break;
	CHECK(i == 16 && ktest_post_recv(qp, sge, 16) == -ENOMEM,
	      "receive queue holds max_recv_wr, then ENOMEM");
	CHECK(ktest_modify(qp, IB_QPS_RESET) == 0, "INIT -> RESET drops requests");
	CHECK(ib_poll_cq(cq, 16, wc) == 0, "no completions for dropped requests");

	ib_destroy_qp(qp);
out_cq:
	ib_destroy_cq(cq);
}

static void ktest_overflow(struct ib_device *ibdev, struct ib_pd *pd,
			   struct ib_sge *sge)
{
	struct ib_cq_init_attr cq_attr = { .cqe = 1 };
	struct ktest_cq_ctx ctx = {};
	struct ib_cq *cq;
	struct ib_qp *qp;

	cq = ib_create_cq(ibdev, ktest_comp, ktest_cq_event, &ctx, &cq_attr);
	if (IS_ERR(cq)) {
		CHECK(0, "create 1-entry CQ");
		return;
	}
	qp = ktest_qp(pd, cq, NULL, 4);
	if (!IS_ERR(qp)) {
		ktest_modify(qp, IB_QPS_INIT);
		ktest_post_recv(qp, sge, 1);
		ktest_post_recv(qp, sge, 2);
		ktest_modify(qp, IB_QPS_ERR);
		CHECK(atomic_read(&ctx.err_events) == 1,
		      "CQ overflow raises IB_EVENT_CQ_ERR");
		ib_destroy_qp(qp);
	}
	ib_destroy_cq(cq);
}

struct ktest_drain {
	struct ib_cqe cqe;
	struct completion done;
};

static void ktest_drain_done(struct ib_cq *cq, struct ib_wc *wc)
{
	struct ktest_drain *d = container_of(wc->wr_cqe, struct ktest_drain, cqe);

	complete(&d->done);
}

/* ib_drain_qp() posts after moving to ERR and waits for the flush. */
static void ktest_drain(struct ib_device *ibdev, struct ib_pd *pd,
			struct ib_sge *sge)
{
	struct ktest_drain d = { .cqe.done = ktest_drain_done };
	struct ib_recv_wr wr = {
		.wr_cqe = &d.cqe, .sg_list = sge, .num_sge = 1,
	};
	struct ib_cq *cq;
	struct ib_qp *qp;

	init_completion(&d.done);
	cq = ib_alloc_cq(ibdev, NULL, 16, 0, IB_POLL_WORKQUEUE);
	if (IS_ERR(cq)) {
		CHECK(0, "ib_alloc_cq");
		return;
	}
	qp = ktest_qp(pd, cq, NULL, 8);
	if (!IS_ERR(qp)) {
		ktest_modify(qp, IB_QPS_INIT);
		ib_post_recv(qp, &wr, NULL);
		ib_drain_qp(qp);
		CHECK(try_wait_for_completion(&d.done),
		      "ib_drain_qp returns with earlier receive flushed");
		ib_destroy_qp(qp);
	} else {
		CHECK(0, "QP on ib_alloc_cq CQ");
	}
	ib_free_cq(cq);
}

static void ktest_srq(struct ib_pd *pd, struct ib_sge *sge)
{
	struct ib_srq_init_attr init = {
		.attr = { .max_wr = 4, .max_sge = 1 },
		.srq_type = IB_SRQT_BASIC,
	};
	struct ib_recv_wr wr = { .sg_list = sge, .num_sge = 1 };
	struct ib_srq_attr attr = { .srq_limit = 2 };
	struct ib_srq *srq;
	int i, rv = 0;

	srq = ib_create_srq(pd, &init);
	CHECK(!IS_ERR(srq), "create kernel SRQ");
	if (IS_ERR(srq))
		return;
	for (i = 0; i < 4 && !rv; i++)
		rv = ib_post_srq_recv(srq, &wr, NULL);
	CHECK(!rv && ib_post_srq_recv(srq, &wr, NULL) == -ENOMEM,
	      "SRQ holds max_wr receives, then ENOMEM");
	CHECK(ib_modify_srq(srq, &attr, IB_SRQ_LIMIT) == 0, "arm SRQ limit");
	CHECK(ib_query_srq(srq, &attr) == 0 && attr.srq_limit == 2,
	      "query SRQ limit");
	wr.num_sge = 2;
	CHECK(ib_post_srq_recv(srq, &wr, NULL) == -EINVAL ||
	      ib_post_srq_recv(srq, &wr, NULL) == -ENOMEM,
	      "SRQ refuses more SGEs than max_sge");
	ib_destroy_srq(srq);
}

static void ktest_frmr(struct ib_pd *pd)
{
	struct scatterlist sg[4];
	struct page *pages[4] = {};
	struct ib_mr *mr;
	int i, n;

	mr = ib_alloc_mr(pd, IB_MR_TYPE_MEM_REG, 100000);
	CHECK(IS_ERR(mr), "alloc_mr beyond max_fast_reg_page_list_len fails");
	if (!IS_ERR(mr))
		ib_dereg_mr(mr);

	mr = ib_alloc_mr(pd, IB_MR_TYPE_MEM_REG, 4);
	CHECK(!IS_ERR(mr) && mr->lkey && mr->lkey == mr->rkey,
	      "alloc_mr for 4 pages");
	if (IS_ERR(mr))
		return;

	sg_init_table(sg, 4);
	for (i = 0; i < 4; i++) {
		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i])
			goto out;
		sg_set_page(&sg[i], pages[i], PAGE_SIZE, 0);
	}
	n = ib_dma_map_sg(pd->device, sg, 4, DMA_BIDIRECTIONAL);
	CHECK(n == 4, "dma map 4 pages");
	n = ib_map_mr_sg(mr, sg, 4, NULL, PAGE_SIZE);
	CHECK(n == 4 && mr->length == 4 * PAGE_SIZE &&
	      mr->iova == sg_dma_address(&sg[0]),
	      "map_mr_sg maps 4 pages (n=%d, len=%llu)", n, mr->length);
	ib_dma_unmap_sg(pd->device, sg, 4, DMA_BIDIRECTIONAL);
out:
	for (i = 0; i < 4; i++)
		if (pages[i])
			__free_page(pages[i]);
	CHECK(ib_dereg_mr(mr) == 0, "dereg fast-reg MR");
}

static struct {
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_qp *qp;
} held;

/* hold=1: a QP of a kernel consumer, left in INIT as a ULP leaves it. */
static int ktest_hold(struct ib_device *ibdev)
{
	int rv;

	held.pd = ib_alloc_pd(ibdev, 0);
	if (IS_ERR(held.pd))
		return PTR_ERR(held.pd);
	held.cq = ib_alloc_cq(ibdev, NULL, 16, 0, IB_POLL_WORKQUEUE);
	if (IS_ERR(held.cq)) {
		rv = PTR_ERR(held.cq);
		goto err_pd;
	}
	held.qp = ktest_qp(held.pd, held.cq, NULL, 8);
	if (IS_ERR(held.qp)) {
		rv = PTR_ERR(held.qp);
		goto err_cq;
	}
	rv = ktest_modify(held.qp, IB_QPS_INIT);
	if (rv)
		goto err_qp;
	held.ibdev = ibdev;
	pr_info("siw_ktest: holding QP %u\n", held.qp->qp_num);
	return 0;

err_qp:
	ib_destroy_qp(held.qp);
err_cq:
	ib_free_cq(held.cq);
err_pd:
	ib_dealloc_pd(held.pd);
	return rv;
}

static int __init ktest_init(void)
{
	struct ib_device *ibdev;
	struct ib_sge sge;
	struct ib_pd *pd;
	void *buf;
	int rv;

	ibdev = ib_device_get_by_name(dev, RDMA_DRIVER_SIW);
	if (!ibdev) {
		pr_err("siw_ktest: no siw device %s\n", dev);
		return -ENODEV;
	}
	if (hold) {
		rv = ktest_hold(ibdev);
		if (rv) {
			pr_err("siw_ktest: cannot set up a QP to hold: %d\n", rv);
			ib_device_put(ibdev);
		}
		return rv;
	}
	pd = ib_alloc_pd(ibdev, 0);
	CHECK(!IS_ERR(pd), "alloc kernel PD");
	if (IS_ERR(pd))
		goto out_dev;
	CHECK(pd->local_dma_lkey != 0, "PD has a local DMA lkey (DMA MR)");

	buf = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf) {
		CHECK(0, "buffer");
		goto out_pd;
	}
	sge.addr = ib_dma_map_single(ibdev, buf, 64, DMA_BIDIRECTIONAL);
	sge.length = 64;
	sge.lkey = pd->local_dma_lkey;

	ktest_flush(ibdev, pd, &sge);
	ktest_overflow(ibdev, pd, &sge);
	ktest_drain(ibdev, pd, &sge);
	ktest_srq(pd, &sge);
	ktest_frmr(pd);

	ib_dma_unmap_single(ibdev, sge.addr, 64, DMA_BIDIRECTIONAL);
	kfree(buf);
out_pd:
	ib_dealloc_pd(pd);
out_dev:
	ib_device_put(ibdev);
	pr_info("siw_ktest: %d failed\n", failures);
	/* The module's only purpose is the run: never stay loaded. */
	return failures ? -EIO : -ECANCELED;
}

module_init(ktest_init);

/* Only a module loaded with hold=1 stays loaded to be removed. */
static void __exit ktest_exit(void)
{
	struct ib_qp_init_attr init;
	struct ib_qp_attr attr;
	int rv;

	rv = ib_query_qp(held.qp, &attr, IB_QP_STATE, &init);
	CHECK(!rv && attr.qp_state == IB_QPS_INIT,
	      "held QP %u still in INIT (query %d, state %d)",
	      held.qp->qp_num, rv, rv ? -1 : attr.qp_state);
	ib_destroy_qp(held.qp);
	ib_free_cq(held.cq);
	ib_dealloc_pd(held.pd);
	ib_device_put(held.ibdev);
}

module_exit(ktest_exit);
