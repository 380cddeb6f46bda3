/*
 * verbs_test: user-space verbs conformance test for the siw driver.
 *
 * Shared declarations. Every subtest is a function taking a struct test;
 * it returns 0 on success or -1 after recording why it failed, and it
 * releases everything it created on both paths.
 */
#ifndef VERBS_TEST_H
#define VERBS_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <infiniband/verbs.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* Size of one receive buffer slot handed out by post_recvs() */
#define RECV_SLOT	64

struct test_env {
	struct ibv_device *dev;
	struct ibv_context *ctx;
	struct ibv_device_attr attr;	/* limits every boundary test uses */
	const char *netdev;		/* -n: netdev the device sits on */
	int verbose;
};

struct test {
	const struct test_env *env;
	char reason[512];
};

void test_fail(struct test *t, const char *file, int line, int with_err,
	       int err, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
void test_note(const struct test *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * The check macros expect a 'struct test *t' and an 'out' cleanup label in
 * the calling function. CHECK_ERR appends the text of err (taken as an
 * absolute value, since libsiw returns negated errno values from some
 * calls) to the reason.
 */
#define CHECK_(cond, with_err, err, ...)					\
	do {									\
		if (!(cond)) {							\
			test_fail(t, __FILE__, __LINE__, (with_err), (err),	\
				  __VA_ARGS__);					\
			goto out;						\
		}								\
	} while (0)

#define CHECK(cond, ...)		CHECK_(cond, 0, 0, __VA_ARGS__)
#define CHECK_ERR(cond, err, ...)	CHECK_(cond, 1, err, __VA_ARGS__)

/* For helpers that take 't' and have already recorded their failure */
#define TRY(expr)								\
	do {									\
		if (expr)							\
			goto out;						\
	} while (0)

static inline int min_int(int a, int b)
{
	return a < b ? a : b;
}

/* Helpers shared by the subtests (main.c) */
void sleep_ms(int ms);
const char *qp_state_name(enum ibv_qp_state state);
void rc_qp_init_attr(struct ibv_qp_init_attr *ia, struct ibv_cq *send_cq,
		     struct ibv_cq *recv_cq, struct ibv_srq *srq,
		     uint32_t depth);
struct ibv_qp *create_rc_qp(struct ibv_pd *pd, struct ibv_cq *send_cq,
			    struct ibv_cq *recv_cq, struct ibv_srq *srq,
			    uint32_t depth);
int qp_to_state(struct ibv_qp *qp, enum ibv_qp_state state);
int post_recvs(struct ibv_qp *qp, struct ibv_srq *srq, struct ibv_mr *mr,
	       uint64_t first_id, int count);
int poll_cq_wait(struct ibv_cq *cq, struct ibv_wc *wc, int want,
		 int timeout_ms);
int create_cq_err(struct ibv_context *ctx, int cqe, int comp_vector);
int reg_mr_err(struct ibv_pd *pd, void *addr, size_t len, int access);

/* Subtests */
int test_query_device(struct test *t);
int test_query_port(struct test *t);
int test_pd(struct test *t);
int test_async_fd(struct test *t);
int test_mr(struct test *t);
int test_cq(struct test *t);
int test_cq_notify(struct test *t);
int test_qp_create(struct test *t);
int test_qp_states(struct test *t);
int test_flush(struct test *t);
int test_bad_args(struct test *t);
int test_srq(struct test *t);
int test_many_objects(struct test *t);
int test_kill_cleanup(struct test *t);

#endif /* VERBS_TEST_H */
