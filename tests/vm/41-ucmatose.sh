#!/bin/bash
# vm-timeout: 120
# providers: stock userlib
# ucmatose (librdmacm's connection test): several connections at once
# through one listener, each exchanging a few send/receive messages, over
# IPv4 and IPv6 on a siw device on a dummy netdev.  SIW_TEST_INTREE=1
# runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

# ucmatose_run CONNS MSGS SIZE ADDR
ucmatose_run() {
	local conns=$1 msgs=$2 size=$3 addr=$4 name
	name=ucmatose-c$conns-C$msgs-S$size-$addr
	run_pair "$name" 60 \
		ucmatose -b "$addr" -p @PORT@ -c "$conns" -C "$msgs" -S "$size" \
		-- \
		ucmatose -s "$addr" -p @PORT@ -c "$conns" -C "$msgs" -S "$size"
	# ucmatose can return 0 having done less than asked on some error
	# paths; both sides must say they finished.
	grep -q 'test complete' "$SRV_LOG" || log_fail "$SRV_LOG" "$name: the server did not complete"
	grep -q 'test complete' "$CLI_LOG" || log_fail "$CLI_LOG" "$name: the client did not complete"
}

ucmatose_run 4 10 100 "$TEST_IP4"
ucmatose_run 8 5 4096 "$TEST_IP4"
ucmatose_run 16 3 65536 "$TEST_IP4"
ucmatose_run 4 10 100 "$TEST_IP6"
ucmatose_run 8 5 4096 "$TEST_IP6"

finish
exit 0
