// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * The binding of a QP to its TCP stream, and the lifetime of the two
 * engines that work it. This file is their one owner: the connection
 * manager attaches a stream here once MPA is done and detaches it here
 * when the socket goes; destroy_qp ends here. Nothing else starts or
 * stops an engine, and the engines themselves only report to the QP
 * (siw_qp.c), never call up.
 *
 * Attach initialises both engines before the QP enters RTS, all under
 * state_lock, so neither can run on a half-set-up stream. Detach takes
 * the QP to Error first (no engine starts anything new after that),
 * then waits for both: the transmitter's work item and a doorbell in
 * progress (tx_mutex), the receiver (the connection manager took the
 * socket's callbacks away and holds its lock around the last receive).
 * Only then is the QP unbound, and a RESET waiting for that may
 * complete (siw_qp_modify()).
 */
#include "siw.h"

int siw_stream_attach(struct siw_qp *qp, struct socket *sock,
		      struct siw_llp *llp, const struct siw_mpa_nego *nego,
		      bool initiator, u8 zcopy_tx)
{
	int rv;

	down_write(&qp->state_lock);
	rv = siw_qp_bind_check(qp);
	if (!rv) {
		siw_tx_init_stream(qp, zcopy_tx, nego->large_fpdu);
		siw_rx_init(qp, nego->crc,
			    !initiator && nego->p2p ? nego->rtr : 0);
		siw_qp_bind(qp, sock, llp, nego, initiator);
	}
	up_write(&qp->state_lock);
	return rv;
}

/*
 * The connection manager has detached the socket's callbacks and is
 * about to release it. Only the stream llp, never a later one.
 */
void siw_stream_detach(struct siw_qp *qp, struct siw_llp *llp)
{
	if (!siw_qp_llp_lost(qp, llp))
		return;
	flush_work(&qp->tx_work);
	siw_tx_stop(qp);
	siw_rx_release(qp);
	siw_qp_unbind(qp);
}

/* A new QP: the engines' parts, then it becomes findable. */
int siw_stream_qp_init(struct siw_qp *qp)
{
	siw_tx_qp_init(qp);
	return siw_qp_publish(qp);
}

void siw_stream_destroy_qp(struct siw_qp *qp)
{
	siw_qp_retire(qp);
	cancel_work_sync(&qp->tx_work);
	siw_tx_stop(qp);
	siw_rx_release(qp);
	siw_qp_free(qp);
}
