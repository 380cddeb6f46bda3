/*
 * verbs_test: memory registration.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "verbs_test.h"

#define MR_BUF_SIZE	(1 << 20)
#define RO_SIZE		(4 * 4096)
#define MR_ROUNDS	100

static const int access_combos[] = {
	IBV_ACCESS_LOCAL_WRITE,
	IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE,
	IBV_ACCESS_REMOTE_READ,
	IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ |
		IBV_ACCESS_REMOTE_WRITE,
};

int test_mr(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_mr *mrs[ARRAY_SIZE(access_combos)] = { NULL };
	uint32_t rkeys[MR_ROUNDS];
	struct ibv_mr *mr = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_qp *qp = NULL;
	void *ro = MAP_FAILED;
	struct ibv_mw *mw;
	char *buf = NULL;
	int rc, err, ret = -1;
	size_t i, j;

	buf = malloc(MR_BUF_SIZE);
	CHECK_ERR(buf, errno, "malloc");
	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");

	/* All combinations at once over the same buffer: keys must differ */
	for (i = 0; i < ARRAY_SIZE(access_combos); i++) {
		mrs[i] = ibv_reg_mr(pd, buf, MR_BUF_SIZE, access_combos[i]);
		CHECK_ERR(mrs[i], errno, "ibv_reg_mr access 0x%x",
			  access_combos[i]);
		CHECK(mrs[i]->lkey && mrs[i]->rkey,
		      "access 0x%x: lkey 0x%x rkey 0x%x", access_combos[i],
		      mrs[i]->lkey, mrs[i]->rkey);
		for (j = 0; j < i; j++)
			CHECK(mrs[i]->lkey != mrs[j]->lkey &&
			      mrs[i]->rkey != mrs[j]->rkey,
			      "MRs %zu and %zu share a key (0x%x/0x%x)", j, i,
			      mrs[i]->lkey, mrs[i]->rkey);
	}
	for (i = 0; i < ARRAY_SIZE(access_combos); i++) {
		rc = ibv_dereg_mr(mrs[i]);
		mrs[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_dereg_mr access 0x%x",
			  access_combos[i]);
	}

	err = reg_mr_err(pd, buf, MR_BUF_SIZE, IBV_ACCESS_REMOTE_WRITE);
	CHECK_ERR(err == EINVAL, err,
		  "REMOTE_WRITE without LOCAL_WRITE must fail with EINVAL");
	err = reg_mr_err(pd, buf, 0, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(err == EINVAL, err, "zero-length MR must fail with EINVAL");
	err = reg_mr_err(pd, NULL, 4096, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(err == EFAULT || err == EINVAL, err,
		  "MR at NULL must fail with EFAULT or EINVAL");

	/*
	 * Fault the pages in before write-protecting them, so the pin below
	 * sees ordinary anonymous pages rather than the shared zero page.
	 */
	ro = mmap(NULL, RO_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK_ERR(ro != MAP_FAILED, errno, "mmap");
	memset(ro, 0xa5, RO_SIZE);
	CHECK_ERR(mprotect(ro, RO_SIZE, PROT_READ) == 0, errno, "mprotect");
	err = reg_mr_err(pd, ro, RO_SIZE, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(err == EFAULT || err == EPERM, err,
		  "LOCAL_WRITE MR on read-only memory must fail with EFAULT or EPERM");
	mr = ibv_reg_mr(pd, ro, RO_SIZE, 0);
	CHECK_ERR(mr, errno, "read-only MR on read-only memory");
	rc = ibv_dereg_mr(mr);
	mr = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_dereg_mr of the read-only MR");

	/* A freed STag must not come back with the same key right away */
	for (i = 0; i < MR_ROUNDS; i++) {
		mr = ibv_reg_mr(pd, buf, MR_BUF_SIZE,
				IBV_ACCESS_LOCAL_WRITE |
				IBV_ACCESS_REMOTE_READ |
				IBV_ACCESS_REMOTE_WRITE);
		CHECK_ERR(mr, errno, "ibv_reg_mr round %zu", i);
		rkeys[i] = mr->rkey;
		rc = ibv_dereg_mr(mr);
		mr = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_dereg_mr round %zu", i);
		for (j = 0; j < i; j++)
			CHECK(rkeys[j] != rkeys[i],
			      "rkey 0x%x of round %zu was already used in round %zu",
			      rkeys[i], i, j);
	}

	mw = ibv_alloc_mw(pd, IBV_MW_TYPE_1);
	err = mw ? 0 : errno;
	if (mw)
		ibv_dealloc_mw(mw);
	CHECK_ERR(err == EOPNOTSUPP || err == ENOSYS, err,
		  "ibv_alloc_mw must fail with EOPNOTSUPP or ENOSYS");

	/* An MR is not tied to the QPs of its PD */
	cq = ibv_create_cq(ctx, 4, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");
	qp = create_rc_qp(pd, cq, cq, NULL, 4);
	CHECK_ERR(qp, errno, "ibv_create_qp");
	mr = ibv_reg_mr(pd, buf, MR_BUF_SIZE, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(mr, errno, "ibv_reg_mr next to a QP");
	rc = ibv_dereg_mr(mr);
	mr = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_dereg_mr while a QP exists");
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	if (cq)
		ibv_destroy_cq(cq);
	if (mr)
		ibv_dereg_mr(mr);
	for (i = 0; i < ARRAY_SIZE(mrs); i++)
		if (mrs[i])
			ibv_dereg_mr(mrs[i]);
	if (pd)
		ibv_dealloc_pd(pd);
	if (ro != MAP_FAILED)
		munmap(ro, RO_SIZE);
	free(buf);
	return ret;
}
