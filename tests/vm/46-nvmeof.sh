#!/bin/bash
# vm-timeout: 240
# A kernel consumer end to end: NVMe over Fabrics on RDMA through siw, the
# target (nvmet-rdma, a RAM disk namespace) and the host (nvme-rdma) on
# one siw device, over IPv4 and then IPv6. Both sides are kernel QPs:
# the host registers its buffers with fast registration (IB_WR_REG_MR)
# and invalidates them locally or has the target do it (SEND with
# Invalidate); the target moves the data with RDMA READ and WRITE. Data
# written with O_DIRECT in several block sizes must read back unchanged,
# through a fresh connection too. No nvme-cli needed: configfs and
# /dev/nvme-fabrics are the interfaces. SIW_TEST_INTREE=1 runs it on the
# in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev
for m in nvmet nvmet-rdma nvme-rdma; do
	must modprobe $m
done
at_exit "modprobe -r nvme-rdma nvmet-rdma nvmet"
cfg=/sys/kernel/config/nvmet
[ -d $cfg ] || must mount -t configfs none /sys/kernel/config

nqn=nqn.2026-11.org.example.siw:test
# A 64 MiB RAM disk (brd) backs the namespace.
must modprobe brd rd_nr=1 rd_size=65536
at_exit "modprobe -r brd"
img=/dev/ram0
sub=$cfg/subsystems/$nqn
must mkdir "$sub"
at_exit "rmdir $sub"
echo 1 > "$sub/attr_allow_any_host" || fail "cannot allow any host"
must mkdir "$sub/namespaces/1"
at_exit "rmdir $sub/namespaces/1"
echo -n "$img" > "$sub/namespaces/1/device_path" || fail "cannot set the namespace's file"
echo 1 > "$sub/namespaces/1/enable" || fail "cannot enable the namespace"
at_exit "echo 0 > $sub/namespaces/1/enable"

# The controller the host made for our subsystem, once it exists.
ctrl_of_nqn() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$nqn" ] && { basename "$c"; return 0; }
	done
	return 1
}
have_ctrl() { ctrl_of_nqn > /dev/null; }
no_ctrl() { ! have_ctrl; }

# connect FAMILY ADDR: a host connection to the target; sets CTRL and DISK.
connect() {
	echo "\$ echo transport=rdma,traddr=$2,trsvcid=4420,nqn=$nqn > /dev/nvme-fabrics"
	echo "transport=rdma,traddr=$2,trsvcid=4420,nqn=$nqn" > /dev/nvme-fabrics ||
		fail "connecting to $2 failed: $(dmesg | grep -i nvme | tail -n 5)"
	wait_for -t 30 have_ctrl || fail "no controller for $nqn after connecting to $2"
	CTRL=$(ctrl_of_nqn)
	wait_for -t 30 sh -c "ls /sys/class/nvme/$CTRL/ | grep -q '^nvme[0-9]*c*[0-9]*n1$'" ||
		fail "$CTRL has no namespace"
	DISK=/dev/$(ls "/sys/class/nvme/$CTRL/" | grep '^nvme[0-9]*c*[0-9]*n1$' | head -n 1)
	DISK=${DISK/c[0-9]*n/n}
	wait_for -t 30 test -b "$DISK" || fail "$DISK did not appear"
	grep -q rdma "/sys/class/nvme/$CTRL/transport" || fail "$CTRL is not on rdma"
	note "$CTRL on $2: $DISK"
}

disconnect() {
	echo 1 > "/sys/class/nvme/$CTRL/delete_controller" || fail "cannot delete $CTRL"
	wait_for -t 30 no_ctrl || fail "$CTRL still exists after delete_controller"
}

for fam in ipv4 ipv6; do
	addr=$TEST_IP4
	[ $fam = ipv6 ] && addr=$TEST_IP6
	port=$cfg/ports/1
	must mkdir $port
	echo rdma > $port/addr_trtype
	echo $fam > $port/addr_adrfam
	echo "$addr" > $port/addr_traddr
	echo 4420 > $port/addr_trsvcid
	must ln -s "$sub" "$port/subsystems/$nqn"

	connect $fam "$addr"
	# Block sizes from one page to well past the host's inline data and
	# its MR page list, each over the whole 16 MiB.
	for bs in 4096 65536 1048576; do
		# Fresh data for each size, so a stale block cannot pass.
		must dd if=/dev/urandom of="$LOGS/pattern" bs=1M count=16 status=none
		must dd if="$LOGS/pattern" of="$DISK" bs=$bs oflag=direct status=none
		must dd if="$DISK" of="$LOGS/back" bs=$bs count=$((16 * 1048576 / bs)) \
			iflag=direct status=none
		cmp "$LOGS/pattern" "$LOGS/back" || fail "$fam, bs=$bs: data read back differs"
	done
	disconnect
	# Written through the previous connection, read through a new one.
	connect $fam "$addr"
	must dd if="$DISK" of="$LOGS/back" bs=1M count=16 iflag=direct status=none
	cmp "$LOGS/pattern" "$LOGS/back" || fail "$fam: data differs through a new connection"
	disconnect

	must rm "$port/subsystems/$nqn"
	must rmdir $port
	note "$fam: written and read back in 4 KiB, 64 KiB and 1 MiB blocks, and again through a new connection"
done

echo 0 > "$sub/namespaces/1/enable"
must rmdir "$sub/namespaces/1" "$sub"
finish
exit 0
