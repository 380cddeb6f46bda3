# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
"""A user-space iWARP peer for tests: plain TCP, hand-made frames.

It does MPA connection setup (RFC 5044 revision 1, RFC 6581 revision 2
with IRD/ORD and peer-to-peer RTR), frames FPDUs with or without CRC and
speaks just enough DDP/RDMAP (RFC 5041, RFC 5040) to play one side of a
conversation the tests script: well-formed where the test wants siw to
get that far, deliberately wrong where it wants to see siw refuse.

Every multi-byte field is big endian; the CRC field is little endian
(RFC 5044 section 4.2, as iSCSI).
"""
import socket
import struct
import time

# ---- CRC32c (Castagnoli), reflected, as MPA uses it ---------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table

_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0xFFFFFFFF):
    """The register after data, seeded with crc: no inversion in or out."""
    for b in data:
        crc = _CRC_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


# ---- constants from the RFCs ----------------------------------------------

WRITE, READ_REQ, READ_RESP, SEND, SEND_INV, SEND_SE, SEND_SE_INV, TERMINATE = range(8)
QN_SEND, QN_READ_REQ, QN_TERMINATE = 0, 1, 2

RTR_NONE, RTR_SEND, RTR_WRITE, RTR_READ = 0, 1, 2, 4

MPA_M, MPA_C, MPA_R, MPA_ENHANCED = 0x80, 0x40, 0x20, 0x10
# The second Res bit: large FPDUs offered (siw, Linux siw's GSO_EXP).
MPA_LARGE_FPDU = 0x08
V2_P2P, V2_RTR_SEND = 0x8000, 0x4000      # in the IRD word
V2_RTR_WRITE, V2_RTR_READ = 0x8000, 0x4000  # in the ORD word


class Closed(Exception):
    """The stream ended (FIN or reset) where a frame was expected."""


class Fpdu:
    """One received FPDU, decoded."""

    def __init__(self, ulpdu):
        self.ulpdu = ulpdu
        ddp, rdmap = ulpdu[0], ulpdu[1]
        self.tagged = bool(ddp & 0x80)
        self.last = bool(ddp & 0x40)
        self.opcode = rdmap & 0x0F
        if self.tagged:
            self.stag, self.to = struct.unpack(">IQ", ulpdu[2:14])
            self.payload = ulpdu[14:]
        else:
            self.inval, self.qn, self.msn, self.mo = struct.unpack(">IIII", ulpdu[2:18])
            self.payload = ulpdu[18:]
        if self.opcode == READ_REQ and not self.tagged:
            (self.sink_stag, self.sink_to, self.size, self.src_stag,
             self.src_to) = struct.unpack(">IQIIQ", self.payload[:28])
        if self.opcode == TERMINATE and not self.tagged:
            self.layer = self.payload[0] >> 4
            self.etype = self.payload[0] & 0x0F
            self.ecode = self.payload[1]
            self.hdrct = struct.unpack(">H", self.payload[2:4])[0]

    def __repr__(self):
        names = ["Write", "ReadReq", "ReadResp", "Send", "SendInv",
                 "SendSE", "SendSEInv", "Terminate"]
        s = names[self.opcode] + (" last" if self.last else "")
        if self.opcode == TERMINATE:
            s += " layer %d etype %d code %#04x" % (self.layer, self.etype, self.ecode)
        elif self.tagged:
            s += " stag %#x to %#x len %d" % (self.stag, self.to, len(self.payload))
        else:
            s += " qn %d msn %d mo %d len %d" % (self.qn, self.msn, self.mo,
                                              len(self.payload))
        return s


class Peer:
    """One iWARP stream over one TCP connection."""

    def __init__(self, sock):
        self.s = sock
        self.crc = False
        self.msn = {QN_SEND: 0, QN_READ_REQ: 0, QN_TERMINATE: 0}
        self.rtr = RTR_NONE     # the RTR type agreed, if peer-to-peer
        self.ird = self.ord = None

    # ---- connection setup ----

    @classmethod
    def connect(cls, addr, port, timeout=15, rcvbuf=None, delay=0, **mpa):
        """delay: seconds of silence between TCP's handshake and the
        MPA Request."""
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.settimeout(timeout)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.connect((addr, port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = cls(s)
        time.sleep(delay)
        p.mpa_request(**mpa)
        return p

    @classmethod
    def listen(cls, addr, port, rcvbuf=None):
        """A listening socket; rcvbuf, if given, is inherited by every
        connection accepted (a small one lets the peer hold siw's
        transmitter up by not reading)."""
        s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.bind((addr, port))
        s.listen(4)
        return s

    @classmethod
    def accept(cls, lsock, timeout=30, crc=False, ird=1, ord=1, pd=b""):
        """Responder side: takes the next connection, answers its MPA
        Request. The Request's private data is left in .pd."""
        lsock.settimeout(timeout)
        s, _ = lsock.accept()
        s.settimeout(timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        p = cls(s)
        flags, rev, rpd = p._read_frame(b"MPA ID Req Frame")
        p.crc = bool(flags & MPA_C) or crc
        rflags = MPA_C if p.crc else 0
        p.pd = rpd
        if rev == 2 and flags & MPA_ENHANCED:
            p.pd = rpd[4:]
            rflags |= MPA_ENHANCED
            pd = p._v2_word(ird, ord, False, 0) + pd
        p.ird, p.ord = ird, ord
        p.send_raw(cls._frame(b"MPA ID Rep Frame", rflags, rev, pd))
        return p

    @staticmethod
    def _v2_word(ird, ord_, p2p, rtr):
        i = ird | (V2_P2P if p2p else 0) | (V2_RTR_SEND if rtr & RTR_SEND else 0)
        o = ord_ | (V2_RTR_WRITE if rtr & RTR_WRITE else 0) | \
            (V2_RTR_READ if rtr & RTR_READ else 0)
        return struct.pack(">HH", i, o)

    @staticmethod
    def _frame(key, flags, rev, pd):
        return key + bytes([flags, rev]) + struct.pack(">H", len(pd)) + pd

    def recv_exact(self, n):
        b = b""
        while len(b) < n:
            try:
                c = self.s.recv(n - len(b))
            except ConnectionResetError as e:
                raise Closed("reset") from e
            if not c:
                raise Closed("end of stream after %d of %d bytes" % (len(b), n))
            b += c
        return b

    def _read_frame(self, key):
        hdr = self.recv_exact(20)
        if hdr[:16] != key:
            raise ValueError("not %r: %r" % (key, hdr))
        pd = self.recv_exact(struct.unpack(">H", hdr[18:20])[0])
        return hdr[16], hdr[17], pd

    def mpa_request(self, rev=2, crc=False, ird=1, ord=1, p2p=False,
                    rtr=RTR_SEND | RTR_WRITE | RTR_READ, pd=b"", trailing=b""):
        """Initiator side; trailing bytes go out in the same send call."""
        flags = MPA_C if crc else 0
        if rev == 2:
            flags |= MPA_ENHANCED
            pd = self._v2_word(ird, ord, p2p, rtr if p2p else 0) + pd
        self.s.sendall(self._frame(b"MPA ID Req Frame", flags, rev, pd) + trailing)
        flags, rrev, rpd = self._read_frame(b"MPA ID Rep Frame")
        if flags & MPA_R:
            raise Closed("MPA Reply rejects the connection")
        self.crc = bool(flags & MPA_C) or crc
        self.pd = rpd
        if rrev == 2 and flags & MPA_ENHANCED:
            i, o = struct.unpack(">HH", rpd[:4])
            self.ird, self.ord = i & 0x3FFF, o & 0x3FFF
            self.pd = rpd[4:]
            if p2p and i & V2_P2P:
                self.rtr = (RTR_SEND if i & V2_RTR_SEND else 0) | \
                           (RTR_WRITE if o & V2_RTR_WRITE else 0) | \
                           (RTR_READ if o & V2_RTR_READ else 0)
        return self

    # ---- framing ----

    def send_raw(self, data):
        self.s.sendall(data)

    def fpdu(self, ulpdu, bad_crc=False):
        """The FPDU carrying ulpdu, CRC as negotiated."""
        b = struct.pack(">H", len(ulpdu)) + ulpdu
        b += bytes(-len(b) % 4)
        c = (~crc32c(b) & 0xFFFFFFFF) if self.crc else 0
        if bad_crc:
            c ^= 0x5A5A5A5A if self.crc else 0
        return b + struct.pack("<I", c)

    def recv_fpdu(self):
        ulen = struct.unpack(">H", self.recv_exact(2))[0]
        ulpdu = self.recv_exact(ulen)
        self.recv_exact(-(2 + ulen) % 4 + 4)
        return Fpdu(ulpdu)

    # ---- DDP / RDMAP headers ----

    @staticmethod
    def untagged(opcode, qn, msn, mo, payload=b"", last=True, inval=0):
        ddp = 0x01 | (0x40 if last else 0)
        return bytes([ddp, 0x40 | opcode]) + struct.pack(">IIII", inval, qn, msn, mo) + payload

    @staticmethod
    def tagged(opcode, stag, to, payload=b"", last=True):
        ddp = 0x81 | (0x40 if last else 0)
        return bytes([ddp, 0x40 | opcode]) + struct.pack(">IQ", stag, to) + payload

    def next_msn(self, qn):
        self.msn[qn] += 1
        return self.msn[qn]

    def send(self, payload, opcode=SEND, inval=0):
        """One whole Send message in one FPDU."""
        self.send_raw(self.fpdu(self.untagged(opcode, QN_SEND, self.next_msn(QN_SEND),
                                              0, payload, inval=inval)))

    def read_request(self, sink_stag, sink_to, size, src_stag, src_to):
        rr = struct.pack(">IQIIQ", sink_stag, sink_to, size, src_stag, src_to)
        self.send_raw(self.fpdu(self.untagged(READ_REQ, QN_READ_REQ,
                                              self.next_msn(QN_READ_REQ), 0, rr)))

    def read_response(self, stag, to, payload, last=True):
        self.send_raw(self.fpdu(self.tagged(READ_RESP, stag, to, payload, last)))

    def write(self, stag, to, payload, last=True):
        self.send_raw(self.fpdu(self.tagged(WRITE, stag, to, payload, last)))

    def send_rtr(self, kind):
        """The initiator's zero-length ready-to-receive message."""
        if kind == RTR_WRITE:
            u = self.tagged(WRITE, 0, 0)
        elif kind == RTR_READ:
            u = self.untagged(READ_REQ, QN_READ_REQ, self.next_msn(QN_READ_REQ), 0,
                              bytes(28))
        else:
            u = self.untagged(SEND, QN_SEND, self.next_msn(QN_SEND), 0)
        self.send_raw(self.fpdu(u))

    # ---- what comes back ----

    def expect(self, *opcodes):
        """The next FPDU, which must have one of these opcodes."""
        f = self.recv_fpdu()
        if f.opcode not in opcodes:
            raise AssertionError("expected opcode %s, got %r" % (opcodes, f))
        return f

    def expect_terminate(self, layer=None, etype=None, ecode=None, skip=(),
                         each=None):
        """Reads up to the Terminate (passing over opcodes in skip, each
        handed to each() if given, which may raise), checks its reason
        and its RFC 5040 section 4.8 layout, then the end of the
        stream."""
        while True:
            try:
                f = self.recv_fpdu()
            except Closed as e:
                raise AssertionError("no Terminate came back: %s" % e) from e
            except socket.timeout as e:
                raise AssertionError("no Terminate came back: timeout") from e
            if f.opcode == TERMINATE:
                break
            if f.opcode not in skip:
                raise AssertionError("expected a Terminate, got %r" % f)
            if each:
                each(f)
        if f.tagged or f.qn != QN_TERMINATE or not f.last or f.mo != 0:
            raise AssertionError("Terminate not on queue 2, last, MO 0: %r" % f)
        if f.msn != 1:
            raise AssertionError("first Terminate numbered %d" % f.msn)
        got = (f.layer, f.etype, f.ecode)
        want = (layer, etype, ecode)
        if any(w is not None and w != g for w, g in zip(want, got)):
            raise AssertionError("Terminate %r, expected %r" % (got, want))
        if f.hdrct & 0x1FFF:
            raise AssertionError("Terminate reserved Hdrct bits set: %#x" % f.hdrct)
        if f.hdrct & 0x4000 and not f.hdrct & 0x8000:
            raise AssertionError("Terminate has a DDP header but no segment length")
        self.expect_closed()
        return f

    def expect_closed(self, timeout=15):
        self.s.settimeout(timeout)
        try:
            while self.s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        except socket.timeout as e:
            raise AssertionError("the stream stayed open") from e

    def close(self):
        self.s.close()


# ---- rping's application protocol (rdma-core librdmacm/examples/rping.c) --

RPING_INFO = struct.Struct(">QII")   # buf, rkey, size


def rping_info(buf, rkey, size):
    return RPING_INFO.pack(buf, rkey, size)


def parse_rping_info(payload):
    return RPING_INFO.unpack(payload[:RPING_INFO.size])
