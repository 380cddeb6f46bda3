#!/bin/bash
# Per-device interop settings (docs/parameters.md): every siw device has
# mpa_rev, mpa_crc, peer_to_peer, mpa_rtr, max_ird, max_ord, zcopy_tx and
# large_fpdu in /sys/class/infiniband/DEV/. A new device starts from the module
# parameters; a change of a parameter later reaches only devices created
# after it; a device's attributes take every valid value and refuse the
# rest, and peer_to_peer without MPA revision 2, with EINVAL and a log
# line that names the attribute, leaving the setting as it was. The new
# module parameters refuse bad values at load time like the old ones.
. "$(dirname "$0")/../lib/guest.sh"

# reject PARAM ARG: as in 11-params: insmod must fail and name PARAM.
reject() {
	local param=$1 arg=$2 out
	dmesg -C
	if out=$(siw_insmod "$arg" 2>&1); then
		rmmod siw
		fail "insmod accepted $arg"
	fi
	grep -q 'Invalid param' <<< "$out" || fail "insmod $arg failed, but not with EINVAL: $out"
	siw_loaded && fail "siw is loaded after the rejected $arg"
	klog | grep -q "siw:.*$param" || fail "no 'siw:' kernel message names $param after $arg"
	note "rejected $arg: $(klog | grep "siw:.*$param" | head -n 1)"
}

siw_deps
reject mpa_rev mpa_rev=3
reject mpa_rev mpa_rev=0
reject mpa_rtr mpa_rtr=fast
reject mpa_rtr mpa_rtr=write,
reject mpa_rtr mpa_rtr=
reject max_ird max_ird=129
reject max_ord max_ord=-1
reject large_fpdu large_fpdu=2

parms=$(modinfo -F parm "$SIW_KO") || fail "modinfo cannot read $SIW_KO"
for p in mpa_rev peer_to_peer mpa_rtr max_ird max_ord large_fpdu; do
	grep -q "^$p:.\{10\}" <<< "$parms" || fail "modinfo does not document $p"
done

# expect DEV ATTR VALUE
expect() {
	local got
	read -r got < "/sys/class/infiniband/$1/$2" || fail "cannot read $1's $2"
	[ "$got" = "$3" ] || fail "$1's $2 is '$got', expected '$3'"
}

# refuse DEV ATTR VALUE PATTERN: the write fails, the log says PATTERN,
# the attribute keeps its value.
refuse() {
	local before
	read -r before < "/sys/class/infiniband/$1/$2"
	dmesg -C
	if echo "$3" > "/sys/class/infiniband/$1/$2" 2>/dev/null; then
		fail "$1's $2 took '$3'"
	fi
	expect "$1" "$2" "$before"
	klog | grep -q "$1: $2: $4" ||
		fail "no log line '$1: $2: $4' after writing '$3':"$'\n'"$(klog)"
}

load_siw mpa_rev=1 mpa_crc_enabled=1 mpa_crc_strict=1 mpa_rtr=send,read \
	max_ird=7 max_ord=0 zcopy_tx=2 large_fpdu=0
mk_dummy dummy0
mk_dummy dummy1
must rdma link add siwd0 type siw netdev dummy0
at_exit "rdma link delete siwd0"
expect siwd0 mpa_rev 1
expect siwd0 mpa_crc strict
expect siwd0 peer_to_peer 0
expect siwd0 mpa_rtr read,send
expect siwd0 max_ird 7
expect siwd0 max_ord 0
expect siwd0 zcopy_tx 2
expect siwd0 large_fpdu 0
for a in mpa_rev mpa_crc peer_to_peer mpa_rtr max_ird max_ord zcopy_tx large_fpdu; do
	mode=$(stat -c %a /sys/class/infiniband/siwd0/$a)
	[ "$mode" = 644 ] || fail "siwd0's $a has mode $mode, not 644"
done

# Every valid value reads back as written (or in its canonical form).
for v in 2:2 1:1; do
	echo "${v%:*}" > /sys/class/infiniband/siwd0/mpa_rev || fail "mpa_rev ${v%:*} refused"
	expect siwd0 mpa_rev "${v#*:}"
done
for v in off on strict; do
	echo $v > /sys/class/infiniband/siwd0/mpa_crc || fail "mpa_crc $v refused"
	expect siwd0 mpa_crc $v
done
for v in write:write send,write:write,send all:write,read,send read:read; do
	echo "${v%:*}" > /sys/class/infiniband/siwd0/mpa_rtr || fail "mpa_rtr ${v%:*} refused"
	expect siwd0 mpa_rtr "${v#*:}"
done
for a in max_ird max_ord; do
	for v in 0 1 128 16; do
		echo $v > /sys/class/infiniband/siwd0/$a || fail "$a $v refused"
		expect siwd0 $a $v
	done
done
for v in 1:1 0:0 2:2 on:1 off:0; do
	echo "${v%:*}" > /sys/class/infiniband/siwd0/zcopy_tx || fail "zcopy_tx ${v%:*} refused"
	expect siwd0 zcopy_tx "${v#*:}"
done

refuse siwd0 mpa_rev 3 "'3' is not 1 or 2"
refuse siwd0 mpa_rev x "'x' is not 1 or 2"
refuse siwd0 mpa_crc maybe "'maybe' is not off, on or strict"
refuse siwd0 mpa_rtr "write,," "'write,,' is not all or a comma-separated list"
refuse siwd0 mpa_rtr "" "'' is not all or a comma-separated list"
refuse siwd0 max_ird 129 "'129' is not a number from 0 to 128"
refuse siwd0 max_ord -1 "'-1' is not a number from 0 to 128"
refuse siwd0 zcopy_tx 3 "'3' is not 0 (off), 1 (on) or 2 (always)"
for v in 1 0; do
	echo $v > /sys/class/infiniband/siwd0/large_fpdu || fail "large_fpdu $v refused"
	expect siwd0 large_fpdu $v
done
refuse siwd0 large_fpdu yes "'yes' is not 0 or 1"
refuse siwd0 peer_to_peer 2 "'2' is not 0 or 1"
# Peer-to-peer mode exists in MPA revision 2 only, in either order.
refuse siwd0 peer_to_peer 1 "peer_to_peer needs mpa_rev 2"
echo 2 > /sys/class/infiniband/siwd0/mpa_rev || fail "mpa_rev 2 refused"
echo 1 > /sys/class/infiniband/siwd0/peer_to_peer || fail "peer_to_peer 1 refused with mpa_rev 2"
refuse siwd0 mpa_rev 1 "peer_to_peer needs mpa_rev 2"

# The parameters are defaults: a change reaches only later devices.
echo 2 > /sys/module/siw/parameters/mpa_rev || fail "cannot set the mpa_rev parameter"
echo write > /sys/module/siw/parameters/mpa_rtr || fail "cannot set the mpa_rtr parameter"
echo 0 > /sys/module/siw/parameters/mpa_crc_enabled || fail "cannot clear mpa_crc_enabled"
echo 1 > /sys/module/siw/parameters/peer_to_peer || fail "cannot set the peer_to_peer parameter"
echo 1 > /sys/module/siw/parameters/large_fpdu || fail "cannot set the large_fpdu parameter"
must rdma link add siwd1 type siw netdev dummy1
at_exit "rdma link delete siwd1"
expect siwd1 mpa_rev 2
expect siwd1 mpa_rtr write
expect siwd1 mpa_crc off
expect siwd1 peer_to_peer 1
expect siwd1 max_ird 7
expect siwd1 large_fpdu 1
expect siwd0 large_fpdu 0
expect siwd0 mpa_rev 2
expect siwd0 mpa_crc strict
expect siwd0 mpa_rtr read
expect siwd0 max_ird 16
must rdma link delete siwd1
must rdma link delete siwd0
unload_siw

# Revision 1 and peer-to-peer as defaults: the device starts without
# peer-to-peer mode, and the log says why.
dmesg -C
load_siw mpa_rev=1 peer_to_peer=1
must rdma link add siwd0 type siw netdev dummy0
expect siwd0 mpa_rev 1
expect siwd0 peer_to_peer 0
klog | grep -q "siw: peer_to_peer needs mpa_rev 2" ||
	fail "no log line says why peer_to_peer is off"
must rdma link delete siwd0
unload_siw
exit 0
