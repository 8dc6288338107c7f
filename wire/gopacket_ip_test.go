package wire

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/seq"
)

// gopacket is the independent oracle for the formats added with IPv6: it
// decodes and verifies what Append writes, and what it serializes (with
// its own checksums and extension headers) must parse.

func randAddr6(r *rand.Rand) netip.Addr {
	var a [16]byte
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	a[0] = 0x20 // a global unicast address, never IPv4-mapped
	return netip.AddrFrom16(a)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func randIPv6(r *rand.Rand, nh uint8) IPv6 {
	return IPv6{
		TrafficClass: uint8(r.Uint32()), FlowLabel: r.Uint32() & 0xfffff, HopLimit: uint8(1 + r.IntN(255)),
		NextHeader: nh, Src: randAddr6(r), Dst: randAddr6(r),
	}
}

func gopacketIPv6(ip IPv6) *layers.IPv6 {
	return &layers.IPv6{
		Version: 6, TrafficClass: ip.TrafficClass, FlowLabel: ip.FlowLabel, HopLimit: ip.HopLimit,
		NextHeader: layers.IPProtocol(ip.NextHeader), SrcIP: net.IP(ip.Src.AsSlice()), DstIP: net.IP(ip.Dst.AsSlice()),
	}
}

// decodeGopacketIPv6 decodes an IPv6 header with gopacket and checks its
// fields against want and a payload of n bytes.
func decodeGopacketIPv6(t *testing.T, b []byte, want IPv6, n int) *layers.IPv6 {
	t.Helper()
	ip := &layers.IPv6{}
	if err := ip.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket IPv6: %v\n% x", err, b)
	}
	if ip.Version != 6 || ip.TrafficClass != want.TrafficClass || ip.FlowLabel != want.FlowLabel || int(ip.Length) != n ||
		ip.NextHeader != layers.IPProtocol(want.NextHeader) || ip.HopLimit != want.HopLimit ||
		!ip.SrcIP.Equal(net.IP(want.Src.AsSlice())) || !ip.DstIP.Equal(net.IP(want.Dst.AsSlice())) || len(ip.Payload) != n {
		t.Fatalf("gopacket IPv6 %+v\ndoes not match %+v", ip, want)
	}
	return ip
}

// TCP over IPv6, encoded here: gopacket's decoder and checksum verifier
// (over the RFC 8200 §8.1 pseudo-header) accept it, and re-serializing its
// layers with its own checksum gives the same bytes.
func TestGopacketDecodesTCPOverIPv6(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for range 1000 {
		ip := randIPv6(r, ProtocolTCP)
		s := randSegment(r)
		b := ip.Append(nil, s.Len())
		b = s.Append(b, ip.Src, ip.Dst)
		g := decodeGopacketIPv6(t, b, ip, s.Len())
		tcp := &layers.TCP{}
		if err := tcp.DecodeFromBytes(g.Payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if err := tcp.SetNetworkLayerForChecksum(g); err != nil {
			t.Fatal(err)
		}
		if err, res := tcp.VerifyChecksum(); err != nil || !res.Valid {
			t.Fatalf("gopacket: TCP checksum over IPv6 invalid: %v %+v", err, res)
		}
		if uint16(tcp.SrcPort) != s.SrcPort || uint16(tcp.DstPort) != s.DstPort || tcp.Seq != uint32(s.Seq) ||
			tcp.Ack != uint32(s.Ack) || gopacketFlags(tcp) != s.Flags || tcp.Window != s.Window ||
			int(tcp.DataOffset)*4 != s.HeaderLen() || !bytes.Equal(tcp.Payload, s.Payload) {
			t.Fatalf("gopacket TCP %v\ndoes not match %v", tcp, &s)
		}
		compareGopacketOptions(t, tcp.Options, &s.Options)
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, g, tcp, gopacket.Payload(tcp.Payload)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), b) {
			t.Fatalf("gopacket re-serialized with its own checksum\n got % x\nwant % x", buf.Bytes(), b)
		}
	}
}

// gopacketExtHeaders returns a random chain of extension headers that
// ParseIPv6 must walk (at most one Hop-by-Hop, first; Destination Options
// with a skippable option; Routing with no segments left; an atomic
// fragment), ending with next header last, and the Next Header of the
// fixed header.
func gopacketExtHeaders(r *rand.Rand, last layers.IPProtocol) (first layers.IPProtocol, hbh *layers.IPv6HopByHop, ls []gopacket.SerializableLayer) {
	type ext struct {
		proto layers.IPProtocol
		set   func(next layers.IPProtocol) gopacket.SerializableLayer
	}
	var chain []ext
	if r.IntN(2) == 0 {
		chain = append(chain, ext{layers.IPProtocolIPv6HopByHop, nil})
	}
	for range r.IntN(4) {
		switch r.IntN(3) {
		case 0:
			chain = append(chain, ext{layers.IPProtocolIPv6Destination, func(next layers.IPProtocol) gopacket.SerializableLayer {
				d := &layers.IPv6Destination{Options: []*layers.IPv6DestinationOption{
					// RFC 8200 §4.2: action 00, "skip over this option". Its
					// data fills the header to a multiple of 8 bytes, since
					// gopacket's own padding gets that wrong.
					{OptionType: uint8(r.IntN(0x40)) | 2, OptionData: randBytes(r, 4+8*r.IntN(3))},
				}}
				d.NextHeader = next
				return d
			}})
		case 1:
			chain = append(chain, ext{layers.IPProtocolIPv6Routing, func(next layers.IPProtocol) gopacket.SerializableLayer {
				rt := &layers.IPv6Routing{RoutingType: uint8(r.Uint32()), SegmentsLeft: 0, Reserved: randBytes(r, 4), Data: randBytes(r, 8*r.IntN(3))}
				rt.NextHeader = next
				return rt
			}})
		case 2:
			chain = append(chain, ext{layers.IPProtocolIPv6Fragment, func(next layers.IPProtocol) gopacket.SerializableLayer {
				return &layers.IPv6Fragment{NextHeader: next, Identification: r.Uint32()}
			}})
		}
	}
	first = last
	if len(chain) > 0 {
		first = chain[0].proto
	}
	for i, e := range chain {
		next := last
		if i+1 < len(chain) {
			next = chain[i+1].proto
		}
		if e.set == nil {
			hbh = &layers.IPv6HopByHop{Options: []*layers.IPv6HopByHopOption{
				// RFC 2711 Router Alert (action 00), then a PadN of 2 bytes
				// to fill the header to 8 bytes.
				{OptionType: 5, OptionData: []byte{0, 0}},
				{OptionType: 1, OptionData: []byte{}},
			}}
			hbh.NextHeader = next
			continue
		}
		ls = append(ls, e.set(next))
	}
	return first, hbh, ls
}

// TCP over IPv6 built by gopacket, with extension headers and options in
// random order, parses with ParseIPv6 and ParseTCP.
func TestParseGopacketTCPOverIPv6(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	kinds := map[gopacket.LayerType]int{}
	for range 1000 {
		want := randIPv6(r, ProtocolTCP)
		ip := gopacketIPv6(want)
		first, hbh, ext := gopacketExtHeaders(r, layers.IPProtocolTCP)
		ip.NextHeader, ip.HopByHop = first, hbh
		if hbh != nil {
			kinds[layers.LayerTypeIPv6HopByHop]++
		}
		for _, l := range ext {
			kinds[l.LayerType()]++
		}
		tcp := &layers.TCP{
			SrcPort: layers.TCPPort(r.Uint32()), DstPort: layers.TCPPort(r.Uint32()),
			Seq: r.Uint32(), Ack: r.Uint32(), Window: uint16(r.Uint32()), Urgent: uint16(r.Uint32()),
			SYN: r.IntN(2) == 0, ACK: r.IntN(2) == 0, PSH: r.IntN(2) == 0, FIN: r.IntN(2) == 0,
		}
		var opts Options
		tcp.Options = randGopacketOptions(r, &opts)
		payload := randBytes(r, r.IntN(200))
		if err := tcp.SetNetworkLayerForChecksum(ip); err != nil {
			t.Fatal(err)
		}
		buf := gopacket.NewSerializeBuffer()
		ls := append(append([]gopacket.SerializableLayer{ip}, ext...), tcp, gopacket.Payload(payload))
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, ls...); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		got, seg, err := ParseIPv6(b)
		if err != nil {
			t.Fatalf("ParseIPv6 of gopacket's packet: %v\n% x", err, b)
		}
		if got != want {
			t.Fatalf("ParseIPv6 of gopacket's packet\n got %+v\nwant %+v\n% x", got, want, b)
		}
		s, err := ParseTCP(seg, got.Src, got.Dst)
		if err != nil {
			t.Fatalf("ParseTCP of gopacket's segment over IPv6: %v\n% x", err, b)
		}
		ws := Segment{
			SrcPort: uint16(tcp.SrcPort), DstPort: uint16(tcp.DstPort), Seq: seq.Value(tcp.Seq), Ack: seq.Value(tcp.Ack),
			Flags: gopacketFlags(tcp), Window: tcp.Window, Urgent: tcp.Urgent, Checksum: tcp.Checksum, Options: opts, Payload: payload,
		}
		if len(payload) == 0 {
			ws.Payload = nil
		}
		if !segEqual(s, ws) {
			t.Fatalf("ParseTCP of gopacket's segment\n got %+v\nwant %+v", s, ws)
		}
	}
	for _, k := range []gopacket.LayerType{layers.LayerTypeIPv6HopByHop, layers.LayerTypeIPv6Destination, layers.LayerTypeIPv6Routing, layers.LayerTypeIPv6Fragment} {
		if kinds[k] < 100 {
			t.Errorf("only %d packets with a %v header", kinds[k], k)
		}
	}
}

// UDP over both families, both ways.
func TestGopacketUDP(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for i := range 2000 {
		u := UDP{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), Payload: randBytes(r, r.IntN(300))}
		if len(u.Payload) == 0 {
			u.Payload = nil
		}
		var ip IP
		if i%2 == 0 {
			ip = IP{Version: 4, V4: IPv4{TTL: 64, Protocol: ProtocolUDP, Src: randAddr4(r), Dst: randAddr4(r)}}
		} else {
			ip = IP{Version: 6, V6: randIPv6(r, ProtocolUDP)}
		}
		b := ip.Append(nil, u.Len())
		b = u.Append(b, ip.Src(), ip.Dst())

		// Ours, decoded by gopacket.
		var nl gopacket.NetworkLayer
		var l4 []byte
		if ip.Version == 4 {
			ip4, _ := decodeGopacket4(t, b)
			nl, l4 = ip4, ip4.Payload
		} else {
			ip6 := decodeGopacketIPv6(t, b, ip.V6, u.Len())
			nl, l4 = ip6, ip6.Payload
		}
		gu := &layers.UDP{}
		if err := gu.DecodeFromBytes(l4, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if err := gu.SetNetworkLayerForChecksum(nl); err != nil {
			t.Fatal(err)
		}
		if err, res := gu.VerifyChecksum(); err != nil || !res.Valid || gu.Checksum == 0 {
			t.Fatalf("gopacket: UDP checksum invalid: %v %+v\n% x", err, res, b)
		}
		if uint16(gu.SrcPort) != u.SrcPort || uint16(gu.DstPort) != u.DstPort || int(gu.Length) != u.Len() || !bytes.Equal(gu.Payload, u.Payload) {
			t.Fatalf("gopacket UDP %+v\ndoes not match %+v", gu, u)
		}
		ck := gu.Checksum
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, gu, gopacket.Payload(gu.Payload)); err != nil {
			t.Fatal(err)
		}
		if gu.Checksum != ck || !bytes.Equal(buf.Bytes(), l4) {
			t.Fatalf("gopacket re-serialized UDP with its own checksum\n got % x\nwant % x", buf.Bytes(), l4)
		}

		// gopacket's, parsed by ours.
		gu2 := &layers.UDP{SrcPort: layers.UDPPort(u.SrcPort), DstPort: layers.UDPPort(u.DstPort)}
		var first gopacket.SerializableLayer
		if ip.Version == 4 {
			g4 := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: net.IP(ip.Src().AsSlice()), DstIP: net.IP(ip.Dst().AsSlice())}
			first, nl = g4, g4
		} else {
			g6 := gopacketIPv6(ip.V6)
			first, nl = g6, g6
		}
		if err := gu2.SetNetworkLayerForChecksum(nl); err != nil {
			t.Fatal(err)
		}
		buf = gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, first, gu2, gopacket.Payload(u.Payload)); err != nil {
			t.Fatal(err)
		}
		pip, payload, err := ParseIP(buf.Bytes())
		if err != nil {
			t.Fatalf("ParseIP of gopacket's packet: %v", err)
		}
		got, err := ParseUDP(payload, pip.Src(), pip.Dst())
		want := u
		want.Checksum = gu2.Checksum
		if err != nil || !udpEqual(got, want) {
			t.Fatalf("ParseUDP of gopacket's datagram = %+v, %v; want %+v", got, err, want)
		}
	}
}

func decodeGopacket4(t *testing.T, b []byte) (*layers.IPv4, []byte) {
	t.Helper()
	ip := &layers.IPv4{}
	if err := ip.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
		t.Fatalf("gopacket IPv4: %v\n% x", err, b)
	}
	return ip, ip.Payload
}

// randQuote4 returns the start of a random IPv4 packet carrying TCP or
// UDP, as an ICMP error would quote it: the header and 8 bytes or more.
func randQuote4(r *rand.Rand) []byte {
	p := randPacket(r)
	var b []byte
	if r.IntN(2) == 0 {
		b = p.Append(nil)
	} else {
		u := UDP{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), Payload: randBytes(r, r.IntN(60))}
		p.IP.Protocol = ProtocolUDP
		b = u.Append(p.IP.Append(nil, u.Len()), p.IP.Src, p.IP.Dst)
	}
	return b[:28+r.IntN(min(len(b)-28, 40)+1)]
}

// randQuote6 is randQuote4 for IPv6.
func randQuote6(r *rand.Rand) []byte {
	var b []byte
	if r.IntN(2) == 0 {
		s := randSegment(r)
		ip := randIPv6(r, ProtocolTCP)
		b = s.Append(ip.Append(nil, s.Len()), ip.Src, ip.Dst)
	} else {
		u := UDP{SrcPort: uint16(r.Uint32()), DstPort: uint16(r.Uint32()), Payload: randBytes(r, r.IntN(60))}
		ip := randIPv6(r, ProtocolUDP)
		b = u.Append(ip.Append(nil, u.Len()), ip.Src, ip.Dst)
	}
	return b[:48+r.IntN(min(len(b)-48, 40)+1)]
}

func randICMPv4(r *rand.Rand) ICMPv4 {
	switch r.IntN(6) {
	case 0:
		return ICMPv4{Type: ICMPv4EchoRequest, ID: uint16(r.Uint32()), Seq: uint16(r.Uint32()), Body: randBytes(r, r.IntN(64))}
	case 1:
		return ICMPv4{Type: ICMPv4EchoReply, ID: uint16(r.Uint32()), Seq: uint16(r.Uint32()), Body: randBytes(r, r.IntN(64))}
	case 2:
		return ICMPv4{Type: ICMPv4DestUnreachable, Code: ICMPv4FragmentationNeeded, MTU: uint16(r.Uint32()), Body: randQuote4(r)}
	case 3:
		return ICMPv4{Type: ICMPv4DestUnreachable, Code: uint8(r.IntN(16)), Body: randQuote4(r)}
	case 4:
		return ICMPv4{Type: ICMPv4TimeExceeded, Code: uint8(r.IntN(2)), Body: randQuote4(r)}
	default:
		return ICMPv4{Type: ICMPv4ParamProblem, Pointer: uint8(r.IntN(20)), Body: randQuote4(r)}
	}
}

func randICMPv6(r *rand.Rand) ICMPv6 {
	switch r.IntN(6) {
	case 0:
		return ICMPv6{Type: ICMPv6EchoRequest, ID: uint16(r.Uint32()), Seq: uint16(r.Uint32()), Body: randBytes(r, r.IntN(64))}
	case 1:
		return ICMPv6{Type: ICMPv6EchoReply, ID: uint16(r.Uint32()), Seq: uint16(r.Uint32()), Body: randBytes(r, r.IntN(64))}
	case 2:
		return ICMPv6{Type: ICMPv6PacketTooBig, MTU: r.Uint32(), Body: randQuote6(r)}
	case 3:
		return ICMPv6{Type: ICMPv6DestUnreachable, Code: uint8(r.IntN(7)), Body: randQuote6(r)}
	case 4:
		return ICMPv6{Type: ICMPv6TimeExceeded, Code: uint8(r.IntN(2)), Body: randQuote6(r)}
	default:
		return ICMPv6{Type: ICMPv6ParamProblem, Code: uint8(r.IntN(3)), Pointer: r.Uint32(), Body: randQuote6(r)}
	}
}

// checkGopacketQuote checks our reading of a quote against gopacket's
// decoding of the same bytes.
func checkGopacketQuote(t *testing.T, q Quote, body []byte) {
	t.Helper()
	var l4 []byte
	var want IP
	if body[0]>>4 == 4 {
		ip, p := decodeGopacket4(t, body)
		want = IP{Version: 4, V4: IPv4{TOS: ip.TOS, ID: ip.Id, DontFragment: ip.Flags&layers.IPv4DontFragment != 0, TTL: ip.TTL,
			Protocol: uint8(ip.Protocol), Src: netip.AddrFrom4([4]byte(ip.SrcIP.To4())), Dst: netip.AddrFrom4([4]byte(ip.DstIP.To4()))}}
		l4 = p
	} else {
		ip := &layers.IPv6{}
		if err := ip.DecodeFromBytes(body, gopacket.NilDecodeFeedback); err != nil {
			t.Fatalf("gopacket quoted IPv6: %v", err)
		}
		want = IP{Version: 6, V6: IPv6{TrafficClass: ip.TrafficClass, FlowLabel: ip.FlowLabel, HopLimit: ip.HopLimit,
			NextHeader: uint8(ip.NextHeader), Src: netip.AddrFrom16([16]byte(ip.SrcIP)), Dst: netip.AddrFrom16([16]byte(ip.DstIP))}}
		l4 = ip.Payload
	}
	if q.IP != want || q.Err != nil || !q.HasPorts || !bytes.Equal(q.Payload, l4) {
		t.Fatalf("quote %+v (err %v)\nwant IP %+v and payload % x", q, q.Err, want, l4)
	}
	// gopacket's UDP decoder reads the 8 bytes; its TCP decoder wants 20,
	// so the TCP fields are read from its IP payload.
	if want.Protocol() == ProtocolUDP {
		u := &layers.UDP{}
		if err := u.DecodeFromBytes(l4, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if uint16(u.SrcPort) != q.SrcPort || uint16(u.DstPort) != q.DstPort || q.HasSeq {
			t.Fatalf("quote %+v, gopacket UDP %+v", q, u)
		}
	} else if binary.BigEndian.Uint16(l4) != q.SrcPort || binary.BigEndian.Uint16(l4[2:]) != q.DstPort ||
		!q.HasSeq || uint32(q.Seq) != binary.BigEndian.Uint32(l4[4:]) {
		t.Fatalf("quote %+v of TCP % x", q, l4[:8])
	}
}

// ICMP, encoded here, decoded and verified by gopacket; built by gopacket,
// parsed here.
func TestGopacketICMPv4(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for range 2000 {
		m := randICMPv4(r)
		b := m.Append(nil)
		g := &layers.ICMPv4{}
		if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if err, res := g.VerifyChecksum(); err != nil || !res.Valid {
			t.Fatalf("gopacket: ICMP checksum invalid: %v %+v\n% x", err, res, b)
		}
		// gopacket names bytes 4 to 8 Id and Seq whatever the type.
		var id, sq uint16
		switch m.Type {
		case ICMPv4EchoRequest, ICMPv4EchoReply:
			id, sq = m.ID, m.Seq
		case ICMPv4DestUnreachable:
			if m.Code == ICMPv4FragmentationNeeded {
				sq = m.MTU
			}
		case ICMPv4ParamProblem:
			id = uint16(m.Pointer) << 8
		}
		if g.TypeCode.Type() != uint8(m.Type) || g.TypeCode.Code() != m.Code || g.Id != id || g.Seq != sq || !bytes.Equal(g.Payload, m.Body) {
			t.Fatalf("gopacket ICMP %+v\ndoes not match %+v", g, m)
		}
		p, err := ParseICMPv4(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type.IsError() {
			checkGopacketQuote(t, p.Quote, g.Payload)
		}

		g2 := &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(uint8(m.Type), m.Code), Id: id, Seq: sq}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true}, g2, gopacket.Payload(m.Body)); err != nil {
			t.Fatal(err)
		}
		got, err := ParseICMPv4(buf.Bytes())
		want := p
		want.Checksum = g2.Checksum
		if err != nil || !icmpv4Equal(got, want) {
			t.Fatalf("ParseICMPv4 of gopacket's message = %+v, %v\nwant %+v", got, err, want)
		}
	}
}

// ICMPv6 inside IPv6, encoded here, decoded and verified by gopacket (its
// checksum over the pseudo-header, RFC 4443 §2.3); built by gopacket,
// parsed here.
func TestGopacketICMPv6(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for range 2000 {
		m := randICMPv6(r)
		ip := randIPv6(r, ProtocolICMPv6)
		b := m.Append(ip.Append(nil, m.Len()), ip.Src, ip.Dst)
		g6 := decodeGopacketIPv6(t, b, ip, m.Len())
		g := &layers.ICMPv6{}
		if err := g.DecodeFromBytes(g6.Payload, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if err := g.SetNetworkLayerForChecksum(g6); err != nil {
			t.Fatal(err)
		}
		if err, res := g.VerifyChecksum(); err != nil || !res.Valid {
			t.Fatalf("gopacket: ICMPv6 checksum invalid: %v %+v\n% x", err, res, b)
		}
		if g.TypeCode.Type() != uint8(m.Type) || g.TypeCode.Code() != m.Code || !bytes.Equal(g.Payload[4:], m.Body) {
			t.Fatalf("gopacket ICMPv6 %+v\ndoes not match %+v", g, m)
		}
		var rest [4]byte
		switch m.Type {
		case ICMPv6EchoRequest, ICMPv6EchoReply:
			e := &layers.ICMPv6Echo{}
			if err := e.DecodeFromBytes(g.Payload, gopacket.NilDecodeFeedback); err != nil {
				t.Fatal(err)
			}
			if e.Identifier != m.ID || e.SeqNumber != m.Seq || !bytes.Equal(e.Payload, m.Body) {
				t.Fatalf("gopacket ICMPv6 echo %+v\ndoes not match %+v", e, m)
			}
			binary.BigEndian.PutUint16(rest[:], m.ID)
			binary.BigEndian.PutUint16(rest[2:], m.Seq)
		case ICMPv6PacketTooBig:
			binary.BigEndian.PutUint32(rest[:], m.MTU)
		case ICMPv6ParamProblem:
			binary.BigEndian.PutUint32(rest[:], m.Pointer)
		}
		if !bytes.Equal(g.Payload[:4], rest[:]) {
			t.Fatalf("gopacket ICMPv6 bytes 4 to 8 % x, want % x", g.Payload[:4], rest)
		}
		_, pl, err := ParseIPv6(b)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseICMPv6(pl, ip.Src, ip.Dst)
		if err != nil {
			t.Fatal(err)
		}
		if m.Type.IsError() {
			checkGopacketQuote(t, p.Quote, m.Body)
		}

		gip := gopacketIPv6(ip)
		g2 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(uint8(m.Type), m.Code)}
		if err := g2.SetNetworkLayerForChecksum(gip); err != nil {
			t.Fatal(err)
		}
		ls := []gopacket.SerializableLayer{gip, g2}
		if m.Type == ICMPv6EchoRequest || m.Type == ICMPv6EchoReply {
			ls = append(ls, &layers.ICMPv6Echo{Identifier: m.ID, SeqNumber: m.Seq}, gopacket.Payload(m.Body))
		} else {
			ls = append(ls, gopacket.Payload(append(rest[:], m.Body...)))
		}
		buf := gopacket.NewSerializeBuffer()
		if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, ls...); err != nil {
			t.Fatal(err)
		}
		gotIP, pl, err := ParseIPv6(buf.Bytes())
		if err != nil || gotIP != ip {
			t.Fatalf("ParseIPv6 of gopacket's packet = %+v, %v; want %+v", gotIP, err, ip)
		}
		got, err := ParseICMPv6(pl, gotIP.Src, gotIP.Dst)
		want := p
		want.Checksum = g2.Checksum
		if err != nil || !icmpv6Equal(got, want) {
			t.Fatalf("ParseICMPv6 of gopacket's message = %+v, %v\nwant %+v", got, err, want)
		}
	}
}
