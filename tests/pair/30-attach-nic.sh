#!/bin/bash
# Two hosts on a real (virtio) Ethernet NIC: siw attached by attach=all
# picks the NIC up at load, its GID is the NIC's MAC, its port follows
# the link, and the hosts reach each other over the segment that later
# tests run RDMA traffic across. The siw device sits under the NIC's own
# device in sysfs, as a hardware RNIC's does (DEV/device/net/eth0: how
# rdma-core's tests and other tools find the interface). Last, the NIC
# is hot-removed from the PCI bus under a siw device: the device goes,
# with a clean kernel log, and siw unloads. Runs on both hosts
# (tools/vm-pair).
. "$(dirname "$0")/../lib/traffic.sh"

pair_setup
mac=52:54:00:00:00:01
[ "$SIDE" = listen ] || mac=52:54:00:00:00:02

load_siw attach=all
wait_for -t 10 have_dev siw_eth0 || fail "attach=all did not attach eth0: $(siw_devs)"
# 52:54:00:00:00:01 -> 5254:0000:0001, the GID's first three groups
gid=$(cat /sys/class/infiniband/siw_eth0/ports/1/gids/0)
want=$(echo "$mac" | tr -d : | sed 's/..../&:/g; s/:$//')
[ "${gid:0:14}" = "$want" ] || fail "GID $gid does not start with MAC $mac"
[ "$(port_state siw_eth0)" = ACTIVE ] || fail "port not ACTIVE"
[ -e /sys/class/infiniband/siw_eth0/device/net/eth0 ] ||
	fail "no siw_eth0/device/net/eth0: device is $(readlink -f /sys/class/infiniband/siw_eth0/device)"
must ip link set eth0 down
wait_for -t 5 sh -c '[ "$(cat /sys/class/infiniband/siw_eth0/ports/1/state)" = "1: DOWN" ]' ||
	fail "port did not follow the link down"
must ip link set eth0 up
wait_for -t 5 port_active siw_eth0 ||
	fail "port did not come back ACTIVE"

# The NIC's PCI function removed while siw is attached: the netdev and
# its parents go, and the siw device with them, before its parent's
# sysfs directory disappears under it.
pci=$(readlink -f /sys/class/net/eth0/device/..)
[ -e "$pci/remove" ] || fail "eth0 has no PCI function to remove ($pci)"
# The connect side goes first, once the listen side knows it is past its
# link flap above and has said it is done with the link; the listen side
# then sees the peer vanish and follows.
if [ "$SIDE" = listen ]; then
	await flapped
	signal link-done
	wait_for -t 120 sh -c "! busybox ping -c 1 -W 1 $PEER > /dev/null" ||
		fail "the peer did not remove its NIC"
else
	signal flapped
	await link-done
fi
echo "\$ echo 1 > $pci/remove"
echo 1 > "$pci/remove" || fail "removing $pci failed"
wait_for -t 30 no_dev siw_eth0 || fail "siw_eth0 stayed after its NIC was removed"
[ ! -e /sys/class/net/eth0 ] || fail "eth0 still there after its PCI function was removed"
unload_siw
exit 0
