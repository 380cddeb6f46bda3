#!/bin/bash
# Guest side of tests/run: runs every tests/vm/*.sh in order inside the
# current VM and judges each one.
#
#   tests/lib/suite.sh [--only PATTERN] [--timeout SECS] [--lane debug]
#                      [--one-provider]
#
# A test passes when it exits 0 within its time limit (--timeout, default
# 300 s, or its own "# vm-timeout: SECS" line), the kernel logged
# nothing that tools/vm-klog-patterns calls a problem while it ran, and it
# left no siw module, netdev or network namespace behind (those are
# removed here so the next test starts clean, and the test fails).
#
# A test with a "# providers:" line runs once per provider named there,
# or with --one-provider only with the first (tests/lib/runs.sh says how,
# and under which names).
#
# Prints "PASS <kver> <name>" or "FAIL <kver> <name>" per test, with the
# reasons and the test's output indented below a failure.  Results are
# also appended to $SIW_VM_OUT/results as they happen, which is what the
# host reads: if the VM dies half-way, what was reported still counts.
# Per-test output and kernel logs go to $SIW_VM_OUT/<name>.log/.dmesg.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=SCRIPTDIR/runs.sh
. "$top/tests/lib/runs.sh"
only='' per_test=${SIW_TEST_TIMEOUT:-300} lane='' one_provider=0
while [ $# -gt 0 ]; do
	case $1 in
	--only) only=$2; shift 2 ;;
	--lane) lane=$2; shift 2 ;;
	--one-provider) one_provider=1; shift ;;
	--timeout) per_test=$2; shift 2 ;;
	*) echo "suite: unknown option $1" >&2; exit 2 ;;
	esac
done

[ "${SIW_VM:-}" = 1 ] || { echo "suite: run me in a VM (tools/vm-run)" >&2; exit 2; }
kver=$(uname -r)
time_scale=1
[[ $kver == *-siwdebug ]] && time_scale=2
out=${SIW_VM_OUT:-/tmp/siw-suite}
mkdir -p "$out"
: > "$out/results"
: > "$out/.blamed"
pats=$(grep -Ev '^(#|$)' "$top/tools/vm-klog-patterns")

# Run a clean-up command, but give up on it after 20 s: removing what a
# broken module holds on to can block forever in the kernel, and the rest
# of the suite should still get its chance.
# Its output goes through a file: a command left blocked must not hold
# the pipe that the caller reads to its end.
bounded() {
	local pid end=$(( SECONDS + 20 )) log=$out/.cleanup.log
	"$@" > "$log" 2>&1 < /dev/null &
	pid=$!
	while [ $SECONDS -lt $end ]; do
		if ! kill -0 $pid 2>/dev/null; then
			sed 's/^/  /' "$log"
			return 0
		fi
		sleep 0.1
	done
	echo "  still blocked after 20 s: $*"
}

# Whatever a test left behind is removed here, so that one sloppy test
# costs one failure and not a cascade; each leftover is reported.
sweep() {
	local n ns
	if [ -d /sys/module/siw ]; then
		echo "left siw loaded"
		bounded rmmod siw
		[ -d /sys/module/siw ] && echo "  and could not unload it"
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		echo "left network namespace $ns"
		bounded ip netns del "$ns"
	done
	for n in /sys/class/net/*; do
		# Not every entry is a netdev: bonding adds bonding_masters.
		[ -d "$n" ] || continue
		n=${n##*/}
		[[ " $boot_netdevs " == *" $n "* ]] || [ ! -e "/sys/class/net/$n" ] && continue
		echo "left netdev $n"
		bounded ip link del "$n"
	done
}

# kmemleak (the debug lane's kernel) scans only when asked: after each
# test, so that a leak shows in the kernel log of the test that made it,
# or of the next one (an object is reported once it is 5 s old). What
# the boot left is forgotten first.
kmemleak=/sys/kernel/debug/kmemleak
[ -e /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
[ -e $kmemleak ] || kmemleak=''
if [ -n "$kmemleak" ]; then
	echo scan > $kmemleak
	echo clear > $kmemleak
fi

# What the kernel made by itself (lo; sit0 where IPv6 tunnels are built
# in) is no test's leftover.
boot_netdevs=$(ls /sys/class/net | tr '\n' ' ')

echo "<4>siw-suite: boot log saved, clearing" > /dev/kmsg
dmesg > "$out/boot.dmesg"
dmesg -C

nfail=0
# run_test FILE NAME PROVIDER: one run of a test, judged and reported.
run_test() {
	local t=$1 name=$2 prov=$3 start limit tpid rc took bad line
	local cmd=(bash "$t")
	[ "$prov" = none ] || cmd=(bash "$top/tests/lib/provider.sh" "$prov" bash "$t")

	# The marker lands on the console log too (level 4 is printed), so a
	# warning there can be traced to the test that caused it.
	echo "<4>siw-suite: start $name" > /dev/kmsg
	start=$SECONDS
	limit=$(test_timeout "$t")
	# timeout puts the test in a process group of its own, which lets us
	# kill anything it left running afterwards (pgid = timeout's pid).
	timeout --kill-after=10 "$limit" "${cmd[@]}" > "$out/$name.log" 2>&1 &
	tpid=$!
	wait $tpid
	rc=$?
	kill -9 -- -$tpid 2>/dev/null
	took=$(( SECONDS - start ))

	reasons=()
	case $rc in
	0) ;;
	124|137) reasons+=("timed out after $limit s") ;;
	*) reasons+=("exit status $rc") ;;
	esac
	# Give asynchronous kernel work the test started (device removal, say)
	# a moment to log before the verdict.
	sleep 0.2
	while IFS= read -r line; do
		reasons+=("$line")
	done < <(sweep)
	if [ -n "$kmemleak" ]; then
		echo scan > $kmemleak
		grep -q . $kmemleak && cat $kmemleak > "$out/$name.kmemleak"
		echo clear > $kmemleak
	fi
	dmesg > "$out/$name.dmesg"
	dmesg -C
	# Some reports repeat until the VM dies (a leaked netdev is announced
	# every 10 s, a hung task several times): each message, timestamp
	# aside, is blamed on the first test that produced it only.
	bad=$(grep -E -e "$pats" "$out/$name.dmesg" |
		awk -v seen="$out/.blamed" '
			BEGIN { while ((getline l < seen) > 0) old[l] = 1 }
			{ k = $0; sub(/^\[ *[0-9.]+\] /, "", k)
			  if (!(k in old)) { old[k] = 1; print; print k >> seen } }')
	[ -n "$bad" ] && reasons+=("kernel log shows problems:" "$(sed 's/^/  /' <<< "$bad" | head -n 30)")

	if [ ${#reasons[@]} = 0 ]; then
		echo "PASS $kver $name (${took} s)"
		echo "PASS $name" >> "$out/results"
	else
		echo "FAIL $kver $name (${took} s)"
		printf '%s\n' "${reasons[@]}" | sed 's/^/    /'
		if [ -s "$out/$name.log" ]; then
			echo "    --- output:"
			sed 's/^/    | /' "$out/$name.log"
		else
			echo "    --- no output"
		fi
		echo "FAIL $name" >> "$out/results"
		nfail=$((nfail + 1))
	fi
}

for t in "$top"/tests/vm/*.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" && in_lane "$t" || continue
	# fd 3, not stdin: the tests must not read the list of runs.
	while read -r -u 3 run prov; do
		run_test "$t" "$run" "$prov"
	done 3< <(test_runs "$t")
done

[ $nfail = 0 ]
