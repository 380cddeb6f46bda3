#!/bin/bash
# vm-timeout: 200
# providers: stock userlib
# rping between two rdma_cm endpoints on one siw device (a dummy netdev
# with IPv4 and IPv6 addresses): sizes across rping's whole range, from
# its minimum to its maximum, each byte checked (-V), and each exchange
# counted from the client's -v lines.  SIW_TEST_INTREE=1 runs it on the
# in-tree siw.
#
# rping (rdma-core 44) takes sizes from 23 bytes (its message header)
# up to 65535 (it rejects 65536 although its message says otherwise), so
# larger transfers are left to the other tools' tests.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

# rping_run SIZE COUNT ADDR: COUNT verified ping-pongs of SIZE bytes
# (sends, an RDMA read and an RDMA write per iteration).
rping_run() {
	local size=$1 count=$2 addr=$3 n
	run_pair "rping-$size-$addr" 60 \
		rping -s -a "$addr" -p @PORT@ -S "$size" -C "$count" -V \
		-- \
		rping -c -a "$addr" -p @PORT@ -S "$size" -C "$count" -V -v
	# One "ping data:" line per completed iteration; a mismatch ends the
	# client with an error, but say so plainly if it ever does not.
	n=$(awk '/data mismatch/ { bad = 1 } /^ping data: rdma-ping-/ { n++ }
		END { print bad ? "mismatch" : n + 0 }' "$CLI_LOG")
	[ "$n" != mismatch ] || log_fail "$CLI_LOG" "rping reported a data mismatch"
	[ "$n" = "$count" ] ||
		log_fail "$CLI_LOG" "rping -C $count -S $size over $addr completed $n iterations, not $count"
}

# rping refuses sizes outside its range: the 23-byte floor and 65535
# ceiling used below are rping's, not siw's.
note "rping must refuse -S 22 and -S 65536 (its limits, not siw's)"
for s in 22 65536; do
	out=$(rping -c -a "$TEST_IP4" -p 1 -S $s -C 1 2>&1) &&
		fail "rping accepted -S $s (its limits changed?): $out"
	grep -q 'Invalid size' <<< "$out" || fail "rping -S $s failed, but not on the size: $out"
done

# The smallest size, sizes around the page (4 KiB) and the largest, which
# spans many MPA FPDUs; one size runs 1000 times, the others fewer: under
# emulation each run (two processes, a connection) costs seconds, the
# iterations little.
for sc in 23:100 1000:100 4095:50 4096:1000 4097:50 16384:100 65535:200; do
	rping_run "${sc%%:*}" "${sc#*:}" "$TEST_IP4"
done

# IPv6: the same code paths with other addresses; a few sizes suffice.
for sc in 23:50 4096:200 65535:100; do
	rping_run "${sc%%:*}" "${sc#*:}" "$TEST_IP6"
done

finish
exit 0
