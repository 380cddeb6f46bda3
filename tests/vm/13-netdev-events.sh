#!/bin/bash
# siw follows its netdevs: link down/up moves the port state, MTU changes
# show in the port attributes, an unregistered netdev takes its device
# with it (also while a process holds the device), and attach=all /
# attach=LIST pick up netdevs that appear after the load.
. "$(dirname "$0")/../lib/guest.sh"

port_is() { [ "$(port_state "$1")" = "$2" ]; }
mtu_is() { [ "$(devinfo_field "$1" active_mtu)" = "$2" ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
tmp=$(mktemp -d)
at_exit "rm -rf $tmp"

mk_dummy dummy0
load_siw
must rdma link add siwd0 type siw netdev dummy0
at_exit "rdma link delete siwd0"

# --- link state -------------------------------------------------------
wait_for -t 5 port_is siwd0 ACTIVE || fail "siwd0 port is $(port_state siwd0), not ACTIVE, with dummy0 up"
must ip link set dummy0 down
wait_for port_is siwd0 DOWN || fail "siwd0 port is $(port_state siwd0) 10 s after dummy0 went down"
state=$(devinfo_field siwd0 state)
[[ $state == PORT_DOWN* ]] || fail "ibv_devinfo shows state '$state' with dummy0 down"
must ip link set dummy0 up
wait_for port_is siwd0 ACTIVE || fail "siwd0 port is $(port_state siwd0) 10 s after dummy0 came up"
state=$(devinfo_field siwd0 state)
[[ $state == PORT_ACTIVE* ]] || fail "ibv_devinfo shows state '$state' with dummy0 up"

# --- MTU: the largest IB MTU that fits the netdev's ------------------------
for m in 9000:"4096 (5)" 1400:"1024 (3)" 1500:"1024 (3)"; do
	must ip link set dummy0 mtu "${m%%:*}"
	wait_for -t 5 mtu_is siwd0 "${m#*:}" ||
		fail "netdev MTU ${m%%:*}: active_mtu is '$(devinfo_field siwd0 active_mtu)', expected '${m#*:}'"
	note "MTU ${m%%:*}: active_mtu ${m#*:}, max_mtu $(devinfo_field siwd0 max_mtu)"
done

# --- netdev unregistered under the device -----------------------------------
must ip link delete dummy0
wait_for no_dev siwd0 || fail "siwd0 still exists 10 s after dummy0 was deleted"
unload_siw

# --- the same while a process has the device open ---------------------------
# verbs_hold (tests/hold) opens the device with a PD, CQ, QP and MR and
# waits; the removal must not wait for it, and it must learn that the
# device is gone (its queries fail), release everything and exit 0.
hold=$SIW_TOP/build/tests/verbs_hold
[ -x "$hold" ] || fail "$hold not built (make -C tests)"
mk_dummy dummy0
load_siw
must rdma link add siwd0 type siw netdev dummy0
bg "$hold" siwd0 60 > "$tmp/hold.out" 2>&1
holder=$BG_PID
held() { grep -q '^held' "$tmp/hold.out"; }
wait_for -t 20 held || fail "verbs_hold did not get hold of siwd0:"$'\n'"$(cat "$tmp/hold.out")"
must ip link delete dummy0
wait_for no_dev siwd0 || fail "siwd0 still exists 10 s after dummy0 was deleted under verbs_hold"
wait_for gone "$holder" || fail "verbs_hold still running 10 s after its device went away"
wait "$holder"
rc=$?
cat "$tmp/hold.out"
[ $rc = 0 ] || fail "verbs_hold exited with $rc"
grep -q '^removed' "$tmp/hold.out" || fail "verbs_hold did not see the removal"
unload_siw

# --- attach=all: netdevs created after the load get devices ------------------
load_siw attach=all
mk_dummy dummy3
wait_for have_dev siw_dummy3 || fail "attach=all: no siw_dummy3 10 s after dummy3 appeared (devices: $(siw_devs))"
must ip link delete dummy3
wait_for no_dev siw_dummy3 || fail "siw_dummy3 still exists 10 s after dummy3 was deleted"
unload_siw

# --- attach=LIST: named netdevs only, also when they appear later ------------
load_siw attach=dummy5,dummy7
sleep 1
devs=$(siw_devs)
[ -z "$devs" ] || fail "attach=dummy5,dummy7 without those netdevs made devices: $devs"
mk_dummy dummy6
mk_dummy dummy5
mk_dummy dummy7
wait_for have_dev siw_dummy5 || fail "attach list: no siw_dummy5 10 s after dummy5 appeared (devices: $(siw_devs))"
wait_for have_dev siw_dummy7 || fail "attach list: no siw_dummy7 10 s after dummy7 appeared (devices: $(siw_devs))"
no_dev siw_dummy6 || fail "attach=dummy5,dummy7 attached dummy6 too"
# Unloading with the devices in place must take them down too.
unload_siw
devs=$(siw_devs)
[ -z "$devs" ] || fail "devices left after unload: $devs"
must ip link delete dummy5
must ip link delete dummy6
must ip link delete dummy7
exit 0
