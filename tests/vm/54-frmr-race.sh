#!/bin/bash
# vm-timeout: 300
# debug-lane: a registration changed under the peer's Read or Write
# A fast registration invalidated and registered anew with fewer pages
# while the peer still uses the old one (issue 16, D2): a kernel consumer
# (tests/kmod/siw_frmr_race.ko) registers 256 pages, the peer
# (hostile_cases.py frmr-*) starts a Read of all of it and holds the
# response up by not reading, or sends the first page of a Write; the MR
# is then invalidated (the peer's Send with Invalidate, or a LOCAL_INV),
# registered anew under a new key with 128 other pages and the same
# iova, and the peer lets the rest come. siw must serve only the first
# registration's bytes and then send a Terminate, and place nothing in
# either registration's pages once the first one ended; the QP then is
# in Error and the kernel log clean.
# On 40cc671 (SIW_KO, docs/testing.md) the Read Response went on
# with the second registration's pages, and the Write's rest landed in
# the first registration's pages past the new page list.
. "$(dirname "$0")/../lib/traffic.sh"

race=$SIW_TOP/build/$(uname -r)/ktest/siw_frmr_race.ko
[ -f "$race" ] || fail "$race not built (make all-kernels)"
cases=$SIW_TOP/tests/lib/hostile_cases.py

load_under_test
dummy_dev

# The Read Response must stop early, well inside the 128 pages the MR
# keeps: TCP may queue only a little of it while the peer does not read.
wmem=$(sysctl -n net.ipv4.tcp_wmem)
at_exit "sysctl -qw net.ipv4.tcp_wmem='$wmem'"
must sysctl -qw net.ipv4.tcp_wmem="4096 16384 16384"

port=${SIW_TEST_PORT_BASE:-20000}
failed=()
for mode in read-sendinv read-localinv write-localinv; do
	port=$((port + 1))
	bg python3 "$cases" "frmr-$mode" "$TEST_IP4" $port > "$LOGS/peer-$mode.log" 2>&1 < /dev/null
	wait_for -t 30 listening $port || log_fail "$LOGS/peer-$mode.log" "the peer did not listen"
	echo "\$ insmod siw_frmr_race.ko mode=$mode addr=$TEST_IP4 port=$port"
	klog_mark=$(klog | wc -l)
	out=$(timeout 120 insmod "$race" mode=$mode addr="$TEST_IP4" port=$port 2>&1)
	klog | tail -n +$((klog_mark + 1)) | grep 'siw_frmr_race:' | sed 's/^/  | /'
	wait "$BG_PID"
	peer=$?
	sed 's/^/  | peer: /' "$LOGS/peer-$mode.log"
	# Every mode runs, so that a failing run shows which ones fail.
	grep -q 'Operation canceled' <<< "$out" || failed+=("$mode: siw_frmr_race: $out")
	[ $peer = 0 ] || failed+=("$mode: the peer saw siw serve the wrong bytes or no Terminate")
done
[ ${#failed[@]} = 0 ] || fail "$(printf '%s; ' "${failed[@]}")"

must sysctl -qw net.ipv4.tcp_wmem="$wmem"
finish
exit 0
