#!/bin/bash
# vm-timeout: 900
# NFS over RDMA across two hosts (tools/vm-pair): the listen side is the
# NFS server (nfsd exporting a tmpfs, RDMA listener on port 20049), the
# connect side the client, running tests/lib/nfs.sh's verified workload
# (fio with crc32c, buffered and O_DIRECT; a 300-file tree, 1000 in make
# check-long, checked file by file on the server's file system and
# again through a fresh mount; the client device's byte counters must
# carry it all).
#   round 1: our siw on both hosts, NFSv4.2 (and NFSv3 in make
#            check-long; 56-nfs-rdma runs all three on each kernel);
#   round 2: the kernel's in-tree siw under the server, ours under the
#            client, NFSv4.1.
# tests/run puts the first kernel on the listen side and the last on the
# connect side (6.1 serving 6.12), so the two kernels' NFS face each
# other as well.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/nfs.sh"

# Between two emulated hosts NFS over RDMA makes some 6 small files a
# second (over TCP some 13, docs/testing.md): a smaller tree than the
# one-host test's, unless make check-long.
NFS_TREE_FILES=300
[ "${SIW_TEST_LONG:-0}" = 1 ] && NFS_TREE_FILES=1000

pair_setup
note "this is the $SIDE side ($ME), the peer is $PEER"
nfs_modules
if [ "$SIDE" = listen ]; then
	nfs_server_start
	nfs_threads_stop
fi

# server_checks TREE SEED (client): the server checks the tree on its
# own file system; a failure there fails the server side, and the client
# then gives up waiting.
server_checks() {
	signal "$round-$1-written"
	await "$round-$1-checked" 300
}

# serve VERS...: the server's part of the client's runs of VERS.
serve() {
	local vers
	for vers; do
		await "$round-tree-v${vers/./}-written" 600
		tree_check "$NFS_EXPORT/tree-v${vers/./}" "$((round * 100 + ${vers/./}))" $NFS_TREE_FILES
		signal "$round-tree-v${vers/./}-checked"
	done
}

# client VERS...: nfs_client_run for each version against the server.
client() {
	local vers
	for vers; do
		note "round $round: NFSv$vers over RDMA from $PEER"
		nfs_client_run "$PEER" "$vers" "$((round * 100 + ${vers/./}))" siwp0 server_checks
	done
}

for round in 1 2; do
	versions=(4.2)
	[ "${SIW_TEST_LONG:-0}" = 1 ] && versions=(3 4.2)
	[ $round = 2 ] && versions=(4.1)
	if [ $round = 2 ] && [ "$SIDE" = listen ]; then
		note "round 2: the in-tree siw here, ours on the client"
		load_intree_siw
	else
		load_siw
	fi
	pair_dev
	if [ "$SIDE" = listen ]; then
		nfs_threads_start
		signal "$round-serving"
		serve "${versions[@]}"
		await "$round-client-done" 300
		nfs_threads_stop
	else
		await "$round-serving"
		client "${versions[@]}"
		signal "$round-client-done"
	fi
	# Neither side takes its device away while the other may still use it.
	signal "$round-done"
	await "$round-done"
	pair_dev_delete
	unload_siw
done
# The peer may not have seen our last flag yet: it goes with our flag
# server when this script exits.
sleep 5
exit 0
