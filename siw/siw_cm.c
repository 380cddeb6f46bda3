// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * iWARP connection management (iw_cm device operations).
 *
 * MPA connection setup over kernel TCP sockets is not implemented yet:
 * every request fails cleanly with -EOPNOTSUPP, which iw_cm and rdma_cm
 * hand back to the consumer as a failed connect, accept or listen.
 */
#include <rdma/iw_cm.h>

#include "siw.h"

int siw_cm_connect(struct iw_cm_id *id, struct iw_cm_conn_param *param)
{
	return -EOPNOTSUPP;
}

int siw_cm_accept(struct iw_cm_id *id, struct iw_cm_conn_param *param)
{
	return -EOPNOTSUPP;
}

int siw_cm_reject(struct iw_cm_id *id, const void *pdata, u8 pdata_len)
{
	return -EOPNOTSUPP;
}

int siw_cm_create_listen(struct iw_cm_id *id, int backlog)
{
	return -EOPNOTSUPP;
}

int siw_cm_destroy_listen(struct iw_cm_id *id)
{
	return -EOPNOTSUPP;
}
