package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

var (
	fragSrc4 = netip.MustParseAddr("198.18.0.2")
	fragDst4 = netip.MustParseAddr("198.18.0.1")
	fragSrc6 = netip.MustParseAddr("2001:2::2")
	fragDst6 = netip.MustParseAddr("2001:2::1")
)

// RFC 791 §3.1: "Flags: 3 bits ... Bit 2: (MF) 0 = Last Fragment, 1 = More
// Fragments" and "Fragment Offset: 13 bits ... The fragment offset is
// measured in units of 8 octets (64 bits)". AppendFragment writes them,
// gopacket reads them back, and ParseFragment returns what was written.
func TestIPv4AppendFragment(t *testing.T) {
	for _, tc := range []struct {
		off  int
		more bool
		df   bool
	}{{0, true, false}, {1480, true, false}, {65528, false, false}, {8, false, true}} {
		ip := IPv4{ID: 0xbeef, TTL: 9, Protocol: ProtocolUDP, Src: fragSrc4, Dst: fragDst4, DontFragment: tc.df}
		data := []byte("0123456789abcdef")
		b := append(ip.AppendFragment(nil, len(data), tc.off, tc.more), data...)
		g := &layers.IPv4{}
		if err := g.DecodeFromBytes(b, gopacket.NilDecodeFeedback); err != nil {
			t.Fatal(err)
		}
		if int(g.FragOffset)*8 != tc.off || (g.Flags&layers.IPv4MoreFragments != 0) != tc.more || (g.Flags&layers.IPv4DontFragment != 0) != tc.df || g.Id != 0xbeef {
			t.Errorf("gopacket reads offset %d flags %v id %#x, want %d more %v df %v", int(g.FragOffset)*8, g.Flags, g.Id, tc.off, tc.more, tc.df)
		}
		if Checksum(b[:20], 0) != 0 {
			t.Errorf("header checksum does not verify")
		}
		_, _, err := ParseIP(b)
		if !errors.Is(err, ErrFragment) {
			t.Fatalf("ParseIP of a fragment: %v, want ErrFragment", err)
		}
		f, err := ParseFragment(b)
		if err != nil {
			t.Fatal(err)
		}
		if f.Offset != tc.off || f.More != tc.more || f.ID != 0xbeef || f.DataOff != 20 || !bytes.Equal(f.Data, data) ||
			f.IP.V4.Protocol != ProtocolUDP || f.IP.V4.TTL != 9 || f.IP.V4.DontFragment != tc.df || f.IP.Src() != fragSrc4 || f.IP.Dst() != fragDst4 {
			t.Errorf("ParseFragment: %+v", f)
		}
	}
}

// RFC 8200 §4.5's Fragment header: "Next Header 8-bit selector ...
// Fragment Offset 13-bit unsigned integer. The offset, in 8-octet units,
// of the data following this header ... M flag 1 = more fragments; 0 =
// last fragment. Identification 32 bits." AppendFragment writes it after
// the fixed header, gopacket decodes it, and ParseFragment finds it after
// a Hop-by-Hop Options header too.
func TestIPv6AppendFragment(t *testing.T) {
	ip := IPv6{HopLimit: 7, NextHeader: ProtocolUDP, Src: fragSrc6, Dst: fragDst6, FlowLabel: 0x12345}
	data := []byte("0123456789abcdef")
	b := append(ip.AppendFragment(nil, len(data), 1448, true, 0xcafef00d), data...)
	p := gopacket.NewPacket(b, layers.LayerTypeIPv6, gopacket.Default)
	g, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	fh, _ := p.Layer(layers.LayerTypeIPv6Fragment).(*layers.IPv6Fragment)
	if g == nil || fh == nil {
		t.Fatalf("gopacket: %v", p.ErrorLayer())
	}
	if g.NextHeader != layers.IPProtocolIPv6Fragment || int(g.Length) != 8+len(data) || fh.NextHeader != layers.IPProtocolUDP ||
		int(fh.FragmentOffset)*8 != 1448 || !fh.MoreFragments || fh.Identification != 0xcafef00d || !bytes.Equal(fh.Payload, data) {
		t.Errorf("gopacket reads %+v and %+v", g, fh)
	}
	f, err := ParseFragment(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Offset != 1448 || !f.More || f.ID != 0xcafef00d || f.DataOff != 48 || !bytes.Equal(f.Data, data) ||
		f.IP.V6.NextHeader != ProtocolUDP || f.IP.V6.FlowLabel != 0x12345 || f.IP.V6.HopLimit != 7 {
		t.Errorf("ParseFragment: %+v", f)
	}

	// The same behind a Hop-by-Hop Options header (8 bytes of PadN).
	h := IPv6{HopLimit: 7, NextHeader: nhHopByHop, Src: fragSrc6, Dst: fragDst6}
	fragHdr := []byte{ProtocolUDP, 0, 0, 0, 0, 0, 0, 1} // offset 0, M 0: atomic
	b2 := h.Append(nil, 8+8+len(data))
	b2 = append(b2, nhFragment, 0, 1, 4, 0, 0, 0, 0)
	b2 = append(append(b2, fragHdr...), data...)
	if ip, payload, err := ParseIP(b2); err != nil || ip.Protocol() != ProtocolUDP || !bytes.Equal(payload, data) {
		t.Errorf("an atomic fragment: %v %v, want parsed as whole (RFC 6946)", ip.String(), err)
	}
	b2[40+8+3] = 1 // M set
	f, err = ParseFragment(b2)
	if err != nil || f.DataOff != 56 || !f.More || f.ID != 1 || f.IP.V6.NextHeader != ProtocolUDP {
		t.Errorf("ParseFragment behind hop-by-hop: %+v, %v", f, err)
	}
}

// ParseFragment passes on every other fault with ParseIPv4's or
// ParseIPv6's error, and returns a packet that is not a fragment as one
// with offset 0 and no more.
func TestParseFragmentErrors(t *testing.T) {
	ip := IPv4{ID: 1, Protocol: ProtocolUDP, Src: fragSrc4, Dst: fragDst4}
	b := append(ip.AppendFragment(nil, 8, 8, true), make([]byte, 8)...)
	b[10] ^= 1
	if _, err := ParseFragment(b); !errors.Is(err, ErrChecksum) {
		t.Errorf("bad header checksum: %v, want ErrChecksum", err)
	}
	if _, err := ParseFragment(b[:10]); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: %v, want ErrTruncated", err)
	}
	if _, err := ParseFragment(nil); err == nil {
		t.Error("empty packet parsed")
	}
	whole := append(ip.Append(nil, 8), make([]byte, 8)...)
	if f, err := ParseFragment(whole); err != nil || f.Offset != 0 || f.More || len(f.Data) != 8 {
		t.Errorf("an unfragmented packet: %+v, %v", f, err)
	}
	h6 := IPv6{NextHeader: 51, Src: fragSrc6, Dst: fragDst6}
	if _, err := ParseFragment(append(h6.Append(nil, 8), make([]byte, 8)...)); err == nil || errors.Is(err, ErrFragment) {
		t.Errorf("an IPv6 authentication header: %v, want its own error", err)
	}
}

// RFC 8200 §4.5: "If the first fragment does not include all headers
// through an Upper-Layer header, then that fragment should be discarded".
func TestHeaderChainIn(t *testing.T) {
	dest := []byte{ProtocolTCP, 0, 1, 4, 0, 0, 0, 0}
	for _, tc := range []struct {
		nh   uint8
		d    []byte
		want string
	}{
		{ProtocolUDP, make([]byte, 8), ""},
		{ProtocolUDP, make([]byte, 7), "first fragment holds 7 bytes of the UDP header, need 8"},
		{ProtocolTCP, make([]byte, 16), "first fragment holds 16 bytes of the TCP header, need 20"},
		{nhDestOpts, append(append([]byte(nil), dest...), make([]byte, 20)...), ""},
		{nhDestOpts, append(append([]byte(nil), dest...), make([]byte, 12)...), "first fragment holds 12 bytes of the TCP header, need 20"},
		{nhDestOpts, dest[:6], "first fragment ends in the destination options header"},
		{nhRouting, []byte{ProtocolUDP, 1, 0, 0, 0, 0, 0, 0}, "first fragment ends in the routing header"},
		{nhFragment, make([]byte, 16), "a second Fragment header in the first fragment"},
		{132, nil, ""}, // SCTP: no header length known
	} {
		err := HeaderChainIn(tc.nh, tc.d)
		if got := ""; err != nil {
			got = err.Error()
			if got != tc.want {
				t.Errorf("HeaderChainIn(%d, %d bytes): %q, want %q", tc.nh, len(tc.d), got, tc.want)
			}
		} else if tc.want != "" {
			t.Errorf("HeaderChainIn(%d, %d bytes): nil, want %q", tc.nh, len(tc.d), tc.want)
		}
	}
	loop := bytes.Repeat([]byte{nhDestOpts, 0, 1, 4, 0, 0, 0, 0}, 9)
	if err := HeaderChainIn(nhDestOpts, loop); err == nil || !strings.Contains(err.Error(), "more than 8") {
		t.Errorf("nine headers: %v", err)
	}
}

// Bugs of the caller panic: an offset that is not a multiple of 8.
func TestAppendFragmentPanics(t *testing.T) {
	for _, f := range []func(){
		func() { (&IPv4{}).AppendFragment(nil, 8, 12, true) },
		func() { (&IPv6{Src: fragSrc6, Dst: fragDst6}).AppendFragment(nil, 8, 65536, true, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}
