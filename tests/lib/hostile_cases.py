# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""The peer's side of tests/vm/48-hostile-peer.sh and 54-frmr-race.sh,
one case per run:

    python3 hostile_cases.py CASE ADDR PORT

Cases against a siw rping server (rping -s -S 64) at ADDR:PORT, where the
peer plays rping's client (it advertises a 64-byte buffer that the
server then RDMA READs):
  rresp-short, rresp-empty, rresp-long, rresp-stag, rresp-offset
        answer the READ with a Read Response that does not match it;
  mo0-twice       the first Send in two segments, both at MO 0: the first
                  empty and not last;
  rtr-wrong       peer-to-peer with the RTR type the responder did not pick;
  rtr-right       the same with the agreed RTR: the READ must come;
  early-fpdu      a bad FPDU right behind the MPA Request, before the Reply;
  request-fin     the MPA Request and at once a FIN: siw must end the stream
                  once rping accepts, not hold it open in RDMA mode.
Cases where the peer listens on ADDR:PORT for a siw rping client
(rping -c, whose first Send advertises its buffer):
  send-inv-mr     a Send with Invalidate naming that ordinary MR;
  ird-exceeded    a second RDMA Read Request while the first one's
                  response is still being sent, beyond the IRD of 1;
  reply-fin       the MPA Reply and at once a FIN: siw must end the stream.
Cases with tests/hostile/siw_target:
  ird-zero        a Read Request to siw_target ird-zero, which accepted
                  with an IRD of 0: it must get a Terminate, not data;
  err-place       RDMA WRITEs streamed at siw_target err-place, which moves
                  its QP to Error on the peer's first Send;
  reuse-silent    listens for siw_target reuse: the first connection stays
                  open and silent, the second must carry a Send 12 s on;
  slow-sink       listens for siw_target reset-busy and reads every
                  connection slowly, until killed.
Cases with tests/kmod/siw_frmr_race.ko (issue 16, D2), which connects
twice (the race, then control) and registers a fast-registration MR:
  frmr-read-sendinv, frmr-read-localinv
                  a Read of the whole MR, the response held up by not
                  reading; a Send with Invalidate of the MR (or the cue
                  for siw_frmr_race's LOCAL_INV), then, once the MR is
                  registered anew with fewer pages, the rest of it: only
                  bytes of the first registration, then a Terminate;
  frmr-write-localinv
                  one Write FPDU whose first page arrives before the cue
                  and the rest after the MR was registered anew, past its
                  new page list: a Terminate, nothing placed.
Exit 0 when siw did what the case expects, 1 otherwise.
"""
import socket
import struct
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import iwarp_peer as ip  # noqa: E402

# Terminate reasons (layer, error type, code), RFC 5040/5041/5044.
DDP_TAGGED_STAG = (1, 1, 0x00)
DDP_TAGGED_BOUNDS = (1, 1, 0x01)
DDP_UNTAGGED_NOBUF = (1, 2, 0x02)
RDMAP_CANNOT_INVALIDATE = (0, 2, 0x09)
RDMAP_INVALID_STAG = (0, 1, 0x00)
MPA_REQ_REP = (2, 0, 0x04)

BUF, RKEY, SIZE = 0x7f0000001000, 0x4b1d00, 64


def rping_client(addr, port, **mpa):
    """Connects as rping's client and advertises its buffer."""
    p = ip.Peer.connect(addr, port, **mpa)
    p.send(ip.rping_info(BUF, RKEY, SIZE))
    return p


def expect_read(p):
    f = p.expect(ip.READ_REQ)
    if (f.src_stag, f.src_to, f.size) != (RKEY, BUF, SIZE):
        raise AssertionError("READ of the wrong buffer: %r" % f)
    return f


def rresp(addr, port, kind):
    p = rping_client(addr, port)
    f = expect_read(p)
    stag, to, data = f.sink_stag, f.sink_to, bytes(range(SIZE))
    want = DDP_TAGGED_BOUNDS
    if kind == "short":
        data = data[:8]
    elif kind == "empty":
        data = b""
    elif kind == "long":
        data += bytes(8)
    elif kind == "stag":
        stag ^= 0x100
        want = DDP_TAGGED_STAG
    elif kind == "offset":
        to += 8
    p.read_response(stag, to, data)
    t = p.expect_terminate(*want)
    print("Terminate %r" % t)


def mo0_twice(addr, port):
    p = ip.Peer.connect(addr, port)
    msn = p.next_msn(ip.QN_SEND)
    p.send_raw(p.fpdu(p.untagged(ip.SEND, ip.QN_SEND, msn, 0, b"", last=False)))
    p.send_raw(p.fpdu(p.untagged(ip.SEND, ip.QN_SEND, msn, 0,
                                 ip.rping_info(BUF, RKEY, SIZE))))
    f = expect_read(p)
    print("one message, one receive: %r" % f)


def rtr(addr, port, right):
    p = ip.Peer.connect(addr, port, p2p=True, rtr=ip.RTR_SEND | ip.RTR_WRITE)
    if p.rtr not in (ip.RTR_SEND, ip.RTR_WRITE):
        raise AssertionError("responder picked RTR %d" % p.rtr)
    other = ip.RTR_SEND if p.rtr == ip.RTR_WRITE else ip.RTR_WRITE
    p.send_rtr(p.rtr if right else other)
    if right:
        p.send(ip.rping_info(BUF, RKEY, SIZE))
        print("agreed RTR, then: %r" % expect_read(p))
    else:
        print("Terminate %r" % p.expect_terminate(*MPA_REQ_REP))


def late_request(addr, port):
    """The Request 20 s after TCP's handshake, as a peer whose first
    segments were lost, or whose connection work is backlogged, sends
    it: TCP's retransmission backoff alone can take that long."""
    p = ip.Peer.connect(addr, port, delay=20)
    p.send(ip.rping_info(BUF, RKEY, SIZE))
    print("served after 20 s of silence: %r" % expect_read(p))


def early_fpdu(addr, port):
    bad = ip.Peer(None).fpdu(ip.Peer.untagged(ip.SEND, 7, 1, 0, bytes(8)))
    p = ip.Peer.connect(addr, port, trailing=bad)
    print("Terminate after the Reply: %r" %
          p.expect_terminate(1, 2, 0x01))


# How long siw may take to end a stream whose peer has closed its side.
FIN_WAIT = 15


def send_with_fin(s, frame):
    """frame and the FIN in one segment: siw's socket sees the data and
    the end of the stream in the same softirq, before its connection
    manager looks."""
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
    s.sendall(frame)
    s.shutdown(socket.SHUT_WR)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)


def request_fin(addr, port):
    s = socket.create_connection((addr, port), timeout=FIN_WAIT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    p = ip.Peer(s)
    send_with_fin(s, p._frame(b"MPA ID Req Frame", ip.MPA_ENHANCED, 2,
                              p._v2_word(1, 1, False, 0)))
    # Both the FIN and the Request are in siw's hands before rping can
    # accept; the Reply comes when it does.
    p.expect_closed(FIN_WAIT)
    print("siw ended the stream after the peer's FIN")


def reply_fin(addr, port):
    lsock = ip.Peer.listen(addr, port)
    print("listening", flush=True)
    lsock.settimeout(30)
    s, _ = lsock.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    p = ip.Peer(s)
    p.s.settimeout(FIN_WAIT)
    flags, rev, pd = p._read_frame(b"MPA ID Req Frame")
    rflags = ip.MPA_ENHANCED if rev == 2 and flags & ip.MPA_ENHANCED else 0
    rpd = p._v2_word(1, 1, False, 0) if rflags else b""
    send_with_fin(s, p._frame(b"MPA ID Rep Frame", rflags, rev, rpd))
    p.expect_closed(FIN_WAIT)
    print("siw ended the stream after the peer's FIN")


def accept_rping(addr, port, rcvbuf=None, **kw):
    lsock = ip.Peer.listen(addr, port, rcvbuf)
    print("listening", flush=True)
    p = ip.Peer.accept(lsock, **kw)
    f = p.expect(ip.SEND)
    buf, rkey, size = ip.parse_rping_info(f.payload)
    return p, buf, rkey, size


def send_inv_mr(addr, port):
    p, buf, rkey, size = accept_rping(addr, port)
    p.send(ip.rping_info(0, 0, 0), opcode=ip.SEND_INV, inval=rkey)
    print("Terminate %r" % p.expect_terminate(*RDMAP_CANNOT_INVALIDATE))


def ird_exceeded(addr, port):
    p, buf, rkey, size = accept_rping(addr, port, rcvbuf=4096)
    if size < 32768:
        raise AssertionError("run rping -c with a large -S, not %d" % size)
    # The response is far more than the socket buffers can hold while we
    # do not read, so it is still under way when the second one comes.
    p.read_request(0x1000, 0, size, rkey, buf)
    p.expect(ip.READ_RESP)
    p.read_request(0x1000, 0, size, rkey, buf)
    print("Terminate %r" % p.expect_terminate(*DDP_UNTAGGED_NOBUF,
                                                skip=(ip.READ_RESP,)))


def ird_zero(addr, port):
    p = ip.Peer.connect(addr, port)
    if p.ird != 0:
        raise AssertionError("the MPA Reply grants IRD %r, not 0" % p.ird)
    buf, rkey, _ = struct.unpack(">QII", p.pd[:16])
    p.read_request(0x1000, 0, SIZE, rkey, buf)
    print("Terminate %r" % p.expect_terminate(*DDP_UNTAGGED_NOBUF))


def err_place(addr, port):
    p = ip.Peer.connect(addr, port)
    buf, rkey, length = struct.unpack(">QII", p.pd[:16])
    # Batches of Writes over the whole buffer, each batch a new byte:
    # as much as the stream takes, so that some is always on its way.
    batches = [b"".join(p.fpdu(p.tagged(ip.WRITE, rkey, buf + off, bytes([v]) * 8192))
                        for off in range(0, length, 8192)) for v in range(256)]
    end = time.time() + 4
    i = 0
    try:
        while time.time() < end:
            p.send_raw(batches[i % 256])
            i += 1
            if i == 4:
                p.send(b"go".ljust(16, b"\0"))
    except (ip.Closed, BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    print("%d batches of Writes sent" % i)


def slow_sink(addr, port):
    """Takes connections until killed and reads each slowly, so that
    siw's transmitter is always in the middle of something."""
    import threading
    lsock = ip.Peer.listen(addr, port, rcvbuf=4096)
    print("listening", flush=True)

    def drain(p):
        try:
            while p.s.recv(4096):
                time.sleep(0.002)
        except (OSError, socket.timeout):
            pass
        p.close()

    while True:
        p = ip.Peer.accept(lsock, timeout=120)
        threading.Thread(target=drain, args=(p,), daemon=True).start()


def reuse_silent(addr, port):
    lsock = ip.Peer.listen(addr, port)
    print("listening", flush=True)
    first = ip.Peer.accept(lsock)
    second = ip.Peer.accept(lsock)
    second.s.settimeout(30)
    try:
        f = second.expect(ip.SEND)
    except ip.Closed as e:
        raise AssertionError("the reused QP's new stream ended: %s" % e) from e
    print("the second connection carried %r; the first one is still open" % f)
    first.close()


# siw_frmr_race.ko's first Send: iova, STag, pages, pages registered
# anew, page size; every 32-bit word of the first registration is
# FRMR_FIRST | its word index, of the second FRMR_SECOND | its index.
FRMR_INFO = struct.Struct(">QIIII")
FRMR_FIRST, FRMR_SECOND = 0xA0000000, 0xB0000000
FRMR_WRITE_BYTE = 0x5A
FRMR_SINK = 0x1000


def frmr_setup(addr, port):
    """Both of siw_frmr_race's connections and what its first Send says.
    The small receive buffer lets the peer hold the Read Response up by
    not reading."""
    lsock = ip.Peer.listen(addr, port, rcvbuf=4096)
    print("listening", flush=True)
    data = ip.Peer.accept(lsock)
    ctl = ip.Peer.accept(lsock)
    info = FRMR_INFO.unpack(ctl.expect(ip.SEND).payload[:FRMR_INFO.size])
    print("MR iova %#x STag %#x, %d pages, %d when registered anew" % info[:4])
    return data, ctl, info


def frmr_check_resp(f, got, first):
    """One Read Response FPDU, which must continue the response at got
    with the first registration's bytes. Returns the bytes had so far."""
    if f.stag != FRMR_SINK or f.to != got:
        raise AssertionError("Read Response out of place: %r after %d bytes" % (f, got))
    end = got + len(f.payload)
    if f.payload != first[got:end]:
        i = next(i for i in range(0, len(f.payload), 4)
                 if f.payload[i:i + 4] != first[got + i:got + i + 4])
        w = struct.unpack(">I", f.payload[i:i + 4])[0]
        whose = {FRMR_FIRST: "the first registration's word at another offset",
                 FRMR_SECOND: "the second registration's"}.get(w & 0xF0000000,
                                                               "not a registration's")
        raise AssertionError("Read Response byte %d is %#010x, %s" % (got + i, w, whose))
    if f.last:
        raise AssertionError("the whole response (%d bytes) was served across "
                             "the re-registration" % end)
    return end


def frmr_read(addr, port, sendinv):
    data, ctl, (iova, rkey, pages, _, pgsz) = frmr_setup(addr, port)
    size = pages * pgsz
    first = struct.pack(">%dI" % (size // 4), *[FRMR_FIRST | i for i in range(size // 4)])
    data.read_request(FRMR_SINK, 0, size, rkey, iova)
    got = [frmr_check_resp(data.expect(ip.READ_RESP), 0, first)]
    # Not reading, the peer lets siw fill the socket buffers and stop.
    time.sleep(1)
    if sendinv:
        data.send(b"inv".ljust(16, b"\0"), opcode=ip.SEND_INV, inval=rkey)
    else:
        ctl.send(b"go".ljust(16, b"\0"))
    ctl.s.settimeout(60)
    ctl.expect(ip.SEND)
    data.s.settimeout(10)

    def each(f):
        got[0] = frmr_check_resp(f, got[0], first)
    t = data.expect_terminate(*RDMAP_INVALID_STAG, skip=(ip.READ_RESP,), each=each)
    print("%d of %d bytes, all of the first registration, then %r" % (got[0], size, t))
    ctl.send(b"end".ljust(16, b"\0"))


def frmr_write(addr, port):
    data, ctl, (iova, rkey, _, kpages, pgsz) = frmr_setup(addr, port)
    # From the second registration's last page on: the first page lands
    # under the first one, the 14 after it would be past the new list.
    to = iova + (kpages - 1) * pgsz
    frame = data.fpdu(data.tagged(ip.WRITE, rkey, to, bytes([FRMR_WRITE_BYTE]) * (15 * pgsz)))
    cut = 2 + 14 + pgsz
    data.send_raw(frame[:cut])
    ctl.send(b"go".ljust(16, b"\0"))
    ctl.s.settimeout(60)
    ctl.expect(ip.SEND)
    data.send_raw(frame[cut:])
    data.s.settimeout(10)
    print("Terminate %r" % data.expect_terminate(*DDP_TAGGED_STAG))
    ctl.send(b"end".ljust(16, b"\0"))


CASES = {
    "frmr-read-sendinv": lambda a, p: frmr_read(a, p, True),
    "frmr-read-localinv": lambda a, p: frmr_read(a, p, False),
    "frmr-write-localinv": frmr_write,
    "mo0-twice": mo0_twice,
    "rtr-wrong": lambda a, p: rtr(a, p, False),
    "rtr-right": lambda a, p: rtr(a, p, True),
    "early-fpdu": early_fpdu,
    "late-request": late_request,
    "request-fin": request_fin,
    "reply-fin": reply_fin,
    "send-inv-mr": send_inv_mr,
    "ird-exceeded": ird_exceeded,
    "ird-zero": ird_zero,
    "err-place": err_place,
    "slow-sink": slow_sink,
    "reuse-silent": reuse_silent,
}


def main():
    case, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if case.startswith("rresp-"):
        rresp(addr, port, case[6:])
    elif case in CASES:
        CASES[case](addr, port)
    else:
        sys.exit("unknown case " + case)


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, ip.Closed, socket.timeout) as e:
        sys.exit("FAIL: %s" % e)
