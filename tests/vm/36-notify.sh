#!/bin/bash
# vm-timeout: 120
# Completion events over a connection (tests/notify/siw_notify): a CQ
# armed for solicited completions only wakes its consumer for a Send with
# the Solicited Event flag and not for the plain Sends before it; armed
# for the next completion, it wakes for a plain Send. Arming is written
# by the provider into the CQ's mapped control word and taken by the
# kernel, so both providers run it: rdma-core's siw provider and
# userlib. SIW_TEST_INTREE=1 runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

notify=$SIW_TOP/build/tests/siw_notify
[ -x "$notify" ] || fail "$notify not built (make -C tests)"

load_under_test
dummy_dev

for prov in stock userlib; do
	run=("$notify")
	[ $prov = stock ] || run=(env "RDMAV_DRIVERS=$SIW_TOP/build/userlib/libsiw" "$notify")
	for addr in "$TEST_IP4" "$TEST_IP6"; do
		run_pair "notify-$prov-$addr" 60 \
			"${run[@]}" -s "$addr" @PORT@ \
			-- \
			"${run[@]}" -c "$addr" @PORT@
		grep -q 'solicited-only arming: one event, after all 4 receives' "$SRV_LOG" &&
			grep -q 'next-completion arming: one event for a plain Send' "$SRV_LOG" ||
			log_fail "$SRV_LOG" "notify-$prov-$addr: the server did not report both checks"
	done
done

finish
exit 0
