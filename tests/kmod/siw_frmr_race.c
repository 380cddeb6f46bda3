// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * A fast registration registered anew while the peer still uses the old
 * one (issue 16, D2), from a kernel consumer: RDMA core verbs and rdma_cm
 * only, so it runs against any siw.
 *
 * It connects twice to the test peer at addr:port (hostile_cases.py
 * frmr-MODE): the first connection carries the race, the second the
 * peer's cues and our local work requests, whose transmitter never
 * waits behind the first one's. It registers RACE_NPAGES pages as one
 * fast-registration MR and sends the peer its iova and STag. The peer
 * starts a Read of all of it (or a Write into it) and stops early;
 * at its cue the MR is invalidated (by the peer's own Send with
 * Invalidate, or by our LOCAL_INV), mapped to RACE_KPAGES other pages
 * under a new key and the same iova, and registered again. Then the
 * peer lets the Read Response or Write go on. Every offset it was
 * granted past RACE_KPAGES pages now lies beyond the new page list.
 *
 * siw must answer with a Terminate, serve nothing but the first
 * registration's bytes (the peer checks those) and place nothing once
 * the registration changed: the pages of both registrations must be
 * as they were when the MR was registered anew.
 *
 * Runs at load and never stays loaded: -ECANCELED when every check
 * passed, -EIO when one failed; each check logs "siw_frmr_race: ok" or
 * "siw_frmr_race: FAIL".
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include <linux/delay.h>
#include <linux/inet.h>
#include <linux/scatterlist.h>
#include <linux/completion.h>
#include <rdma/ib_verbs.h>
#include <rdma/rdma_cm.h>

#include "ktest_check.h"

MODULE_DESCRIPTION("siw fast-registration re-registration race test");
MODULE_LICENSE("Dual BSD/GPL");

static char *mode = "read-sendinv";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "read-sendinv, read-localinv or write-localinv");

static char *addr = "198.51.100.1";
module_param(addr, charp, 0444);
MODULE_PARM_DESC(addr, "IPv4 address of the test peer");

static ushort port;
module_param(port, ushort, 0444);
MODULE_PARM_DESC(port, "TCP port of the test peer");

/*
 * The first registration is far larger than the socket buffers the
 * test leaves TCP (tests/vm/54-frmr-race.sh), so the peer stops the
 * response well inside the second registration's RACE_KPAGES pages.
 */
#define RACE_NPAGES	256
#define RACE_KPAGES	128
#define RACE_WAIT	(30 * HZ)
/* Each 32-bit word: its registration's tag, then its word index. */
#define RACE_TAG_FIRST	0xa0000000U
#define RACE_TAG_SECOND	0xb0000000U
/* The byte the peer writes. */
#define RACE_WRITE_BYTE	0x5a
#define RACE_MSG	64	/* bytes of a message slot */

enum race_mode { READ_SENDINV, READ_LOCALINV, WRITE_LOCALINV };

/* Work request ids, also the slots completions are kept in. */
enum {
	WR_REG_FIRST = 1, WR_INFO, WR_INV, WR_REG_SECOND, WR_DONE,
	WR_RECV_DATA, WR_RECV_GO, WR_RECV_END, WR_MAX
};

/* Message slots in the buffer: sends first, then receives. */
enum { SLOT_INFO, SLOT_DONE, SLOT_RECV_DATA, SLOT_RECV_GO, SLOT_RECV_END };

/* What the peer learns in the first Send on the control connection. */
struct race_info {
	__be64 iova;
	__be32 rkey;
	__be32 npages;
	__be32 kpages;
	__be32 page_size;
} __packed;

struct race_conn {
	struct rdma_cm_id *id;
	struct completion step;
	enum rdma_cm_event_type event;
	int status;
};

struct race {
	struct race_conn conn[2];	/* 0: the race, 1: control */
	struct ib_device *ibdev;
	struct ib_pd *pd;
	struct ib_cq *cq;
	struct ib_mr *mr;
	struct page *first[RACE_NPAGES];
	struct page *second[RACE_KPAGES];
	struct scatterlist sg_first[RACE_NPAGES];
	struct scatterlist sg_second[RACE_KPAGES];
	bool first_mapped, second_mapped, msg_mapped;
	void *snap;	/* the first registration's bytes when it ended */
	void *msg;
	u64 msg_dma;
	struct ib_wc wc[WR_MAX];
	bool got[WR_MAX];
};

static int race_cm_handler(struct rdma_cm_id *id, struct rdma_cm_event *ev)
{
	struct race_conn *c = id->context;

	/* Only connection set-up waits; a later disconnect goes unheard. */
	c->event = ev->event;
	c->status = ev->status;
	complete(&c->step);
	return 0;
}

static int race_step(struct race_conn *c, enum rdma_cm_event_type want)
{
	if (!wait_for_completion_timeout(&c->step, RACE_WAIT))
		return -ETIMEDOUT;
	reinit_completion(&c->step);
	if (c->event != want) {
		pr_err("siw_frmr_race: rdma_cm event %d status %d, not %d\n",
		       c->event, c->status, want);
		return -EIO;
	}
	return 0;
}

static int race_connect(struct race *r, struct race_conn *c,
			struct sockaddr_in *dst)
{
	struct rdma_conn_param param = {
		.responder_resources = 1,	/* the peer's one Read */
		.initiator_depth = 1,
	};
	struct ib_qp_init_attr attr = {
		.qp_type = IB_QPT_RC,
		.sq_sig_type = IB_SIGNAL_REQ_WR,
		.cap = {
			.max_send_wr = 8,
			.max_recv_wr = 8,
			.max_send_sge = 1,
			.max_recv_sge = 1,
		},
	};
	int rv;

	init_completion(&c->step);
	c->id = rdma_create_id(&init_net, race_cm_handler, c, RDMA_PS_TCP,
			       IB_QPT_RC);
	if (IS_ERR(c->id)) {
		rv = PTR_ERR(c->id);
		c->id = NULL;
		return rv;
	}
	rv = rdma_resolve_addr(c->id, NULL, (struct sockaddr *)dst, 5000);
	if (!rv)
		rv = race_step(c, RDMA_CM_EVENT_ADDR_RESOLVED);
	if (!rv)
		rv = rdma_resolve_route(c->id, 5000);
	if (!rv)
		rv = race_step(c, RDMA_CM_EVENT_ROUTE_RESOLVED);
	if (rv)
		return rv;
	if (!r->pd) {
		r->ibdev = c->id->device;
		if (r->ibdev->ops.driver_id != RDMA_DRIVER_SIW) {
			pr_err("siw_frmr_race: %s routes to %s, not siw\n",
			       addr, dev_name(&r->ibdev->dev));
			return -ENODEV;
		}
		r->pd = ib_alloc_pd(r->ibdev, 0);
		if (IS_ERR(r->pd)) {
			rv = PTR_ERR(r->pd);
			r->pd = NULL;
			return rv;
		}
		r->cq = ib_create_cq(r->ibdev, NULL, NULL, NULL,
				     &(struct ib_cq_init_attr){ .cqe = 64 });
		if (IS_ERR(r->cq)) {
			rv = PTR_ERR(r->cq);
			r->cq = NULL;
			return rv;
		}
	}
	attr.send_cq = r->cq;
	attr.recv_cq = r->cq;
	rv = rdma_create_qp(c->id, r->pd, &attr);
	if (!rv)
		rv = rdma_connect(c->id, &param);
	if (!rv)
		rv = race_step(c, RDMA_CM_EVENT_ESTABLISHED);
	return rv;
}

/*
 * The completion of work request id, or NULL after RACE_WAIT. Others
 * that come first are kept for their own turn.
 */
static struct ib_wc *race_wc(struct race *r, u64 id)
{
	unsigned long end = jiffies + RACE_WAIT;
	struct ib_wc wc;

	while (!r->got[id]) {
		if (ib_poll_cq(r->cq, 1, &wc) > 0) {
			if (wc.wr_id < WR_MAX) {
				r->wc[wc.wr_id] = wc;
				r->got[wc.wr_id] = true;
			}
			continue;
		}
		if (time_after(jiffies, end))
			return NULL;
		usleep_range(5000, 10000);
	}
	return &r->wc[id];
}

/* Whether work request id completed, and successfully. */
static bool race_ok(struct race *r, u64 id)
{
	struct ib_wc *wc = race_wc(r, id);

	if (!wc)
		pr_err("siw_frmr_race: no completion for work request %llu\n", id);
	else if (wc->status != IB_WC_SUCCESS)
		pr_err("siw_frmr_race: work request %llu: %s\n", id,
		       ib_wc_status_msg(wc->status));
	return wc && wc->status == IB_WC_SUCCESS;
}

static struct ib_sge race_sge(struct race *r, int slot, u32 len)
{
	return (struct ib_sge){
		.addr = r->msg_dma + slot * RACE_MSG,
		.length = len,
		.lkey = r->pd->local_dma_lkey,
	};
}

static int race_recv(struct race *r, struct race_conn *c, u64 id, int slot)
{
	struct ib_sge sge = race_sge(r, slot, RACE_MSG);
	struct ib_recv_wr wr = { .wr_id = id, .sg_list = &sge, .num_sge = 1 };

	return ib_post_recv(c->id->qp, &wr, NULL);
}

static int race_send(struct race *r, struct race_conn *c, u64 id, int slot,
		     u32 len)
{
	struct ib_sge sge = race_sge(r, slot, len);
	struct ib_send_wr wr = {
		.wr_id = id,
		.opcode = IB_WR_SEND,
		.sg_list = &sge,
		.num_sge = 1,
		.send_flags = IB_SEND_SIGNALED,
	};

	return ib_post_send(c->id->qp, &wr, NULL);
}

static int race_reg(struct race *r, struct race_conn *c, u64 id)
{
	struct ib_reg_wr wr = {
		.wr = {
			.wr_id = id,
			.opcode = IB_WR_REG_MR,
			.send_flags = IB_SEND_SIGNALED,
		},
		.mr = r->mr,
		.key = r->mr->rkey,
		.access = IB_ACCESS_LOCAL_WRITE | IB_ACCESS_REMOTE_READ |
			  IB_ACCESS_REMOTE_WRITE,
	};

	return ib_post_send(c->id->qp, &wr.wr, NULL);
}

static int race_inv(struct race_conn *c, u64 id, u32 rkey)
{
	struct ib_send_wr wr = {
		.wr_id = id,
		.opcode = IB_WR_LOCAL_INV,
		.send_flags = IB_SEND_SIGNALED,
		.ex.invalidate_rkey = rkey,
	};

	return ib_post_send(c->id->qp, &wr, NULL);
}

/* Fills pages with tag | word index: every word says where it belongs. */
static int race_pages(struct page **pages, struct scatterlist *sg, int n,
		      u32 tag)
{
	int i, j;

	sg_init_table(sg, n);
	for (i = 0; i < n; i++) {
		__be32 *w;

		pages[i] = alloc_page(GFP_KERNEL);
		if (!pages[i])
			return -ENOMEM;
		w = page_address(pages[i]);
		for (j = 0; j < PAGE_SIZE / 4; j++)
			w[j] = cpu_to_be32(tag | (i * (PAGE_SIZE / 4) + j));
		sg_set_page(&sg[i], pages[i], PAGE_SIZE, 0);
	}
	return 0;
}

/* The first page of pages[] whose words are not tag's, or n. */
static int race_changed(struct page **pages, int n, u32 tag)
{
	int i, j;

	for (i = 0; i < n; i++) {
		__be32 *w = page_address(pages[i]);

		for (j = 0; j < PAGE_SIZE / 4; j++)
			if (be32_to_cpu(w[j]) != (tag | (i * (PAGE_SIZE / 4) + j)))
				return i;
	}
	return n;
}

/* Waits until the peer's Write has reached page pg. */
static bool race_written(struct race *r, int pg)
{
	unsigned long end = jiffies + RACE_WAIT;
	u8 *p = page_address(r->first[pg]);

	while (READ_ONCE(p[0]) != RACE_WRITE_BYTE ||
	       READ_ONCE(p[PAGE_SIZE - 1]) != RACE_WRITE_BYTE) {
		if (time_after(jiffies, end))
			return false;
		usleep_range(5000, 10000);
	}
	return true;
}

static void race_run(struct race *r, enum race_mode m)
{
	struct race_conn *data = &r->conn[0], *ctl = &r->conn[1];
	struct race_info *info = r->msg + SLOT_INFO * RACE_MSG;
	struct ib_qp_init_attr qinit;
	struct ib_qp_attr qattr = {};
	u32 rkey_first;
	struct ib_wc *wc;
	u64 iova;
	int i, n;

	if (!CHECK(!race_pages(r->first, r->sg_first, RACE_NPAGES,
			       RACE_TAG_FIRST) &&
		   !race_pages(r->second, r->sg_second, RACE_KPAGES,
			       RACE_TAG_SECOND), "allocate both page lists"))
		return;
	r->snap = vmalloc(RACE_NPAGES * PAGE_SIZE);
	if (!CHECK(r->snap, "allocate the snapshot"))
		return;
	r->first_mapped = ib_dma_map_sg(r->ibdev, r->sg_first, RACE_NPAGES,
					DMA_BIDIRECTIONAL) == RACE_NPAGES;
	r->second_mapped = ib_dma_map_sg(r->ibdev, r->sg_second, RACE_KPAGES,
					 DMA_BIDIRECTIONAL) == RACE_KPAGES;
	if (!CHECK(r->first_mapped && r->second_mapped, "DMA-map both page lists"))
		return;
	r->mr = ib_alloc_mr(r->pd, IB_MR_TYPE_MEM_REG, RACE_NPAGES);
	if (!CHECK(!IS_ERR(r->mr), "alloc_mr for %d pages", RACE_NPAGES)) {
		r->mr = NULL;
		return;
	}

	n = ib_map_mr_sg(r->mr, r->sg_first, RACE_NPAGES, NULL, PAGE_SIZE);
	if (!CHECK(n == RACE_NPAGES, "map_mr_sg of %d pages (%d)", RACE_NPAGES, n))
		return;
	iova = r->mr->iova;
	rkey_first = r->mr->rkey;
	if (!CHECK(!race_reg(r, data, WR_REG_FIRST) && race_ok(r, WR_REG_FIRST),
		   "REG_MR of the first registration"))
		return;

	if (!CHECK(!race_recv(r, data, WR_RECV_DATA, SLOT_RECV_DATA) &&
		   !race_recv(r, ctl, WR_RECV_GO, SLOT_RECV_GO) &&
		   !race_recv(r, ctl, WR_RECV_END, SLOT_RECV_END),
		   "post the receives"))
		return;
	*info = (struct race_info){
		.iova = cpu_to_be64(iova),
		.rkey = cpu_to_be32(rkey_first),
		.npages = cpu_to_be32(RACE_NPAGES),
		.kpages = cpu_to_be32(RACE_KPAGES),
		.page_size = cpu_to_be32(PAGE_SIZE),
	};
	if (!CHECK(!race_send(r, ctl, WR_INFO, SLOT_INFO, sizeof(*info)) &&
		   race_ok(r, WR_INFO), "send the peer iova and STag %#x",
		   rkey_first))
		return;

	/* The peer's cue: its Read or Write is under way and held up. */
	if (m == READ_SENDINV) {
		wc = race_wc(r, WR_RECV_DATA);
		if (!CHECK(wc && wc->status == IB_WC_SUCCESS &&
			   (wc->wc_flags & IB_WC_WITH_INVALIDATE) &&
			   wc->ex.invalidate_rkey == rkey_first,
			   "the peer's Send with Invalidate of %#x arrived",
			   rkey_first))
			return;
	} else if (!CHECK(race_ok(r, WR_RECV_GO), "the peer's cue arrived")) {
		return;
	}
	/*
	 * The Write's first page must have been placed under the first
	 * registration, or what follows tests nothing about placement.
	 */
	if (m == WRITE_LOCALINV &&
	    !CHECK(race_written(r, RACE_KPAGES - 1),
		   "the Write's first page landed before the re-registration"))
		return;
	/*
	 * On the control QP: the data QP's transmitter is held up by the
	 * peer, and its send queue would wait behind the Read Response.
	 */
	if (m != READ_SENDINV &&
	    !CHECK(!race_inv(ctl, WR_INV, rkey_first) && race_ok(r, WR_INV),
		   "LOCAL_INV of %#x", rkey_first))
		return;
	for (i = 0; i < RACE_NPAGES; i++)
		memcpy(r->snap + i * PAGE_SIZE, page_address(r->first[i]),
		       PAGE_SIZE);

	/*
	 * Registered anew as a ULP would after an invalidation: a new key,
	 * fewer pages. The iova stays (ULPs may set it, as xprtrdma does),
	 * so the old offsets past RACE_KPAGES pages index beyond the new
	 * page list instead of missing the registration as a whole.
	 */
	ib_update_fast_reg_key(r->mr, ib_inc_rkey(r->mr->rkey));
	n = ib_map_mr_sg(r->mr, r->sg_second, RACE_KPAGES, NULL, PAGE_SIZE);
	if (!CHECK(n == RACE_KPAGES, "map_mr_sg of %d other pages (%d)",
		   RACE_KPAGES, n))
		return;
	r->mr->iova = iova;
	if (!CHECK(!race_reg(r, ctl, WR_REG_SECOND) && race_ok(r, WR_REG_SECOND),
		   "REG_MR anew as %#x, %d pages", r->mr->rkey, RACE_KPAGES))
		return;
	*(__be32 *)(r->msg + SLOT_DONE * RACE_MSG) = cpu_to_be32(r->mr->rkey);
	if (!CHECK(!race_send(r, ctl, WR_DONE, SLOT_DONE, RACE_MSG) &&
		   race_ok(r, WR_DONE), "tell the peer to go on"))
		return;

	/* The peer has finished (or gone, which flushes the receive). */
	wc = race_wc(r, WR_RECV_END);
	CHECK(wc, "the peer finished");

	n = race_changed(r->second, RACE_KPAGES, RACE_TAG_SECOND);
	CHECK(n == RACE_KPAGES,
	      "nothing placed in the second registration's pages (first %d of %d unchanged)",
	      n, RACE_KPAGES);
	for (i = 0; i < RACE_NPAGES; i++)
		if (memcmp(r->snap + i * PAGE_SIZE, page_address(r->first[i]),
			   PAGE_SIZE))
			break;
	CHECK(i == RACE_NPAGES,
	      "nothing placed in the first registration's pages after it ended (first %d of %d unchanged)",
	      i, RACE_NPAGES);
	CHECK(!ib_query_qp(data->id->qp, &qattr, IB_QP_STATE, &qinit) &&
	      qattr.qp_state == IB_QPS_ERR,
	      "the data QP failed (state %d)", qattr.qp_state);
}

static void race_teardown(struct race *r)
{
	int i;

	for (i = 0; i < 2; i++)
		if (r->conn[i].id && r->conn[i].id->qp)
			rdma_disconnect(r->conn[i].id);
	for (i = 0; i < 2; i++)
		if (r->conn[i].id && r->conn[i].id->qp)
			rdma_destroy_qp(r->conn[i].id);
	if (r->mr)
		ib_dereg_mr(r->mr);
	if (r->cq)
		ib_destroy_cq(r->cq);
	if (r->msg_mapped)
		ib_dma_unmap_single(r->ibdev, r->msg_dma, PAGE_SIZE,
				    DMA_BIDIRECTIONAL);
	if (r->pd)
		ib_dealloc_pd(r->pd);
	for (i = 0; i < 2; i++)
		if (r->conn[i].id)
			rdma_destroy_id(r->conn[i].id);
	if (r->first_mapped)
		ib_dma_unmap_sg(r->ibdev, r->sg_first, RACE_NPAGES,
				DMA_BIDIRECTIONAL);
	if (r->second_mapped)
		ib_dma_unmap_sg(r->ibdev, r->sg_second, RACE_KPAGES,
				DMA_BIDIRECTIONAL);
	for (i = 0; i < RACE_NPAGES; i++)
		if (r->first[i])
			__free_page(r->first[i]);
	for (i = 0; i < RACE_KPAGES; i++)
		if (r->second[i])
			__free_page(r->second[i]);
	vfree(r->snap);
	kfree(r->msg);
	kfree(r);
}

static int __init race_init(void)
{
	static const char * const modes[] = {
		[READ_SENDINV] = "read-sendinv",
		[READ_LOCALINV] = "read-localinv",
		[WRITE_LOCALINV] = "write-localinv",
	};
	struct sockaddr_in dst = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	struct race *r;
	int m, i, rv = 0;

	m = match_string(modes, ARRAY_SIZE(modes), mode);
	if (m < 0 || !in4_pton(addr, -1, (u8 *)&dst.sin_addr.s_addr, -1, NULL) ||
	    !port) {
		pr_err("siw_frmr_race: needs mode=%s|%s|%s addr=IPv4 port=N\n",
		       modes[0], modes[1], modes[2]);
		return -EINVAL;
	}
	r = kzalloc(sizeof(*r), GFP_KERNEL);
	if (!r)
		return -ENOMEM;
	r->msg = kzalloc(PAGE_SIZE, GFP_KERNEL);
	if (!r->msg) {
		kfree(r);
		return -ENOMEM;
	}
	pr_info("siw_frmr_race: mode %s, peer %pI4:%u\n", mode,
		&dst.sin_addr.s_addr, port);
	for (i = 0; i < 2 && !rv; i++)
		rv = race_connect(r, &r->conn[i], &dst);
	if (CHECK(!rv, "connect twice to the peer (%d)", rv)) {
		r->msg_dma = ib_dma_map_single(r->ibdev, r->msg, PAGE_SIZE,
					       DMA_BIDIRECTIONAL);
		r->msg_mapped = true;
		race_run(r, m);
	}
	race_teardown(r);
	pr_info("siw_frmr_race: %d failed\n", failures);
	/* The module's only purpose is the run: never stay loaded. */
	return failures ? -EIO : -ECANCELED;
}

module_init(race_init);
