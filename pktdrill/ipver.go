package pktdrill

import (
	"fmt"
	"net/netip"

	"github.com/gosynack/synack/wire"
)

// IP versions of --ip_version, as packetdrill names them.
const (
	IPv4       = "ipv4"             // AF_INET sockets, IPv4 packets
	IPv6       = "ipv6"             // AF_INET6 sockets, IPv6 packets
	IPv4Mapped = "ipv4-mapped-ipv6" // AF_INET6 sockets with ::ffff: addresses, IPv4 packets
)

// packetdrill's IPv6 defaults (a ULA prefix) for --ip_version=ipv6: the
// stack under test and the scripted peer.
var (
	LocalAddr6  = netip.MustParseAddr("fd3d:fa7b:d17d::1")
	RemoteAddr6 = netip.MustParseAddr("fd3d:fa7b:d17d:8888::1")
)

// The IPv6 addresses of a --kernel run with --ip_version=ipv6, remapped
// into 2001:2::/48 (RFC 5180's benchmarking range), as the IPv4 ones are
// into 198.18.0.0/15.
var (
	KernelLocalAddr6  = netip.MustParseAddr("2001:2::1")
	KernelRemoteAddr6 = netip.MustParseAddr("2001:2::2")
)

// ipVersion checks an --ip_version value.
func ipVersion(v string) (string, error) {
	switch v {
	case IPv4, IPv6, IPv4Mapped:
		return v, nil
	}
	return "", fmt.Errorf("bad --ip_version=%s: expected ipv4, ipv6 or ipv4-mapped-ipv6", v)
}

// wireV6 says whether the run's packets are IPv6.
func (r *runner) wireV6() bool { return r.ipv == IPv6 }

// sockAddr is addr as the script's socket sees it: IPv4-mapped for
// ipv4-mapped-ipv6.
func (r *runner) sockAddr(a netip.Addr) netip.Addr {
	if r.ipv == IPv4Mapped {
		return netip.AddrFrom16(a.As16())
	}
	return a
}

// buildTCP encodes seg from the peer to the stack in the run's IP version.
func (r *runner) buildTCP(seg *wire.Segment) []byte {
	if r.wireV6() {
		ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: r.remoteAddr, Dst: r.localAddr}
		b := ip.Append(nil, seg.Len())
		return seg.Append(b, r.remoteAddr, r.localAddr)
	}
	pkt := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: r.remoteAddr, Dst: r.localAddr}, TCP: *seg}
	return pkt.Append(nil)
}

// parseOut reads a packet the stack sent: a TCP segment over IPv4 or IPv6
// (either family, whatever the run's version, so that a stack answering
// in the wrong one is seen), with its options as on the wire. Other
// protocols are an error.
func parseOut(b []byte) (outPkt, error) { return parseOutCsum(b, true) }

// parseKernelOut reads a packet the kernel sent, as packetdrill does: the
// IP header checksum verified, the TCP checksum not (the device has the
// checksum offload, so the kernel leaves it partial for the device to
// complete, and the capture sees it so).
func parseKernelOut(b []byte) (outPkt, error) { return parseOutCsum(b, false) }

func parseOutCsum(b []byte, csum bool) (outPkt, error) {
	ip, payload, err := wire.ParseIP(b)
	if err != nil {
		return outPkt{}, err
	}
	if ip.Protocol() != wire.ProtocolTCP {
		return outPkt{}, fmt.Errorf("%s: not TCP", ip.String())
	}
	var seg wire.Segment
	if csum {
		seg, err = wire.ParseTCP(payload, ip.Src(), ip.Dst())
	} else {
		seg, err = wire.ParseTCPNoChecksum(payload)
	}
	if err != nil {
		return outPkt{}, err
	}
	seg.Payload = append([]byte(nil), seg.Payload...)
	return outPkt{seg: seg, opts: rawOptions(payload), src: ip.Src(), dst: ip.Dst()}, nil
}
