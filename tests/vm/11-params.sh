#!/bin/bash
# Bad module parameter values are refused at load time with a message
# that names the parameter and without leaving anything behind; modinfo
# documents every parameter; zcopy_tx can be changed at run time.
. "$(dirname "$0")/../lib/guest.sh"

# reject PARAM ARG: insmod with ARG must fail with EINVAL, leave no module
# or device, and log a "siw:" line that names PARAM.
reject() {
	local param=$1 arg=$2 out log devs
	dmesg -C
	if out=$(siw_insmod "$arg" 2>&1); then
		rmmod siw
		fail "insmod accepted $arg"
	fi
	echo "$out"
	grep -q 'Invalid param' <<< "$out" || fail "insmod $arg failed, but not with EINVAL: $out"
	siw_loaded && fail "siw is loaded after the rejected $arg"
	devs=$(siw_devs)
	[ -z "$devs" ] || fail "devices left after the rejected $arg: $devs"
	log=$(klog)
	grep -q "siw:.*$param" <<< "$log" ||
		fail "no 'siw:' kernel message names $param after $arg; the log says:"$'\n'"$log"
	note "rejected $arg: $(grep "siw:.*$param" <<< "$log" | head -n 1)"
}

# Dependencies first, in this shell: reject() runs insmod in a subshell.
siw_deps
reject zcopy_tx zcopy_tx=maybe
reject zcopy_tx zcopy_tx=3
reject loopback_enabled loopback_enabled=7x
# The quotes are for the kernel's parameter parser: without them it
# would split the value at the space and see "attach=bad" and "name!".
reject attach 'attach="bad name!"'
reject attach attach=abcdefghijklmnop
reject attach attach=dummy0,bad/name
reject mpa_crc_enabled mpa_crc_enabled=2

# The good values of the same parameters load.
load_siw mpa_crc_enabled=1 zcopy_tx=1 loopback_enabled=0 attach=none
unload_siw

parms=$(modinfo -F parm "$SIW_KO") || fail "modinfo cannot read $SIW_KO"
for p in loopback_enabled mpa_crc_enabled mpa_crc_strict zcopy_tx attach; do
	desc=$(awk -v p="$p:" 'index($0, p) == 1 { print substr($0, length(p) + 1) }' <<< "$parms")
	[ ${#desc} -ge 10 ] || fail "modinfo does not document $p:"$'\n'"$parms"
	note "$p: $desc"
done

load_siw
p=/sys/module/siw/parameters/zcopy_tx
[ -e $p ] || fail "$p does not exist"
mode=$(stat -c %a $p)
[ "$mode" = 644 ] || fail "$p has mode $mode, not 644"
# 0, 1 and 2, and the words of a bool, which it once was.
for v in 1:1 0:0 2:2 Y:1 n:0 on:1 off:0 0:0; do
	echo "${v%:*}" > $p || fail "writing ${v%:*} to $p failed"
	read -r got < $p
	[ "$got" = "${v#*:}" ] || fail "wrote ${v%:*} to $p, read back $got, not ${v#*:}"
done
for v in garbage 3 -1; do
	if echo $v > $p; then
		fail "writing $v to $p succeeded"
	fi
done
read -r got < $p
[ "$got" = 0 ] || fail "$p reads $got after rejected writes (was 0)"
unload_siw
exit 0
