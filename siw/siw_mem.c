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

static void siw_mem_release(struct kref *ref)
{
	struct siw_mem *mem = container_of(ref, struct siw_mem, ref);

	if (mem->umem)
		ib_umem_release(mem->umem);
	kvfree(mem->pages);
	kfree(mem->pbl);
	kfree_rcu(mem, rcu);
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
