#!/bin/bash
# Interoperability on the wire: two hosts (tools/vm-pair: the listen
# side 192.0.2.1, the connect side 192.0.2.2, one virtio NIC each), one
# running our siw and the other the kernel's in-tree siw, exchange
# verified rping traffic in both directions (each side is the server
# once).  Then the modules swap sides and it all runs again, so that our
# module on each kernel meets the in-tree one on the other.
#
#   tools/vm-pair --kernel 6.1 --peer-kernel 6.12 -- tests/pair/50-interop.sh
#
# SIW_TEST_INTREE=1 loads the in-tree siw on both sides in both rounds,
# which checks the test itself.
#
# The two guests run this script independently and meet at named points
# (signal/await in tests/lib/traffic.sh: flag files served over HTTP on
# the link).  A side that fails stops signalling, and the other then
# fails when its await runs out, so both report the failure.
. "$(dirname "$0")/../lib/traffic.sh"

pair_setup
note "this is the $SIDE side ($ME), the peer is $PEER"

# load_round ROUND: round 1 puts our siw on the listen side, round 2 on
# the connect side; the other side gets the in-tree siw.
load_round() {
	local ours=listen
	[ "$1" = 2 ] && ours=connect
	if [ "${SIW_TEST_INTREE:-0}" != 1 ] && [ "$SIDE" = "$ours" ]; then
		note "round $1: our siw here, the in-tree siw on the peer"
		load_siw
	else
		note "round $1: the in-tree siw here"
		load_intree_siw
	fi
	must rdma link add siwp0 type siw netdev eth0
	wait_for -t 10 sh -c '[ "$(cat /sys/class/infiniband/siwp0/ports/1/state)" = "4: ACTIVE" ]' ||
		fail "siwp0 did not become ACTIVE"
}

unload_round() {
	must rdma link delete siwp0
	wait_for -t 10 no_dev siwp0 || fail "siwp0 still exists after rdma link delete"
	unload_siw
}

# rping_step TAG SERVER-SIDE SIZE COUNT: a verified rping of COUNT
# iterations of SIZE bytes, the server on SERVER-SIDE, on a port of its
# own.  The server side starts its server and signals TAG once it listens;
# the client side awaits TAG, runs the client and counts its iterations.
step_port=7200
rping_step() {
	local tag=$1 server=$2 size=$3 count=$4 port n rc spid end t0=$SECONDS
	port=$step_port
	step_port=$((step_port + 1))
	if [ "$SIDE" = "$server" ]; then
		echo "\$ rping -s -a $ME -p $port -S $size -C $count -V &"
		# shellcheck disable=SC2217 # bg runs the command, which gets these
		bg stdbuf -oL -eL rping -s -a "$ME" -p "$port" -S "$size" -C "$count" -V \
			> "$LOGS/$tag.server.log" 2>&1 < /dev/null
		spid=$BG_PID
		wait_for -t 30 listening "$port" ||
			log_fail "$LOGS/$tag.server.log" "$tag: rping server not listening on $port"
		signal "$tag"
		# The server ends when the client disconnects; the client has its
		# own 60 s limit, so 90 s here is plenty.
		end=$((SECONDS + 90))
		while kill -0 "$spid" 2>/dev/null && [ $SECONDS -lt $end ]; do sleep 0.2; done
		if kill -0 "$spid" 2>/dev/null; then
			kill -9 "$spid"
			log_fail "$LOGS/$tag.server.log" "$tag: rping server still running after 90 s"
		fi
		wait "$spid"
		rc=$?
		[ $rc = 0 ] || log_fail "$LOGS/$tag.server.log" "$tag: rping server exited with status $rc"
		note "$tag: served $PEER ($((SECONDS - t0)) s)"
	else
		await "$tag"
		echo "\$ rping -c -a $PEER -p $port -S $size -C $count -V -v"
		timeout --kill-after=5 60 stdbuf -oL -eL \
			rping -c -a "$PEER" -p "$port" -S "$size" -C "$count" -V -v \
			> "$LOGS/$tag.client.log" 2>&1 < /dev/null
		rc=$?
		[ $rc = 0 ] || log_fail "$LOGS/$tag.client.log" "$tag: rping client exited with status $rc"
		n=$(awk '/data mismatch/ { bad = 1 } /^ping data: rdma-ping-/ { n++ }
			END { print bad ? "mismatch" : n + 0 }' "$LOGS/$tag.client.log")
		[ "$n" = "$count" ] ||
			log_fail "$LOGS/$tag.client.log" "$tag: rping completed $n of $count iterations"
		note "$tag: $count verified iterations of $size bytes from $PEER ($((SECONDS - t0)) s)"
	fi
}

for round in 1 2; do
	load_round $round
	signal "r$round-up"
	await "r$round-up"
	rping_step "r$round-to-listen-4096" listen 4096 100
	rping_step "r$round-to-listen-65535" listen 65535 50
	rping_step "r$round-to-connect-4096" connect 4096 100
	rping_step "r$round-to-connect-65535" connect 65535 50

	# TODO: a verifying transfer with build/tests/siw_traffic goes here,
	# once it exists: server on one side, client on the other, both
	# directions, started and awaited the same way as rping_step.

	# Neither side unloads while the other may still be using the link
	# (a client that exits and unloads at once could tear the server's
	# connection down before the server is through).
	signal "r$round-done"
	await "r$round-done"
	unload_round
done
# The peer may not have seen our last flag yet: it goes with our flag
# server when this script exits.  Its poll takes well under 5 s.
sleep 5
exit 0
