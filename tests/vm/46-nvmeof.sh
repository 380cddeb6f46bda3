#!/bin/bash
# vm-timeout: 240
# A kernel consumer end to end: NVMe over Fabrics on RDMA through siw, the
# target (nvmet-rdma, a RAM disk namespace) and the host (nvme-rdma) on
# one siw device, over IPv4 and then IPv6. Both sides are kernel QPs:
# the host registers its buffers with fast registration (IB_WR_REG_MR)
# and invalidates them locally or has the target do it (SEND with
# Invalidate); the target moves the data with RDMA READ and WRITE. Data
# written with O_DIRECT in several block sizes must read back unchanged,
# through a fresh connection too. No nvme-cli needed: configfs and
# /dev/nvme-fabrics are the interfaces. SIW_TEST_INTREE=1 runs it on the
# in-tree siw.
. "$(dirname "$0")/../lib/traffic.sh"
. "$SIW_TOP/tests/lib/nvmeof.sh"

load_under_test
dummy_dev
nvmet_subsystem nqn.2026-11.org.example.siw:test

for fam in ipv4 ipv6; do
	addr=$TEST_IP4
	[ $fam = ipv6 ] && addr=$TEST_IP6
	nvmet_port_add $fam "$addr"

	nvme_connect "$addr"
	# Block sizes from one page to well past the host's inline data and
	# its MR page list, each over the whole 16 MiB.
	for bs in 4096 65536 1048576; do
		# Fresh data for each size, so a stale block cannot pass.
		must dd if=/dev/urandom of="$LOGS/pattern" bs=1M count=16 status=none
		must dd if="$LOGS/pattern" of="$DISK" bs=$bs oflag=direct status=none
		must dd if="$DISK" of="$LOGS/back" bs=$bs count=$((16 * 1048576 / bs)) \
			iflag=direct status=none
		cmp "$LOGS/pattern" "$LOGS/back" || fail "$fam, bs=$bs: data read back differs"
	done
	nvme_disconnect
	# Written through the previous connection, read through a new one.
	nvme_connect "$addr"
	must dd if="$DISK" of="$LOGS/back" bs=1M count=16 iflag=direct status=none
	cmp "$LOGS/pattern" "$LOGS/back" || fail "$fam: data differs through a new connection"
	nvme_disconnect

	nvmet_port_remove
	note "$fam: written and read back in 4 KiB, 64 KiB and 1 MiB blocks, and again through a new connection"
done

nvmet_subsystem_remove
finish
exit 0
