#!/bin/bash
# vm-timeout: 1500
# Faults under verified traffic (tests/traffic/siw_traffic, every byte
# checked), siw with MPA CRC on, a device in each of two network
# namespaces joined by a veth pair:
#   1. netem on both ends: loss 1 % and 5 %, reordering, duplication
#      with loss, delay with jitter. TCP repairs all of it: the data
#      must arrive verified.
#   2. The link down for 2 s in mid-transfer, then up again. siw rides
#      it out as TCP does (a flap shorter than TCP's retransmission
#      timeout is invisible to the connection; docs/testing.md): the
#      transfer must end verified.
#   3. 1000 QPs carrying traffic at once, all verified (SIW_FAULT_QPS:
#      the debug kernel takes 200, tests/run says why).
#   4. A client in a memory cgroup of 6 to 48 MiB: whether siw's own
#      allocation fails (ENOMEM from the verb), the process is OOM-killed
#      in mid-transfer or it fits, nothing of siw's outlives it, and the
#      same client outside the cgroup is served.
#   5. The peer host vanishes in mid-transfer (the link drops everything,
#      the server process is killed): the client gives up at its time
#      limit, its QPs with unacknowledged data on their streams are torn
#      down, and the link, once back, carries verified traffic again.
#   6. The netdev deleted in mid-transfer: the siw device on it goes,
#      both sides end with an error within their time limit.
# After each: no siw resources left (rdma resource), and at the end siw
# unloads with a clean kernel log (the suite also scans kmemleak on the
# debug kernel).
. "$(dirname "$0")/../lib/guest.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"
port=21000

A=10.78.0.1
B=10.78.0.2

veth_netns fa $A fb $B
load_siw mpa_crc_enabled=1
netns_siw_dev fa siwfa veth_a
netns_siw_dev fb siwfb veth_b

listening() { grep -q '^server: listening' "$tmp/server.out"; }

# start_server: a siw_traffic server in fb on a new port, SERVER_SECS
# (default 400) its time limit.
start_server() {
	port=$((port + 1))
	: > "$tmp/server.out"
	bg ip netns exec fb "$tr" -s -b $B -p $port -t "${SERVER_SECS:-400}" > "$tmp/server.out" 2>&1
	SPID=$BG_PID
	wait_for -t 60 listening ||
		fail "the server did not listen:"$'\n'"$(cat "$tmp/server.out")"
}

# client ARGS: a client in fa against the server; its status in CRC.
client() {
	echo "\$ siw_traffic -c $B -p $port $*"
	ip netns exec fa "$tr" -c $B -p $port "$@" > "$tmp/client.out" 2>&1 < /dev/null
	CRC=$?
	tail -n 4 "$tmp/client.out" | sed 's/^/  | /'
}

# verified NAME ARGS: client and server both exit 0, all QPs verified.
verified() {
	local name=$1 src
	shift
	start_server
	client -t 300 -I 0 "$@"
	# A client that failed at once leaves the server waiting for it.
	[ $CRC = 0 ] || kill "$SPID" 2>/dev/null
	wait "$SPID"
	src=$?
	all_verified "$name" "$src"
	no_resources_left "$name"
}

# all_verified NAME SERVER-STATUS: client ($CRC) and server both exited
# 0, the client with every QP verified.
all_verified() {
	[ $CRC = 0 ] && [ "$2" = 0 ] && grep -q '^client: all QPs verified' "$tmp/client.out" ||
		fail "$1: client status $CRC, server $2"$'\n'"$(grep -v ': OK:' "$tmp/client.out" | head -n 20)"$'\n'"$(grep -v ': OK:' "$tmp/server.out" | head -n 20)"
}

# no_resources_left NAME: nothing of siw's still allocated once the
# processes are gone.
no_resources_left() { no_siw_resources "$1" siwf; }

# fault_run FAULT CLIENT-ARGS...: a transfer into which FAULT (shell
# code) strikes 3 s after the client started; the client's status in
# CRC, the server's in SRC.
fault_run() {
	local fault=$1 pid
	shift
	( sleep 3; eval "$fault" ) > /dev/null 2>&1 &
	pid=$!
	client "$@"
	wait $pid
	wait "$SPID"
	SRC=$?
}

# netem SPEC...: the same netem qdisc on both ends of the link.
netem() {
	must ip netns exec fa tc qdisc replace dev veth_a root netem "$@"
	must ip netns exec fb tc qdisc replace dev veth_b root netem "$@"
}
netem_off() {
	ip netns exec fa tc qdisc del dev veth_a root 2>/dev/null
	ip netns exec fb tc qdisc del dev veth_b root 2>/dev/null
	return 0
}

# --- 1. netem -----------------------------------------------------------
modprobe sch_netem || fail "no sch_netem in this kernel"
at_exit netem_off
ops=(-q 4 -n 60 -m 256k)
for spec in "loss 1%" "loss 5%" "delay 2ms reorder 25% 50%" \
	    "duplicate 5% loss 1%" "delay 10ms 5ms"; do
	note "netem $spec"
	# shellcheck disable=SC2086
	netem $spec
	verified "netem $spec" "${ops[@]}"
done
netem_off

# --- 2. a 2-second link flap ------------------------------------------------
start_server
note "veth_a down for 2 s, 3 s into the transfer"
fault_run "ip -n fa link set veth_a down; sleep 2; ip -n fa link set veth_a up" \
	-t 300 -I 0 -q 4 -n 400 -m 256k
all_verified "link flap" "$SRC"
no_resources_left "link flap"

# --- 3. 1000 QPs at once ---------------------------------------------------------
# Each side's QPs are a thread and a few descriptors apiece.
qps=${SIW_FAULT_QPS:-1000}
ulimit -n 16384 || fail "cannot raise the descriptor limit"
note "$qps QPs"
verified "$qps QPs" -q "$qps" -n 4 -m 16k -w 2

# --- 4. a memory cgroup too small -----------------------------------------------
memcg_root
cg=$CGROOT/siw-tight
must mkdir $cg
at_exit "rmdir $cg"
# From a limit the process barely starts in to one it almost fits: the
# allocation that fails is siw's (the verb fails with ENOMEM), the
# process's own (the cgroup's OOM killer ends it in mid-transfer), or
# none. Whichever: no siw resource may outlive the process.
outcomes=()
for limit in 6M 12M 24M 48M; do
	echo "$limit" > $cg/memory.max || fail "cannot limit the cgroup's memory"
	ooms0=$(awk '/^oom_kill /{print $2}' $cg/memory.events)
	start_server
	echo "\$ siw_traffic -c $B -p $port -q 32 -w 16 -m 16k -n 20  (memory.max $limit)"
	# Into the cgroup first: ip netns exec mounts a sysfs of the
	# namespace's own, without the cgroup file system.
	sh -c "echo \$\$ > $cg/cgroup.procs && exec ip netns exec fa $tr -c $B -p $port -q 32 -w 16 -m 16k -n 20 -I 0 -t 120" \
		> "$tmp/client.out" 2>&1 < /dev/null
	CRC=$?
	[ $CRC = 0 ] || kill "$SPID" 2>/dev/null
	wait "$SPID"
	ooms=$(( $(awk '/^oom_kill /{print $2}' $cg/memory.events) - ooms0 ))
	if [ $CRC = 0 ] && grep -q '^client: all QPs verified' "$tmp/client.out"; then
		outcome=verified
	elif [ $ooms -gt 0 ]; then
		outcome=oom-killed
	elif grep -q 'Cannot allocate memory' "$tmp/client.out"; then
		outcome=ENOMEM
	else
		fail "memory.max $limit: the client failed, but not for memory:"$'\n'"$(tail -n 20 "$tmp/client.out")"
	fi
	echo "  memory.max $limit: $outcome"
	outcomes+=("$limit:$outcome")
	no_resources_left "memory.max $limit"
done
note "memory cgroup outcomes: ${outcomes[*]}"
verified "after the memory cgroup" -q 32 -w 16 -m 16k -n 20

# --- 5. the peer host vanishes ---------------------------------------------------
# What a client sees when the server's host dies: nothing more, not even
# a reset. All of the link drops everything, then the server process is
# killed (its siw's resets are dropped too).
SERVER_SECS=120 start_server
note "the server's side goes silent and its process dies, 3 s into the transfer"
t0=$SECONDS
fault_run 'netem loss 100%; kill -9 "$SPID"' -t 20 -I 0 -q 4 -n 100000 -m 256k
echo "  client status $CRC after $((SECONDS - t0)) s"
[ $CRC != 0 ] || fail "the client finished although its server vanished"
[ $((SECONDS - t0)) -le 40 ] || fail "the client took $((SECONDS - t0)) s to give up (its limit: 20 s)"
no_resources_left "peer vanished"
netem_off
verified "after the peer vanished" -q 2 -n 20 -m 64k

# --- 6. the netdev deleted in mid-transfer ------------------------------------
SERVER_SECS=90 start_server
note "veth_b deleted 3 s into the transfer"
# More than any run can move in 3 s: with large FPDUs over this veth
# pair, 4 x 2000 ops of up to 256 KiB were done before the deletion.
t0=$SECONDS
fault_run "ip -n fb link del veth_b" -t 60 -I 0 -q 4 -n 100000 -m 256k
echo "  client status $CRC, server status $SRC after $((SECONDS - t0)) s"
[ $CRC != 0 ] || fail "the client finished although its link was deleted"
[ $((SECONDS - t0)) -lt 50 ] ||
	fail "the client ran into its time limit instead of failing on the deleted link"
wait_for -t 30 no_dev siwfb || fail "siwfb stayed after its netdev was deleted"
wait_for -t 30 no_dev siwfa || fail "siwfa stayed after its netdev's peer was deleted"
no_resources_left "netdev deleted"

rdma link delete siwfa 2>/dev/null
unload_siw
exit 0
