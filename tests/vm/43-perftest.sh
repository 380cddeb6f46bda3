#!/bin/bash
# vm-timeout: 200
# providers: stock userlib
# perftest over rdma_cm (-R) on a siw device on a dummy netdev: RDMA
# write, RDMA read and send/receive bandwidth at every size perftest
# knows (-a: 2 bytes to 8 MiB; perftest has no way to cap the range, so
# only the iterations are cut), bidirectional (-b), with 8 QPs (-q 8),
# and the three latency tests, then a few with zero-copy transmit on.
# A functional test: it checks exit status and that each run printed its
# result table with every size, never the numbers (under emulation
# perftest's clock calibration often fails and it reports 0.00).
# SIW_TEST_INTREE=1 runs it on the in-tree siw.
#
# perftest 4.5 resolves rdma_cm addresses as IPv4 only, so there is no
# IPv6 run here (rping, ucmatose and rstream cover IPv6).
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

perftest_guard

# The sizes -a runs: 2, 4, ... 8 MiB.
all_sizes=$(s=2; while [ $s -le 8388608 ]; do echo $s; s=$((s * 2)); done)

# perf TOOL ITERS SIZES OPTIONS...: run TOOL as server and client with
# OPTIONS and -n ITERS, then check that the client's table (and with -b
# the server's too) has a row "<size> <iterations> ..." for each of SIZES
# ("all" for -a's sizes); the iterations column counts all QPs' (-q).
# -F: no CPU frequency warning (the VM has no cpufreq).  Each run gets a
# fresh port, and the client starts once the server listens (run_pair).
perf() {
	local tool=$1 iters=$2 sizes=$3 name log logs qps=1 bidir=0 prev='' o missing
	shift 3
	[ "$sizes" = all ] && sizes=$all_sizes
	for o in "$@"; do
		[ "$prev" = -q ] && qps=$o
		[ "$o" = -b ] && bidir=1
		prev=$o
	done
	name=$tool$(printf '%s' "$@")
	run_pair "$name" 90 \
		"$tool" -R -F -p @PORT@ -n "$iters" "$@" \
		-- \
		"$tool" -R -F -p @PORT@ -n "$iters" "$@" "$TEST_IP4"
	logs=("$CLI_LOG")
	[ $bidir = 1 ] && logs+=("$SRV_LOG")
	for log in "${logs[@]}"; do
		# One awk for all sizes: every program started costs a fair
		# fraction of a second under emulation.
		missing=$(awk -v sizes="$sizes" -v iters=$((iters * qps)) '
			/^ *#bytes +#iterations/ { table = 1 }
			table && $1 ~ /^[0-9]+$/ && $2 == iters && NF >= 3 { seen[$1] = 1 }
			END {
				if (!table) { print "(no table)"; exit }
				n = split(sizes, s, /[ \n]+/)
				for (i = 1; i <= n; i++) if (s[i] != "" && !(s[i] in seen)) printf "%s ", s[i]
			}' "$log")
		[ -z "$missing" ] ||
			log_fail "$log" "$name: $(basename "$log") has no result row for size(s) $missing"
	done
	return 0
}

# Every size (one run with -a costs about as much as four with one size
# each under emulation: it is the number of runs that counts, not the
# bytes).  Bidirectional (-b) covers one direction as well.
perf ib_write_bw 5 all -a -b
perf ib_read_bw 5 all -a
perf ib_send_bw 5 all -a -b
# Eight QPs, each connected by rdma_cm, at one size.
perf ib_write_bw 50 65536 -s 65536 -q 8
perf ib_read_bw 50 65536 -s 65536 -q 8
perf ib_send_bw 50 4096 -s 4096 -q 8
# Latency (ping-pong; -n, not -D: see /work/shared/vm-notes.md) at a
# small size, and a large RDMA read (many read response segments); the
# bandwidth runs had every size.
perf ib_write_lat 100 64 -s 64
intree || lent0=$(hw_counter "$TEST_DEV" tx_lent)
perf ib_read_lat 100 64 -s 64
# Both ends share the host: the reader's doorbell sends the responder's
# Read Response itself (tx_lent), all but the first of each run and
# those whose softirq ksoftirqd took.
if ! intree; then
	lent=$(($(hw_counter "$TEST_DEV" tx_lent) - lent0))
	[ "$lent" -ge 50 ] ||
		fail "ib_read_lat: $lent of 100 Read Responses sent by the reader's doorbell"
fi
perf ib_read_lat 10 1048576 -s 1048576
perf ib_send_lat 100 64 -s 64

# Zero-copy transmit (ours only: the in-tree siw has no such switch),
# forced (2: the local route copies the pages anyway, and 1 would go
# back to copying).  A zero-copy work request completes on the peer's
# TCP ACK; were that so for perftest's small rdma_cm handshake messages
# too, its server would listen again too late for the client's second
# connection, which then is REJECTED and perftest 4.5 crashes in
# librdmacm.  Small messages are copied (SIW_ZCOPY_MIN_BYTES), large
# ones go zero-copy.
if ! intree; then
	echo 2 > /sys/class/infiniband/$TEST_DEV/zcopy_tx ||
		fail "cannot set $TEST_DEV's zcopy_tx=2 at run time"
	perf ib_write_bw 50 4096 -s 4096
	zc_wrs=$(hw_counter "$TEST_DEV" tx_zcopy_wrs)
	[ "$zc_wrs" = 0 ] || fail "$zc_wrs work requests of 4 KiB or less went zero-copy"
	perf ib_send_bw 50 65536 -s 65536 -b
	perf ib_write_bw 20 1048576 -s 1048576 -q 2
	zc_wrs=$(hw_counter "$TEST_DEV" tx_zcopy_wrs)
	[ "$zc_wrs" -ge 100 ] || fail "only $zc_wrs work requests of 64 KiB and 1 MiB went zero-copy"
	echo 0 > /sys/class/infiniband/$TEST_DEV/zcopy_tx
fi

finish
exit 0
