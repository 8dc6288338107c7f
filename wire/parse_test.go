package wire

import (
	"errors"
	"testing"
)

// synTCP is the TCP header of the golden SYN.
func synTCP(t *testing.T) []byte { return mustHex(t, goldens[0].hex)[20:] }

// fixIPChecksum recomputes the header checksum of an IPv4 header of IHL 5
// with the reference implementation.
func fixIPChecksum(b []byte) []byte {
	b[10], b[11] = 0, 0
	c := refChecksum(b[:20], 0)
	b[10], b[11] = byte(c>>8), byte(c)
	return b
}

func TestParseIPv4Errors(t *testing.T) {
	pkt := func(t *testing.T) []byte { return mustHex(t, goldens[0].hex) }
	tests := []struct {
		name  string
		input func(t *testing.T) []byte
		msg   string
		is    error
	}{
		{"empty", func(t *testing.T) []byte { return nil },
			"ipv4: header at offset 0: truncated: 0 bytes, need at least 20", ErrTruncated},
		{"version 6", func(t *testing.T) []byte { b := pkt(t); b[0] = 0x65; return b },
			"ipv4: version at offset 0: 6, want 4", nil},
		{"short header", func(t *testing.T) []byte { return pkt(t)[:19] },
			"ipv4: header at offset 0: truncated: 19 bytes, need at least 20", ErrTruncated},
		// RFC 791 §3.1: "the minimum value for a correct header is 5."
		{"IHL 4", func(t *testing.T) []byte { b := pkt(t); b[0] = 0x44; return b },
			"ipv4: IHL at offset 0: 4 (16 bytes), want at least 5", nil},
		{"IHL past packet", func(t *testing.T) []byte { b := pkt(t)[:40]; b[0] = 0x4f; return b },
			"ipv4: IHL at offset 0: header length 60 runs past the end of the 40-byte packet", ErrTruncated},
		{"total length below header", func(t *testing.T) []byte { b := pkt(t); b[2], b[3] = 0, 19; return b },
			"ipv4: total length at offset 2: 19 is less than the header length 20", nil},
		// RFC 791 §3.1: "Total Length is the length of the datagram,
		// measured in octets, including internet header and data."
		{"total length past packet", func(t *testing.T) []byte { return pkt(t)[:59] },
			"ipv4: total length at offset 2: 60 but packet has only 59 bytes", ErrTruncated},
		{"trailing bytes", func(t *testing.T) []byte { return append(pkt(t), 0) },
			"ipv4: total length at offset 2: 60 but packet has 61 bytes", nil},
		{"header checksum", func(t *testing.T) []byte { b := pkt(t); b[11] ^= 0x01; return b },
			"ipv4: header checksum at offset 10: bad checksum 0x323e, want 0x323f", ErrChecksum},
		{"corrupt TTL", func(t *testing.T) []byte { b := pkt(t); b[8] = 63; return b },
			"ipv4: header checksum at offset 10: bad checksum 0x323f, want 0x333f", ErrChecksum},
		// RFC 791 §3.1: "Bit 2: (MF) 0 = Last Fragment, 1 = More Fragments."
		{"MF", func(t *testing.T) []byte { b := pkt(t); b[6] = 0x20; fixIPChecksum(b); return b },
			"ipv4: flags and fragment offset at offset 6: IP fragments are not supported (MF true, fragment offset 0 bytes)", ErrFragment},
		{"fragment offset", func(t *testing.T) []byte { b := pkt(t); b[6], b[7] = 0x00, 0xb9; fixIPChecksum(b); return b },
			"ipv4: flags and fragment offset at offset 6: IP fragments are not supported (MF false, fragment offset 1480 bytes)", ErrFragment},
		{"UDP", func(t *testing.T) []byte { b := pkt(t); b[9] = 17; fixIPChecksum(b); return b },
			"ipv4: protocol at offset 9: 17, want 6 (TCP)", nil},
	}
	for _, tt := range tests {
		_, err := ParsePacket(tt.input(t))
		checkErr(t, tt.name, err, tt.msg, tt.is)
	}
}

// In the lines below the TCP header of the golden SYN (40 bytes, data
// offset 10) has its options replaced; offsets in the messages count from
// the start of the TCP header, so options start at offset 20.
func TestParseTCPErrors(t *testing.T) {
	withOpts := func(opts string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			b := synTCP(t)
			o := mustHex(t, opts)
			if len(o) != 20 {
				t.Fatalf("test options are %d bytes, want 20", len(o))
			}
			copy(b[20:], o)
			return b
		}
	}
	tests := []struct {
		name  string
		input func(t *testing.T) []byte
		msg   string
		is    error
	}{
		{"short header", func(t *testing.T) []byte { return synTCP(t)[:19] },
			"tcp: header at offset 0: truncated: 19 bytes, need at least 20", ErrTruncated},
		// RFC 9293 §3.1: "The number of 32-bit words in the TCP header."
		{"data offset 4", func(t *testing.T) []byte { b := synTCP(t); b[12] = 0x40; return b },
			"tcp: data offset at offset 12: 4 (16 bytes), want at least 5", nil},
		{"data offset past segment", func(t *testing.T) []byte { b := synTCP(t); b[12] = 0xb0; return b },
			"tcp: data offset at offset 12: header length 44 runs past the end of the 40-byte segment", ErrTruncated},
		// RFC 9293 §3.1: "TCP implementations MUST be prepared to handle an
		// illegal option length (e.g., zero)".
		{"option length 0", withOpts("0200 0000 00000000 00000000 00000000 00000000"),
			"tcp: option 2 (mss) at offset 20: length 0, want at least 2", nil},
		{"option length 1", withOpts("01 1e01 00 00000000 00000000 00000000 00000000"),
			"tcp: option 30 at offset 21: length 1, want at least 2", nil},
		{"option past header", withOpts("020405b4 01010101 01010101 01010101 0101 080a"),
			"tcp: option 8 (timestamps) at offset 38: length 10 runs past the end of the header at offset 40", nil},
		{"no length byte", withOpts("020405b4 01010101 01010101 01010101 010101 03"),
			"tcp: option 3 (wscale) at offset 39: no length byte before the end of the header at offset 40", nil},
		{"mss length 3", withOpts("020305 00 00000000 00000000 00000000 00000000"),
			"tcp: option 2 (mss) at offset 20: length 3, want 4", nil},
		// RFC 7323 §2.2: "Kind: 3 Length: 3 bytes".
		{"wscale length 2", withOpts("020405b4 0402080a 00000001 00000000 01 0302 00"),
			"tcp: option 3 (wscale) at offset 37: length 2, want 3", nil},
		// RFC 2018 §2: "Kind=4 | Length=2".
		{"sackOK length 3", withOpts("040300 00 00000000 00000000 00000000 00000000"),
			"tcp: option 4 (sackOK) at offset 20: length 3, want 2", nil},
		// RFC 7323 §3.2: "Kind: 8 Length: 10 bytes".
		{"timestamps length 8", withOpts("0101 0808 000000010000 00000000000000000000"),
			"tcp: option 8 (timestamps) at offset 22: length 8, want 10", nil},
		// RFC 2018 §3: "A SACK option that specifies n blocks will have a
		// length of 8*n+2 bytes".
		{"sack length 2", withOpts("0502 0000 00000000 00000000 00000000 00000000"),
			"tcp: option 5 (sack) at offset 20: length 2, want 8*n+2 for 1 to 4 blocks (10, 18, 26 or 34)", nil},
		{"sack length 11", withOpts("050b 00000001 00000002 00 00 00000000 00000000"),
			"tcp: option 5 (sack) at offset 20: length 11, want 8*n+2 for 1 to 4 blocks (10, 18, 26 or 34)", nil},
	}
	for _, tt := range tests {
		_, err := ParseTCPNoChecksum(tt.input(t))
		checkErr(t, tt.name, err, tt.msg, tt.is)
	}
}

// RFC 9293 §3.1: "The TCP checksum is never optional. The sender MUST
// generate it (MUST-2) and the receiver MUST check it (MUST-3)."
func TestParseTCPChecksum(t *testing.T) {
	b := synTCP(t)
	b[17] ^= 0xff
	_, err := ParseTCP(b, client, server)
	checkErr(t, "bad TCP checksum", err, "tcp: checksum at offset 16: bad checksum 0xab52, want 0xabad", ErrChecksum)

	// The pseudo-header protects against misrouted segments: the right
	// bytes with the wrong address fail.
	_, err = ParseTCP(synTCP(t), client, client)
	if !errors.Is(err, ErrChecksum) {
		t.Errorf("ParseTCP with the wrong destination: err = %v, want ErrChecksum", err)
	}
	// A corrupted payload in a full packet is reported the same way.
	p := mustHex(t, goldens[2].hex)
	p[len(p)-1] ^= 0x20
	if _, err = ParsePacket(p); !errors.Is(err, ErrChecksum) {
		t.Errorf("ParsePacket with a corrupted payload: err = %v, want ErrChecksum", err)
	}
	// ParseTCPNoChecksum does not care and reports the value found.
	b = synTCP(t)
	b[16], b[17] = 0x12, 0x34
	s, err := ParseTCPNoChecksum(b)
	if err != nil || s.Checksum != 0x1234 {
		t.Errorf("ParseTCPNoChecksum = checksum %#04x, %v; want 0x1234, nil", s.Checksum, err)
	}
}

// Options that must be accepted.
func TestParseTCPOptions(t *testing.T) {
	tests := []struct {
		name string
		opts string
		want Options
	}{
		// RFC 9293 §3.2: "This option code indicates the end of the option
		// list." Whatever follows it is not parsed.
		{"EOL ends the list", "020405b4 00 0200 ff 00000000 00000000 00000000",
			Options{HasMSS: true, MSS: 1460}},
		// RFC 9293 §3.1: "A TCP implementation MUST (MUST-6) ignore without
		// error any TCP Option it does not implement, assuming that the
		// option has a length field."
		{"unknown option skipped", "01 1e06 aabbccdd 01 020405b4 0101 0303 0e 01 00 00",
			Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 14}},
		// RFC 7323 §2.3: "If a Window Scale option is received with a
		// shift.cnt value larger than 14, the TCP SHOULD log the error but
		// MUST use 14 instead of the specified value." Clamping is the TCP
		// layer's job; the parser reports what was sent.
		{"wscale 15 kept", "010303 0f 00000000 00000000 00000000 00000000",
			Options{HasWScale: true, WScale: 15}},
		{"last duplicate wins", "020405b4 020405dc 050a 00000001 00000002 0402",
			Options{HasMSS: true, MSS: 1500, SACKPermitted: true, NumSACK: 1, SACK: [4]SACKBlock{{1, 2}}}},
		{"all NOPs", "01010101 01010101 01010101 01010101 01010101", Options{}},
		{"SACK 2 blocks", "0101 0512 00000001 00000002 00000003 00000004",
			Options{NumSACK: 2, SACK: [4]SACKBlock{{1, 2}, {3, 4}}}},
	}
	for _, tt := range tests {
		b := synTCP(t)
		if n := copy(b[20:], mustHex(t, tt.opts)); n != 20 || len(mustHex(t, tt.opts)) != 20 {
			t.Fatalf("%s: test options are not 20 bytes", tt.name)
		}
		s, err := ParseTCPNoChecksum(b)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if s.Options != tt.want {
			t.Errorf("%s: options\n got %+v\nwant %+v", tt.name, s.Options, tt.want)
		}
	}
}

// A later SACK option replaces every block of an earlier one.
func TestParseTCPDuplicateSACK(t *testing.T) {
	b := append(synTCP(t)[:20], mustHex(t, `
		051a 00000001 00000002 00000003 00000004 00000005 00000006
		050a 00000007 00000008
		01010101`)...)
	b[12] = 15 << 4
	s, err := ParseTCPNoChecksum(b)
	want := Options{NumSACK: 1, SACK: [4]SACKBlock{{7, 8}}}
	if err != nil || s.Options != want {
		t.Errorf("ParseTCPNoChecksum = %+v, %v; want options %+v", s.Options, err, want)
	}
}

// A parse result keeps no more of the input than it must: payloads alias
// the input with their capacity cut at their end, and are nil when empty.
func TestParsePayloadAliasing(t *testing.T) {
	b := mustHex(t, goldens[2].hex)
	p, err := ParsePacket(b)
	if err != nil {
		t.Fatal(err)
	}
	pl := p.TCP.Payload
	if &pl[0] != &b[52] || cap(pl) != len(pl) {
		t.Errorf("payload does not alias the input with capacity cut: cap %d, len %d", cap(pl), len(pl))
	}
	_, ipPayload, err := ParseIPv4(b)
	if err != nil || &ipPayload[0] != &b[20] || cap(ipPayload) != len(b)-20 {
		t.Errorf("IPv4 payload does not alias the input: %v", err)
	}
	p, err = ParsePacket(mustHex(t, goldens[0].hex))
	if err != nil || p.TCP.Payload != nil {
		t.Errorf("empty payload = %#v, %v; want nil", p.TCP.Payload, err)
	}
}

func checkErr(t *testing.T, name string, err error, msg string, is error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want %q", name, msg)
		return
	}
	if err.Error() != msg {
		t.Errorf("%s: error\n got %q\nwant %q", name, err.Error(), msg)
	}
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Errorf("%s: error %T is not a *ParseError", name, err)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("%s: errors.Is(%v, %v) = false", name, err, is)
	}
	for _, sentinel := range []error{ErrTruncated, ErrChecksum, ErrFragment} {
		if sentinel != is && errors.Is(err, sentinel) {
			t.Errorf("%s: error unexpectedly wraps %v", name, sentinel)
		}
	}
}
