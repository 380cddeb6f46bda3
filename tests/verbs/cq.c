/*
 * verbs_test: completion queues and completion channels.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "verbs_test.h"

int test_cq(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	int max = t->env->attr.max_cqe;
	struct ibv_comp_channel *ch = NULL;
	struct ibv_cq *cq = NULL;
	struct ibv_wc wc;
	int n, rc, err, ret = -1;

	cq = ibv_create_cq(ctx, 1, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq(cqe 1)");
	CHECK(cq->cqe >= 1, "cqe 1 gave a CQ with %d entries", cq->cqe);
	rc = ibv_destroy_cq(cq);
	cq = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_cq");

	cq = ibv_create_cq(ctx, max, NULL, NULL, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq(cqe max_cqe %d)", max);
	CHECK(cq->cqe >= max, "cqe %d gave a CQ with %d entries", max,
	      cq->cqe);
	rc = ibv_destroy_cq(cq);
	cq = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_cq");

	err = create_cq_err(ctx, max + 1, 0);
	CHECK_ERR(err == EINVAL, err,
		  "cqe max_cqe + 1 (%d) must fail with EINVAL", max + 1);
	err = create_cq_err(ctx, 0, 0);
	CHECK_ERR(err == EINVAL, err, "cqe 0 must fail with EINVAL");

	ch = ibv_create_comp_channel(ctx);
	CHECK_ERR(ch, errno, "ibv_create_comp_channel");
	cq = ibv_create_cq(ctx, 16, NULL, ch, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq with a completion channel");
	rc = ibv_req_notify_cq(cq, 0);
	CHECK_ERR(rc == 0, rc, "ibv_req_notify_cq(next)");
	rc = ibv_req_notify_cq(cq, 1);
	CHECK_ERR(rc == 0, rc, "ibv_req_notify_cq(solicited)");
	n = ibv_poll_cq(cq, 1, &wc);
	CHECK(n == 0, "polling an empty CQ returned %d", n);

	/* libsiw answers with a negated errno; resizing is not supported */
	rc = ibv_resize_cq(cq, 32);
	err = abs(rc);
	CHECK_ERR(err == EOPNOTSUPP || err == ENOSYS || err == EINVAL, rc,
		  "ibv_resize_cq must be refused as unsupported (returned %d)",
		  rc);

	rc = ibv_destroy_comp_channel(ch);
	if (rc == 0)
		ch = NULL;
	CHECK_ERR(rc == EBUSY, rc,
		  "destroying a channel with a CQ attached must fail with EBUSY");
	rc = ibv_destroy_cq(cq);
	cq = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_cq of a CQ with a channel");
	rc = ibv_destroy_comp_channel(ch);
	ch = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_destroy_comp_channel after its CQ");
	ret = 0;
out:
	if (cq)
		ibv_destroy_cq(cq);
	if (ch)
		ibv_destroy_comp_channel(ch);
	return ret;
}

int test_cq_notify(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_comp_channel *ch = NULL;
	struct ibv_cq *cq = NULL, *ev_cq;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_qp *qp = NULL;
	struct pollfd pfd;
	unsigned int events = 0;
	char buf[RECV_SLOT];
	struct ibv_wc wc;
	int cookie, n, rc, ret = -1;
	void *ev_ctx;

	ch = ibv_create_comp_channel(ctx);
	CHECK_ERR(ch, errno, "ibv_create_comp_channel");
	cq = ibv_create_cq(ctx, 16, &cookie, ch, 0);
	CHECK_ERR(cq, errno, "ibv_create_cq");
	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	mr = ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE);
	CHECK_ERR(mr, errno, "ibv_reg_mr");
	qp = create_rc_qp(pd, cq, cq, NULL, 4);
	CHECK_ERR(qp, errno, "ibv_create_qp");
	rc = qp_to_state(qp, IBV_QPS_INIT);
	CHECK_ERR(rc == 0, rc, "RESET->INIT");
	rc = post_recvs(qp, NULL, mr, 0, 1);
	CHECK_ERR(rc == 0, rc, "ibv_post_recv");

	/* Flushing the posted receive is the completion that must notify */
	rc = ibv_req_notify_cq(cq, 0);
	CHECK_ERR(rc == 0, rc, "ibv_req_notify_cq");
	rc = qp_to_state(qp, IBV_QPS_ERR);
	CHECK_ERR(rc == 0, rc, "INIT->ERR");

	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	n = poll(&pfd, 1, 2000);
	CHECK_ERR(n == 1, n < 0 ? errno : 0,
		  "no completion event within 2 s of the flush");
	rc = ibv_get_cq_event(ch, &ev_cq, &ev_ctx);
	CHECK_ERR(rc == 0, errno, "ibv_get_cq_event");
	events++;
	CHECK(ev_cq == cq && ev_ctx == &cookie,
	      "event names CQ %p context %p, expected %p %p", (void *)ev_cq,
	      ev_ctx, (void *)cq, (void *)&cookie);

	n = poll_cq_wait(cq, &wc, 1, 2000);
	CHECK(n == 1, "poll after the event returned %d", n);
	CHECK(wc.status == IBV_WC_WR_FLUSH_ERR && wc.wr_id == 0,
	      "completion status %s wr_id %llu, expected a flushed wr_id 0",
	      ibv_wc_status_str(wc.status), (unsigned long long)wc.wr_id);
	ret = 0;
out:
	/* Unacked events would block ibv_destroy_cq forever */
	if (events)
		ibv_ack_cq_events(cq, events);
	if (qp)
		ibv_destroy_qp(qp);
	if (mr)
		ibv_dereg_mr(mr);
	if (pd)
		ibv_dealloc_pd(pd);
	if (cq)
		ibv_destroy_cq(cq);
	if (ch)
		ibv_destroy_comp_channel(ch);
	return ret;
}
