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
reject mpa_crc_impl mpa_crc_impl=fast
reject mpa_crc_impl mpa_crc_impl=

# The good values of the same parameters load.
load_siw mpa_crc_enabled=1 zcopy_tx=1 loopback_enabled=0 attach=none
unload_siw

# mpa_crc_impl: both codes by name, at load and at run time; auto times
# them, logs both figures and uses the faster one.
crc_impl=/sys/module/siw/parameters/mpa_crc_impl
for impl in lib crypto; do
	load_siw mpa_crc_impl=$impl
	read -r got < $crc_impl
	[ "$got" = $impl ] || fail "loaded with mpa_crc_impl=$impl, it reads $got"
	unload_siw
done
# auto_choice: the figures of the newest timing line, and checks that the
# code in use is the one it says is faster.
auto_choice() {
	local line lib other used
	line=$(klog | grep 'siw: MPA CRC32C: lib/crc32' | tail -n 1)
	[ -n "$line" ] || fail "no 'siw: MPA CRC32C' line in the kernel log"
	note "$line"
	lib=$(sed -n 's/.*lib\/crc32 \([0-9]*\) MB\/s.*/\1/p' <<< "$line")
	other=$(sed -n 's/.*MB\/s, [^ ]* \([0-9]*\) MB\/s.*/\1/p' <<< "$line")
	[ -n "$lib" ] && [ -n "$other" ] || fail "cannot read the figures of: $line"
	used=crypto
	[ "$lib" -gt "$other" ] && used=lib
	read -r got < $crc_impl
	[ "$got" = $used ] ||
		fail "mpa_crc_impl is $got after auto, but the log says $used is faster: $line"
}
dmesg -C
load_siw
auto_choice
set_crc_impl lib
set_crc_impl crypto
if echo quick > $crc_impl 2>/dev/null; then
	fail "mpa_crc_impl accepted 'quick' at run time"
fi
read -r got < $crc_impl
[ "$got" = crypto ] || fail "a refused mpa_crc_impl value changed it to $got"
klog | grep -q "siw: mpa_crc_impl: 'quick' is not auto, lib or crypto" ||
	fail "no log line names the refused mpa_crc_impl value"
dmesg -C
echo auto > $crc_impl || fail "cannot set mpa_crc_impl=auto at run time"
auto_choice
unload_siw

parms=$(modinfo -F parm "$SIW_KO") || fail "modinfo cannot read $SIW_KO"
for p in loopback_enabled mpa_crc_enabled mpa_crc_strict mpa_crc_impl zcopy_tx attach; do
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
