/*
 * verbs_hold DEVICE [SECONDS]: open DEVICE, create one of each object and
 * hold them until the device disappears underneath (interface deleted,
 * "rdma link delete", module unloaded). Prints "held" once set up and
 * "removed: <error>" when the device stops answering, then releases
 * everything and exits 0. Exits 1 if the device is still there after
 * SECONDS (default 60) or setup failed: the removal must not wait for us.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <infiniband/verbs.h>

static struct ibv_context *open_device(const char *name)
{
	struct ibv_device **list = ibv_get_device_list(NULL);
	struct ibv_context *ctx = NULL;
	int i;

	for (i = 0; list && list[i]; i++)
		if (!strcmp(ibv_get_device_name(list[i]), name))
			ctx = ibv_open_device(list[i]);
	ibv_free_device_list(list);
	return ctx;
}

int main(int argc, char **argv)
{
	struct ibv_qp_init_attr qia = {
		.qp_type = IBV_QPT_RC,
		.cap = { .max_send_wr = 8, .max_recv_wr = 8,
			 .max_send_sge = 1, .max_recv_sge = 1 },
	};
	static char buf[4096];
	struct ibv_port_attr port;
	struct ibv_context *ctx;
	struct ibv_pd *pd;
	struct ibv_mr *mr;
	struct ibv_cq *cq;
	struct ibv_qp *qp;
	time_t end;
	int rv;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DEVICE [SECONDS]\n", argv[0]);
		return 2;
	}
	end = time(NULL) + (argc > 2 ? atoi(argv[2]) : 60);

	ctx = open_device(argv[1]);
	if (!ctx) {
		fprintf(stderr, "cannot open %s\n", argv[1]);
		return 1;
	}
	pd = ibv_alloc_pd(ctx);
	cq = pd ? ibv_create_cq(ctx, 16, NULL, NULL, 0) : NULL;
	qia.send_cq = qia.recv_cq = cq;
	qp = cq ? ibv_create_qp(pd, &qia) : NULL;
	mr = qp ? ibv_reg_mr(pd, buf, sizeof(buf), IBV_ACCESS_LOCAL_WRITE) : NULL;
	if (!mr) {
		perror("creating objects");
		return 1;
	}
	printf("held\n");
	fflush(stdout);

	while ((rv = ibv_query_port(ctx, 1, &port)) == 0) {
		if (time(NULL) > end) {
			printf("device still present\n");
			return 1;
		}
		usleep(100000);
	}
	printf("removed: %s\n", strerror(rv));

	/* Objects of a removed device can only be released, not used. */
	ibv_dereg_mr(mr);
	ibv_destroy_qp(qp);
	ibv_destroy_cq(cq);
	ibv_dealloc_pd(pd);
	ibv_close_device(ctx);
	return 0;
}
