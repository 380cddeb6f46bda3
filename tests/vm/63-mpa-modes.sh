#!/bin/bash
# vm-timeout: 600
# providers: stock userlib
# MPA modes on live connections, chosen with the devices' own settings
# (docs/parameters.md): siwa in namespace lma answers, siwb in lmb
# initiates, joined by a veth pair. Each case sets both devices, runs
# verified traffic (Reads included wherever the negotiated ORD allows
# them) and reads what each end's QP negotiated from "rdma resource show
# qp" while the connection lingers: the MPA revision (1 from either
# side), CRC (either side asking, or strict), RFC 6581 peer-to-peer mode
# with each RTR type (the initiator's offer cut to what the responder
# accepts), IRD/ORD with limits down to 0, and large FPDUs (agreed only
# where both ends offer them, and then larger than the MSS on the wire,
# as the devices' FPDU and byte counters show). Connections that cannot
# agree (no RTR type in common, CRC strict against a peer without it)
# are refused, the initiator hears REJECTED and the responder logs why.
. "$(dirname "$0")/../lib/traffic.sh"

tr=$SIW_TOP/build/tests/siw_traffic
[ -x "$tr" ] || fail "$tr not built (make -C tests)"

load_siw
veth_netns lma 10.80.0.1 lmb 10.80.0.2
netns_siw_dev lma siwa veth_a
netns_siw_dev lmb siwb veth_b

ATTRS="mpa_rev mpa_crc peer_to_peer mpa_rtr max_ird max_ord"

# settings DEV [ATTR=VALUE...]: DEV back to the defaults, then these.
settings() {
	local dev=$1 kv
	shift
	# peer_to_peer before mpa_rev: revision 1 refuses it.
	for kv in peer_to_peer=0 mpa_rev=2 mpa_crc=off mpa_rtr=all \
		  max_ird=128 max_ord=128 large_fpdu=1 "$@"; do
		echo "${kv#*=}" > "/sys/class/infiniband/$dev/${kv%%=*}" ||
			fail "$dev: cannot set ${kv%%=*} to ${kv#*=}"
	done
}

# The QPs' details, taken while the client lingers.
snap_qps() {
	local end=$((SECONDS + 60))
	until grep -q lingering "$CLI_LOG" 2>/dev/null; do
		[ $SECONDS -lt $end ] || return 1
		sleep 0.2
	done
	rdma -dd resource show qp > "$LOGS/qps" 2>&1
}
start_snap() {
	rm -f "$LOGS/qps"
	bg snap_qps
}

# qp_has DEV WORDS: DEV's RC QP shows each "name value" pair in WORDS
# (the rdma tool prefixes driver attributes with drv_).
qp_has() {
	local dev=$1 line w
	shift
	line=$(grep "link $dev/1 .*type RC" "$LOGS/qps" | head -n 1)
	[ -n "$line" ] || { cat "$LOGS/qps"; fail "$case: no RC QP of $dev in rdma resource show"; }
	set -- $*
	while [ $# -ge 2 ]; do
		w="drv_$1 $2"
		grep -q " $w\( \|$\)" <<< "$line" ||
			fail "$case: $dev's QP does not show '$w': $line"
		shift 2
	done
	note "$case: $dev: ${line#*state}"
}

# mode_case NAME "INITIATOR SETTINGS" "RESPONDER SETTINGS" "INITIATOR QP"
#	"RESPONDER QP" [CLIENT ARGS...]
mode_case() {
	local ini_set resp_set ini_qp resp_qp
	case=$1 ini_set=$2 resp_set=$3 ini_qp=$4 resp_qp=$5
	shift 5
	# shellcheck disable=SC2086 # lists of settings
	settings siwb $ini_set
	# shellcheck disable=SC2086
	settings siwa $resp_set
	SERVER_NS=lma BEFORE_CLIENT=start_snap run_pair "$case" 120 \
		ip netns exec lma "$tr" -s -b 10.80.0.1 -p @PORT@ -t 100 \
		-- \
		ip netns exec lmb "$tr" -c 10.80.0.1 -p @PORT@ -q 1 -n 200 \
		-m 64k -t 90 --linger 3 "${SIW_TRAFFIC_INV[@]}" "$@"
	wait
	[ -s "$LOGS/qps" ] || fail "$case: no rdma resource show taken"
	qp_has siwb "$ini_qp"
	qp_has siwa "$resp_qp"
}

# fpdu_sizes: the mean size of the FPDUs both devices received since the
# last call, in bytes (the MSS on this veth pair is 1448).
fpdu_sizes() {
	local f=0 b=0 d
	for d in siwa siwb; do
		f=$((f + $(hw_counter $d rx_fpdus)))
		b=$((b + $(hw_counter $d rx_bytes)))
	done
	echo $(((b - ${_fpdu_b:-0}) / (f - ${_fpdu_f:-0} + 1)))
	_fpdu_f=$f _fpdu_b=$b
}

# large_case NAME "INITIATOR SETTINGS" "RESPONDER SETTINGS" 0|1: large
# FPDUs agreed or not, as restrack shows and as the FPDUs' sizes show.
large_case() {
	local size
	fpdu_sizes > /dev/null
	mode_case "$1" "$2" "$3" "large_fpdu $4" "large_fpdu $4" -O write,read
	size=$(fpdu_sizes)
	if [ "$4" = 1 ]; then
		[ "$size" -gt 2896 ] ||
			fail "$1: large FPDUs agreed, but the FPDUs averaged $size bytes"
	else
		[ "$size" -le 1448 ] ||
			fail "$1: no large FPDUs agreed, but the FPDUs averaged $size bytes"
	fi
	note "$1: FPDUs of $size bytes on average"
}

# refused_case NAME "INITIATOR SETTINGS" "RESPONDER SETTINGS" LOG-TEXT
refused_case() {
	local out rc port
	case=$1
	settings siwb $2
	settings siwa $3
	port=$_next_port
	_next_port=$((_next_port + 1))
	dmesg -C
	bg ip netns exec lma "$tr" -s -b 10.80.0.1 -p "$port" -t 30 > "$LOGS/refused.srv" 2>&1
	SERVER_NS=lma wait_for -t 30 listening "$port" || fail "$case: no server"
	out=$(ip netns exec lmb "$tr" -c 10.80.0.1 -p "$port" -q 1 -n 10 -t 30 "${SIW_TRAFFIC_INV[@]}" 2>&1)
	rc=$?
	kill "$BG_PID" 2>/dev/null
	wait
	[ $rc != 0 ] || fail "$case: the connection was made: $out"
	grep -q REJECTED <<< "$out" || fail "$case: the client was not rejected: $out"
	klog | grep -q "siwa: connection refused: $4" ||
		fail "$case: siwa did not log 'connection refused: $4':"$'\n'"$(klog | tail -n 5)"
	note "$case: refused, $(klog | grep -o "siwa: connection refused: .*" | head -n 1)"
}

# Defaults: revision 2, no CRC, no peer-to-peer; siw_traffic asks 16/16.
mode_case rev2 "" "" \
	"mpa_rev 2 mpa_crc off mpa_rtr none ird 16 ord 16" \
	"mpa_rev 2 mpa_crc off mpa_rtr none ird 16 ord 16"
# Revision 1 from either side: no IRD/ORD exchange, each keeps its own.
mode_case rev1-initiator "mpa_rev=1" "" \
	"mpa_rev 1 mpa_rtr none ird 16 ord 16" "mpa_rev 1 mpa_rtr none"
mode_case rev1-responder "" "mpa_rev=1" \
	"mpa_rev 1 mpa_rtr none ird 16 ord 16" "mpa_rev 1 mpa_rtr none"
mode_case rev1-crc "mpa_rev=1 mpa_crc=on" "mpa_rev=1" \
	"mpa_rev 1 mpa_crc on" "mpa_rev 1 mpa_crc on"
# CRC when either side asks for it (RFC 5044 section 7.1).
mode_case crc-initiator "mpa_crc=on" "" "mpa_crc on" "mpa_crc on"
mode_case crc-responder "" "mpa_crc=on" "mpa_crc on" "mpa_crc on"
mode_case crc-strict-both "mpa_crc=strict" "mpa_crc=strict" "mpa_crc on" "mpa_crc on"
# Peer-to-peer with each RTR type, alone and as the responder's choice.
for rtr in write read send; do
	mode_case "p2p-$rtr" "peer_to_peer=1 mpa_rtr=$rtr" "" \
		"mpa_rev 2 mpa_rtr $rtr" "mpa_rev 2 mpa_rtr $rtr"
	mode_case "p2p-responder-takes-$rtr" "peer_to_peer=1" "mpa_rtr=$rtr" \
		"mpa_rtr $rtr" "mpa_rtr $rtr"
done
mode_case p2p-crc-read "peer_to_peer=1 mpa_rtr=read mpa_crc=on" "mpa_crc=strict" \
	"mpa_rtr read mpa_crc on" "mpa_rtr read mpa_crc on"
# IRD/ORD: each side announces at most its device's limits, and each
# side's ORD is cut to the other's IRD (RFC 6581 section 9): the
# initiator asks IRD 4 and ORD 6, the responder may give IRD 3, ORD 5.
mode_case ird-ord-limits "max_ird=4 max_ord=6" "max_ird=3 max_ord=5" \
	"ird 4 ord 3" "ird 3 ord 4"
# No Reads at all toward a responder that takes none: IRD 0.
mode_case ird-0 "" "max_ird=0" "ord 0" "ird 0" -O write,send
# An RTR Read needs ORD credit: with none, the next type offered is used.
mode_case p2p-read-without-ord "peer_to_peer=1 mpa_rtr=read,send" "max_ird=0" \
	"mpa_rtr send ord 0" "mpa_rtr send ird 0" -O write,send

# Large FPDUs: used only where both ends offer them, in either revision.
large_case large-fpdus "" "" 1
large_case large-fpdus-rev1 "mpa_rev=1" "" 1
large_case large-fpdus-initiator-off "large_fpdu=0" "" 0
large_case large-fpdus-responder-off "" "large_fpdu=0" 0

refused_case no-common-rtr "peer_to_peer=1 mpa_rtr=write" "mpa_rtr=read,send" \
	"no RTR message type in common"
refused_case crc-strict-refuses "" "mpa_crc=strict" \
	"peer does not use MPA CRC, which mpa_crc strict requires"

settings siwa
settings siwb
finish
exit 0
