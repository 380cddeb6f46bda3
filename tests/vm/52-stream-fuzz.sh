#!/bin/bash
# vm-timeout: 1500
# debug-lane: the live-stream fuzzer
# The live-stream fuzzer (tests/fuzz/stream_fuzz.c) against siw over TCP
# on the test device: MPA revision 1 and 2, CRC off and on, every RTR
# type, then mostly valid FPDUs with mutated ones among them (every
# header field, pad, CRC, Terminate and Read Request contents, raw
# bytes, FPDUs cut off or split across TCP writes at every byte):
#   1. siw as responder (siw_target fuzz-serve), two fuzzers connecting
#      at once;
#   2. siw as initiator (siw_target fuzz-client), the fuzzer listening,
#      once plain and once with peer_to_peer and mpa_crc_enabled set.
# The fuzzer checks everything siw sends back (see its header); all the
# while siw_traffic runs verified WRITE/READ/SEND traffic on connections
# of its own, every byte checked, and siw must serve a verified rping
# afterwards, unload, and leave a clean kernel log.
# SIW_FUZZ_FPDUS (default 1000000) is the FPDU count, split 90/5/5 over
# the three runs: siw as initiator costs a user-space reconnect per
# stream and paces the fuzzer with its READs.
# SIW_FUZZ_MUTATE (default 64): one FPDU in that many is mutated where
# siw is the responder, one in four times that many where it is the
# initiator. The debug kernel takes fewer (tests/run says why).
# SIW_FUZZ_SEED fixes the fuzzer's seed, SEED + 1 for the second one
# (each run prints the one it used).
. "$(dirname "$0")/../lib/traffic.sh"

fuzz=$SIW_TOP/build/tests/stream_fuzz
target=$SIW_TOP/build/tests/siw_target
tr=$SIW_TOP/build/tests/siw_traffic
for b in "$fuzz" "$target" "$tr"; do
	[ -x "$b" ] || fail "$b is not built (make tests)"
done
total=${SIW_FUZZ_FPDUS:-1000000}
every=${SIW_FUZZ_MUTATE:-64}
seed=()
[ -n "${SIW_FUZZ_SEED:-}" ] && seed=(--seed "$SIW_FUZZ_SEED")

load_under_test
dummy_dev

new_port() {
	PORT=$_next_port
	_next_port=$((_next_port + 1))
}

# Verified traffic beside the fuzzing, in rounds until $LOGS/stop exists.
new_port
tport=$PORT
bg "$tr" -s -S -b "$TEST_IP4" -p $tport > "$LOGS/traffic-server.log" 2>&1 < /dev/null
tsrv=$BG_PID
wait_for -t 30 listening $tport || log_fail "$LOGS/traffic-server.log" "siw_traffic did not listen"
(
	n=0
	while [ ! -e "$LOGS/stop" ]; do
		n=$((n + 1))
		"$tr" -c "$TEST_IP4" -p $tport -q 2 -n 200 -m 64k -I 0 -t 300 \
			> "$LOGS/traffic-$n.log" 2>&1 < /dev/null ||
			{ echo "round $n failed" > "$LOGS/traffic-failed"; break; }
	done
	echo $n > "$LOGS/traffic-rounds"
) &
tloop=$!

# fuzz_run NAME FPDUS MODE [JOBS]: the fuzzer in MODE (connect or listen)
# against siw_target in the other role, on a port of its own; in connect
# mode JOBS fuzzers at once (default 1), each with its share of FPDUS,
# so that siw has several hostile streams to keep apart, and one's
# connection set-up overlaps another's traffic.
fuzz_run() {
	local name=$1 n=$2 mode=$3 jobs=${4:-1} tpid fpid rc=0 sent j log
	local pids=() logs=() s=()
	new_port
	if [ "$mode" = connect ]; then
		bg "$target" fuzz-serve "$TEST_IP4" $PORT > "$LOGS/target-$name.log" 2>&1 < /dev/null
		tpid=$BG_PID
		wait_for -t 30 listening $PORT || log_fail "$LOGS/target-$name.log" "siw_target did not listen"
		for j in $(seq 1 "$jobs"); do
			log=$LOGS/fuzz-$name-$j.log
			s=()
			[ -n "${SIW_FUZZ_SEED:-}" ] && s=(--seed $((SIW_FUZZ_SEED + j - 1)))
			echo "\$ stream_fuzz connect $TEST_IP4 $PORT --fpdus $((n / jobs)) --mutate $every${s:+ ${s[*]}}"
			timeout 1200 "$fuzz" connect "$TEST_IP4" $PORT --fpdus $((n / jobs)) --secs 1000 \
				--mutate "$every" "${s[@]}" > "$log" 2>&1 < /dev/null &
			pids+=($!)
			logs+=("$log")
		done
		for j in "${!pids[@]}"; do
			wait "${pids[$j]}" || [ $rc != 0 ] || rc=$?
		done
	else
		log=$LOGS/fuzz-$name.log
		logs=("$log")
		echo "\$ stream_fuzz listen $TEST_IP4 $PORT --fpdus $n --mutate $((every * 4))"
		bg "$fuzz" listen "$TEST_IP4" $PORT --fpdus "$n" --secs 1000 --mutate $((every * 4)) "${seed[@]}" \
			> "$log" 2>&1 < /dev/null
		fpid=$BG_PID
		wait_for -t 30 listening $PORT || log_fail "$log" "stream_fuzz did not listen"
		bg "$target" fuzz-client "$TEST_IP4" $PORT > "$LOGS/target-$name.log" 2>&1 < /dev/null
		tpid=$BG_PID
		wait "$fpid"
		rc=$?
	fi
	kill -9 "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	for log in "${logs[@]}"; do
		sed 's/^/  | /' "$log"
	done
	if [ $rc != 0 ]; then
		echo "  what is left of the streams and QPs:"
		{ ss -tnoi; rdma resource show qp; rdma resource show cm_id; } 2>&1 | sed 's/^/  | /'
	fi
	[ $rc = 0 ] || log_fail "$LOGS/target-$name.log" "stream_fuzz $mode (status $rc)"
	# Each run must reach what it is there for, not just survive.
	for log in "${logs[@]}"; do
		grep -q '^stream_fuzz: all checks held' "$log" ||
			fail "stream_fuzz $mode did not finish ($log)"
		sent=$(awk '/ FPDUs in /{print $1}' "$log")
		[ "${sent:-0}" -ge $((n / ${#logs[@]})) ] ||
			fail "stream_fuzz $mode sent ${sent:-0} of $((n / ${#logs[@]})) FPDUs in its time"
	done
}

fuzz_run responder $((total * 9 / 10)) connect 2
fuzz_run initiator $((total / 20)) listen
settings=/sys/class/infiniband/$TEST_DEV
if ! intree; then
	at_exit "echo 0 > $settings/peer_to_peer; echo off > $settings/mpa_crc"
	echo 1 > $settings/peer_to_peer
	echo on > $settings/mpa_crc
	note "$TEST_DEV: peer_to_peer 1, mpa_crc on"
fi
fuzz_run initiator-p2p $((total / 20)) listen
if ! intree; then
	echo 0 > $settings/peer_to_peer
	echo off > $settings/mpa_crc
fi

# The verified traffic ran all along; its last round finishes.
touch "$LOGS/stop"
wait "$tloop"
[ -e "$LOGS/traffic-failed" ] &&
	log_fail "$(ls -t "$LOGS"/traffic-[0-9]*.log | head -n 1)" \
		"verified traffic beside the fuzzer: $(cat "$LOGS/traffic-failed")"
echo "verified traffic beside the fuzzer: $(cat "$LOGS/traffic-rounds") rounds of 2 QPs x 200 operations, all correct"
kill -9 "$tsrv" 2>/dev/null
wait "$tsrv" 2>/dev/null

rping_still_works 20 "the fuzzer"

finish
exit 0
