#!/bin/bash
# vm-timeout: 300
# TCP memory accounting under zero-copy transmit (zcopy_tx=2): what siw's
# sockets charge to the kernel's TCP memory pool (tcp_memory_allocated,
# the "mem" of /proc/net/sockstat, in pages) they must give back. A
# pool that loses pages disables TCP's memory pressure for every socket
# of the host; a socket left with a charge that is not a whole page gets
# a WARNING from inet_sock_destruct() when it is freed.
#
# TCP connections that nobody reads hold a few thousand pages as a
# baseline, so that a pool running short shows (sockstat never prints
# less than 0). Then verified siw_traffic runs with zero-copy transmit
# (RDMA WRITEs of up to 1 MiB, each read back), after which the pool
# must be back at its baseline. The pool is exact only up to the pages
# each CPU keeps for itself (less than 256 per CPU), which bounds what
# may differ.
#
# A ubuf_info without SKBFL_DONT_ORPHAN lost about 2300 pages over these
# runs (6.1 and 6.12 alike): TCP copied the pages out when it cloned an
# skb to send it, cleared the skb's zero-copy flags, and then uncharged
# memory it had never charged.
. "$(dirname "$0")/../lib/traffic.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"

tcp_pages() { awk '$1 == "TCP:" { print $NF }' /proc/net/sockstat; }

holder_out=$(mktemp)
at_exit "rm -f $holder_out"
# Eight loopback connections, each sender filling its socket until it
# would block, none of them read: a charge that stays put.
bg python3 -c '
import socket, time
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(8)
keep = []
for _ in range(8):
    c = socket.create_connection(ls.getsockname())
    keep += [c, ls.accept()[0]]
    c.setblocking(False)
    try:
        while True:
            c.send(b"h" * 65536)
    except BlockingIOError:
        pass
print("holding", flush=True)
time.sleep(3600)
' > "$holder_out" 2>&1
holder=$BG_PID
wait_for -t 30 grep -q holding "$holder_out" ||
	fail "the TCP memory holder did not start: $(cat "$holder_out")"
# Let the stacks settle (delayed ACKs, window probes) before the baseline.
sleep 2

# A veth pair, the client's end in a namespace of its own: FPDUs the size
# of an Ethernet MSS, as 35-traffic runs them, make many more skbs per
# message than the local route's 64 KiB MSS.
mk_netns tmc
must ip link add veth_s type veth peer name veth_c netns tmc
at_exit "ip link del veth_s"
must ip addr add 10.78.0.1/24 dev veth_s
must ip -n tmc addr add 10.78.0.2/24 dev veth_c
must ip link set veth_s up
must ip -n tmc link set veth_c up

load_under_test mpa_crc_enabled=0
# 2: zero-copy even though veth delivery copies the pages (1 would go
# back to copying after the first message of each QP).
echo 2 > /sys/module/siw/parameters/zcopy_tx || fail "cannot set zcopy_tx=2"
must rdma link add siws type siw netdev veth_s
must ip netns exec tmc rdma link add siwc type siw netdev veth_c
wait_for port_active siws || fail "siws port is $(port_state siws), not ACTIVE"
wait_for port_active siwc || fail "siwc port is $(port_state siwc), not ACTIVE"

base=$(tcp_pages)
cpus=$(nproc)
slack=$((256 * cpus))
note "TCP memory pool: $base pages with the holder; $cpus CPUs may keep up to $slack between them"
[ "$base" -gt $((2 * slack)) ] ||
	fail "the holder charged only $base pages: too few to see the pool run short"

# WRITEs read back at once (-O wread) lost the most pages per run with
# the flaw: 700 or so, against 60 to 250 for the other mixes.
for seed in 61 62 63 64; do
	run_pair "zcopy-$seed" 150 \
		"$tr" -s -b 10.78.0.1 -p @PORT@ -t 150 -- \
		ip netns exec tmc "$tr" -c 10.78.0.1 -p @PORT@ -q 4 -n 100 -O wread -m 1m -r "$seed" \
		--reuse "${SIW_TRAFFIC_INV[@]}" -t 140
	grep -q '^client: all QPs verified' "$CLI_LOG" || log_fail "$CLI_LOG" "zcopy-$seed verified nothing"
	note "after seed $seed: $(tcp_pages) pages"
done

zc_wrs=$(($(hw_counter siws tx_zcopy_wrs) + $(hw_counter siwc tx_zcopy_wrs)))
note "$zc_wrs work requests went zero-copy"
[ "$zc_wrs" -ge 400 ] || fail "only $zc_wrs work requests went zero-copy"

# The connections are closed; give TCP a moment to free their sockets.
siw_conns() { ss -Htn exclude time-wait exclude listening src 10.78.0.1; }
no_siw_conns() { [ -z "$(siw_conns)" ]; }
wait_for -t 20 no_siw_conns ||
	fail "siw connections still open 20 s after the last run:"$'\n'"$(siw_conns)"
sleep 1
end=$(tcp_pages)
note "TCP memory pool: $end pages after the traffic (baseline $base)"
[ "$end" -gt $((base - slack)) ] ||
	fail "the TCP memory pool lost $((base - end)) pages over zero-copy traffic (baseline $base, now $end, CPUs may account for at most $slack)"
[ "$end" -lt $((base + slack)) ] ||
	fail "the TCP memory pool kept $((end - base)) pages after zero-copy traffic (baseline $base, now $end, CPUs may account for at most $slack)"

_stop "$holder"
must rdma link delete siws
must ip netns exec tmc rdma link delete siwc
unload_siw
exit 0
