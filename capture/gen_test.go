package capture

import (
	"net/netip"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// Captures made by the tests: the frames a Linux host's tcpdump records,
// written with pcapOf, so that each test says what its capture holds.

var (
	genClient = netip.MustParseAddrPort("192.0.2.10:51000")
	genServer = netip.MustParseAddrPort("192.0.2.20:80")
)

// ethernet wraps an IP packet of the given EtherType in an Ethernet header.
func ethernet(etherType uint16, p []byte) []byte {
	f := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, byte(etherType >> 8), byte(etherType)}
	return append(f, p...)
}

// tcpFrame is an Ethernet frame of a TCP/IPv4 segment with n bytes of
// payload.
func tcpFrame(src, dst netip.AddrPort, flags wire.Flags, sq, ack seq.Value, win uint16, n int, o wire.Options) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{Src: src.Addr(), Dst: dst.Addr(), DontFragment: true},
		TCP: wire.Segment{SrcPort: src.Port(), DstPort: dst.Port(), Seq: sq, Ack: ack, Flags: flags, Window: win, Options: o, Payload: make([]byte, n)},
	}
	return ethernet(0x0800, p.Append(nil))
}

// arpFrame is an ARP request for 192.0.2.20.
func arpFrame() []byte {
	return ethernet(0x0806, []byte{0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 192, 0, 2, 10, 0, 0, 0, 0, 0, 0, 192, 0, 2, 20})
}

// ipv6Frame is an ICMPv6 neighbour solicitation (its body left zero).
func ipv6Frame() []byte {
	h := make([]byte, 40+24)
	h[0] = 0x60
	h[5] = 24  // payload length
	h[6] = 58  // ICMPv6
	h[7] = 255 // hop limit
	h[8], h[9] = 0xfe, 0x80
	h[24], h[25] = 0xff, 0x02
	h[40] = 135
	return ethernet(0x86dd, h)
}

// linuxConn is a connection between two Linux hosts as the client's
// tcpdump shows it: a handshake with window scale 7 (client) and 10
// (server), a request of req bytes, a response of resp bytes in segments
// of at most seg bytes, and the close. The windows are the fields Linux
// sends: 502 (64256 bytes at scale 7) from the client, 63 (64512 at 10)
// from the server.
func linuxConn(req, resp, seg int) [][]byte {
	const ciss, siss = 1000, 5000
	c, s := genClient, genServer
	synOpt := func(shift uint8) wire.Options {
		return wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: shift, SACKPermitted: true}
	}
	var fs [][]byte
	cs, ss := seq.Value(ciss+1), seq.Value(siss+1)
	fs = append(fs,
		tcpFrame(c, s, wire.SYN, ciss, 0, 64240, 0, synOpt(7)),
		tcpFrame(s, c, wire.SYN|wire.ACK, siss, cs, 65160, 0, synOpt(10)),
		tcpFrame(c, s, wire.ACK, cs, ss, 502, 0, wire.Options{}),
		tcpFrame(c, s, wire.PSH|wire.ACK, cs, ss, 502, req, wire.Options{}))
	cs = cs.Add(seq.Size(req))
	fs = append(fs, tcpFrame(s, c, wire.ACK, ss, cs, 63, 0, wire.Options{}))
	for left := resp; left > 0; {
		n := min(left, seg)
		fs = append(fs, tcpFrame(s, c, wire.PSH|wire.ACK, ss, cs, 63, n, wire.Options{}))
		ss = ss.Add(seq.Size(n))
		left -= n
	}
	fs = append(fs,
		tcpFrame(c, s, wire.ACK, cs, ss, 502, 0, wire.Options{}),
		tcpFrame(c, s, wire.FIN|wire.ACK, cs, ss, 502, 0, wire.Options{}),
		tcpFrame(s, c, wire.FIN|wire.ACK, ss, cs.Add(1), 63, 0, wire.Options{}),
		tcpFrame(c, s, wire.ACK, cs.Add(1), ss.Add(1), 502, 0, wire.Options{}))
	return fs
}
