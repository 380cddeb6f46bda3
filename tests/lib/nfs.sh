# shellcheck shell=bash
# NFS over RDMA for tests/vm/56-nfs-rdma.sh and tests/pair/56-nfs-rdma.sh:
# the kernel's NFS server exporting a tmpfs with its RDMA listener, and a
# client workload whose every byte is checked. Sourced after
# tests/lib/traffic.sh.
. "$SIW_TOP/tests/lib/storage.sh"

NFS_RDMA_PORT=20049
NFS_EXPORT=/srv/siw-nfs
NFS_MNT=/mnt/siw-nfs
# CI's run, and the long one (make check-long).
if [ "${SIW_TEST_LONG:-0}" = 1 ]; then
	NFS_TREE_FILES=3000 NFS_FIO_MB=64
else
	NFS_TREE_FILES=500 NFS_FIO_MB=8
fi
NFS_FIO_SIZE=${NFS_FIO_MB}m
NFS_FIO_BYTES=$((NFS_FIO_MB * 1024 * 1024))

nfs_modules() {
	local m
	for m in nfsd rpcrdma nfsv3 nfsv4; do
		must modprobe $m
	done
	at_exit "modprobe -r nfsv4 nfsv3 nfs rpcrdma nfsd"
}

# nfs_server_start: rpcbind, rpc.mountd and nfsd serving a fresh tmpfs
# at $NFS_EXPORT, over RDMA on $NFS_RDMA_PORT (and TCP, which only the
# MOUNT protocol and rpcbind queries use).
nfs_server_start() {
	must mkdir -p $NFS_EXPORT /var/lib/nfs/v4recovery /run/rpcbind
	must mount -t tmpfs -o size=512m siw-nfs $NFS_EXPORT
	at_exit "umount $NFS_EXPORT"
	grep -q nfsd /proc/mounts || must mount -t nfsd nfsd /proc/fs/nfsd
	bg rpcbind -f -w
	wait_for -t 30 rpcinfo -p 127.0.0.1 || fail "rpcbind did not start"
	# fsid=0: the export is NFSv4's root too (v4 clients mount "/"); the
	# guest's own root, an overlay, cannot be exported as the pseudo root.
	echo "$NFS_EXPORT *(rw,no_root_squash,insecure,no_subtree_check,fsid=0)" > /etc/exports
	must exportfs -ra
	bg rpc.mountd -F
	wait_for -t 30 sh -c 'rpcinfo -p 127.0.0.1 | grep -q mountd' ||
		fail "rpc.mountd did not register"
	# A short grace period: a fresh server refuses new NFSv4 state
	# (OPEN) until it ends, 90 s by default.
	echo 10 > /proc/fs/nfsd/nfsv4leasetime
	echo 10 > /proc/fs/nfsd/nfsv4gracetime
	at_exit "rpc.nfsd 0"
	nfs_threads_start
}

# nfs_threads_start / nfs_threads_stop: nfsd's threads and listeners,
# the RDMA one included, up or down again.
nfs_threads_start() {
	echo "\$ rpc.nfsd -V 3 -V 4.1 -V 4.2 --rdma=$NFS_RDMA_PORT 8"
	rpc.nfsd -V 3 -V 4.1 -V 4.2 --rdma=$NFS_RDMA_PORT 8 || fail "rpc.nfsd failed"
	grep -q "^rdma $NFS_RDMA_PORT\$" /proc/fs/nfsd/portlist ||
		fail "nfsd has no RDMA listener: $(cat /proc/fs/nfsd/portlist)"
	note "nfsd listens on: $(tr '\n' ' ' < /proc/fs/nfsd/portlist)"
}
nfs_threads_stop() {
	must rpc.nfsd 0
}

# nfs_mount SERVER VERS: SERVER's export mounted over RDMA at $NFS_MNT;
# the mount must report rdma as its transport.
nfs_mount() {
	local opts=proto=rdma,port=$NFS_RDMA_PORT,vers=$2 path=/ server=$1
	case $server in
	*:*) opts=${opts/proto=rdma/proto=rdma6} server="[$server]" ;;
	esac
	# NLM (locking) has no RDMA binding, and nothing here locks.
	[ "$2" = 3 ] && opts+=,nolock path=$NFS_EXPORT
	mkdir -p $NFS_MNT
	echo "\$ mount -t nfs -o $opts $server:$path $NFS_MNT"
	timeout 120 mount -t nfs -o "$opts" "$server:$path" $NFS_MNT ||
		fail "NFSv$2 mount over RDMA failed: $(dmesg | grep -iE 'rpcrdma|nfs|svcrdma' | tail -n 5)"
	grep -A 30 "mounted on $NFS_MNT with fstype nfs" /proc/self/mountstats |
		grep -q '^[[:space:]]*xprt:[[:space:]]*rdma' ||
		fail "NFSv$2: the mount's transport is not rdma"
}
nfs_umount() {
	must umount $NFS_MNT
}

# nfs_client_run SERVER VERS SEED DEV CHECK: the workload, as a client of
# SERVER over NFS version VERS on siw device DEV:
#   - fio, buffered (read back after a fresh mount, from the server) and
#     O_DIRECT, 4 KiB to 1 MiB blocks, each with a crc32c;
#   - the file tree of SEED written, then (after CHECK, a command that
#     checks it on the server's side) read back through a fresh mount.
# DEV's counters must show at least the data written going out and the
# data read coming in: a transport other than siw cannot pass.
nfs_client_run() {
	local server=$1 vers=$2 seed=$3 dev=$4 check=$5 tag tx0 rx0
	tag=v${vers/./}
	tx0=$(hw_counter "$dev" tx_bytes) rx0=$(hw_counter "$dev" rx_bytes)
	nfs_mount "$server" "$vers"
	fio_run "$tag-buf" write $NFS_MNT $NFS_FIO_SIZE
	fio_run "$tag-dio" both $NFS_MNT $NFS_FIO_SIZE --direct=1
	tree_make "$NFS_MNT/tree-$tag" "$seed" $NFS_TREE_FILES
	nfs_umount
	drop_caches
	$check "tree-$tag" "$seed"
	nfs_mount "$server" "$vers"
	fio_run "$tag-buf" verify $NFS_MNT $NFS_FIO_SIZE
	tree_check "$NFS_MNT/tree-$tag" "$seed" $NFS_TREE_FILES
	must rm -rf "${NFS_MNT:?}/tree-$tag" "$NFS_MNT/$tag-buf" "$NFS_MNT/$tag-dio"
	nfs_umount
	carried "NFSv$vers" "$dev" "$tx0" "$rx0" $(( 2 * NFS_FIO_BYTES + TREE_BYTES ))
}
