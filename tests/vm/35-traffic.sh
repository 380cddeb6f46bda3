#!/bin/bash
# vm-timeout: 300
# providers: stock userlib
# Verified RDMA traffic through siw (tests/traffic/siw_traffic): RDMA
# WRITE, READ, SEND and SEND_WITH_INV of random sizes and scatter lists,
# every byte checked, several QPs at once, over IPv4 and IPv6:
#   1. both ends on one siw device (a dummy netdev with both addresses),
#      including a run of small messages only;
#   2. two network namespaces joined by a veth pair, a siw device in each,
#      with MPA CRC off and on (mpa_crc_enabled at load time) and zero-copy
#      transmit off, on and always (zcopy_tx 0, 1, 2, changed at run
#      time), checked against the device's zero-copy counters; with CRC
#      on, the code computing it (mpa_crc_impl) flips between the crc32c
#      library's and the crypto API's all along, so a wrong CRC from
#      either fails the receiver's check, mid-FPDU included; with zero
#      copy the client overwrites every source buffer as soon as its work
#      request completes (--reuse), so a transmit from a buffer that was
#      already completed shows as corrupt data at the receiver.
# The run with rdma-core's siw provider leaves SEND_WITH_INV out, as that
# provider cannot show a remote invalidation (it clears wc_flags); the
# run with userlib, which reports IBV_WC_WITH_INV and the invalidated
# rkey, includes it.
# SIW_TRAFFIC_OPS (default 100) sets the operations per QP.
. "$(dirname "$0")/../lib/guest.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"
ops=${SIW_TRAFFIC_OPS:-100}
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
port=19900

# in_ns NS CMD...: CMD in network namespace NS, or here if NS is "-".
in_ns() {
	local ns=$1
	shift
	if [ "$ns" = - ]; then
		"$@"
	else
		ip netns exec "$ns" "$@"
	fi
}

listening() { grep -q '^server: listening' "$tmp/server.out"; }

# traffic SERVER_NS CLIENT_NS ADDR [CLIENT ARGS...]: a server in
# SERVER_NS bound to ADDR and a client in CLIENT_NS connecting to it; both
# must exit 0 with everything verified.
traffic() {
	local sns=$1 cns=$2 addr=$3 spid crc src
	local run=("$tr")
	shift 3
	port=$((port + 1))
	: > "$tmp/server.out"
	echo "\$ siw_traffic -s -b $addr -p $port (namespace $sns, $SIW_PROVIDER provider)"
	bg in_ns "$sns" "${run[@]}" -s -b "$addr" -p "$port" -t 200 > "$tmp/server.out" 2>&1
	spid=$BG_PID
	wait_for -t 30 listening ||
		fail "the server did not listen on $addr:"$'\n'"$(cat "$tmp/server.out")"
	echo "\$ siw_traffic -c $addr -p $port $* (namespace $cns, $SIW_PROVIDER provider)"
	in_ns "$cns" "${run[@]}" -c "$addr" -p "$port" -t 180 "$@" > "$tmp/client.out" 2>&1
	crc=$?
	cat "$tmp/client.out"
	wait "$spid"
	src=$?
	sed 's/^/  /' "$tmp/server.out"
	[ $crc = 0 ] || fail "client to $addr exited with $crc"
	[ $src = 0 ] || fail "server on $addr exited with $src"
	grep -q '^client: all QPs verified' "$tmp/client.out" ||
		fail "the client did not report all QPs verified"
}

# flip_crc_impl LOG: switches mpa_crc_impl between its two codes until
# killed, a line in LOG per switch.
flip_crc_impl() {
	local impl
	while :; do
		for impl in lib crypto; do
			set_crc_impl $impl
			echo $impl >> "$1"
			sleep 0.05
		done
	done
}

# zc_stat NAME: counter NAME of siwa and siwb together.
zc_stat() {
	echo $(($(hw_counter siwa "$1") + $(hw_counter siwb "$1")))
}

# check_zc_stats MODE WRS COPIED: what the zero-copy counters must show
# after the runs with zcopy_tx=MODE.  Over veth the kernel copies every
# zero-copy page on delivery, and the QPs must notice (COPIED): with 2
# they still send every large message zero-copy, with 1 they go back to
# copying after the first (the 3 runs of each mode send several hundred
# messages of 16 KiB and more).
check_zc_stats() {
	case $1 in
	0) [ "$2" = 0 ] || fail "zcopy_tx=0, yet $2 work requests went zero-copy" ;;
	1) [ "$3" -ge 1 ] || fail "zcopy_tx=1: no QP saw its zero-copy data copied"
	   [ "$2" -le $((2 * $3)) ] ||
		fail "zcopy_tx=1: $2 work requests went zero-copy on $3 QPs that had theirs copied" ;;
	2) [ "$3" -ge 1 ] || fail "zcopy_tx=2: no QP saw its zero-copy data copied"
	   [ "$2" -ge 100 ] || fail "zcopy_tx=2: only $2 work requests went zero-copy" ;;
	esac
}

# --- 1. both ends on one device ------------------------------------------
mk_dummy dummy0
must ip addr add 192.0.2.1/24 dev dummy0
must ip -6 addr add fd00::1/64 dev dummy0 nodad
load_siw
must rdma link add siwd0 type siw netdev dummy0
wait_for port_active siwd0 || fail "siwd0 port is $(port_state siwd0), not ACTIVE"
traffic - - 192.0.2.1 -q 4 -n "$ops" -r 1 "${SIW_TRAFFIC_INV[@]}"
traffic - - fd00::1 -q 4 -n "$ops" -r 2 -m 64k "${SIW_TRAFFIC_INV[@]}"
# Many messages of at most 32 bytes, half of them from a source crossing a
# page, with a deep window so that the TX thread, not the posting call,
# sends most: the in-tree siw's small-message shortcut gets these wrong.
traffic - - 192.0.2.1 -q 2 -n 1500 -w 16 -m 32 -r 3 "${SIW_TRAFFIC_INV[@]}"
# The device's traffic counters (what shows that a workload ran over siw):
# with both ends on this device, every FPDU sent was received, and the
# two directions agree to the byte. The runs above had some 4000
# operations, most of them one FPDU or more.
txf=$(hw_counter siwd0 tx_fpdus) rxf=$(hw_counter siwd0 rx_fpdus)
txb=$(hw_counter siwd0 tx_bytes) rxb=$(hw_counter siwd0 rx_bytes)
note "siwd0 counted $txf FPDUs and $txb bytes each way"
[ "$txf" -ge 3000 ] || fail "tx_fpdus is $txf after some 4000 operations"
[ "$txf" = "$rxf" ] && [ "$txb" = "$rxb" ] ||
	fail "sent $txf FPDUs ($txb bytes), received $rxf ($rxb bytes) on one device"
must rdma link delete siwd0
unload_siw
must ip link del dummy0

# --- 2. two namespaces, a veth pair ------------------------------------------
veth_netns tra 10.77.0.1 trb 10.77.0.2
must ip -n tra -6 addr add fd77::1/64 dev veth_a nodad
must ip -n trb -6 addr add fd77::2/64 dev veth_b nodad

seed=10
for crc in 0 1; do
	load_siw mpa_crc_enabled=$crc
	must ip netns exec tra rdma link add siwa type siw netdev veth_a
	must ip netns exec trb rdma link add siwb type siw netdev veth_b
	wait_for port_active siwa || fail "siwa port is $(port_state siwa), not ACTIVE"
	wait_for port_active siwb || fail "siwb port is $(port_state siwb), not ACTIVE"
	if [ $crc = 1 ]; then
		bg flip_crc_impl "$tmp/flips"
		flipper=$BG_PID
	fi
	for zcopy in 0 1 2; do
		for dev in siwa siwb; do
			echo "$zcopy" > /sys/class/infiniband/$dev/zcopy_tx ||
				fail "cannot set $dev's zcopy_tx=$zcopy at run time"
		done
		note "siwa: mpa_crc $(cat /sys/class/infiniband/siwa/mpa_crc) zcopy_tx $(cat /sys/class/infiniband/siwa/zcopy_tx)"
		[ "$(cat /sys/class/infiniband/siwb/mpa_crc)" = "$([ $crc = 1 ] && echo on || echo off)" ] ||
			fail "siwb did not take mpa_crc_enabled=$crc as its default"
		reuse=()
		[ $zcopy = 0 ] || reuse=(--reuse)
		wrs0=$(zc_stat tx_zcopy_wrs)
		copied0=$(zc_stat tx_zcopy_copied_qps)
		seed=$((seed + 1))
		traffic trb tra 10.77.0.2 -q 4 -n "$ops" -r $seed "${SIW_TRAFFIC_INV[@]}" "${reuse[@]}"
		seed=$((seed + 1))
		traffic tra trb fd77::1 -q 4 -n "$ops" -r $seed -m 256k "${SIW_TRAFFIC_INV[@]}" "${reuse[@]}"
		wrs=$(($(zc_stat tx_zcopy_wrs) - wrs0))
		copied=$(($(zc_stat tx_zcopy_copied_qps) - copied0))
		note "zcopy_tx=$zcopy: $wrs work requests sent zero-copy, $copied QPs had theirs copied"
		check_zc_stats $zcopy $wrs $copied
	done
	if [ $crc = 1 ]; then
		kill "$flipper"
		wait "$flipper" 2>/dev/null
		flips=$(wc -l < "$tmp/flips")
		note "mpa_crc_impl flipped $flips times during the CRC runs"
		[ "$flips" -ge 20 ] || fail "mpa_crc_impl flipped only $flips times"
	fi
	must ip netns exec tra rdma link delete siwa
	must ip netns exec trb rdma link delete siwb
	unload_siw
done
exit 0
