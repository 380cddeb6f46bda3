#!/bin/bash
# vm-timeout: 240
# providers: stock userlib
# Threads sharing queues (tests/mt/siw_mt): posters feed the same SQs
# concurrently, in work request lists that often find the SQ full
# (ENOMEM, reposted from bad_wr), while several threads poll one shared
# send CQ and several more poll one shared receive CQ and repost to one
# SRQ. No completion may be lost, duplicated, misattributed or carry
# wrong data, and no CQ may overflow. Run with four QPs fed by four threads each, and with one
# QP fed by eight. SIW_TEST_INTREE=1 runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

prog=$SIW_TOP/build/tests/siw_mt
[ -x "$prog" ] || fail "$prog not built (make -C tests)"

load_under_test
dummy_dev

# userlib keeps to the verbs: an SQ slot is not reused before its
# completion is polled, so a send CQ sized to the SQs cannot overflow,
# and a full queue is the positive ENOMEM (-E checks both). rdma-core
# 44's siw provider reuses the slot as soon as the kernel completes it,
# returns -ENOMEM, and returns 0 for a list it posted only in part when
# it rang the doorbell on the way: with it, siw_mt's posters keep the
# unpolled completions within the CQ themselves (-W) and post one work
# request at a time (-L 1).
strict=(-W -L 1)
[ "$SIW_PROVIDER" = userlib ] && strict=(-E)
port=19700
for shape in "-q 4 -t 4 -p 3 -n 40000" "-q 1 -t 8 -p 4 -n 10000"; do
	port=$((port + 1))
	# shellcheck disable=SC2086 # the shape is a list of options
	echo "\$ siw_mt $TEST_IP4 $port $shape ${strict[*]}"
	# shellcheck disable=SC2086
	timeout 200 "$prog" "$TEST_IP4" "$port" $shape "${strict[@]}" > "$LOGS/mt.log" 2>&1
	rc=$?
	cat "$LOGS/mt.log"
	[ $rc = 0 ] || fail "siw_mt $shape exited with status $rc"
	grep -q '^siw_mt: every completion seen exactly once' "$LOGS/mt.log" ||
		fail "siw_mt $shape did not report success"
done

finish
exit 0
