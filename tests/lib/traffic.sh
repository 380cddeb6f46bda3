# shellcheck shell=bash
# Helpers for the traffic tests in tests/vm/ and tests/pair/ (on top of
# tests/lib/guest.sh, which this sources): which siw to load, a siw device
# on a dummy netdev with IPv4 and IPv6 addresses, and client/server runs
# of the standard tools that can neither hang nor leave a server behind.
#
# SIW_TEST_INTREE=1 in the environment (tools/vm-run passes every SIW_*
# variable into the guest) makes the tests load the kernel's in-tree siw
# (build/<kver>/intree-siw/siw.ko, make intree-siw) instead of ours, so
# that the tests themselves can be checked before our data path exists.
#

. "$(dirname "${BASH_SOURCE[0]}")/guest.sh"

# Addresses of the test device: documentation prefixes, reachable only
# inside the guest.
TEST_IP4=198.51.100.1
TEST_IP6=2001:db8:5157::1
TEST_DEV=siwt0

intree() { [ "${SIW_TEST_INTREE:-0}" = 1 ]; }

# load_under_test [PARAM=VALUE...]: our siw, or the in-tree one under
# SIW_TEST_INTREE=1 (which knows none of our parameters: the caller
# decides what to pass).
load_under_test() {
	if intree; then
		note "SIW_TEST_INTREE=1: testing the kernel's in-tree siw, not ours"
		load_intree_siw "$@"
	else
		load_siw "$@"
	fi
}

# dummy_dev: dummy0 with $TEST_IP4/24 and $TEST_IP6/64 and a siw device
# $TEST_DEV on it.  Both ends of a transfer then use this one device; the
# TCP streams underneath run over the local route, as they would between
# two addresses of one host with a real NIC.
dummy_dev() {
	mk_dummy dummy0
	must ip addr add "$TEST_IP4/24" dev dummy0
	# nodad: the address is usable at once, not after duplicate detection.
	must ip -6 addr add "$TEST_IP6/64" dev dummy0 nodad
	must rdma link add "$TEST_DEV" type siw netdev dummy0
	at_exit "rdma link delete $TEST_DEV"
	wait_for -t 10 port_active "$TEST_DEV" ||
		fail "$TEST_DEV did not become ACTIVE"
}

# finish: remove the device and unload siw, checking both (a test should
# leave the guest as it found it; at_exit only covers the failures).
finish() {
	if have_dev "$TEST_DEV"; then
		must rdma link delete "$TEST_DEV"
		wait_for -t 10 no_dev "$TEST_DEV" || fail "$TEST_DEV still exists after rdma link delete"
	fi
	unload_siw
}

# A fresh port for every run: one run's lingering connections
# (TIME_WAIT, a server that has not quite gone) stay out of the next one.
_next_port=${SIW_TEST_PORT_BASE:-20000}

# listening PORT: something listens on TCP port PORT, in network
# namespace $SERVER_NS if that is set.  An iWARP listener is a kernel TCP
# socket, so rdma_listen() shows up here.
listening() {
	local ns=()

	[ -z "${SERVER_NS:-}" ] || ns=(ip netns exec "$SERVER_NS")
	[ -n "$("${ns[@]}" ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# no_conns PORT: no established connection to local TCP port PORT.
no_conns() {
	[ "$(ss -Htn state established "( sport = :$1 )" | wc -l)" = 0 ]
}

LOGS=$(mktemp -d /tmp/siw-draft.XXXXXX)
at_exit "rm -rf $LOGS"

# _show_log FILE: the end of FILE, indented.
_show_log() {
	echo "  --- $(basename "$1") (last 25 lines):"
	tail -n 25 "$1" | cut -c 1-200 | sed 's/^/  | /'
}

# _stop PID: kill a background process and reap it.
_stop() {
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# run_pair NAME SECS SERVER-CMD... -- CLIENT-CMD...
#
# Every "@PORT@" in the commands becomes a port no earlier run used (also
# left in PORT).  Starts the server in the background, waits until the
# port listens (at most 30 s), runs the client with a time limit of SECS,
# then gives the server 30 s to exit by itself.  Fails the test, showing
# both logs, when either side exits non-zero, the client times out or the
# server does not end.  On success the logs are in $SRV_LOG and $CLI_LOG
# and the time the run took in RUN_SECS.  SIW_TEST_VERBOSE=1 shows the
# logs of successful runs as well.
#
# BEFORE_CLIENT, when set, names a function run once the server listens,
# before the client starts.
#
# RETRY_IF, when set, names a function that is asked after a client
# failure whether it was a known flaw of the tool rather than of siw (it
# reads $CLI_LOG and $SRV_LOG); if so the run is repeated on a new port,
# up to 3 attempts, and the test says so.
run_pair() {
	local name=$1 secs=$2 tmpl=() srv=() cli=() a t0 rc srv_rc end spid attempt
	shift 2
	tmpl=("$@")
	SRV_LOG=$LOGS/$name.server.log
	CLI_LOG=$LOGS/$name.client.log
	t0=$SECONDS
	for attempt in 1 2 3; do
		PORT=$_next_port
		_next_port=$((_next_port + 1))
		srv=() cli=()
		set -- "${tmpl[@]}"
		while [ $# -gt 0 ] && [ "$1" != -- ]; do srv+=("${1//@PORT@/$PORT}"); shift; done
		[ "${1:-}" = -- ] || fail "run_pair $name: no -- between server and client"
		shift
		for a in "$@"; do cli+=("${a//@PORT@/$PORT}"); done

		# Line-buffered output: a server that has to be killed still
		# leaves its log.
		echo "\$ ${srv[*]} &"
		# shellcheck disable=SC2217 # bg runs the command, which gets these
		bg stdbuf -oL -eL "${srv[@]}" > "$SRV_LOG" 2>&1 < /dev/null
		spid=$BG_PID
		end=$((SECONDS + 30))
		until listening "$PORT"; do
			if ! kill -0 "$spid" 2>/dev/null; then
				wait "$spid"
				echo "$name: the server exited (status $?) before listening on port $PORT"
				_show_log "$SRV_LOG"
				fail "$name: server did not start"
			fi
			if [ $SECONDS -ge $end ]; then
				_show_log "$SRV_LOG"
				fail "$name: nothing listens on port $PORT 30 s after the server started"
			fi
			sleep 0.2
		done

		[ -z "${BEFORE_CLIENT:-}" ] || "$BEFORE_CLIENT"
		echo "\$ ${cli[*]}"
		timeout --kill-after=5 "$secs" stdbuf -oL -eL "${cli[@]}" > "$CLI_LOG" 2>&1 < /dev/null
		rc=$?
		if [ $rc != 0 ] && [ $attempt -lt 3 ] && [ -n "${RETRY_IF:-}" ] && "$RETRY_IF"; then
			note "$name: the client failed (status $rc) the way $RETRY_IF describes; again on a new port"
			_stop "$spid"
			continue
		fi
		break
	done

	# The server ends by itself once its client is done; after a failed
	# client it usually waits for good, and the test fails anyway.
	if [ $rc = 0 ]; then end=$((SECONDS + 30)); else end=$((SECONDS + 3)); fi
	while kill -0 "$spid" 2>/dev/null && [ $SECONDS -lt $end ]; do
		sleep 0.2
	done
	if kill -0 "$spid" 2>/dev/null; then
		_stop "$spid"
		srv_rc=timeout
	else
		wait "$spid"
		srv_rc=$?
	fi
	RUN_SECS=$((SECONDS - t0))

	if [ $rc != 0 ] || [ "$srv_rc" != 0 ]; then
		case $rc in
		124|137) echo "$name: the client timed out after $secs s" ;;
		0) ;;
		*) echo "$name: the client exited with status $rc" ;;
		esac
		case $srv_rc in
		timeout) echo "$name: the server was still running after the client ended; killed it" ;;
		0) ;;
		*) echo "$name: the server exited with status $srv_rc" ;;
		esac
		_show_log "$SRV_LOG"
		_show_log "$CLI_LOG"
		fail "$name failed"
	fi
	note "$name: ok (${RUN_SECS} s)"
	if [ "${SIW_TEST_VERBOSE:-0}" = 1 ]; then
		_show_log "$SRV_LOG"
		_show_log "$CLI_LOG"
	fi
	return 0
}

# log_fail LOG WHY: fail the test showing LOG.
log_fail() {
	_show_log "$1"
	fail "$2"
}

# perftest_guard: for tests that run perftest with -R.  perftest 4.5's
# own race: it first connects a control QP, and after exchanging
# parameters over it the server destroys its listener and listens again
# on the same port for the test QPs while the client connects them at
# once.  A client that gets there first is refused (ECONNREFUSED: the
# connect fails a few ms before the new listen, seen with either siw and
# with rxe; perftest reports it as "Connection refused" or as a REJECTED
# event with error -111) and then crashes in librdmacm on its error path;
# the server waits for good.
# Newer perftest retries the connect; here run_pair repeats the run, and
# only when the client failed that way: refused, and never connected.
# The crash is a user-space fault, which the kernel logs as "traps: ...
# general protection fault", a line the suite's kernel-log check would
# take for a kernel problem: the report is off until the test ends.  The
# client's exit status (139) still counts.
_perftest_race() { perftest_refused "$CLI_LOG"; }
perftest_guard() {
	local trace
	RETRY_IF=_perftest_race
	trace=$(sysctl -n debug.exception-trace) || fail "cannot read debug.exception-trace"
	must sysctl -q -w debug.exception-trace=0
	at_exit "sysctl -q -w debug.exception-trace=$trace"
}

# rping_still_works COUNT AFTER: a verified rping of COUNT 4 KiB
# iterations on the test device, after AFTER (what the test did to siw),
# or the test fails.
rping_still_works() {
	run_pair rping-after 60 \
		rping -s -a "$TEST_IP4" -p @PORT@ -S 4096 -C "$1" -V \
		-- \
		rping -c -a "$TEST_IP4" -p @PORT@ -S 4096 -C "$1" -V -v
	[ "$(grep -c '^ping data: rdma-ping-' "$CLI_LOG")" = "$1" ] ||
		log_fail "$CLI_LOG" "rping after $2 did not complete"
}

# --- two hosts (tools/vm-pair) ------------------------------------------------

# The two guests run the same script independently; they meet at named
# points.  Each side serves a directory of flag files over HTTP (busybox
# httpd on the test link only): signal NAME creates flag NAME here,
# await NAME polls the peer until its flag NAME exists.  Plain TCP on a
# port of its own, so no RDMA listener ever sees the polling.
PAIR_SYNC_PORT=7070

# pair_setup: eth0 up with this side's address, the peer reachable, the
# flag server running.  Sets ME, PEER and SIDE (listen or connect).
pair_setup() {
	case ${SIW_VM_LINK:-} in
	listen) ME=192.0.2.1 PEER=192.0.2.2 ;;
	connect) ME=192.0.2.2 PEER=192.0.2.1 ;;
	*) fail "not started by tools/vm-pair" ;;
	esac
	# shellcheck disable=SC2034 # for the pair tests
	SIDE=$SIW_VM_LINK
	must modprobe virtio_net
	wait_for -t 10 test -e /sys/class/net/eth0 || fail "no eth0"
	must ip link set eth0 up
	must ip addr add "$ME/24" dev eth0
	wait_for -t 30 busybox ping -c 1 -W 1 "$PEER" || fail "peer $PEER unreachable"
	_flags=$LOGS/flags
	mkdir -p "$_flags"
	bg busybox httpd -f -p "$ME:$PAIR_SYNC_PORT" -h "$_flags"
	wait_for -t 10 listening "$PAIR_SYNC_PORT" || fail "the flag server did not start"
}

# signal NAME: tell the peer this side has reached NAME.
signal() {
	echo "# signal $1"
	: > "$_flags/$1"
}

# _peer_has NAME: the peer's flag NAME exists.  The request is made by
# bash itself (/dev/tcp): busybox wget crashes in these guests.
_peer_has() {
	local line
	exec 3<> "/dev/tcp/$PEER/$PAIR_SYNC_PORT" || return 1
	printf 'GET /%s HTTP/1.0\r\n\r\n' "$1" >&3
	IFS= read -r -t 5 line <&3
	exec 3<&-
	[[ $line == "HTTP/1."?" 200"* ]]
}

# await NAME [SECS]: wait (default 120 s) until the peer has signalled NAME.
await() {
	local secs=${2:-120}
	echo "# await $1 (peer $PEER)"
	wait_for -t "$secs" _peer_has "$1" || fail "the peer did not reach '$1' within $secs s"
}

# pair_dev: siwp0 on eth0, ACTIVE.  pair_dev_delete: and gone again.
pair_dev() {
	must rdma link add siwp0 type siw netdev eth0
	wait_for -t 10 port_active siwp0 ||
		fail "siwp0 did not become ACTIVE"
}
pair_dev_delete() {
	must rdma link delete siwp0
	wait_for -t 10 no_dev siwp0 || fail "siwp0 still exists after rdma link delete"
}

# Each step of a pair test gets a port of its own.
step_port=7200
SIW_TRAFFIC=$SIW_TOP/build/tests/siw_traffic

# pair_rping TAG SERVER-SIDE SIZE COUNT: a verified rping of COUNT
# iterations of SIZE bytes, the server on SERVER-SIDE, on a port of its
# own.  The server side starts its server and signals TAG once it listens;
# the client side awaits TAG, runs the client and counts its iterations.
# PAIR_ME and PAIR_PEER, when set, are the addresses rping uses instead
# of $ME and $PEER (the flag server stays on those).
pair_rping() {
	local tag=$1 server=$2 size=$3 count=$4 port n rc spid end t0=$SECONDS
	local me=${PAIR_ME:-$ME} peer=${PAIR_PEER:-$PEER}
	port=$step_port
	step_port=$((step_port + 1))
	if [ "$SIDE" = "$server" ]; then
		echo "\$ rping -s -a $me -p $port -S $size -C $count -V &"
		# shellcheck disable=SC2217 # bg runs the command, which gets these
		bg stdbuf -oL -eL rping -s -a "$me" -p "$port" -S "$size" -C "$count" -V \
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
		echo "\$ rping -c -a $peer -p $port -S $size -C $count -V -v"
		timeout --kill-after=5 60 stdbuf -oL -eL \
			rping -c -a "$peer" -p "$port" -S "$size" -C "$count" -V -v \
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

# pair_traffic TAG SERVER-SIDE CLIENT-ARGS...: a verified siw_traffic
# run, the server on SERVER-SIDE, the client (with CLIENT-ARGS) on the
# other side; both must exit 0 with every byte checked. SEND_WITH_INV is
# in the mix only where the provider can report it (SIW_TRAFFIC_INV).
pair_traffic() {
	local tag=$1 server=$2 port rc spid t0=$SECONDS
	shift 2
	port=$step_port
	step_port=$((step_port + 1))
	if [ "$SIDE" = "$server" ]; then
		echo "\$ siw_traffic -s -b $ME -p $port &"
		bg "$SIW_TRAFFIC" -s -b "$ME" -p "$port" -t 170 > "$LOGS/$tag.server.log" 2>&1 < /dev/null
		spid=$BG_PID
		wait_for -t 30 listening "$port" ||
			log_fail "$LOGS/$tag.server.log" "$tag: siw_traffic not listening on $port"
		signal "$tag"
		# The server ends once the client's QPs are done, or at its -t.
		wait "$spid"
		rc=$?
		[ $rc = 0 ] || log_fail "$LOGS/$tag.server.log" "$tag: siw_traffic server exited with status $rc"
		note "$tag: served $PEER ($((SECONDS - t0)) s)"
	else
		await "$tag"
		echo "\$ siw_traffic -c $PEER -p $port ${SIW_TRAFFIC_INV[*]} $*"
		"$SIW_TRAFFIC" -c "$PEER" -p "$port" "${SIW_TRAFFIC_INV[@]}" -t 150 "$@" > "$LOGS/$tag.client.log" 2>&1 < /dev/null
		rc=$?
		[ $rc = 0 ] || log_fail "$LOGS/$tag.client.log" "$tag: siw_traffic client exited with status $rc"
		grep -q '^client: all QPs verified' "$LOGS/$tag.client.log" ||
			log_fail "$LOGS/$tag.client.log" "$tag: the client verified nothing"
		note "$tag: $(grep -c ': OK: ' "$LOGS/$tag.client.log") QPs verified against $PEER ($((SECONDS - t0)) s)"
	fi
}


# pair_vanish: this host dies now, as one does when it loses power:
# tools/vm-run kills the VM from outside, so nothing here runs again, no
# connection gets a FIN or a reset, and the peer's link goes silent. The
# flag server dies with it: the peer can await nothing more from here.
pair_vanish() {
	note "vanishing: tools/vm-run kills this VM"
	sync
	: > "$SIW_VM_OUT/.vm/vanish"
	while :; do sleep 60; done
}
