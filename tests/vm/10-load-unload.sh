#!/bin/bash
# siw loads and unloads cleanly, creates no device unless asked to, makes
# a working siw_lo with loopback_enabled=1, and survives repeated
# load/unload cycles while devices are attached.
. "$(dirname "$0")/../lib/guest.sh"

load_siw
# Devices may be created asynchronously: give them a moment to show up.
sleep 1
devs=$(siw_devs)
[ -z "$devs" ] || fail "a plain load created devices: $devs"
unload_siw

load_siw loopback_enabled=1
wait_for -t 5 have_dev siw_lo || fail "siw_lo did not appear (devices: $(siw_devs))"
links=$(rdma link show)
grep -q '^link siw_lo/1 ' <<< "$links" || fail "rdma link show does not list siw_lo:"$'\n'"$links"
devices=$(ibv_devices)
grep -qw siw_lo <<< "$devices" || fail "ibv_devices does not list siw_lo:"$'\n'"$devices"
info=$(ibv_devinfo -v -d siw_lo) || fail "ibv_devinfo -v -d siw_lo failed"
grep -Eq '^[[:space:]]*transport:[[:space:]]+iWARP' <<< "$info" ||
	fail "siw_lo transport is not iWARP:"$'\n'"$info"
grep -Eq '^[[:space:]]*state:[[:space:]]+PORT_ACTIVE' <<< "$info" ||
	fail "siw_lo port is not PORT_ACTIVE:"$'\n'"$info"
unload_siw
no_dev siw_lo || fail "siw_lo still exists after unload"

# The cycles use bare insmod/rmmod: dependencies stay loaded after the
# first load, and every extra program costs time under emulation.
mk_dummy dummy0
note "20 load/unload cycles with siw_lo and siw_dummy0"
for i in $(seq 20); do
	insmod "$SIW_KO" loopback_enabled=1 attach=dummy0 || fail "cycle $i: insmod failed"
	wait_for -t 5 have_dev siw_lo || fail "cycle $i: siw_lo missing (devices: $(siw_devs))"
	wait_for -t 5 have_dev siw_dummy0 || fail "cycle $i: siw_dummy0 missing (devices: $(siw_devs))"
	rmmod siw || fail "cycle $i: rmmod siw failed"
	left=$(siw_devs)
	[ -z "$left" ] || fail "cycle $i: devices left after rmmod: $left"
done
exit 0
