/*
 * verbs_test: queue pair creation, state machine, flushing, bad arguments.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "verbs_test.h"

#define QP_MANY		256
#define FLUSH_RECVS	10
#define FLUSH_SEND_ID	100
#define LATE_RECV_ID	50
#define LATE_SEND_ID	101

/* Returns the errno of a refused QP, 0 if it was created (and destroyed). */
static int create_qp_err(struct ibv_pd *pd, const struct ibv_qp_init_attr *ia)
{
	struct ibv_qp_init_attr copy = *ia;
	struct ibv_qp *qp = ibv_create_qp(pd, &copy);

	if (!qp)
		return errno;
	ibv_destroy_qp(qp);
	return 0;
}

static int cap_covers(const struct ibv_qp_cap *got,
		      const struct ibv_qp_cap *want)
{
	return got->max_send_wr >= want->max_send_wr &&
	       got->max_recv_wr >= want->max_recv_wr &&
	       got->max_send_sge >= want->max_send_sge &&
	       got->max_recv_sge >= want->max_recv_sge &&
	       got->max_inline_data >= want->max_inline_data;
}

/*
 * Create a QP from @want, check that ibv_query_qp reports at least the
 * requested capabilities, and destroy it again.
 */
static int check_qp_caps(struct test *t, struct ibv_pd *pd,
			 const struct ibv_qp_init_attr *want)
{
	const struct ibv_qp_cap *w = &want->cap;
	struct ibv_qp_init_attr ia = *want, qia;
	struct ibv_qp *qp;
	struct ibv_qp_attr qa;
	int rc, ret = -1;

	qp = ibv_create_qp(pd, &ia);
	CHECK_ERR(qp, errno,
		  "QP with wr %u/%u sge %u/%u inline %u (send/recv)",
		  w->max_send_wr, w->max_recv_wr, w->max_send_sge,
		  w->max_recv_sge, w->max_inline_data);
	rc = ibv_query_qp(qp, &qa, IBV_QP_CAP, &qia);
	CHECK_ERR(rc == 0, rc, "ibv_query_qp");
	CHECK(cap_covers(&qa.cap, w),
	      "QP asked for wr %u/%u sge %u/%u inline %u, reports %u/%u %u/%u %u",
	      w->max_send_wr, w->max_recv_wr, w->max_send_sge,
	      w->max_recv_sge, w->max_inline_data, qa.cap.max_send_wr,
	      qa.cap.max_recv_wr, qa.cap.max_send_sge, qa.cap.max_recv_sge,
	      qa.cap.max_inline_data);
	rc = ibv_destroy_qp(qp);
	qp = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_qp");
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	return ret;
}

int test_qp_create(struct test *t)
{
	const struct ibv_device_attr *a = &t->env->attr;
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_qp_init_attr base, ia;
	/* Capabilities bounded by a device limit, as fields of 'ia' */
	const struct {
		const char *name;
		uint32_t *field;
		int max;
	} caps[] = {
		{ "max_send_wr", &ia.cap.max_send_wr, a->max_qp_wr },
		{ "max_recv_wr", &ia.cap.max_recv_wr, a->max_qp_wr },
		{ "max_send_sge", &ia.cap.max_send_sge, a->max_sge },
		{ "max_recv_sge", &ia.cap.max_recv_sge, a->max_sge },
	};
	struct ibv_qp *qps[QP_MANY] = { NULL };
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	int i, j, n, rc, err, ret = -1;
	size_t l;

	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");
	rc_qp_init_attr(&base, cq, cq, NULL, 4);

	/* Each capability: 1 and the device limit work, one past fails */
	for (l = 0; l < ARRAY_SIZE(caps); l++) {
		ia = base;
		*caps[l].field = 1;
		TRY(check_qp_caps(t, pd, &ia));
		*caps[l].field = caps[l].max;
		TRY(check_qp_caps(t, pd, &ia));
		*caps[l].field = (uint32_t)caps[l].max + 1;
		err = create_qp_err(pd, &ia);
		CHECK_ERR(err == EINVAL, err,
			  "%s %u (device limit + 1) must fail with EINVAL",
			  caps[l].name, *caps[l].field);
	}

	ia = base;
	ia.cap.max_inline_data = 64;
	TRY(check_qp_caps(t, pd, &ia));
	ia.cap.max_inline_data = 100000;
	err = create_qp_err(pd, &ia);
	CHECK_ERR(err == EINVAL, err,
		  "max_inline_data 100000 must fail with EINVAL");

	/* iWARP has reliable connected QPs only */
	ia = base;
	ia.qp_type = IBV_QPT_UD;
	err = create_qp_err(pd, &ia);
	CHECK_ERR(err == EOPNOTSUPP || err == EINVAL, err,
		  "UD QP must fail with EOPNOTSUPP or EINVAL");
	ia.qp_type = IBV_QPT_UC;
	err = create_qp_err(pd, &ia);
	CHECK_ERR(err == EOPNOTSUPP || err == EINVAL, err,
		  "UC QP must fail with EOPNOTSUPP or EINVAL");

	n = min_int(QP_MANY, a->max_qp);
	for (i = 0; i < n; i++) {
		qps[i] = create_rc_qp(pd, cq, cq, NULL, 4);
		CHECK_ERR(qps[i], errno, "ibv_create_qp #%d of %d", i, n);
		CHECK(qps[i]->qp_num != 0, "QP #%d has qp_num 0", i);
		for (j = 0; j < i; j++)
			CHECK(qps[j]->qp_num != qps[i]->qp_num,
			      "QPs #%d and #%d share qp_num %u", j, i,
			      qps[i]->qp_num);
	}
	for (i = n - 1; i >= 0; i--) {
		rc = ibv_destroy_qp(qps[i]);
		qps[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_destroy_qp #%d", i);
	}
	ret = 0;
out:
	for (i = 0; i < QP_MANY; i++)
		if (qps[i])
			ibv_destroy_qp(qps[i]);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	return ret;
}

/*
 * Apply @attr/@mask to @qp and check the result against @want: 0 for
 * success, an errno value, or -1 for any failure. Afterwards the QP must
 * be in the requested state on success and in its old state on failure.
 */
static int modify_expect(struct test *t, struct ibv_qp *qp,
			 struct ibv_qp_attr *attr, int mask, int want,
			 const char *what)
{
	enum ibv_qp_state before, expect;
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr qa;
	int rc, ret = -1;

	rc = ibv_query_qp(qp, &qa, IBV_QP_STATE, &qia);
	CHECK_ERR(rc == 0, rc, "%s: ibv_query_qp", what);
	before = qa.qp_state;

	rc = ibv_modify_qp(qp, attr, mask);
	if (want < 0)
		CHECK(rc != 0, "%s: succeeded, must fail", what);
	else
		CHECK_ERR(rc == want, rc, "%s: expected %s", what,
			  want ? strerror(want) : "success");

	rc = ibv_query_qp(qp, &qa, IBV_QP_STATE, &qia);
	CHECK_ERR(rc == 0, rc, "%s: ibv_query_qp", what);
	expect = (want == 0 && (mask & IBV_QP_STATE)) ? attr->qp_state : before;
	CHECK(qa.qp_state == expect, "%s: QP is in %s, expected %s", what,
	      qp_state_name(qa.qp_state), qp_state_name(expect));
	ret = 0;
out:
	return ret;
}

/*
 * Check what ibv_query_qp reports against @want: the state and (at least)
 * the capabilities always, access flags and ORD/IRD only when selected in
 * @mask, since they are undefined until first set.
 */
static int query_expect(struct test *t, struct ibv_qp *qp,
			const struct ibv_qp_attr *want, int mask,
			const char *what)
{
	struct ibv_qp_init_attr qia;
	struct ibv_qp_attr qa;
	int rc, ret = -1;

	rc = ibv_query_qp(qp, &qa, IBV_QP_STATE | IBV_QP_CAP | mask, &qia);
	CHECK_ERR(rc == 0, rc, "%s: ibv_query_qp", what);
	CHECK(qa.qp_state == want->qp_state, "%s: state %s, expected %s",
	      what, qp_state_name(qa.qp_state), qp_state_name(want->qp_state));
	CHECK(cap_covers(&qa.cap, &want->cap),
	      "%s: caps wr %u/%u sge %u/%u below what was created", what,
	      qa.cap.max_send_wr, qa.cap.max_recv_wr, qa.cap.max_send_sge,
	      qa.cap.max_recv_sge);
	if (mask & IBV_QP_ACCESS_FLAGS)
		CHECK(qa.qp_access_flags == want->qp_access_flags,
		      "%s: access flags 0x%x, expected 0x%x", what,
		      qa.qp_access_flags, want->qp_access_flags);
	if (mask & IBV_QP_MAX_QP_RD_ATOMIC)
		CHECK(qa.max_rd_atomic == want->max_rd_atomic,
		      "%s: ORD %u, expected %u", what, qa.max_rd_atomic,
		      want->max_rd_atomic);
	if (mask & IBV_QP_MAX_DEST_RD_ATOMIC)
		CHECK(qa.max_dest_rd_atomic == want->max_dest_rd_atomic,
		      "%s: IRD %u, expected %u", what, qa.max_dest_rd_atomic,
		      want->max_dest_rd_atomic);
	ret = 0;
out:
	return ret;
}

/* Plain state changes walked after the attribute tests */
static const struct {
	enum ibv_qp_state to;
	int want;
	const char *what;
} state_walk[] = {
	{ IBV_QPS_ERR,   0,	 "INIT->ERR" },
	{ IBV_QPS_RESET, 0,	 "ERR->RESET" },
	{ IBV_QPS_RTR,   EINVAL, "RESET->RTR" },
	{ IBV_QPS_RTS,   -1,	 "RESET->RTS" },
	{ IBV_QPS_ERR,   0,	 "RESET->ERR" },
	{ IBV_QPS_RESET, 0,	 "ERR->RESET" },
	{ IBV_QPS_INIT,  0,	 "RESET->INIT" },
	{ IBV_QPS_RTR,   0,	 "INIT->RTR" },
	/* iWARP enters RTS only through the connection manager */
	{ IBV_QPS_RTS,   EINVAL, "RTR->RTS without a connection" },
	{ IBV_QPS_ERR,   0,	 "RTR->ERR" },
};

int test_qp_states(struct test *t)
{
	const int all_attrs = IBV_QP_ACCESS_FLAGS | IBV_QP_MAX_QP_RD_ATOMIC |
			      IBV_QP_MAX_DEST_RD_ATOMIC;
	const struct ibv_device_attr *a = &t->env->attr;
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_qp_attr attr, want;
	struct ibv_qp_init_attr ia;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_qp *qp = NULL;
	int mask, rc, ret = -1;
	size_t i;

	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");
	rc_qp_init_attr(&ia, cq, cq, NULL, 4);
	memset(&want, 0, sizeof(want));
	want.cap = ia.cap;
	qp = ibv_create_qp(pd, &ia);
	CHECK_ERR(qp, errno, "ibv_create_qp");
	/* iWARP's Idle, as RNICs report it: INIT, not IB's RESET */
	want.qp_state = IBV_QPS_INIT;
	TRY(query_expect(t, qp, &want, 0, "new QP"));
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_RESET;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE, 0, "INIT->RESET"));
	want.qp_state = IBV_QPS_RESET;
	TRY(query_expect(t, qp, &want, 0, "after INIT->RESET"));

	/* The IB-style port/pkey attributes are accepted for compatibility */
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_INIT;
	attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE;
	attr.pkey_index = 0;
	attr.port_num = 1;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE | IBV_QP_ACCESS_FLAGS |
			  IBV_QP_PKEY_INDEX | IBV_QP_PORT, 0, "RESET->INIT"));
	want.qp_state = IBV_QPS_INIT;
	want.qp_access_flags = attr.qp_access_flags;
	TRY(query_expect(t, qp, &want, IBV_QP_ACCESS_FLAGS,
			 "after RESET->INIT"));

	/* ORD/IRD are 8 bit in the verbs API; limit + 1 must stay expressible */
	CHECK(a->max_qp_init_rd_atom < 255 && a->max_qp_rd_atom < 255,
	      "ORD/IRD limits %d/%d leave no room to test limit + 1",
	      a->max_qp_init_rd_atom, a->max_qp_rd_atom);
	attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE |
			       IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
	attr.max_rd_atomic = a->max_qp_init_rd_atom;
	attr.max_dest_rd_atomic = a->max_qp_rd_atom;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE | IBV_QP_ACCESS_FLAGS |
			  IBV_QP_MAX_QP_RD_ATOMIC | IBV_QP_MAX_DEST_RD_ATOMIC,
			  0, "INIT->INIT with new access flags and ORD/IRD at the limit"));
	want.qp_access_flags = attr.qp_access_flags;
	want.max_rd_atomic = attr.max_rd_atomic;
	want.max_dest_rd_atomic = attr.max_dest_rd_atomic;
	TRY(query_expect(t, qp, &want, all_attrs, "after INIT->INIT"));

	attr.max_rd_atomic = a->max_qp_init_rd_atom + 1;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE | IBV_QP_MAX_QP_RD_ATOMIC,
			  EINVAL, "ORD max_qp_init_rd_atom + 1"));
	attr.max_rd_atomic = a->max_qp_init_rd_atom;
	attr.max_dest_rd_atomic = a->max_qp_rd_atom + 1;
	TRY(modify_expect(t, qp, &attr,
			  IBV_QP_STATE | IBV_QP_MAX_DEST_RD_ATOMIC, EINVAL,
			  "IRD max_qp_rd_atom + 1"));
	/* A refused modify must leave the attributes alone */
	TRY(query_expect(t, qp, &want, all_attrs,
			 "after the refused ORD/IRD changes"));

	for (i = 0; i < ARRAY_SIZE(state_walk); i++) {
		memset(&attr, 0, sizeof(attr));
		attr.qp_state = state_walk[i].to;
		mask = IBV_QP_STATE;
		if (attr.qp_state == IBV_QPS_INIT) {
			attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE;
			mask |= IBV_QP_ACCESS_FLAGS;
		}
		TRY(modify_expect(t, qp, &attr, mask, state_walk[i].want,
				  state_walk[i].what));
	}

	/*
	 * librdmacm's rdma_disconnect() asks for SQD first; after the peer
	 * closed the QP is in ERR already, and that must not fail it.
	 */
	memset(&attr, 0, sizeof(attr));
	attr.qp_state = IBV_QPS_SQD;
	rc = ibv_modify_qp(qp, &attr, IBV_QP_STATE);
	CHECK_ERR(rc == 0, rc, "ERR->SQD: expected success, the QP is past it");
	want.qp_state = IBV_QPS_ERR;
	TRY(query_expect(t, qp, &want, 0, "after ERR->SQD"));
	attr.qp_state = IBV_QPS_RESET;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE, 0, "ERR->RESET"));
	attr.qp_state = IBV_QPS_SQD;
	TRY(modify_expect(t, qp, &attr, IBV_QP_STATE, EINVAL, "RESET->SQD"));
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	if (cq)
		ibv_destroy_cq(cq);
	if (pd)
		ibv_dealloc_pd(pd);
	return ret;
}

/* Check that @wc is the flush of receive @wr_id on @qp. */
static int check_recv_flush(struct test *t, const struct ibv_wc *wc,
			    const struct ibv_qp *qp, uint64_t wr_id)
{
	int ret = -1;

	CHECK(wc->status == IBV_WC_WR_FLUSH_ERR && wc->wr_id == wr_id &&
	      wc->qp_num == qp->qp_num && wc->opcode == IBV_WC_RECV,
	      "expected flushed receive %llu on QP %u, got status %s wr_id %llu qp_num %u opcode %d",
	      (unsigned long long)wr_id, qp->qp_num,
	      ibv_wc_status_str(wc->status), (unsigned long long)wc->wr_id,
	      wc->qp_num, wc->opcode);
	ret = 0;
out:
	return ret;
}

int test_flush(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_cq *scq = NULL, *rcq = NULL;
	struct ibv_send_wr swr, *bad_swr;
	struct ibv_wc wc[FLUSH_RECVS + 1];
	struct ibv_qp_init_attr ia;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_qp *qp = NULL;
	struct ibv_sge sge;
	char *buf = NULL;
	int i, n, rc, recv_rc, send_rc, ret = -1;

	buf = calloc(16, RECV_SLOT);
	CHECK_ERR(buf, errno, "calloc");
	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	mr = ibv_reg_mr(pd, buf, 16 * RECV_SLOT, IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(mr, errno, "ibv_reg_mr");
	/* Separate CQs keep the receive flush count exact */
	scq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	CHECK_ERR(scq, errno, "ibv_create_cq (send)");
	rcq = ibv_create_cq(ctx, 32, NULL, NULL, 0);
	CHECK_ERR(rcq, errno, "ibv_create_cq (recv)");
	rc_qp_init_attr(&ia, scq, rcq, NULL, 4);
	ia.cap.max_recv_wr = 16;
	qp = ibv_create_qp(pd, &ia);
	CHECK_ERR(qp, errno, "ibv_create_qp");

	rc = qp_to_state(qp, IBV_QPS_INIT);
	CHECK_ERR(rc == 0, rc, "RESET->INIT");
	rc = post_recvs(qp, NULL, mr, 0, FLUSH_RECVS);
	CHECK_ERR(rc == 0, rc, "posting %d receives in INIT", FLUSH_RECVS);

	/*
	 * A send in INIT must not execute. libsiw writes it into the mapped
	 * SQ before ringing the doorbell, so even a failed post may leave it
	 * there; either way it may only come back as a flush.
	 */
	sge.addr = (uintptr_t)buf;
	sge.length = RECV_SLOT;
	sge.lkey = mr->lkey;
	memset(&swr, 0, sizeof(swr));
	swr.wr_id = FLUSH_SEND_ID;
	swr.sg_list = &sge;
	swr.num_sge = 1;
	swr.opcode = IBV_WR_SEND;
	swr.send_flags = IBV_SEND_SIGNALED;
	send_rc = ibv_post_send(qp, &swr, &bad_swr);
	test_note(t, "post_send in INIT returned %d", send_rc);

	rc = qp_to_state(qp, IBV_QPS_ERR);
	CHECK_ERR(rc == 0, rc, "INIT->ERR");
	n = poll_cq_wait(rcq, wc, FLUSH_RECVS, 2000);
	CHECK(n == FLUSH_RECVS, "%d of %d receives flushed within 2 s", n,
	      FLUSH_RECVS);
	for (i = 0; i < FLUSH_RECVS; i++)
		TRY(check_recv_flush(t, &wc[i], qp, i));
	sleep_ms(100);
	n = ibv_poll_cq(rcq, 1, wc);
	CHECK(n == 0, "receive CQ has %d completions beyond the %d flushes",
	      n, FLUSH_RECVS);

	n = poll_cq_wait(scq, wc, 1, send_rc ? 100 : 2000);
	CHECK(n >= 0, "ibv_poll_cq on the send CQ returned %d", n);
	CHECK(n == 1 || send_rc, "accepted send in INIT was not flushed");
	if (n == 1)
		CHECK(wc[0].status == IBV_WC_WR_FLUSH_ERR &&
		      wc[0].wr_id == FLUSH_SEND_ID,
		      "send completion status %s wr_id %llu, expected a flushed wr_id %d",
		      ibv_wc_status_str(wc[0].status),
		      (unsigned long long)wc[0].wr_id, FLUSH_SEND_ID);

	/*
	 * Work posted in ERR must be refused or flushed. libsiw only writes a
	 * receive into the mapped RQ; the send posted after it rings the
	 * doorbell, the kernel entry on which the driver flushes both queues.
	 */
	recv_rc = post_recvs(qp, NULL, mr, LATE_RECV_ID, 1);
	swr.wr_id = LATE_SEND_ID;
	send_rc = ibv_post_send(qp, &swr, &bad_swr);
	test_note(t, "in ERR post_recv returned %d, post_send %d", recv_rc,
		  send_rc);
	if (recv_rc == 0) {
		n = poll_cq_wait(rcq, wc, 1, 2000);
		CHECK(n == 1, "receive posted in ERR was not flushed within 2 s");
		TRY(check_recv_flush(t, &wc[0], qp, LATE_RECV_ID));
	}
	if (send_rc == 0) {
		n = poll_cq_wait(scq, wc, 1, 2000);
		CHECK(n == 1, "send posted in ERR was not flushed within 2 s");
		CHECK(wc[0].status == IBV_WC_WR_FLUSH_ERR &&
		      wc[0].wr_id == LATE_SEND_ID,
		      "send completion status %s wr_id %llu, expected a flushed wr_id %d",
		      ibv_wc_status_str(wc[0].status),
		      (unsigned long long)wc[0].wr_id, LATE_SEND_ID);
	}

	/* Receives still queued when the QP is destroyed complete silently */
	rc = qp_to_state(qp, IBV_QPS_RESET);
	CHECK_ERR(rc == 0, rc, "ERR->RESET");
	rc = qp_to_state(qp, IBV_QPS_INIT);
	CHECK_ERR(rc == 0, rc, "RESET->INIT after reset");
	rc = post_recvs(qp, NULL, mr, 200, 3);
	CHECK_ERR(rc == 0, rc, "posting receives after reset");
	rc = ibv_destroy_qp(qp);
	qp = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_qp");
	n = ibv_poll_cq(rcq, 1, wc);
	CHECK(n == 0, "destroying the QP produced %d receive completions", n);
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	if (scq)
		ibv_destroy_cq(scq);
	if (rcq)
		ibv_destroy_cq(rcq);
	if (mr)
		ibv_dereg_mr(mr);
	if (pd)
		ibv_dealloc_pd(pd);
	free(buf);
	return ret;
}

int test_bad_args(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_recv_wr wr, *bad = NULL;
	struct ibv_sge *sges = NULL;
	struct ibv_qp_init_attr ia;
	struct ibv_pd *pd = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_qp *qp = NULL;
	char *buf = NULL;
	int i, nsge, rc, err, ret = -1;

	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	cq = ibv_create_cq(ctx, 16, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");
	rc_qp_init_attr(&ia, cq, cq, NULL, 4);
	ia.cap.max_recv_sge = t->env->attr.max_sge;
	qp = ibv_create_qp(pd, &ia);
	CHECK_ERR(qp, errno, "ibv_create_qp");
	rc = qp_to_state(qp, IBV_QPS_INIT);
	CHECK_ERR(rc == 0, rc, "RESET->INIT");

	/* One SGE more than the QP was created with (ia.cap is updated) */
	nsge = (int)ia.cap.max_recv_sge + 1;
	buf = calloc(nsge, RECV_SLOT);
	sges = calloc(nsge, sizeof(*sges));
	CHECK_ERR(buf && sges, errno, "calloc");
	mr = ibv_reg_mr(pd, buf, (size_t)nsge * RECV_SLOT,
			IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(mr, errno, "ibv_reg_mr");
	for (i = 0; i < nsge; i++) {
		sges[i].addr = (uintptr_t)buf + (size_t)i * RECV_SLOT;
		sges[i].length = RECV_SLOT;
		sges[i].lkey = mr->lkey;
	}
	memset(&wr, 0, sizeof(wr));
	wr.wr_id = 1;
	wr.sg_list = sges;
	wr.num_sge = nsge;
	rc = ibv_post_recv(qp, &wr, &bad);
	/* libsiw reports this as -EINVAL */
	CHECK_ERR(abs(rc) == EINVAL, rc,
		  "post_recv with %d SGEs on a QP with max_recv_sge %u must fail with EINVAL",
		  nsge, ia.cap.max_recv_sge);
	CHECK(bad == &wr, "refused post_recv did not set bad_wr to the WR");

	err = reg_mr_err(pd, buf, RECV_SLOT, 1 << 30);
	CHECK_ERR(err == EINVAL, err,
		  "ibv_reg_mr with access bit 30 must fail with EINVAL");

	err = create_cq_err(ctx, 16, ctx->num_comp_vectors);
	CHECK_ERR(err == EINVAL, err,
		  "CQ on comp_vector num_comp_vectors (%d) must fail with EINVAL",
		  ctx->num_comp_vectors);
	err = create_cq_err(ctx, 16, 1000000);
	CHECK_ERR(err == EINVAL, err,
		  "CQ on comp_vector 1000000 must fail with EINVAL");
	ret = 0;
out:
	if (qp)
		ibv_destroy_qp(qp);
	if (cq)
		ibv_destroy_cq(cq);
	if (mr)
		ibv_dereg_mr(mr);
	if (pd)
		ibv_dealloc_pd(pd);
	free(sges);
	free(buf);
	return ret;
}
