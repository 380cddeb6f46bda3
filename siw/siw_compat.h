/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The differences between the kernel APIs siw is built against (Linux
 * 6.1 and 6.12), kept in one place so no other file needs a version test.
 */
#ifndef SIW_COMPAT_H
#define SIW_COMPAT_H

#include <linux/version.h>
#include <rdma/ib_verbs.h>
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

#endif /* SIW_COMPAT_H */
