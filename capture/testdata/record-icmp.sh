#!/bin/sh
# Re-records the IPv6 and ICMP capture fixtures of package capture:
#   ipv6.pcapng        an IPv6 connection (a request, a 3000-byte response)
#                      and an ICMPv6 echo request and reply, captured on
#                      the client's veth (Ethernet)
#   pmtu.pcapng        a path whose second link has a 1280-byte MTU: the
#                      client's 1400-byte writes over IPv4 get the router's
#                      Fragmentation Needed, over IPv6 its Packet Too Big;
#                      captured at the client with -i any (Linux cooked)
#   icmp-errors.pcapng connections refused by ICMP: administratively
#                      prohibited (a reject rule in the router), port
#                      unreachable (a reject rule in the server), Time
#                      Exceeded (a TTL / hop limit of 1); an echo request
#                      and reply over each of IPv4 and IPv6; captured at
#                      the client's veth
# Needs root, iproute2, dumpcap (apt-get install tshark), nftables and
# python3 (icmp.py is both ends). Everything runs in network namespaces
# made here and removed on exit, whatever happens, with addresses from
# 198.18.0.0/15 and 2001:2::/48 only:
#   A (client) 198.18.1.2  2001:2:0:1::2 --veth-- R (router) 198.18.1.1 2001:2:0:1::1
#   R 198.18.2.1 2001:2:0:2::1 (MTU 1280) --veth-- B (server) 198.18.2.2 2001:2:0:2::2
# (ipv6.pcapng uses A and B over one veth: 2001:2::2 and 2001:2::1.)
# Then: go test ./capture -update
# OUT=DIR writes the captures there instead (TestRecordICMP does).
# NSTAG=TAG ends the namespaces' names with -TAG, so that two runs at
# once (two test binaries) do not take each other's namespaces.
set -eu
cd "$(dirname "$0")"
OUT=${OUT:-.}
A=synack-icmp-a${NSTAG:+-$NSTAG}
R=synack-icmp-r${NSTAG:+-$NSTAG}
B=synack-icmp-b${NSTAG:+-$NSTAG}
DC= SRV=
cleanup() {
	[ -n "$DC" ] && kill "$DC" 2>/dev/null || true
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null || true
	for ns in $A $R $B; do ip netns del $ns 2>/dev/null || true; done
}
trap cleanup EXIT HUP INT PIPE TERM

# capture NS IFACE FILE: start dumpcap in NS; stop with stop.
capture() {
	ip netns exec "$1" dumpcap -q -i "$2" -w "$OUT/$3.tmp" 2>/dev/null &
	DC=$!
	sleep 1.5
}
stop() {
	sleep 0.5
	kill -INT "$DC"
	wait "$DC" || true
	DC=
	mv "$OUT/$1.tmp" "$OUT/$1"
	chmod 644 "$OUT/$1"
	echo "recorded $1"
}
server() {
	ip netns exec $B timeout 60 python3 icmp.py server "$@" &
	SRV=$!
	sleep 0.5
}
endserver() {
	kill "$SRV" 2>/dev/null || true
	wait "$SRV" 2>/dev/null || true
	SRV=
}

# ipv6.pcapng: two namespaces, one veth.
cleanup
ip netns add $A
ip netns add $B
ip link add veth-a netns $A type veth peer name veth-b netns $B
ip -n $A addr add 2001:2::2/64 dev veth-a nodad
ip -n $B addr add 2001:2::1/64 dev veth-b nodad
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set veth-a up
ip -n $B link set veth-b up
server 2001:2::1
capture $A veth-a ipv6.pcapng
ip netns exec $A timeout 10 python3 icmp.py get 2001:2::1
ip netns exec $A timeout 10 python3 icmp.py ping 2001:2::1
stop ipv6.pcapng
endserver

# Three namespaces: A - R - B, the R-B link with a 1280-byte MTU on R's
# side only, so that B announces a 1460-byte MSS and A sends packets R
# cannot forward.
cleanup
for ns in $A $R $B; do ip netns add $ns; ip -n $ns link set lo up; done
ip link add veth-a netns $A type veth peer name veth-ra netns $R
ip link add veth-rb netns $R type veth peer name veth-b netns $B
ip -n $A addr add 198.18.1.2/24 dev veth-a
ip -n $A addr add 2001:2:0:1::2/64 dev veth-a nodad
ip -n $R addr add 198.18.1.1/24 dev veth-ra
ip -n $R addr add 2001:2:0:1::1/64 dev veth-ra nodad
ip -n $R addr add 198.18.2.1/24 dev veth-rb
ip -n $R addr add 2001:2:0:2::1/64 dev veth-rb nodad
ip -n $B addr add 198.18.2.2/24 dev veth-b
ip -n $B addr add 2001:2:0:2::2/64 dev veth-b nodad
ip -n $R link set veth-rb mtu 1280
for l in "$A veth-a" "$R veth-ra" "$R veth-rb" "$B veth-b"; do set -- $l; ip -n $1 link set $2 up; done
ip -n $A route add default via 198.18.1.1
ip -n $A -6 route add default via 2001:2:0:1::1
ip -n $B route add default via 198.18.2.1
ip -n $B -6 route add default via 2001:2:0:2::1
ip netns exec $R sysctl -q -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
ip netns exec $R nft -f - <<'NFT'
table inet fix {
	chain through {
		type filter hook forward priority 0;
		ip daddr 198.18.2.2 tcp dport 8081 reject with icmp type admin-prohibited
		ip6 daddr 2001:2:0:2::2 tcp dport 8081 reject with icmpv6 type admin-prohibited
	}
}
NFT
ip netns exec $B nft -f - <<'NFT'
table inet fix {
	chain input_ {
		type filter hook input priority 0;
		tcp dport 8082 reject with icmpx type port-unreachable
	}
}
NFT
sleep 1
server 198.18.2.2 2001:2:0:2::2

capture $A any pmtu.pcapng
ip netns exec $A timeout 10 python3 icmp.py bulk 198.18.2.2
ip netns exec $A timeout 10 python3 icmp.py bulk 2001:2:0:2::2
stop pmtu.pcapng

capture $A veth-a icmp-errors.pcapng
for dst in 198.18.2.2 2001:2:0:2::2; do
	ip netns exec $A timeout 10 python3 icmp.py refused $dst
	ip netns exec $A timeout 10 python3 icmp.py ttl $dst
	ip netns exec $A timeout 10 python3 icmp.py ping $dst
done
stop icmp-errors.pcapng
endserver
cd "$OUT" && ls -l ipv6.pcapng pmtu.pcapng icmp-errors.pcapng
