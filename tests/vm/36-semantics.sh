#!/bin/bash
# vm-timeout: 120
# providers: stock userlib
# Completion events and the read fence over a connection
# (tests/semantics/siw_semantics): a CQ armed for solicited completions
# only wakes its consumer for a Send with the Solicited Event flag and
# not for the plain Sends before it; armed for the next completion, it
# wakes for a plain Send; an RDMA WRITE posted with IBV_SEND_FENCE right
# after an RDMA READ into its source sends what the READ brought; an RDMA
# WRITE of six SGEs that each start one byte before a page end arrives
# intact (its first FPDU needs the most bvecs an FPDU can); a send
# CQ overrun takes the QP to Error with IBV_EVENT_CQ_ERR and
# IBV_EVENT_QP_FATAL, and its Terminate takes the peer's QP to Error. Arming
# is written by the provider into the CQ's mapped control word and taken
# by the kernel, so both providers run it: rdma-core's siw provider and
# userlib. SIW_TEST_INTREE=1 runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

prog=$SIW_TOP/build/tests/siw_semantics
[ -x "$prog" ] || fail "$prog not built (make -C tests)"

load_under_test
dummy_dev

for addr in "$TEST_IP4" "$TEST_IP6"; do
	run_pair "semantics-$addr" 60 \
		"$prog" -s "$addr" @PORT@ \
		-- \
		"$prog" -c "$addr" @PORT@
	grep -q 'solicited-only arming: one event, after all 4 receives' "$SRV_LOG" &&
		grep -q 'next-completion arming: one event for a plain Send' "$SRV_LOG" &&
		grep -q 'fenced WRITE after READ: all' "$SRV_LOG" &&
		grep -q '6-SGE WRITE across page edges: all' "$SRV_LOG" &&
		grep -q "the client's CQ overrun took this QP to Error" "$SRV_LOG" ||
		log_fail "$SRV_LOG" "$addr: the server did not report all five checks"
	grep -q 'CQ overrun: CQ_ERR and QP_FATAL, QP in Error' "$CLI_LOG" ||
		log_fail "$CLI_LOG" "$addr: the client did not report the CQ overrun"
done

finish
exit 0
