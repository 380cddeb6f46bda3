/*
 * verbs_test: shared receive queues.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_test.h"

#define SRQ_WR		64
#define SRQ_RECVS	20
#define SRQ_LIMIT	10

/* Returns the errno of a refused SRQ, 0 if it was created (and destroyed). */
static int create_srq_err(struct ibv_pd *pd, uint32_t max_wr,
			  uint32_t max_sge)
{
	struct ibv_srq_init_attr ia = { .attr = { max_wr, max_sge, 0 } };
	struct ibv_srq *srq = ibv_create_srq(pd, &ia);

	if (!srq)
		return errno;
	ibv_destroy_srq(srq);
	return 0;
}

int test_srq(struct test *t)
{
	const struct ibv_device_attr *a = &t->env->attr;
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_qp_init_attr qia;
	struct ibv_srq_init_attr ia;
	struct ibv_srq_attr sa;
	struct ibv_srq *srq = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_qp *qp = NULL;
	char *buf = NULL;
	uint32_t max_wr;
	int rc, err, ret = -1;

	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");

	/* ibv_create_srq writes the granted sizes back into ia.attr */
	memset(&ia, 0, sizeof(ia));
	ia.attr.max_wr = a->max_srq_wr;
	ia.attr.max_sge = a->max_srq_sge;
	srq = ibv_create_srq(pd, &ia);
	CHECK_ERR(srq, errno, "SRQ with max_wr %d max_sge %d (device limits)",
		  a->max_srq_wr, a->max_srq_sge);
	CHECK(ia.attr.max_wr >= (uint32_t)a->max_srq_wr &&
	      ia.attr.max_sge >= (uint32_t)a->max_srq_sge,
	      "SRQ granted max_wr %u max_sge %u, less than requested",
	      ia.attr.max_wr, ia.attr.max_sge);
	rc = ibv_destroy_srq(srq);
	srq = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_srq");

	err = create_srq_err(pd, (uint32_t)a->max_srq_wr + 1, 1);
	CHECK_ERR(err == EINVAL, err, "SRQ max_wr max_srq_wr + 1 must fail with EINVAL");
	err = create_srq_err(pd, SRQ_WR, (uint32_t)a->max_srq_sge + 1);
	CHECK_ERR(err == EINVAL, err, "SRQ max_sge max_srq_sge + 1 must fail with EINVAL");

	memset(&ia, 0, sizeof(ia));
	ia.attr.max_wr = SRQ_WR;
	ia.attr.max_sge = 1;
	srq = ibv_create_srq(pd, &ia);
	CHECK_ERR(srq, errno, "ibv_create_srq");
	max_wr = ia.attr.max_wr;

	memset(&sa, 0, sizeof(sa));
	sa.srq_limit = SRQ_LIMIT;
	rc = ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT);
	CHECK_ERR(rc == 0, rc, "arming the SRQ limit at %d", SRQ_LIMIT);
	rc = ibv_query_srq(srq, &sa);
	if (rc == EOPNOTSUPP) {
		/* libsiw has no query_srq; libibverbs answers for it */
		test_note(t, "ibv_query_srq unsupported by the provider");
	} else {
		CHECK_ERR(rc == 0, rc, "ibv_query_srq");
		CHECK(sa.srq_limit == SRQ_LIMIT && sa.max_wr >= SRQ_WR,
		      "query shows limit %u max_wr %u, expected %d and >= %d",
		      sa.srq_limit, sa.max_wr, SRQ_LIMIT, SRQ_WR);
	}
	sa.srq_limit = max_wr + 1;
	rc = ibv_modify_srq(srq, &sa, IBV_SRQ_LIMIT);
	CHECK_ERR(rc == EINVAL, rc,
		  "SRQ limit %u above max_wr %u must fail with EINVAL",
		  sa.srq_limit, max_wr);
	sa.max_wr = 2 * max_wr;
	rc = ibv_modify_srq(srq, &sa, IBV_SRQ_MAX_WR);
	CHECK(rc != 0, "resizing an SRQ succeeded but is not supported");

	rc_qp_init_attr(&qia, cq, cq, srq, 4);
	qp = ibv_create_qp(pd, &qia);
	CHECK_ERR(qp, errno, "ibv_create_qp on the SRQ");

	buf = calloc(SRQ_RECVS, RECV_SLOT);
	CHECK_ERR(buf, errno, "calloc");
	mr = ibv_reg_mr(pd, buf, SRQ_RECVS * RECV_SLOT, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(mr, errno, "ibv_reg_mr");
	rc = post_recvs(NULL, srq, mr, 0, SRQ_RECVS);
	CHECK_ERR(rc == 0, rc, "posting %d SRQ receives", SRQ_RECVS);

	rc = ibv_destroy_qp(qp);
	qp = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_qp");
	rc = ibv_destroy_srq(srq);
	srq = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_srq with posted receives");
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	if (srq)
		ibv_destroy_srq(srq);
	if (mr)
		ibv_dereg_mr(mr);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	free(buf);
	return ret;
}
