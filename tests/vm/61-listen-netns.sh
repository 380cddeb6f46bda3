#!/bin/bash
# vm-timeout: 240
# debug-lane: wildcard listens, across namespaces and under RCU
# Wildcard listens (rdma_listen() on 0.0.0.0 or ::, as ucmatose without
# -b, nvmet on 0.0.0.0, nfsd's and ksmbd's RDMA listeners do) with siw
# devices in two network namespaces: rdma_cm asks every device to listen,
# the one whose interface lives in the other namespace too, and that
# must not fail the listen. Namespaces lna and lnb, joined by a veth
# pair, a siw device on each end; ucmatose servers listen on the
# wildcard in one namespace and are reached from the other: IPv4, IPv6,
# an IPv6 link-local address, an address added after the listen, and
# the last of twenty addresses on the interface. The devices' counters
# prove the traffic went over siw.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
veth_netns lna 10.79.0.1 lnb 10.79.0.2
must ip -n lna -6 addr add fd79::1/64 dev veth_a nodad
must ip -n lnb -6 addr add fd79::2/64 dev veth_b nodad
netns_siw_dev lna siwa veth_a
netns_siw_dev lnb siwb veth_b

# link_local NS DEV: DEV's IPv6 link-local address once it is usable.
link_local() {
	ip -n "$1" -6 -o addr show dev "$2" scope link |
		awk '!/tentative/ { sub(/\/.*/, "", $4); print $4; exit }'
}
lla_ready() { [ -n "$(link_local lna veth_a)" ]; }
wait_for -t 30 lla_ready || fail "veth_a has no usable link-local address"
lla=$(link_local lna veth_a)

fpdus() { echo $(($(hw_counter siwa tx_fpdus) + $(hw_counter siwb tx_fpdus))); }

# wildcard_run SRV-NS BIND CLI-NS ADDR: a ucmatose server on the wildcard
# BIND in SRV-NS, its client in CLI-NS connecting to ADDR; 4 connections,
# 10 messages each way.
wildcard_run() {
	local sns=$1 bind=$2 cns=$3 addr=$4 name before
	name=wildcard-$sns-$addr
	before=$(fpdus)
	SERVER_NS=$sns run_pair "$name" 60 \
		ip netns exec "$sns" ucmatose -b "$bind" -p @PORT@ -c 4 -C 10 -S 100 \
		-- \
		ip netns exec "$cns" ucmatose -s "$addr" -p @PORT@ -c 4 -C 10 -S 100
	grep -q 'test complete' "$SRV_LOG" || log_fail "$SRV_LOG" "$name: the server did not complete"
	grep -q 'test complete' "$CLI_LOG" || log_fail "$CLI_LOG" "$name: the client did not complete"
	[ $(($(fpdus) - before)) -ge 80 ] ||
		fail "$name: the siw devices sent $(($(fpdus) - before)) FPDUs for 80 messages"
}

# Each case in a subshell, so that one failing does not hide the others.
failed=
case_run() {
	( wildcard_run "$@" ) || failed="$failed $2@$1->$4"
	# The subshell's ports (run_pair tries up to three) stay used.
	_next_port=$((_next_port + 3))
}

case_run lna 0.0.0.0 lnb 10.79.0.1
case_run lnb 0.0.0.0 lna 10.79.0.2
case_run lna :: lnb fd79::1
case_run lna :: lnb "$lla%veth_b"

# An address that comes after the listen started: the socket for it
# belongs in the listener's namespace too.
later_addr() {
	must ip -n lna addr add 10.79.2.1/32 dev veth_a
	wait_for -t 10 later_listening ||
		fail "no listener on 10.79.2.1:$PORT in lna"
}
later_listening() {
	[ -n "$(ip netns exec lna ss -Hltn "src 10.79.2.1:$PORT")" ]
}
must ip -n lnb route add 10.79.2.0/24 dev veth_b
BEFORE_CLIENT=later_addr case_run lna 0.0.0.0 lnb 10.79.2.1

# More addresses than one look at the interface used to take in.
for i in $(seq 1 20); do
	must ip -n lna addr add "10.79.1.$i/32" dev veth_a
done
must ip -n lnb route add 10.79.1.0/24 dev veth_b
case_run lna 0.0.0.0 lnb 10.79.1.20

[ -z "$failed" ] || fail "wildcard listens that failed:$failed"
finish
exit 0
