# shellcheck shell=bash
# Helpers for the storage and file-system workloads over siw (NFS, SMB
# Direct, iSER, NVMe-oF): verified I/O with fio and a verified file tree
# (tests/lib/filetree.py). Sourced after tests/lib/traffic.sh.

FILETREE=$SIW_TOP/tests/lib/filetree.py

# fio_run TAG PHASE TARGET SIZE [FIO-ARGS...]: random writes of 4 KiB to
# 1 MiB blocks into a file TAG under the directory TARGET, or onto the
# block device TARGET, SIZE in all, each block
# carrying a crc32c that fio checks when reading back. PHASE is write
# (write only), verify (read back what an earlier write phase with the
# same TAG wrote: the caller drops the client's cache in between, so
# that the data comes from the server) or both (write, then read back
# at once: for O_DIRECT, whose reads go to the server anyway). Fails on
# any error or mismatch.
fio_run() {
	local tag=$1 phase=$2 file=$3/$1 size=$4 out=$LOGS/fio-$1-$2.log
	[ -b "$3" ] && file=$3
	local args=(--name="$tag" --filename="$file" --size="$size"
		--rw=randwrite --bsrange=4k-1m --ioengine=psync
		--verify=crc32c --verify_fatal=1 --randrepeat=1
		--output-format=terse --terse-version=3)
	shift 4
	case $phase in
	write) args+=(--do_verify=0) ;;
	verify) args+=(--verify_only) ;;
	both) ;;
	*) fail "fio_run: no phase $phase" ;;
	esac
	echo "\$ fio $tag ($phase, $size, $*)"
	timeout --kill-after=5 300 fio "${args[@]}" "$@" > "$out" 2>&1 ||
		log_fail "$out" "fio $tag ($phase) failed"
	# Terse v3: field 5 is the job's error, 6 the KiB read, 47 the KiB
	# written.
	awk -F';' -v tag="$tag" -v phase="$phase" '
		$3 == tag { found = 1
			if ($5 != 0) { print "error " $5; exit 1 }
			printf "  | fio %s %s: %d KiB read, %d KiB written\n", tag, phase, $6, $47 }
		END { if (!found) { print "no result"; exit 1 } }' "$out" ||
		log_fail "$out" "fio $tag ($phase) reported an error"
}

# tree_make DIR SEED COUNT / tree_check DIR SEED COUNT: the seeded file
# tree written under DIR (its size left in TREE_BYTES), or checked there
# file by file.
tree_make() {
	echo "\$ filetree.py make $*"
	timeout --kill-after=5 600 python3 "$FILETREE" make "$@" > "$LOGS/tree.log" 2>&1 ||
		log_fail "$LOGS/tree.log" "writing the file tree under $1 failed"
	sed 's/^/  | /' "$LOGS/tree.log"
	TREE_BYTES=$(awk '/^made/ { print $4 }' "$LOGS/tree.log")
}
tree_check() {
	echo "\$ filetree.py check $*"
	timeout --kill-after=5 600 python3 "$FILETREE" check "$@" > "$LOGS/tree.log" 2>&1 ||
		log_fail "$LOGS/tree.log" "the file tree under $1 is not as written"
	sed 's/^/  | /' "$LOGS/tree.log"
}

# drop_caches: the page cache, dentries and inodes of this host gone, so
# that the next read of a network file system asks its server.
drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}

# carried WHAT DEV TX0 RX0 WANT: since its byte counters read TX0 and
# RX0, siw device DEV sent and received at least WANT bytes each, what
# the workload WHAT wrote and read: a transport other than siw cannot
# pass.
carried() {
	local what=$1 dev=$2 want=$5 tx rx
	tx=$(( $(hw_counter "$dev" tx_bytes) - $3 ))
	rx=$(( $(hw_counter "$dev" rx_bytes) - $4 ))
	note "$what: $dev sent $tx and received $rx bytes; the workload wrote and read $want each way"
	[ "$tx" -ge "$want" ] || fail "$what: $dev sent $tx bytes, less than the $want written"
	[ "$rx" -ge "$want" ] || fail "$what: $dev received $rx bytes, less than the $want read"
}
