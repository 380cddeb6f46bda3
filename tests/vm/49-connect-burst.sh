#!/bin/bash
# vm-timeout: 420
# debug-lane: a connection burst
# A burst of connections beyond the listener's backlog (issue 16, D10):
# siw_traffic's server listens with a backlog of 64 and 200 clients
# connect at once. As with TCP, the excess must wait (siw takes no more
# connections from TCP's accept queue than the backlog while the consumer
# has not answered them) rather than be refused by rdma_cm: every QP
# connects and verifies its traffic. On 40cc671, 115 of 200 got
# ECONNREFUSED.
# Then the same burst against a consumer that is slow to accept
# (100 ms per request) and a backlog of 8: TCP's accept queue must not
# be what limits the burst. When it stayed full for seconds, TCP pruned
# half-open connections whose clients had already sent their MPA
# Request, and answered the retransmitted Request with a reset (53-faults'
# 1000 QPs lost some to "REJECTED (status -104)" that way). Every QP must
# connect and verify.
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

run_pair burst 360 \
	"$SIW_TRAFFIC" -s -b "$TEST_IP4" -p @PORT@ -t 340 \
	-- \
	"$SIW_TRAFFIC" -c "$TEST_IP4" -p @PORT@ -q 200 -n 4 -m 4k -I 0 -t 330
grep -q '^client: all QPs verified' "$CLI_LOG" ||
	log_fail "$CLI_LOG" "not every QP of the burst connected and verified"
note "200 connections against a backlog of 64 in $RUN_SECS s"

run_pair slow-accept 360 \
	"$SIW_TRAFFIC" -s -b "$TEST_IP4" -p @PORT@ -t 340 --backlog 8 \
	--accept-delay 100 \
	-- \
	"$SIW_TRAFFIC" -c "$TEST_IP4" -p @PORT@ -q 200 -n 4 -m 4k -I 0 -t 330
grep -q '^client: all QPs verified' "$CLI_LOG" ||
	log_fail "$CLI_LOG" "not every QP connected to the slow consumer and verified"
note "200 connections against a backlog of 8, 100 ms per accept, in $RUN_SECS s"

finish
exit 0
