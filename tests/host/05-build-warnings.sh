#!/bin/bash
# siw.ko must build for every installed kernel with no warning at W=1
# and no sparse complaint (C=1). Builds a private copy of the sources so
# the flags do not invalidate the regular build.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$top/Makefile" "$top/Kbuild" "$top/siw" "$top/include" "$work/"
find "$work/siw" -name '*.o' -o -name '*.ko' -o -name '.*.cmd' | xargs rm -f

n=0
for kdir in /lib/modules/*/build; do
	# The debug lane's kernel (make check-debug) builds siw.ko itself.
	[[ $kdir == */*-siwdebug/* ]] && continue
	[ -f "$kdir/Makefile" ] || continue
	kver=$(basename "$(dirname "$kdir")")
	log=$work/build-$kver.log
	make -C "$work" KVER="$kver" W=1 C=1 modules > "$log" 2>&1 ||
		{ cat "$log"; echo "build failed for $kver"; exit 1; }
	grep -q '^  CHECK ' "$log" || { cat "$log"; echo "sparse did not run for $kver"; exit 1; }
	if grep -E 'warning:|error:' "$log"; then
		echo "$kver: warnings above"
		exit 1
	fi
	echo "$kver: clean at W=1, sparse clean ($(grep -c '^  CHECK ' "$log") files checked)"
	make -C "$work" clean-intree > /dev/null 2>&1
	n=$((n + 1))
done
[ $n -ge 1 ] || { echo "no kernel headers installed"; exit 1; }
