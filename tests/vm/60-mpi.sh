#!/bin/bash
# vm-timeout: 600
# Open MPI over siw: two ranks on two hosts, here two network namespaces
# joined by a veth pair, each with its own siw device. mpirun starts the
# rank of each host through an agent that enters the host's namespace
# (ssh's part on a real cluster). The ranks talk through Open MPI's OFI
# components on libfabric's verbs;ofi_rxm (pml cm, mtl ofi, no TCP or
# shared-memory transport offered), and run build/tests/siw_mpi_check:
# ping-pong from 1 B to 4 MiB with every byte checked, allreduce and
# alltoall with known results. Each device must have sent at least the
# ping-pong bytes of its rank: a run over TCP sockets cannot pass.
. "$(dirname "$0")/../lib/traffic.sh"

A=10.79.1.1
B=10.79.1.2
ITERS=10
MPI_CHECK=$SIW_TOP/build/tests/siw_mpi_check
[ -x "$MPI_CHECK" ] || fail "$MPI_CHECK is missing (make tests)"

veth_netns mpa $A mpb $B
load_siw
netns_siw_dev mpa siwma veth_a
netns_siw_dev mpb siwmb veth_b

# The launch agent: mpirun runs "AGENT HOST COMMAND-LINE", where HOST is
# a name from --host and COMMAND-LINE a shell command (a remote shell's
# input); HOST here names a namespace.
agent=$LOGS/netns-agent
cat > "$agent" <<'EOF'
#!/bin/sh
ns=$1
shift
exec ip netns exec "$ns" sh -c "$*"
EOF
chmod +x "$agent"

tx_a0=$(hw_counter siwma tx_bytes) tx_b0=$(hw_counter siwmb tx_bytes)
out=$LOGS/mpi.log
run_mpi() {
	ip netns exec mpa timeout 450 mpirun --allow-run-as-root -n 2 --host mpa:1,mpb:1 \
		--mca plm_rsh_agent "$agent" \
		--mca oob_tcp_if_include 10.79.1.0/24 \
		--mca pml cm --mca mtl ofi --mca mtl_ofi_provider_include 'verbs;ofi_rxm' \
		--mca btl self \
		"$MPI_CHECK" $ITERS > "$out" 2>&1
}
mpi_failed() {
	# Open MPI's first complaint is the one that tells.
	echo "  --- mpi.log (first 40 lines):"
	head -n 40 "$out" | cut -c 1-200 | sed 's/^/  | /'
	fail "mpirun failed"
}
# Open MPI's launcher failed once in the 6.1 lane of a whole suite run
# (not in a dozen runs of this test alone) before any rank existed: its
# daemons never reported to mpirun ("ORTE does not know how to route a
# message to the specified daemon"). Daemons are plain processes talking
# TCP, nothing of siw yet, so that, and only that, gets a second try.
echo "\$ mpirun -n 2 --host mpa:1,mpb:1 (pml cm, mtl ofi, verbs;ofi_rxm) siw_mpi_check $ITERS"
if ! run_mpi; then
	if ! grep -q '^ping-pong' "$out" &&
	   grep -q 'ORTE does not know how to route' "$out"; then
		note "Open MPI's launcher failed before any rank ran; once more"
		head -n 20 "$out" | cut -c 1-200 | sed 's/^/  | /'
		run_mpi || mpi_failed
	else
		mpi_failed
	fi
fi
sed 's/^/  | /' "$out"
grep -q '^all checked$' "$out" || log_fail "$out" "siw_mpi_check did not finish"

# Bytes each rank sent in its ping-pong messages, from the sizes printed.
sent=$(awk '/^ping-pong/ { s += $2 * $5 } END { printf "%d", s }' "$out")
[ "$sent" -gt $((ITERS * 8 * 1024 * 1024)) ] || log_fail "$out" "cannot tell the ping-pong volume"
tx_a=$(( $(hw_counter siwma tx_bytes) - tx_a0 ))
tx_b=$(( $(hw_counter siwmb tx_bytes) - tx_b0 ))
note "each rank sent $sent bytes of ping-pong; siwma sent $tx_a bytes, siwmb $tx_b"
[ "$tx_a" -ge "$sent" ] || fail "siwma sent $tx_a bytes, less than rank 0's $sent"
[ "$tx_b" -ge "$sent" ] || fail "siwmb sent $tx_b bytes, less than rank 1's $sent"

no_siw_resources "mpirun ended" 'siwm[ab]'
must rdma link delete siwma
must rdma link delete siwmb
unload_siw
exit 0
