# shellcheck shell=bash
# NVMe over Fabrics on RDMA for tests/vm/46-nvmeof.sh and
# tests/vm/58-nvmeof-stress.sh: a target (nvmet-rdma) with one subsystem
# on a RAM disk, and host connections to it through /dev/nvme-fabrics
# (no nvme-cli needed). Sourced after tests/lib/traffic.sh.

NVMET_CFG=/sys/kernel/config/nvmet
NVMET_PORT=$NVMET_CFG/ports/1

# nvmet_subsystem NQN: the modules of both sides, and subsystem NQN open
# to any host, its namespace 1 a 64 MiB RAM disk (brd). Sets NQN and SUB.
nvmet_subsystem() {
	local m
	NQN=$1
	for m in nvmet nvmet-rdma nvme-rdma; do
		must modprobe $m
	done
	at_exit "modprobe -r nvme-rdma nvmet-rdma nvmet"
	[ -d $NVMET_CFG ] || must mount -t configfs none /sys/kernel/config
	must modprobe brd rd_nr=1 rd_size=65536
	at_exit "modprobe -r brd"
	SUB=$NVMET_CFG/subsystems/$NQN
	must mkdir "$SUB"
	at_exit "rmdir $SUB"
	echo 1 > "$SUB/attr_allow_any_host" || fail "cannot allow any host"
	must mkdir "$SUB/namespaces/1"
	at_exit "rmdir $SUB/namespaces/1"
	echo -n /dev/ram0 > "$SUB/namespaces/1/device_path" || fail "cannot set the namespace's device"
	echo 1 > "$SUB/namespaces/1/enable" || fail "cannot enable the namespace"
	at_exit "echo 0 > $SUB/namespaces/1/enable"
}

# nvmet_subsystem_remove: the subsystem gone again (its port first).
nvmet_subsystem_remove() {
	echo 0 > "$SUB/namespaces/1/enable"
	must rmdir "$SUB/namespaces/1" "$SUB"
}

# nvmet_port_add FAMILY ADDR: RDMA port 1 on ADDR:4420 (FAMILY ipv4 or
# ipv6), serving the subsystem. nvmet_port_remove: and gone again.
nvmet_port_add() {
	must mkdir $NVMET_PORT
	echo rdma > $NVMET_PORT/addr_trtype
	echo "$1" > $NVMET_PORT/addr_adrfam
	echo "$2" > $NVMET_PORT/addr_traddr
	echo 4420 > $NVMET_PORT/addr_trsvcid
	must ln -s "$SUB" "$NVMET_PORT/subsystems/$NQN"
}
nvmet_port_remove() {
	must rm "$NVMET_PORT/subsystems/$NQN"
	must rmdir $NVMET_PORT
}

# The controller the host made for the subsystem, once it exists.
ctrl_of_nqn() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$NQN" ] && { basename "$c"; return 0; }
	done
	return 1
}
have_ctrl() { ctrl_of_nqn > /dev/null; }
no_ctrl() { ! have_ctrl; }
have_disk() {
	ls "/sys/class/nvme/$CTRL/" 2>/dev/null | grep -q '^nvme[0-9]*c*[0-9]*n1$'
}

# nvme_connect ADDR [OPTIONS [quiet]]: a host controller for the
# subsystem at ADDR:4420, with further connect OPTIONS ("a=b,c=d"), on
# rdma; sets CTRL and DISK. quiet: no echo of the command or result.
nvme_connect() {
	local opts="transport=rdma,traddr=$1,trsvcid=4420,nqn=$NQN${2:+,$2}"
	[ -n "${3:-}" ] || echo "\$ echo $opts > /dev/nvme-fabrics"
	echo "$opts" > /dev/nvme-fabrics ||
		fail "connecting to $1 failed: $(dmesg | grep -i nvme | tail -n 5)"
	wait_for -t 30 have_ctrl || fail "no controller for $NQN after connecting to $1"
	CTRL=$(ctrl_of_nqn)
	wait_for -t 30 have_disk || fail "$CTRL has no namespace"
	DISK=/dev/$(ls "/sys/class/nvme/$CTRL/" | grep '^nvme[0-9]*c*[0-9]*n1$' | head -n 1)
	DISK=${DISK/c[0-9]*n/n}
	wait_for -t 30 test -b "$DISK" || fail "$DISK did not appear"
	grep -q rdma "/sys/class/nvme/$CTRL/transport" || fail "$CTRL is not on rdma"
	[ -n "${3:-}" ] || note "$CTRL on $1: $DISK"
}

# nvme_disconnect [SECS]: the controller deleted, gone within SECS (30).
nvme_disconnect() {
	local secs=${1:-30}
	echo 1 > "/sys/class/nvme/$CTRL/delete_controller" || fail "cannot delete $CTRL"
	wait_for -t "$secs" no_ctrl || fail "$CTRL still exists $secs s after delete_controller"
}
