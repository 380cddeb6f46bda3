#!/bin/bash
# Install everything siw needs on Debian 12 (root), then build.
# Idempotent: when every package is present it only rebuilds.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
backports=/etc/apt/sources.list.d/siw-bookworm-backports.list

base_pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev kmod cpio
	pkg-config sparse git python3
	qemu-system-x86 busybox-static
	rdma-core ibverbs-utils ibverbs-providers rdmacm-utils
	libibverbs-dev librdmacm-dev perftest iperf3 sockperf libkcapi-dev valgrind
	python3-matplotlib python3-pyverbs
	nfs-kernel-server nfs-common fio libfabric-bin tgt open-iscsi cifs-utils
	openmpi-bin libopenmpi-dev
	iproute2 linux-source-6.1 linux-source-6.12 xz-utils
)

die() { echo "setup: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (apt-get and /lib/modules need it)"
grep -q 'bookworm' /etc/os-release || echo "setup: warning: not Debian 12; package names may differ" >&2

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
			echo "$p"
	done
}

has_backports() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

updated=0
apt_update() {
	[ $updated = 1 ] && return
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	updated=1
}

# The archive this machine already takes bookworm from, in either of
# apt's formats: backports come from the same place.
bookworm_uri() {
	{
		sed -e 's/\[[^]]*\]//' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" && $3 == "bookworm" { print $2 }'
		cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
			awk -v RS='' '/(^|\n)Types:[^\n]*[ \t]deb([ \t]|\n|$)/ &&
				      /(^|\n)Suites:[^\n]*[ \t]bookworm([ \t]|\n|$)/ {
				if (match($0, /(^|\n)URIs:[ \t]*[^ \t\n]+/)) {
					u = substr($0, RSTART, RLENGTH)
					sub(/^\n?URIs:[ \t]*/, "", u)
					print u
				}
			}'
	} | head -n 1
}

if ! has_backports; then
	uri=$(bookworm_uri)
	[ -n "$uri" ] || die "no bookworm source in /etc/apt: cannot add bookworm-backports next to it"
	echo "deb $uri bookworm-backports main" > "$backports"
	apt_update
fi

# The versioned kernel packages behind each suite's linux-image-amd64 meta
# package: both kernels must be installed side by side, which the meta
# packages themselves cannot be.
kernel_pkgs() {
	local suite=$1 ver
	ver=$(apt-cache madison linux-image-amd64 | awk -v s="$suite" '$0 ~ s"/main" {print $3; exit}')
	[ -n "$ver" ] || return 0
	apt-cache depends "linux-image-amd64=$ver" | awk '/Depends: linux-image-/{print $2}'
	apt-cache depends "linux-headers-amd64=$ver" | awk '/Depends: linux-headers-/{print $2}'
}

want=("${base_pkgs[@]}")
if [ -z "$(ls /lib/modules/*/build/Makefile 2>/dev/null | grep -E '/6\.1\.0-' || true)" ] ||
   [ -z "$(ls /lib/modules/*/build/Makefile 2>/dev/null | grep -E '/6\.12\.' || true)" ]; then
	apt_update
	mapfile -t kp < <(kernel_pkgs 'bookworm-security'; kernel_pkgs 'bookworm-backports')
	[ ${#kp[@]} -ge 4 ] || mapfile -t kp < <(kernel_pkgs ' bookworm'; kernel_pkgs 'bookworm-backports')
	want+=("${kp[@]}")
fi

mapfile -t need < <(missing "${want[@]}")
# bookworm's ksmbd-tools 3.4.7 answers share lookups in a form that
# the 6.1 kernel's ksmbd rejects (every tree connect, IPC$ included,
# fails with BAD_NETWORK_NAME): the SMB Direct test needs 3.5 from
# bookworm-backports.
if ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' ksmbd-tools 2>/dev/null || echo 0)" ge 3.5; then
	need+=(ksmbd-tools/bookworm-backports)
fi
if [ ${#need[@]} -gt 0 ]; then
	apt_update
	echo "setup: installing ${need[*]}"
	# The tests run NFS's daemons inside the VMs only: no service of these
	# packages (nfs-server, rpcbind) may start on this machine, which
	# would load their modules into its kernel. invoke-rc.d asks
	# policy-rc.d; 101 is "action forbidden".
	policy=/usr/sbin/policy-rc.d
	own_policy=0
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\nexit 101\n' > $policy
		chmod 755 $policy
		own_policy=1
	fi
	rc=0
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" || rc=$?
	[ $own_policy = 0 ] || rm -f $policy
	[ $rc = 0 ] || die "apt-get install failed ($rc)"
fi

make -C "$here" all-kernels
