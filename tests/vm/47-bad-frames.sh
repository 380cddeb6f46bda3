#!/bin/bash
# vm-timeout: 180
# providers: stock userlib
# debug-lane: malformed frames
# Malformed iWARP from the network: a hand-made peer (Python, plain TCP)
# does the MPA exchange with a siw responder (rping -s) as it should,
# then sends one bad FPDU. siw must answer with a TERMINATE that names
# the RFC 5040/5041 layer, error type and code, close the stream, and
# stay healthy: a normal rping works afterwards and the kernel log has
# no splat. SIW_TEST_INTREE=1 runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

peer=$LOGS/bad_peer.py
cat > "$peer" <<'EOF'
import os, socket, struct, sys

addr, port, case = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((addr, port), timeout=15)

def recv_exact(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("stream closed")
        b += c
    return b

# MPA Request, revision 1: no markers, no CRC, no private data.
s.sendall(b"MPA ID Req Frame" + bytes([0, 1]) + struct.pack(">H", 0))
rep = recv_exact(20)
if rep[:16] != b"MPA ID Rep Frame":
    sys.exit("not an MPA Reply: %r" % rep)
if rep[16] & 0xe0:
    sys.exit("MPA Reply flags %#x: reject, CRC or markers" % rep[16])
recv_exact(struct.unpack(">H", rep[18:20])[0])

def fpdu(ulpdu):
    pad = -(2 + len(ulpdu)) % 4
    return struct.pack(">H", len(ulpdu)) + ulpdu + bytes(pad) + bytes(4)

def send_hdr(qn, msn, mo, payload, ddp=0x41):
    # DDP untagged, last; RDMAP version 1, opcode Send.
    return bytes([ddp, 0x43]) + bytes(4) + struct.pack(">III", qn, msn, mo) + payload

expect = None
if case == "bad-stag":      # RDMA Write to an STag that does not exist
    bad = fpdu(bytes([0xc1, 0x40]) + struct.pack(">IQ", 0xdeadbe00, 0) + bytes(16))
    expect = (1, 1, 0x00)   # DDP, tagged buffer, invalid STag
elif case == "bad-qn":      # Send to queue 5
    bad = fpdu(send_hdr(5, 1, 0, bytes(8)))
    expect = (1, 2, 0x01)   # DDP, untagged buffer, invalid QN
elif case == "bad-msn":     # first Send numbered 7
    bad = fpdu(send_hdr(0, 7, 0, bytes(8)))
    expect = (1, 2, 0x03)   # DDP, untagged buffer, MSN out of range
elif case == "bad-ddp-version":
    bad = fpdu(send_hdr(0, 1, 0, bytes(8), ddp=0x42))
elif case == "short-ulpdu": # ULPDU length shorter than any DDP header
    bad = struct.pack(">H", 3) + bytes([0x41, 0x43, 0]) + bytes(3) + bytes(4)
elif case == "garbage":
    bad = os.urandom(300)
else:
    sys.exit("unknown case " + case)
s.sendall(bad)

# What comes back: a Terminate, then the end of the stream.
try:
    ulen = struct.unpack(">H", recv_exact(2))[0]
    ulpdu = recv_exact(ulen)
    recv_exact(-(2 + ulen) % 4 + 4)
except (EOFError, ConnectionResetError, socket.timeout) as e:
    sys.exit("no Terminate came back: %s" % e)
if ulen < 20 or ulpdu[0] & 0x80 or ulpdu[1] & 0x0f != 7:
    sys.exit("not a Terminate: %s" % ulpdu.hex())
qn = struct.unpack(">I", ulpdu[6:10])[0]
if qn != 2:
    sys.exit("Terminate on queue %d, not 2" % qn)
got = (ulpdu[18] >> 4, ulpdu[18] & 0x0f, ulpdu[19])
print("TERMINATE layer %d etype %d code %#04x" % got)
if expect and got != expect:
    sys.exit("expected layer %d etype %d code %#04x" % expect)
try:
    while s.recv(4096):
        pass
except ConnectionResetError:
    pass
except socket.timeout:
    sys.exit("the stream stayed open after the Terminate")
print("stream closed")
EOF

for c in bad-stag bad-qn bad-msn bad-ddp-version short-ulpdu garbage; do
	port=$_next_port
	_next_port=$((_next_port + 1))
	bg rping -s -a "$TEST_IP4" -p $port -C 1 > "$LOGS/rping-$c.log" 2>&1 < /dev/null
	wait_for -t 30 listening $port || log_fail "$LOGS/rping-$c.log" "rping did not listen"
	echo "\$ bad_peer.py $TEST_IP4 $port $c"
	out=$(timeout 30 python3 "$peer" "$TEST_IP4" $port $c 2>&1) ||
		fail "$c: $out"
	echo "$out" | sed 's/^/  | /'
	kill -9 "$BG_PID" 2>/dev/null
	wait "$BG_PID" 2>/dev/null
done

n=$(dmesg | grep -c "$TEST_DEV: QP [0-9]*: sending Terminate")
intree || [ "$n" -ge 6 ] || fail "$n kernel log lines about a Terminate sent, not 6"

# Still healthy.
rping_still_works 50 "the bad frames"

finish
exit 0
