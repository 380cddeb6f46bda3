#!/bin/bash
# vm-timeout: 180
# providers: stock userlib
# loopback_enabled=1 gives a device siw_lo on lo; RDMA over it to
# 127.0.0.1 and ::1 must work: rping with verification, ib_write_bw over
# rdma_cm, an rstream transfer and the verified siw_traffic mix.
# rdma_cm finds the device by lo's hardware address, which siw sets for
# the purpose (lo has none) and takes back at unload.
#
# Not for SIW_TEST_INTREE=1 in earnest: the in-tree siw has no
# loopback_enabled, and a device it attaches to lo (rdma link add, which
# this test then uses in its place) fails rdma_cm address resolution for
# 127.0.0.1 (see /work/shared/vm-notes.md), so the test fails there at the
# first transfer.  perftest 4.5 resolves IPv4 only, so ib_write_bw runs
# to 127.0.0.1 alone.
. "$(dirname "$0")/../lib/traffic.sh"

if intree; then
	load_under_test
	note "the in-tree siw has no loopback_enabled: attaching siw_lo to lo by hand"
	must rdma link add siw_lo type siw netdev lo
	at_exit "rdma link delete siw_lo"
else
	load_under_test loopback_enabled=1
fi
wait_for -t 10 have_dev siw_lo || fail "siw_lo did not appear (devices: $(siw_devs))"
[ "$(port_state siw_lo)" = ACTIVE ] || fail "siw_lo port is $(port_state siw_lo), not ACTIVE"
ip -6 addr show dev lo | grep -q 'inet6 ::1/128' || fail "lo has no ::1"
lo_addr() { cat /sys/class/net/lo/address; }
intree || [ "$(lo_addr)" = 02:73:69:77:00:01 ] || fail "lo's address is $(lo_addr), not the one siw gives it"

for addr in 127.0.0.1 ::1; do
	for sc in 4096:200 65535:50; do
		size=${sc%:*} count=${sc#*:}
		run_pair "rping-$size-$addr" 60 \
			rping -s -a "$addr" -p @PORT@ -S "$size" -C "$count" -V \
			-- \
			rping -c -a "$addr" -p @PORT@ -S "$size" -C "$count" -V -v
		n=$(grep -c '^ping data: rdma-ping-' "$CLI_LOG")
		[ "$n" = "$count" ] ||
			log_fail "$CLI_LOG" "rping -S $size over $addr completed $n iterations, not $count"
	done

	run_pair "rstream-1M-$addr" 60 \
		rstream -b "$addr" -p @PORT@ -S 1048576 -C 10 -I 1 -T v \
		-- \
		rstream -s "$addr" -p @PORT@ -S 1048576 -C 10 -I 1 -T v
	grep -Eq '^custom +1m +10 +1 ' "$CLI_LOG" || log_fail "$CLI_LOG" "rstream over $addr printed no result row"

	run_pair "siw_traffic-$addr" 90 \
		"$SIW_TRAFFIC" -s -b "$addr" -p @PORT@ \
		-- \
		"$SIW_TRAFFIC" -c "$addr" -p @PORT@ -q 2 -n 100 -m 256k -r 44 "${SIW_TRAFFIC_INV[@]}"
	grep -q '^client: all QPs verified' "$CLI_LOG" || log_fail "$CLI_LOG" "siw_traffic over $addr verified nothing"
done

perftest_guard
for s in 4096 1048576; do
	run_pair "ib_write_bw-$s-127.0.0.1" 60 \
		ib_write_bw -R -F -p @PORT@ -s $s -n 50 \
		-- \
		ib_write_bw -R -F -p @PORT@ -s $s -n 50 127.0.0.1
	grep -Eq "^ *$s +50 +[^ ]" "$CLI_LOG" || log_fail "$CLI_LOG" "ib_write_bw -s $s printed no result row"
	grep -q 'Device *: siw_lo' "$CLI_LOG" || log_fail "$CLI_LOG" "ib_write_bw did not run on siw_lo"
done

if intree; then
	must rdma link delete siw_lo
fi
unload_siw
no_dev siw_lo || fail "siw_lo still exists after unload"
[ "$(lo_addr)" = 00:00:00:00:00:00 ] || fail "lo's address is $(lo_addr) after unload, not all zeros again"
exit 0
