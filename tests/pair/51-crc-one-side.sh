#!/bin/bash
# providers: stock userlib
# MPA CRC wanted by one side only (RFC 5044 section 7.1): our siw on both
# hosts (tools/vm-pair), the listen side with mpa_crc_enabled=1 and
# mpa_crc_strict=1, the connect side with CRC off.
#   1. A peer without CRC connecting to the strict side is refused: its
#      client sees RDMA_CM_EVENT_REJECTED, the strict side logs why.
#   2. The strict side connecting to the peer without CRC asks for CRC in
#      its MPA Request, the responder must agree, and verified traffic
#      runs (with CRC).
#   3. With its device's mpa_crc set to on at run time the strict side takes
#      the peer without CRC, and verified traffic runs again.
. "$(dirname "$0")/../lib/traffic.sh"

pair_setup
if [ "$SIDE" = listen ]; then
	load_siw mpa_crc_enabled=1 mpa_crc_strict=1
else
	load_siw
fi
pair_dev
signal up
await up

# 1. refused
tag=refused port=$step_port
step_port=$((step_port + 1))
if [ "$SIDE" = listen ]; then
	echo "\$ rping -s -a $ME -p $port &"
	bg rping -s -a "$ME" -p "$port" -C 1 > "$LOGS/$tag.server.log" 2>&1 < /dev/null
	wait_for -t 30 listening "$port" || log_fail "$LOGS/$tag.server.log" "rping server not listening"
	signal "$tag"
	await "$tag-done"
	dmesg | grep -q 'connection refused: peer does not use MPA CRC, which mpa_crc strict requires' ||
		fail "no log line says why the peer was refused"
	kill -0 "$BG_PID" 2>/dev/null || log_fail "$LOGS/$tag.server.log" "the rping server did not keep listening"
	note "$tag: refused the peer without CRC, and said so"
else
	await "$tag"
	echo "\$ rping -c -a $PEER -p $port -C 1"
	out=$(timeout 30 rping -c -a "$PEER" -p "$port" -C 1 2>&1)
	rc=$?
	echo "$out" | sed 's/^/  | /'
	[ $rc != 0 ] && [ $rc != 124 ] || fail "rping to the CRC-strict side: exit status $rc"
	grep -q 'RDMA_CM_EVENT_REJECTED' <<< "$out" || fail "rping was not told it was rejected"
	signal "$tag-done"
fi

# 2. the strict side initiates
pair_rping strict-initiates connect 4096 50
pair_traffic strict-initiates-traffic connect -q 2 -n 100 -m 256k

# 3. no longer strict
if [ "$SIDE" = listen ]; then
	[ "$(cat /sys/class/infiniband/siwp0/mpa_crc)" = strict ] ||
		fail "siwp0 did not start with mpa_crc strict from its module parameters"
	echo on > /sys/class/infiniband/siwp0/mpa_crc || fail "cannot set siwp0's mpa_crc to on"
fi
signal not-strict
await not-strict
pair_rping lenient listen 4096 50
pair_traffic lenient-traffic listen -q 2 -n 100 -m 256k

signal done
await done
pair_dev_delete
unload_siw
# The peer may not have seen our last flag yet (see 50-interop.sh).
sleep 5
exit 0
