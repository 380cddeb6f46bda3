# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A conformant iWARP peer for tests/vm/64-conformance.sh: it plays the
profiles of peers the in-tree siw cannot play (hardware RNICs, Windows
through a Chelsio card) and checks what siw sends, byte for byte,
against RFC 5044 (MPA), RFC 6581 (enhanced MPA), RFC 5041 (DDP) and
RFC 5040 (RDMAP). One profile per run:

    python3 conform_cases.py initiator ADDR PORT SIZE [option=value...]
        siw is rping's server (rping -s -S SIZE -C 1 -V); this peer is
        its client: the READ siw issues is answered with Read Response
        FPDUs of frag bytes each, the WRITE siw sends back must carry
        the same data.
    python3 conform_cases.py responder ADDR PORT SIZE [option=value...]
        siw is rping's client (rping -c -S SIZE -C 1 -V); this peer
        listens and plays the server: it reads siw's buffer, writes it
        back, with Write FPDUs of frag bytes each.

Options: rev=1|2, crc=0|1, ird=N, ord=N, rtr=none|write|read|send
(initiator: the one type offered; responder: the type chosen from what
siw offers, which must include it), pd=HEX (the initiator's private
data), frag=N (payload bytes per FPDU this peer sends; larger than the
MSS is allowed of a sender that knows its peer can take it, and siw must
take it), large=0|1 (offer large FPDUs, the LARGE_FPDU bit of MPA, or
as responder consent to siw's offer), expect_rev=N, expect_crc=0|1,
expect_rtr=write|read|send|none, expect_large=0|1 (what siw must offer
or answer), skip_rtr=1 (initiator: send rping's first message where the
agreed RTR belongs; siw must answer with the Terminate of RFC 6581 and
close).

What is checked on everything siw sends:
  MPA: the key, reserved flag bits clear, M clear, the revision, the
      private data length; revision 2: the IRD/ORD word, P only with
      peer-to-peer, exactly one RTR bit in a Reply, the offered ones in a
      Request; revision 1: no IRD/ORD word; LARGE_FPDU in a Reply only
      to a Request that had it.
  FPDU: fits in the connection's MSS unless both sides set LARGE_FPDU,
      then in whole segments of it up to what ULPDU_Length can count, and
      a message of 64 KB then does go out in FPDUs larger than the MSS;
      pad bytes zero, CRC32c right where negotiated.
  DDP: version 1, reserved bits clear; untagged on the right queue, MSN
      counting from 1 per queue, MO the bytes of the message so far;
      tagged at the expected STag, offsets contiguous, L on the last.
  RDMAP: version 1, reserved bits clear, the opcode expected next.
Exit 0 when everything held, 1 at the first thing that did not.
"""
import socket
import struct
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import iwarp_peer as ip  # noqa: E402

RTR_BY_NAME = {"none": ip.RTR_NONE, "write": ip.RTR_WRITE,
               "read": ip.RTR_READ, "send": ip.RTR_SEND}
RPING_MIN = 23
# This peer's buffers, as it advertises them to rping.
START_BUF, START_RKEY = 0x7f0000010000, 0x1a2b3c00
SINK_BUF, SINK_RKEY = 0x7f0000900000, 0x4d5e6f00


class Violation(AssertionError):
    pass


def need(cond, what, *args):
    if not cond:
        raise Violation(what % args if args else what)


def pattern(n):
    """A C string of n bytes with its NUL: rping's server writes back
    strlen() + 1 bytes of what it read."""
    return bytes(33 + (i * 7) % 94 for i in range(n - 1)) + b"\0"


class Checked(ip.Peer):
    """A Peer that checks every frame it receives."""

    def __init__(self, sock):
        super().__init__(sock)
        self.rx_msn = {ip.QN_SEND: 0, ip.QN_READ_REQ: 0, ip.QN_TERMINATE: 0}
        self.fpdus = 0
        self.large = False
        self.largest = 0

    def mss(self):
        return self.s.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG)

    def recv_fpdu(self):
        head = self.recv_exact(2)
        ulen = struct.unpack(">H", head)[0]
        ulpdu = self.recv_exact(ulen)
        pad = self.recv_exact(-(2 + ulen) % 4)
        crc = struct.unpack("<I", self.recv_exact(4))[0]
        wire = 2 + ulen + len(pad) + 4
        mss = self.mss()
        limit = max(mss, (2 + 0xFFFF + 4) // mss * mss) if self.large else mss
        need(wire <= limit, "FPDU of %d bytes on a connection with MSS %d%s",
             wire, mss, " and large FPDUs" if self.large else "")
        self.largest = max(self.largest, wire)
        need(pad == bytes(len(pad)), "pad bytes not zero: %r", pad)
        if self.crc:
            want = ~ip.crc32c(head + ulpdu + pad) & 0xFFFFFFFF
            need(crc == want, "CRC %#010x, expected %#010x", crc, want)
        need(ulen >= 14, "ULPDU of %d bytes has no room for a DDP header", ulen)
        ddp, rdmap = ulpdu[0], ulpdu[1]
        need(ddp & 0x03 == 1, "DDP version %d", ddp & 0x03)
        need(ddp & 0x3C == 0, "DDP reserved bits set: %#04x", ddp)
        need(rdmap >> 6 == 1, "RDMAP version %d", rdmap >> 6)
        need(rdmap & 0x30 == 0, "RDMAP reserved bits set: %#04x", rdmap)
        f = ip.Fpdu(ulpdu)
        self.fpdus += 1
        return f

    def untagged_message(self, opcode, qn):
        """One whole untagged message: its segments' MSN and MO."""
        data = b""
        while True:
            f = self.recv_fpdu()
            need(f.opcode == opcode and not f.tagged,
                 "expected untagged opcode %d on queue %d, got %r", opcode, qn, f)
            need(f.qn == qn, "opcode %d on queue %d", opcode, f.qn)
            if not data:
                self.rx_msn[qn] += 1
            need(f.msn == self.rx_msn[qn], "MSN %d on queue %d, expected %d",
                 f.msn, qn, self.rx_msn[qn])
            need(f.mo == len(data), "MO %d, expected %d", f.mo, len(data))
            if opcode in (ip.SEND, ip.SEND_SE, ip.READ_REQ):
                need(f.inval == 0, "Invalidate STag %#x in opcode %d", f.inval, opcode)
            data += f.payload
            if f.last:
                return f, data

    def tagged_message(self, opcode, stag, to, size):
        """One whole tagged message of size bytes placed at stag/to."""
        data = b""
        while True:
            f = self.recv_fpdu()
            need(f.opcode == opcode and f.tagged,
                 "expected tagged opcode %d, got %r", opcode, f)
            need(f.stag == stag, "STag %#x, expected %#x", f.stag, stag)
            need(f.to == to + len(data), "tagged offset %#x, expected %#x",
                 f.to, to + len(data))
            data += f.payload
            need(len(data) <= size, "%d bytes of a %d-byte message", len(data), size)
            if f.last:
                need(len(data) == size, "last segment after %d of %d bytes",
                     len(data), size)
                return data
            need(f.payload, "an empty segment that is not the last")

    def recv_rtr_read_response(self):
        f = self.recv_fpdu()
        need(f.opcode == ip.READ_RESP and f.tagged and f.last and not f.payload,
             "the RTR Read's response is %r, not an empty last Read Response", f)

    def send_tagged(self, opcode, stag, to, data, frag):
        """A tagged message in FPDUs of frag payload bytes."""
        off = 0
        while True:
            chunk = data[off:off + frag]
            last = off + len(chunk) >= len(data)
            self.send_raw(self.fpdu(self.tagged(opcode, stag, to + off, chunk, last)))
            off += len(chunk)
            if last:
                return


def check_v2_word(pd, what, rtr_rule):
    need(len(pd) >= 4, "%s: revision 2 private data shorter than its IRD/ORD word", what)
    i, o = struct.unpack(">HH", pd[:4])
    p2p = bool(i & ip.V2_P2P)
    rtr = (ip.RTR_SEND if i & ip.V2_RTR_SEND else 0) | \
          (ip.RTR_WRITE if o & ip.V2_RTR_WRITE else 0) | \
          (ip.RTR_READ if o & ip.V2_RTR_READ else 0)
    need(p2p or not rtr, "%s: RTR bits without P", what)
    rtr_rule(p2p, rtr)
    return i & 0x3FFF, o & 0x3FFF, p2p, rtr


def check_frame_flags(flags, what):
    need(not flags & ip.MPA_M, "%s asks for markers", what)
    need(not flags & 0x07, "%s: reserved flag bits set: %#04x", what, flags)


def check_large_use(p, size, o):
    """Large FPDUs agreed: a message of 64 KB must have used them."""
    if p.large and size >= 65000:
        need(p.largest > p.mss(), "large FPDUs agreed, but the largest from siw"
             " had %d bytes, MSS %d", p.largest, p.mss())


# ---- siw as responder: this peer is rping's client ------------------------

def initiator(addr, port, size, o):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.settimeout(30)
    s.connect((addr, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    p = Checked(s)
    rev, rtr = o["rev"], RTR_BY_NAME[o["rtr"]]
    flags = ip.MPA_C if o["crc"] else 0
    if o["large"]:
        flags |= ip.MPA_LARGE_FPDU
    pd = o["pd"]
    if rev == 2:
        flags |= ip.MPA_ENHANCED
        pd = p._v2_word(o["ird"], o["ord"], bool(rtr), rtr) + pd
    p.send_raw(p._frame(b"MPA ID Req Frame", flags, rev, pd))

    rflags, rrev, rpd = p._read_frame(b"MPA ID Rep Frame")
    check_frame_flags(rflags, "the Reply")
    need(not rflags & ip.MPA_R, "siw rejected the connection")
    need(rrev == o["expect_rev"], "Reply revision %d, expected %d", rrev, o["expect_rev"])
    p.crc = bool((rflags | flags) & ip.MPA_C)
    need(p.crc == bool(o["expect_crc"]), "CRC %s, expected %s", p.crc, bool(o["expect_crc"]))
    need(bool(rflags & ip.MPA_C) or not flags & ip.MPA_C,
         "the Reply drops the C flag the Request set (RFC 5044 7.1)")
    need(bool(rflags & ip.MPA_LARGE_FPDU) == bool(o["expect_large"]),
         "Reply LARGE_FPDU %s, expected %s", bool(rflags & ip.MPA_LARGE_FPDU),
         bool(o["expect_large"]))
    need(not rflags & ip.MPA_LARGE_FPDU or flags & ip.MPA_LARGE_FPDU,
         "LARGE_FPDU in a Reply to a Request without it")
    p.large = bool(rflags & flags & ip.MPA_LARGE_FPDU)
    agreed = ip.RTR_NONE
    if rrev == 2:
        need(rflags & ip.MPA_ENHANCED, "a revision 2 Reply without the enhanced flag")

        def one_rtr(p2p, got):
            need(p2p == bool(rtr), "Reply P %s to a Request with P %s", p2p, bool(rtr))
            need(not p2p or got in (ip.RTR_SEND, ip.RTR_WRITE, ip.RTR_READ),
                 "Reply names RTR types %#x, not exactly one", got)
            need(not got or got & rtr, "Reply RTR %#x was not offered (%#x)", got, rtr)
        ird, ord_, p2p, agreed = check_v2_word(rpd, "the Reply", one_rtr)
        need(ord_ <= o["ird"], "siw's ORD %d exceeds our IRD %d", ord_, o["ird"])
        need(len(rpd) == 4, "Reply private data %r beyond the IRD/ORD word (rping sends none)",
             rpd[4:])
    else:
        need(not rflags & ip.MPA_ENHANCED, "a revision 1 Reply with the enhanced flag")
        need(rpd == b"", "revision 1 Reply private data %r (rping sends none)", rpd)
    need(agreed == RTR_BY_NAME[o["expect_rtr"]], "agreed RTR %#x, expected %s",
         agreed, o["expect_rtr"])
    if agreed and o["skip_rtr"]:
        # Data where the RTR belongs: RFC 6581 wants a Terminate.
        p.send(ip.rping_info(START_BUF, START_RKEY, size))
        t = p.expect_terminate(2, 0, 0x04)
        print("conformant: a Send before the RTR is answered with %r" % t)
        return
    if agreed:
        p.send_rtr(agreed)
        if agreed == ip.RTR_READ:
            # The responder answers a zero-length Read Request too.
            p.recv_rtr_read_response()

    start = pattern(size)
    p.send(ip.rping_info(START_BUF, START_RKEY, size))
    f, rr = p.untagged_message(ip.READ_REQ, ip.QN_READ_REQ)
    need(len(rr) == 28, "Read Request payload of %d bytes", len(rr))
    sink_stag, sink_to, rsize, src_stag, src_to = struct.unpack(">IQIIQ", rr)
    need((src_stag, src_to, rsize) == (START_RKEY, START_BUF, size),
         "READ of stag %#x to %#x size %d, rping asked for %#x %#x %d",
         src_stag, src_to, rsize, START_RKEY, START_BUF, size)
    p.send_tagged(ip.READ_RESP, sink_stag, sink_to, start, o["frag"])

    f, go = p.untagged_message(ip.SEND, ip.QN_SEND)
    p.send(ip.rping_info(SINK_BUF, SINK_RKEY, size))
    back = p.tagged_message(ip.WRITE, SINK_RKEY, SINK_BUF, size)
    need(back == start, "siw wrote back other data than it read")
    f, go = p.untagged_message(ip.SEND, ip.QN_SEND)
    check_large_use(p, size, o)
    print("conformant: rev %d crc %s rtr %s, READ and WRITE of %d bytes, %d FPDUs from siw"
          " checked, MSS %d, large FPDUs %s, largest %d" %
          (rrev, p.crc, o["expect_rtr"], size, p.fpdus, p.mss(), p.large, p.largest))


# ---- siw as initiator: this peer plays rping's server ----------------------

def responder(addr, port, size, o):
    lsock = ip.Peer.listen(addr, port)
    print("listening", flush=True)
    lsock.settimeout(60)
    s, _ = lsock.accept()
    s.settimeout(30)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    p = Checked(s)
    flags, rev, pd = p._read_frame(b"MPA ID Req Frame")
    check_frame_flags(flags, "the Request")
    need(rev == o["expect_rev"], "Request revision %d, expected %d", rev, o["expect_rev"])
    need(bool(flags & ip.MPA_C) == bool(o["expect_crc"]), "Request C flag %s, expected %s",
         bool(flags & ip.MPA_C), bool(o["expect_crc"]))
    need(bool(flags & ip.MPA_LARGE_FPDU) == bool(o["expect_large"]),
         "Request LARGE_FPDU %s, expected %s", bool(flags & ip.MPA_LARGE_FPDU),
         bool(o["expect_large"]))
    want = RTR_BY_NAME[o["expect_rtr"]]
    offered = ip.RTR_NONE
    rflags = ip.MPA_C if (flags & ip.MPA_C or o["crc"]) else 0
    if o["large"] and flags & ip.MPA_LARGE_FPDU:
        rflags |= ip.MPA_LARGE_FPDU
    p.large = bool(rflags & ip.MPA_LARGE_FPDU)
    rpd = b""
    if rev == 2:
        need(flags & ip.MPA_ENHANCED, "a revision 2 Request without the enhanced flag")

        def offer(p2p, got):
            need(p2p == bool(want), "Request P %s, expected %s", p2p, bool(want))
            need(not want or got & want, "Request offers RTR %#x, not %s", got,
                 o["expect_rtr"])
        ird, ord_, p2p, offered = check_v2_word(pd, "the Request", offer)
        chosen = want if p2p else ip.RTR_NONE
        if chosen == ip.RTR_READ and not min(ord_, o["ird"]):
            raise Violation("siw offers only a Read RTR with no ORD to send it")
        rflags |= ip.MPA_ENHANCED
        rpd = p._v2_word(o["ird"], o["ord"], p2p, chosen)
        p.rtr = chosen
    else:
        need(not flags & ip.MPA_ENHANCED, "a revision 1 Request with the enhanced flag")
        need(pd == b"", "revision 1 Request private data %r (rping sends none)", pd)
    p.send_raw(p._frame(b"MPA ID Rep Frame", rflags, rev, rpd))
    p.crc = bool(rflags & ip.MPA_C)

    if p.rtr == ip.RTR_WRITE:
        p.tagged_message(ip.WRITE, 0, 0, 0)
    elif p.rtr == ip.RTR_READ:
        f, rr = p.untagged_message(ip.READ_REQ, ip.QN_READ_REQ)
        need(rr == bytes(28), "the RTR Read Request is not all zero: %r", rr)
        p.send_raw(p.fpdu(p.tagged(ip.READ_RESP, 0, 0)))
    elif p.rtr == ip.RTR_SEND:
        f, data = p.untagged_message(ip.SEND, ip.QN_SEND)
        need(data == b"", "the RTR Send carries %d bytes", len(data))

    # rping's client: its start buffer, which we read, then its sink.
    f, info = p.untagged_message(ip.SEND, ip.QN_SEND)
    buf, rkey, rsize = ip.parse_rping_info(info)
    need(rsize == size, "rping advertises %d bytes, expected %d", rsize, size)
    p.read_request(0x5eed0000, 0, size, rkey, buf)
    data = p.tagged_message(ip.READ_RESP, 0x5eed0000, 0, size)
    p.send(ip.rping_info(0, 0, 0))
    f, info = p.untagged_message(ip.SEND, ip.QN_SEND)
    buf, rkey, rsize = ip.parse_rping_info(info)
    p.send_tagged(ip.WRITE, rkey, buf, data, o["frag"])
    p.send(ip.rping_info(0, 0, 0))
    check_large_use(p, size, o)
    print("conformant: rev %d crc %s rtr %s (offered %#x), READ and WRITE of %d bytes,"
          " %d FPDUs from siw checked, MSS %d, large FPDUs %s, largest %d" %
          (rev, p.crc, o["expect_rtr"], offered, size, p.fpdus, p.mss(), p.large,
           p.largest))
    # rping's client disconnects when done: the end of the stream.
    p.expect_closed(30)


def main():
    role, addr, port, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    o = {"rev": 2, "crc": 0, "ird": 4, "ord": 4, "rtr": "none", "pd": b"",
         "frag": 1024, "skip_rtr": 0, "large": 0, "expect_rev": None, "expect_crc": None,
         "expect_rtr": None, "expect_large": None}
    for kv in sys.argv[5:]:
        k, v = kv.split("=", 1)
        if k not in o:
            raise SystemExit("unknown option %s" % k)
        if k == "pd":
            o[k] = bytes.fromhex(v)
        elif k in ("rtr", "expect_rtr"):
            if v not in RTR_BY_NAME:
                raise SystemExit("rtr: %s" % v)
            o[k] = v
        else:
            o[k] = int(v)
    if o["expect_rev"] is None:
        o["expect_rev"] = o["rev"]
    if o["expect_crc"] is None:
        o["expect_crc"] = o["crc"]
    if o["expect_rtr"] is None:
        o["expect_rtr"] = o["rtr"]
    if o["expect_large"] is None:
        # siw's default: it offers as initiator, consents as responder.
        o["expect_large"] = 1 if role == "responder" else o["large"]
    size = max(size, RPING_MIN)
    try:
        (initiator if role == "initiator" else responder)(addr, port, size, o)
    except (Violation, AssertionError, ip.Closed, socket.timeout, ValueError) as e:
        print("NOT CONFORMANT: %s" % e)
        sys.exit(1)


if __name__ == "__main__":
    main()
