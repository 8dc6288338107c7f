package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

var router4 = netip.MustParseAddr("203.0.113.1")

// The UDP goldens were written by hand from RFC 768's layout; their
// checksums were computed with a separate script (RFC 1071 word by word
// over the pseudo-header of RFC 768 or RFC 8200 §8.1) and are re-verified
// below with refChecksum.
var udpGoldens = []struct {
	name     string
	hex      string
	src, dst netip.Addr
	want     UDP
	line     string
}{
	{
		name: "DNS query over IPv4",
		hex:  "9c40 0035 0014 ca4a abcd01000001000000000000",
		src:  client, dst: server,
		want: UDP{SrcPort: 40000, DstPort: 53, Checksum: 0xca4a, Payload: hexBytes("abcd01000001000000000000")},
		line: "UDP 40000>53 len=12",
	},
	{
		name: "DNS answer over IPv6",
		hex:  "0035 9c40 0014 da8b abcd81800001000100000000",
		src:  server6, dst: client6,
		want: UDP{SrcPort: 53, DstPort: 40000, Checksum: 0xda8b, Payload: hexBytes("abcd81800001000100000000")},
		line: "UDP 53>40000 len=12",
	},
	{
		// RFC 768: "If the computed checksum is zero, it is transmitted as
		// all ones". The last two bytes of data were chosen to make it so.
		name: "checksum computed as zero, sent as all ones",
		hex:  "9c40 0035 000c ffff 7a7afcae",
		src:  client, dst: server,
		want: UDP{SrcPort: 40000, DstPort: 53, Checksum: 0xffff, Payload: hexBytes("7a7afcae")},
		line: "UDP 40000>53 len=4",
	},
	{
		name: "no data",
		hex:  "9c40 0035 0008 0000",
		src:  client, dst: server,
		// RFC 768: "An all zero transmitted checksum value means that the
		// transmitter generated no checksum". The encoding below computes
		// one instead, so this golden only parses.
		want: UDP{SrcPort: 40000, DstPort: 53},
		line: "UDP 40000>53 len=0",
	},
}

// hexBytes is mustHex for package-level tables.
func hexBytes(s string) []byte { return mustHex(panicTB{}, s) }

// panicTB is the testing.TB of hexBytes: a bad hex string is a bug in a
// table, found when the package's tests start.
type panicTB struct{ testing.TB }

func (panicTB) Helper()                      {}
func (panicTB) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// refUDPChecksumOK verifies a UDP checksum with refChecksum over the
// pseudo-header of either family.
func refUDPChecksumOK(src, dst netip.Addr, b []byte) bool {
	var ph []byte
	n := len(b)
	if src.Is4() && dst.Is4() {
		a, d := src.As4(), dst.As4()
		ph = append(append(a[:], d[:]...), 0, 17, byte(n>>8), byte(n))
	} else {
		a, d := src.As16(), dst.As16()
		ph = append(append(a[:], d[:]...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 17)
	}
	return refChecksum(append(ph, b...), 0) == 0
}

func udpEqual(a, b UDP) bool {
	return a.SrcPort == b.SrcPort && a.DstPort == b.DstPort && a.Checksum == b.Checksum &&
		bytes.Equal(a.Payload, b.Payload) && (a.Payload == nil) == (b.Payload == nil)
}

func TestUDPGolden(t *testing.T) {
	for i, g := range udpGoldens {
		b := mustHex(t, g.hex)
		if g.want.Checksum != 0 && !refUDPChecksumOK(g.src, g.dst, b) {
			t.Errorf("%s: golden checksum does not verify", g.name)
		}
		u, err := ParseUDP(b, g.src, g.dst)
		if err != nil || !udpEqual(u, g.want) {
			t.Errorf("%s: ParseUDP = %+v, %v; want %+v", g.name, u, err, g.want)
			continue
		}
		if len(u.Payload) > 0 && (&u.Payload[0] != &b[8] || cap(u.Payload) != len(u.Payload)) {
			t.Errorf("%s: payload does not alias the input with its capacity cut", g.name)
		}
		if s := u.String(); s != g.line {
			t.Errorf("%s: String\n got %s\nwant %s", g.name, s, g.line)
		}
		if i == 3 {
			continue
		}
		u.Checksum = 0x5555
		if got := u.Append([]byte("pre"), g.src, g.dst); string(got[:3]) != "pre" || !bytes.Equal(got[3:], b) {
			t.Errorf("%s: Append after a prefix\n got % x\nwant pre+% x", g.name, got, b)
		}
		if u.Len() != len(b) {
			t.Errorf("%s: Len = %d, want %d", g.name, u.Len(), len(b))
		}
	}
}

func TestParseUDPErrors(t *testing.T) {
	v4 := func() []byte { return mustHex(t, udpGoldens[0].hex) }
	v6 := func() []byte { return mustHex(t, udpGoldens[1].hex) }
	tests := []struct {
		name     string
		b        []byte
		src, dst netip.Addr
		msg      string
		is       error
	}{
		{"short header", v4()[:7], client, server,
			"udp: header at offset 0: truncated: 7 bytes, need at least 8", ErrTruncated},
		// RFC 768: "(This means the minimum value of the length is eight.)"
		{"length 7", func() []byte { b := v4(); b[5] = 7; return b }(), client, server,
			"udp: length at offset 4: 7, want at least 8", nil},
		{"jumbogram length 0 over IPv6", func() []byte { b := v6(); b[5] = 0; return b }(), server6, client6,
			"udp: length at offset 4: 0, want at least 8", nil},
		{"length past datagram", v4()[:19], client, server,
			"udp: length at offset 4: 20 but datagram has only 19 bytes", ErrTruncated},
		{"bad checksum", func() []byte { b := v4(); b[19] ^= 0xff; return b }(), client, server,
			"udp: checksum at offset 6: bad checksum 0xca4a, want 0xc94b", ErrChecksum},
		// The pseudo-header "gives protection against misrouted datagrams"
		// (RFC 768).
		{"wrong destination", v4(), client, router4,
			"udp: checksum at offset 6: bad checksum 0xca4a, want 0xb87e", ErrChecksum},
		{"bad checksum over IPv6", func() []byte { b := v6(); b[8] ^= 0x01; return b }(), server6, client6,
			"udp: checksum at offset 6: bad checksum 0xda8b, want 0xdb8b", ErrChecksum},
		// RFC 8200 §8.1: "IPv6 receivers must discard UDP packets
		// containing a zero checksum and should log the error."
		{"zero checksum over IPv6", func() []byte { b := v6(); b[6], b[7] = 0, 0; return b }(), server6, client6,
			"udp: checksum at offset 6: zero over IPv6, where the checksum is not optional", ErrChecksum},
		{"zero checksum over IPv4-mapped addresses", func() []byte { b := v4(); b[6], b[7] = 0, 0; return b }(),
			netip.AddrFrom16(client.As16()), server, "udp: checksum at offset 6: zero over IPv6, where the checksum is not optional", ErrChecksum},
	}
	for _, tt := range tests {
		_, err := ParseUDP(tt.b, tt.src, tt.dst)
		checkErr(t, tt.name, err, tt.msg, tt.is)
	}
}

// What must be accepted.
func TestParseUDPAccepts(t *testing.T) {
	// RFC 768: a zero checksum over IPv4 means none was computed; the data
	// is returned unverified, with Checksum 0 to say so.
	b := mustHex(t, udpGoldens[0].hex)
	b[6], b[7] = 0, 0
	b[19] ^= 0xff
	u, err := ParseUDP(b, client, server)
	if err != nil || u.Checksum != 0 || !bytes.Equal(u.Payload, b[8:]) {
		t.Errorf("zero checksum over IPv4 = %+v, %v", u, err)
	}
	// RFC 9868: the surplus area after Length holds UDP options, which a
	// receiver that does not implement them ignores; the checksum covers
	// Length bytes only.
	b = append(mustHex(t, udpGoldens[0].hex), 0x01, 0x02, 0x03)
	u, err = ParseUDP(b, client, server)
	if err != nil || !bytes.Equal(u.Payload, b[8:20]) || cap(u.Payload) != 12 {
		t.Errorf("surplus area = %+v, %v", u, err)
	}
	// A checksum of 0xffff where 0 was computed verifies either way.
	b = mustHex(t, udpGoldens[2].hex)
	if _, err := ParseUDP(b, client, server); err != nil {
		t.Errorf("0xffff for a computed 0: %v", err)
	}
}

func TestUDPAppend(t *testing.T) {
	u := UDP{SrcPort: 1, DstPort: 2, Checksum: 0, Payload: []byte{1, 2, 3}}
	for _, a := range [][2]netip.Addr{{client, server}, {client6, server6}, {netip.AddrFrom16(client.As16()), server}} {
		b := u.Append(nil, a[0], a[1])
		if len(b) != u.Len() || b[4] != 0 || b[5] != 11 || !refUDPChecksumOK(a[0], a[1], b) {
			t.Errorf("%v > %v: Append = % x", a[0], a[1], b)
		}
		if got, err := ParseUDP(b, a[0], a[1]); err != nil || got.SrcPort != 1 || got.DstPort != 2 || !bytes.Equal(got.Payload, u.Payload) {
			t.Errorf("%v > %v: ParseUDP(Append) = %+v, %v", a[0], a[1], got, err)
		}
	}
	big := UDP{Payload: make([]byte, 65527)}
	if b := big.Append(nil, client, server); len(b) != 65535 || b[4] != 0xff || b[5] != 0xff {
		t.Errorf("largest datagram: %d bytes", len(b))
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("UDP.Append of 65536 bytes did not panic")
			}
		}()
		big.Payload = append(big.Payload, 0)
		big.Append(nil, client, server)
	}()
	buf := make([]byte, 0, 64)
	if n := testing.AllocsPerRun(100, func() { u.Append(buf[:0], client, server) }); n != 0 {
		t.Errorf("UDP.Append allocates %v times", n)
	}
	b := u.Append(nil, client6, server6)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseUDP(b, client6, server6); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseUDP allocates %v times", n)
	}
}

// Every proper prefix of a golden is shorter than its Length says, so
// ParseUDP fails with ErrTruncated.
func TestUDPGoldenTruncated(t *testing.T) {
	for _, g := range udpGoldens {
		b := mustHex(t, g.hex)
		for n := range len(b) {
			if _, err := ParseUDP(b[:n:n], g.src, g.dst); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: %d-byte prefix: err = %v, want ErrTruncated", g.name, n, err)
			}
		}
	}
}
