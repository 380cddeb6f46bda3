#!/bin/bash
# providers: stock
# The peer host dies in mid-transfer: its whole VM is killed from outside
# (tools/vm-run, pair_vanish), with four QPs of verified traffic
# streaming to it. Nothing tells the survivor: no FIN, no reset, no link
# event; its TCP streams retransmit into silence. A user of the
# surviving side must get:
#   - the client's error at its own time limit (siw_traffic -t 30), not
#     a hang in a verb or in the teardown of QPs whose streams still
#     hold unacknowledged data;
#   - none of siw's resources left once the process is gone;
#   - another siw device serving a verified transfer, and the one on
#     that link deleted;
#   - siw unloaded, and a clean kernel log (the suite's check, kmemleak
#     on the debug kernel).
# tests/vm/53-faults.sh has the same end in one VM, the link made to drop
# everything with netem; here the peer is really gone.
. "$(dirname "$0")/../lib/traffic.sh"

pair_setup
load_siw
pair_dev
signal up
await up

port=$step_port
if [ "$SIDE" = listen ]; then
	echo "\$ siw_traffic -s -b $ME -p $port &"
	bg "$SIW_TRAFFIC" -s -b "$ME" -p "$port" -t 300 > "$LOGS/server.log" 2>&1 < /dev/null
	wait_for -t 30 listening "$port" || log_fail "$LOGS/server.log" "siw_traffic not listening on $port"
	signal serving
	# Until the client has QPs moving data.
	await streaming 60
	pair_vanish
fi

await serving
echo "\$ siw_traffic -c $PEER -p $port -t 30 -I 0 -q 4 -n 100000 -m 256k &"
bg "$SIW_TRAFFIC" -c "$PEER" -p "$port" -t 30 -I 0 -q 4 -n 100000 -m 256k \
	> "$LOGS/client.log" 2>&1 < /dev/null
cpid=$BG_PID
t0=$SECONDS
# Data on the wire: the four QPs' streams hold bytes the peer has yet to
# take (ss's Send-Q of their TCP sockets).
streaming() {
	[ "$(ss -Htn state established "dport = :$port" | awk '$2 > 0' | wc -l)" -ge 1 ] &&
		[ "$(rdma resource show qp 2>/dev/null | grep -c 'siwp0.*state RTS')" = 4 ]
}
wait_for -t 60 streaming || log_fail "$LOGS/client.log" "the client's QPs never carried data"
rdma resource show qp | grep siwp0 | sed 's/^/  /'
signal streaming
note "the peer vanishes now"

wait $cpid
rc=$?
secs=$((SECONDS - t0))
tail -n 6 "$LOGS/client.log" | sed 's/^/  | /'
note "client status $rc after $secs s"
[ $rc != 0 ] || fail "the client finished although its server vanished"
grep -q 'all QPs verified' "$LOGS/client.log" && fail "the client claims a verified transfer to a dead host"
# Its limit is 30 s from its start: teardown may add a little, not a
# TCP retransmission timeout.
[ $secs -le 60 ] || fail "the client took $secs s to give up (its limit: 30 s)"

no_siw_resources "after the client ended" siwp0
note "TCP sockets to the dead host left: $(ss -Htn "dport = :$port" | wc -l)"

# The survivor keeps working: a verified transfer on another device.
dummy_dev
run_pair after-vanish 120 \
	"$SIW_TRAFFIC" -s -b "$TEST_IP4" -p @PORT@ -t 110 -- \
	"$SIW_TRAFFIC" -c "$TEST_IP4" -p @PORT@ -t 100 -I 0 -q 4 -n 200 -m 64k
grep -q '^client: all QPs verified' "$CLI_LOG" || log_fail "$CLI_LOG" "the transfer after the peer vanished verified nothing"
note "after the peer vanished: a verified transfer on $TEST_DEV"

pair_dev_delete
finish
exit 0
