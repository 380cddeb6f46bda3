// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Memory of work and completion queues. Queues of user objects are
 * mapped into the process through the uverbs file; queues of kernel
 * objects are plain zeroed memory.
 */
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>

#include "siw.h"

#define SIW_MMAP_MIN_PGOFF	((SIW_ABI_INVAL_UOBJ_KEY >> PAGE_SHIFT) + 1)

/*
 * Allocates @size bytes of zeroed queue memory. With @udata the memory is
 * also offered to user space and *@key receives the mmap offset.
 */
int siw_queue_alloc(struct siw_queue *q, size_t size, struct ib_udata *udata,
		    u64 *key)
{
	struct siw_ucontext *uctx;
	struct siw_queue_entry *entry;
	size_t len = PAGE_ALIGN(size);
	int rv;

	q->entry = NULL;
	q->addr = vmalloc_user(len);
	if (!q->addr)
		return -ENOMEM;
	if (!udata)
		return 0;

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry) {
		rv = -ENOMEM;
		goto err_free;
	}
	entry->addr = q->addr;
	uctx = rdma_udata_to_drv_context(udata, struct siw_ucontext,
					 base_ucontext);
	/*
	 * The ABI reserves one key value to mean "no mapping"; a mapping
	 * whose offset happened to equal it would be refused by the
	 * provider. Keys are allocated above it.
	 */
	rv = rdma_user_mmap_entry_insert_range(&uctx->base_ucontext,
					       &entry->rdma_entry, len,
					       SIW_MMAP_MIN_PGOFF, U32_MAX);
	if (rv) {
		kfree(entry);
		goto err_free;
	}
	q->entry = &entry->rdma_entry;
	*key = rdma_user_mmap_get_offset(q->entry);
	return 0;

err_free:
	vfree(q->addr);
	q->addr = NULL;
	return rv;
}

void siw_queue_free(struct siw_queue *q)
{
	if (q->entry)
		rdma_user_mmap_entry_remove(q->entry);
	else
		vfree(q->addr);
	q->addr = NULL;
	q->entry = NULL;
}

int siw_mmap(struct ib_ucontext *uctx, struct vm_area_struct *vma)
{
	struct rdma_user_mmap_entry *rdma_entry;
	int rv;

	/* Checks VM_SHARED and that the length matches the entry. */
	rdma_entry = rdma_user_mmap_entry_get(uctx, vma);
	if (!rdma_entry)
		return -EINVAL;

	rv = remap_vmalloc_range(vma, to_siw_queue_entry(rdma_entry)->addr, 0);
	rdma_user_mmap_entry_put(rdma_entry);
	return rv;
}

void siw_mmap_free(struct rdma_user_mmap_entry *rdma_entry)
{
	struct siw_queue_entry *entry = to_siw_queue_entry(rdma_entry);

	vfree(entry->addr);
	kfree(entry);
}
