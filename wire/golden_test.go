package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

var (
	client = netip.MustParseAddr("192.0.2.1")
	server = netip.MustParseAddr("198.51.100.2")
)

// The golden packets were written by hand field by field, following the
// layouts of RFC 791 §3.1 and RFC 9293 §3.1 and the option order Linux
// sends. Their checksums were computed with a separate script (RFC 1071
// summed word by word) and are re-verified below by refChecksum and, in
// gopacket_test.go, by gopacket; they were not produced by this package.
var goldens = []struct {
	name string
	hex  string
	want Packet
	line string // Packet.String
}{
	{
		name: "SYN mss,sackOK,TS,wscale",
		hex: `
		45 00 003c 1c46 4000 40 06 323f c0000201 c6336402
		9c40 0050 0a1b2c3d 00000000 a0 02 faf0 abad 0000
		020405b4 | 04 02 080a 0001e240 00000000 | 01 030307`,
		want: Packet{
			IP: IPv4{ID: 0x1c46, DontFragment: true, TTL: 64, Protocol: 6, Src: client, Dst: server},
			TCP: Segment{
				SrcPort: 40000, DstPort: 80, Seq: 0x0a1b2c3d, Flags: SYN, Window: 64240, Checksum: 0xabad,
				Options: Options{
					HasMSS: true, MSS: 1460,
					SACKPermitted: true,
					HasTimestamps: true, TSVal: 123456,
					HasWScale: true, WScale: 7,
				},
			},
		},
		line: "192.0.2.1:40000 > 198.51.100.2:80 S seq=169552957 ack=- win=64240 len=0 <mss 1460,wscale 7,sackOK,ts 123456 0>",
	},
	{
		name: "SYN-ACK mss,nop,nop,sackOK,nop,wscale",
		hex: `
		45 00 0034 0000 4000 40 06 4e8d c6336402 c0000201
		0050 9c40 5e6f7081 0a1b2c3e 80 12 ffff e0ef 0000
		020405b4 | 0101 0402 | 01 030307`,
		want: Packet{
			IP: IPv4{DontFragment: true, TTL: 64, Protocol: 6, Src: server, Dst: client},
			TCP: Segment{
				SrcPort: 80, DstPort: 40000, Seq: 0x5e6f7081, Ack: 0x0a1b2c3e, Flags: SYN | ACK, Window: 65535, Checksum: 0xe0ef,
				Options: Options{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7},
			},
		},
		line: "198.51.100.2:80 > 192.0.2.1:40000 SA seq=1584361601 ack=169552958 win=65535 len=0 <mss 1460,wscale 7,sackOK>",
	},
	{
		name: "data PSH-ACK with TS and odd-length payload",
		hex: `
		45 00 0059 1c47 4000 40 06 3221 c0000201 c6336402
		9c40 0050 0a1b2c3e 5e6f7082 80 18 01f6 a443 0000
		0101 080a 0001e2a4 9a8b7c6d
		474554202f20485454502f312e310d0a 486f73743a206578616d706c652e636f6d0d0a 0d0a`,
		want: Packet{
			IP: IPv4{ID: 0x1c47, DontFragment: true, TTL: 64, Protocol: 6, Src: client, Dst: server},
			TCP: Segment{
				SrcPort: 40000, DstPort: 80, Seq: 0x0a1b2c3e, Ack: 0x5e6f7082, Flags: PSH | ACK, Window: 502, Checksum: 0xa443,
				Options: Options{HasTimestamps: true, TSVal: 123556, TSEcr: 0x9a8b7c6d},
				Payload: []byte("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
			},
		},
		line: "192.0.2.1:40000 > 198.51.100.2:80 PA seq=169552958 ack=1584361602 win=502 len=37 <ts 123556 2592832621>",
	},
	{
		name: "FIN-ACK with TS",
		hex: `
		45 00 0034 4a5b 4000 40 06 0432 c6336402 c0000201
		0050 9c40 5e6f7082 0a1b2c63 80 11 01fe ecd4 0000
		0101 080a 9a8b7c80 0001e2a4`,
		want: Packet{
			IP: IPv4{ID: 0x4a5b, DontFragment: true, TTL: 64, Protocol: 6, Src: server, Dst: client},
			TCP: Segment{
				SrcPort: 80, DstPort: 40000, Seq: 0x5e6f7082, Ack: 0x0a1b2c63, Flags: FIN | ACK, Window: 510, Checksum: 0xecd4,
				Options: Options{HasTimestamps: true, TSVal: 0x9a8b7c80, TSEcr: 123556},
			},
		},
		line: "198.51.100.2:80 > 192.0.2.1:40000 FA seq=1584361602 ack=169552995 win=510 len=0 <ts 2592832640 123556>",
	},
	{
		name: "RST without DF, TTL 255",
		hex: `
		45 00 0028 0000 0000 ff 06 cf98 c0000201 c6336402
		9c40 0050 0a1b2c64 00000000 50 04 0000 f099 0000`,
		want: Packet{
			IP:  IPv4{TTL: 255, Protocol: 6, Src: client, Dst: server},
			TCP: Segment{SrcPort: 40000, DstPort: 80, Seq: 0x0a1b2c64, Flags: RST, Checksum: 0xf099},
		},
		line: "192.0.2.1:40000 > 198.51.100.2:80 R seq=169552996 ack=- win=0 len=0",
	},
	{
		name: "ECE-ACK with TS and 3 SACK blocks, 40 bytes of options",
		hex: `
		45 02 0050 4a5c 4000 40 06 0413 c6336402 c0000201
		0050 9c40 5e6f7083 0a1b2c64 f0 50 01fe a39c 0000
		0101 080a 9a8b7c90 0001e2b0
		0101 051a 0a1b3000 0a1b3400 0a1b4000 0a1b4800 0a1b5000 0a1b5a00`,
		want: Packet{
			IP: IPv4{TOS: 2, ID: 0x4a5c, DontFragment: true, TTL: 64, Protocol: 6, Src: server, Dst: client},
			TCP: Segment{
				SrcPort: 80, DstPort: 40000, Seq: 0x5e6f7083, Ack: 0x0a1b2c64, Flags: ECE | ACK, Window: 510, Checksum: 0xa39c,
				Options: Options{
					HasTimestamps: true, TSVal: 0x9a8b7c90, TSEcr: 123568,
					NumSACK: 3,
					SACK:    [4]SACKBlock{{0x0a1b3000, 0x0a1b3400}, {0x0a1b4000, 0x0a1b4800}, {0x0a1b5000, 0x0a1b5a00}},
				},
			},
		},
		line: "198.51.100.2:80 > 192.0.2.1:40000 AE seq=1584361603 ack=169552996 win=510 len=0 <ts 2592832656 123568,sack 169553920-169554944 169558016-169560064 169562112-169564672>",
	},
}

func TestGoldenChecksumsAreValid(t *testing.T) {
	for _, g := range goldens {
		b := mustHex(t, g.hex)
		hl := int(b[0]&0xf) * 4
		// RFC 791 §3.1: "The checksum field is the 16 bit one's complement
		// of the one's complement sum of all 16 bit words in the header."
		if c := refChecksum(b[:hl], 0); c != 0 {
			t.Errorf("%s: golden IPv4 header checksum does not verify (sum %#04x)", g.name, c)
		}
		if !refTCPChecksumOK(g.want.IP.Src, g.want.IP.Dst, b[hl:]) {
			t.Errorf("%s: golden TCP checksum does not verify", g.name)
		}
	}
}

func TestGoldenParse(t *testing.T) {
	for _, g := range goldens {
		b := mustHex(t, g.hex)
		p, err := ParsePacket(b)
		if err != nil {
			t.Errorf("%s: ParsePacket: %v", g.name, err)
			continue
		}
		if !pktEqual(p, g.want) {
			t.Errorf("%s: ParsePacket\n got %+v\nwant %+v", g.name, p, g.want)
		}
		if s := p.String(); s != g.line {
			t.Errorf("%s: String\n got %s\nwant %s", g.name, s, g.line)
		}
	}
}

func TestGoldenAppend(t *testing.T) {
	for _, g := range goldens {
		want := mustHex(t, g.hex)
		p := g.want
		p.TCP.Checksum = 0x5555 // ignored by Append
		p.IP.Protocol = 0       // Packet.Append writes 6
		got := p.Append(nil)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Append\n got % x\nwant % x", g.name, got, want)
		}
		if p.Len() != len(want) {
			t.Errorf("%s: Len = %d, want %d", g.name, p.Len(), len(want))
		}
		prefix := []byte("prefix")
		got = p.Append(prefix)
		if string(got[:6]) != "prefix" || !bytes.Equal(got[6:], want) {
			t.Errorf("%s: Append after a prefix\n got % x\nwant prefix+% x", g.name, got, want)
		}
	}
}

func TestGoldenSegmentAppend(t *testing.T) {
	for _, g := range goldens {
		b := mustHex(t, g.hex)
		want := b[20:]
		got := g.want.TCP.Append(nil, g.want.IP.Src, g.want.IP.Dst)
		if !bytes.Equal(got, want) {
			t.Errorf("%s: Segment.Append\n got % x\nwant % x", g.name, got, want)
		}
		s, err := ParseTCP(want, g.want.IP.Src, g.want.IP.Dst)
		if err != nil || !segEqual(s, g.want.TCP) {
			t.Errorf("%s: ParseTCP = %+v, %v; want %+v", g.name, s, err, g.want.TCP)
		}
		ip := g.want.IP
		if got := ip.Append(nil, len(want)); !bytes.Equal(got, b[:20]) {
			t.Errorf("%s: IPv4.Append\n got % x\nwant % x", g.name, got, b[:20])
		}
	}
}

// Every proper prefix of a golden packet is shorter than its Total Length,
// so ParsePacket must fail with ErrTruncated, and never panic.
func TestGoldenTruncated(t *testing.T) {
	for _, g := range goldens {
		b := mustHex(t, g.hex)
		for n := range len(b) {
			_, err := ParsePacket(b[:n:n])
			if !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: ParsePacket of %d-byte prefix: err = %v, want ErrTruncated", g.name, n, err)
			}
		}
		// Without the IP layer, a TCP prefix shorter than the fixed header
		// is truncated; a longer one fails its checksum, which ParseTCP
		// checks first. Unchecked, it is truncated if shorter than the data
		// offset, and otherwise a valid segment with less payload.
		tcp := b[20:]
		hl := int(tcp[12]>>4) * 4
		for n := range len(tcp) {
			_, err := ParseTCP(tcp[:n:n], g.want.IP.Src, g.want.IP.Dst)
			want := ErrTruncated
			if n >= 20 {
				want = ErrChecksum
			}
			if !errors.Is(err, want) {
				t.Errorf("%s: ParseTCP of %d-byte prefix: err = %v, want %v", g.name, n, err, want)
			}
			_, err = ParseTCPNoChecksum(tcp[:n:n])
			if (n < hl) != errors.Is(err, ErrTruncated) {
				t.Errorf("%s: ParseTCPNoChecksum of %d-byte prefix: err = %v", g.name, n, err)
			}
		}
	}
}

// IP options are skipped (RFC 791 §3.1: "The options may appear or not in
// datagrams"); the TCP segment behind them parses as usual.
func TestParseIPv4SkipsOptions(t *testing.T) {
	g := goldens[4] // RST, no TCP options
	b := mustHex(t, g.hex)
	// Insert 4 bytes of options (NOP, NOP, NOP, EOL) and fix IHL, Total
	// Length and the header checksum by hand.
	pkt := append(append(append([]byte{}, b[:20]...), 1, 1, 1, 0), b[20:]...)
	pkt[0] = 0x46
	pkt[3] = byte(len(pkt))
	pkt[10], pkt[11] = 0, 0
	c := refChecksum(pkt[:24], 0)
	pkt[10], pkt[11] = byte(c>>8), byte(c)
	p, err := ParsePacket(pkt)
	if err != nil {
		t.Fatalf("ParsePacket with IP options: %v", err)
	}
	if !pktEqual(p, g.want) {
		t.Errorf("ParsePacket with IP options\n got %+v\nwant %+v", p, g.want)
	}
}
