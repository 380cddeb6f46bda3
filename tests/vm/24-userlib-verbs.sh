#!/bin/bash
# The libibverbs control path (tests/verbs) through the project's own
# provider, build/userlib/libsiw-rdmav34.so, instead of the distribution's:
# the same 14 test cases must pass as with the stock provider (20-verbs).
#
# RDMAV_DRIVERS takes an absolute path prefix, to which libibverbs 44
# appends "-rdmav34.so"; such providers are loaded before the ones named
# in /etc/libibverbs.d, so ours is the first to match siw devices. That
# it really served the process is shown by a line only our provider
# prints (SIW_USERLIB_TRACE), not merely by the library being mapped.
. "$(dirname "$0")/../lib/guest.sh"

vt=$SIW_TOP/build/tests/verbs_test
lib=$SIW_TOP/build/userlib/libsiw
[ -x "$vt" ] || fail "$vt not built (make all-kernels)"
[ -f "$lib-rdmav34.so" ] || fail "$lib-rdmav34.so not built (make -C userlib)"

out=$(mktemp) err=$(mktemp)
at_exit "rm -f $out $err"

mk_dummy dummy0
load_siw
must rdma link add siwd0 type siw netdev dummy0

echo "\$ RDMAV_DRIVERS=$lib SIW_USERLIB_TRACE=1 $vt -d siwd0 -n dummy0"
RDMAV_DRIVERS=$lib SIW_USERLIB_TRACE=1 "$vt" -d siwd0 -n dummy0 >"$out" 2>"$err"
rc=$?
cat "$out"
cat "$err" >&2
[ $rc = 0 ] || fail "verbs_test through userlib exited with $rc"
grep -qx '14 passed, 0 failed' "$out" ||
	fail "expected '14 passed, 0 failed' from verbs_test"
grep -q '^siw-userlib: context for siwd0$' "$err" ||
	fail "the contexts were not made by userlib's provider"
note "userlib served $(grep -c '^siw-userlib: context' "$err") contexts"

# Without the override the stock provider serves: our trace line must
# then be absent, or the check above proves nothing.
echo "\$ SIW_USERLIB_TRACE=1 ibv_devinfo -d siwd0"
SIW_USERLIB_TRACE=1 ibv_devinfo -d siwd0 >/dev/null 2>"$err" || fail "ibv_devinfo failed"
if grep -q '^siw-userlib:' "$err"; then
	fail "userlib traced without RDMAV_DRIVERS: the check is not specific"
fi

# And ibv_devinfo through ours reports the firmware version we format.
echo "\$ RDMAV_DRIVERS=$lib ibv_devinfo -d siwd0"
fw=$(RDMAV_DRIVERS=$lib devinfo_field siwd0 fw_ver) || fail "ibv_devinfo failed"
note "fw_ver through userlib: $fw"
[[ $fw =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "fw_ver '$fw' is not N.N.N"

# Installed system-wide (the guest's root is a throw-away overlay), ours
# serves without any override; uninstalling brings the stock one back.
must make -s -C "$SIW_TOP/userlib" install
at_exit "make -s -C $SIW_TOP/userlib uninstall"
SIW_USERLIB_TRACE=1 ibv_devinfo -d siwd0 >/dev/null 2>"$err" || fail "ibv_devinfo failed"
grep -q '^siw-userlib:' "$err" || fail "the installed userlib did not serve ibv_devinfo"
must make -s -C "$SIW_TOP/userlib" uninstall
SIW_USERLIB_TRACE=1 ibv_devinfo -d siwd0 >/dev/null 2>"$err" || fail "ibv_devinfo failed"
if grep -q '^siw-userlib:' "$err"; then
	fail "userlib still served after uninstall"
fi
# A second uninstall (as at_exit does after the one above) must leave the
# distribution's provider in place.
must make -s -C "$SIW_TOP/userlib" uninstall
ibv_devinfo -d siwd0 >/dev/null 2>"$err" ||
	fail "the stock provider is gone after a second uninstall: $(cat "$err")"

must rdma link delete siwd0
unload_siw
exit 0
