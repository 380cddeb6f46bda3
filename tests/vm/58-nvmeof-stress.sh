#!/bin/bash
# vm-timeout: 900
# NVMe over Fabrics through siw under stress (46-nvmeof is the plain
# run): target (nvmet-rdma, a RAM disk) and host (nvme-rdma) on one siw
# device.
#   1. 20 connect/disconnect cycles (100 in make check-long, or
#      SIW_NVME_CYCLES), each controller deleted while fio
#      still has I/O in flight on it; every tenth cycle instead runs a
#      fio pass whose every block is checked.
#   2. The target's port removed under verified I/O, and restored 3 s
#      later: the host reconnects (reconnect_delay=1) and the I/O it held
#      meanwhile completes; every block must read back right.
#   3. The link under the siw device down for 2 s under verified I/O
#      (the in-tree siw once panicked here): the I/O completes, verified.
# After each, no controller, QP or CM id is left behind; at the end the
# NVMe modules and siw unload and the kernel log is clean.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/storage.sh"

CYCLES=20
[ "${SIW_TEST_LONG:-0}" = 1 ] && CYCLES=100
CYCLES=${SIW_NVME_CYCLES:-$CYCLES}

load_siw
dummy_dev
for m in nvmet nvmet-rdma nvme-rdma; do
	must modprobe $m
done
at_exit "modprobe -r nvme-rdma nvmet-rdma nvmet"
cfg=/sys/kernel/config/nvmet
[ -d $cfg ] || must mount -t configfs none /sys/kernel/config

nqn=nqn.2026-12.org.example.siw:stress
must modprobe brd rd_nr=1 rd_size=65536
at_exit "modprobe -r brd"
sub=$cfg/subsystems/$nqn
must mkdir "$sub"
at_exit "rmdir $sub"
echo 1 > "$sub/attr_allow_any_host" || fail "cannot allow any host"
must mkdir "$sub/namespaces/1"
at_exit "rmdir $sub/namespaces/1"
echo -n /dev/ram0 > "$sub/namespaces/1/device_path" || fail "cannot set the namespace's device"
echo 1 > "$sub/namespaces/1/enable" || fail "cannot enable the namespace"
at_exit "echo 0 > $sub/namespaces/1/enable"

port=$cfg/ports/1
port_add() {
	must mkdir $port
	echo rdma > $port/addr_trtype
	echo ipv4 > $port/addr_adrfam
	echo "$TEST_IP4" > $port/addr_traddr
	echo 4420 > $port/addr_trsvcid
	must ln -s "$sub" "$port/subsystems/$nqn"
}
port_remove() {
	must rm "$port/subsystems/$nqn"
	must rmdir $port
}
port_add
at_exit "rm -f $port/subsystems/$nqn; rmdir $port"

ctrl_of_nqn() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$nqn" ] && { basename "$c"; return 0; }
	done
	return 1
}
have_ctrl() { ctrl_of_nqn > /dev/null; }
no_ctrl() { ! have_ctrl; }
ctrl_live() { [ "$(cat "/sys/class/nvme/$CTRL/state" 2>/dev/null)" = live ]; }
ctrl_down() { ! ctrl_live; }
have_disk() {
	ls "/sys/class/nvme/$CTRL/" 2>/dev/null | grep -q '^nvme[0-9]*c*[0-9]*n1$'
}

# connect [quiet]: a controller for the subsystem; sets CTRL and DISK.
connect() {
	local opts="transport=rdma,traddr=$TEST_IP4,trsvcid=4420,nqn=$nqn"
	opts+=",ctrl_loss_tmo=60,reconnect_delay=1"
	[ -n "${1:-}" ] || echo "\$ echo $opts > /dev/nvme-fabrics"
	echo "$opts" > /dev/nvme-fabrics ||
		fail "connecting failed: $(dmesg | grep -i nvme | tail -n 5)"
	wait_for -t 30 have_ctrl || fail "no controller for $nqn after connecting"
	CTRL=$(ctrl_of_nqn)
	wait_for -t 30 have_disk || fail "$CTRL has no namespace"
	DISK=/dev/$(ls "/sys/class/nvme/$CTRL/" | grep '^nvme[0-9]*c*[0-9]*n1$' | head -n 1)
	DISK=${DISK/c[0-9]*n/n}
	wait_for -t 30 test -b "$DISK" || fail "$DISK did not appear"
}
disconnect() {
	echo 1 > "/sys/class/nvme/$CTRL/delete_controller" || fail "cannot delete $CTRL"
	wait_for -t 60 no_ctrl || fail "$CTRL still exists 60 s after delete_controller"
}
# The target and the host keep a PD per device while they use it; no QP
# may outlive its controller.
nothing_left() {
	wait_for -t 30 _no_siw_qps "$TEST_DEV" ||
		fail "QPs left after $1:"$'\n'"$(rdma resource show qp)"
}

# --- 1. connect, I/O, disconnect under it ---------------------------------
t0=$SECONDS
checked=0
for (( i = 1; i <= CYCLES; i++ )); do
	connect quiet
	if (( i % 10 == 0 )); then
		fio_run "cycle$i" both "$DISK" 8m --direct=1 > /dev/null
		checked=$((checked + 1))
	else
		fio --name=busy --filename="$DISK" --rw=randrw --bsrange=4k-256k \
			--direct=1 --ioengine=libaio --iodepth=8 --time_based --runtime=30 \
			> "$LOGS/busy.log" 2>&1 &
		busy=$!
		sleep 0.$((RANDOM % 8 + 2))
	fi
	disconnect
	if (( i % 10 != 0 )); then
		# fio ends with I/O errors: its device went away under it.
		wait_for -t 30 sh -c "! kill -0 $busy 2>/dev/null" ||
			fail "cycle $i: fio still runs 30 s after its controller went"
		wait $busy
	fi
done
note "$CYCLES connect/disconnect cycles in $((SECONDS - t0)) s, $((CYCLES - checked)) of them under I/O, $checked with verified I/O"
nothing_left "the cycles"

# --- 2. the target's port removed under I/O -------------------------------
connect
fio_run port-gone write "$DISK" 32m --direct=1 --offset=0
fio --name=port-gone --filename="$DISK" --size=32m --offset=0 --rw=randwrite \
	--bsrange=4k-1m --ioengine=psync --direct=1 --verify=crc32c --verify_fatal=1 \
	--randrepeat=1 --loops=4 --output-format=terse --terse-version=3 \
	> "$LOGS/fio-port-gone-loop.log" 2>&1 &
io=$!
sleep 2
echo "\$ rm port; sleep 3; restore it"
port_remove
wait_for -t 30 ctrl_down || fail "$CTRL stayed live with its port gone"
note "$CTRL lost its port: $(cat "/sys/class/nvme/$CTRL/state")"
sleep 3
port_add
wait_for -t 60 ctrl_live || fail "$CTRL did not reconnect within 60 s of the port's return"
wait $io || log_fail "$LOGS/fio-port-gone-loop.log" "fio failed across the port's removal"
fio_run port-gone verify "$DISK" 32m --direct=1 --offset=0
note "the port went for 3 s under I/O: $CTRL reconnected, every block verified"
disconnect
nothing_left "the port removal"

# --- 3. the link down for 2 s under I/O -----------------------------------
connect
fio --name=flap --filename="$DISK" --size=32m --offset=0 --rw=randwrite \
	--bsrange=4k-1m --ioengine=psync --direct=1 --verify=crc32c --verify_fatal=1 \
	--randrepeat=1 --loops=4 > "$LOGS/fio-flap.log" 2>&1 &
io=$!
sleep 2
echo "\$ ip link set dummy0 down; sleep 2; ip link set dummy0 up"
must ip link set dummy0 down
sleep 2
must ip link set dummy0 up
wait_for -t 30 port_active "$TEST_DEV" || fail "$TEST_DEV did not come back ACTIVE"
wait $io || log_fail "$LOGS/fio-flap.log" "fio failed across the link flap"
wait_for -t 60 ctrl_live || fail "$CTRL is not live after the link flap"
fio_run flap-after both "$DISK" 8m --direct=1 --offset=40m
note "the link went down for 2 s under I/O: the I/O completed, verified"
disconnect
nothing_left "the link flap"

port_remove
echo 0 > "$sub/namespaces/1/enable"
must rmdir "$sub/namespaces/1" "$sub"
must modprobe -r nvme-rdma nvmet-rdma nvmet
finish
exit 0
