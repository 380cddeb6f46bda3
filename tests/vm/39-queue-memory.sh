#!/bin/bash
# vm-timeout: 240
# debug-lane: allocation failures under a memory cgroup
# Queue memory a process asks for is charged to its memory cgroup
# (issue 16, D9): in a cgroup limited to 64 MiB, a process creating CQs
# of the largest size (8 MiB of ring each) must be stopped by the limit
# after at most eight of them, with ENOMEM from ibv_create_cq, not by
# the cgroup's OOM killer. On 40cc671 the rings were not charged and it
# held all 40 (320 MiB) in the 64 MiB cgroup.
# Outside any limit, one user context may hold at most 1 GiB of queue
# memory (SIW_MAX_UCTX_QUEUE_BYTES): the CQ that would pass it fails with
# ENOMEM, no OOM killer runs, and another process still gets a CQ while
# the first one holds its gigabyte. On 40cc671 it held all 136 (1.1 GiB).
. "$(dirname "$0")/../lib/traffic.sh"

load_under_test
dummy_dev

target=$SIW_TOP/build/tests/siw_target
memcg_root
cg=$CGROOT
must mkdir "$cg/siwtest"
at_exit "rmdir $cg/siwtest"
echo 64M > "$cg/siwtest/memory.max" || fail "cannot limit the test cgroup's memory"

echo "\$ siw_target cq-hog $TEST_IP4 40  (in a cgroup of 64 MiB)"
sh -c "echo \$\$ > $cg/siwtest/cgroup.procs && exec $target cq-hog $TEST_IP4 40" \
	> "$LOGS/hog.log" 2>&1 < /dev/null
rc=$?
sed 's/^/  | /' "$LOGS/hog.log"
ooms=$(awk '/^oom_kill /{print $2}' "$cg/siwtest/memory.events")
k=$(awk '/^created /{print $2}' "$LOGS/hog.log")
[ "${ooms:-0}" = 0 ] || fail "the cgroup's OOM killer ran ($ooms kill(s)): ENOMEM expected"
[ -n "$k" ] || fail "siw_target ended with status $rc before it was done"
[ "$k" -le 8 ] || fail "$k CQs of 8 MiB in a 64 MiB cgroup: their memory is not charged"
[ "$k" -ge 1 ] || fail "not even one CQ could be created"
grep -q "Cannot allocate memory" "$LOGS/hog.log" ||
	fail "the CQ over the limit did not fail with ENOMEM"

# The CQs went with the process: a fresh one of the same size works.
sh -c "exec $target cq-hog $TEST_IP4 1" > "$LOGS/one.log" 2>&1 < /dev/null
grep -q '^created 1 CQs' "$LOGS/one.log" || log_fail "$LOGS/one.log" "a CQ outside the cgroup failed"

# The per-context cap, in the root cgroup: 136 CQs of 8 MiB and a page
# would be 1.1 GiB, which fits the guest's 2 GiB, so only the cap stops
# the process.
ooms=$(awk '/^oom_kill /{print $2}' /proc/vmstat)
echo "\$ siw_target cq-hog $TEST_IP4 136 hold &"
bg "$target" cq-hog "$TEST_IP4" 136 hold > "$LOGS/cap.log" 2>&1 < /dev/null
hog=$BG_PID
hog_done() { grep -q '^created ' "$LOGS/cap.log" || ! kill -0 "$hog"; }
wait_for -t 180 hog_done || log_fail "$LOGS/cap.log" "siw_target cq-hog did not finish in 180 s"
sed 's/^/  | /' "$LOGS/cap.log"
kill -0 "$hog" 2>/dev/null || fail "siw_target cq-hog died while creating its CQs"
k=$(awk '/^created /{print $2}' "$LOGS/cap.log")
# 1 GiB holds 128 rings of 8 MiB, or 127 with the control page each.
[ "$k" -le 128 ] || fail "$k CQs of 8 MiB in one context: more than 1 GiB of queue memory"
[ "$k" -ge 120 ] || fail "only $k CQs of 8 MiB in one context: the cap is 1 GiB"
grep -q "Cannot allocate memory" "$LOGS/cap.log" ||
	fail "the CQ over 1 GiB did not fail with ENOMEM"
echo "\$ siw_target cq-hog $TEST_IP4 1  (while the first one holds its CQs)"
"$target" cq-hog "$TEST_IP4" 1 > "$LOGS/other.log" 2>&1 < /dev/null
sed 's/^/  | /' "$LOGS/other.log"
grep -q '^created 1 CQs' "$LOGS/other.log" ||
	log_fail "$LOGS/other.log" "a second process could not create a CQ"
kill -9 "$hog"
wait "$hog" 2>/dev/null
[ "$(awk '/^oom_kill /{print $2}' /proc/vmstat)" = "$ooms" ] ||
	fail "the OOM killer ran while one context took its 1 GiB of queues"

finish
exit 0
