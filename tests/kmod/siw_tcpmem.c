// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Test helper: the exact size of the kernel's TCP memory pool, in pages,
 * as /sys/module/siw_tcpmem/parameters/pages.
 *
 * /proc/net/sockstat prints only the pool's global counter. Each CPU
 * keeps charges and uncharges of up to net.core.mem_pcpu_rsv pages (a
 * megabyte, and no less) to itself before it folds them in, so two
 * sockstat readings may differ by almost twice that per CPU with no page
 * gained or lost: after a burst of frees the global counter reads high,
 * after allocations low. 38-tcp-memory compares the pool before and
 * after traffic and needs it exact. Exact only while no socket is busy,
 * which is when the test reads it.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/sysfs.h>
#include <net/tcp.h>

MODULE_DESCRIPTION("siw test helper: exact TCP memory pool size");
MODULE_LICENSE("Dual BSD/GPL");

static int tcpmem_pages_get(char *buf, const struct kernel_param *kp)
{
	long pages = atomic_long_read(tcp_prot.memory_allocated);
	int cpu;

	for_each_possible_cpu(cpu)
		pages += *per_cpu_ptr(tcp_prot.per_cpu_fw_alloc, cpu);
	return sysfs_emit(buf, "%ld\n", pages);
}

static const struct kernel_param_ops tcpmem_pages_ops = {
	.get = tcpmem_pages_get,
};

module_param_cb(pages, &tcpmem_pages_ops, NULL, 0444);
MODULE_PARM_DESC(pages, "TCP memory pool in pages, the CPUs' reserves included");
