#!/bin/bash
# vm-timeout: 900
# SMB Direct across two hosts (tools/vm-pair): ksmbd on the connect side
# serves a tmpfs, cifs on the listen side mounts it over RDMA (port 5445,
# as on any iWARP device) and runs tests/lib/smb.sh's verified workload:
# fio with crc32c, buffered and O_DIRECT; a 300-file tree (1000 in make
# check-long), checked file by file on the server's file system and again
# through a fresh mount; the client device's byte counters must carry it
# all. IPv4 only: ksmbd's SMB Direct listener is bound to 0.0.0.0.
# tests/run puts the first kernel on the listen side (6.1 as the client)
# and the last on the connect side (6.12 as the server). The other way
# round cannot run: the 6.1 kernel's ksmbd (6.1.192) oopses in
# opinfo_put() on the first open that gets no oplock, whatever the
# transport (tried over TCP), a bug of its own that 6.12 does not have.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/smb.sh"

SEED=57

pair_setup
note "this is the $SIDE side ($ME), the peer is $PEER"
load_siw
# ksmbd takes SMB Direct's iWARP port only if an iWARP device exists
# when it starts.
pair_dev

# server_checks TREE SEED (client): the server checks the tree on its
# own file system; a failure there fails the server side, and the client
# then gives up waiting.
server_checks() {
	signal "$1-written"
	await "$1-checked" 300
}

if [ "$SIDE" = connect ]; then
	smb_server_start
	signal serving
	await tree-written 600
	tree_check "$SMB_EXPORT/tree" $SEED $SMB_TREE_FILES
	signal tree-checked
	await client-done 600
	must ksmbd.control -s
	no_siw_resources "ksmbd stopped" siwp0
	must rmmod ksmbd
else
	smb_module cifs
	await serving
	note "SMB Direct from $PEER"
	smb_client_run "$PEER" $SEED siwp0 server_checks
	no_siw_resources "the last umount" siwp0
	must rmmod cifs
	signal client-done
fi
# Neither side takes its device away while the other may still use it.
signal finished
await finished
pair_dev_delete
unload_siw
# The peer may not have seen our last flag yet: it goes with our flag
# server when this script exits.
sleep 5
exit 0
