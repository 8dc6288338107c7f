package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

var (
	client6 = netip.MustParseAddr("2001:db8::1")
	server6 = netip.MustParseAddr("2001:db8::2")
)

// The IPv6 goldens were written by hand from RFC 8200 §3 and §4.3 to §4.7;
// the upper-layer checksums were computed with a separate script (RFC 1071
// word by word over the pseudo-header of RFC 8200 §8.1) and are re-verified
// below with refChecksum.
var ipv6Goldens = []struct {
	name    string
	hex     string
	want    IPv6
	payload string // hex of the upper-layer header and data
	line    string
}{
	{
		name: "TCP SYN, flow label, no extension headers",
		hex: `
		6 00 12345 | 0028 06 40
		20010db8000000000000000000000001
		20010db8000000000000000000000002
		9c40 0050 0a1b2c3d 00000000 a0 02 faf0 3c70 0000
		020405b4 | 04 02 080a 0001e240 00000000 | 01 030307`,
		want:    IPv6{FlowLabel: 0x12345, HopLimit: 64, NextHeader: ProtocolTCP, Src: client6, Dst: server6},
		payload: "9c40 0050 0a1b2c3d 00000000 a0 02 faf0 3c70 0000 020405b4 0402080a0001e24000000000 01030307",
		line:    "IPv6 2001:db8::1 > 2001:db8::2 TCP hlim=64 flow=0x12345",
	},
	{
		// RFC 8200 §4.1: "IPv6 nodes must accept and attempt to process
		// extension headers in any order and occurring any number of times
		// in the same packet".
		name: "UDP behind hop-by-hop, destination options, routing and an atomic fragment",
		hex: `
		6 b8 00000 | 002c 00 01
		20010db8000000000000000000000001
		20010db8000000000000000000000002
		3c 00 | 05 02 0000 | 01 00
		2b 00 | 1e 04 aabbccdd
		2c 00 04 00 | 00000000
		11 00 0000 12345678
		9c40 0035 000c 291b 70696e67`,
		want:    IPv6{TrafficClass: 0xb8, HopLimit: 1, NextHeader: ProtocolUDP, Src: client6, Dst: server6},
		payload: "9c40 0035 000c 291b 70696e67",
		line:    "IPv6 2001:db8::1 > 2001:db8::2 UDP hlim=1 tclass=0xb8",
	},
	{
		// RFC 8200 §4.7: "those octets must be ignored".
		name: "no next header, with octets after it",
		hex: `
		6 00 00000 | 0008 3b 00
		20010db8000000000000000000000002
		20010db8000000000000000000000001
		0102030405060708`,
		want: IPv6{HopLimit: 0, NextHeader: ProtocolNoNextHeader, Src: server6, Dst: client6},
		line: "IPv6 2001:db8::2 > 2001:db8::1 no-next-header hlim=0",
	},
}

func TestIPv6GoldenChecksums(t *testing.T) {
	for _, g := range ipv6Goldens[:2] {
		a, b := g.want.Src.As16(), g.want.Dst.As16()
		p := mustHex(t, g.payload)
		ph := append(append(a[:], b[:]...), 0, 0, byte(len(p)>>8), byte(len(p)), 0, 0, 0, g.want.NextHeader)
		if refChecksum(append(ph, p...), 0) != 0 {
			t.Errorf("%s: golden upper-layer checksum does not verify", g.name)
		}
	}
}

func TestIPv6GoldenParse(t *testing.T) {
	for _, g := range ipv6Goldens {
		b := mustHex(t, g.hex)
		ip, payload, err := ParseIPv6(b)
		if err != nil {
			t.Errorf("%s: %v", g.name, err)
			continue
		}
		if ip != g.want {
			t.Errorf("%s: ParseIPv6\n got %+v\nwant %+v", g.name, ip, g.want)
		}
		want := mustHex(t, g.payload)
		if !bytes.Equal(payload, want) || (payload == nil) != (len(want) == 0) {
			t.Errorf("%s: payload\n got % x\nwant % x", g.name, payload, want)
		}
		if len(payload) > 0 && (&payload[len(payload)-1] != &b[len(b)-1] || cap(payload) != len(payload)) {
			t.Errorf("%s: payload does not alias the end of the input with its capacity cut", g.name)
		}
		if s := ip.String(); s != g.line {
			t.Errorf("%s: String\n got %s\nwant %s", g.name, s, g.line)
		}
		gip, gpayload, err := ParseIP(b)
		if err != nil || gip != (IP{Version: 6, V6: g.want}) || !bytes.Equal(gpayload, payload) {
			t.Errorf("%s: ParseIP = %+v, % x, %v", g.name, gip, gpayload, err)
		}
		if s := gip.String(); s != g.line {
			t.Errorf("%s: IP.String\n got %s\nwant %s", g.name, s, g.line)
		}
	}
}

// The first golden has no extension headers, so Append gives its bytes
// back; TCP over IPv6 then parses with ParseTCP over its addresses.
func TestIPv6GoldenAppend(t *testing.T) {
	g := ipv6Goldens[0]
	want := mustHex(t, g.hex)
	ip := g.want
	got := ip.Append(nil, len(want)-40)
	if !bytes.Equal(got, want[:40]) {
		t.Errorf("IPv6.Append\n got % x\nwant % x", got, want[:40])
	}
	if ip.Len() != len(got) {
		t.Errorf("Len = %d, Append wrote %d", ip.Len(), len(got))
	}
	seg := goldens[0].want.TCP
	if got := seg.Append(got, ip.Src, ip.Dst); !bytes.Equal(got, want) {
		t.Errorf("IPv6.Append + Segment.Append\n got % x\nwant % x", got, want)
	}
	_, payload, err := ParseIPv6(want)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseTCP(payload, ip.Src, ip.Dst)
	seg.Checksum = 0x3c70
	if err != nil || !segEqual(s, seg) {
		t.Errorf("ParseTCP over IPv6 = %+v, %v; want %+v", s, err, seg)
	}
	gip := IP{Version: 6, V6: ip}
	if got := gip.Append([]byte("x"), len(want)-40); string(got[:1]) != "x" || !bytes.Equal(got[1:], want[:40]) || gip.Len() != 40 {
		t.Errorf("IP.Append after a prefix\n got % x\nwant x+% x", got, want[:40])
	}
}

func TestIPv6Append(t *testing.T) {
	ip := IPv6{TrafficClass: 0xff, FlowLabel: 0xfffffff, NextHeader: 17, Src: netip.MustParseAddr("::ffff:10.0.0.1")}
	want := mustHex(t, `6f ff ffff 0064 11 40
		00000000000000000000ffff0a000001
		00000000000000000000000000000000`)
	if got := ip.Append(nil, 100); !bytes.Equal(got, want) {
		t.Errorf("IPv6.Append (flow label cut to 20 bits, hop limit 0 → 64, mapped source, zero destination)\n got % x\nwant % x", got, want)
	}
	for _, n := range []int{-1, 65536} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("IPv6.Append with payload %d did not panic", n)
				}
			}()
			ip.Append(nil, n)
		}()
	}
	if len(ip.Append(nil, 65535)) != 40 {
		t.Errorf("IPv6.Append with the largest payload failed")
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "192.0.2.1") {
				t.Errorf("IPv6.Append with an IPv4 address: recovered %v", r)
			}
		}()
		ip := IPv6{Dst: client}
		ip.Append(nil, 0)
	}()
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("IP.Append of version 0 did not panic")
			}
		}()
		var ip IP
		ip.Append(nil, 0)
	}()
}

// ipv6With returns the first golden's fixed header followed by ext, with
// Next Header nh and Payload Length fixed to fit.
func ipv6With(t testing.TB, nh byte, ext string) []byte {
	t.Helper()
	b := append(mustHex(t, ipv6Goldens[0].hex)[:40], mustHex(t, ext)...)
	b[6] = nh
	b[4], b[5] = byte((len(b)-40)>>8), byte(len(b)-40)
	return b
}

func TestParseIPv6Errors(t *testing.T) {
	pkt := func(t *testing.T) []byte { return mustHex(t, ipv6Goldens[0].hex) }
	with := func(nh byte, ext string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte { return ipv6With(t, nh, ext) }
	}
	tests := []struct {
		name  string
		input func(t *testing.T) []byte
		msg   string
		is    error
	}{
		{"empty", func(t *testing.T) []byte { return nil },
			"ipv6: header at offset 0: truncated: 0 bytes, need at least 40", ErrTruncated},
		// RFC 8200 §3: "Version 4-bit Internet Protocol version number = 6."
		{"version 4", func(t *testing.T) []byte { return mustHex(t, goldens[0].hex) },
			"ipv6: version at offset 0: 4, want 6", nil},
		{"short header", func(t *testing.T) []byte { return pkt(t)[:39] },
			"ipv6: header at offset 0: truncated: 39 bytes, need at least 40", ErrTruncated},
		// RFC 8200 §3: "Payload Length ... Length of the IPv6 payload, i.e.,
		// the rest of the packet following this IPv6 header, in octets."
		{"payload length past packet", func(t *testing.T) []byte { return pkt(t)[:79] },
			"ipv6: payload length at offset 4: 40 but packet has only 39 bytes after the header", ErrTruncated},
		{"trailing bytes", func(t *testing.T) []byte { return append(pkt(t), 0) },
			"ipv6: payload length at offset 4: 40 but packet has 41 bytes after the header", nil},
		{"jumbogram", func(t *testing.T) []byte { b := pkt(t); b[4], b[5] = 0, 0; return b },
			"ipv6: payload length at offset 4: 0 but packet has 40 bytes after the header (jumbograms, RFC 2675, are not supported)", nil},
		// RFC 8200 §4.5: "M flag 1 = more fragments; 0 = last fragment."
		{"first fragment", with(nhFragment, "06 00 0001 12345678 00000000"),
			"ipv6: fragment offset at offset 42: IP fragments are not supported (M true, fragment offset 0 bytes, identification 0x12345678)", ErrFragment},
		{"last fragment", with(nhFragment, "06 00 00b8 00000001 00000000"),
			"ipv6: fragment offset at offset 42: IP fragments are not supported (M false, fragment offset 184 bytes, identification 0x00000001)", ErrFragment},
		{"fragment after destination options", with(nhDestOpts, "2c 00 010400000000 06 00 05a1 cafef00d 00000000"),
			"ipv6: fragment offset at offset 50: IP fragments are not supported (M true, fragment offset 1440 bytes, identification 0xcafef00d)", ErrFragment},
		// RFC 8200 §4: "The same action should be taken if a node
		// encounters a Next Header value of zero in any header other than
		// an IPv6 header."
		{"hop-by-hop not first", with(nhDestOpts, "00 00 010400000000 06 00 010400000000"),
			"ipv6: next header at offset 40: 0 (hop-by-hop options) after an extension header; it must immediately follow the IPv6 header", nil},
		{"authentication header", with(nhHopByHop, "33 00 010400000000 06 04 0000 00000001 00000001 00000000 00000000 00000000"),
			"ipv6: next header at offset 40: 51 (authentication) is an extension header synack does not process", nil},
		{"experimental header in the fixed header", with(253, "06 00 010400000000"),
			"ipv6: next header at offset 6: 253 (experimental) is an extension header synack does not process", nil},
		{"nine extension headers", with(nhDestOpts, strings.Repeat("3c 00 010400000000", 8)+"06 00 010400000000"),
			"ipv6: next header at offset 96: 60 (destination options) would be extension header 9; at most 8 are walked", nil},
		{"extension header cut short", with(nhDestOpts, "06 00 0104"),
			"ipv6: destination options header at offset 40: truncated: 4 bytes, need at least 8", ErrTruncated},
		{"fragment header cut short", with(nhFragment, "06 00 0000"),
			"ipv6: fragment header at offset 40: truncated: 4 bytes, need at least 8", ErrTruncated},
		// RFC 8200 §4.3: "Hdr Ext Len 8-bit unsigned integer. Length of the
		// Hop-by-Hop Options header in 8-octet units, not including the
		// first 8 octets."
		{"extension header past packet", with(nhHopByHop, "06 01 010400000000 00000000"),
			"ipv6: hop-by-hop options header length at offset 41: 16 bytes run past the end of the 52-byte packet", ErrTruncated},
		// RFC 8200 §4.2: "01 - discard the packet."; "11 - discard the
		// packet and, only if the packet's Destination Address was not a
		// multicast address, send an ICMP Parameter Problem".
		{"jumbo payload option", with(nhHopByHop, "06 00 c2 04 00010000"),
			"ipv6: option 0xc2 in hop-by-hop options at offset 42: not recognized, and its action bits 11 say to discard the packet", nil},
		{"option with action 01", with(nhDestOpts, "06 00 00 00 47 02 0000"),
			"ipv6: option 0x47 in destination options at offset 44: not recognized, and its action bits 01 say to discard the packet", nil},
		{"option past header", with(nhDestOpts, "06 00 01 05 00000000"),
			"ipv6: option 0x01 in destination options at offset 42: length 7 runs past the end of the header at offset 48", nil},
		{"option without length", with(nhDestOpts, "06 00 01 03 000000 05"),
			"ipv6: option 0x05 in destination options at offset 47: no length byte before the end of the header at offset 48", nil},
		// RFC 8200 §4.4: "If Segments Left is non-zero, the node must
		// discard the packet and send an ICMP Parameter Problem, Code 0,
		// message to the packet's Source Address, pointing to the
		// unrecognized Routing Type."
		{"routing header with segments left", with(nhRouting, "06 02 00 01 00000000 20010db8000000000000000000000009"),
			"ipv6: routing type at offset 42: 0 with 1 segments left is not supported", nil},
	}
	for _, tt := range tests {
		_, _, err := ParseIPv6(tt.input(t))
		checkErr(t, tt.name, err, tt.msg, tt.is)
		var pe *ParseError
		if errors.As(err, &pe) && pe.Layer != "ipv6" {
			t.Errorf("%s: layer %q", tt.name, pe.Layer)
		}
	}
}

// What must be accepted: the skippable options and headers.
func TestParseIPv6Accepts(t *testing.T) {
	tests := []struct {
		name string
		nh   byte
		ext  string
		want uint8
		pl   string
	}{
		// RFC 8200 §4.2: "00 - skip over this option and continue
		// processing the header."
		{"unknown option with action 00", nhHopByHop, "06 00 3e 04 01020304 aabbccdd", 6, "aabbccdd"},
		{"Pad1 and PadN", nhDestOpts, "06 00 00 00 00 01 01 00 aabbccdd", 6, "aabbccdd"},
		{"empty PadN fills the header", nhDestOpts, "06 00 01 04 00000000", 6, ""},
		// RFC 8200 §4.4: "If Segments Left is zero, the node must ignore
		// the Routing header and proceed to process the next header".
		{"routing header of unknown type, no segments left", nhRouting, "11 02 fe 00 00000000 20010db8000000000000000000000009 aabbccdd", 17, "aabbccdd"},
		{"eight extension headers", nhDestOpts, strings.Repeat("3c 00 010400000000", 7) + "3a 00 010400000000 aabbccdd", 58, "aabbccdd"},
		{"atomic fragment with reserved bits set", nhFragment, "06 ff 0006 00000000 aabbccdd", 6, "aabbccdd"},
		// RFC 8200 §4.5: "the Encapsulating Security Payload (ESP) is not
		// considered an extension header".
		{"ESP is an upper layer", 50, "00000001 00000001", 50, "00000001 00000001"},
		{"no next header after an extension header", nhDestOpts, "3b 00 010400000000 ffff", 59, ""},
	}
	for _, tt := range tests {
		ip, payload, err := ParseIPv6(ipv6With(t, tt.nh, tt.ext))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ip.NextHeader != tt.want || !bytes.Equal(payload, mustHex(t, tt.pl)) || (payload == nil) != (tt.pl == "") {
			t.Errorf("%s: next header %d, payload % x; want %d, %s", tt.name, ip.NextHeader, payload, tt.want, tt.pl)
		}
	}
}

// Every proper prefix of a golden is shorter than its Payload Length says,
// so ParseIPv6 and ParseIP fail with ErrTruncated, and never panic.
func TestIPv6GoldenTruncated(t *testing.T) {
	for _, g := range ipv6Goldens {
		b := mustHex(t, g.hex)
		for n := range len(b) {
			if _, _, err := ParseIPv6(b[:n:n]); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: ParseIPv6 of %d-byte prefix: err = %v, want ErrTruncated", g.name, n, err)
			}
			if _, _, err := ParseIP(b[:n:n]); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: ParseIP of %d-byte prefix: err = %v, want ErrTruncated", g.name, n, err)
			}
		}
	}
}

func TestParseIP(t *testing.T) {
	b := mustHex(t, goldens[0].hex)
	ip, payload, err := ParseIP(b)
	g := goldens[0].want
	if err != nil || ip != (IP{Version: 4, V4: g.IP}) || !bytes.Equal(payload, b[20:]) {
		t.Fatalf("ParseIP of IPv4 = %+v, %v", ip, err)
	}
	if ip.Src() != client || ip.Dst() != server || ip.Protocol() != ProtocolTCP || ip.HopLimit() != 64 || ip.Len() != 20 {
		t.Errorf("IP accessors: %v %v %d %d %d", ip.Src(), ip.Dst(), ip.Protocol(), ip.HopLimit(), ip.Len())
	}
	if s, want := ip.String(), "IPv4 192.0.2.1 > 198.51.100.2 TCP ttl=64 id=0x1c46 DF"; s != want {
		t.Errorf("IP.String\n got %s\nwant %s", s, want)
	}
	if got := ip.Append(nil, len(payload)); !bytes.Equal(got, b[:20]) {
		t.Errorf("IP.Append (IPv4)\n got % x\nwant % x", got, b[:20])
	}
	six, _, err := ParseIP(mustHex(t, ipv6Goldens[1].hex))
	if err != nil || six.Src() != client6 || six.Dst() != server6 || six.Protocol() != ProtocolUDP || six.HopLimit() != 1 {
		t.Errorf("IP accessors (IPv6): %+v, %v", six, err)
	}
	// Errors are those of the family's parser.
	b[8]--
	if _, _, err := ParseIP(b); !errors.Is(err, ErrChecksum) {
		t.Errorf("ParseIP of an IPv4 packet with a bad header checksum: %v", err)
	}
	_, _, err = ParseIP([]byte{0x50, 0, 0, 0})
	checkErr(t, "version 5", err, "ip: version at offset 0: 5, want 4 or 6", nil)
	_, _, err = ParseIP(nil)
	checkErr(t, "empty", err, "ip: version at offset 0: truncated: 0 bytes", ErrTruncated)
	var zero IP
	if zero.Src().IsValid() || zero.Dst().IsValid() || zero.Protocol() != 0 || zero.HopLimit() != 0 || zero.Len() != 0 || zero.String() != "IP version 0" {
		t.Errorf("zero IP: %v", zero.String())
	}
	v4 := IP{Version: 4, V4: IPv4{TOS: 0x10, ID: 7, TTL: 1, Protocol: 132, Src: client, Dst: server}}
	if s, want := v4.String(), "IPv4 192.0.2.1 > 198.51.100.2 proto=132 ttl=1 id=0x0007 tos=0x10"; s != want {
		t.Errorf("IP.String\n got %s\nwant %s", s, want)
	}
}

func TestIPv6NoAllocs(t *testing.T) {
	b := mustHex(t, ipv6Goldens[1].hex)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseIP(b); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseIP allocates %v times", n)
	}
	ip := ipv6Goldens[0].want
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { ip.Append(buf[:0], 20) }); n != 0 {
		t.Errorf("IPv6.Append allocates %v times", n)
	}
}
