/*
 * verbs_test: object churn, and resource release when a process dies.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verbs_test.h"

#define MANY_CQS	256
#define MANY_MRS	256
#define MANY_SRQS	64
#define PAGE		4096

#define RES_MAX		16
#define CHILD_READY_MS	10000
#define RELEASE_MS	5000

int test_many_objects(struct test *t)
{
	const struct ibv_device_attr *a = &t->env->attr;
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_srq *srqs[MANY_SRQS] = { NULL };
	struct ibv_cq *cqs[MANY_CQS] = { NULL };
	struct ibv_mr *mrs[MANY_MRS] = { NULL };
	int i, n_cq, n_mr, n_srq, rc, ret = -1;
	struct ibv_srq_init_attr ia;
	struct ibv_pd *pd = NULL;
	char *buf = NULL;

	n_cq = min_int(MANY_CQS, a->max_cq);
	n_mr = min_int(MANY_MRS, a->max_mr);
	n_srq = min_int(MANY_SRQS, a->max_srq);

	buf = calloc(n_mr, PAGE);
	CHECK_ERR(buf, errno, "calloc");
	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");

	for (i = 0; i < n_cq; i++) {
		cqs[i] = ibv_create_cq(ctx, 16, NULL, NULL, 0);
		CHECK_ERR(cqs[i], errno, "ibv_create_cq #%d", i);
	}
	for (i = 0; i < n_mr; i++) {
		mrs[i] = ibv_reg_mr(pd, buf + (size_t)i * PAGE, PAGE,
				    IBV_ACCESS_LOCAL_WRITE |
				    IBV_ACCESS_REMOTE_READ);
		CHECK_ERR(mrs[i], errno, "ibv_reg_mr #%d", i);
	}
	for (i = 0; i < n_srq; i++) {
		memset(&ia, 0, sizeof(ia));
		ia.attr.max_wr = 16;
		ia.attr.max_sge = 1;
		srqs[i] = ibv_create_srq(pd, &ia);
		CHECK_ERR(srqs[i], errno, "ibv_create_srq #%d", i);
	}

	for (i = n_srq - 1; i >= 0; i--) {
		rc = ibv_destroy_srq(srqs[i]);
		srqs[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_destroy_srq #%d", i);
	}
	for (i = n_mr - 1; i >= 0; i--) {
		rc = ibv_dereg_mr(mrs[i]);
		mrs[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_dereg_mr #%d", i);
	}
	for (i = n_cq - 1; i >= 0; i--) {
		rc = ibv_destroy_cq(cqs[i]);
		cqs[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_destroy_cq #%d", i);
	}
	rc = ibv_dealloc_pd(pd);
	pd = NULL;
	CHECK_ERR(rc == 0, rc, "ibv_dealloc_pd");
	ret = 0;
out:
	for (i = 0; i < MANY_SRQS; i++)
		if (srqs[i])
			ibv_destroy_srq(srqs[i]);
	for (i = 0; i < MANY_MRS; i++)
		if (mrs[i])
			ibv_dereg_mr(mrs[i]);
	for (i = 0; i < MANY_CQS; i++)
		if (cqs[i])
			ibv_destroy_cq(cqs[i]);
	if (pd)
		ibv_dealloc_pd(pd);
	free(buf);
	return ret;
}

/* Per-device resource counts as reported by 'rdma resource show' */
struct res_counts {
	int n;
	char name[RES_MAX][16];
	unsigned long long val[RES_MAX];
};

static int res_find(const struct res_counts *c, const char *name)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->name[i], name))
			return i;
	return -1;
}

/*
 * Parse one flat JSON object (braces stripped) of the form
 * "ifindex":N,"ifname":"dev","pd":N,... into @c; @ifname receives the
 * device name. Every numeric field but ifindex is a count.
 */
static int parse_res_object(char *p, struct res_counts *c, char **ifname)
{
	char *key, *end;

	c->n = 0;
	*ifname = NULL;
	while ((key = strchr(p, '"'))) {
		key++;
		end = strchr(key, '"');
		if (!end)
			return -1;
		*end = '\0';
		p = end + 1 + strspn(end + 1, " \t\r\n");
		if (*p != ':')
			return -1;
		p++;
		p += strspn(p, " \t\r\n");
		if (*p == '"') {
			end = strchr(p + 1, '"');
			if (!end)
				return -1;
			*end = '\0';
			if (!strcmp(key, "ifname"))
				*ifname = p + 1;
			p = end + 1;
		} else if (isdigit((unsigned char)*p)) {
			unsigned long long v = strtoull(p, &p, 10);

			if (strcmp(key, "ifindex") && c->n < RES_MAX) {
				snprintf(c->name[c->n], sizeof(c->name[0]),
					 "%s", key);
				c->val[c->n++] = v;
			}
		}
	}
	return 0;
}

/* Read the resource counts of device @dev via 'rdma -j resource show'. */
static int read_res_counts(const char *dev, struct res_counts *c)
{
	static char out[65536];
	char *obj, *end, *ifname;
	size_t len = 0, n;
	FILE *f;

	f = popen("rdma -j resource show 2>/dev/null", "r");
	if (!f)
		return -1;
	while (len < sizeof(out) - 1 &&
	       (n = fread(out + len, 1, sizeof(out) - 1 - len, f)) > 0)
		len += n;
	if (pclose(f) != 0)
		return -1;
	out[len] = '\0';

	for (obj = strchr(out, '{'); obj; obj = strchr(end + 1, '{')) {
		end = strchr(obj, '}');
		if (!end)
			return -1;
		*end = '\0';
		if (parse_res_object(obj + 1, c, &ifname))
			return -1;
		if (ifname && !strcmp(ifname, dev))
			return 0;
	}
	return -1;
}

/* Describe the first count in @base that @now does not match; 0 if none. */
static int res_differ(const struct res_counts *base,
		      const struct res_counts *now, char *why, size_t len)
{
	int i, j;

	for (i = 0; i < base->n; i++) {
		j = res_find(now, base->name[i]);
		if (j < 0) {
			snprintf(why, len, "%s count vanished", base->name[i]);
			return 1;
		}
		if (now->val[j] != base->val[i]) {
			snprintf(why, len, "%s count is %llu, baseline %llu",
				 base->name[i], now->val[j], base->val[i]);
			return 1;
		}
	}
	return 0;
}

/*
 * Child set-ups: open the device afresh, pile up resources and return
 * NULL, or return what failed. What they create is deliberately never
 * released; the kernel has to do that when the child is killed.
 */
static const char *child_many_objects(struct ibv_device *dev)
{
	struct ibv_srq_init_attr sia;
	struct ibv_context *ctx;
	struct ibv_srq *srq[2];
	struct ibv_mr *mr[8];
	struct ibv_cq *cq[8];
	struct ibv_pd *pd[4];
	struct ibv_qp *qp;
	char *buf;
	int i, rc;

	ctx = ibv_open_device(dev);
	if (!ctx)
		return "ibv_open_device";
	for (i = 0; i < 4; i++)
		if (!(pd[i] = ibv_alloc_pd(ctx)))
			return "ibv_alloc_pd";
	for (i = 0; i < 8; i++)
		if (!(cq[i] = ibv_create_cq(ctx, 16, NULL, NULL, 0)))
			return "ibv_create_cq";
	buf = calloc(8, PAGE);
	if (!buf)
		return "calloc";
	for (i = 0; i < 8; i++)
		if (!(mr[i] = ibv_reg_mr(pd[i % 4], buf + i * PAGE, PAGE,
					 IBV_ACCESS_LOCAL_WRITE)))
			return "ibv_reg_mr";
	for (i = 0; i < 2; i++) {
		memset(&sia, 0, sizeof(sia));
		sia.attr.max_wr = 16;
		sia.attr.max_sge = 1;
		if (!(srq[i] = ibv_create_srq(pd[0], &sia)))
			return "ibv_create_srq";
		rc = post_recvs(NULL, srq[i], mr[0], 0, 4);
		if (rc) {
			errno = abs(rc);
			return "ibv_post_srq_recv";
		}
	}
	/* QPs 0-3 get receives of their own, 6 and 7 sit on the SRQs */
	for (i = 0; i < 8; i++) {
		qp = create_rc_qp(pd[0], cq[i], cq[(i + 1) % 8],
				  i >= 6 ? srq[i - 6] : NULL, 8);
		if (!qp)
			return "ibv_create_qp";
		if (i >= 4)
			continue;
		rc = qp_to_state(qp, IBV_QPS_INIT);
		if (!rc)
			rc = post_recvs(qp, NULL, mr[0], 0, 4);
		if (rc) {
			errno = abs(rc);
			return "moving a QP to INIT and posting receives";
		}
	}
	return NULL;
}

static const char *child_error_qp(struct ibv_device *dev)
{
	struct ibv_comp_channel *ch;
	struct ibv_context *ctx;
	struct pollfd pfd;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	struct ibv_qp *qp;
	char *buf;
	int rc;

	ctx = ibv_open_device(dev);
	if (!ctx)
		return "ibv_open_device";
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		return "ibv_alloc_pd";
	ch = ibv_create_comp_channel(ctx);
	if (!ch)
		return "ibv_create_comp_channel";
	cq = ibv_create_cq(ctx, 16, NULL, ch, 0);
	if (!cq)
		return "ibv_create_cq";
	buf = calloc(4, RECV_SLOT);
	if (!buf)
		return "calloc";
	mr = ibv_reg_mr(pd, buf, 4 * RECV_SLOT, IBV_ACCESS_LOCAL_WRITE);
	if (!mr)
		return "ibv_reg_mr";
	qp = create_rc_qp(pd, cq, cq, NULL, 8);
	if (!qp)
		return "ibv_create_qp";
	rc = qp_to_state(qp, IBV_QPS_INIT);
	if (!rc)
		rc = post_recvs(qp, NULL, mr, 0, 4);
	if (!rc)
		rc = ibv_req_notify_cq(cq, 0);
	if (!rc)
		rc = qp_to_state(qp, IBV_QPS_ERR);
	if (rc) {
		errno = abs(rc);
		return "posting receives and moving the QP to ERR";
	}
	/* The event proves flush completions sit unpolled in the CQ */
	pfd.fd = ch->fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) != 1) {
		errno = ETIMEDOUT;
		return "waiting for the flush completion event";
	}
	return NULL;
}

/* Child side: report "ready" or the failure over @wfd, then wait to die. */
static void __attribute__((noreturn))
run_child(struct ibv_device *dev, int wfd,
	  const char *(*setup)(struct ibv_device *))
{
	const char *what = setup(dev);
	char msg[256];
	size_t len;

	if (what)
		len = snprintf(msg, sizeof(msg), "%s (%s)", what,
			       strerror(errno));
	else
		len = snprintf(msg, sizeof(msg), "ready");
	if (len >= sizeof(msg))
		len = sizeof(msg) - 1;
	if (write(wfd, msg, len) != (ssize_t)len || what)
		_exit(1);
	for (;;)
		pause();
}

/*
 * Fork a child that sets up resources with @setup, check that the counts
 * named in @grown went up, SIGKILL it, and wait for every count to return
 * to the baseline.
 */
static int kill_scenario(struct test *t, const char *name,
			 const char *(*setup)(struct ibv_device *),
			 const char *const *grown)
{
	const char *dev = ibv_get_device_name(t->env->dev);
	struct res_counts base, now;
	int fds[2] = { -1, -1 };
	int i, j, n, status, waited, ret = -1;
	struct pollfd pfd;
	char msg[256];
	pid_t pid = -1;

	CHECK(read_res_counts(dev, &base) == 0,
	      "%s: no counts for %s from 'rdma -j resource show'", name, dev);
	CHECK_ERR(pipe(fds) == 0, errno, "pipe");
	/* Nothing buffered may be printed twice by the child */
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	CHECK_ERR(pid >= 0, errno, "fork");
	if (pid == 0) {
		close(fds[0]);
		run_child(t->env->dev, fds[1], setup);
	}
	close(fds[1]);
	fds[1] = -1;

	pfd.fd = fds[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, CHILD_READY_MS);
	CHECK_ERR(n == 1, n < 0 ? errno : ETIMEDOUT,
		  "%s: child did not get ready", name);
	n = read(fds[0], msg, sizeof(msg) - 1);
	CHECK_ERR(n > 0, n < 0 ? errno : 0,
		  "%s: child died before it was ready", name);
	msg[n] = '\0';
	CHECK(!strcmp(msg, "ready"), "%s: child setup failed: %s", name, msg);

	CHECK(read_res_counts(dev, &now) == 0,
	      "%s: no counts for %s while the child runs", name, dev);
	for (; *grown; grown++) {
		i = res_find(&base, *grown);
		/* Older kernels do not track every type */
		if (i < 0)
			continue;
		j = res_find(&now, *grown);
		CHECK(j >= 0 && now.val[j] > base.val[i],
		      "%s: %s count did not grow while the child runs",
		      name, *grown);
	}

	CHECK_ERR(kill(pid, SIGKILL) == 0, errno, "kill");
	CHECK_ERR(waitpid(pid, &status, 0) == pid, errno, "waitpid");
	pid = -1;
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "%s: child ended with wait status 0x%x", name, status);

	for (waited = 0;; waited += 100) {
		CHECK(read_res_counts(dev, &now) == 0,
		      "%s: no counts for %s after the kill", name, dev);
		if (!res_differ(&base, &now, msg, sizeof(msg)))
			break;
		CHECK(waited < RELEASE_MS, "%s: %d ms after SIGKILL the %s",
		      name, RELEASE_MS, msg);
		sleep_ms(100);
	}
	test_note(t, "%s: released after about %d ms", name, waited);
	ret = 0;
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	return ret;
}

int test_kill_cleanup(struct test *t)
{
	static const char *const all[] = {
		"pd", "cq", "qp", "mr", "srq", "ctx", NULL
	};
	static const char *const no_srq[] = {
		"pd", "cq", "qp", "mr", "ctx", NULL
	};
	int ret = -1;

	TRY(kill_scenario(t, "many objects", child_many_objects, all));
	TRY(kill_scenario(t, "QP in ERR with unpolled completions",
			  child_error_qp, no_srq));
	ret = 0;
out:
	return ret;
}
