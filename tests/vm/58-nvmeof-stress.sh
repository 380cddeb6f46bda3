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
. "$SIW_TOP/tests/lib/nvmeof.sh"

CYCLES=20
[ "${SIW_TEST_LONG:-0}" = 1 ] && CYCLES=100
CYCLES=${SIW_NVME_CYCLES:-$CYCLES}

load_siw
dummy_dev
nvmet_subsystem nqn.2026-12.org.example.siw:stress
nvmet_port_add ipv4 "$TEST_IP4"
at_exit "rm -f $NVMET_PORT/subsystems/$NQN; rmdir $NVMET_PORT"

ctrl_live() { [ "$(cat "/sys/class/nvme/$CTRL/state" 2>/dev/null)" = live ]; }
ctrl_down() { ! ctrl_live; }

# connect [quiet]: a controller that, losing its target, tries again
# every second for up to a minute.
connect() {
	nvme_connect "$TEST_IP4" ctrl_loss_tmo=60,reconnect_delay=1 "${1:-}"
}
disconnect() {
	nvme_disconnect 60
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
nvmet_port_remove
wait_for -t 30 ctrl_down || fail "$CTRL stayed live with its port gone"
note "$CTRL lost its port: $(cat "/sys/class/nvme/$CTRL/state")"
sleep 3
nvmet_port_add ipv4 "$TEST_IP4"
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

nvmet_port_remove
nvmet_subsystem_remove
must modprobe -r nvme-rdma nvmet-rdma nvmet
finish
exit 0
