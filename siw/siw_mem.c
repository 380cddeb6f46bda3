// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * STags and the memory they name.
 *
 * An STag is a 24-bit index into the device's memory table plus an 8-bit
 * key. Indices are handed out cyclically and keys at random, so a STag
 * that was just freed does not name new memory again any time soon and a
 * stale STag from the wire fails the lookup instead of hitting someone
 * else's buffer.
 */
#include <linux/slab.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <rdma/ib_umem.h>

#include "siw.h"

struct siw_mem *siw_mem_alloc(struct siw_device *sdev, struct ib_pd *pd,
			      enum siw_mem_type type, int access, u8 key)
{
	struct siw_mem *mem;
	u32 index;
	int rv;

	if (atomic_inc_return(&sdev->num_mr) > SIW_MAX_MR) {
		rv = -ENOMEM;
		goto err_count;
	}
	mem = kzalloc(sizeof(*mem), GFP_KERNEL);
	if (!mem) {
		rv = -ENOMEM;
		goto err_count;
	}
	mem->sdev = sdev;
	mem->pd = pd;
	mem->type = type;
	mem->access = access;
	kref_init(&mem->ref);

	rv = xa_alloc_cyclic(&sdev->mem_xa, &index, mem,
			     XA_LIMIT(1, SIW_STAG_MAX_INDEX), &sdev->mem_next,
			     GFP_KERNEL);
	if (rv < 0)
		goto err_free;

	if (!key)
		key = get_random_u8();
	mem->stag = index << SIW_STAG_KEY_BITS | key;
	return mem;

err_free:
	kfree(mem);
err_count:
	atomic_dec(&sdev->num_mr);
	return ERR_PTR(rv);
}

static struct workqueue_struct *siw_mem_wq;

int siw_mem_init(void)
{
	siw_mem_wq = alloc_workqueue("siw_mem", WQ_MEM_RECLAIM, 0);
	return siw_mem_wq ? 0 : -ENOMEM;
}

/* Waits until memory whose last reference went is freed. */
void siw_mem_flush(void)
{
	flush_workqueue(siw_mem_wq);
}

void siw_mem_exit(void)
{
	destroy_workqueue(siw_mem_wq);
}

static void siw_mem_free(struct work_struct *work)
{
	struct siw_mem *mem = container_of(work, struct siw_mem, free_work);

	if (mem->umem)
		ib_umem_release(mem->umem);
	kvfree(mem->pages);
	kfree(mem->pbl);
	kfree_rcu(mem, rcu);
}

/*
 * The last reference may go from the data path in atomic context, while
 * unpinning user pages may sleep: that part runs from a work queue.
 */
static void siw_mem_release(struct kref *ref)
{
	struct siw_mem *mem = container_of(ref, struct siw_mem, ref);

	INIT_WORK(&mem->free_work, siw_mem_free);
	queue_work(siw_mem_wq, &mem->free_work);
}

void siw_mem_put(struct siw_mem *mem)
{
	kref_put(&mem->ref, siw_mem_release);
}

/*
 * Takes the STag out of the table. Users that looked it up before keep
 * their reference until they are done with the memory.
 */
void siw_mem_destroy(struct siw_mem *mem)
{
	struct siw_device *sdev = mem->sdev;

	WRITE_ONCE(mem->valid, false);
	xa_erase(&sdev->mem_xa, mem->stag >> SIW_STAG_KEY_BITS);
	atomic_dec(&sdev->num_mr);
	siw_mem_put(mem);
}

int siw_mem_pin_user(struct siw_mem *mem, u64 start, u64 len, u64 va)
{
	struct sg_page_iter piter;
	struct ib_umem *umem;
	unsigned long i = 0;

	umem = ib_umem_get(&mem->sdev->base_dev, start, len, mem->access);
	if (IS_ERR(umem))
		return PTR_ERR(umem);

	/*
	 * A flat page array makes address-to-page lookup on the data path
	 * a single index operation instead of a scatterlist walk.
	 */
	mem->npages = ib_umem_num_pages(umem);
	mem->pages = kvmalloc_array(mem->npages, sizeof(*mem->pages),
				    GFP_KERNEL);
	if (!mem->pages) {
		ib_umem_release(umem);
		return -ENOMEM;
	}
	for_each_sgtable_page(&umem->sgt_append.sgt, &piter, 0) {
		if (WARN_ON_ONCE(i >= mem->npages))
			break;
		mem->pages[i++] = sg_page_iter_page(&piter);
	}
	mem->umem = umem;
	mem->va = va;
	mem->len = len;
	return 0;
}

int siw_mem_alloc_pbl(struct siw_mem *mem, u32 max_pages)
{
	mem->pbl = kcalloc(max_pages, sizeof(*mem->pbl), GFP_KERNEL);
	if (!mem->pbl)
		return -ENOMEM;
	mem->pbl_max = max_pages;
	return 0;
}

/*
 * Finds the memory an STag names and takes a reference, or NULL. The key
 * must match too: a recycled index with a stale key is a different STag.
 * Callable from any context.
 */
struct siw_mem *siw_mem_lookup(struct siw_device *sdev, u32 stag)
{
	struct siw_mem *mem;

	rcu_read_lock();
	mem = xa_load(&sdev->mem_xa, stag >> SIW_STAG_KEY_BITS);
	if (mem && (mem->stag != stag || !kref_get_unless_zero(&mem->ref)))
		mem = NULL;
	rcu_read_unlock();
	return mem;
}

/*
 * Checks an access to [addr, addr + len) through mem. Returns 0, or the
 * failing property: -ENOENT for an invalid STag, -EPERM for another PD,
 * -EACCES for missing rights, -ERANGE for bounds or address wrap.
 */
int siw_mem_check(struct siw_mem *mem, struct ib_pd *pd, int access,
		  u64 addr, u64 len)
{
	/* Pairs with the release that made a fast registration valid. */
	if (!smp_load_acquire(&mem->valid))
		return -ENOENT;
	if (mem->pd != pd)
		return -EPERM;
	if ((mem->access & access) != access)
		return -EACCES;
	if (addr + len < addr)
		return -ERANGE;
	if (mem->type == SIW_MEM_DMA)
		return 0;
	if (addr < mem->va || addr + len > mem->va + mem->len)
		return -ERANGE;
	return 0;
}

/*
 * The page holding byte addr of checked memory, and addr's offset in it,
 * or NULL where there is none: the checks were made against the memory
 * as it was then, and a fast registration may have been invalidated and
 * registered again with a shorter page list since, so every index is
 * bounded here against what the memory holds now.
 *
 * DMA and fast-registration memory of kernel consumers is addressed by
 * kernel virtual addresses: ib_dma_* map through virtual addresses on a
 * device without a DMA device. A DMA MR with remote rights lets the peer
 * choose the address: only addresses of the kernel's direct map have a
 * struct page to return.
 */
struct page *siw_mem_page(struct siw_mem *mem, u64 addr, u32 *off)
{
	u64 pos, kva;

	switch (mem->type) {
	case SIW_MEM_USER:
		pos = ib_umem_offset(mem->umem) + (addr - mem->va);
		if (addr < mem->va || pos >> PAGE_SHIFT >= mem->npages)
			return NULL;
		*off = pos & ~PAGE_MASK;
		return mem->pages[pos >> PAGE_SHIFT];
	case SIW_MEM_PBL: {
		u32 shift = READ_ONCE(mem->page_shift);
		u64 pgsz = 1ULL << shift;
		u64 va = READ_ONCE(mem->va);

		pos = (va & (pgsz - 1)) + (addr - va);
		if (addr < va || pos >> shift >= READ_ONCE(mem->pbl_len))
			return NULL;
		kva = READ_ONCE(mem->pbl[pos >> shift]) + (pos & (pgsz - 1));
		break;
	}
	default:
		kva = addr;
		break;
	}
	if (!virt_addr_valid((void *)(uintptr_t)kva))
		return NULL;
	*off = offset_in_page(kva);
	return virt_to_page((void *)(uintptr_t)kva);
}

/*
 * Local or remote invalidation (RFC 5040 section 5.2) of an STag of this
 * PD. A peer may invalidate only what was registered to be invalidated
 * again, fast registrations; ordinary MRs and the DMA MR stay valid for
 * their whole life and answer it with -EPERM.
 */
int siw_mem_invalidate(struct siw_device *sdev, struct ib_pd *pd, u32 stag,
		       bool remote)
{
	struct siw_mem *mem = siw_mem_lookup(sdev, stag);
	int rv = -EINVAL;

	if (!mem)
		return -ENOENT;
	if (remote && mem->type != SIW_MEM_PBL) {
		rv = -EPERM;
	} else if (mem->pd == pd) {
		WRITE_ONCE(mem->valid, false);
		rv = 0;
	}
	siw_mem_put(mem);
	return rv;
}

/*
 * Whether memory checked earlier under this STag is still the same
 * registration: valid, and not registered again under a new key.
 */
bool siw_mem_still(struct siw_mem *mem, u32 stag)
{
	return smp_load_acquire(&mem->valid) && READ_ONCE(mem->stag) == stag;
}

/* Drops the references of an SGE list's memory, leaving the slots empty. */
void siw_mem_put_sges(struct siw_mem **mem)
{
	int i;

	for (i = 0; i < SIW_ABI_MAX_SGE; i++) {
		if (mem[i])
			siw_mem_put(mem[i]);
		mem[i] = NULL;
	}
}

/*
 * Looks up and checks the memory of every non-empty SGE for local access
 * (access: the rights needed beyond reading). The references land in
 * mem[], also on failure, for siw_mem_put_sges(). Returns 0 with the
 * list's byte count in *total, -EINVAL for too many SGEs, -ENOENT for an
 * unknown lkey, -EACCES for memory that does not allow the access.
 */
int siw_mem_resolve_sges(struct siw_device *sdev, struct ib_pd *pd,
			 const struct siw_abi_sge *sge, u32 num_sge, int access,
			 struct siw_mem **mem, u64 *total)
{
	u32 i;

	*total = 0;
	if (num_sge > SIW_ABI_MAX_SGE)
		return -EINVAL;
	for (i = 0; i < num_sge; i++) {
		*total += sge[i].length;
		if (!sge[i].length)
			continue;
		mem[i] = siw_mem_lookup(sdev, sge[i].lkey);
		if (!mem[i])
			return -ENOENT;
		if (siw_mem_check(mem[i], pd, access, sge[i].laddr,
				  sge[i].length))
			return -EACCES;
	}
	return 0;
}
