// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Memory of work and completion queues. Queues of user objects are
 * mapped into the process through the uverbs file; queues of kernel
 * objects are plain zeroed memory.
 *
 * A process chooses the sizes of its queues, so their memory is charged
 * to its memory cgroup (the pages are allocated with __GFP_ACCOUNT and
 * mapped into the kernel with vmap(), since vmalloc_user() does not
 * account) and limited per user context (SIW_MAX_UCTX_QUEUE_BYTES).
 */
#include <linux/vmalloc.h>
#include <linux/mm.h>
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>

#include "siw.h"

#define SIW_MMAP_MIN_PGOFF	((SIW_ABI_INVAL_UOBJ_KEY >> PAGE_SHIFT) + 1)

/*
 * Takes bytes of the user context's queue allowance, or -ENOMEM when it
 * would exceed SIW_MAX_UCTX_QUEUE_BYTES.
 */
int siw_uctx_charge(struct siw_ucontext *uctx, size_t bytes)
{
	if (atomic64_add_return(bytes, &uctx->queue_bytes) >
	    SIW_MAX_UCTX_QUEUE_BYTES) {
		atomic64_sub(bytes, &uctx->queue_bytes);
		ibdev_dbg(uctx->base_ucontext.device,
			  "user context over its queue memory limit\n");
		return -ENOMEM;
	}
	return 0;
}

void siw_uctx_uncharge(struct siw_ucontext *uctx, size_t bytes)
{
	atomic64_sub(bytes, &uctx->queue_bytes);
}

static void siw_queue_pages_free(struct page **pages, unsigned long n)
{
	while (n--)
		put_page(pages[n]);
	kvfree(pages);
}

static void siw_queue_entry_free(struct siw_queue_entry *entry)
{
	vunmap(entry->addr);
	siw_queue_pages_free(entry->pages, entry->npages);
	kfree(entry);
}

/* Zeroed, page-aligned memory a process may map, charged to its memcg. */
static void *siw_queue_vmap(size_t len, struct page ***pagesp)
{
	unsigned long n = len >> PAGE_SHIFT, i;
	struct page **pages;
	void *addr;

	pages = kvmalloc_array(n, sizeof(*pages), SIW_GFP_USER_QUEUE);
	if (!pages)
		return NULL;
	for (i = 0; i < n; i++) {
		pages[i] = alloc_page(SIW_GFP_USER_QUEUE | __GFP_ZERO);
		if (!pages[i])
			goto err;
	}
	/* VM_USERMAP: remap_vmalloc_range() maps only such areas. */
	addr = vmap(pages, n, VM_MAP | VM_USERMAP, PAGE_KERNEL);
	if (!addr)
		goto err;
	*pagesp = pages;
	return addr;
err:
	siw_queue_pages_free(pages, i);
	return NULL;
}

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
	struct page **pages;
	int rv;

	q->entry = NULL;
	q->uctx = NULL;
	if (!udata) {
		q->addr = vmalloc_user(len);
		return q->addr ? 0 : -ENOMEM;
	}

	uctx = rdma_udata_to_drv_context(udata, struct siw_ucontext,
					 base_ucontext);
	rv = siw_uctx_charge(uctx, len);
	if (rv)
		return rv;
	entry = kzalloc(sizeof(*entry), GFP_KERNEL_ACCOUNT);
	if (!entry) {
		rv = -ENOMEM;
		goto err_charge;
	}
	q->addr = siw_queue_vmap(len, &pages);
	if (!q->addr) {
		kfree(entry);
		rv = -ENOMEM;
		goto err_charge;
	}
	entry->addr = q->addr;
	entry->pages = pages;
	entry->npages = len >> PAGE_SHIFT;
	/*
	 * The ABI reserves one key value to mean "no mapping"; a mapping
	 * whose offset happened to equal it would be refused by the
	 * provider. Keys are allocated above it.
	 */
	rv = rdma_user_mmap_entry_insert_range(&uctx->base_ucontext,
					       &entry->rdma_entry, len,
					       SIW_MMAP_MIN_PGOFF, U32_MAX);
	if (rv) {
		siw_queue_entry_free(entry);
		goto err_charge;
	}
	q->entry = &entry->rdma_entry;
	q->uctx = uctx;
	q->charged = len;
	*key = rdma_user_mmap_get_offset(q->entry);
	return 0;

err_charge:
	siw_uctx_uncharge(uctx, len);
	q->addr = NULL;
	return rv;
}

/*
 * The queue's object is gone. A user queue's pages may live on while the
 * process still maps them (siw_mmap_free()), but no longer count against
 * the context: the object that the limit is about is destroyed.
 */
void siw_queue_free(struct siw_queue *q)
{
	if (q->entry) {
		rdma_user_mmap_entry_remove(q->entry);
		siw_uctx_uncharge(q->uctx, q->charged);
	} else {
		vfree(q->addr);
	}
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
	siw_queue_entry_free(to_siw_queue_entry(rdma_entry));
}
