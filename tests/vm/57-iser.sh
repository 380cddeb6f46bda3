#!/bin/bash
# vm-timeout: 600
# providers: stock userlib
# iSER through siw, target and initiator on one siw device: tgt's
# user-space target (tgtd, a user verbs consumer through librdmacm and
# the provider under test) serving a 96 MiB file on tmpfs, and the
# kernel's initiator (open-iscsi, ib_iser: kernel QPs registering their
# buffers with fast registration; the target moves the data with RDMA
# READ and WRITE). tgtd listens for iSER on the wildcard addresses,
# IPv4 and IPv6.
# The first session logs in over IPv4: fio writes 4 KiB to 1 MiB blocks
# with a crc32c in each, 32 MiB with O_DIRECT (read back at once) and
# 32 MiB buffered (read back after the initiator's cache was dropped).
# A second session over IPv6 reads both regions back. Each session must
# report iser as its transport, and the device's byte counters must have
# carried the data, so that a session that fell back to iSCSI over TCP
# cannot pass.
# The kernel's own iSER target (LIO's ib_isert) cannot run on a software
# iWARP device: LIO always opens its TCP portal on the address and port
# of the iSER one, and an iWARP listener needs that TCP port itself
# (docs/testing.md). tgtd's iSCSI-over-TCP portal can be put elsewhere,
# leaving port 3260 to iSER.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/storage.sh"

IQN=iqn.2026-12.org.example.siw:iser
ISER_PORT=3260
FIO_SIZE=32m
FIO_BYTES=$((32 * 1024 * 1024))

load_under_test
dummy_dev
must modprobe ib_iser
must modprobe sd_mod
at_exit "modprobe -r ib_iser"

# --- the target ---------------------------------------------------------
backing=$LOGS/iser-backing
must truncate -s 96M "$backing"
# iSCSI over TCP on loopback port 3262, out of iSER's way (tgtd's own
# "--iser port=N" fails in Debian's tgt 1.0.85: it judges the number by
# a stale errno); the registered buffer pool at its smallest (the
# default is 1 GiB, pinned).
bg tgtd -f --iscsi portal=127.0.0.1:3262 --iser pool_sz_mb=128 > "$LOGS/tgtd.log" 2>&1
TGTD=$BG_PID
tgt() {
	echo "\$ tgtadm $*"
	tgtadm "$@" > "$LOGS/tgtadm.log" 2>&1 ||
		log_fail "$LOGS/tgtadm.log" "tgtadm $* failed"
}
tgtd_up() { tgtadm --lld iser --mode target --op show; }
wait_for -t 30 tgtd_up || log_fail "$LOGS/tgtd.log" "tgtd did not start"
tgt --lld iser --mode target --op new --tid 1 --targetname $IQN
# tgt 1.0.85's iSER login wants the initiator to pass both the address
# and the name list (its TCP login wants either).
iname=$(sed -n 's/^InitiatorName=//p' /etc/iscsi/initiatorname.iscsi)
[ -n "$iname" ] || fail "no InitiatorName in /etc/iscsi/initiatorname.iscsi"
tgt --lld iser --mode target --op bind --tid 1 --initiator-address ALL
tgt --lld iser --mode target --op bind --tid 1 --initiator-name "$iname"
tgt --lld iser --mode logicalunit --op new --tid 1 --lun 1 \
	--backing-store "$backing" --bstype rdwr
wait_for -t 30 listening $ISER_PORT ||
	log_fail "$LOGS/tgtd.log" "tgtd does not listen for iSER on port $ISER_PORT"
note "tgtd: $IQN, a 96 MiB LUN, iSER on port $ISER_PORT"

# --- the initiator ------------------------------------------------------
must mkdir -p /run/lock/iscsi
bg iscsid -f
iscsid_up() { iscsiadm -m session 2>&1 | grep -q 'No active sessions'; }
wait_for -t 30 iscsid_up || fail "iscsid did not start"
iscsi() {
	echo "\$ iscsiadm $*"
	timeout 120 iscsiadm "$@" > "$LOGS/iscsiadm.log" 2>&1 || {
		_show_log "$LOGS/tgtd.log"
		log_fail "$LOGS/iscsiadm.log" "iscsiadm $* failed"
	}
}

# The SCSI disk of the session, once it is there.
disk_of_session() {
	iscsiadm -m session -P 3 2>/dev/null |
		awk '/Attached scsi disk/ { print $4; exit }'
}
have_disk() { local d; d=$(disk_of_session) && [ -n "$d" ] && [ -b "/dev/$d" ]; }

# login PORTAL: a session over iser to PORTAL; sets DISK.
login() {
	iscsi -m node -o new -T $IQN -p "$1" -I iser
	iscsi -m node -T $IQN -p "$1" -I iser --login
	iscsiadm -m session -P 1 2>/dev/null | grep -q 'Iface Transport: iser' ||
		fail "the session's transport is not iser: $(iscsiadm -m session -P 1)"
	wait_for -t 60 have_disk || fail "no disk appeared for the session"
	DISK=/dev/$(disk_of_session)
	note "iSER session to $1: $DISK, $(( $(blockdev --getsize64 "$DISK") >> 20 )) MiB"
}
logout() {
	iscsi -m node -T $IQN -p "$1" -I iser --logout
	iscsi -m node -T $IQN -p "$1" -I iser -o delete
}

tx0=$(hw_counter "$TEST_DEV" tx_bytes)
portal4=$TEST_IP4:$ISER_PORT
portal6=[$TEST_IP6]:$ISER_PORT
login "$portal4"
at_exit "iscsiadm -m node -T $IQN -p $portal4 -I iser --logout"
fio_run iser-dio both "$DISK" $FIO_SIZE --direct=1 --offset=0
fio_run iser-buf write "$DISK" $FIO_SIZE --offset=48m
drop_caches
must blockdev --flushbufs "$DISK"
fio_run iser-buf verify "$DISK" $FIO_SIZE --offset=48m
logout "$portal4"

login "$portal6"
at_exit "iscsiadm -m node -T $IQN -p $portal6 -I iser --logout"
fio_run iser-dio verify "$DISK" $FIO_SIZE --direct=1 --offset=0
fio_run iser-buf verify "$DISK" $FIO_SIZE --direct=1 --offset=48m
logout "$portal6"

# 32 MiB written twice and read back four times, all of it through the
# one device that carries both ends.
moved=$(( $(hw_counter "$TEST_DEV" tx_bytes) - tx0 ))
want=$(( 6 * FIO_BYTES ))
note "siw carried $moved bytes; the workload moved $want"
[ "$moved" -ge "$want" ] || fail "siw carried $moved bytes, less than the $want the workload moved"

# The initiator's connection may still be closing on tgtd's side.
tgt --lld iser --mode target --op delete --force --tid 1
# Debian's tgtd 1.0.85 crashes (SIGSEGV) when it exits on SIGTERM after
# its iSER target was deleted, on rxe as on siw; killed outright, its
# verbs resources go with its file descriptors, which siw must clean up
# as well.
must kill -KILL "$TGTD"
wait_for -t 30 sh -c "! kill -0 $TGTD" || fail "tgtd did not exit"
must modprobe -r ib_iser
# The initiator's CQs come from the device's shared pool (ib_cq_pool_get)
# and stay with the device until it goes: only QPs are checked here.
wait_for -t 30 _no_siw_qps "$TEST_DEV" ||
	fail "QPs left after tgtd and the initiator went:"$'\n'"$(rdma resource show qp)"
finish
exit 0
