# shellcheck shell=bash
# Helpers for the VM tests in tests/vm/: source this file first.
#
# The tests run as root inside a throw-away guest (tools/vm-run), so they
# may load modules and create netdevs freely, but each must still leave
# the guest as it found it: the next test of the suite runs in the same
# guest.  Whatever a test registers with at_exit (mk_dummy, mk_netns and
# bg do it for it) is undone when it exits, pass or fail; siw itself is
# only unloaded behind a test's back when it fails, so that a test which
# passes but forgets to unload is caught by the suite runner.
#
# A test passes by exiting 0.  There is no "skip": a test that cannot do
# its job fails.  Call fail and must only in the test's own shell, not
# inside $(...), where their exit would end just the subshell.

SIW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SIW_KO=${SIW_KO:-$SIW_TOP/build/$(uname -r)/siw/siw.ko}
# Linux's own siw driver, built by tools/build-intree-siw (make intree-siw)
# as a peer and baseline; its module is also named siw.
SIW_INTREE_KO=${SIW_INTREE_KO:-$SIW_TOP/build/$(uname -r)/intree-siw/siw.ko}

# The libibverbs provider serving siw devices in this run: "stock"
# (rdma-core's) or "userlib" (ours). tests/lib/provider.sh sets it up;
# tests/lib/suite.sh runs a test once per provider its "# providers:"
# line names.
SIW_PROVIDER=${SIW_TEST_PROVIDER:-stock}
# siw_traffic's SEND_WITH_INV names the server's ordinary MRs, and a
# peer may invalidate only fast registrations (and memory windows), which
# user space cannot make: siw answers with a Terminate, as rxe refuses.
SIW_TRAFFIC_INV=(-I 0)

if [ "${SIW_VM:-}" != 1 ]; then
	echo "these tests load kernel modules: run them in a VM (tools/vm-run -- $0)" >&2
	exit 1
fi

# Loaded on first use, the dummy driver creates a dummy0 of its own
# (numdummies=1), which would collide with the tests' `ip link add dummy0`
# or turn up unasked under attach=all.
[ -d /sys/module/dummy ] || modprobe dummy numdummies=0

# --- reporting and running ---------------------------------------------

note() { echo "# $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# Run a command that must succeed; echoing it first makes a failing test's
# log read like a transcript.
must() {
	echo "\$ $*"
	"$@" || fail "exit status $? from: $*"
}

# Run a command that must fail.
must_fail() {
	echo "\$ $* (must fail)"
	if "$@"; then
		fail "succeeded but should have failed: $*"
	fi
	return 0
}

# wait_for [-t SECS] CMD...: poll CMD until it succeeds (default 10 s);
# returns non-zero on timeout, so use it as `wait_for ... || fail ...`.
# Things like device removal after a netdev goes away are asynchronous.
wait_for() {
	local secs=10 end
	if [ "$1" = -t ]; then secs=$2; shift 2; fi
	end=$(( SECONDS + secs ))
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
}

# --- clean-up ----------------------------------------------------------------

_cleanups=()
at_exit() { _cleanups+=("$*"); }

# A clean-up step can block for good in the kernel (deleting a netdev
# whose reference leaked waits forever, unkillably), and the test would
# then sit out its whole time limit; give each step 60 s (depmod alone
# needs half of that under emulation) and move on.
_bounded() {
	local pid end=$(( SECONDS + 60 ))
	( eval "$1" ) >/dev/null 2>&1 &
	pid=$!
	while [ $SECONDS -lt $end ]; do
		kill -0 $pid 2>/dev/null || { wait $pid; return; }
		sleep 0.1
	done
	echo "# clean-up step still blocked after 60 s: $1" >&2
	return 1
}

_on_exit() {
	local rc=$? i
	set +e
	for (( i = ${#_cleanups[@]} - 1; i >= 0; i-- )); do
		_bounded "${_cleanups[i]}"
	done
	if [ $rc != 0 ] && [ -d /sys/module/siw ]; then
		rmmod siw 2>/dev/null || echo "# could not unload siw after the failure" >&2
	fi
	exit $rc
}
trap _on_exit EXIT

# Start a background command that is killed when the test exits; its pid
# is left in BG_PID.
bg() {
	"$@" &
	BG_PID=$!
	at_exit "kill -9 $BG_PID"
}

# --- netdevs -------------------------------------------------------------

# mk_dummy NAME [MAC]: a dummy Ethernet netdev, up.
mk_dummy() {
	must ip link add "$1" type dummy
	at_exit "ip link del $1"
	[ -z "${2:-}" ] || must ip link set "$1" address "$2"
	must ip link set "$1" up
}

# memcg_root: CGROOT is the cgroup v2 root, mounted if the guest has
# none, with the memory controller enabled for the groups below it.
memcg_root() {
	CGROOT=/sys/fs/cgroup
	if ! grep -q memory "$CGROOT/cgroup.controllers" 2>/dev/null; then
		mkdir -p "$CGROOT"
		must mount -t cgroup2 none "$CGROOT"
		at_exit "umount $CGROOT"
	fi
	echo +memory > "$CGROOT/cgroup.subtree_control" 2>/dev/null
}

# mk_netns NAME: a network namespace with its lo up.
mk_netns() {
	must ip netns add "$1"
	at_exit "ip netns del $1"
	must ip -n "$1" link set lo up
}

# veth_netns NSA ADDRA NSB ADDRB: namespaces NSA and NSB (mk_netns)
# joined by a veth pair, veth_a in NSA with IPv4 address ADDRA/24 and
# veth_b in NSB with ADDRB/24, both up. The pair goes away with the
# namespaces.
veth_netns() {
	mk_netns "$1"
	mk_netns "$3"
	must ip link add veth_a netns "$1" type veth peer name veth_b netns "$3"
	must ip -n "$1" addr add "$2/24" dev veth_a
	must ip -n "$3" addr add "$4/24" dev veth_b
	must ip -n "$1" link set veth_a up
	must ip -n "$3" link set veth_b up
}

# netns_siw_dev NS DEV NETDEV: siw device DEV on NETDEV, which lives in
# network namespace NS (such a device is added from inside it), ACTIVE;
# deleted when the test exits.
netns_siw_dev() {
	must ip netns exec "$1" rdma link add "$2" type siw netdev "$3"
	at_exit "rdma link delete $2"
	wait_for port_active "$2" || fail "$2 is not ACTIVE"
}

# --- siw -----------------------------------------------------------------

# Load siw's dependencies the way modprobe would (insmod does not), plus
# rdma_ucm, which rdma-core's boot-time set-up loads on a real system and
# without which rdma_cm users like rping cannot open the device.
# siw_deps [KO]: for KO, default $SIW_KO.
siw_deps() {
	local ko=${1:-$SIW_KO} deps dep
	[ -f "$ko" ] || fail "$ko not built (make all-kernels)"
	deps=$(modinfo -F depends "$ko") || fail "modinfo cannot read $ko"
	for dep in ${deps//,/ } rdma_ucm; do
		modprobe "$dep" || fail "modprobe $dep failed"
	done
}

# siw_insmod [PARAM=VALUE...]: try to load siw, return insmod's status.
# A value with spaces must be quoted for the kernel: 'attach="a b"'.
siw_insmod() {
	siw_deps
	echo "\$ insmod siw.ko $*"
	insmod "$SIW_KO" "$@"
}

load_siw() {
	siw_insmod "$@" || fail "insmod siw.ko $* failed"
}

# load_intree_siw [PARAM=VALUE...]: load the kernel's in-tree siw
# ($SIW_INTREE_KO) instead of ours, dependencies first as for load_siw.
# unload_siw, siw_loaded and siw_devs work for it as well.
load_intree_siw() {
	siw_deps "$SIW_INTREE_KO"
	echo "\$ insmod intree-siw/siw.ko $*"
	insmod "$SIW_INTREE_KO" "$@" || fail "insmod of the in-tree siw.ko $* failed"
}

unload_siw() {
	echo "\$ rmmod siw"
	rmmod siw || fail "rmmod siw failed"
	[ ! -d /sys/module/siw ] || fail "siw still loaded after rmmod"
}

siw_loaded() { [ -d /sys/module/siw ]; }

# The RDMA devices siw provides.  They are recognised by their node type
# (iWARP RNIC): no other iWARP provider exists in the guest, and names are
# chosen freely with `rdma link add`.
siw_devs() {
	local d t
	for d in /sys/class/infiniband/*; do
		[ -e "$d/node_type" ] || continue
		read -r t < "$d/node_type"
		[ "$t" = "4: RNIC" ] && echo "${d##*/}"
	done
	return 0
}

have_dev() { [ -e "/sys/class/infiniband/$1" ]; }
no_dev() { [ ! -e "/sys/class/infiniband/$1" ]; }

# no_siw_resources WHAT DEVPATTERN: once the processes are gone, nothing
# is left on the devices whose names match DEVPATTERN: within 30 s no QP,
# and then no CQ, PD or MR either (rdma resource). WHAT names the step in
# the failure.
_siw_qps() { rdma resource show qp 2>/dev/null | grep "$1"; }
_no_siw_qps() { ! _siw_qps "$1" > /dev/null; }
no_siw_resources() {
	local left
	wait_for -t 30 _no_siw_qps "$2" ||
		fail "$1: QPs left behind:"$'\n'"$(_siw_qps "$2")"
	left=$(rdma resource show 2>&1 | grep "$2" |
		grep -E 'qp [1-9]|cq [1-9]|pd [1-9]|mr [1-9]')
	[ -z "$left" ] || fail "$1: resources left behind: $left"
}

# port_state DEV: ACTIVE, DOWN, ... as the kernel reports port 1.
port_state() {
	local s
	read -r s < "/sys/class/infiniband/$1/ports/1/state" || return 1
	echo "${s#*: }"
}

# port_active DEV: its port 1 is ACTIVE (for wait_for).
port_active() { [ "$(port_state "$1")" = ACTIVE ]; }

# hw_counter DEV NAME: port 1's counter NAME (rdma statistic).
hw_counter() { cat "/sys/class/infiniband/$1/ports/1/hw_counters/$2"; }

# devinfo_field DEV FIELD [ibv_devinfo options]: the value ibv_devinfo
# prints for FIELD, e.g. `devinfo_field siw_lo transport` -> "iWARP (1)".
devinfo_field() {
	local dev=$1 field=$2
	shift 2
	ibv_devinfo "$@" -d "$dev" |
		awk -v f="$field:" '$1 == f { sub(/^[^:]*:[ \t]*/, ""); print; exit }'
}

# The kernel log since the test (or the suite) last cleared it.
klog() { dmesg 2>/dev/null; }

# perftest_refused LOG: a perftest client whose output is LOG lost
# perftest 4.5's own listen race (tests/lib/traffic.sh, perftest_guard):
# refused, and never connected.
perftest_refused() {
	grep -Eq 'Connection refused|RDMA_CM_EVENT_REJECTED; error: -111' "$1" &&
		! grep -q 'remote address:' "$1"
}

# set_crc_impl IMPL: writes mpa_crc_impl at run time and checks that it
# reads back IMPL (lib or crypto).
set_crc_impl() {
	local p=/sys/module/siw/parameters/mpa_crc_impl got
	echo "$1" > $p || fail "cannot set mpa_crc_impl=$1 at run time"
	read -r got < $p
	[ "$got" = "$1" ] || fail "set mpa_crc_impl=$1, it reads $got"
}
