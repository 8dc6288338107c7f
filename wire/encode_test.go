package wire

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// The option layouts Linux sends (tcp_options_write), written out by hand.
func TestOptionsLayout(t *testing.T) {
	sack4 := [4]SACKBlock{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
	tests := []struct {
		name string
		o    Options
		hex  string
	}{
		{"none", Options{}, ""},
		{"mss", Options{HasMSS: true, MSS: 1460}, "020405b4"},
		{"SYN with everything", Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamps: true, TSVal: 1, TSEcr: 2, HasWScale: true, WScale: 7},
			"020405b4 0402080a 00000001 00000002 01030307"},
		{"SYN without timestamps", Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7},
			"020405b4 01010402 01030307"},
		{"timestamps alone", Options{HasTimestamps: true, TSVal: 0xaabbccdd, TSEcr: 0x11223344},
			"0101080a aabbccdd 11223344"},
		{"wscale alone", Options{HasWScale: true, WScale: 14}, "0103030e"},
		{"wscale 15 written as given", Options{HasWScale: true, WScale: 15}, "0103030f"},
		{"one SACK block", Options{NumSACK: 1, SACK: sack4},
			"0101050a 00000001 00000002"},
		{"four SACK blocks", Options{NumSACK: 4, SACK: sack4},
			"01010522 00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008"},
		// RFC 2018 §3: "It is expected that SACK will often be used in
		// conjunction with the Timestamp option used for RTTM [Jacobson92],
		// which takes an additional 10 bytes (plus two bytes of padding);
		// thus a maximum of 3 SACK blocks will be allowed in this case."
		{"timestamps and four SACK blocks keep three", Options{HasTimestamps: true, TSVal: 1, TSEcr: 2, NumSACK: 4, SACK: sack4},
			"0101080a 00000001 00000002 0101051a 00000001 00000002 00000003 00000004 00000005 00000006"},
		{"everything: two SACK blocks fit", Options{HasMSS: true, MSS: 536, SACKPermitted: true, HasTimestamps: true, HasWScale: true, WScale: 2, NumSACK: 4, SACK: sack4},
			"02040218 0402080a 00000000 00000000 01030302 01010512 00000001 00000002 00000003 00000004"},
		{"NumSACK above 4 is clamped", Options{NumSACK: 9, SACK: sack4},
			"01010522 00000001 00000002 00000003 00000004 00000005 00000006 00000007 00000008"},
		{"values of absent options are not written", Options{MSS: 1, WScale: 2, TSVal: 3, TSEcr: 4, SACK: sack4}, ""},
	}
	for _, tt := range tests {
		want := mustHex(t, tt.hex)
		got := tt.o.Append(nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Append\n got % x\nwant % x", tt.name, got, want)
		}
		if tt.o.Len() != len(want) {
			t.Errorf("%s: Len = %d, want %d", tt.name, tt.o.Len(), len(want))
		}
	}
}

// len(Append(nil)) == Len() for many values, and the header length agrees
// with the data offset written: "The TCP header (even one including
// options) is an integer multiple of 32 bits long" (RFC 9293 §3.1).
func TestLenMatchesAppend(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 5000 {
		p := randPacket(r)
		b := p.Append(nil)
		if len(b) != p.Len() {
			t.Fatalf("len(Append) = %d, Len = %d for %v", len(b), p.Len(), &p)
		}
		s := &p.TCP
		if ol := s.Options.Len(); ol%4 != 0 || ol > 40 || len(s.Options.Append(nil)) != ol {
			t.Fatalf("Options.Len = %d, Append writes %d, for %+v", ol, len(s.Options.Append(nil)), s.Options)
		}
		if hl := s.HeaderLen(); hl != 20+s.Options.Len() || int(b[20+12]>>4)*4 != hl {
			t.Fatalf("HeaderLen = %d, data offset %d", hl, b[32]>>4)
		}
		if s.Len() != s.HeaderLen()+len(s.Payload) || len(s.Append(nil, p.IP.Src, p.IP.Dst)) != s.Len() {
			t.Fatalf("Segment.Len = %d, Append writes %d", s.Len(), len(s.Append(nil, p.IP.Src, p.IP.Dst)))
		}
		q, err := ParsePacket(b)
		if err != nil {
			t.Fatalf("ParsePacket(Append(%v)): %v", &p, err)
		}
		q.TCP.Checksum = 0
		want := p
		want.TCP = afterRoundTrip(p.TCP)
		if !pktEqual(q, want) {
			t.Fatalf("round trip\n got %+v\nwant %+v", q, want)
		}
	}
}

func TestIPv4Append(t *testing.T) {
	ip := IPv4{Src: netip.MustParseAddr("::ffff:10.0.0.1"), Protocol: 17}
	b := ip.Append(nil, 100)
	want := mustHex(t, "45 00 0078 0000 0000 40 11 0000 0a000001 00000000")
	c := refChecksum(want, 0)
	want[10], want[11] = byte(c>>8), byte(c)
	if !bytes.Equal(b, want) {
		t.Errorf("IPv4.Append (TTL 0 → 64, mapped source, zero destination)\n got % x\nwant % x", b, want)
	}
	for _, n := range []int{-1, 65516} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("IPv4.Append with payload %d did not panic", n)
				}
			}()
			ip.Append(nil, n)
		}()
	}
	if len(ip.Append(nil, 65515)) != 20 {
		t.Errorf("IPv4.Append with the largest payload failed")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "2001:db8::1") {
				t.Errorf("IPv4.Append with an IPv6 address: recovered %v", r)
			}
		}()
		ip := IPv4{Src: netip.MustParseAddr("2001:db8::1")}
		ip.Append(nil, 0)
	}()
}

// Packet.Append writes protocol 6 and leaves p alone; IPv4-mapped
// addresses are written, and checksummed, as IPv4.
func TestPacketAppendMapped(t *testing.T) {
	p := goldens[0].want
	p.IP.Protocol = 17
	p.IP.Src = netip.AddrFrom16(client.As16())
	b := p.Append(nil)
	if p.IP.Protocol != 17 {
		t.Errorf("Packet.Append modified p.IP.Protocol")
	}
	if want := mustHex(t, goldens[0].hex); !bytes.Equal(b, want) {
		t.Errorf("Packet.Append\n got % x\nwant % x", b, want)
	}
}

// AppendNoChecksum writes what Append writes, byte for byte, except the
// TCP checksum field, which is zero; the IPv4 header checksum is still
// right, and ParseTCP rejects the segment as a corrupted one.
func TestAppendNoChecksum(t *testing.T) {
	for i, g := range goldens {
		p := g.want
		want := p.Append(nil)
		got := p.AppendNoChecksum(nil)
		ck := 20 + 16 // the TCP checksum field, after a 20-byte IPv4 header
		if len(got) != len(want) || got[ck] != 0 || got[ck+1] != 0 {
			t.Fatalf("golden %d: AppendNoChecksum = % x", i, got)
		}
		want[ck], want[ck+1] = 0, 0
		if !bytes.Equal(got, want) {
			t.Errorf("golden %d: AppendNoChecksum differs from Append beyond the checksum field\n got % x\nwant % x", i, got, want)
		}
		if refChecksum(got[:20], 0) != 0 {
			t.Errorf("golden %d: the IPv4 header checksum does not verify", i)
		}
		if _, err := ParseTCP(got[20:], p.IP.Src, p.IP.Dst); !errors.Is(err, ErrChecksum) && !refTCPChecksumOK(p.IP.Src, p.IP.Dst, got[20:]) {
			t.Errorf("golden %d: ParseTCP of a zero checksum = %v, want ErrChecksum", i, err)
		}
		seg := p.TCP
		if b := seg.AppendNoChecksum(nil); !bytes.Equal(b, got[20:]) {
			t.Errorf("golden %d: Segment.AppendNoChecksum\n got % x\nwant % x", i, b, got[20:])
		}
	}
}

func TestSegmentAppendIPv6(t *testing.T) {
	src := netip.MustParseAddr("2001:db8::1")
	dst := netip.MustParseAddr("2001:db8::2")
	s := goldens[2].want.TCP
	b := s.Append(nil, src, dst)
	a, d := src.As16(), dst.As16()
	ph := append(append(a[:], d[:]...), 0, 0, 0, byte(len(b)), 0, 0, 0, 6)
	if refChecksum(append(ph, b...), 0) != 0 {
		t.Errorf("TCP checksum over the IPv6 pseudo-header does not verify")
	}
	got, err := ParseTCP(b, src, dst)
	if err != nil || !segEqual(semantic(got), semantic(s)) {
		t.Errorf("ParseTCP over IPv6 = %+v, %v", got, err)
	}
}

func TestNoAllocs(t *testing.T) {
	p := goldens[5].want
	p.TCP.Payload = make([]byte, 1460)
	buf := make([]byte, 0, 2048)
	var b []byte
	if n := testing.AllocsPerRun(100, func() { b = p.Append(buf[:0]) }); n != 0 {
		t.Errorf("Packet.Append allocates %v times", n)
	}
	buf2 := make([]byte, 0, 2048)
	if n := testing.AllocsPerRun(100, func() { p.TCP.Append(buf2[:0], client, server) }); n != 0 {
		t.Errorf("Segment.Append allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { p.TCP.Options.Append(buf2[:0]) }); n != 0 {
		t.Errorf("Options.Append allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParsePacket(b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParsePacket allocates %v times", n)
	}
}

func BenchmarkPacketAppend(b *testing.B) {
	p := goldens[2].want
	p.TCP.Payload = make([]byte, 1460)
	buf := make([]byte, 0, 2048)
	b.SetBytes(int64(p.Len()))
	b.ReportAllocs()
	for b.Loop() {
		p.Append(buf[:0])
	}
}

func BenchmarkParsePacket(b *testing.B) {
	p := goldens[2].want
	p.TCP.Payload = make([]byte, 1460)
	pkt := p.Append(nil)
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParsePacket(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
