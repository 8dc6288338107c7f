package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
)

// fixPayloadLength returns a copy of an IPv6 packet with its Payload
// Length set to what follows the fixed header, so that the fuzzer reaches
// the extension headers.
func fixPayloadLength(data []byte) []byte {
	b := bytes.Clone(data)
	if len(b) >= 40 && len(b)-40 <= 0xffff {
		n := len(b) - 40
		b[4], b[5] = byte(n>>8), byte(n)
	}
	return b
}

// addIPv6Seeds adds the IPv6 goldens and the error and acceptance cases
// of the tests as seeds.
func addIPv6Seeds(f *testing.F) {
	for _, g := range ipv6Goldens {
		f.Add(mustHex(f, g.hex))
	}
	for _, ext := range []struct {
		nh  byte
		ext string
	}{
		{nhFragment, "06 00 0001 12345678 00000000"},
		{nhDestOpts, "00 00 010400000000 06 00 010400000000"},
		{nhHopByHop, "06 00 c2 04 00010000"},
		{nhRouting, "06 02 00 01 00000000 20010db8000000000000000000000009"},
		{nhHopByHop, "3c 00 3e 04 01020304 2b 00 1e 04 aabbccdd 2c 00 04 00 00000000 11 00 0000 12345678 9c40 0035 000c 0000 70696e67"},
		{nhDestOpts, strings.Repeat("3c 00 010400000000", 8) + "06 00 010400000000"},
	} {
		f.Add(ipv6With(f, ext.nh, ext.ext))
	}
}

// FuzzParseIPv6: arbitrary bytes never make ParseIPv6 panic, an error is
// a complete *ParseError, and what parses re-encodes (without extension
// headers, a Hop Limit of 0 sent as 64) to a packet that parses to the
// same header and payload, byte-stable: Append(Parse(Append(x))) ==
// Append(x). Each input is also tried with its Payload Length fixed.
func FuzzParseIPv6(f *testing.F) {
	addIPv6Seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkIPv6RoundTrip(t, data)
		checkIPv6RoundTrip(t, fixPayloadLength(data))
	})
}

func checkIPv6RoundTrip(t *testing.T, data []byte) {
	t.Helper()
	ip, payload, err := ParseIPv6(data)
	if err != nil {
		checkParseError(t, err)
		return
	}
	if ip.NextHeader == nhHopByHop || ip.NextHeader == nhRouting || ip.NextHeader == nhFragment || ip.NextHeader == nhDestOpts {
		t.Fatalf("NextHeader %d is an extension header", ip.NextHeader)
	}
	if ip.NextHeader == ProtocolNoNextHeader && payload != nil {
		t.Fatalf("payload % x after No Next Header", payload)
	}
	if len(payload) > 0 && &payload[len(payload)-1] != &data[len(data)-1] {
		t.Fatalf("payload does not end the packet")
	}
	_ = ip.String()
	b1 := append(ip.Append(nil, len(payload)), payload...)
	if len(b1) != ip.Len()+len(payload) {
		t.Fatalf("len(Append) = %d, Len = %d", len(b1)-len(payload), ip.Len())
	}
	ip2, p2, err := ParseIPv6(b1)
	if err != nil {
		t.Fatalf("re-encoded packet does not parse: %v\n% x", err, b1)
	}
	want := ip
	if want.HopLimit == 0 {
		want.HopLimit = 64
	}
	if ip2 != want || !bytes.Equal(p2, payload) {
		t.Fatalf("round trip\n got %+v % x\nwant %+v % x", ip2, p2, want, payload)
	}
	if b2 := append(ip2.Append(nil, len(p2)), p2...); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
	}
}

// FuzzParseIP: ParseIP agrees with the parser of the family its first
// nibble names, and round-trips as that parser does.
func FuzzParseIP(f *testing.F) {
	addIPv6Seeds(f)
	addGoldenPackets(f, false)
	f.Add([]byte{0x50})
	f.Fuzz(func(t *testing.T, data []byte) {
		ip, payload, err := ParseIP(data)
		var want IP
		var wpayload []byte
		var werr error
		switch {
		case len(data) > 0 && data[0]>>4 == 4:
			want.Version = 4
			want.V4, wpayload, werr = ParseIPv4(data)
		case len(data) > 0 && data[0]>>4 == 6:
			want.Version = 6
			want.V6, wpayload, werr = ParseIPv6(data)
		default:
			if err == nil {
				t.Fatalf("ParseIP of version %d succeeded", data[0]>>4)
			}
			checkParseError(t, err)
			return
		}
		if werr != nil {
			if errString(err) != errString(werr) {
				t.Fatalf("ParseIP error %v, family parser %v", err, werr)
			}
			return
		}
		if err != nil || ip != want || !bytes.Equal(payload, wpayload) {
			t.Fatalf("ParseIP = %+v, %v; family parser %+v", ip, err, want)
		}
		_ = ip.String()
		b := append(ip.Append(nil, len(payload)), payload...)
		ip2, p2, err := ParseIP(b)
		if err != nil || ip2.Version != ip.Version || ip2.Src() != ip.Src() || ip2.Dst() != ip.Dst() ||
			ip2.Protocol() != ip.Protocol() || !bytes.Equal(p2, payload) {
			t.Fatalf("round trip: %+v, %v\nwant %+v", ip2, err, ip)
		}
	})
}

// fixUDP returns a copy of a UDP datagram with its checksum set by the
// reference over src and dst, as far as its Length allows.
func fixUDP(data []byte, src, dst netip.Addr) []byte {
	b := bytes.Clone(data)
	if len(b) < 8 {
		return b
	}
	n := int(b[4])<<8 | int(b[5])
	if n < 8 || n > len(b) {
		return b
	}
	b[6], b[7] = 0, 0
	var ph []byte
	if src.Is4() && dst.Is4() {
		a, d := src.As4(), dst.As4()
		ph = append(append(a[:], d[:]...), 0, 17, byte(n>>8), byte(n))
	} else {
		a, d := src.As16(), dst.As16()
		ph = append(append(a[:], d[:]...), 0, 0, byte(n>>8), byte(n), 0, 0, 0, 17)
	}
	c := refChecksum(append(ph, b[:n]...), 0)
	if c == 0 {
		c = 0xffff
	}
	b[6], b[7] = byte(c>>8), byte(c)
	return b
}

// FuzzParseUDP: arbitrary bytes over either family never make ParseUDP
// panic, and what parses round-trips (Append computes a checksum even
// where none was sent, and drops the surplus after Length) byte-stably.
// Each input is also tried with its checksum fixed.
func FuzzParseUDP(f *testing.F) {
	for _, g := range udpGoldens {
		f.Add(mustHex(f, g.hex), g.src.Is6())
	}
	f.Add(append(mustHex(f, udpGoldens[0].hex), 1, 2, 3), false)
	f.Fuzz(func(t *testing.T, data []byte, v6 bool) {
		src, dst := client, server
		if v6 {
			src, dst = client6, server6
		}
		checkUDPRoundTrip(t, data, src, dst)
		checkUDPRoundTrip(t, fixUDP(data, src, dst), src, dst)
	})
}

func checkUDPRoundTrip(t *testing.T, data []byte, src, dst netip.Addr) {
	t.Helper()
	u, err := ParseUDP(data, src, dst)
	if err != nil {
		checkParseError(t, err)
		return
	}
	if u.Checksum == 0 && src.Is6() {
		t.Fatalf("zero checksum accepted over IPv6")
	}
	_ = u.String()
	b1 := u.Append(nil, src, dst)
	if len(b1) != u.Len() || !refUDPChecksumOK(src, dst, b1) {
		t.Fatalf("re-encoded datagram: %d bytes, Len %d, checksum valid %v", len(b1), u.Len(), refUDPChecksumOK(src, dst, b1))
	}
	u2, err := ParseUDP(b1, src, dst)
	if err != nil {
		t.Fatalf("re-encoded datagram does not parse: %v\n% x", err, b1)
	}
	want := u
	want.Checksum = u2.Checksum
	if !udpEqual(u2, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", u2, want)
	}
	if b2 := u2.Append(nil, src, dst); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
	}
}

// checkQuoteInvariants: the quote's fields are filled in order, and its
// error is a complete *ParseError.
func checkQuoteInvariants(t *testing.T, q Quote, isError bool, version uint8) {
	t.Helper()
	if !isError {
		if q.IP.Version != 0 || q.HasPorts || q.Payload != nil || q.Err != nil {
			t.Fatalf("quote %+v in a message that is not an error", q)
		}
		return
	}
	if q.IP.Version != 0 && q.IP.Version != version {
		t.Fatalf("quoted IP version %d in an ICMP for IPv%d", q.IP.Version, version)
	}
	if q.HasSeq && !q.HasPorts || q.HasPorts && q.IP.Version == 0 || q.Payload != nil && q.IP.Version == 0 {
		t.Fatalf("quote fields out of order: %+v", q)
	}
	if q.Err != nil {
		checkParseError(t, q.Err)
	} else if q.IP.Version == 0 || (len(q.Payload) < 8 && q.IP.Protocol() != ProtocolNoNextHeader) {
		t.Fatalf("quote %+v without an error", q)
	}
	if errors.Is(q.Err, ErrFragment) && (q.HasPorts || q.Payload != nil) {
		t.Fatalf("later fragment with ports: %+v", q)
	}
	_ = q.String()
}

func addICMPv4Seeds(f *testing.F) {
	for _, g := range icmpv4Goldens {
		f.Add(mustHex(f, g.hex))
	}
}

// FuzzParseICMPv4: arbitrary bytes never make ParseICMPv4 panic; what
// parses (with its quote, however short) re-encodes to a message that
// parses to the same meaning (unused bytes come back zero), byte-stably.
// Each input is also tried with its checksum fixed.
func FuzzParseICMPv4(f *testing.F) {
	addICMPv4Seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkICMPv4RoundTrip(t, data)
		checkICMPv4RoundTrip(t, fixICMPv4(data))
	})
}

func checkICMPv4RoundTrip(t *testing.T, data []byte) {
	t.Helper()
	m, err := ParseICMPv4(data)
	if err != nil {
		checkParseError(t, err)
		return
	}
	checkQuoteInvariants(t, m.Quote, m.Type.IsError() && parsedICMPv4(m.Type), 4)
	_ = m.String()
	b1 := m.Append(nil)
	if len(b1) != m.Len() || len(b1) != len(data) || refChecksum(b1, 0) != 0 {
		t.Fatalf("re-encoded message: %d bytes, Len %d, input %d", len(b1), m.Len(), len(data))
	}
	m2, err := ParseICMPv4(b1)
	if err != nil {
		t.Fatalf("re-encoded message does not parse: %v\n% x", err, b1)
	}
	want := m
	want.Checksum = m2.Checksum
	if !icmpv4Equal(m2, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", m2, want)
	}
	if b2 := m2.Append(nil); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
	}
}

// FuzzParseICMPv6 is FuzzParseICMPv4 for ICMPv6, between fixed addresses.
func FuzzParseICMPv6(f *testing.F) {
	for _, g := range icmpv6Goldens {
		f.Add(fixICMPv6(mustHex(f, g.hex), router6, client6))
	}
	f.Add(fixICMPv6(append([]byte{5, 0, 0, 0, 0, 0, 0, 0}, mustHex(f, icmpv6Goldens[2].hex)[8:]...), router6, client6))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkICMPv6RoundTrip(t, data)
		checkICMPv6RoundTrip(t, fixICMPv6(data, router6, client6))
	})
}

func checkICMPv6RoundTrip(t *testing.T, data []byte) {
	t.Helper()
	src, dst := router6, client6
	m, err := ParseICMPv6(data, src, dst)
	if err != nil {
		checkParseError(t, err)
		return
	}
	checkQuoteInvariants(t, m.Quote, m.Type.IsError() && len(data) >= 8, 6)
	_ = m.String()
	b1 := m.Append(nil, src, dst)
	if len(b1) != m.Len() || len(b1) != len(data) {
		t.Fatalf("re-encoded message: %d bytes, Len %d, input %d", len(b1), m.Len(), len(data))
	}
	m2, err := ParseICMPv6(b1, src, dst)
	if err != nil {
		t.Fatalf("re-encoded message does not parse: %v\n% x", err, b1)
	}
	want := m
	want.Checksum = m2.Checksum
	if !icmpv6Equal(m2, want) {
		t.Fatalf("round trip\n got %+v\nwant %+v", m2, want)
	}
	if b2 := m2.Append(nil, src, dst); !bytes.Equal(b1, b2) {
		t.Fatalf("re-encoding is not stable\n% x\n% x", b1, b2)
	}
}
