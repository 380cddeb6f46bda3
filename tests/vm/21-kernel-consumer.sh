#!/bin/bash
# debug-lane: the verbs of kernel consumers
# The verbs kernel consumers (NVMe-oF, NFS/RDMA, iSER) use, through the
# RDMA core: tests/kmod/siw_ktest.ko runs its checks when loaded and
# refuses to stay loaded; -ECANCELED means every check passed, -EIO that
# one failed (its lines say which).
. "$(dirname "$0")/../lib/guest.sh"

ktest=$SIW_TOP/build/$(uname -r)/ktest/siw_ktest.ko
[ -f "$ktest" ] || fail "$ktest not built (make all-kernels)"

mk_dummy dummy0
load_siw
must rdma link add siwd0 type siw netdev dummy0

echo "\$ insmod siw_ktest.ko dev=siwd0"
out=$(insmod "$ktest" dev=siwd0 2>&1)
klog | grep 'siw_ktest:'
grep -q 'Operation canceled' <<< "$out" ||
	fail "siw_ktest did not pass: $out"
klog | grep -q 'siw_ktest: 0 failed' || fail "siw_ktest summary missing"
klog | grep -q 'siw_ktest: FAIL' && fail "siw_ktest reported a failure"

must rdma link delete siwd0
unload_siw
exit 0
