// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * iWARP connection management: kernel TCP sockets, the MPA Request and
 * Reply exchange (RFC 5044 section 7, RFC 6581) and the iw_cm events.
 *
 * Every connection endpoint (cep) runs its state machine in a work item
 * under its own mutex. Socket callbacks (softirq) only record that
 * something happened and queue that work, except on an RDMA stream,
 * where data goes straight to the receive engine and write space to the
 * transmitter. A second, delayed work item bounds every wait for the
 * peer (TCP connect, MPA Request, MPA Reply, graceful close).
 *
 *   active:  CONNECTING -> AWAIT_REP -> RDMA -> [CLOSING] -> CLOSED
 *   passive: AWAIT_REQ -> AWAIT_ACCEPT -> RDMA -> [CLOSING] -> CLOSED
 *   listen:  LISTEN -> CLOSED
 *
 * A cep holds a reference on its iw_cm_id (add_ref) from connect or
 * accept until it delivers IW_CM_EVENT_CLOSE or a failed
 * IW_CM_EVENT_CONNECT_REPLY, and one on its QP while the QP owns the
 * stream.
 */
#include <linux/inetdevice.h>
#include <linux/net.h>
#include <linux/tcp.h>
#include <net/addrconf.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <rdma/iw_cm.h>
#include <rdma/rdma_cm.h>

#include "siw.h"

/*
 * Both ends wait for the other's MPA frame as long as iw_cxgb4 does (its
 * ep_timeout_secs). The Reply waits for the responder's consumer to
 * accept, which during a burst of connections takes far longer than the
 * network (1000 QPs connecting at once, 6.12 under TCG: beyond 10 s for
 * some). The Request follows TCP's connect at once, but not always soon:
 * when its first segments are lost, TCP's retransmission backoff alone
 * can hold it for more than 10 s. A silent peer meanwhile holds one of
 * the listener's backlog slots, no more. A closing stream waits for the
 * peer's FIN only briefly.
 */
#define SIW_CM_MPA_TIMEOUT	(60 * HZ)
#define SIW_CM_CLOSE_TIMEOUT	(10 * HZ)
#define SIW_MPA_FRAME_MAX	(sizeof(struct siw_mpa_rr) + \
				 SIW_MPA_MAX_PRIVATE_DATA)

enum siw_cep_state {
	SIW_CEP_IDLE,
	SIW_CEP_LISTEN,
	SIW_CEP_CONNECTING,
	SIW_CEP_AWAIT_REP,
	SIW_CEP_AWAIT_REQ,
	SIW_CEP_AWAIT_ACCEPT,
	SIW_CEP_RDMA,
	SIW_CEP_CLOSING,
	SIW_CEP_CLOSED,
};

enum siw_cep_event {
	SIW_CEP_EV_SOCK,	/* data, state change: look at the socket */
	SIW_CEP_EV_TIMEOUT,
	SIW_CEP_EV_CLOSE,	/* the QP ended the stream gracefully */
	SIW_CEP_EV_ABORT,	/* the QP or module unload resets it */
};

struct siw_cep {
	struct kref ref;
	struct mutex lock;
	enum siw_cep_state state;
	struct list_head entry;		/* in siw_cep_list */
	struct list_head listen_entry;	/* in siw_listen.ceps */
	bool qp_attached;		/* the QP owns the stream */
	bool exit_kicked;
	bool pending;			/* counted in listener->npending */
	struct siw_device *sdev;
	struct socket *sock;
	struct iw_cm_id *cm_id;
	struct siw_qp *qp;
	struct siw_cep *listener;	/* passive: the listening cep */
	/*
	 * Listening cep: connections taken from TCP and not yet accepted or
	 * rejected by the consumer, at most backlog of them. The rest wait
	 * in TCP's accept queue (siw_cm_tcp_backlog()) instead of being
	 * refused by rdma_cm.
	 */
	atomic_t npending;
	int backlog;
	struct siw_llp llp;
	unsigned long events;
	struct work_struct work;
	struct delayed_work timer;

	void (*sk_data_ready)(struct sock *sk);
	void (*sk_state_change)(struct sock *sk);
	void (*sk_write_space)(struct sock *sk);

	/* The MPA Request sent or received, then the Reply. */
	u8 frame[SIW_MPA_FRAME_MAX];
	u32 frame_have;
	struct siw_mpa_info req;
	u8 req_pd[SIW_MPA_MAX_PRIVATE_DATA];
	u16 ird;
	u16 ord;
	/* The device's settings when this connection started. */
	struct siw_settings set;
};

/* All listeners of one iw_cm_id: a wildcard listens on every address. */
struct siw_listen {
	struct list_head ceps;
	struct iw_cm_id *id;
	/*
	 * The listener's network namespace: that of the task that asked
	 * for the listen. Sockets for addresses that come later are made
	 * from a work item, whose own namespace is the initial one.
	 */
	struct net *net;
	int backlog;
	/* In the device's listeners while a wildcard listen. */
	struct list_head dev_entry;
	bool wildcard;
};

static struct workqueue_struct *siw_cm_wq;
static LIST_HEAD(siw_cep_list);
static DEFINE_SPINLOCK(siw_cep_list_lock);
static atomic_t siw_cep_count = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(siw_cep_gone);

static void siw_cep_work(struct work_struct *work);
static void siw_cep_timeout(struct work_struct *work);
static void siw_cep_llp_close(struct siw_llp *llp, bool abort);

static struct siw_cep *siw_cep_alloc(struct siw_device *sdev)
{
	struct siw_cep *cep = kzalloc(sizeof(*cep), GFP_KERNEL);

	if (!cep)
		return NULL;
	kref_init(&cep->ref);
	mutex_init(&cep->lock);
	INIT_WORK(&cep->work, siw_cep_work);
	INIT_DELAYED_WORK(&cep->timer, siw_cep_timeout);
	cep->sdev = sdev;
	cep->llp.close = siw_cep_llp_close;
	atomic_inc(&siw_cep_count);
	spin_lock_bh(&siw_cep_list_lock);
	list_add_tail(&cep->entry, &siw_cep_list);
	spin_unlock_bh(&siw_cep_list_lock);
	return cep;
}

static void siw_cep_release(struct kref *ref)
{
	struct siw_cep *cep = container_of(ref, struct siw_cep, ref);

	spin_lock_bh(&siw_cep_list_lock);
	list_del(&cep->entry);
	spin_unlock_bh(&siw_cep_list_lock);
	if (cep->listener)
		kref_put(&cep->listener->ref, siw_cep_release);
	kfree(cep);
	if (atomic_dec_and_test(&siw_cep_count))
		wake_up(&siw_cep_gone);
}

static void siw_cep_get(struct siw_cep *cep)
{
	kref_get(&cep->ref);
}

static void siw_cep_put(struct siw_cep *cep)
{
	kref_put(&cep->ref, siw_cep_release);
}

/* Any context: have the state machine look at the cep again. */
static void siw_cep_kick(struct siw_cep *cep, enum siw_cep_event ev)
{
	set_bit(ev, &cep->events);
	siw_cep_get(cep);
	if (!queue_work(siw_cm_wq, &cep->work))
		siw_cep_put(cep);
}

static void siw_cep_arm_timer(struct siw_cep *cep, unsigned long timeout)
{
	siw_cep_get(cep);
	if (!mod_delayed_work(siw_cm_wq, &cep->timer, timeout))
		return;
	/* It was pending already and keeps the reference it had. */
	siw_cep_put(cep);
}

static void siw_cep_stop_timer(struct siw_cep *cep)
{
	if (cancel_delayed_work(&cep->timer))
		siw_cep_put(cep);
}

static void siw_cep_timeout(struct work_struct *work)
{
	struct siw_cep *cep = container_of(to_delayed_work(work),
					   struct siw_cep, timer);

	siw_cep_kick(cep, SIW_CEP_EV_TIMEOUT);
	siw_cep_put(cep);
}

/*
 * A passive connection has been accepted, rejected or closed: its
 * listener may take the next one from TCP.
 */
static void siw_cep_unpend(struct siw_cep *cep)
{
	if (!cep->pending)
		return;
	cep->pending = false;
	atomic_dec(&cep->listener->npending);
	siw_cep_kick(cep->listener, SIW_CEP_EV_SOCK);
}

static void siw_cep_llp_close(struct siw_llp *llp, bool abort)
{
	struct siw_cep *cep = container_of(llp, struct siw_cep, llp);

	siw_cep_kick(cep, abort ? SIW_CEP_EV_ABORT : SIW_CEP_EV_CLOSE);
}

/* ---- socket callbacks ----------------------------------------------- */

static void siw_cm_data_ready(struct sock *sk)
{
	struct siw_cep *cep;

	read_lock_bh(&sk->sk_callback_lock);
	cep = sk->sk_user_data;
	if (cep) {
		if (READ_ONCE(cep->state) == SIW_CEP_RDMA)
			siw_rx_data(cep->qp, sk);
		else
			siw_cep_kick(cep, SIW_CEP_EV_SOCK);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void siw_cm_state_change(struct sock *sk)
{
	struct siw_cep *cep;

	read_lock_bh(&sk->sk_callback_lock);
	cep = sk->sk_user_data;
	if (cep)
		siw_cep_kick(cep, SIW_CEP_EV_SOCK);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void siw_cm_write_space(struct sock *sk)
{
	struct siw_cep *cep;

	read_lock_bh(&sk->sk_callback_lock);
	cep = sk->sk_user_data;
	if (cep && READ_ONCE(cep->state) == SIW_CEP_RDMA &&
	    sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		siw_tx_schedule(cep->qp);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void siw_cep_attach(struct siw_cep *cep, struct socket *sock)
{
	struct sock *sk = sock->sk;

	cep->sock = sock;
	write_lock_bh(&sk->sk_callback_lock);
	cep->sk_data_ready = sk->sk_data_ready;
	cep->sk_state_change = sk->sk_state_change;
	cep->sk_write_space = sk->sk_write_space;
	sk->sk_data_ready = siw_cm_data_ready;
	sk->sk_state_change = siw_cm_state_change;
	sk->sk_write_space = siw_cm_write_space;
	sk->sk_user_data = cep;
	write_unlock_bh(&sk->sk_callback_lock);
}

/*
 * After this no callback runs for the cep any more: the callbacks hold
 * the callback lock for reading while they use it.
 */
static void siw_cep_detach(struct siw_cep *cep)
{
	struct sock *sk = cep->sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = cep->sk_data_ready;
	sk->sk_state_change = cep->sk_state_change;
	sk->sk_write_space = cep->sk_write_space;
	sk->sk_user_data = NULL;
	write_unlock_bh(&sk->sk_callback_lock);
}

/* Closes and releases a detached socket; abort resets instead of FIN. */
static void siw_cep_release_sock(struct siw_cep *cep, bool abort)
{
	if (abort)
		sock_no_linger(cep->sock->sk);
	sock_release(cep->sock);
	cep->sock = NULL;
}

static void siw_cep_drop_sock(struct siw_cep *cep, bool abort)
{
	if (!cep->sock)
		return;
	siw_cep_detach(cep);
	siw_cep_release_sock(cep, abort);
}

/* ---- iw_cm events ---------------------------------------------------- */

static void siw_cep_addrs(struct siw_cep *cep, struct iw_cm_event *ev)
{
	if (cep->sock) {
		kernel_getsockname(cep->sock, (struct sockaddr *)&ev->local_addr);
		kernel_getpeername(cep->sock, (struct sockaddr *)&ev->remote_addr);
	}
}

static int siw_cep_event(struct siw_cep *cep, struct iw_cm_id *id,
			 enum iw_cm_event_type type, int status,
			 const void *pd, u16 pd_len)
{
	struct iw_cm_event ev = {
		.event = type,
		.status = status,
		.private_data = (void *)pd,
		.private_data_len = pd_len,
		.provider_data = cep,
		.ird = cep->ird,
		.ord = cep->ord,
	};

	siw_cep_addrs(cep, &ev);
	return id->event_handler(id, &ev);
}

/* The connection is over: QP and iw_cm get told, references dropped. */
static void siw_cep_close(struct siw_cep *cep, bool abort, bool peer_closed)
{
	bool established = cep->state == SIW_CEP_RDMA ||
			   cep->state == SIW_CEP_CLOSING;

	siw_cep_unpend(cep);
	siw_cep_stop_timer(cep);
	if (cep->sock)
		siw_cep_detach(cep);
	if (cep->qp) {
		if (cep->qp_attached)
			siw_stream_detach(cep->qp, &cep->llp);
		cep->qp_attached = false;
		siw_qp_put(cep->qp);
		cep->qp = NULL;
	}
	if (cep->sock)
		siw_cep_release_sock(cep, abort);
	if (cep->cm_id) {
		if (established) {
			if (peer_closed)
				siw_cep_event(cep, cep->cm_id,
					      IW_CM_EVENT_DISCONNECT, 0, NULL, 0);
			siw_cep_event(cep, cep->cm_id, IW_CM_EVENT_CLOSE, 0,
				      NULL, 0);
		}
		cep->cm_id->provider_data = NULL;
		cep->cm_id->rem_ref(cep->cm_id);
		cep->cm_id = NULL;
	}
	if (cep->state != SIW_CEP_CLOSED) {
		cep->state = SIW_CEP_CLOSED;
		siw_cep_put(cep);	/* the state machine's own reference */
	}
}

/* Active side: connecting failed or the peer said no. */
static void siw_cep_connect_failed(struct siw_cep *cep, int status,
				   const void *pd, u16 pd_len)
{
	siw_cep_event(cep, cep->cm_id, IW_CM_EVENT_CONNECT_REPLY, status,
		      pd, pd_len);
	siw_cep_close(cep, status != -ECONNREFUSED, false);
}

/* ---- MPA frames ----------------------------------------------------- */

static int siw_cep_send(struct siw_cep *cep, const void *buf, size_t len)
{
	struct kvec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_flags = MSG_NOSIGNAL };
	int rv = kernel_sendmsg(cep->sock, &msg, &iov, 1, len);

	return rv == len ? 0 : (rv < 0 ? rv : -EIO);
}

/*
 * Reads what has arrived of an MPA frame, never beyond its end: FPDUs
 * may follow it at once. Returns 1 when the frame is complete (info set),
 * 0 when more is to come, <0 for a bad frame or a dead stream.
 */
static int siw_cep_read_frame(struct siw_cep *cep, enum siw_mpa_kind kind,
			      struct siw_mpa_info *info)
{
	int need = sizeof(struct siw_mpa_rr);

	for (;;) {
		struct kvec iov;
		struct msghdr msg = { .msg_flags = MSG_DONTWAIT };
		int rv;

		if (cep->frame_have) {
			need = siw_mpa_parse(cep->frame, cep->frame_have, kind,
					     info);
			if (need < 0)
				return need;
			if (need <= cep->frame_have)
				return 1;
		}
		iov.iov_base = cep->frame + cep->frame_have;
		iov.iov_len = need - cep->frame_have;
		rv = kernel_recvmsg(cep->sock, &msg, &iov, 1, iov.iov_len,
				    MSG_DONTWAIT);
		if (rv == -EAGAIN)
			return cep->sock->sk->sk_state == TCP_ESTABLISHED ?
			       0 : -ECONNRESET;
		if (rv <= 0)
			return rv ? rv : -ECONNRESET;
		cep->frame_have += rv;
	}
}

static bool siw_cep_crc_refused(const struct siw_cep *cep,
				const struct siw_mpa_info *peer)
{
	return cep->set.crc == SIW_CRC_STRICT && !(peer->flags & SIW_MPA_CRC);
}

static void siw_cep_mpa_error(struct siw_cep *cep, int rv, const char *what)
{
	const char *why = rv == -EPROTONOSUPPORT ?
			  "peer requires MPA markers, which siw does not send" :
			  rv == -EOPNOTSUPP ? "unsupported MPA revision" :
			  rv == -EPROTO ? "malformed MPA frame" :
			  rv == -EACCES ?
			  "peer does not use MPA CRC, which mpa_crc strict requires" :
			  rv == -ENOPROTOOPT ?
			  "no RTR message type in common with the peer (mpa_rtr)" :
			  rv == -ETIMEDOUT ? "peer timed out" :
			  "connection lost";

	ibdev_info_ratelimited(&cep->sdev->base_dev,
			       "connection refused: %s (%s, %d)\n", why, what,
			       rv);
}

/* The peer closed or reset the stream, or TCP gave up on it. */
static bool siw_cep_sock_dead(struct siw_cep *cep)
{
	int st = READ_ONCE(cep->sock->sk->sk_state);

	return st != TCP_ESTABLISHED && st != TCP_SYN_SENT &&
	       st != TCP_SYN_RECV;
}

/*
 * Just entered RDMA mode: a FIN or reset that came with the MPA frame
 * raised its state change while the handshake had the socket, and that
 * event was taken for the handshake's. Look again in RDMA mode, where
 * a dead socket ends the connection.
 */
static void siw_cep_recheck_sock(struct siw_cep *cep)
{
	if (siw_cep_sock_dead(cep))
		siw_cep_kick(cep, SIW_CEP_EV_SOCK);
}

/* ---- active side ---------------------------------------------------- */

static int siw_cep_send_request(struct siw_cep *cep, const void *pd, u16 pd_len)
{
	struct siw_mpa_info *req = &cep->req;
	u8 *buf = cep->frame;
	int len;

	memset(req, 0, sizeof(*req));
	req->rev = cep->set.mpa_rev;
	if (cep->set.crc != SIW_CRC_OFF)
		req->flags |= SIW_MPA_CRC;
	if (cep->set.large_fpdu)
		req->flags |= SIW_MPA_LARGE_FPDU;
	/* Revision 1 carries no IRD/ORD and knows no peer-to-peer mode. */
	if (req->rev == SIW_MPA_REV_2) {
		req->flags |= SIW_MPA_ENHANCED;
		req->ird = cep->ird;
		req->ord = cep->ord;
		if (cep->set.p2p) {
			req->flags |= SIW_MPA_P2P;
			req->rtr = cep->set.rtr;
		}
	}
	memcpy(cep->req_pd, pd, pd_len);
	req->pd = cep->req_pd;
	req->pd_len = pd_len;
	len = siw_mpa_req_build(buf, sizeof(cep->frame), req);
	if (len < 0)
		return len;
	return siw_cep_send(cep, buf, len);
}

static void siw_cep_got_reply(struct siw_cep *cep)
{
	struct siw_mpa_info rep;
	struct siw_mpa_nego nego;
	int rv;

	rv = siw_cep_read_frame(cep, SIW_MPA_REPLY, &rep);
	if (!rv)
		return;
	if (rv < 0) {
		siw_cep_mpa_error(cep, rv, "MPA Reply");
		siw_cep_connect_failed(cep, -ECONNRESET, NULL, 0);
		return;
	}
	siw_cep_stop_timer(cep);
	if (rep.rev > cep->req.rev) {
		/* A responder may answer with a lower revision, never higher. */
		siw_cep_mpa_error(cep, -EPROTO, "MPA Reply");
		siw_cep_connect_failed(cep, -ECONNRESET, NULL, 0);
		return;
	}
	if (rep.flags & SIW_MPA_REJECT) {
		siw_cep_connect_failed(cep, -ECONNREFUSED, rep.pd, rep.pd_len);
		return;
	}
	if (siw_cep_crc_refused(cep, &rep)) {
		siw_cep_mpa_error(cep, -EACCES, "MPA Reply");
		siw_cep_connect_failed(cep, -ECONNREFUSED, NULL, 0);
		return;
	}
	rv = siw_mpa_negotiate(&cep->req, &rep, &nego);
	if (rv) {
		/* The Reply names an RTR type we did not offer. */
		siw_cep_mpa_error(cep, -ENOPROTOOPT, "MPA Reply");
		siw_cep_connect_failed(cep, -ECONNRESET, NULL, 0);
		return;
	}
	if (!(rep.flags & SIW_MPA_ENHANCED)) {
		/* Revision 1 has no IRD/ORD: keep what the consumer asked. */
		nego.init_ird = cep->ird;
		nego.init_ord = cep->ord;
	}
	cep->ird = nego.init_ird;
	cep->ord = nego.init_ord;

	rv = siw_stream_attach(cep->qp, cep->sock, &cep->llp, &nego, true,
			       cep->set.zcopy_tx);
	if (rv) {
		siw_cep_connect_failed(cep, rv, NULL, 0);
		return;
	}
	cep->qp_attached = true;
	WRITE_ONCE(cep->state, SIW_CEP_RDMA);
	siw_cep_event(cep, cep->cm_id, IW_CM_EVENT_CONNECT_REPLY, 0, rep.pd,
		      rep.pd_len);

	/* FPDUs may have come right behind the Reply. */
	lock_sock(cep->sock->sk);
	siw_rx_data(cep->qp, cep->sock->sk);
	release_sock(cep->sock->sk);
	siw_tx_schedule(cep->qp);
	siw_cep_recheck_sock(cep);
}

/* ---- passive side --------------------------------------------------- */

/* An MPA Reply that rejects the connection, in the Request's revision. */
static void siw_cep_send_reject(struct siw_cep *cep, const void *pd, u8 pd_len)
{
	struct siw_mpa_info rep = {
		.rev = cep->req.rev,
		.flags = SIW_MPA_REJECT,
		.pd = pd,
		.pd_len = pd_len,
	};
	int len = siw_mpa_rep_build(cep->frame, sizeof(cep->frame), &rep);

	if (len > 0)
		siw_cep_send(cep, cep->frame, len);
}

static void siw_cep_got_request(struct siw_cep *cep)
{
	struct siw_cep *lcep = cep->listener;
	struct siw_mpa_info *req = &cep->req;
	int rv;

	rv = siw_cep_read_frame(cep, SIW_MPA_REQUEST, req);
	if (!rv)
		return;
	if (rv < 0) {
		siw_cep_mpa_error(cep, rv, "MPA Request");
		siw_cep_close(cep, true, false);
		return;
	}
	siw_cep_stop_timer(cep);
	siw_settings_get(cep->sdev, &cep->set);
	if (siw_cep_crc_refused(cep, req)) {
		struct siw_mpa_info rej = {
			.rev = req->rev,
			.flags = SIW_MPA_REJECT | SIW_MPA_CRC,
		};
		int len = siw_mpa_rep_build(cep->frame, sizeof(cep->frame), &rej);

		siw_cep_mpa_error(cep, -EACCES, "MPA Request");
		if (len > 0)
			siw_cep_send(cep, cep->frame, len);
		siw_cep_close(cep, false, false);
		return;
	}
	/* Keep the private data: the frame buffer is reused for the Reply. */
	memcpy(cep->req_pd, req->pd, req->pd_len);
	req->pd = cep->req_pd;
	if ((req->flags & SIW_MPA_P2P) && cep->set.mpa_rev == SIW_MPA_REV_2 &&
	    !(req->rtr & cep->set.rtr)) {
		siw_cep_mpa_error(cep, -ENOPROTOOPT, "MPA Request");
		siw_cep_send_reject(cep, NULL, 0);
		siw_cep_close(cep, false, false);
		return;
	}
	if (req->flags & SIW_MPA_ENHANCED) {
		cep->ird = req->ird;
		cep->ord = req->ord;
	} else {
		/* Revision 1: the peer did not say; offer what we allow. */
		cep->ird = cep->set.max_ird;
		cep->ord = cep->set.max_ord;
	}

	/*
	 * A connection's endpoint takes its listener's lock inside its own,
	 * never the other way round (siw_cep_accept_all() only queues work
	 * for the endpoints it creates): one level of nesting in one class.
	 */
	mutex_lock_nested(&lcep->lock, SINGLE_DEPTH_NESTING);
	if (lcep->state != SIW_CEP_LISTEN) {
		mutex_unlock(&lcep->lock);
		siw_cep_close(cep, true, false);
		return;
	}
	cep->state = SIW_CEP_AWAIT_ACCEPT;
	/* The new iw_cm_id's provider_data holds a reference until accept. */
	siw_cep_get(cep);
	rv = siw_cep_event(cep, lcep->cm_id, IW_CM_EVENT_CONNECT_REQUEST, 0,
			   req->pd, req->pd_len);
	mutex_unlock(&lcep->lock);
	if (rv) {
		/*
		 * iw_cm took no note of the request (it had no work entry
		 * left): no accept or reject will ever come for it, so the
		 * reference it would have held goes, and the initiator is
		 * told no rather than left waiting.
		 */
		ibdev_info_ratelimited(&cep->sdev->base_dev,
				       "connection refused: iw_cm did not take the request (%d)\n",
				       rv);
		siw_cep_send_reject(cep, NULL, 0);
		siw_cep_close(cep, false, false);
		siw_cep_put(cep);
	}
}

static void siw_cep_accept_all(struct siw_cep *lcep)
{
	while (atomic_read(&lcep->npending) < lcep->backlog) {
		struct socket *nsock;
		struct siw_cep *cep;

		if (kernel_accept(lcep->sock, &nsock, O_NONBLOCK))
			return;
		cep = siw_cep_alloc(lcep->sdev);
		if (!cep) {
			sock_release(nsock);
			continue;
		}
		tcp_sock_set_nodelay(nsock->sk);
		siw_cep_get(lcep);
		cep->listener = lcep;
		cep->pending = true;
		atomic_inc(&lcep->npending);
		cep->state = SIW_CEP_AWAIT_REQ;
		siw_cep_attach(cep, nsock);
		siw_cep_arm_timer(cep, SIW_CM_MPA_TIMEOUT);
		/* The Request may be there already. */
		siw_cep_kick(cep, SIW_CEP_EV_SOCK);
	}
}

/* ---- the state machine ---------------------------------------------- */

static void siw_cep_work(struct work_struct *work)
{
	struct siw_cep *cep = container_of(work, struct siw_cep, work);
	unsigned long ev;
	int st;

	mutex_lock(&cep->lock);
	ev = xchg(&cep->events, 0);

	if ((ev & BIT(SIW_CEP_EV_ABORT)) && cep->state != SIW_CEP_CLOSED &&
	    cep->state != SIW_CEP_LISTEN && cep->state != SIW_CEP_AWAIT_ACCEPT) {
		if (cep->state == SIW_CEP_CONNECTING ||
		    cep->state == SIW_CEP_AWAIT_REP)
			siw_cep_connect_failed(cep, -ECONNABORTED, NULL, 0);
		else
			siw_cep_close(cep, true, false);
		goto out;
	}

	switch (cep->state) {
	case SIW_CEP_LISTEN:
		siw_cep_accept_all(cep);
		break;
	case SIW_CEP_CONNECTING:
		st = cep->sock->sk->sk_state;
		if (st == TCP_ESTABLISHED) {
			int rv = siw_cep_send_request(cep, cep->req_pd,
						      cep->req.pd_len);

			if (rv) {
				siw_cep_connect_failed(cep, rv, NULL, 0);
				break;
			}
			cep->state = SIW_CEP_AWAIT_REP;
			cep->frame_have = 0;
			siw_cep_arm_timer(cep, SIW_CM_MPA_TIMEOUT);
			siw_cep_got_reply(cep);
		} else if (ev & BIT(SIW_CEP_EV_TIMEOUT)) {
			siw_cep_connect_failed(cep, -ETIMEDOUT, NULL, 0);
		} else if (st != TCP_SYN_SENT) {
			int err = sock_error(cep->sock->sk);

			siw_cep_connect_failed(cep, err ? err : -ECONNREFUSED,
					       NULL, 0);
		}
		break;
	/*
	 * The frame is read before a timeout is judged: behind a backlog of
	 * connection work the timer can run out on a peer whose frame has
	 * long been waiting in the socket.
	 */
	case SIW_CEP_AWAIT_REP:
		siw_cep_got_reply(cep);
		if (cep->state == SIW_CEP_AWAIT_REP &&
		    (ev & BIT(SIW_CEP_EV_TIMEOUT))) {
			siw_cep_mpa_error(cep, -ETIMEDOUT, "MPA Reply");
			siw_cep_connect_failed(cep, -ETIMEDOUT, NULL, 0);
		}
		break;
	case SIW_CEP_AWAIT_REQ:
		siw_cep_got_request(cep);
		if (cep->state == SIW_CEP_AWAIT_REQ &&
		    (ev & BIT(SIW_CEP_EV_TIMEOUT)))
			siw_cep_close(cep, true, false);
		break;
	case SIW_CEP_RDMA:
		if (ev & BIT(SIW_CEP_EV_CLOSE)) {
			/* All queued data goes out before the FIN. */
			kernel_sock_shutdown(cep->sock, SHUT_WR);
			cep->state = SIW_CEP_CLOSING;
			siw_cep_arm_timer(cep, SIW_CM_CLOSE_TIMEOUT);
		} else if (siw_cep_sock_dead(cep)) {
			siw_cep_close(cep, false,
				      cep->sock->sk->sk_state == TCP_CLOSE_WAIT);
		}
		break;
	case SIW_CEP_CLOSING:
		st = cep->sock->sk->sk_state;
		if ((ev & BIT(SIW_CEP_EV_TIMEOUT)) ||
		    (st != TCP_FIN_WAIT1 && st != TCP_FIN_WAIT2 &&
		     st != TCP_ESTABLISHED))
			siw_cep_close(cep, ev & BIT(SIW_CEP_EV_TIMEOUT), false);
		break;
	default:
		break;
	}
out:
	mutex_unlock(&cep->lock);
	siw_cep_put(cep);
}

/* ---- iw_cm device operations ---------------------------------------- */

/*
 * The QP numbered qpn, referenced, if the caller of connect or accept may
 * bind it to a stream. rdma_cm passes a QP number that user space chose
 * (rdma_connect() and rdma_accept() without rdma_create_qp()), so the
 * number alone proves nothing:
 *  - a user QP may be bound only from a task of the process that created
 *    it (rdma_cm's commands run in the calling task);
 *  - a kernel QP only for a kernel consumer's rdma_cm id whose own QP it
 *    is. rdma_cm is the only user of iw_cm, and the context of each
 *    iw_cm_id it creates is its rdma_id_private, whose first member is
 *    the struct rdma_cm_id; kernel consumers attach their QP there with
 *    rdma_create_qp(), user space never does.
 */
static struct siw_qp *siw_cm_bind_qp(struct iw_cm_id *id, u32 qpn)
{
	struct siw_qp *qp = siw_qp_lookup_get(to_siw_dev(id->device), qpn);
	bool ok;

	if (!qp)
		return NULL;
	if (qp->user) {
		ok = !(current->flags & PF_KTHREAD) &&
		     task_tgid(current) == qp->owner;
	} else {
		const struct rdma_cm_id *rid = id->context;

		ok = rid && rid->qp == &qp->base_qp;
	}
	if (!ok) {
		ibdev_warn_ratelimited(&qp->sdev->base_dev,
				       "QP %u is not the caller's: not connected (%s[%d])\n",
				       qpn, current->comm,
				       task_pid_nr(current));
		siw_qp_put(qp);
		return NULL;
	}
	return qp;
}

static int siw_cep_socket(struct net *net, const struct sockaddr_storage *a,
			  struct socket **sock)
{
	int rv = __sock_create(net, a->ss_family, SOCK_STREAM, IPPROTO_TCP,
			       sock, 0);

	if (rv)
		return rv;
	sock_set_reuseaddr((*sock)->sk);
	tcp_sock_set_nodelay((*sock)->sk);
	return 0;
}

static int siw_addr_len(const struct sockaddr_storage *a)
{
	return a->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
					 sizeof(struct sockaddr_in6);
}

int siw_cm_connect(struct iw_cm_id *id, struct iw_cm_conn_param *param)
{
	struct siw_device *sdev = to_siw_dev(id->device);
	struct sockaddr_storage *laddr = &id->m_local_addr;
	struct sockaddr_storage *raddr = &id->m_remote_addr;
	struct siw_cep *cep;
	struct siw_qp *qp;
	struct socket *sock;
	int rv;

	if (param->private_data_len >
	    SIW_MPA_MAX_PRIVATE_DATA - sizeof(struct siw_mpa_v2) ||
	    param->ird > SIW_MAX_IRD || param->ord > SIW_MAX_ORD ||
	    laddr->ss_family != raddr->ss_family ||
	    (raddr->ss_family != AF_INET && raddr->ss_family != AF_INET6))
		return -EINVAL;
	qp = siw_cm_bind_qp(id, param->qpn);
	if (!qp)
		return -EINVAL;

	cep = siw_cep_alloc(sdev);
	if (!cep) {
		siw_qp_put(qp);
		return -ENOMEM;
	}
	siw_settings_get(sdev, &cep->set);
	rv = siw_cep_socket(current->nsproxy->net_ns, raddr, &sock);
	if (rv)
		goto err_cep;
	/* rdma_cm's port may be taken in TCP's port space: then any port. */
	rv = kernel_bind(sock, (struct sockaddr *)laddr, siw_addr_len(laddr));
	if (rv) {
		struct sockaddr_storage any = *laddr;

		if (any.ss_family == AF_INET)
			((struct sockaddr_in *)&any)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&any)->sin6_port = 0;
		rv = kernel_bind(sock, (struct sockaddr *)&any,
				 siw_addr_len(&any));
		if (rv)
			goto err_sock;
	}

	mutex_lock(&cep->lock);
	cep->qp = qp;	/* takes over the reference */
	cep->cm_id = id;
	id->add_ref(id);
	id->provider_data = cep;
	cep->ird = min_t(u32, param->ird, cep->set.max_ird);
	cep->ord = min_t(u32, param->ord, cep->set.max_ord);
	memcpy(cep->req_pd, param->private_data, param->private_data_len);
	cep->req.pd_len = param->private_data_len;
	cep->state = SIW_CEP_CONNECTING;
	siw_cep_attach(cep, sock);
	rv = kernel_connect(sock, (struct sockaddr *)raddr, siw_addr_len(raddr),
			    O_NONBLOCK);
	if (rv && rv != -EINPROGRESS) {
		/* close drops the last reference: keep the cep for the unlock */
		siw_cep_get(cep);
		siw_cep_close(cep, true, false);
		mutex_unlock(&cep->lock);
		siw_cep_put(cep);
		return rv;
	}
	siw_cep_arm_timer(cep, SIW_CM_MPA_TIMEOUT);
	mutex_unlock(&cep->lock);
	siw_cep_kick(cep, SIW_CEP_EV_SOCK);
	return 0;

err_sock:
	sock_release(sock);
err_cep:
	siw_cep_put(cep);
	siw_qp_put(qp);
	return rv;
}

int siw_cm_accept(struct iw_cm_id *id, struct iw_cm_conn_param *param)
{
	struct siw_cep *cep = id->provider_data;
	struct siw_mpa_info rep = {};
	struct siw_mpa_nego nego;
	struct siw_qp *qp = NULL;
	u16 ird, ord;
	int len, rv;

	if (!cep)
		return -EINVAL;
	mutex_lock(&cep->lock);
	if (cep->state != SIW_CEP_AWAIT_ACCEPT) {
		rv = -ECONNRESET;
		goto err;
	}
	if (param->ird > SIW_MAX_IRD || param->ord > SIW_MAX_ORD ||
	    param->private_data_len > SIW_MPA_MAX_PRIVATE_DATA -
	    sizeof(struct siw_mpa_v2)) {
		rv = -EINVAL;
		goto err;
	}
	qp = siw_cm_bind_qp(id, param->qpn);
	if (!qp) {
		rv = -EINVAL;
		goto err;
	}

	/* Answered in the Request's revision, or a lower one of ours. */
	rep.rev = min_t(u8, cep->req.rev, cep->set.mpa_rev);
	ird = min_t(u32, param->ird, cep->set.max_ird);
	ord = min_t(u32, param->ord, cep->set.max_ord);
	if ((cep->req.flags & SIW_MPA_ENHANCED) && rep.rev == SIW_MPA_REV_2) {
		rep.flags = SIW_MPA_ENHANCED;
		rep.ird = ird;
		rep.ord = ord;
		if (cep->req.flags & SIW_MPA_P2P) {
			rep.flags |= SIW_MPA_P2P;
			rep.rtr = cep->set.rtr;
		}
	}
	if ((cep->req.flags & SIW_MPA_CRC) || cep->set.crc != SIW_CRC_OFF)
		rep.flags |= SIW_MPA_CRC;
	/* Only to an offer: the Reply's bit is our consent. */
	if ((cep->req.flags & SIW_MPA_LARGE_FPDU) && cep->set.large_fpdu)
		rep.flags |= SIW_MPA_LARGE_FPDU;
	rv = siw_mpa_negotiate(&cep->req, &rep, &nego);
	if (rv) {
		/* Only a Read in common, and no ORD left for it. */
		siw_cep_mpa_error(cep, -ENOPROTOOPT, "accept");
		siw_cep_send_reject(cep, NULL, 0);
		goto err;
	}
	rep.rtr = nego.rtr;	/* the responder names exactly one */
	if (!(rep.flags & SIW_MPA_ENHANCED)) {
		nego.resp_ird = ird;
		nego.resp_ord = ord;
	}
	rep.pd = param->private_data;
	rep.pd_len = param->private_data_len;
	len = siw_mpa_rep_build(cep->frame, sizeof(cep->frame), &rep);
	if (len < 0) {
		rv = len;
		goto err;
	}

	cep->qp = qp;	/* takes over the reference */
	qp = NULL;
	cep->cm_id = id;
	id->add_ref(id);
	cep->ird = nego.resp_ird;
	cep->ord = nego.resp_ord;
	/*
	 * The receiver must be in place before the initiator may send,
	 * and nothing of ours may go out before the Reply: work posted
	 * before the accept, or a Terminate for FPDUs a bad initiator sent
	 * behind its Request, waits for the transmitter, which is ours
	 * until the Reply is out.
	 */
	siw_tx_hold(cep->qp);
	rv = siw_stream_attach(cep->qp, cep->sock, &cep->llp, &nego, false,
			       cep->set.zcopy_tx);
	if (!rv) {
		cep->qp_attached = true;
		WRITE_ONCE(cep->state, SIW_CEP_RDMA);
		rv = siw_cep_send(cep, cep->frame, len);
	}
	siw_tx_unhold(cep->qp);
	if (rv) {
		/* Not established: no CLOSE event is owed. */
		cep->state = SIW_CEP_AWAIT_ACCEPT;
		goto err;
	}
	siw_cep_unpend(cep);
	siw_cep_event(cep, id, IW_CM_EVENT_ESTABLISHED, 0, NULL, 0);
	/* What came behind the Request raised no data_ready of its own. */
	lock_sock(cep->sock->sk);
	siw_rx_data(cep->qp, cep->sock->sk);
	release_sock(cep->sock->sk);
	/* Work posted while the QP waited for its stream goes out now. */
	siw_tx_schedule(cep->qp);
	siw_cep_recheck_sock(cep);
	mutex_unlock(&cep->lock);
	siw_cep_put(cep);	/* provider_data's: the cm_id ref holds now */
	return 0;

err:
	if (qp)
		siw_qp_put(qp);
	if (cep->state == SIW_CEP_AWAIT_ACCEPT)
		siw_cep_close(cep, true, false);
	id->provider_data = NULL;
	mutex_unlock(&cep->lock);
	siw_cep_put(cep);
	return rv;
}

int siw_cm_reject(struct iw_cm_id *id, const void *pdata, u8 pdata_len)
{
	struct siw_cep *cep = id->provider_data;

	if (!cep)
		return -EINVAL;
	mutex_lock(&cep->lock);
	if (cep->state == SIW_CEP_AWAIT_ACCEPT) {
		siw_cep_send_reject(cep, pdata, pdata_len);
		siw_cep_close(cep, false, false);
	}
	id->provider_data = NULL;
	mutex_unlock(&cep->lock);
	siw_cep_put(cep);
	return 0;
}

/*
 * TCP's own queue holds what the consumer's backlog does not. It must
 * not overflow during a burst of connections: TCP drops the SYNs that
 * find it full, and retried with backoff they outlast the initiator's
 * MPA timeout; worse, a half-open connection whose client already sent
 * its MPA Request is pruned while the queue stays full, and the
 * retransmitted Request is answered with a reset. So TCP's queue is as
 * long as the administrator allows any listener (net.core.somaxconn),
 * and the consumer's backlog limits only what siw hands to it.
 */
static int siw_cm_tcp_backlog(struct socket *sock, int backlog)
{
	int somaxconn = READ_ONCE(sock_net(sock->sk)->core.sysctl_somaxconn);

	return max(backlog, somaxconn);
}

/*
 * One listening socket on addr for l. An address of a wildcard listen
 * may still be tentative (IPv6 duplicate address detection): bound
 * regardless, the socket takes connections once the address is usable.
 */
static int siw_cm_listen_one(struct siw_listen *l,
			     const struct sockaddr_storage *addr)
{
	struct iw_cm_id *id = l->id;
	struct siw_cep *cep = siw_cep_alloc(to_siw_dev(id->device));
	struct socket *sock;
	int rv;

	if (!cep)
		return -ENOMEM;
	rv = siw_cep_socket(l->net, addr, &sock);
	if (rv)
		goto err_cep;
	if (addr->ss_family == AF_INET6)
		ipv6_only_sock(sock->sk) = 1;
	if (l->wildcard)
		ip_sock_set_freebind(sock->sk);
	rv = kernel_bind(sock, (struct sockaddr *)addr, siw_addr_len(addr));
	if (rv)
		goto err_sock;
	rv = kernel_listen(sock, siw_cm_tcp_backlog(sock, l->backlog));
	if (rv)
		goto err_sock;
	cep->cm_id = id;
	cep->state = SIW_CEP_LISTEN;
	cep->backlog = l->backlog;
	list_add_tail(&cep->listen_entry, &l->ceps);
	siw_cep_attach(cep, sock);
	/* Connections may have queued before the callback was in place. */
	siw_cep_kick(cep, SIW_CEP_EV_SOCK);
	return 0;

err_sock:
	sock_release(sock);
err_cep:
	siw_cep_put(cep);
	return rv;
}

static bool siw_addr_any(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((struct sockaddr_in *)a)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ipv6_addr_any(&((struct sockaddr_in6 *)a)->sin6_addr);
}

static __be16 siw_addr_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_port;
	return ((const struct sockaddr_in6 *)a)->sin6_port;
}

/*
 * l listens on address a already. A listening cep keeps its socket until
 * siw_cm_destroy_listen(), which holds listen_lock as the caller does.
 */
static bool siw_listen_has(const struct siw_listen *l,
			   const struct sockaddr_storage *a)
{
	const struct siw_cep *cep;

	list_for_each_entry(cep, &l->ceps, listen_entry) {
		const struct sock *sk = cep->sock->sk;

		if (a->ss_family != sk->sk_family)
			continue;
		if (a->ss_family == AF_INET ?
		    sk->sk_rcv_saddr ==
		    ((const struct sockaddr_in *)a)->sin_addr.s_addr :
		    ipv6_addr_equal(&sk->sk_v6_rcv_saddr,
				    &((const struct sockaddr_in6 *)a)->sin6_addr))
			return true;
	}
	return false;
}

/*
 * Counts one more address of siw_cm_wildcard_addrs() in *n and returns
 * its slot of addrs, zeroed, or NULL once max are filled.
 */
static struct sockaddr_storage *siw_addr_slot(struct sockaddr_storage *addrs,
					      int max, int *n)
{
	struct sockaddr_storage *a = *n < max ? &addrs[*n] : NULL;

	(*n)++;
	if (a)
		memset(a, 0, sizeof(*a));
	return a;
}

/*
 * The interface's addresses a wildcard listen of l covers, port set, into
 * addrs[0 .. max); returns how many there are, which may be more than
 * max. IPv4 ones too for an IPv6 wildcard that is not v6-only. None when
 * the interface is in another network namespace than the listener:
 * rdma_cm asks every device to listen, and connections to that
 * interface's addresses arrive in the other namespace, where this
 * listener must not take them.
 *
 * Under RCU, not RTNL: rdma_cm asks for the listen holding its global
 * lock, which it also takes while RTNL is held, and RTNL here closed the
 * circle (lockdep, on ib_write_bw's wildcard listen).
 */
static int siw_cm_wildcard_addrs(const struct siw_listen *l,
				 struct sockaddr_storage *addrs, int max)
{
	struct net_device *ndev = to_siw_dev(l->id->device)->netdev;
	const struct sockaddr_storage *la = &l->id->m_local_addr;
	__be16 port = siw_addr_port(la);
	int n = 0;

	rcu_read_lock();
	if (!net_eq(dev_net(ndev), l->net))
		goto out;
	if (la->ss_family == AF_INET || !l->id->afonly) {
		struct in_device *in_dev = __in_dev_get_rcu(ndev);
		const struct in_ifaddr *ifa;

		if (in_dev) {
			in_dev_for_each_ifa_rcu(ifa, in_dev) {
				struct sockaddr_in *s =
					(void *)siw_addr_slot(addrs, max, &n);

				if (!s)
					continue;
				s->sin_family = AF_INET;
				s->sin_addr.s_addr = ifa->ifa_address;
				s->sin_port = port;
			}
		}
	}
	if (la->ss_family == AF_INET6) {
		struct inet6_dev *in6_dev = __in6_dev_get(ndev);
		struct inet6_ifaddr *ifp;

		if (in6_dev) {
			read_lock_bh(&in6_dev->lock);
			list_for_each_entry(ifp, &in6_dev->addr_list, if_list) {
				struct sockaddr_in6 *s =
					(void *)siw_addr_slot(addrs, max, &n);

				if (!s)
					continue;
				s->sin6_family = AF_INET6;
				s->sin6_addr = ifp->addr;
				s->sin6_port = port;
				/* A link-local address is only one with its link. */
				if (ipv6_addr_type(&ifp->addr) & IPV6_ADDR_LINKLOCAL)
					s->sin6_scope_id = ndev->ifindex;
			}
			read_unlock_bh(&in6_dev->lock);
		}
	}
out:
	rcu_read_unlock();
	return n;
}

/*
 * A wildcard listen of one device must not take connections meant for
 * another device's listener on the same port: it listens on each
 * address of the device's interface instead, those it does not listen
 * on yet. An interface without an address of the family is no error:
 * a hardware RNIC listening on the wildcard takes connections to
 * addresses that come later, and so does this one (siw_cm_addr_work()).
 * Addresses that come while this runs are taken up by the work item the
 * address notifier queues. Caller holds the device's listen_lock.
 */
static int siw_cm_listen_wildcard(struct siw_listen *l)
{
	struct sockaddr_storage *addrs;
	int n, i, rv = 0;

	n = siw_cm_wildcard_addrs(l, NULL, 0);
	if (!n)
		return 0;
	addrs = kcalloc(n, sizeof(*addrs), GFP_KERNEL);
	if (!addrs)
		return -ENOMEM;
	n = min(siw_cm_wildcard_addrs(l, addrs, n), n);
	for (i = 0; i < n && !rv; i++) {
		if (!siw_listen_has(l, &addrs[i]))
			rv = siw_cm_listen_one(l, &addrs[i]);
	}
	kfree(addrs);
	return rv;
}

/* An address came to the interface: the wildcard listeners take it up. */
static void siw_cm_addr_work(struct work_struct *work)
{
	struct siw_device *sdev = container_of(work, struct siw_device,
					       addr_work);
	struct siw_listen *l;
	int rv;

	mutex_lock(&sdev->listen_lock);
	list_for_each_entry(l, &sdev->listeners, dev_entry) {
		rv = siw_cm_listen_wildcard(l);
		if (rv)
			ibdev_warn_ratelimited(&sdev->base_dev,
					       "wildcard listen on port %u cannot listen on a new address: %d\n",
					       ntohs(siw_addr_port(&l->id->m_local_addr)),
					       rv);
	}
	mutex_unlock(&sdev->listen_lock);
}

/* From the address notifiers, in any context. */
void siw_cm_addr_added(struct siw_device *sdev)
{
	queue_work(siw_cm_wq, &sdev->addr_work);
}

void siw_cm_dev_init(struct siw_device *sdev)
{
	mutex_init(&sdev->listen_lock);
	INIT_LIST_HEAD(&sdev->listeners);
	INIT_WORK(&sdev->addr_work, siw_cm_addr_work);
}

/* The device is unregistered: no listener is left, no address comes. */
void siw_cm_dev_exit(struct siw_device *sdev)
{
	cancel_work_sync(&sdev->addr_work);
	WARN_ON(!list_empty(&sdev->listeners));
}

int siw_cm_destroy_listen(struct iw_cm_id *id)
{
	struct siw_device *sdev = to_siw_dev(id->device);
	struct siw_listen *l = id->provider_data;
	struct siw_cep *cep, *next;

	if (!l)
		return 0;
	mutex_lock(&sdev->listen_lock);
	if (l->wildcard)
		list_del(&l->dev_entry);
	list_for_each_entry_safe(cep, next, &l->ceps, listen_entry) {
		list_del(&cep->listen_entry);
		siw_cep_get(cep);
		mutex_lock(&cep->lock);
		/* Children see CLOSED and do not use the cm_id any more. */
		siw_cep_drop_sock(cep, false);
		cep->cm_id = NULL;
		if (cep->state != SIW_CEP_CLOSED) {
			cep->state = SIW_CEP_CLOSED;
			siw_cep_put(cep);
		}
		mutex_unlock(&cep->lock);
		siw_cep_put(cep);
	}
	mutex_unlock(&sdev->listen_lock);
	put_net(l->net);
	kfree(l);
	id->provider_data = NULL;
	return 0;
}

int siw_cm_create_listen(struct iw_cm_id *id, int backlog)
{
	struct siw_device *sdev = to_siw_dev(id->device);
	struct siw_listen *l = kzalloc(sizeof(*l), GFP_KERNEL);
	int rv;

	if (!l)
		return -ENOMEM;
	INIT_LIST_HEAD(&l->ceps);
	l->id = id;
	l->net = get_net(current->nsproxy->net_ns);
	l->backlog = backlog > 0 ? backlog : 1;
	l->wildcard = siw_addr_any(&id->m_local_addr);
	id->provider_data = l;
	mutex_lock(&sdev->listen_lock);
	if (l->wildcard) {
		list_add_tail(&l->dev_entry, &sdev->listeners);
		rv = siw_cm_listen_wildcard(l);
	} else {
		rv = siw_cm_listen_one(l, &id->m_local_addr);
	}
	mutex_unlock(&sdev->listen_lock);
	if (rv)
		siw_cm_destroy_listen(id);
	return rv;
}

int siw_cm_init(void)
{
	/*
	 * High priority: the MPA exchange runs against the peer's timers,
	 * and a host busy with many user threads (a thousand connecting at
	 * once) must not hold our Request or Reply back behind them.
	 */
	siw_cm_wq = alloc_workqueue("siw_cm", WQ_HIGHPRI | WQ_MEM_RECLAIM, 0);
	return siw_cm_wq ? 0 : -ENOMEM;
}

/* Endpoints still waiting for a peer (MPA Request) end with the module. */
void siw_cm_exit(void)
{
	for (;;) {
		struct siw_cep *cep, *found = NULL;

		spin_lock_bh(&siw_cep_list_lock);
		list_for_each_entry(cep, &siw_cep_list, entry) {
			if (!cep->exit_kicked && kref_get_unless_zero(&cep->ref)) {
				cep->exit_kicked = true;
				found = cep;
				break;
			}
		}
		spin_unlock_bh(&siw_cep_list_lock);
		if (!found)
			break;
		siw_cep_kick(found, SIW_CEP_EV_ABORT);
		siw_cep_put(found);
	}
	wait_event(siw_cep_gone, !atomic_read(&siw_cep_count));
	destroy_workqueue(siw_cm_wq);
}
