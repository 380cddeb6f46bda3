#!/bin/bash
# debug-lane: every MPA mode and the RTR checks, against a byte-level peer
# vm-timeout: 420
# What siw sends, checked byte for byte by a conformant user-space iWARP
# peer (tests/lib/conform_cases.py) that plays the profiles the in-tree
# siw cannot: MPA revision 1 initiators with application private data
# (SMB Direct's IRD/ORD exchange over revision 1 peers), peer-to-peer
# mode with each RTR type in both roles, CRC always on as hardware RNICs
# use it, FPDUs smaller and larger than the MSS, and large FPDUs offered,
# consented to and declined. siw runs rping (the
# server when the peer initiates, the client when it listens) on siwa in
# namespace cfa; the peer is in cfb, across a veth pair with the usual
# MTU of 1500, so that the MSS is a real limit. Each run moves a READ
# and a WRITE and is verified by both rping (-V) and the peer.
. "$(dirname "$0")/../lib/traffic.sh"

peer=$SIW_TOP/tests/lib/conform_cases.py
load_siw
veth_netns cfa 10.81.0.1 cfb 10.81.0.2
netns_siw_dev cfa siwa veth_a
dev=/sys/class/infiniband/siwa

# settings ATTR=VALUE...: siwa back to its defaults, then these.
settings() {
	local kv
	for kv in peer_to_peer=0 mpa_rev=2 mpa_crc=off mpa_rtr=all large_fpdu=1 "$@"; do
		echo "${kv#*=}" > "$dev/${kv%%=*}" || fail "siwa: cannot set $kv"
	done
}

new_port() { PORT=$_next_port; _next_port=$((_next_port + 1)); }

# peer_initiates NAME SIZE "SIWA SETTINGS" PEER-OPTIONS...
peer_initiates() {
	local name=$1 size=$2 out rc
	# shellcheck disable=SC2086 # a list of settings
	settings $3
	shift 3
	new_port
	bg ip netns exec cfa rping -s -a 10.81.0.1 -p $PORT -S "$size" -C 1 -V \
		> "$LOGS/rping-$name.log" 2>&1 < /dev/null
	SERVER_NS=cfa wait_for -t 30 listening $PORT ||
		log_fail "$LOGS/rping-$name.log" "$name: rping did not listen"
	echo "\$ conform_cases.py initiator 10.81.0.1 $PORT $size $*"
	out=$(timeout 90 ip netns exec cfb python3 "$peer" initiator 10.81.0.1 $PORT "$size" "$@" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  | /'
	[ $rc = 0 ] || fail "$name: $out"
	wait_for -t 30 gone "$BG_PID" || log_fail "$LOGS/rping-$name.log" "$name: rping did not end"
	wait "$BG_PID" 2>/dev/null
}
gone() { ! kill -0 "$1" 2>/dev/null; }

# peer_answers NAME SIZE "SIWA SETTINGS" PEER-OPTIONS...
peer_answers() {
	local name=$1 size=$2 rc prc
	# shellcheck disable=SC2086
	settings $3
	shift 3
	new_port
	bg ip netns exec cfb python3 "$peer" responder 10.81.0.2 $PORT "$size" "$@" \
		> "$LOGS/peer-$name.log" 2>&1 < /dev/null
	SERVER_NS=cfb wait_for -t 30 listening $PORT ||
		log_fail "$LOGS/peer-$name.log" "$name: the peer did not listen"
	echo "\$ rping -c -S $size against conform_cases.py responder $*"
	timeout 90 ip netns exec cfa rping -c -a 10.81.0.2 -p $PORT -S "$size" -C 1 -V \
		> "$LOGS/rping-$name.log" 2>&1 < /dev/null
	rc=$?
	wait "$BG_PID"
	prc=$?
	sed 's/^/  | /' "$LOGS/peer-$name.log"
	[ $prc = 0 ] && grep -q '^conformant' "$LOGS/peer-$name.log" ||
		log_fail "$LOGS/peer-$name.log" "$name: not conformant"
	[ $rc = 0 ] || log_fail "$LOGS/rping-$name.log" "$name: rping exited with $rc"
}

fpdus0=$(hw_counter siwa rx_fpdus)

# The peer initiates; siw answers (rping's server).
peer_initiates rev2 65000 "" rev=2 frag=1000
peer_initiates rev2-crc-large-fpdus 65000 "" rev=2 crc=1 frag=8000
peer_initiates rev2-largest-fpdu 65000 "" rev=2 crc=1 frag=65000
peer_initiates rev1-smbd-pd 20000 "" rev=1 pd=0000000800000008 frag=3000
peer_initiates rev1-crc 20000 "" rev=1 crc=1 frag=100
peer_initiates rev2-to-rev1-device 20000 "mpa_rev=1" rev=2 expect_rev=1 frag=1448
peer_initiates crc-on-device 20000 "mpa_crc=on" rev=2 crc=0 expect_crc=1
for rtr in write read send; do
	peer_initiates "p2p-$rtr" 20000 "" rev=2 crc=1 rtr=$rtr frag=5000
done
peer_initiates p2p-device-takes-send 20000 "mpa_rtr=send" rev=2 rtr=send
peer_initiates p2p-no-rtr 64 "" rev=2 rtr=write skip_rtr=1
# Large FPDUs: siw consents to an offer, and then its 64 KB WRITE must go
# out in FPDUs larger than the MSS; switched off, it declines.
peer_initiates large-fpdus 65000 "" rev=2 large=1 frag=1000
peer_initiates large-fpdus-crc-rev1 65000 "" rev=1 crc=1 large=1 frag=8000
peer_initiates large-fpdus-declined 65000 "large_fpdu=0" rev=2 large=1 expect_large=0

# siw initiates (rping's client); the peer answers.
peer_answers rev2 65000 "" frag=1000
peer_answers rev1 20000 "mpa_rev=1" expect_rev=1 frag=3000
peer_answers crc-always 65000 "" crc=1 expect_crc=0 frag=8000
peer_answers crc-on 20000 "mpa_crc=on" expect_crc=1
for rtr in write read send; do
	peer_answers "p2p-$rtr" 20000 "peer_to_peer=1 mpa_rtr=$rtr" expect_rtr=$rtr crc=1 expect_crc=0
done
# siw offers large FPDUs (every case above was offered them and did not
# consent); consented to, its Read Response of 64 KB must use them.
peer_answers large-fpdus 65000 "" large=1
peer_answers large-fpdus-p2p 65000 "peer_to_peer=1 mpa_rtr=write" large=1 expect_rtr=write crc=1 expect_crc=0
peer_answers large-fpdus-off 65000 "large_fpdu=0" large=1 expect_large=0

[ $(($(hw_counter siwa rx_fpdus) - fpdus0)) -ge 100 ] ||
	fail "siwa received only $(($(hw_counter siwa rx_fpdus) - fpdus0)) FPDUs"
settings
finish
exit 0
