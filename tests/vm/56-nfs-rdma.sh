#!/bin/bash
# vm-timeout: 900
# NFS over RDMA through siw, server and client on one siw device: the
# kernel's NFS server (nfsd with its RDMA listener on port 20049, as
# /proc/fs/nfsd/portlist shows it) exports a tmpfs, and the kernel's
# client mounts it with proto=rdma as NFSv3, NFSv4.1 and NFSv4.2. For
# each version (tests/lib/nfs.sh, nfs_client_run):
#   - fio writes 4 KiB to 1 MiB blocks with a crc32c in each, buffered
#     and with O_DIRECT, 8 MiB each (64 MiB in make check-long), and
#     reads them back: the buffered file after a fresh mount, so that
#     the data come back from the server;
#   - a tree of 500 files (3000 in make check-long; tests/lib/filetree.py,
#     some 12 KB a file) is written through the mount, checked file by
#     file on the server's own file system, and again through a fresh
#     mount;
#   - the device's byte counters must have carried at least what was
#     written and read, and the mount must report rdma as its
#     transport: a mount that fell back to TCP cannot pass.
# Both sides are kernel QPs: the client registers its buffers with fast
# registration, the server moves bulk data with RDMA READ and WRITE.
# nfsd starts before the siw device exists, as at boot, and its RDMA
# listeners are on the wildcard addresses (IPv4 and IPv6): the device
# comes on an interface with an IPv4 address only (NFSv3 mounts over
# it), and an IPv6 address is added later (NFSv4.1 mounts over that; a
# wildcard listener follows the interface's addresses). 79a6a23 failed
# the IPv6 listen with EADDRNOTAVAIL, which made rdma_cm drop the whole
# device (and 6.1's rpcrdma then oopsed when nfsd stopped).
# At the end nfsd stops, no RDMA CM id is left on the device, the device
# goes and siw unloads. tests/pair/56-nfs-rdma.sh runs it across two
# hosts and against the in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/nfs.sh"

load_siw
nfs_modules
nfs_server_start
mk_dummy dummy0
must ip addr add "$TEST_IP4/24" dev dummy0
must rdma link add "$TEST_DEV" type siw netdev dummy0
at_exit "rdma link delete $TEST_DEV"
wait_for -t 10 port_active "$TEST_DEV" || fail "$TEST_DEV did not become ACTIVE"

# check_on_server TREE SEED: the tree, as the server's file system has it.
check_on_server() {
	tree_check "$NFS_EXPORT/$1" "$2" $NFS_TREE_FILES
}

seed=$RANDOM
for vers in 3 4.1 4.2; do
	server=$TEST_IP4
	if [ $vers = 4.1 ]; then
		must ip -6 addr add "$TEST_IP6/64" dev dummy0 nodad
		server=$TEST_IP6
	fi
	note "NFSv$vers over RDMA to $server"
	nfs_client_run "$server" $vers $((seed + ${vers/./})) $TEST_DEV check_on_server
done

nfs_threads_stop
must exportfs -ua
cm_ids_gone() { ! rdma resource show cm_id 2>/dev/null | grep -q "dev $TEST_DEV"; }
wait_for -t 30 cm_ids_gone ||
	fail "RDMA CM ids left on $TEST_DEV after nfsd stopped: $(rdma resource show cm_id)"
finish
exit 0
