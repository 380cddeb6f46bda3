#!/bin/bash
# Two hosts on a real (virtio) Ethernet NIC: siw attached by attach=all
# picks the NIC up at load, its GID is the NIC's MAC, its port follows
# the link, and the hosts reach each other over the segment that later
# tests run RDMA traffic across. Runs on both hosts (tools/vm-pair).
. "$(dirname "$0")/../lib/guest.sh"

case ${SIW_VM_LINK:-} in
listen) me=192.0.2.1 peer=192.0.2.2 mac=52:54:00:00:00:01 ;;
connect) me=192.0.2.2 peer=192.0.2.1 mac=52:54:00:00:00:02 ;;
*) fail "not started by tools/vm-pair" ;;
esac

must modprobe virtio_net
wait_for -t 10 test -e /sys/class/net/eth0 || fail "no eth0"
must ip link set eth0 up
must ip addr add "$me/24" dev eth0
wait_for -t 30 busybox ping -c 1 -W 1 "$peer" || fail "peer $peer unreachable"

load_siw attach=all
wait_for -t 10 have_dev siw_eth0 || fail "attach=all did not attach eth0: $(siw_devs)"
# 52:54:00:00:00:01 -> 5254:0000:0001, the GID's first three groups
gid=$(cat /sys/class/infiniband/siw_eth0/ports/1/gids/0)
want=$(echo "$mac" | tr -d : | sed 's/..../&:/g; s/:$//')
[ "${gid:0:14}" = "$want" ] || fail "GID $gid does not start with MAC $mac"
[ "$(port_state siw_eth0)" = ACTIVE ] || fail "port not ACTIVE"
must ip link set eth0 down
wait_for -t 5 sh -c '[ "$(cat /sys/class/infiniband/siw_eth0/ports/1/state)" = "1: DOWN" ]' ||
	fail "port did not follow the link down"
must ip link set eth0 up
wait_for -t 5 port_active siw_eth0 ||
	fail "port did not come back ACTIVE"
unload_siw
exit 0
