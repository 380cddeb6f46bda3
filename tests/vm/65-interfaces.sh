#!/bin/bash
# vm-timeout: 420
# providers: stock userlib
# The interfaces people attach siw to besides a plain Ethernet port: a
# VLAN, a macvlan, and an active-backup bond that fails over in the
# middle of a transfer. Each lives in namespace ifa and reaches ifb over
# veth pairs; a siw device sits on the upper interface on each side
# (a bridge over two veth ends on ifb's side of the bond), and verified
# siw_traffic runs across, READs included. The failover takes the
# bond's active port down while traffic runs: TCP rides it out (the
# bond keeps its address and MAC), so the transfer must end verified,
# with the device's FPDU counters showing it went over siw.
. "$(dirname "$0")/../lib/traffic.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"

load_siw
mk_netns ifa
mk_netns ifb

# xfer NAME ADDR [CLIENT ARGS...]: verified siw_traffic, the server in
# ifa on ADDR, the client in ifb.
xfer() {
	local name=$1 addr=$2
	shift 2
	SERVER_NS=ifa run_pair "$name" 150 \
		ip netns exec ifa "$tr" -s -b "$addr" -p @PORT@ -t 140 \
		-- \
		ip netns exec ifb "$tr" -c "$addr" -p @PORT@ -t 130 \
		"${SIW_TRAFFIC_INV[@]}" "$@"
	grep -q '^client: all QPs verified' "$CLI_LOG" ||
		log_fail "$CLI_LOG" "$name: the client did not verify its QPs"
}

# dev_pair NAME-A NETDEV-A NAME-B NETDEV-B: siw devices on both sides.
dev_pair() {
	netns_siw_dev ifa "$1" "$2"
	netns_siw_dev ifb "$3" "$4"
}
dev_pair_delete() {
	must rdma link delete "$1"
	must rdma link delete "$2"
}

must ip link add veth_a netns ifa type veth peer name veth_b netns ifb
must ip -n ifa link set veth_a up
must ip -n ifb link set veth_b up

# 1. VLAN 100 on both ends.
must ip -n ifa link add link veth_a name vlan_a type vlan id 100
must ip -n ifb link add link veth_b name vlan_b type vlan id 100
must ip -n ifa addr add 10.82.1.1/24 dev vlan_a
must ip -n ifb addr add 10.82.1.2/24 dev vlan_b
must ip -n ifa link set vlan_a up
must ip -n ifb link set vlan_b up
dev_pair siwva vlan_a siwvb vlan_b
xfer vlan 10.82.1.1 -q 2 -n 200 -m 256k
[ "$(hw_counter siwva rx_fpdus)" -ge 100 ] || fail "siwva received $(hw_counter siwva rx_fpdus) FPDUs"
dev_pair_delete siwva siwvb

# 2. macvlan on ifa's side, the plain veth on ifb's.
must ip -n ifa link add link veth_a name mvl_a type macvlan mode bridge
must ip -n ifa addr add 10.82.2.1/24 dev mvl_a
must ip -n ifb addr add 10.82.2.2/24 dev veth_b
must ip -n ifa link set mvl_a up
dev_pair siwma mvl_a siwmb veth_b
xfer macvlan 10.82.2.1 -q 2 -n 200 -m 256k
[ "$(hw_counter siwma rx_fpdus)" -ge 100 ] || fail "siwma received $(hw_counter siwma rx_fpdus) FPDUs"
dev_pair_delete siwma siwmb

# 3. An active-backup bond over two veth pairs, a bridge on the far side.
must ip link add bnd1_a netns ifa type veth peer name bnd1_b netns ifb
must ip link add bnd2_a netns ifa type veth peer name bnd2_b netns ifb
must ip -n ifa link add bond0 type bond mode active-backup miimon 50
for p in bnd1_a bnd2_a; do
	must ip -n ifa link set "$p" master bond0
done
must ip -n ifb link add br0 type bridge
for p in bnd1_b bnd2_b; do
	must ip -n ifb link set "$p" master br0
	must ip -n ifb link set "$p" up
done
must ip -n ifa addr add 10.82.3.1/24 dev bond0
must ip -n ifb addr add 10.82.3.2/24 dev br0
must ip -n ifa link set bond0 up
must ip -n ifb link set br0 up
active() { ip netns exec ifa cat /sys/class/net/bond0/bonding/active_slave; }
has_active() { [ -n "$(active)" ]; }
wait_for -t 10 has_active || fail "bond0 has no active port"
dev_pair siwba bond0 siwbb br0
xfer bond 10.82.3.1 -q 2 -n 200 -m 256k

# The failover: the active port goes down 2 s into a longer transfer.
first=$(active)
failover() {
	( sleep 2
	  ip -n ifa link set "$first" down
	  echo "failover: $first down, active now $(active)" ) > "$LOGS/failover.log" 2>&1 &
}
BEFORE_CLIENT=failover xfer bond-failover 10.82.3.1 -q 4 -n 2000 -m 256k
# Written 2 s after the client started: there before the transfer ended.
[ -s "$LOGS/failover.log" ] && [ "$RUN_SECS" -ge 3 ] ||
	fail "the transfer ended before the failover (${RUN_SECS} s)"
cat "$LOGS/failover.log"
now=$(active)
[ -n "$now" ] && [ "$now" != "$first" ] ||
	fail "bond0 did not fail over from $first (active: '$now')"
note "bond0 failed over from $first to $now in mid-transfer; traffic verified"
dev_pair_delete siwba siwbb

finish
exit 0
