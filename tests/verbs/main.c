/*
 * verbs_test: runner and helpers shared by the subtests.
 *
 * usage: verbs_test [-d DEVNAME] [-n NETDEV] [-v] [TESTNAME...]
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "verbs_test.h"

/* A wedged driver must not hang the whole run: each subtest gets this long. */
#define TEST_TIMEOUT_S	60
#define POLL_STEP_MS	10

static const struct test_case {
	const char *name;
	int (*fn)(struct test *t);
} test_cases[] = {
	{ "query_device",	test_query_device },
	{ "query_port",		test_query_port },
	{ "pd",			test_pd },
	{ "mr",			test_mr },
	{ "cq",			test_cq },
	{ "qp_create",		test_qp_create },
	{ "qp_states",		test_qp_states },
	{ "flush",		test_flush },
	{ "cq_notify",		test_cq_notify },
	{ "srq",		test_srq },
	{ "async_fd",		test_async_fd },
	{ "many_objects",	test_many_objects },
	{ "kill_cleanup",	test_kill_cleanup },
	{ "bad_args",		test_bad_args },
};

/* Name of the subtest in progress, for the timeout message */
static const char *running = "";

void test_fail(struct test *t, const char *file, int line, int with_err,
	       int err, const char *fmt, ...)
{
	const char *base = strrchr(file, '/');
	size_t size = sizeof(t->reason);
	va_list ap;
	int n, m;

	/* The first failure explains what went wrong; the rest is fallout. */
	if (t->reason[0])
		return;

	n = snprintf(t->reason, size, "%s:%d: ", base ? base + 1 : file, line);
	if (n < 0 || (size_t)n >= size)
		return;
	va_start(ap, fmt);
	m = vsnprintf(t->reason + n, size - n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)(n + m) >= size || !with_err)
		return;
	snprintf(t->reason + n + m, size - n - m, " (%s)", strerror(abs(err)));
}

void test_note(const struct test *t, const char *fmt, ...)
{
	va_list ap;

	if (!t->env->verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

const char *qp_state_name(enum ibv_qp_state state)
{
	static const char *const names[] = {
		[IBV_QPS_RESET]	= "RESET",
		[IBV_QPS_INIT]	= "INIT",
		[IBV_QPS_RTR]	= "RTR",
		[IBV_QPS_RTS]	= "RTS",
		[IBV_QPS_SQD]	= "SQD",
		[IBV_QPS_SQE]	= "SQE",
		[IBV_QPS_ERR]	= "ERR",
	};

	if ((unsigned int)state < ARRAY_SIZE(names) && names[state])
		return names[state];
	return "UNKNOWN";
}

void rc_qp_init_attr(struct ibv_qp_init_attr *ia, struct ibv_cq *send_cq,
		     struct ibv_cq *recv_cq, struct ibv_srq *srq,
		     uint32_t depth)
{
	memset(ia, 0, sizeof(*ia));
	ia->send_cq = send_cq;
	ia->recv_cq = recv_cq;
	ia->srq = srq;
	ia->qp_type = IBV_QPT_RC;
	ia->cap.max_send_wr = depth;
	ia->cap.max_send_sge = 1;
	/* A QP on an SRQ has no receive queue of its own. */
	ia->cap.max_recv_wr = srq ? 0 : depth;
	ia->cap.max_recv_sge = srq ? 0 : 1;
}

struct ibv_qp *create_rc_qp(struct ibv_pd *pd, struct ibv_cq *send_cq,
			    struct ibv_cq *recv_cq, struct ibv_srq *srq,
			    uint32_t depth)
{
	struct ibv_qp_init_attr ia;

	rc_qp_init_attr(&ia, send_cq, recv_cq, srq, depth);
	return ibv_create_qp(pd, &ia);
}

int qp_to_state(struct ibv_qp *qp, enum ibv_qp_state state)
{
	struct ibv_qp_attr attr = { .qp_state = state };
	int mask = IBV_QP_STATE;

	/* Entering INIT carries the access flags, as rdma_cm does on iWARP. */
	if (state == IBV_QPS_INIT) {
		attr.qp_access_flags = IBV_ACCESS_LOCAL_WRITE;
		mask |= IBV_QP_ACCESS_FLAGS;
	}
	return ibv_modify_qp(qp, &attr, mask);
}

/*
 * Post @count single-SGE receives with wr_ids first_id.. to @qp, or to @srq
 * if given, cycling through the RECV_SLOT sized slots of @mr. Returns the
 * first non-zero post result.
 */
int post_recvs(struct ibv_qp *qp, struct ibv_srq *srq, struct ibv_mr *mr,
	       uint64_t first_id, int count)
{
	size_t slots = mr->length / RECV_SLOT;
	struct ibv_recv_wr wr, *bad;
	struct ibv_sge sge;
	int i, rc;

	for (i = 0; i < count; i++) {
		sge.addr = (uintptr_t)mr->addr + (i % slots) * RECV_SLOT;
		sge.length = RECV_SLOT;
		sge.lkey = mr->lkey;
		memset(&wr, 0, sizeof(wr));
		wr.wr_id = first_id + i;
		wr.sg_list = &sge;
		wr.num_sge = 1;
		rc = srq ? ibv_post_srq_recv(srq, &wr, &bad) :
			   ibv_post_recv(qp, &wr, &bad);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Poll @cq until @want completions are in @wc or about @timeout_ms passed.
 * Returns how many were collected, or ibv_poll_cq's negative result.
 */
int poll_cq_wait(struct ibv_cq *cq, struct ibv_wc *wc, int want,
		 int timeout_ms)
{
	int got = 0, waited = 0, n;

	for (;;) {
		n = ibv_poll_cq(cq, want - got, wc + got);
		if (n < 0)
			return n;
		got += n;
		if (got == want || waited >= timeout_ms)
			return got;
		sleep_ms(POLL_STEP_MS);
		waited += POLL_STEP_MS;
	}
}

/*
 * The *_err helpers try to create an object that should be refused. They
 * return the errno of the refusal, or 0 if the object was created, in
 * which case it has been destroyed again so the caller can simply fail.
 */
int create_cq_err(struct ibv_context *ctx, int cqe, int comp_vector)
{
	struct ibv_cq *cq = ibv_create_cq(ctx, cqe, NULL, NULL, comp_vector);

	if (!cq)
		return errno;
	ibv_destroy_cq(cq);
	return 0;
}

int reg_mr_err(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr = ibv_reg_mr(pd, addr, len, access);

	if (!mr)
		return errno;
	ibv_dereg_mr(mr);
	return 0;
}

static void write_str(const char *s)
{
	size_t len = strlen(s);
	ssize_t n;

	while (len) {
		n = write(STDOUT_FILENO, s, len);
		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

static void __attribute__((noreturn)) on_alarm(int sig)
{
	(void)sig;
	/* Only async-signal-safe calls from here on. */
	write_str("not ok ");
	write_str(running);
	write_str(": timed out, aborting the run\n");
	_exit(1);
}

static const struct test_case *find_test(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(test_cases); i++)
		if (!strcmp(test_cases[i].name, name))
			return &test_cases[i];
	return NULL;
}

static int run_test(const struct test_case *tc, const struct test_env *env)
{
	struct test t = { .env = env };
	int rc;

	running = tc->name;
	alarm(TEST_TIMEOUT_S);
	rc = tc->fn(&t);
	alarm(0);
	if (rc)
		printf("not ok %s: %s\n", tc->name,
		       t.reason[0] ? t.reason : "failed without a reason");
	else
		printf("ok %s\n", tc->name);
	return rc;
}

static void usage(void)
{
	size_t i;

	fprintf(stderr,
		"usage: verbs_test [-d DEVNAME] [-n NETDEV] [-v] [TESTNAME...]\n"
		"  -d  device to test (default: first device named siw*)\n"
		"  -n  netdev the device is attached to; its MAC must lead the GID\n"
		"  -v  print device details and notes\n"
		"tests:");
	for (i = 0; i < ARRAY_SIZE(test_cases); i++)
		fprintf(stderr, " %s", test_cases[i].name);
	fputc('\n', stderr);
}

int main(int argc, char **argv)
{
	struct ibv_device **list = NULL;
	struct test_env env = { 0 };
	const char *devname = NULL;
	int opt, i, ndev, rc, passed = 0, failed = 0, ret = 1;
	size_t k;

	while ((opt = getopt(argc, argv, "d:n:v")) != -1) {
		switch (opt) {
		case 'd':
			devname = optarg;
			break;
		case 'n':
			env.netdev = optarg;
			break;
		case 'v':
			env.verbose = 1;
			break;
		default:
			usage();
			return 2;
		}
	}
	for (i = optind; i < argc; i++) {
		if (!find_test(argv[i])) {
			fprintf(stderr, "verbs_test: unknown test '%s'\n",
				argv[i]);
			usage();
			return 2;
		}
	}

	/* Results must reach the console as they happen, and before forks. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	list = ibv_get_device_list(&ndev);
	if (!list) {
		perror("verbs_test: ibv_get_device_list");
		return 1;
	}
	for (i = 0; i < ndev && !env.dev; i++) {
		const char *name = ibv_get_device_name(list[i]);

		if (devname ? !strcmp(name, devname) : !strncmp(name, "siw", 3))
			env.dev = list[i];
	}
	if (!env.dev) {
		fprintf(stderr, "verbs_test: no device %s\n",
			devname ? devname : "named siw*");
		goto out;
	}
	env.ctx = ibv_open_device(env.dev);
	if (!env.ctx) {
		perror("verbs_test: ibv_open_device");
		goto out;
	}
	rc = ibv_query_device(env.ctx, &env.attr);
	if (rc) {
		fprintf(stderr, "verbs_test: ibv_query_device: %s\n",
			strerror(rc));
		goto out;
	}
	signal(SIGALRM, on_alarm);

	if (optind < argc) {
		for (i = optind; i < argc; i++) {
			if (run_test(find_test(argv[i]), &env))
				failed++;
			else
				passed++;
		}
	} else {
		for (k = 0; k < ARRAY_SIZE(test_cases); k++) {
			if (run_test(&test_cases[k], &env))
				failed++;
			else
				passed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	ret = failed ? 1 : 0;
out:
	if (env.ctx)
		ibv_close_device(env.ctx);
	ibv_free_device_list(list);
	return ret;
}
