// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libibverbs provider for the siw user ABI (include/siw_abi.h).
 *
 * Control operations go to the kernel through libibverbs' command
 * helpers. The data path stays in user space: work requests are written
 * into the mapped SQ/RQ/SRQ, completions are read from the mapped CQ,
 * and CQs are armed through the control word behind the CQ ring. The
 * only data path system call is the SQ doorbell.
 */
#define _GNU_SOURCE	/* secure_getenv() */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "provider_abi.h"
#include "siw_lock.h"
#include "siw_queue.h"

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct siw_udev {
	struct verbs_device base;
};

struct siw_uctx {
	struct verbs_context base;
	uint32_t dev_id;
};

/* A QP as one CQ knows it: completions name their QP by number only. */
struct siw_cq_ref {
	uint32_t qp_num;
	struct siw_uqp *qp;
	struct siw_cq_ref *next;
};

#define SIW_CQ_QP_BUCKETS 64

struct siw_ucq {
	struct verbs_cq base;
	struct siw_lock lock;	/* ring, qps and last */
	struct siw_ring ring;
	struct siw_abi_cq_ctrl *ctrl;
	void *map;
	size_t map_len;
	uint32_t id;
	struct siw_cq_ref *qps[SIW_CQ_QP_BUCKETS];
	struct siw_cq_ref *last;	/* most completions are the last QP's */
};

struct siw_usrq;

struct siw_uqp {
	struct verbs_qp base;
	struct siw_lock sq_lock;
	struct siw_lock rq_lock;
	struct siw_ring sq;
	struct siw_ring rq;
	struct siw_sq_track sq_track;
	struct siw_rq_track rq_track;
	struct siw_ucq *scq, *rcq;
	struct siw_cq_ref scq_ref, rcq_ref;
	struct siw_usrq *srq;
	void *sq_map;
	size_t sq_len;
	void *rq_map;		/* NULL on an SRQ */
	size_t rq_len;
	uint32_t max_send_sge;
	uint32_t max_recv_sge;
	uint32_t max_inline;
	bool sig_all;
};

struct siw_usrq {
	struct verbs_srq base;
	struct siw_lock lock;
	struct siw_ring rq;
	struct siw_rq_track track;
	void *map;
	size_t map_len;
	uint32_t max_sge;
};

struct siw_cmd_reg_mr {
	struct ibv_reg_mr ibv_cmd;
	struct siw_abi_req_reg_mr siw;
};

struct siw_resp_reg_mr {
	struct ib_uverbs_reg_mr_resp ibv_resp;
	struct siw_abi_resp_reg_mr siw;
};

struct siw_resp_alloc_ctx {
	struct ib_uverbs_get_context_resp ibv_resp;
	struct siw_abi_resp_alloc_ctx siw;
};

struct siw_resp_create_cq {
	struct ib_uverbs_create_cq_resp ibv_resp;
	struct siw_abi_resp_create_cq siw;
};

struct siw_resp_create_qp {
	struct ib_uverbs_create_qp_resp ibv_resp;
	struct siw_abi_resp_create_qp siw;
};

struct siw_resp_create_srq {
	struct ib_uverbs_create_srq_resp ibv_resp;
	struct siw_abi_resp_create_srq siw;
};

static inline struct siw_ucq *to_ucq(struct ibv_cq *cq)
{
	return container_of(cq, struct siw_ucq, base.cq);
}

static inline struct siw_uqp *to_uqp(struct ibv_qp *qp)
{
	return container_of(qp, struct siw_uqp, base.qp);
}

static inline struct siw_usrq *to_usrq(struct ibv_srq *srq)
{
	return container_of(srq, struct siw_usrq, base.srq);
}

/*
 * Set SIW_USERLIB_TRACE to see which provider serves a process: to an
 * absolute path, the line is appended to that file (so a test can count
 * the contexts of all its processes), otherwise it goes to stderr.
 */
static void siw_trace(const char *what, const char *dev)
{
	/*
	 * Not in set-user-ID programs: their caller must not choose a file
	 * for them to write to.
	 */
	const char *to = secure_getenv("SIW_USERLIB_TRACE");
	char line[128];
	int fd, len;

	if (!to)
		return;
	len = snprintf(line, sizeof(line), "siw-userlib: %s %s\n", what, dev);
	if (len <= 0 || (size_t)len >= sizeof(line))
		return;
	if (to[0] != '/') {
		fputs(line, stderr);
		return;
	}
	/* One write(2) with O_APPEND: lines of concurrent processes stay whole. */
	fd = open(to, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, line, len) != len)
		fprintf(stderr, "siw-userlib: cannot write trace to %s\n", to);
	close(fd);
}

/* The kernel's mappings are whole pages. */
static void *siw_map(int fd, uint64_t key, size_t len, size_t *map_len)
{
	size_t page = sysconf(_SC_PAGESIZE);
	void *p;

	if (key == SIW_ABI_INVAL_UOBJ_KEY)
		return NULL;
	*map_len = (len + page - 1) & ~(page - 1);
	p = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, key);
	return p == MAP_FAILED ? NULL : p;
}

static void siw_unmap(void *p, size_t len)
{
	if (p)
		munmap(p, len);
}

/* --- device, port, PD, MR ------------------------------------------------ */

static int siw_query_device_ex(struct ibv_context *ctx,
			       const struct ibv_query_device_ex_input *input,
			       struct ibv_device_attr_ex *attr,
			       size_t attr_size)
{
	struct ib_uverbs_ex_query_device_resp resp;
	size_t resp_size = sizeof(resp);
	uint64_t fw;
	int rv;

	rv = ibv_cmd_query_device_any(ctx, input, attr, attr_size, &resp,
				      &resp_size);
	if (rv)
		return rv;
	/* The kernel packs major.minor.subminor as 32.16.16 bits. */
	fw = resp.base.fw_ver;
	snprintf(attr->orig_attr.fw_ver, sizeof(attr->orig_attr.fw_ver),
		 "%u.%u.%u", (unsigned int)(fw >> 32),
		 (unsigned int)(fw >> 16) & 0xffff, (unsigned int)fw & 0xffff);
	return 0;
}

static int siw_query_port(struct ibv_context *ctx, uint8_t port,
			  struct ibv_port_attr *attr)
{
	struct ibv_query_port cmd;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_query_port(ctx, port, attr, &cmd, sizeof(cmd));
}

static struct ibv_pd *siw_alloc_pd(struct ibv_context *ctx)
{
	struct ib_uverbs_alloc_pd_resp resp;
	struct ibv_alloc_pd cmd;
	struct ibv_pd *pd;
	int rv;

	pd = calloc(1, sizeof(*pd));
	if (!pd)
		return NULL;
	rv = ibv_cmd_alloc_pd(ctx, pd, &cmd, sizeof(cmd), &resp, sizeof(resp));
	if (rv) {
		free(pd);
		errno = rv;
		return NULL;
	}
	return pd;
}

static int siw_dealloc_pd(struct ibv_pd *pd)
{
	int rv = ibv_cmd_dealloc_pd(pd);

	if (!rv)
		free(pd);
	return rv;
}

static struct ibv_mr *siw_reg_mr(struct ibv_pd *pd, void *addr, size_t len,
				 uint64_t hca_va, int access)
{
	struct siw_cmd_reg_mr cmd;
	struct siw_resp_reg_mr resp;
	struct verbs_mr *vmr;
	int rv;

	vmr = calloc(1, sizeof(*vmr));
	if (!vmr)
		return NULL;
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	rv = ibv_cmd_reg_mr(pd, addr, len, hca_va, access, vmr, &cmd.ibv_cmd,
			    sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (rv) {
		free(vmr);
		errno = rv;
		return NULL;
	}
	return &vmr->ibv_mr;
}

static int siw_dereg_mr(struct verbs_mr *vmr)
{
	int rv = ibv_cmd_dereg_mr(vmr);

	if (!rv)
		free(vmr);
	return rv;
}

/* Memory windows are not supported by siw. */
static struct ibv_mw *siw_alloc_mw(struct ibv_pd *pd, enum ibv_mw_type type)
{
	(void)pd;
	(void)type;
	errno = EOPNOTSUPP;
	return NULL;
}

/* --- CQ -------------------------------------------------------------------- */

static struct ibv_cq *siw_create_cq(struct ibv_context *ctx, int cqe,
				    struct ibv_comp_channel *channel,
				    int comp_vector)
{
	struct siw_resp_create_cq resp;
	struct ibv_create_cq cmd;
	struct siw_ucq *cq;
	size_t len;
	int rv;

	cq = calloc(1, sizeof(*cq));
	if (!cq)
		return NULL;
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	rv = ibv_cmd_create_cq(ctx, cqe, channel, comp_vector, &cq->base.cq,
			       &cmd, sizeof(cmd), &resp.ibv_resp, sizeof(resp));
	if (rv) {
		errno = rv;
		goto err_free;
	}
	cq->id = resp.siw.cq_id;
	len = (size_t)resp.siw.num_cqe * sizeof(struct siw_abi_cqe) +
	      sizeof(struct siw_abi_cq_ctrl);
	cq->map = siw_map(ctx->cmd_fd, resp.siw.cq_key, len, &cq->map_len);
	if (!cq->map ||
	    siw_ring_init(&cq->ring, cq->map, resp.siw.num_cqe,
			  sizeof(struct siw_abi_cqe), 0)) {
		errno = ENOMEM;
		goto err_destroy;
	}
	cq->ctrl = (struct siw_abi_cq_ctrl *)
		   ((struct siw_abi_cqe *)cq->map + resp.siw.num_cqe);
	return &cq->base.cq;

err_destroy:
	rv = errno;
	siw_unmap(cq->map, cq->map_len);
	ibv_cmd_destroy_cq(&cq->base.cq);
	errno = rv;
err_free:
	free(cq);
	return NULL;
}

static int siw_destroy_cq(struct ibv_cq *ibcq)
{
	struct siw_ucq *cq = to_ucq(ibcq);
	int rv = ibv_cmd_destroy_cq(ibcq);

	if (rv)
		return rv;
	siw_unmap(cq->map, cq->map_len);
	free(cq);
	return 0;
}

static const enum ibv_wc_opcode siw_wc_opcode[SIW_ABI_NUM_OPCODES] = {
	[SIW_ABI_OP_WRITE] = IBV_WC_RDMA_WRITE,
	[SIW_ABI_OP_READ] = IBV_WC_RDMA_READ,
	[SIW_ABI_OP_READ_LOCAL_INV] = IBV_WC_RDMA_READ,
	[SIW_ABI_OP_SEND] = IBV_WC_SEND,
	[SIW_ABI_OP_SEND_WITH_IMM] = IBV_WC_SEND,
	[SIW_ABI_OP_SEND_REMOTE_INV] = IBV_WC_SEND,
	[SIW_ABI_OP_FETCH_AND_ADD] = IBV_WC_FETCH_ADD,
	[SIW_ABI_OP_COMP_AND_SWAP] = IBV_WC_COMP_SWAP,
	[SIW_ABI_OP_RECEIVE] = IBV_WC_RECV,
	[SIW_ABI_OP_READ_RESPONSE] = IBV_WC_RDMA_READ,
	[SIW_ABI_OP_INVAL_STAG] = IBV_WC_LOCAL_INV,
	[SIW_ABI_OP_REG_MR] = IBV_WC_BIND_MW,
};

static const enum ibv_wc_status siw_wc_status[SIW_ABI_NUM_WC_STATUS] = {
	[SIW_ABI_WC_SUCCESS] = IBV_WC_SUCCESS,
	[SIW_ABI_WC_LOC_LEN_ERR] = IBV_WC_LOC_LEN_ERR,
	[SIW_ABI_WC_LOC_PROT_ERR] = IBV_WC_LOC_PROT_ERR,
	[SIW_ABI_WC_LOC_QP_OP_ERR] = IBV_WC_LOC_QP_OP_ERR,
	[SIW_ABI_WC_WR_FLUSH_ERR] = IBV_WC_WR_FLUSH_ERR,
	[SIW_ABI_WC_BAD_RESP_ERR] = IBV_WC_BAD_RESP_ERR,
	[SIW_ABI_WC_LOC_ACCESS_ERR] = IBV_WC_LOC_ACCESS_ERR,
	[SIW_ABI_WC_REM_ACCESS_ERR] = IBV_WC_REM_ACCESS_ERR,
	[SIW_ABI_WC_REM_INV_REQ_ERR] = IBV_WC_REM_INV_REQ_ERR,
	[SIW_ABI_WC_GENERAL_ERR] = IBV_WC_GENERAL_ERR,
};

static void siw_cqe_to_wc(const struct siw_abi_cqe *cqe, struct ibv_wc *wc)
{
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = cqe->id;
	wc->byte_len = cqe->bytes;
	wc->qp_num = (uint32_t)cqe->qp_id;
	wc->status = cqe->status < SIW_ABI_NUM_WC_STATUS ?
		     siw_wc_status[cqe->status] : IBV_WC_GENERAL_ERR;
	wc->opcode = cqe->opcode < SIW_ABI_NUM_OPCODES ?
		     siw_wc_opcode[cqe->opcode] : IBV_WC_SEND;
	if (cqe->flags & SIW_ABI_WQE_REM_INVAL) {
		wc->wc_flags = IBV_WC_WITH_INV;
		wc->invalidated_rkey = cqe->inval_stag;
	}
}

static void siw_cq_attach(struct siw_ucq *cq, struct siw_cq_ref *ref,
			  struct siw_uqp *qp)
{
	struct siw_cq_ref **head;

	ref->qp = qp;
	ref->qp_num = qp->base.qp.qp_num;
	head = &cq->qps[ref->qp_num % SIW_CQ_QP_BUCKETS];
	siw_lock(&cq->lock);
	ref->next = *head;
	*head = ref;
	siw_unlock(&cq->lock);
}

static void siw_cq_detach(struct siw_ucq *cq, struct siw_cq_ref *ref)
{
	struct siw_cq_ref **p = &cq->qps[ref->qp_num % SIW_CQ_QP_BUCKETS];

	siw_lock(&cq->lock);
	while (*p && *p != ref)
		p = &(*p)->next;
	if (*p)
		*p = ref->next;
	if (cq->last == ref)
		cq->last = NULL;
	siw_unlock(&cq->lock);
}

/* Caller holds cq->lock. NULL for a QP destroyed since. */
static struct siw_uqp *siw_cq_find_qp(struct siw_ucq *cq, uint32_t qp_num)
{
	struct siw_cq_ref *ref = cq->last;

	if (ref && ref->qp_num == qp_num)
		return ref->qp;
	for (ref = cq->qps[qp_num % SIW_CQ_QP_BUCKETS]; ref; ref = ref->next) {
		if (ref->qp_num == qp_num) {
			cq->last = ref;
			return ref->qp;
		}
	}
	return NULL;
}

/*
 * The consumer has seen this completion (@wc, already filled in): its
 * queue slot may be reused.
 */
static void siw_cq_account(struct siw_ucq *cq, const struct ibv_wc *wc)
{
	struct siw_uqp *qp = siw_cq_find_qp(cq, wc->qp_num);

	if (!qp)
		return;
	if (wc->opcode == IBV_WC_RECV)
		siw_rq_polled(qp->srq ? &qp->srq->track : &qp->rq_track);
	else
		siw_sq_polled(&qp->sq_track, &qp->sq,
			      wc->status == IBV_WC_SUCCESS);
}

static int siw_poll_cq(struct ibv_cq *ibcq, int num, struct ibv_wc *wc)
{
	struct siw_ucq *cq = to_ucq(ibcq);
	struct siw_abi_cqe *cqe;
	int n;

	siw_lock(&cq->lock);
	for (n = 0; n < num; n++) {
		cqe = siw_cq_peek(&cq->ring);
		if (!cqe)
			break;
		siw_cqe_to_wc(cqe, &wc[n]);
		/*
		 * The CQE slot is freed before the work queue slot whose
		 * completion it was: a request posted into that slot may
		 * complete at once, and with the CQ full its completion goes
		 * exactly where this one still is.
		 */
		siw_cq_release(&cq->ring, cqe);
		siw_cq_account(cq, &wc[n]);
	}
	siw_unlock(&cq->lock);
	return n;
}

static int siw_req_notify_cq(struct ibv_cq *ibcq, int solicited_only)
{
	struct siw_ucq *cq = to_ucq(ibcq);

	/* A CQE already waiting is the application's to poll; not an error. */
	siw_cq_arm(&cq->ring, cq->ctrl, solicited_only);
	return 0;
}

/* --- SRQ ------------------------------------------------------------------- */

static struct ibv_srq *siw_create_srq(struct ibv_pd *pd,
				      struct ibv_srq_init_attr *attr)
{
	struct siw_resp_create_srq resp;
	struct ibv_create_srq cmd;
	struct siw_usrq *srq;
	int rv;

	srq = calloc(1, sizeof(*srq));
	if (!srq)
		return NULL;
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	rv = ibv_cmd_create_srq(pd, &srq->base.srq, attr, &cmd, sizeof(cmd),
				&resp.ibv_resp, sizeof(resp));
	if (rv) {
		errno = rv;
		goto err_free;
	}
	srq->max_sge = attr->attr.max_sge;
	srq->map = siw_map(pd->context->cmd_fd, resp.siw.srq_key,
			   (size_t)resp.siw.num_rqe * sizeof(struct siw_abi_rqe),
			   &srq->map_len);
	if (!srq->map ||
	    siw_ring_init(&srq->rq, srq->map, resp.siw.num_rqe,
			  sizeof(struct siw_abi_rqe), 0)) {
		siw_unmap(srq->map, srq->map_len);
		ibv_cmd_destroy_srq(&srq->base.srq);
		errno = ENOMEM;
		goto err_free;
	}
	return &srq->base.srq;

err_free:
	free(srq);
	return NULL;
}

static int siw_modify_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr,
			  int mask)
{
	struct ibv_modify_srq cmd;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_modify_srq(srq, attr, mask, &cmd, sizeof(cmd));
}

static int siw_query_srq(struct ibv_srq *srq, struct ibv_srq_attr *attr)
{
	struct ibv_query_srq cmd;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_query_srq(srq, attr, &cmd, sizeof(cmd));
}

static int siw_destroy_srq(struct ibv_srq *ibsrq)
{
	struct siw_usrq *srq = to_usrq(ibsrq);
	int rv = ibv_cmd_destroy_srq(ibsrq);

	if (rv)
		return rv;
	siw_unmap(srq->map, srq->map_len);
	free(srq);
	return 0;
}

/*
 * Receive WRs into a mapped RQ or SRQ. Returns 0 or a positive errno
 * with *bad_wr at the first WR not posted, as libibverbs callers expect.
 */
static int siw_post_rq(struct siw_ring *rq, struct siw_rq_track *track,
		       struct siw_lock *lock, uint32_t max_sge,
		       struct ibv_recv_wr *wr, struct ibv_recv_wr **bad_wr)
{
	struct siw_abi_rqe *rqe;
	int rv = 0, i;

	siw_lock(lock);
	for (; wr; wr = wr->next) {
		if (wr->num_sge < 0 || (uint32_t)wr->num_sge > max_sge ||
		    wr->num_sge > SIW_ABI_MAX_SGE) {
			rv = EINVAL;
			break;
		}
		rqe = siw_rq_room(track, rq) ? siw_wq_claim(rq) : NULL;
		if (!rqe) {
			rv = ENOMEM;
			break;
		}
		rqe->id = wr->wr_id;
		rqe->num_sge = wr->num_sge;
		for (i = 0; i < wr->num_sge; i++) {
			rqe->sge[i].laddr = wr->sg_list[i].addr;
			rqe->sge[i].length = wr->sg_list[i].length;
			rqe->sge[i].lkey = wr->sg_list[i].lkey;
		}
		siw_wq_publish(rq, rqe, 0);
	}
	siw_unlock(lock);
	if (rv)
		*bad_wr = wr;
	return rv;
}

static int siw_post_srq_recv(struct ibv_srq *ibsrq, struct ibv_recv_wr *wr,
			     struct ibv_recv_wr **bad_wr)
{
	struct siw_usrq *srq = to_usrq(ibsrq);

	return siw_post_rq(&srq->rq, &srq->track, &srq->lock, srq->max_sge, wr,
			   bad_wr);
}

/* --- QP -------------------------------------------------------------------- */

static void siw_qp_unmap(struct siw_uqp *qp)
{
	siw_unmap(qp->sq_map, qp->sq_len);
	siw_unmap(qp->rq_map, qp->rq_len);
	free(qp->sq_track.sig);
}

static struct ibv_qp *siw_create_qp(struct ibv_pd *pd,
				    struct ibv_qp_init_attr *attr)
{
	struct siw_resp_create_qp resp;
	struct ibv_create_qp cmd;
	struct siw_uqp *qp;
	int fd = pd->context->cmd_fd;
	int rv;

	qp = calloc(1, sizeof(*qp));
	if (!qp)
		return NULL;
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	rv = ibv_cmd_create_qp(pd, &qp->base.qp, attr, &cmd, sizeof(cmd),
			       &resp.ibv_resp, sizeof(resp));
	if (rv) {
		errno = rv;
		goto err_free;
	}
	qp->max_send_sge = attr->cap.max_send_sge;
	qp->max_recv_sge = attr->cap.max_recv_sge;
	qp->max_inline = attr->cap.max_inline_data;
	qp->sig_all = attr->sq_sig_all;

	qp->sq_map = siw_map(fd, resp.siw.sq_key,
			     (size_t)resp.siw.num_sqe * sizeof(struct siw_abi_sqe),
			     &qp->sq_len);
	qp->sq_track.sig = calloc(resp.siw.num_sqe ? resp.siw.num_sqe : 1,
				  sizeof(*qp->sq_track.sig));
	if (!qp->sq_map || !qp->sq_track.sig ||
	    siw_ring_init(&qp->sq, qp->sq_map, resp.siw.num_sqe,
			  sizeof(struct siw_abi_sqe), 0))
		goto err_destroy;
	/* A QP on an SRQ has no RQ; the kernel says so with num_rqe 0. */
	if (!attr->srq && resp.siw.num_rqe) {
		qp->rq_map = siw_map(fd, resp.siw.rq_key,
				     (size_t)resp.siw.num_rqe *
				     sizeof(struct siw_abi_rqe), &qp->rq_len);
		if (!qp->rq_map ||
		    siw_ring_init(&qp->rq, qp->rq_map, resp.siw.num_rqe,
				  sizeof(struct siw_abi_rqe), 0))
			goto err_destroy;
	}
	qp->srq = attr->srq ? to_usrq(attr->srq) : NULL;
	qp->scq = to_ucq(attr->send_cq);
	qp->rcq = to_ucq(attr->recv_cq);
	siw_cq_attach(qp->scq, &qp->scq_ref, qp);
	if (qp->rcq != qp->scq)
		siw_cq_attach(qp->rcq, &qp->rcq_ref, qp);
	return &qp->base.qp;

err_destroy:
	siw_qp_unmap(qp);
	ibv_cmd_destroy_qp(&qp->base.qp);
	errno = ENOMEM;
err_free:
	free(qp);
	return NULL;
}

static int siw_modify_qp(struct ibv_qp *ibqp, struct ibv_qp_attr *attr,
			 int mask)
{
	struct siw_uqp *qp = to_uqp(ibqp);
	struct ibv_modify_qp cmd;
	int rv;

	memset(&cmd, 0, sizeof(cmd));
	rv = ibv_cmd_modify_qp(ibqp, attr, mask, &cmd, sizeof(cmd));
	if (rv || !(mask & IBV_QP_STATE) || attr->qp_state != IBV_QPS_RESET)
		return rv;
	/* Reset drops every request without a completion. */
	siw_lock(&qp->sq_lock);
	siw_sq_reset(&qp->sq_track, &qp->sq);
	siw_unlock(&qp->sq_lock);
	if (qp->rq_map) {
		siw_lock(&qp->rq_lock);
		siw_rq_reset(&qp->rq_track, &qp->rq);
		siw_unlock(&qp->rq_lock);
	}
	return 0;
}

static int siw_query_qp(struct ibv_qp *qp, struct ibv_qp_attr *attr, int mask,
			struct ibv_qp_init_attr *init_attr)
{
	struct ibv_query_qp cmd;

	memset(&cmd, 0, sizeof(cmd));
	return ibv_cmd_query_qp(qp, attr, mask, init_attr, &cmd, sizeof(cmd));
}

static int siw_destroy_qp(struct ibv_qp *ibqp)
{
	struct siw_uqp *qp = to_uqp(ibqp);
	int rv = ibv_cmd_destroy_qp(ibqp);

	if (rv)
		return rv;
	siw_cq_detach(qp->scq, &qp->scq_ref);
	if (qp->rcq != qp->scq)
		siw_cq_detach(qp->rcq, &qp->rcq_ref);
	siw_qp_unmap(qp);
	free(qp);
	return 0;
}

/*
 * The doorbell: the legacy post_send command carrying no work requests.
 * The kernel then looks at the SQ (and, in Error, flushes it).
 */
static int siw_ring_doorbell(struct ibv_qp *qp)
{
	struct {
		struct ib_uverbs_cmd_hdr hdr;
		struct ib_uverbs_post_send req;
	} cmd;
	struct ib_uverbs_post_send_resp resp;

	memset(&cmd, 0, sizeof(cmd));
	cmd.hdr.command = IB_USER_VERBS_CMD_POST_SEND;
	cmd.hdr.in_words = sizeof(cmd) / 4;
	cmd.hdr.out_words = sizeof(resp) / 4;
	cmd.req.response = (uintptr_t)&resp;
	cmd.req.qp_handle = qp->handle;
	cmd.req.wr_count = 0;
	cmd.req.sge_count = 0;
	/* Checked by the kernel even when no WR follows. */
	cmd.req.wqe_size = sizeof(struct ib_uverbs_send_wr);
	if (write(qp->context->cmd_fd, &cmd, sizeof(cmd)) != sizeof(cmd))
		return errno ? errno : EIO;
	return 0;
}

static int siw_fill_sqe(struct siw_uqp *qp, struct siw_abi_sqe *sqe,
			struct ibv_send_wr *wr, uint16_t *flags)
{
	const struct siw_sge_src *sg = (const void *)wr->sg_list;
	unsigned int sf = wr->send_flags;

	sqe->id = wr->wr_id;
	switch (wr->opcode) {
	case IBV_WR_RDMA_READ:
		if (sf & IBV_SEND_INLINE)
			return EINVAL;
		sqe->opcode = SIW_ABI_OP_READ;
		sqe->raddr = wr->wr.rdma.remote_addr;
		sqe->rkey = wr->wr.rdma.rkey;
		break;
	case IBV_WR_RDMA_WRITE:
		sqe->opcode = SIW_ABI_OP_WRITE;
		sqe->raddr = wr->wr.rdma.remote_addr;
		sqe->rkey = wr->wr.rdma.rkey;
		break;
	case IBV_WR_SEND:
		sqe->opcode = SIW_ABI_OP_SEND;
		sqe->raddr = 0;
		sqe->rkey = 0;
		break;
	case IBV_WR_SEND_WITH_INV:
		sqe->opcode = SIW_ABI_OP_SEND_REMOTE_INV;
		sqe->raddr = 0;
		sqe->rkey = wr->invalidate_rkey;
		break;
	default:
		return EINVAL;
	}
	*flags = 0;
	if ((sf & IBV_SEND_SIGNALED) || qp->sig_all)
		*flags |= SIW_ABI_WQE_SIGNALLED;
	if (sf & IBV_SEND_SOLICITED)
		*flags |= SIW_ABI_WQE_SOLICITED;
	if (sf & IBV_SEND_FENCE)
		*flags |= SIW_ABI_WQE_READ_FENCE;

	if (sf & IBV_SEND_INLINE) {
		if (!siw_sqe_set_inline(sqe, sg, wr->num_sge))
			return EINVAL;
		if (sqe->sge[0].length > qp->max_inline)
			return EINVAL;
		*flags |= SIW_ABI_WQE_INLINE;
		return 0;
	}
	if (!siw_sqe_set_sges(sqe, sg, wr->num_sge, qp->max_send_sge))
		return EINVAL;
	return 0;
}

static int siw_post_send(struct ibv_qp *ibqp, struct ibv_send_wr *wr,
			 struct ibv_send_wr **bad_wr)
{
	struct siw_uqp *qp = to_uqp(ibqp);
	struct siw_abi_sqe *sqe;
	uint32_t first;
	uint16_t flags;
	int rv = 0, doorbell_rv = 0;
	bool doorbell;

	siw_lock(&qp->sq_lock);
	first = qp->sq.idx;
	for (; wr; wr = wr->next) {
		sqe = siw_sq_room(&qp->sq_track, &qp->sq) ?
		      siw_wq_claim(&qp->sq) : NULL;
		if (!sqe) {
			rv = ENOMEM;
			break;
		}
		rv = siw_fill_sqe(qp, sqe, wr, &flags);
		if (rv)
			break;
		siw_sq_posted(&qp->sq_track, &qp->sq, qp->sq.idx,
			      flags & SIW_ABI_WQE_SIGNALLED);
		siw_wq_publish(&qp->sq, sqe, flags);
	}
	doorbell = qp->sq.idx != first && siw_sq_needs_doorbell(&qp->sq, first);
	siw_unlock(&qp->sq_lock);
	/*
	 * Outside the lock: the kernel may transmit from within the doorbell
	 * call, and other threads posting meanwhile need not spin on it.
	 */
	if (doorbell)
		doorbell_rv = siw_ring_doorbell(ibqp);
	if (rv) {
		*bad_wr = wr;
		return rv;
	}
	/* All WRs are queued; a failed doorbell still fails the call. */
	if (doorbell_rv)
		*bad_wr = NULL;
	return doorbell_rv;
}

static int siw_post_recv(struct ibv_qp *ibqp, struct ibv_recv_wr *wr,
			 struct ibv_recv_wr **bad_wr)
{
	struct siw_uqp *qp = to_uqp(ibqp);

	if (!qp->rq_map) {
		/* The QP receives through its SRQ. */
		*bad_wr = wr;
		return EINVAL;
	}
	return siw_post_rq(&qp->rq, &qp->rq_track, &qp->rq_lock,
			   qp->max_recv_sge, wr, bad_wr);
}

/* --- context and registration --------------------------------------------- */

static void siw_free_context(struct ibv_context *ibctx)
{
	struct siw_uctx *ctx = container_of(ibctx, struct siw_uctx,
					    base.context);

	verbs_uninit_context(&ctx->base);
	free(ctx);
}

static const struct verbs_context_ops siw_ctx_ops = {
	.alloc_mw = siw_alloc_mw,
	.alloc_pd = siw_alloc_pd,
	.create_cq = siw_create_cq,
	.create_qp = siw_create_qp,
	.create_srq = siw_create_srq,
	.dealloc_pd = siw_dealloc_pd,
	.dereg_mr = siw_dereg_mr,
	.destroy_cq = siw_destroy_cq,
	.destroy_qp = siw_destroy_qp,
	.destroy_srq = siw_destroy_srq,
	.free_context = siw_free_context,
	.modify_qp = siw_modify_qp,
	.modify_srq = siw_modify_srq,
	.poll_cq = siw_poll_cq,
	.post_recv = siw_post_recv,
	.post_send = siw_post_send,
	.post_srq_recv = siw_post_srq_recv,
	.query_device_ex = siw_query_device_ex,
	.query_port = siw_query_port,
	.query_qp = siw_query_qp,
	.query_srq = siw_query_srq,
	.reg_mr = siw_reg_mr,
	.req_notify_cq = siw_req_notify_cq,
};

static struct verbs_context *siw_alloc_context(struct ibv_device *dev,
					       int cmd_fd, void *private_data)
{
	struct siw_resp_alloc_ctx resp;
	struct ibv_get_context cmd;
	struct siw_uctx *ctx;
	int rv;

	(void)private_data;
	ctx = _verbs_init_and_alloc_context(dev, cmd_fd, sizeof(*ctx),
					    &((struct siw_uctx *)NULL)->base,
					    RDMA_DRIVER_SIW);
	if (!ctx)
		return NULL;
	memset(&cmd, 0, sizeof(cmd));
	memset(&resp, 0, sizeof(resp));
	rv = ibv_cmd_get_context(&ctx->base, &cmd, sizeof(cmd),
				 &resp.ibv_resp, sizeof(resp));
	if (rv) {
		verbs_uninit_context(&ctx->base);
		free(ctx);
		errno = rv;
		return NULL;
	}
	ctx->dev_id = resp.siw.dev_id;
	verbs_set_ops(&ctx->base, &siw_ctx_ops);
	siw_trace("context for", dev->name);
	return &ctx->base;
}

static struct verbs_device *siw_alloc_device(struct verbs_sysfs_dev *sysfs)
{
	struct siw_udev *dev;

	(void)sysfs;
	dev = calloc(1, sizeof(*dev));
	return dev ? &dev->base : NULL;
}

static void siw_uninit_device(struct verbs_device *vdev)
{
	free(container_of(vdev, struct siw_udev, base));
}

static const struct verbs_match_ent siw_match_table[] = {
	{ .u.driver_id = RDMA_DRIVER_SIW, .kind = VERBS_MATCH_DRIVER_ID },
	{}
};

static const struct verbs_device_ops siw_dev_ops = {
	.name = "siw",
	.match_min_abi_version = SIW_ABI_VERSION_1,
	.match_max_abi_version = SIW_ABI_VERSION_1,
	.match_table = siw_match_table,
	.alloc_device = siw_alloc_device,
	.uninit_device = siw_uninit_device,
	.alloc_context = siw_alloc_context,
};

/* libibverbs dlopen()s us; registering from a constructor is its protocol. */
static void __attribute__((constructor)) siw_register(void)
{
	verbs_register_driver_34(&siw_dev_ops);
}
