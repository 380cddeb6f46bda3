# shellcheck shell=bash
# SMB Direct (SMB3 over RDMA) for tests/pair/57-smb-direct.sh: the
# kernel's SMB server ksmbd with ksmbd-tools' ksmbd.mountd exporting a
# tmpfs, and the kernel's SMB client cifs mounting it with -o rdma, a
# workload whose every byte is checked. Debian's kernels build both
# modules without SMB Direct: tools/build-smbdirect builds them with it
# from the kernel's own source (build/<kver>/smbdirect/). Sourced after
# tests/lib/traffic.sh.
. "$SIW_TOP/tests/lib/storage.sh"

SMB_MODS=$SIW_TOP/build/$(uname -r)/smbdirect
SMB_SHARE=siw
SMB_EXPORT=/srv/siw-smb
SMB_MNT=/mnt/siw-smb
# ksmbd maps an SMB user to the local account of the same name.
SMB_USER=root
SMB_PASS=siw-smb-test
# SMB Direct's port on iWARP (MS-SMBD 2.1): ksmbd listens there when an
# iWARP device exists as it starts, and cifs tries it first.
SMB_DIRECT_PORT=5445
if [ "${SIW_TEST_LONG:-0}" = 1 ]; then
	SMB_TREE_FILES=1000 SMB_FIO_MB=64
else
	SMB_TREE_FILES=300 SMB_FIO_MB=16
fi
SMB_FIO_SIZE=${SMB_FIO_MB}m
SMB_FIO_BYTES=$((SMB_FIO_MB * 1024 * 1024))

# smb_module NAME: build/<kver>/smbdirect/NAME.ko loaded, its
# dependencies from the kernel's own modules first.
smb_module() {
	local ko=$SMB_MODS/$1.ko dep
	[ -f "$ko" ] || fail "$ko is missing (make smbdirect)"
	for dep in $(modinfo -F depends "$ko" | tr , ' '); do
		must modprobe "$dep"
	done
	echo "\$ insmod smbdirect/$1.ko"
	insmod "$ko" || fail "insmod of $1.ko failed"
	at_exit "rmmod $1"
}

# smb_server_start: ksmbd serving a fresh tmpfs at $SMB_EXPORT as share
# $SMB_SHARE to $SMB_USER, listening for SMB Direct on
# $SMB_DIRECT_PORT. The iWARP device must exist already.
smb_server_start() {
	smb_module ksmbd
	must mkdir -p $SMB_EXPORT /etc/ksmbd
	must mount -t tmpfs -o size=512m siw-smb $SMB_EXPORT
	at_exit "umount $SMB_EXPORT"
	cat > /etc/ksmbd/ksmbd.conf <<-EOF
	[global]
		server signing = disabled
	[$SMB_SHARE]
		path = $SMB_EXPORT
		read only = no
	EOF
	must ksmbd.adduser -a -p "$SMB_PASS" "$SMB_USER"
	echo "\$ ksmbd.mountd -n"
	bg ksmbd.mountd -n
	at_exit "ksmbd.control -s"
	wait_for -t 30 sh -c "rdma resource show cm_id | grep -q 'state LISTEN .*:$SMB_DIRECT_PORT '" ||
		fail "ksmbd has no RDMA listener on port $SMB_DIRECT_PORT: $(dmesg | grep -i ksmbd | tail -n 5)"
	note "ksmbd listens: $(rdma resource show cm_id | grep "state LISTEN" | tr -s ' ')"
}

# smb_mount SERVER: the share mounted from SERVER (an IPv4 address:
# ksmbd listens for SMB Direct on 0.0.0.0 only) over SMB Direct at
# $SMB_MNT. The mount must report rdma, and the connection must be an
# SMB Direct one.
smb_mount() {
	local opts=rdma,vers=3.1.1,username=$SMB_USER,password=$SMB_PASS
	mkdir -p $SMB_MNT
	echo "\$ mount -t cifs -o rdma,vers=3.1.1,... //$1/$SMB_SHARE $SMB_MNT"
	timeout 120 mount -t cifs -o "$opts" "//$1/$SMB_SHARE" $SMB_MNT ||
		fail "SMB Direct mount failed: $(dmesg | grep -iE 'cifs|smb' | tail -n 5)"
	awk -v m=$SMB_MNT '$2 == m && $3 == "cifs"' /proc/mounts | grep -q '[,=]rdma[,]' ||
		fail "the SMB mount has no rdma option: $(grep " $SMB_MNT " /proc/mounts)"
	grep -q '^SMBDirect ' /proc/fs/cifs/DebugData ||
		fail "the SMB connection is not an SMB Direct one"
}
smb_umount() {
	must umount $SMB_MNT
}

# smb_client_run SERVER SEED DEV CHECK: the workload, as a client of
# SERVER over SMB Direct on siw device DEV:
#   - fio, buffered and O_DIRECT, 4 KiB to 1 MiB blocks, each with a
#     crc32c, both read back after a fresh mount, from the server;
#   - the file tree of SEED written, then (after CHECK, a command that
#     checks it on the server's side) read back through a fresh mount.
# DEV's counters must show at least the data written going out and the
# data read coming in (carried).
smb_client_run() {
	local server=$1 seed=$2 dev=$3 check=$4 tx0 rx0
	tx0=$(hw_counter "$dev" tx_bytes) rx0=$(hw_counter "$dev" rx_bytes)
	smb_mount "$server"
	fio_run smb-buf write $SMB_MNT $SMB_FIO_SIZE
	fio_run smb-dio both $SMB_MNT $SMB_FIO_SIZE --direct=1
	tree_make "$SMB_MNT/tree" "$seed" $SMB_TREE_FILES
	smb_umount
	drop_caches
	$check tree "$seed"
	smb_mount "$server"
	fio_run smb-buf verify $SMB_MNT $SMB_FIO_SIZE
	fio_run smb-dio verify $SMB_MNT $SMB_FIO_SIZE --direct=1
	tree_check "$SMB_MNT/tree" "$seed" $SMB_TREE_FILES
	smb_umount
	carried "SMB Direct" "$dev" "$tx0" "$rx0" $(( 2 * SMB_FIO_BYTES + TREE_BYTES ))
}
