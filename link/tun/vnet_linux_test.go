//go:build linux

package tun

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// The header's bytes, as include/uapi/linux/virtio_net.h lays out struct
// virtio_net_hdr (little-endian, TUNSETVNETLE): flags, gso_type, hdr_len,
// gso_size, csum_start, csum_offset.
func TestVnetHdrGolden(t *testing.T) {
	h := vnetHdr{Flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, GSOType: unix.VIRTIO_NET_HDR_GSO_TCPV4, HdrLen: 52, GSOSize: 1448, CsumStart: 20, CsumOffset: 16}
	want := []byte{0x01, 0x01, 52, 0, 0xa8, 0x05, 20, 0, 16, 0}
	b := make([]byte, vnetHdrLen)
	h.put(b)
	if !bytes.Equal(b, want) {
		t.Fatalf("put: % x, want % x", b, want)
	}
	pkt := make([]byte, 100)
	got, p, err := parseVnetHdr(append(b, pkt...))
	if err != nil || got != h || len(p) != len(pkt) {
		t.Fatalf("parse: %+v, %d bytes, %v; want %+v, 100 bytes", got, len(p), err, h)
	}
}

// Every header that does not fit its packet is an error saying what is
// wrong, and every prefix shorter than the header is one too.
func TestVnetHdrErrors(t *testing.T) {
	for _, tc := range []struct {
		h    vnetHdr
		n    int
		want string
	}{
		{vnetHdr{Flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, CsumStart: 20, CsumOffset: 16}, 37, "checksum at 20+16 (bytes 36-37) outside the 37-byte packet"},
		{vnetHdr{GSOType: unix.VIRTIO_NET_HDR_GSO_TCPV4}, 100, "GSO type 1 with gso_size 0"},
		{vnetHdr{GSOType: unix.VIRTIO_NET_HDR_GSO_UDP, GSOSize: 100}, 100, "GSO type 3, want none (0), TCPv4 (1) or TCPv6 (4)"},
	} {
		b := make([]byte, vnetHdrLen+tc.n)
		tc.h.put(b)
		if _, _, err := parseVnetHdr(b); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v on %d bytes: %v, want %q", tc.h, tc.n, err, tc.want)
		}
	}
	for n := range vnetHdrLen {
		if _, _, err := parseVnetHdr(make([]byte, n)); err == nil || !strings.Contains(err.Error(), "want at least 10") {
			t.Errorf("%d bytes: %v", n, err)
		}
	}
	// ECN on a TCP GSO type is allowed.
	b := make([]byte, vnetHdrLen+60)
	(&vnetHdr{GSOType: unix.VIRTIO_NET_HDR_GSO_TCPV6 | unix.VIRTIO_NET_HDR_GSO_ECN, GSOSize: 1}).put(b)
	if _, _, err := parseVnetHdr(b); err != nil {
		t.Errorf("TCPv6|ECN: %v", err)
	}
}

var (
	srcA = netip.MustParseAddr("198.18.0.2")
	dstA = netip.MustParseAddr("198.18.0.1")
)

// segment builds a TCP/IPv4 packet with a complete checksum.
func segment(sq uint32, flags wire.Flags, payload []byte) []byte {
	p := wire.Packet{
		IP: wire.IPv4{ID: 7, DontFragment: true, TTL: 64, Protocol: wire.ProtocolTCP, Src: srcA, Dst: dstA},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(sq), Ack: 99, Flags: flags, Window: 500,
			Options: wire.Options{HasTimestamps: true, TSVal: 1, TSEcr: 2}, Payload: payload},
	}
	return p.Append(nil)
}

// A partial checksum (the pseudo-header's folded sum, as Linux leaves it
// for CHECKSUM_PARTIAL) completed gives the packet wire.ParsePacket
// verifies.
func TestCompleteChecksum(t *testing.T) {
	pkt := segment(1000, wire.ACK, []byte("hello, world"))
	tl := len(pkt) - 20
	binary.BigEndian.PutUint16(pkt[36:], ^wire.Checksum(nil, wire.PseudoHeaderSum(srcA, dstA, wire.ProtocolTCP, tl)))
	if _, err := wire.ParsePacket(pkt); err == nil {
		t.Fatal("a partial checksum verified")
	}
	h := vnetHdr{Flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, CsumStart: 20, CsumOffset: 16}
	if tcpChecksumOK(pkt) {
		t.Fatal("tcpChecksumOK took a partial checksum")
	}
	h.completeChecksum(pkt)
	if _, err := wire.ParsePacket(pkt); err != nil {
		t.Fatal(err)
	}
	if !tcpChecksumOK(pkt) {
		t.Fatal("tcpChecksumOK refused a good checksum")
	}
	// What is not TCP is left to the stack's parser.
	if !tcpChecksumOK(pkt[:10]) || !tcpChecksumOK(append([]byte{0x60}, pkt[1:]...)) {
		t.Fatal("tcpChecksumOK refused what is not TCP")
	}
}

// TCP over IPv6 is verified too: the stack trusts the device for both
// families, and a partial checksum of another protocol is completed.
func TestChecksumIPv6(t *testing.T) {
	src, dst := netip.MustParseAddr("2001:2::2"), netip.MustParseAddr("2001:2::1")
	s := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 1, Ack: 2, Flags: wire.ACK, Window: 500, Payload: []byte("hello")}
	h6 := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: src, Dst: dst}
	pkt := s.Append(h6.Append(nil, s.Len()), src, dst)
	if !isTCP(pkt) || !tcpChecksumOK(pkt) {
		t.Fatal("a good TCP/IPv6 packet: not TCP, or its checksum refused")
	}
	pkt[len(pkt)-1] ^= 1
	if tcpChecksumOK(pkt) {
		t.Fatal("a corrupted TCP/IPv6 packet passed")
	}
	m := wire.ICMPv6{Type: wire.ICMPv6EchoRequest, ID: 1, Seq: 1}
	h6.NextHeader = wire.ProtocolICMPv6
	if isTCP(m.Append(h6.Append(nil, m.Len()), src, dst)) {
		t.Fatal("ICMPv6 taken for TCP")
	}
}

// Consecutive segments of one connection merge into one GSO packet whose
// header asks the kernel to cut them at the first one's size; its IPv4
// header and partial checksum are what the kernel expects, and a segment
// that is not the next one, is longer, or follows a short one or a PSH
// does not merge.
func TestMerge(t *testing.T) {
	pay := bytes.Repeat([]byte{'x'}, 100)
	var s slot
	s.start(vnetHdrLen, segment(1000, wire.ACK, pay), true)
	if !s.merge(vnetHdrLen, segment(1100, wire.ACK, pay)) {
		t.Fatal("the next segment did not merge")
	}
	for _, tc := range []struct {
		name string
		pkt  []byte
	}{
		{"a gap", segment(1300, wire.ACK, pay)},
		{"a longer segment", segment(1200, wire.ACK, append(pay, 'y'))},
		{"a FIN", segment(1200, wire.ACK|wire.FIN, pay)},
		{"a bare ACK", segment(1200, wire.ACK, nil)},
	} {
		if s.merge(vnetHdrLen, tc.pkt) {
			t.Errorf("%s merged", tc.name)
		}
	}
	if !s.merge(vnetHdrLen, segment(1200, wire.ACK|wire.PSH, pay[:50])) {
		t.Fatal("a short last segment with PSH did not merge")
	}
	if s.merge(vnetHdrLen, segment(1250, wire.ACK, pay[:50])) {
		t.Error("a segment after a short one merged")
	}
	s.finish(false)
	h, pkt, err := parseVnetHdr(s.buf)
	if err != nil {
		t.Fatal(err)
	}
	want := vnetHdr{Flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, GSOType: unix.VIRTIO_NET_HDR_GSO_TCPV4, HdrLen: 20 + 32, GSOSize: 100, CsumStart: 20, CsumOffset: 16}
	if h != want || s.segs != 3 {
		t.Fatalf("header %+v, %d segments; want %+v, 3", h, s.segs, want)
	}
	// Completing the partial checksum as the kernel does gives a valid
	// 250-byte segment with PSH.
	h.completeChecksum(pkt)
	p, err := wire.ParsePacket(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.TCP.Payload) != 250 || p.TCP.Seq != 1000 || p.TCP.Flags != wire.ACK|wire.PSH {
		t.Errorf("merged: %v", p.TCP.String())
	}
	// After a PSH nothing merges; a packet that is not mergeable starts
	// a slot nothing merges into.
	s.start(vnetHdrLen, segment(1000, wire.ACK|wire.PSH, pay), true)
	if s.merge(vnetHdrLen, segment(1100, wire.ACK, pay)) {
		t.Error("a segment after a PSH merged")
	}
	s.start(vnetHdrLen, segment(1000, wire.ACK, pay), false)
	if s.merge(vnetHdrLen, segment(1100, wire.ACK, pay)) {
		t.Error("a segment merged into an unmergeable slot")
	}
	s.finish(false)
	if h, pkt, _ := parseVnetHdr(s.buf); h != (vnetHdr{}) || !bytes.Equal(pkt, segment(1000, wire.ACK, pay)) {
		t.Errorf("a single packet: header %+v, packet changed", h)
	}
}

// With the checksums offloaded (OffloadChecksums), a lone TCP packet,
// IPv4 or IPv6, goes out with its checksum partial whatever the stack left
// in the field (zero, or a complete one): completing it as the kernel does
// gives the right checksum. A packet that is not TCP is left as it is.
func TestPartialChecksum(t *testing.T) {
	pay := []byte("hello, world")
	src6, dst6 := netip.MustParseAddr("2001:2::2"), netip.MustParseAddr("2001:2::1")
	seg := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 1, Ack: 2, Flags: wire.ACK | wire.PSH, Window: 500, Payload: pay}
	h6 := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: src6, Dst: dst6}
	v4 := segment(1000, wire.ACK|wire.PSH, pay)
	v4zero := bytes.Clone(v4)
	v4zero[36], v4zero[37] = 0, 0
	v6 := seg.Append(h6.Append(nil, seg.Len()), src6, dst6)
	v6zero := bytes.Clone(v6)
	v6zero[40+16], v6zero[40+17] = 0, 0
	for _, tc := range []struct {
		name      string
		pkt, want []byte
		start     uint16
	}{
		{"IPv4, field zero", v4zero, v4, 20},
		{"IPv4, field complete", v4, v4, 20},
		{"IPv6, field zero", v6zero, v6, 40},
	} {
		var s slot
		s.start(vnetHdrLen, tc.pkt, true)
		s.finish(true)
		h, pkt, err := parseVnetHdr(s.buf)
		if err != nil {
			t.Fatal(err)
		}
		want := vnetHdr{Flags: unix.VIRTIO_NET_HDR_F_NEEDS_CSUM, CsumStart: tc.start, CsumOffset: 16}
		if h != want {
			t.Errorf("%s: header %+v, want %+v", tc.name, h, want)
			continue
		}
		if tcpChecksumOK(pkt) {
			t.Errorf("%s: the checksum is complete, want partial", tc.name)
		}
		h.completeChecksum(pkt)
		if !bytes.Equal(pkt, tc.want) {
			t.Errorf("%s: completed\n%x\nwant\n%x", tc.name, pkt, tc.want)
		}
	}
	m := wire.ICMPv6{Type: wire.ICMPv6EchoRequest, ID: 1, Seq: 1}
	h6.NextHeader = wire.ProtocolICMPv6
	icmp := m.Append(h6.Append(nil, m.Len()), src6, dst6)
	var s slot
	s.start(vnetHdrLen, icmp, true)
	s.finish(true)
	if h, pkt, _ := parseVnetHdr(s.buf); h != (vnetHdr{}) || !bytes.Equal(pkt, icmp) {
		t.Errorf("ICMPv6: header %+v, packet changed", h)
	}
}

// Parsing any bytes never panics, and what parses fits its packet.
func FuzzVnetHdr(f *testing.F) {
	b := make([]byte, vnetHdrLen+60)
	(&vnetHdr{Flags: 1, GSOType: 1, HdrLen: 52, GSOSize: 8, CsumStart: 20, CsumOffset: 16}).put(b)
	f.Add(b)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, pkt, err := parseVnetHdr(b)
		if err != nil {
			return
		}
		if h.Flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
			h.completeChecksum(pkt)
		}
		var s slot
		s.start(vnetHdrLen, pkt, true)
		s.merge(vnetHdrLen, pkt)
		s.finish(true)
	})
}
