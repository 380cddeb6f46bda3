// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Module glue: parameters, creation and removal of siw devices, and the
 * netdev events that drive them.
 *
 * A siw device exists per network interface it is attached to. Devices
 * appear through "rdma link add NAME type siw netdev DEV", through the
 * attach and loopback_enabled parameters (then named siw_<netdev>), and
 * go away with "rdma link delete", with their interface, or at unload.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/netdevice.h>
#include <linux/if_arp.h>
#include <linux/inetdevice.h>
#include <linux/etherdevice.h>
#include <linux/rtnetlink.h>
#include <linux/workqueue.h>
#include <net/addrconf.h>
#include <net/net_namespace.h>
#include <rdma/ib_verbs.h>
#include <rdma/iw_cm.h>
#include <rdma/rdma_netlink.h>

#include "siw.h"

MODULE_AUTHOR("The siw authors");
MODULE_DESCRIPTION("Software iWARP RDMA device (RFC 5040, 5041, 5044, 6581)");
MODULE_LICENSE("Dual BSD/GPL");
MODULE_ALIAS_RDMA_LINK("siw");

#define SIW_NODE_DESC	"Software iWARP stack"

static bool loopback_enabled;
module_param(loopback_enabled, bool, 0444);
MODULE_PARM_DESC(loopback_enabled,
		 "Also attach a device to the loopback interface lo (default: no)");

static int siw_crc_impl_set(const char *val, const struct kernel_param *kp)
{
	enum siw_crc_impl impl;

	if (siw_crc_parse(val, &impl)) {
		pr_err("siw: mpa_crc_impl: '%.*s' is not auto, lib or crypto\n",
		       (int)strcspn(val, "\n"), val);
		return -EINVAL;
	}
	return siw_crc_select(impl);
}

static int siw_crc_impl_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", siw_crc_in_use());
}

static const struct kernel_param_ops siw_crc_impl_ops = {
	.set = siw_crc_impl_set,
	.get = siw_crc_impl_get,
};

module_param_cb(mpa_crc_impl, &siw_crc_impl_ops, NULL, 0644);
MODULE_PARM_DESC(mpa_crc_impl,
		 "Code for MPA CRC32C: auto (default: the faster of the two here, timed), lib (lib/crc32), crypto (the crypto API's crc32c); reads back the one in use");

/*
 * attach: "none", "all" (every Ethernet interface of the initial network
 * namespace, including ones that appear later) or a comma-separated list
 * of interface names, attached whenever they appear.
 */
#define SIW_ATTACH_MAX	256
static char siw_attach[SIW_ATTACH_MAX] = "none";

static bool siw_attach_list_valid(const char *list)
{
	char name[IFNAMSIZ];
	const char *end;
	size_t len;

	for (;;) {
		end = strchrnul(list, ',');
		len = end - list;
		if (!len || len >= IFNAMSIZ)
			return false;
		memcpy(name, list, len);
		name[len] = '\0';
		if (!dev_valid_name(name))
			return false;
		if (!*end)
			return true;
		list = end + 1;
	}
}

static int siw_attach_set(const char *val, const struct kernel_param *kp)
{
	char buf[SIW_ATTACH_MAX];
	size_t len = strcspn(val, "\n");

	if (len >= sizeof(buf)) {
		pr_err("siw: attach: list longer than %zu characters\n",
		       sizeof(buf) - 1);
		return -EINVAL;
	}
	memcpy(buf, val, len);
	buf[len] = '\0';
	if (strcmp(buf, "none") && strcmp(buf, "all") &&
	    !siw_attach_list_valid(buf)) {
		pr_err("siw: attach: '%s' is not none, all or a comma-separated list of interface names\n",
		       buf);
		return -EINVAL;
	}
	strscpy(siw_attach, buf, sizeof(siw_attach));
	return 0;
}

static int siw_attach_get(char *buffer, const struct kernel_param *kp)
{
	return sysfs_emit(buffer, "%s\n", siw_attach);
}

static const struct kernel_param_ops siw_attach_ops = {
	.set = siw_attach_set,
	.get = siw_attach_get,
};
module_param_cb(attach, &siw_attach_ops, NULL, 0444);
MODULE_PARM_DESC(attach,
		 "Interfaces to attach to at load and when they appear: none (default), all (Ethernet), or a comma-separated list of names");

static struct workqueue_struct *siw_attach_wq;

static bool siw_netdev_supported(const struct net_device *netdev)
{
	return netdev->type == ARPHRD_ETHER || netdev->type == ARPHRD_IEEE802 ||
	       netdev->type == ARPHRD_LOOPBACK;
}

static enum ib_port_state siw_netdev_port_state(const struct net_device *netdev)
{
	return netif_running(netdev) && netif_carrier_ok(netdev) ?
	       IB_PORT_ACTIVE : IB_PORT_DOWN;
}

static void siw_dealloc_driver(struct ib_device *ibdev)
{
	struct siw_device *sdev = to_siw_dev(ibdev);

	siw_cm_dev_exit(sdev);
	WARN_ON(!xa_empty(&sdev->qp_xa));
	WARN_ON(!xa_empty(&sdev->mem_xa));
	/* Memory freed late still names the device (ib_umem_release()). */
	siw_mem_flush();
	xa_destroy(&sdev->qp_xa);
	xa_destroy(&sdev->mem_xa);
	free_percpu(sdev->stats);
	netdev_put(sdev->netdev, &sdev->netdev_tracker);
}

static const struct ib_device_ops siw_lifecycle_ops = {
	.dealloc_driver = siw_dealloc_driver,
	.device_group = &siw_settings_group,
};

static struct siw_device *siw_device_alloc(struct net_device *netdev)
{
	struct siw_device *sdev;
	struct ib_device *ibdev;
	__be64 guid;
	int rv;

	sdev = ib_alloc_device(siw_device, base_dev);
	if (!sdev)
		return ERR_PTR(-ENOMEM);
	ibdev = &sdev->base_dev;
	sdev->stats = alloc_percpu(struct siw_stats);
	if (!sdev->stats) {
		ib_dealloc_device(ibdev);
		return ERR_PTR(-ENOMEM);
	}

	sdev->netdev = netdev;
	netdev_hold(netdev, &sdev->netdev_tracker, GFP_KERNEL);
	spin_lock_init(&sdev->lock);
	sdev->port_state = siw_netdev_port_state(netdev);
	xa_init_flags(&sdev->qp_xa, XA_FLAGS_ALLOC1);
	xa_init_flags(&sdev->mem_xa, XA_FLAGS_ALLOC1);
	siw_cm_dev_init(sdev);
	siw_settings_init(sdev);

	/* An EUI-64 from the MAC address, as an iWARP RNIC would have. */
	addrconf_addr_eui48((u8 *)&guid, netdev->dev_addr);
	ibdev->node_guid = guid;
	ibdev->node_type = RDMA_NODE_RNIC;
	strscpy(ibdev->node_desc, SIW_NODE_DESC, sizeof(ibdev->node_desc));
	ibdev->phys_port_cnt = 1;
	ibdev->num_comp_vectors = num_possible_cpus();
	/* Ports are real local TCP ports: no iWARP port mapper daemon. */
	ibdev->iw_driver_flags = IW_F_NO_PORT_MAP;
	memcpy(ibdev->iw_ifname, netdev->name, sizeof(ibdev->iw_ifname));
	/*
	 * In sysfs under the NIC's own device, as a hardware RNIC is: tools
	 * such as rdma-core's tests find the interface in DEV/device/net/.
	 * A virtual interface (dummy, veth, lo) has no parent, and then the
	 * siw device has none either. DMA is unaffected: with no DMA device
	 * given to ib_register_device(), the core uses virtual DMA.
	 */
	ibdev->dev.parent = netdev->dev.parent;

	/* The provider's doorbell is the legacy post_send command. */
	ibdev->uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND);
	ib_set_device_ops(ibdev, &siw_device_ops);
	ib_set_device_ops(ibdev, &siw_lifecycle_ops);

	rv = ib_device_set_netdev(ibdev, netdev, 1);
	if (rv) {
		/* Calls siw_dealloc_driver(), which drops our netdev hold. */
		ib_dealloc_device(ibdev);
		return ERR_PTR(rv);
	}
	return sdev;
}

/*
 * Creates and registers a device on @netdev, named @name or siw_<netdev>.
 * Caller holds a reference on @netdev.
 */
static int siw_device_add(struct net_device *netdev, const char *name)
{
	char default_name[IB_DEVICE_NAME_MAX];
	struct ib_device *existing;
	struct siw_device *sdev;
	int rv;

	if (!siw_netdev_supported(netdev)) {
		netdev_err(netdev, "siw: interface type %u is not supported\n",
			   netdev->type);
		return -EINVAL;
	}
	existing = ib_device_get_by_netdev(netdev, RDMA_DRIVER_SIW);
	if (!existing && name)
		existing = ib_device_get_by_name(name, RDMA_DRIVER_UNKNOWN);
	if (existing) {
		/* The core would say ENFILE for a name in use: be clearer. */
		ib_device_put(existing);
		return -EEXIST;
	}

	sdev = siw_device_alloc(netdev);
	if (IS_ERR(sdev))
		return PTR_ERR(sdev);
	if (name) {
		siw_mark_name_assigned_by_user(&sdev->base_dev);
	} else {
		snprintf(default_name, sizeof(default_name), "siw_%s",
			 netdev->name);
		name = default_name;
	}

	/* NULL DMA device: consumers' DMA addresses are kernel addresses. */
	rv = ib_register_device(&sdev->base_dev, name, NULL);
	if (rv) {
		netdev_err(netdev, "siw: registering %s failed: %d\n", name, rv);
		ib_dealloc_device(&sdev->base_dev);
		return rv;
	}

	/*
	 * The interface may have started to go away while we registered;
	 * its NETDEV_UNREGISTER event then could not see this device yet.
	 */
	if (READ_ONCE(netdev->reg_state) != NETREG_REGISTERED)
		ib_unregister_device_queued(&sdev->base_dev);
	else
		ibdev_info(&sdev->base_dev, "attached to %s\n", netdev->name);
	return 0;
}

static int siw_newlink(const char *name, struct net_device *netdev)
{
	return siw_device_add(netdev, name);
}

static struct rdma_link_ops siw_link_ops = {
	.type = "siw",
	.newlink = siw_newlink,
};

struct siw_attach_work {
	struct work_struct work;
	struct net_device *netdev;
	netdevice_tracker tracker;
};

/*
 * rdma_cm resolves 127.0.0.1 and ::1 to lo and then looks for the RDMA
 * device whose GID is lo's hardware address. That address is all zeros,
 * and the RDMA core stores no zero GID, so nothing would ever match. For
 * loopback_enabled we give lo a locally administered address ("siw" in
 * its middle bytes) and take it back at unload if it is still ours.
 */
static const u8 siw_lo_addr[ETH_ALEN] = { 0x02, 0x73, 0x69, 0x77, 0x00, 0x01 };
static bool siw_lo_addr_given;

static void siw_lo_give_addr(struct net_device *lo)
{
	struct sockaddr sa = { .sa_family = lo->type };
	int rv;

	rtnl_lock();
	if (is_zero_ether_addr(lo->dev_addr)) {
		memcpy(sa.sa_data, siw_lo_addr, ETH_ALEN);
		rv = dev_set_mac_address(lo, &sa, NULL);
		if (rv)
			netdev_warn(lo, "siw: cannot set an address for rdma_cm: %d\n",
				    rv);
		else
			siw_lo_addr_given = true;
	}
	rtnl_unlock();
	if (siw_lo_addr_given)
		netdev_info(lo, "siw: address %pM, so rdma_cm finds siw_lo\n",
			    siw_lo_addr);
}

static void siw_lo_take_addr(void)
{
	struct net_device *lo = init_net.loopback_dev;
	static const u8 zero[ETH_ALEN];

	if (!siw_lo_addr_given)
		return;
	rtnl_lock();
	/* Zero is no valid address for dev_set_mac_address(). */
	if (ether_addr_equal(lo->dev_addr, siw_lo_addr)) {
		dev_addr_set(lo, zero);
		call_netdevice_notifiers(NETDEV_CHANGEADDR, lo);
	}
	rtnl_unlock();
}

/*
 * Devices for the attach and loopback_enabled parameters are created
 * from a work item: netdev notifiers run under RTNL, and registering an
 * RDMA device there would order RTNL before the RDMA core's locks.
 */
static void siw_attach_worker(struct work_struct *work)
{
	struct siw_attach_work *aw =
		container_of(work, struct siw_attach_work, work);
	int rv;

	if (READ_ONCE(aw->netdev->reg_state) == NETREG_REGISTERED) {
		if (aw->netdev->type == ARPHRD_LOOPBACK)
			siw_lo_give_addr(aw->netdev);
		rv = siw_device_add(aw->netdev, NULL);
		if (rv && rv != -EEXIST)
			netdev_warn(aw->netdev, "siw: cannot attach: %d\n", rv);
	}
	netdev_put(aw->netdev, &aw->tracker);
	kfree(aw);
}

static bool siw_attach_wanted(const struct net_device *netdev)
{
	const char *list = siw_attach;
	size_t len = strlen(netdev->name);

	if (!net_eq(dev_net(netdev), &init_net))
		return false;
	if (netdev->type == ARPHRD_LOOPBACK)
		return loopback_enabled;
	if (!strcmp(list, "none"))
		return false;
	if (!strcmp(list, "all"))
		return netdev->type == ARPHRD_ETHER;
	while ((list = strstr(list, netdev->name))) {
		bool starts = list == siw_attach || list[-1] == ',';
		bool ends = list[len] == '\0' || list[len] == ',';

		if (starts && ends)
			return true;
		list += len;
	}
	return false;
}

static void siw_attach_queue(struct net_device *netdev)
{
	struct siw_attach_work *aw;

	if (!siw_attach_wanted(netdev))
		return;
	aw = kzalloc(sizeof(*aw), GFP_KERNEL);
	if (!aw)
		return;
	INIT_WORK(&aw->work, siw_attach_worker);
	aw->netdev = netdev;
	netdev_hold(netdev, &aw->tracker, GFP_KERNEL);
	queue_work(siw_attach_wq, &aw->work);
}

static void siw_port_update(struct siw_device *sdev)
{
	enum ib_port_state state = siw_netdev_port_state(sdev->netdev);
	struct ib_event event = {
		.device = &sdev->base_dev,
		.element.port_num = 1,
	};
	enum ib_port_state old;

	spin_lock(&sdev->lock);
	old = sdev->port_state;
	WRITE_ONCE(sdev->port_state, state);
	spin_unlock(&sdev->lock);

	if (old == state)
		return;
	event.event = state == IB_PORT_ACTIVE ? IB_EVENT_PORT_ACTIVE :
						IB_EVENT_PORT_ERR;
	ib_dispatch_event(&event);
}

static void siw_gid_update(struct siw_device *sdev)
{
	struct ib_event event = {
		.device = &sdev->base_dev,
		.element.port_num = 1,
		.event = IB_EVENT_GID_CHANGE,
	};

	ib_dispatch_event(&event);
}

static int siw_netdev_event(struct notifier_block *nb, unsigned long event,
			    void *ptr)
{
	struct net_device *netdev = netdev_notifier_info_to_dev(ptr);
	struct ib_device *ibdev;

	if (event == NETDEV_REGISTER) {
		siw_attach_queue(netdev);
		return NOTIFY_DONE;
	}

	ibdev = ib_device_get_by_netdev(netdev, RDMA_DRIVER_SIW);
	if (!ibdev)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_UP:
	case NETDEV_DOWN:
	case NETDEV_CHANGE:
		siw_port_update(to_siw_dev(ibdev));
		break;
	case NETDEV_CHANGEADDR:
		siw_gid_update(to_siw_dev(ibdev));
		break;
	case NETDEV_UNREGISTER:
		ib_unregister_device_queued(ibdev);
		break;
	default:
		break;
	}
	ib_device_put(ibdev);
	return NOTIFY_DONE;
}

static struct notifier_block siw_netdev_nb = {
	.notifier_call = siw_netdev_event,
};

/*
 * An address added to an interface with a siw device: its wildcard
 * listeners take it up. The IPv6 chain is atomic; the work is queued.
 */
static void siw_addr_added(struct net_device *netdev)
{
	struct ib_device *ibdev = ib_device_get_by_netdev(netdev,
							  RDMA_DRIVER_SIW);

	if (!ibdev)
		return;
	siw_cm_addr_added(to_siw_dev(ibdev));
	ib_device_put(ibdev);
}

static int siw_inetaddr_event(struct notifier_block *nb, unsigned long event,
			      void *ptr)
{
	const struct in_ifaddr *ifa = ptr;

	if (event == NETDEV_UP)
		siw_addr_added(ifa->ifa_dev->dev);
	return NOTIFY_DONE;
}

static int siw_inet6addr_event(struct notifier_block *nb, unsigned long event,
			       void *ptr)
{
	const struct inet6_ifaddr *ifp = ptr;

	if (event == NETDEV_UP)
		siw_addr_added(ifp->idev->dev);
	return NOTIFY_DONE;
}

static struct notifier_block siw_inetaddr_nb = {
	.notifier_call = siw_inetaddr_event,
};

static struct notifier_block siw_inet6addr_nb = {
	.notifier_call = siw_inet6addr_event,
};

static int __init siw_init(void)
{
	int rv;

	rv = siw_crc_init();
	if (rv)
		return rv;
	rv = siw_mem_init();
	if (rv)
		return rv;
	rv = siw_sched_init();
	if (rv)
		goto err_mem;
	rv = siw_cm_init();
	if (rv)
		goto err_sched;
	siw_attach_wq = alloc_workqueue("siw_attach", 0, 0);
	if (!siw_attach_wq) {
		rv = -ENOMEM;
		goto err_cm;
	}

	rv = register_inetaddr_notifier(&siw_inetaddr_nb);
	if (rv)
		goto err_wq;
	rv = register_inet6addr_notifier(&siw_inet6addr_nb);
	if (rv)
		goto err_inet;
	/* Replays NETDEV_REGISTER for existing interfaces: initial attach. */
	rv = register_netdevice_notifier(&siw_netdev_nb);
	if (rv)
		goto err_inet6;
	rdma_link_register(&siw_link_ops);
	pr_info("siw: software iWARP device loaded (attach=%s%s)\n",
		siw_attach, loopback_enabled ? ", loopback" : "");
	return 0;

err_inet6:
	unregister_inet6addr_notifier(&siw_inet6addr_nb);
err_inet:
	unregister_inetaddr_notifier(&siw_inetaddr_nb);
err_wq:
	destroy_workqueue(siw_attach_wq);
err_cm:
	siw_cm_exit();
err_sched:
	siw_sched_exit();
err_mem:
	siw_mem_exit();
	return rv;
}

static void __exit siw_exit(void)
{
	rdma_link_unregister(&siw_link_ops);
	unregister_netdevice_notifier(&siw_netdev_nb);
	/* Pending attaches finish before the devices are torn down. */
	destroy_workqueue(siw_attach_wq);
	ib_unregister_driver(RDMA_DRIVER_SIW);
	unregister_inet6addr_notifier(&siw_inet6addr_nb);
	unregister_inetaddr_notifier(&siw_inetaddr_nb);
	siw_lo_take_addr();
	/* Devices are gone, so are their QPs and connections. */
	siw_cm_exit();
	siw_sched_exit();
	siw_mem_exit();
}

module_init(siw_init);
module_exit(siw_exit);
