#!/bin/bash
# What the RDMA tools report about a siw device: an iWARP RNIC on
# Ethernet whose GID carries the netdev's MAC, with sane limits.
. "$(dirname "$0")/../lib/guest.sh"

dev=siw_dummy0
mk_dummy dummy0 02:11:22:33:44:55
load_siw attach=dummy0
wait_for -t 5 have_dev $dev || fail "$dev did not appear (devices: $(siw_devs))"

# ipv6_hex ADDR: the 32 hex digits of an IPv6 address as inet_ntop prints
# it ("211:2233:4455::"), so it can be compared byte for byte.
ipv6_hex() {
	local a=$1 head tail g n hex=
	if [[ $a == *::* ]]; then
		head=${a%%::*} tail=${a#*::}
		n=0
		for g in ${head//:/ } ${tail//:/ }; do n=$((n + 1)); done
		a=$head
		for (( ; n < 8; n++ )); do a+=:0; done
		a+=:$tail
		a=${a#:} a=${a%:}
	fi
	for g in ${a//:/ }; do
		hex+=$(printf '%04x' "0x$g")
	done
	echo "$hex"
}

devices=$(ibv_devices)
grep -qw $dev <<< "$devices" || fail "ibv_devices does not list $dev:"$'\n'"$devices"

info=$(ibv_devinfo -v -d $dev) || fail "ibv_devinfo -v -d $dev failed"
echo "$info" | head -n 15
field() { awk -v f="$1:" '$1 == f { sub(/^[^:]*:[ \t]*/, ""); print; exit }' <<< "$info"; }

[[ $(field transport) == iWARP* ]] || fail "transport is '$(field transport)', not iWARP"
[[ $(field link_layer) == Ethernet ]] || fail "link_layer is '$(field link_layer)', not Ethernet"
[ -n "$(field fw_ver)" ] || fail "fw_ver is empty"
[ "$(field phys_port_cnt)" = 1 ] || fail "phys_port_cnt is '$(field phys_port_cnt)', not 1"
for f in max_qp max_qp_wr max_sge max_cq max_cqe max_mr max_pd; do
	v=$(field $f)
	[[ $v =~ ^[1-9][0-9]*$ ]] || fail "$f is '$v', not a positive number"
done
read -r node_type < /sys/class/infiniband/$dev/node_type
[ "$node_type" = "4: RNIC" ] || fail "sysfs node_type is '$node_type', not '4: RNIC'"

# iWARP has no GID table of its own: GID 0 is the MAC, zero-padded.  The
# sysfs file is what ibv_query_gid() reads.  ibv_devinfo -v lists the
# core's GID cache, which iWARP devices do not populate, so its GID lines
# are checked only when it prints any.
mac=$(cat /sys/class/net/dummy0/address)
mac=${mac//:/}
read -r sysgid < /sys/class/infiniband/$dev/ports/1/gids/0
g=${sysgid//:/}
[ "${g:0:12}" = "$mac" ] || fail "sysfs GID 0 is $sysgid, does not start with the MAC $mac"
gid=$(awk '$1 == "GID[" && $2 == "0]:" { sub(/,.*/, "", $3); print $3; exit }' <<< "$info")
if [ -n "$gid" ]; then
	g=$(ipv6_hex "$gid")
	[ "${g:0:12}" = "$mac" ] || fail "ibv_devinfo GID[0] is $gid, does not start with the MAC $mac"
fi

rdmadev=$(rdma dev show $dev) || fail "rdma dev show $dev failed"
grep -q "node_type rnic" <<< "$rdmadev" || fail "rdma dev show: $rdmadev"
res=$(rdma resource show)
grep -q "^[0-9]*: $dev: " <<< "$res" || fail "rdma resource show does not list $dev:"$'\n'"$res"

unload_siw
exit 0
