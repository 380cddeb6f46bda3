#!/bin/bash
# debug-lane: a device removed under a process
# A device removed while a process holds it open with objects: deleting
# the interface, "rdma link delete" and unloading the module each take
# the device away at once; the process sees EIO and can still release
# its objects (tests/hold/verbs_hold.c). Without disassociation support
# the removal would wait for the process forever.
. "$(dirname "$0")/../lib/guest.sh"

hold=$SIW_TOP/build/tests/verbs_hold
[ -x "$hold" ] || fail "$hold not built (make all-kernels)"

# start_holder DEV: runs verbs_hold on DEV, waits until it holds objects.
start_holder() {
	rm -f /tmp/hold.out
	bg "$hold" "$1" 30 > /tmp/hold.out
	wait_for -t 10 grep -q '^held' /tmp/hold.out ||
		fail "verbs_hold did not set up on $1: $(cat /tmp/hold.out)"
}

# holder_released: the holder saw the removal and exited 0, quickly.
holder_released() {
	local t=$SECONDS
	wait "$BG_PID" || fail "verbs_hold exited non-zero: $(cat /tmp/hold.out)"
	grep -q '^removed:' /tmp/hold.out || fail "verbs_hold output: $(cat /tmp/hold.out)"
	[ $(( SECONDS - t )) -lt 10 ] || fail "holder needed $(( SECONDS - t )) s to notice"
}

load_siw

note "interface deleted under a live process"
must ip link add dummy0 type dummy
must ip link set dummy0 up
must rdma link add siwd0 type siw netdev dummy0
start_holder siwd0
must timeout 20 ip link delete dummy0
wait_for -t 10 no_dev siwd0 || fail "siwd0 still present after its interface went away"
holder_released

note "rdma link delete under a live process"
mk_dummy dummy1
must rdma link add siwd1 type siw netdev dummy1
start_holder siwd1
must timeout 20 rdma link delete siwd1
holder_released
no_dev siwd1 || fail "siwd1 still present"

note "module unloaded under a live process"
must rdma link add siwd1 type siw netdev dummy1
start_holder siwd1
must timeout 20 rmmod siw
holder_released
siw_loaded && fail "siw still loaded"
exit 0
