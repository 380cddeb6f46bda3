#!/bin/bash
# vm-timeout: 240
# providers: stock userlib
# debug-lane: failures users meet
# Failures a user will meet, on one siw device (a dummy netdev): a
# connect to a port nobody listens on, a server that rejects, a client
# and then a server killed with SIGKILL in the middle of a transfer, and
# hundreds of peers that connect and then never finish their MPA Request
# or reset at once. Each must end in a clear error and cost nothing
# lasting: the listener keeps accepting, verified traffic runs afterwards,
# no QP or TCP connection is left over, and the module unloads.
# SIW_TEST_INTREE=1 runs it on the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"

load_under_test
dummy_dev

# A siw_traffic server that keeps serving, on PORT; its log is SRV_OUT.
serve() {
	SRV_PORT=$1
	SRV_OUT=$LOGS/server-$1.log
	echo "\$ siw_traffic -s -S -b $TEST_IP4 -p $SRV_PORT &"
	bg "$tr" -s -S -b "$TEST_IP4" -p "$SRV_PORT" > "$SRV_OUT" 2>&1 < /dev/null
	SRV_PID=$BG_PID
	wait_for -t 30 listening "$SRV_PORT" || log_fail "$SRV_OUT" "siw_traffic did not listen"
}

# verified_run ARGS...: a short verified client run against the server.
verified_run() {
	local out=$LOGS/client.log
	echo "\$ siw_traffic -c $TEST_IP4 -p $SRV_PORT ${SIW_TRAFFIC_INV[*]} $*"
	"$tr" -c "$TEST_IP4" -p "$SRV_PORT" "${SIW_TRAFFIC_INV[@]}" -t 60 "$@" > "$out" 2>&1 < /dev/null ||
		log_fail "$out" "a verified run after the failures above failed"
	grep -q '^client: all QPs verified' "$out" || log_fail "$out" "the client verified nothing"
}

qp_count() { rdma res show qp 2>/dev/null | grep -c "link $TEST_DEV/"; }
qps_at_least() { [ "$(qp_count)" -ge "$1" ]; }
no_qps() { [ "$(qp_count)" = 0 ]; }

# long_run NAME NQPS: a long client run in the background (BUSY_PID),
# once its QPs and the server's are up and data has flowed a while.
long_run() {
	BUSY_LOG=$LOGS/$1.log
	echo "\$ siw_traffic -c $TEST_IP4 -p $SRV_PORT -q $2 -n 100000 ${SIW_TRAFFIC_INV[*]} &  ($1)"
	"$tr" -c "$TEST_IP4" -p "$SRV_PORT" -q "$2" -n 100000 "${SIW_TRAFFIC_INV[@]}" -t 120 > "$BUSY_LOG" 2>&1 < /dev/null &
	BUSY_PID=$!
	wait_for -t 30 qps_at_least $(($2 * 2)) || log_fail "$BUSY_LOG" "the client's QPs did not come up"
	sleep 2
}

# --- nobody listens ------------------------------------------------------
for addr in "$TEST_IP4" "$TEST_IP6"; do
	t0=$SECONDS
	out=$(timeout 30 rping -c -a "$addr" -p 7999 -C 1 2>&1)
	rc=$?
	took=$((SECONDS - t0))
	echo "$out" | sed 's/^/  | /'
	[ $rc != 0 ] && [ $rc != 124 ] || fail "rping to $addr port 7999 (no listener): exit status $rc"
	grep -q 'RDMA_CM_EVENT_REJECTED' <<< "$out" ||
		fail "rping to a closed port of $addr did not see RDMA_CM_EVENT_REJECTED"
	[ $took -le 10 ] || fail "rping to a closed port of $addr took $took s to fail"
done

# --- rejected ------------------------------------------------------------
# siw_traffic's server rejects a client that does not speak its protocol.
serve 7100
out=$(timeout 30 rping -c -a "$TEST_IP4" -p "$SRV_PORT" -C 1 2>&1)
rc=$?
echo "$out" | sed 's/^/  | /'
[ $rc != 0 ] && [ $rc != 124 ] || fail "rping to siw_traffic: exit status $rc"
grep -q 'RDMA_CM_EVENT_REJECTED' <<< "$out" || fail "rping was not told it was rejected"
wait_for -t 10 grep -q 'rejecting' "$SRV_OUT" || log_fail "$SRV_OUT" "the server did not say it rejected"
verified_run -q 2 -n 50 -m 64k

# --- a client killed mid-transfer -----------------------------------------
long_run client-killed 4
kill -9 $BUSY_PID
wait $BUSY_PID 2>/dev/null
# The server notices each connection's end and drops its QPs.
wait_for -t 30 no_qps ||
	fail "QPs left 30 s after the client was killed: $(rdma res show qp)"
kill -0 "$SRV_PID" 2>/dev/null || log_fail "$SRV_OUT" "the server died with its client"
verified_run -q 2 -n 50 -m 64k

# --- peers that never finish MPA, or reset at once -----------------------
# 300 connections that send half an MPA Request and close, 300 reset
# right after the handshake (SO_LINGER 0), 40 that say nothing and stay.
echo "\$ 640 bad peers against port $SRV_PORT"
python3 - "$TEST_IP4" "$SRV_PORT" > "$LOGS/peers.log" 2>&1 <<'EOF' &
import socket, struct, sys, time
addr, port = sys.argv[1], int(sys.argv[2])
for i in range(300):
    s = socket.create_connection((addr, port))
    s.sendall(b"MPA ID Req F")      # 12 of the 16 key bytes
    s.close()
for i in range(300):
    s = socket.create_connection((addr, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
silent = [socket.create_connection((addr, port)) for i in range(40)]
print("all connected", flush=True)
time.sleep(150)
EOF
peers=$!
at_exit "kill -9 $peers"
wait_for -t 120 grep -q 'all connected' "$LOGS/peers.log" ||
	log_fail "$LOGS/peers.log" "the bad peers did not all get connected"
# The listener serves a real client while the silent ones still wait.
verified_run -q 2 -n 50 -m 64k
# A silent peer that goes (its FIN) is let go at once, not at the MPA
# timeout (48-hostile-peer checks that one); then no connection to the
# port is left but the listener.
kill -9 $peers 2>/dev/null
wait_for -t 30 no_conns "$SRV_PORT" ||
	fail "connections to port $SRV_PORT still open: $(ss -tn '( sport = :'$SRV_PORT' )' | head)"

# --- a server killed mid-transfer ----------------------------------------
long_run server-killed 2
kill -9 "$SRV_PID"
t0=$SECONDS
wait $BUSY_PID
rc=$?
took=$((SECONDS - t0))
sed 's/^/  | /' "$BUSY_LOG" | tail -n 5
[ $rc = 1 ] || log_fail "$BUSY_LOG" "the client of a killed server exited with $rc, not 1 (failure)"
[ $took -le 20 ] || fail "the client took $took s to notice its server was gone"
wait_for -t 30 no_qps ||
	fail "QPs left after both ends are gone: $(rdma res show qp)"

# Everything closed: the device goes and the module unloads.
finish
exit 0
