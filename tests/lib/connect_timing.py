# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""How long rdma_connect() itself takes on an iWARP device, for
tests/vm/66-connect-nonblocking.sh (run with the system's python3, which
has rdma-core's pyverbs):

    python3 connect_timing.py SRC DST PORT established
    python3 connect_timing.py SRC DST PORT linger SECS

Resolves DST from SRC, creates an RC QP, calls rdma_connect() on an
asynchronous rdma_cm id and prints "connect returned after S s". Then
"established" waits for the connection and prints "event NAME after S
s"; "linger SECS" waits that long with the connection still pending.
Either way it then destroys the id and prints "destroyed after S s".
An iWARP driver that connects TCP inside rdma_connect() (the in-tree
siw's kernel_bindconnect()) blocks the caller for the whole handshake;
one that connects in the background returns at once and reports the
outcome as an event.
"""
import sys
import time

from pyverbs.cmid import CMID, AddrInfo, CMEvent, CMEventChannel, ConnParam
from pyverbs.qp import QPCap, QPInitAttr
import pyverbs.cm_enums as ce
import pyverbs.enums as e

NAMES = {getattr(ce, n): n for n in dir(ce) if n.startswith("RDMA_CM_EVENT_")}


def expect(channel, want):
    ev = CMEvent(channel)
    got = ev.event_type
    ev.ack_cm_event()
    if got != want:
        raise SystemExit("expected %s, got %s" % (NAMES.get(want), NAMES.get(got, got)))


def main():
    src, dst, port = sys.argv[1], sys.argv[2], sys.argv[3]
    channel = CMEventChannel()
    cmid = CMID(creator=channel, port_space=ce.RDMA_PS_TCP)
    cmid.resolve_addr(AddrInfo(src=src, dst=dst, dst_service=port,
                               port_space=ce.RDMA_PS_TCP))
    expect(channel, ce.RDMA_CM_EVENT_ADDR_RESOLVED)
    cmid.resolve_route()
    expect(channel, ce.RDMA_CM_EVENT_ROUTE_RESOLVED)
    cmid.create_qp(QPInitAttr(qp_type=e.IBV_QPT_RC,
                              cap=QPCap(max_send_wr=1, max_recv_wr=1)))

    t0 = time.monotonic()
    cmid.connect(ConnParam())
    print("connect returned after %.3f s" % (time.monotonic() - t0), flush=True)

    if sys.argv[4] == "established":
        ev = CMEvent(channel)
        name = NAMES.get(ev.event_type, str(ev.event_type))
        ev.ack_cm_event()
        print("event %s after %.3f s" % (name, time.monotonic() - t0), flush=True)
    else:
        time.sleep(float(sys.argv[5]))

    t1 = time.monotonic()
    cmid.close()
    channel.close()
    print("destroyed after %.3f s" % (time.monotonic() - t1), flush=True)


if __name__ == "__main__":
    main()
