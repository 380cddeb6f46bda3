#!/bin/bash
# vm-timeout: 600
# libfabric over siw (Debian's libfabric 1.17, its verbs provider): a
# siw device in each of two network namespaces joined by a veth pair.
#   - fi_info -p verbs lists both siw devices as verbs domains;
#   - fi_pingpong over verbs MSG endpoints (rdma_cm connections) and over
#     verbs;ofi_rxm RDM endpoints (reliable datagrams on top of them),
#     64 B to 1 MiB, each message checked (-c), ends with status 0 and a
#     figure for every size;
#   - the client's siw device counted at least the data fi_pingpong
#     moved: a run over another provider (tcp, sockets) cannot pass.
# Prints usec/xfer per size and endpoint type; issue 17 asks for RDM
# within 2 x of MSG on small messages, which make bench measures, not
# this test.
. "$(dirname "$0")/../lib/traffic.sh"

A=10.79.0.1
B=10.79.0.2
ITERS=100
SIZES=(64 4096 65536 1048576)

veth_netns lfa $A lfb $B
load_siw
netns_siw_dev lfa siwla veth_a
netns_siw_dev lfb siwlb veth_b

# The verbs provider offers the devices whose interface has an address
# in the caller's namespace: each namespace sees its own.
for ns in lfa lfb; do
	d=siwl${ns#lf}
	echo "\$ ip netns exec $ns fi_info -p verbs"
	ip netns exec $ns fi_info -p verbs > "$LOGS/fi_info.log" 2>&1 ||
		log_fail "$LOGS/fi_info.log" "fi_info -p verbs found nothing in $ns"
	for ep in FI_EP_MSG FI_EP_RDM; do
		grep -B 3 "type: $ep" "$LOGS/fi_info.log" | grep -q "domain: $d\$" ||
			log_fail "$LOGS/fi_info.log" "fi_info -p verbs has no $ep endpoint on $d"
	done
	note "$ns: fi_info lists $(awk '/domain:/ { print $2 }' "$LOGS/fi_info.log" | sort -u | tr '\n' ' ')"
done

port=47600
# pingpong EP PROV SIZE: a checked fi_pingpong run; its usec/xfer in USEC.
pingpong() {
	local ep=$1 prov=$2 size=$3 out=$LOGS/pp-$1-$3
	port=$((port + 1))
	ip netns exec lfb timeout 120 fi_pingpong -p "$prov" -e "$ep" -d siwlb \
		-B $port -I $ITERS -S "$size" -c > "$out.server" 2>&1 &
	local spid=$!
	sleep 1
	ip netns exec lfa timeout 120 fi_pingpong -p "$prov" -e "$ep" -d siwla \
		-P $port -I $ITERS -S "$size" -c $B > "$out.client" 2>&1 ||
		log_fail "$out.client" "fi_pingpong $ep $size: the client failed (server: $(tail -n 3 "$out.server"))"
	wait $spid || log_fail "$out.server" "fi_pingpong $ep $size: the server failed"
	# The result line: bytes (4k, 1m...), #sent, #ack, total, time,
	# MB/sec, usec/xfer, Mxfers/sec; every message sent was acknowledged.
	USEC=$(awk -v n=$ITERS '$2 == n && $3 == "=" n { print $7 }' "$out.client" | tail -n 1)
	[ -n "$USEC" ] || log_fail "$out.client" "fi_pingpong $ep $size printed no result"
}

tx0=$(hw_counter siwla tx_bytes)
moved=0
for ep in msg rdm; do
	prov=verbs
	[ $ep = rdm ] && prov="verbs;ofi_rxm"
	line=""
	for size in "${SIZES[@]}"; do
		pingpong $ep "$prov" "$size"
		line+=" $size B ${USEC} us;"
		moved=$((moved + ITERS * size))
	done
	note "fi_pingpong $ep ($prov), usec/xfer:$line"
done
tx=$(( $(hw_counter siwla tx_bytes) - tx0 ))
note "siwla sent $tx bytes; fi_pingpong sent $moved from it"
[ "$tx" -ge "$moved" ] || fail "siwla sent $tx bytes, less than the $moved fi_pingpong sent"

must rdma link delete siwla
must rdma link delete siwlb
unload_siw
exit 0
