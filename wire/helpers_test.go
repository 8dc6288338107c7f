package wire

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/gosynack/synack/seq"
)

// mustHex decodes hex that may contain spaces, newlines and "|" separators.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", "|", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// refChecksum is RFC 1071 done the slow, obvious way, one 16-bit word at a
// time, as an independent reference for Checksum.
func refChecksum(b []byte, initial uint32) uint16 {
	s := initial&0xffff + initial>>16
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
		s = s&0xffff + s>>16
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// refPseudoHeader builds the IPv4 pseudo-header of RFC 9293 §3.1 Figure 2
// as bytes.
func refPseudoHeader(src, dst netip.Addr, length int) []byte {
	a, b := src.As4(), dst.As4()
	h := append(a[:], b[:]...)
	return append(h, 0, 6, byte(length>>8), byte(length))
}

// refTCPChecksumOK verifies a TCP segment's checksum with refChecksum.
func refTCPChecksumOK(src, dst netip.Addr, tcp []byte) bool {
	return refChecksum(append(refPseudoHeader(src, dst, len(tcp)), tcp...), 0) == 0
}

// semantic returns the fields of a segment that survive an encode/decode
// round trip: the checksum is dropped, SACK entries past NumSACK are
// zeroed, values of absent options are zeroed and an empty payload is nil.
func semantic(s Segment) Segment {
	s.Checksum = 0
	o := &s.Options
	if !o.HasMSS {
		o.MSS = 0
	}
	if !o.HasWScale {
		o.WScale = 0
	}
	if !o.HasTimestamps {
		o.TSVal, o.TSEcr = 0, 0
	}
	o.NumSACK = min(o.NumSACK, MaxSACKBlocks)
	for i := int(o.NumSACK); i < MaxSACKBlocks; i++ {
		o.SACK[i] = SACKBlock{}
	}
	if len(s.Payload) == 0 {
		s.Payload = nil
	}
	return s
}

// segEqual compares two segments field by field, payload by content.
func segEqual(a, b Segment) bool {
	pa, pb := a.Payload, b.Payload
	a.Payload, b.Payload = nil, nil
	return a.SrcPort == b.SrcPort && a.DstPort == b.DstPort && a.Seq == b.Seq &&
		a.Ack == b.Ack && a.Flags == b.Flags && a.Window == b.Window &&
		a.Urgent == b.Urgent && a.Checksum == b.Checksum && a.Options == b.Options &&
		bytes.Equal(pa, pb) && (pa == nil) == (pb == nil)
}

func pktEqual(a, b Packet) bool { return a.IP == b.IP && segEqual(a.TCP, b.TCP) }

// optionsSpace is the option length of the Linux layout, counted here
// independently of the code under test: MSS 4, sackOK+TS 12 or NOP NOP TS
// 12 or NOP NOP sackOK 4, NOP wscale 4, NOP NOP SACK 4+8n.
func optionsSpace(o *Options, nsack int) int {
	n := 0
	if o.HasMSS {
		n += 4
	}
	switch {
	case o.HasTimestamps:
		n += 12
	case o.SACKPermitted:
		n += 4
	}
	if o.HasWScale {
		n += 4
	}
	if nsack > 0 {
		n += 4 + 8*nsack
	}
	return n
}

// fittingSACK is how many SACK blocks the encoder keeps: as many of the
// first NumSACK as fit in 40 bytes of options.
func fittingSACK(o *Options) int {
	n := int(min(o.NumSACK, MaxSACKBlocks))
	for n > 0 && optionsSpace(o, n) > 40 {
		n--
	}
	return n
}

// afterRoundTrip is what decoding the encoding of s must give, ignoring the
// checksum.
func afterRoundTrip(s Segment) Segment {
	s = semantic(s)
	n := fittingSACK(&s.Options)
	s.Options.NumSACK = uint8(n)
	for i := n; i < MaxSACKBlocks; i++ {
		s.Options.SACK[i] = SACKBlock{}
	}
	return s
}

// randSegment returns a segment with random fields and a random subset of
// options.
func randSegment(r *rand.Rand) Segment {
	s := Segment{
		SrcPort: uint16(r.Uint32()),
		DstPort: uint16(r.Uint32()),
		Seq:     seq.Value(r.Uint32()),
		Ack:     seq.Value(r.Uint32()),
		Flags:   Flags(r.Uint32()),
		Window:  uint16(r.Uint32()),
		Urgent:  uint16(r.Uint32()),
	}
	o := &s.Options
	o.HasMSS = r.IntN(2) == 0
	if o.HasMSS {
		o.MSS = uint16(r.Uint32())
	}
	o.HasWScale = r.IntN(2) == 0
	if o.HasWScale {
		o.WScale = uint8(r.IntN(16))
	}
	o.SACKPermitted = r.IntN(2) == 0
	o.HasTimestamps = r.IntN(2) == 0
	if o.HasTimestamps {
		o.TSVal, o.TSEcr = r.Uint32(), r.Uint32()
	}
	o.NumSACK = uint8(r.IntN(MaxSACKBlocks + 1))
	for i := range int(o.NumSACK) {
		o.SACK[i] = SACKBlock{Left: seq.Value(r.Uint32()), Right: seq.Value(r.Uint32())}
	}
	if n := r.IntN(4); n > 0 {
		s.Payload = make([]byte, []int{0, 1, 37, 1460}[n])
		for i := range s.Payload {
			s.Payload[i] = byte(r.Uint32())
		}
	}
	return s
}

func randAddr4(r *rand.Rand) netip.Addr {
	var a [4]byte
	for i := range a {
		a[i] = byte(r.Uint32())
	}
	return netip.AddrFrom4(a)
}

func randPacket(r *rand.Rand) Packet {
	return Packet{
		IP: IPv4{
			TOS:          uint8(r.Uint32()),
			ID:           uint16(r.Uint32()),
			DontFragment: r.IntN(2) == 0,
			TTL:          uint8(1 + r.IntN(255)),
			Protocol:     ProtocolTCP,
			Src:          randAddr4(r),
			Dst:          randAddr4(r),
		},
		TCP: randSegment(r),
	}
}
