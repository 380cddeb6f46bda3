#!/bin/bash
# "make install" for every installed kernel, staged under a temporary
# root with INSTALL_MOD_PATH so the host's /lib/modules stays untouched:
# siw lands in updates/, depmod indexes it, and its rdma-link alias (which
# lets "rdma link add ... type siw" load it on demand) is registered.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

n=0
for kdir in /lib/modules/*/build; do
	[[ $kdir == */*-siwdebug/* ]] && continue
	[ -f "$kdir/Makefile" ] || continue
	kver=$(basename "$(dirname "$kdir")")
	echo "== $kver"
	make -s -C "$top" install KVER="$kver" INSTALL_MOD_PATH="$stage" >/dev/null 2>&1 ||
		{ echo "make install failed for $kver"; exit 1; }
	mods=$stage/lib/modules/$kver
	ko=$(cd "$mods" && ls updates/siw/siw.ko* 2>/dev/null) ||
		{ echo "no siw.ko under $mods/updates"; exit 1; }
	grep -q "^$ko:" "$mods/modules.dep" || { echo "depmod did not index $ko"; exit 1; }
	grep -q '^alias rdma-link-siw siw$' "$mods/modules.alias" ||
		{ echo "rdma-link-siw alias missing"; exit 1; }
	modinfo -F vermagic "$mods/$ko" | grep -q "^$kver " ||
		{ echo "$ko not built for $kver"; exit 1; }
	n=$((n + 1))
	make -s -C "$top" clean-intree >/dev/null 2>&1
done
[ $n -ge 1 ] || { echo "no kernel headers installed"; exit 1; }
echo "installed and indexed for $n kernels"
