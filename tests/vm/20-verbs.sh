#!/bin/bash
# debug-lane: verbs with bad arguments and object life cycles
# The libibverbs control path through the distribution's stock siw
# provider: every object type created, queried and destroyed, limits,
# QP transitions, flushing through the mapped queues, and clean-up after
# a killed process (tests/verbs). Run on an Ethernet-like device and on
# the loopback device.
. "$(dirname "$0")/../lib/guest.sh"

vt=$SIW_TOP/build/tests/verbs_test
[ -x "$vt" ] || fail "$vt not built (make all-kernels)"

mk_dummy dummy0
load_siw loopback_enabled=1
wait_for have_dev siw_lo || fail "siw_lo missing"
must rdma link add siwd0 type siw netdev dummy0

must "$vt" -d siwd0 -n dummy0
must "$vt" -d siw_lo

must rdma link delete siwd0
unload_siw
exit 0
