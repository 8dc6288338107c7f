#!/bin/sh
# Re-records the kernel-TCP capture fixtures of package capture:
#   normal.pcap     a connection with a request and a response (Ethernet)
#   simclose.pcap   simultaneous close: both ends shut down at once and the
#                   first FIN of each is dropped, so the FINs cross (Linux
#                   cooked SLL, tcpdump -i any)
#   rst.pcap        a connection refused and an abort (SO_LINGER 0), with a
#                   96-byte snaplen
#   retrans.pcap    the first SYN and the 4th data segment dropped: an RTO
#                   retransmission, duplicate ACKs, a fast retransmission
#   zerowin.pcap    a receiver with a 2 KB SO_RCVBUF that does not read for
#                   1.5 s: zero window, probes, window updates
# Needs root, iproute2, tcpdump, nftables and python3. Everything runs in two
# network namespaces made here (198.18.0.2 <-> 198.18.0.1 over a veth pair)
# and removed on exit, whatever happens. Then: go test ./capture -update
set -eu
cd "$(dirname "$0")"
A=synack-cap-a
B=synack-cap-b
TD=
cleanup() {
	[ -n "$TD" ] && kill "$TD" 2>/dev/null || true
	ip netns del $A 2>/dev/null || true
	ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT HUP INT PIPE TERM

setup() {
	cleanup
	ip netns add $A
	ip netns add $B
	ip link add veth-a netns $A type veth peer name veth-b netns $B
	ip -n $A addr add 198.18.0.2/24 dev veth-a
	ip -n $B addr add 198.18.0.1/24 dev veth-b
	for ns in $A $B; do ip -n $ns link set lo up; done
	ip -n $A link set veth-a up
	ip -n $B link set veth-b up
	sleep 0.5
}

# drop NS RULE...: an nftables input rule in namespace NS.
drop() {
	ns=$1; shift
	ip netns exec "$ns" nft add table inet fix 2>/dev/null || true
	ip netns exec "$ns" nft 'add chain inet fix in { type filter hook input priority 0; }' 2>/dev/null || true
	ip netns exec "$ns" nft add rule inet fix in "$@"
}

# record NAME MODE TCPDUMP-ARGS...: run peer.py MODE in both namespaces while
# tcpdump captures in A.
record() {
	name=$1 mode=$2; shift 2
	ip netns exec $A tcpdump -q -n -U --immediate-mode "$@" -w "$name.pcap" 'tcp port 8080 or tcp port 8081' 2>/dev/null &
	TD=$!
	sleep 1
	ip netns exec $B timeout 20 python3 peer.py "$mode" server &
	srv=$!
	sleep 0.3
	ip netns exec $A timeout 20 python3 peer.py "$mode" client
	wait $srv
	sleep 0.5
	kill $TD
	wait $TD || true
	TD=
	echo "recorded $name.pcap"
}

setup
record normal normal -i veth-a

setup
drop $B tcp dport 8080 tcp flags \& fin == fin numgen inc mod 1000 == 0 drop
drop $A tcp sport 8080 tcp flags \& fin == fin numgen inc mod 1000 == 0 drop
record simclose simclose -i any

setup
record rst rst -i veth-a -s 96

setup
drop $B tcp dport 8080 tcp flags \& '(syn|ack)' == syn numgen inc mod 1000 == 0 drop
drop $B tcp dport 8080 ip length gt 100 numgen inc mod 1000 == 3 drop
record retrans retrans -i veth-a

setup
record zerowin zerowin -i veth-a
