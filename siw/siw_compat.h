/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The differences between the kernel APIs siw is built against (Linux
 * 6.1 and 6.12), kept in one place so no other file needs a version test.
 */
#ifndef SIW_COMPAT_H
#define SIW_COMPAT_H

#include <linux/version.h>
#include <rdma/ib_verbs.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/uio.h>
#include <rdma/uverbs_ioctl.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
/* Newer kernels pass the whole uverbs attribute bundle to create_cq. */
#define SIW_CREATE_CQ_UARG		struct uverbs_attr_bundle *uarg
#define siw_create_cq_udata(uarg)	((uarg) ? &(uarg)->driver_udata : NULL)
#else
#define SIW_CREATE_CQ_UARG		struct ib_udata *uarg
#define siw_create_cq_udata(uarg)	(uarg)
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 9, 0)
/* Newer kernels track names given through "rdma link add" (6.1 does not). */
#define siw_mark_name_assigned_by_user(ibdev) ib_mark_name_assigned_by_user(ibdev)
#else
static inline void siw_mark_name_assigned_by_user(struct ib_device *ibdev)
{
}
#endif

/*
 * Zero-copy transmit completion: newer kernels reach the callback of a
 * struct ubuf_info through an ops table, older ones hold it directly.
 *
 * SKBFL_DONT_ORPHAN lets TCP clone the skbs for transmission without
 * first copying the pages out (skb_orphan_frags() in skb_clone()). Without
 * it the copy also cleared SKBFL_PURE_ZEROCOPY on skbs still in the write
 * queue, and TCP then uncharged memory it had never charged for them.
 */
#define SIW_UBUF_FLAGS	(SKBFL_ZEROCOPY_FRAG | SKBFL_DONT_ORPHAN)

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define SIW_DEFINE_UBUF_OPS(name, fn) \
	static const struct ubuf_info_ops name = { .complete = fn }
static inline void siw_ubuf_init(struct ubuf_info *ubuf,
				 const struct ubuf_info_ops *ops,
				 void (*fn)(struct sk_buff *, struct ubuf_info *, bool))
{
	ubuf->ops = ops;
	ubuf->flags = SIW_UBUF_FLAGS;
	refcount_set(&ubuf->refcnt, 1);
}
#else
#define SIW_DEFINE_UBUF_OPS(name, fn) \
	static const int name
static inline void siw_ubuf_init(struct ubuf_info *ubuf, const int *ops,
				 void (*fn)(struct sk_buff *, struct ubuf_info *, bool))
{
	ubuf->callback = fn;
	ubuf->flags = SIW_UBUF_FLAGS;
	refcount_set(&ubuf->refcnt, 1);
}
#endif

/*
 * Sends n bvecs (size bytes) with TCP taking references to their pages
 * instead of copying them: a sendmsg flag since 6.5, sendpage before.
 * Returns the bytes taken or a negative errno, like sock_sendmsg().
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
static inline int siw_send_page_refs(struct socket *sock, struct bio_vec *bv,
				     unsigned int n, size_t size, int flags)
{
	struct msghdr msg = { .msg_flags = flags | MSG_SPLICE_PAGES };

	iov_iter_bvec(&msg.msg_iter, ITER_SOURCE, bv, n, size);
	return sock_sendmsg(sock, &msg);
}
#else
static inline int siw_send_page_refs(struct socket *sock, struct bio_vec *bv,
				     unsigned int n, size_t size, int flags)
{
	int more = MSG_MORE | MSG_SENDPAGE_NOTLAST;
	int sent = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		int f = (flags & ~MSG_MORE) |
			(i + 1 < n || (flags & MSG_MORE) ? more : 0);
		int rv = kernel_sendpage(sock, bv[i].bv_page, bv[i].bv_offset,
					 bv[i].bv_len, f);

		if (rv <= 0)
			return sent ? sent : rv;
		sent += rv;
		if (rv < bv[i].bv_len)
			break;
	}
	return sent;
}
#endif

#endif /* SIW_COMPAT_H */
