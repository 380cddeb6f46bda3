# shellcheck shell=bash
# Which tests run, how often, under which names and for how long; sourced
# by tests/run (to know which results to expect and size the VM's time
# limit) and tests/lib/suite.sh (to run them). Both set $only (the
# --only pattern) and $per_test (the default time limit).
# shellcheck disable=SC2154 # only and per_test: set by the sourcing script
# $lane is "debug" for the debug lane that make check runs on the debug
# kernel (tools/build-debug-kernel), empty otherwise.

# in_lane FILE: whether the test runs in $lane. The debug lane runs the
# tests with a "# debug-lane: WHY" line near their top: the data path,
# connection management, negative, hostile-peer, fuzz and fault tests.
in_lane() {
	[ "${lane:-}" != debug ] || sed -n '1,20p' "$1" | grep -q '^# debug-lane: '
}

# selected NAME: NAME (without .sh) matches --only: as a glob if the
# pattern has glob characters, otherwise as a substring.
selected() {
	case $only in
	'') return 0 ;;
	*[*?[]*)
		# shellcheck disable=SC2053 # matching as a glob is the point
		[[ $1 == $only ]] ;;
	*) [[ $1 == *"$only"* ]] ;;
	esac
}

# test_timeout FILE: the test's time limit: its "# vm-timeout: SECS" line
# near the top, or $per_test; times $time_scale (2 on the debug kernel,
# which runs the suite at about half the speed) and $long_scale (3 for
# the long variants, tests/run --long).
test_timeout() {
	local t
	t=$(sed -n '1,20s/^# vm-timeout: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	echo $(( ${t:-$per_test} * ${time_scale:-1} * ${long_scale:-1} ))
}

# test_runs FILE: one line "NAME PROVIDER" per run of the test. A test
# with a "# providers: stock userlib" line near its top runs once per
# provider named there (through tests/lib/provider.sh): the first run
# under its own name, the others as NAME@PROVIDER. A test without one
# runs once, as it is: provider "none". With $one_provider set
# (tests/run sets it for the debug lane and for every Debian kernel of a
# run but the first) only the first provider runs: both drive the same kernel ABI, so the kernel is
# tested by either, and the other provider, user space alone, behaves
# the same on every kernel that siw.ko serves.
test_runs() {
	local name p first=1
	name=$(basename "$1" .sh)
	for p in $(sed -n '1,20s/^# providers: *//p' "$1" | head -n 1); do
		[ "${one_provider:-0}" = 1 ] && [ $first = 0 ] && break
		if [ $first = 1 ]; then
			echo "$name $p"
			first=0
		else
			echo "$name@$p $p"
		fi
	done
	[ $first = 0 ] || echo "$name none"
}
