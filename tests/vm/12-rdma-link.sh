#!/bin/bash
# Devices made and removed with `rdma link add/delete ... type siw`: one
# per netdev at most, repeatable, and in other network namespaces from
# inside them.
. "$(dirname "$0")/../lib/guest.sh"

mk_dummy dummy0
mk_dummy dummy1
load_siw
at_exit "rdma link delete siwd0; rdma link delete siwd1"

linked() { rdma link show 2>/dev/null | grep -q "^link $1/1 .*netdev $2\b"; }

must rdma link add siwd0 type siw netdev dummy0
have_dev siwd0 || fail "siwd0 missing after rdma link add"
linked siwd0 dummy0 || fail "rdma link show does not list siwd0 on dummy0:"$'\n'"$(rdma link show)"

must_fail rdma link add siwd0b type siw netdev dummy0
no_dev siwd0b || fail "a second device siwd0b was created on dummy0"
must_fail rdma link add siwd0 type siw netdev dummy1

must rdma link add siwd1 type siw netdev dummy1
linked siwd1 dummy1 || fail "rdma link show does not list siwd1 on dummy1:"$'\n'"$(rdma link show)"

must rdma link delete siwd0
wait_for -t 5 no_dev siwd0 || fail "siwd0 still exists after rdma link delete"
have_dev siwd1 || fail "deleting siwd0 took siwd1 with it"
must rdma link delete siwd1
wait_for -t 5 no_dev siwd1 || fail "siwd1 still exists after rdma link delete"

note "20 add/delete cycles on dummy0"
for i in $(seq 20); do
	rdma link add siwd0 type siw netdev dummy0 || fail "cycle $i: rdma link add failed"
	have_dev siwd0 || fail "cycle $i: siwd0 missing after add"
	rdma link delete siwd0 || fail "cycle $i: rdma link delete failed"
	wait_for -t 5 no_dev siwd0 || fail "cycle $i: siwd0 still exists after delete"
done

# A netdev is looked up in the caller's namespace, so a device for one
# that lives in namespace "a" can only be added from inside "a"; the RDMA
# device itself is then visible everywhere (shared rdma netns mode).
mk_netns a
must ip link add va type veth peer name vb
at_exit "ip link del vb"
must ip link set va netns a
must ip -n a link set va up
must ip link set vb up
must_fail rdma link add siwa type siw netdev va
must ip netns exec a rdma link add siwa type siw netdev va
at_exit "ip netns exec a rdma link delete siwa"
wait_for -t 5 have_dev siwa || fail "siwa missing after rdma link add in namespace a"
ns_links=$(ip netns exec a rdma link show)
grep -q '^link siwa/1 ' <<< "$ns_links" || fail "rdma link show in namespace a does not list siwa:"$'\n'"$ns_links"
must ip netns exec a rdma link delete siwa
wait_for -t 5 no_dev siwa || fail "siwa still exists after rdma link delete"

unload_siw
exit 0
