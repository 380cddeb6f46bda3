#!/bin/bash
# Runs a test with one given libibverbs provider serving the siw devices.
#
#   tests/lib/provider.sh stock|userlib CMD [ARGS...]
#
# stock:   rdma-core's siw provider, as installed (RDMAV_DRIVERS unset).
# userlib: the project's build/userlib/libsiw-rdmav34.so through
#          RDMAV_DRIVERS, with the distribution's siw.driver file hidden
#          (an empty file bound over it in a mount namespace of the
#          test's own), so a process that missed the override finds no
#          siw provider at all and fails instead of quietly using the
#          stock one. Every context userlib opens is traced to a file;
#          when CMD succeeded, an empty trace fails the run: the test
#          never used RDMA through userlib, and proved nothing about it.
#
# CMD sees SIW_TEST_PROVIDER=stock|userlib (tests/lib/guest.sh turns that
# into SIW_PROVIDER). Exit status: CMD's, or 1 for an empty trace.
set -u

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prov=${1:-}
shift || true
[ $# -gt 0 ] || { echo "provider.sh: usage: provider.sh stock|userlib CMD..." >&2; exit 2; }

case $prov in
stock)
	exec env -u RDMAV_DRIVERS -u SIW_USERLIB_TRACE SIW_TEST_PROVIDER=stock "$@"
	;;
userlib) ;;
*) echo "provider.sh: unknown provider '$prov'" >&2; exit 2 ;;
esac

lib=$top/build/userlib/libsiw
driver_file=/etc/libibverbs.d/siw.driver
[ -f "$lib-rdmav34.so" ] || { echo "provider.sh: $lib-rdmav34.so not built (make -C userlib)" >&2; exit 1; }

if [ -z "${_SIW_PROVIDER_NS:-}" ]; then
	exec unshare --mount --propagation private \
		env _SIW_PROVIDER_NS=1 bash "${BASH_SOURCE[0]}" userlib "$@"
fi
if [ -e "$driver_file" ]; then
	mount --bind /dev/null "$driver_file" ||
		{ echo "provider.sh: cannot hide $driver_file" >&2; exit 1; }
fi

trace=$(mktemp /tmp/siw-userlib-trace.XXXXXX)
RDMAV_DRIVERS=$lib SIW_USERLIB_TRACE=$trace SIW_TEST_PROVIDER=userlib "$@"
rc=$?
n=$(grep -c '^siw-userlib: context for ' "$trace")
rm -f "$trace"
echo "# provider.sh: userlib opened $n device contexts"
if [ $rc = 0 ] && [ "$n" = 0 ]; then
	echo "provider.sh: the test passed without opening any device through userlib" >&2
	exit 1
fi
exit $rc
