package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/seq"
)

func addGoldenPackets(f *testing.F, tcpOnly bool) {
	for _, g := range goldens {
		b := mustHex(f, g.hex)
		if tcpOnly {
			b = b[20:]
		}
		f.Add(b)
	}
}

// checkParseError checks that a parser's error is a *ParseError that says
// something.
func checkParseError(t *testing.T, err error) {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Layer == "" || pe.Field == "" || pe.Msg == "" || pe.Offset < 0 {
		t.Fatalf("error %#v is not a complete *ParseError", err)
	}
}

// FuzzParsePacket: arbitrary bytes never make ParsePacket panic; whatever
// parses re-encodes to a packet that parses to the same meaning (unknown
// options, IP options, option order and padding are not preserved, and a
// TTL of 0 is sent as 64), and that re-encoding is byte-stable:
// Append(Parse(Append(x))) == Append(x).
//
// Random bytes rarely carry valid checksums, so each input is also tried
// with its checksums fixed up, to let the fuzzer reach the TCP options.
func FuzzParsePacket(f *testing.F) {
	addGoldenPackets(f, false)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPacketRoundTrip(t, data)
		checkPacketRoundTrip(t, fixChecksums(data))
	})
}

// fixChecksums returns a copy of b with its IPv4 header checksum and TCP
// checksum set right, as far as the lengths in b allow.
func fixChecksums(data []byte) []byte {
	b := bytes.Clone(data)
	if len(b) < 20 || b[0]>>4 != 4 {
		return b
	}
	hl := int(b[0]&0xf) * 4
	if hl < 20 || hl > len(b) {
		return b
	}
	b[10], b[11] = 0, 0
	c := refChecksum(b[:hl], 0)
	b[10], b[11] = byte(c>>8), byte(c)
	total := int(b[2])<<8 | int(b[3])
	if total > len(b) || total < hl+20 {
		return b
	}
	src, dst := netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
	tcp := b[hl:total]
	tcp[16], tcp[17] = 0, 0
	c = refChecksum(append(refPseudoHeader(src, dst, len(tcp)), tcp...), 0)
	tcp[16], tcp[17] = byte(c>>8), byte(c)
	return b
}

func checkPacketRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	p, err := ParsePacket(data)
	if err != nil {
		checkParseError(t, err)
		return
	}
	if p.Len() > 0xffff {
		return // re-encoding with Linux's option padding would exceed 65535 bytes
	}
	b1 := p.Append(nil)
	if len(b1) != p.Len() {
		t.Fatalf("len(Append) = %d, Len = %d", len(b1), p.Len())
	}
	if refChecksum(b1[:20], 0) != 0 || !refTCPChecksumOK(p.IP.Src, p.IP.Dst, b1[20:]) {
		t.Fatalf("re-encoded checksums do not verify: % x", b1)
	}
	p2, err := ParsePacket(b1)
	if err != nil {
		t.Fatalf("re-encoded packet does not parse: %v\n% x", err, b1)
	}
	want := p
	want.TCP = afterRoundTrip(p.TCP)
	if want.IP.TTL == 0 {
		want.IP.TTL = 64
	}
	got := p2
	got.TCP.Checksum = 0
	if !pktEqual(got, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
	}
	if b2 := p2.Append(nil); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
	}
}

// FuzzParseTCP: arbitrary bytes never make the TCP parsers panic;
// ParseTCP accepts only what ParseTCPNoChecksum accepts, with the same
// result; and what parses survives a round trip.
func FuzzParseTCP(f *testing.F) {
	addGoldenPackets(f, true)
	src, dst := client, server
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseTCPNoChecksum(data)
		s2, err2 := ParseTCP(data, src, dst)
		if err2 == nil && (err != nil || !segEqual(s, s2)) {
			t.Fatalf("ParseTCP = %+v, nil but ParseTCPNoChecksum = %+v, %v", s2, s, err)
		}
		if err2 != nil {
			checkParseError(t, err2)
		}
		if err != nil {
			checkParseError(t, err)
			return
		}
		b1 := s.Append(nil, src, dst)
		if !refTCPChecksumOK(src, dst, b1) {
			t.Fatalf("re-encoded checksum does not verify: % x", b1)
		}
		got, err := ParseTCP(b1, src, dst)
		if err != nil {
			t.Fatalf("re-encoded segment does not parse: %v\n% x", err, b1)
		}
		b2 := got.Append(nil, src, dst)
		got.Checksum = 0
		if want := afterRoundTrip(s); !segEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}
		if !bytes.Equal(b1, b2) {
			t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
		}
	})
}

// FuzzSegmentRoundTrip: fuzzer-chosen field values, encoded with Append and
// parsed again, come back equal (with the SACK blocks that fit). Bit 4 of
// optMask puts the segment over IPv6 addresses, bit 5 in an IPv4 packet.
func FuzzSegmentRoundTrip(f *testing.F) {
	for _, g := range goldens {
		s, o := g.want.TCP, g.want.TCP.Options
		var mask uint8
		for i, has := range []bool{o.HasMSS, o.HasWScale, o.SACKPermitted, o.HasTimestamps} {
			if has {
				mask |= 1 << i
			}
		}
		var sack []byte
		for _, blk := range o.SACKBlocks() {
			sack = append(sack, byte(blk.Left>>24), byte(blk.Left>>16), byte(blk.Left>>8), byte(blk.Left),
				byte(blk.Right>>24), byte(blk.Right>>16), byte(blk.Right>>8), byte(blk.Right))
		}
		f.Add(s.SrcPort, s.DstPort, uint32(s.Seq), uint32(s.Ack), uint8(s.Flags), s.Window, s.Urgent,
			mask|0x20, o.MSS, o.WScale, o.TSVal, o.TSEcr, o.NumSACK, sack, s.Payload)
	}
	f.Fuzz(func(t *testing.T, srcPort, dstPort uint16, seqNum, ackNum uint32, flags uint8, window, urgent uint16,
		optMask uint8, mss uint16, wscale uint8, tsval, tsecr uint32, nsack uint8, sack, payload []byte) {
		s := Segment{
			SrcPort: srcPort, DstPort: dstPort, Seq: seq.Value(seqNum), Ack: seq.Value(ackNum),
			Flags: Flags(flags), Window: window, Urgent: urgent, Checksum: 0xdead, Payload: payload,
			Options: Options{
				HasMSS: optMask&1 != 0, MSS: mss,
				HasWScale: optMask&2 != 0, WScale: wscale,
				SACKPermitted: optMask&4 != 0,
				HasTimestamps: optMask&8 != 0, TSVal: tsval, TSEcr: tsecr,
				NumSACK: nsack,
			},
		}
		for i := 0; i < MaxSACKBlocks && 8*i+8 <= len(sack); i++ {
			d := sack[8*i:]
			s.Options.SACK[i] = SACKBlock{
				Left:  seq.Value(uint32(d[0])<<24 | uint32(d[1])<<16 | uint32(d[2])<<8 | uint32(d[3])),
				Right: seq.Value(uint32(d[4])<<24 | uint32(d[5])<<16 | uint32(d[6])<<8 | uint32(d[7])),
			}
		}
		want := afterRoundTrip(s)

		src, dst := client, server
		if optMask&0x10 != 0 {
			src, dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
		}
		b := s.Append(nil, src, dst)
		if len(b) != s.Len() {
			t.Fatalf("len(Append) = %d, Len = %d", len(b), s.Len())
		}
		if src.Is4() && !refTCPChecksumOK(src, dst, b) {
			t.Fatalf("checksum does not verify: % x", b)
		}
		got, err := ParseTCP(b, src, dst)
		if err != nil {
			t.Fatalf("ParseTCP(Append(%+v)): %v\n% x", s, err, b)
		}
		got.Checksum = 0
		if !segEqual(got, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", got, want)
		}

		if optMask&0x20 != 0 && s.Len()+20 <= 0xffff {
			p := Packet{IP: IPv4{ID: srcPort, TTL: 1 + wscale%255, DontFragment: flags&1 != 0, TOS: uint8(urgent), Src: client, Dst: server}, TCP: s}
			pb := p.Append(nil)
			q, err := ParsePacket(pb)
			if err != nil {
				t.Fatalf("ParsePacket(Packet.Append): %v\n% x", err, pb)
			}
			q.TCP.Checksum = 0
			p.IP.Protocol = ProtocolTCP
			p.TCP = want
			if !pktEqual(q, p) {
				t.Fatalf("packet round trip\n got %+v\nwant %+v", q, p)
			}
		}
	})
}
