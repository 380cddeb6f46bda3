/*
 * verbs_test: device, port, protection domain and async event fd.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <rdma/siw-abi.h>

#include "verbs_test.h"

#define PD_MANY		64

int test_query_device(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_device_attr_ex ax;
	struct ibv_device_attr a;
	/* Limits that must be positive, read once 'a' has been filled in */
	const struct {
		const char *name;
		const int *val;
	} limits[] = {
#define LIMIT(field)	{ #field, &a.field }
		LIMIT(max_qp),
		LIMIT(max_qp_wr),
		LIMIT(max_sge),
		LIMIT(max_cq),
		LIMIT(max_cqe),
		LIMIT(max_mr),
		LIMIT(max_pd),
		LIMIT(max_srq),
		LIMIT(max_srq_wr),
		LIMIT(max_srq_sge),
#undef LIMIT
	};
	int rc, ret = -1;
	size_t i;

	memset(&a, 0, sizeof(a));
	rc = ibv_query_device(ctx, &a);
	CHECK_ERR(rc == 0, rc, "ibv_query_device");

	test_note(t, "fw_ver %s node_guid 0x%016llx ports %u", a.fw_ver,
		  (unsigned long long)be64toh(a.node_guid), a.phys_port_cnt);
	test_note(t, "ord %d ird %d", a.max_qp_init_rd_atom, a.max_qp_rd_atom);
	for (i = 0; i < ARRAY_SIZE(limits); i++) {
		test_note(t, "%s %d", limits[i].name, *limits[i].val);
		CHECK(*limits[i].val > 0, "%s is %d", limits[i].name,
		      *limits[i].val);
	}
	CHECK(a.max_sge >= 2, "max_sge is %d, need at least 2", a.max_sge);
	/*
	 * The queue elements libsiw shares with the driver hold SIW_MAX_SGE
	 * SGEs; libsiw rejects longer lists, so more must not be advertised.
	 */
	CHECK(a.max_sge <= SIW_MAX_SGE && a.max_srq_sge <= SIW_MAX_SGE,
	      "max_sge %d / max_srq_sge %d exceed the ABI's SIW_MAX_SGE %d",
	      a.max_sge, a.max_srq_sge, SIW_MAX_SGE);
	CHECK(a.fw_ver[0] != '\0', "fw_ver is empty");
	CHECK(a.node_guid != 0, "node_guid is zero");
	CHECK(a.phys_port_cnt == 1, "phys_port_cnt is %u", a.phys_port_cnt);

	rc = ibv_query_device_ex(ctx, NULL, &ax);
	CHECK_ERR(rc == 0, rc, "ibv_query_device_ex");
	CHECK(ax.orig_attr.max_qp == a.max_qp &&
	      ax.orig_attr.max_qp_wr == a.max_qp_wr &&
	      ax.orig_attr.max_sge == a.max_sge &&
	      ax.orig_attr.max_cqe == a.max_cqe &&
	      ax.orig_attr.max_mr == a.max_mr &&
	      ax.orig_attr.node_guid == a.node_guid,
	      "ibv_query_device_ex disagrees with ibv_query_device");
	ret = 0;
out:
	return ret;
}

/* Parse /sys/class/net/@netdev/address into @mac. */
static int read_mac(const char *netdev, uint8_t mac[6])
{
	char path[256];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", netdev);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fscanf(f, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]);
	fclose(f);
	return n == 6 ? 0 : -1;
}

int test_query_port(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	const char *netdev = t->env->netdev;
	struct ibv_port_attr pa, pa2;
	union ibv_gid gid;
	uint8_t mac[6];
	__be16 pkey;
	int rc, ret = -1;

	rc = ibv_query_port(ctx, 1, &pa);
	CHECK_ERR(rc == 0, rc, "ibv_query_port(1)");
	test_note(t, "port 1: %s mtu %d gid_tbl_len %d max_msg_sz %u",
		  ibv_port_state_str(pa.state), 128 << pa.active_mtu,
		  pa.gid_tbl_len, pa.max_msg_sz);
	CHECK(pa.state == IBV_PORT_ACTIVE, "port 1 is %s",
	      ibv_port_state_str(pa.state));
	CHECK(pa.link_layer == IBV_LINK_LAYER_ETHERNET,
	      "link_layer is %u, not Ethernet", pa.link_layer);
	CHECK(pa.gid_tbl_len >= 1, "gid_tbl_len is %d", pa.gid_tbl_len);
	CHECK(pa.active_mtu >= IBV_MTU_256 && pa.active_mtu <= IBV_MTU_4096,
	      "active_mtu enum %d out of range", pa.active_mtu);
	CHECK(pa.max_msg_sz > 0, "max_msg_sz is 0");

	rc = ibv_query_port(ctx, 2, &pa2);
	CHECK_ERR(rc == EINVAL, rc, "ibv_query_port(2) must fail with EINVAL");

	rc = ibv_query_gid(ctx, 1, 0, &gid);
	CHECK_ERR(rc == 0, errno, "ibv_query_gid(1, 0)");
	if (netdev) {
		CHECK(read_mac(netdev, mac) == 0, "cannot read the MAC of %s",
		      netdev);
		CHECK(!memcmp(gid.raw, mac, sizeof(mac)),
		      "GID %02x:%02x:%02x:%02x:%02x:%02x... does not start with the MAC of %s",
		      gid.raw[0], gid.raw[1], gid.raw[2], gid.raw[3],
		      gid.raw[4], gid.raw[5], netdev);
	}
	/* libibverbs returns -1 here, so only failure itself can be checked */
	rc = ibv_query_gid(ctx, 1, pa.gid_tbl_len, &gid);
	CHECK(rc != 0, "ibv_query_gid at index gid_tbl_len (%d) succeeded",
	      pa.gid_tbl_len);

	rc = ibv_query_pkey(ctx, 1, 0, &pkey);
	CHECK_ERR(rc == 0, errno, "ibv_query_pkey(1, 0)");
	ret = 0;
out:
	return ret;
}

int test_pd(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct ibv_pd *pds[PD_MANY] = { NULL };
	struct ibv_pd *pd;
	int i, n, rc, ret = -1;

	pd = ibv_alloc_pd(ctx);
	CHECK_ERR(pd, errno, "ibv_alloc_pd");
	rc = ibv_dealloc_pd(pd);
	CHECK_ERR(rc == 0, rc, "ibv_dealloc_pd");

	n = min_int(PD_MANY, t->env->attr.max_pd);
	for (i = 0; i < n; i++) {
		pds[i] = ibv_alloc_pd(ctx);
		CHECK_ERR(pds[i], errno, "ibv_alloc_pd #%d", i);
	}
	for (i = n - 1; i >= 0; i--) {
		rc = ibv_dealloc_pd(pds[i]);
		pds[i] = NULL;
		CHECK_ERR(rc == 0, rc, "ibv_dealloc_pd #%d", i);
	}
	ret = 0;
out:
	for (i = 0; i < PD_MANY; i++)
		if (pds[i])
			ibv_dealloc_pd(pds[i]);
	return ret;
}

int test_async_fd(struct test *t)
{
	struct ibv_context *ctx = t->env->ctx;
	struct pollfd pfd = { .fd = ctx->async_fd, .events = POLLIN };
	struct ibv_async_event ev;
	int flags, pending, rc, err, ret = -1;

	flags = fcntl(ctx->async_fd, F_GETFL);
	CHECK_ERR(flags >= 0, errno, "fcntl(async_fd, F_GETFL)");
	pending = poll(&pfd, 1, 0);
	CHECK_ERR(pending >= 0, errno, "poll(async_fd)");
	CHECK_ERR(fcntl(ctx->async_fd, F_SETFL, flags | O_NONBLOCK) == 0,
		  errno, "fcntl(async_fd, F_SETFL)");

	/* Non-blocking, so a driver that never signals cannot hang us here */
	rc = ibv_get_async_event(ctx, &ev);
	err = rc ? errno : 0;
	if (rc == 0) {
		/* Unacked events would block destroying the object they name */
		test_note(t, "async event pending: %s",
			  ibv_event_type_str(ev.event_type));
		ibv_ack_async_event(&ev);
	}
	if (pending)
		CHECK_ERR(rc == 0, err,
			  "poll said an event is pending, but none was read");
	else
		CHECK_ERR(rc == -1 && err == EAGAIN, err,
			  "ibv_get_async_event on an idle non-blocking async_fd must fail with EAGAIN");
	ret = 0;
out:
	if (flags >= 0)
		fcntl(ctx->async_fd, F_SETFL, flags);
	return ret;
}
