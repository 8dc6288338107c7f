//go:build linux

package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/wire"
)

// vnetHdrLen is the size of struct virtio_net_hdr (include/uapi/linux/
// virtio_net.h), the header an IFF_VNET_HDR device puts before every
// packet it reads and expects before every packet written, unless
// TUNSETVNETHDRSZ says otherwise (synack leaves it).
const vnetHdrLen = 10

// vnetHdr is struct virtio_net_hdr. Its 16-bit fields are little-endian:
// the TUN driver reads them in the host's order unless TUNSETVNETLE says
// little-endian, which Open asks for on every host.
type vnetHdr struct {
	Flags      uint8  // VIRTIO_NET_HDR_F_NEEDS_CSUM, _DATA_VALID
	GSOType    uint8  // VIRTIO_NET_HDR_GSO_NONE, _TCPV4, _TCPV6, ... | _ECN
	HdrLen     uint16 // length of the headers copied into each GSO segment
	GSOSize    uint16 // payload bytes per segment (the MSS)
	CsumStart  uint16 // where the checksum's sum starts
	CsumOffset uint16 // where, after CsumStart, the checksum is stored
}

// parseVnetHdr reads the header at the front of b and returns it with
// the packet that follows. It checks what a packet handed to synack must
// satisfy: a checksum to complete lies inside the packet, and a GSO type
// synack knows (TCP over IPv4 or IPv6, or none).
func parseVnetHdr(b []byte) (vnetHdr, []byte, error) {
	if len(b) < vnetHdrLen {
		return vnetHdr{}, nil, fmt.Errorf("virtio_net_hdr: %d bytes, want at least %d", len(b), vnetHdrLen)
	}
	h := decodeVnetHdr(b)
	pkt := b[vnetHdrLen:]
	if err := h.check(len(pkt)); err != nil {
		return vnetHdr{}, nil, err
	}
	return h, pkt, nil
}

// decodeVnetHdr reads the header in b[:vnetHdrLen] without checking it.
func decodeVnetHdr(b []byte) vnetHdr {
	return vnetHdr{
		Flags:      b[0],
		GSOType:    b[1],
		HdrLen:     binary.LittleEndian.Uint16(b[2:]),
		GSOSize:    binary.LittleEndian.Uint16(b[4:]),
		CsumStart:  binary.LittleEndian.Uint16(b[6:]),
		CsumOffset: binary.LittleEndian.Uint16(b[8:]),
	}
}

// check says what is wrong with h as the header of an n-byte packet.
func (h *vnetHdr) check(n int) error {
	if h.Flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0 {
		if end := int(h.CsumStart) + int(h.CsumOffset) + 2; end > n {
			return fmt.Errorf("virtio_net_hdr: checksum at %d+%d (bytes %d-%d) outside the %d-byte packet", h.CsumStart, h.CsumOffset, end-2, end-1, n)
		}
	}
	switch h.GSOType &^ unix.VIRTIO_NET_HDR_GSO_ECN {
	case unix.VIRTIO_NET_HDR_GSO_NONE:
	case unix.VIRTIO_NET_HDR_GSO_TCPV4, unix.VIRTIO_NET_HDR_GSO_TCPV6:
		if h.GSOSize == 0 {
			return fmt.Errorf("virtio_net_hdr: GSO type %d with gso_size 0", h.GSOType)
		}
	default:
		return fmt.Errorf("virtio_net_hdr: GSO type %d, want none (0), TCPv4 (1) or TCPv6 (4)", h.GSOType)
	}
	return nil
}

// put writes h into b[:vnetHdrLen].
func (h *vnetHdr) put(b []byte) {
	b[0] = h.Flags
	b[1] = h.GSOType
	binary.LittleEndian.PutUint16(b[2:], h.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], h.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], h.CsumOffset)
}

// completeChecksum fills in a checksum the kernel left partial
// (VIRTIO_NET_HDR_F_NEEDS_CSUM, Linux's CHECKSUM_PARTIAL): the field at
// CsumStart+CsumOffset holds the folded sum of the pseudo-header, and the
// Internet checksum of everything from CsumStart, that field included, is
// the value to store there (what Linux's skb_checksum_help does). h has passed
// check for pkt.
func (h *vnetHdr) completeChecksum(pkt []byte) {
	at := int(h.CsumStart) + int(h.CsumOffset)
	binary.BigEndian.PutUint16(pkt[at:], wire.Checksum(pkt[h.CsumStart:], 0))
}

// A queued packet, and what merging later packets into it needs.
type slot struct {
	buf []byte // the virtio_net_hdr's room (in vnet mode), then the packet

	// For a TCP/IPv4 data segment that later segments of the same burst
	// may be merged into (GSO, as Linux's GRO merges received ones): gso
	// is the first segment's payload length (0: not mergeable), segs how
	// many are merged, next the sequence number after them, and short
	// whether the last was shorter than gso (then nothing may follow).
	gso, segs, ihl, thl int
	next                uint32
	short               bool
}

// tcp4Segment reports whether pkt is a TCP/IPv4 data segment that may
// take part in GSO: no IP options and no fragment, flags ACK and maybe
// PSH only, a payload; and returns its header lengths and payload length.
func tcp4Segment(pkt []byte) (ihl, thl, n int, ok bool) {
	if len(pkt) < 40 || pkt[0] != 0x45 || pkt[9] != 6 || int(binary.BigEndian.Uint16(pkt[2:])) != len(pkt) ||
		binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
		return 0, 0, 0, false
	}
	thl = int(pkt[20+12]>>4) * 4
	flags := pkt[20+13]
	if thl < 20 || 20+thl >= len(pkt) || flags&^(tcpACK|tcpPSH) != 0 || flags&tcpACK == 0 || pkt[20+12]&0x0f != 0 {
		return 0, 0, 0, false
	}
	return 20, thl, len(pkt) - 20 - thl, true
}

const (
	tcpPSH = 0x08
	tcpACK = 0x10
)

// start makes s hold pkt (after room bytes for the virtio_net_hdr) and
// notes whether later segments may be merged into it.
func (s *slot) start(room int, pkt []byte, mergeable bool) {
	s.buf = append(append(s.buf[:0], make([]byte, room)...), pkt...)
	s.gso, s.segs = 0, 1
	if !mergeable {
		return
	}
	ihl, thl, n, ok := tcp4Segment(pkt)
	if !ok {
		return
	}
	s.gso, s.ihl, s.thl, s.short = n, ihl, thl, false
	s.next = binary.BigEndian.Uint32(pkt[ihl+4:]) + uint32(n)
}

// merge appends pkt's payload to s if pkt is the next segment of the same
// connection with the same headers but for the sequence number (and PSH
// on the last), as Linux's TCP GRO would have merged them
// (net/ipv4/tcp_offload.c), so that the kernel cuts them apart again.
func (s *slot) merge(room int, pkt []byte) bool {
	if s.gso == 0 || s.short {
		return false
	}
	p := s.buf[room:]
	ihl, thl, n, ok := tcp4Segment(pkt)
	if !ok || ihl != s.ihl || thl != s.thl || n > s.gso || len(p)+n > 65535 ||
		p[ihl+13]&tcpPSH != 0 ||
		binary.BigEndian.Uint32(pkt[ihl+4:]) != s.next ||
		string(p[1:2]) != string(pkt[1:2]) || // TOS
		string(p[6:10]) != string(pkt[6:10]) || // DF, TTL, protocol
		string(p[12:20]) != string(pkt[12:20]) || // addresses
		string(p[ihl:ihl+4]) != string(pkt[ihl:ihl+4]) || // ports
		string(p[ihl+8:ihl+12]) != string(pkt[ihl+8:ihl+12]) || // ACK
		string(p[ihl+14:ihl+16]) != string(pkt[ihl+14:ihl+16]) || // window
		string(p[ihl+18:ihl+thl]) != string(pkt[ihl+18:ihl+thl]) { // urgent pointer, options
		return false
	}
	s.buf = append(s.buf, pkt[ihl+thl:]...)
	p = s.buf[room:]
	p[ihl+13] |= pkt[ihl+13] & tcpPSH
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	s.segs++
	s.next += uint32(n)
	s.short = n < s.gso
	return true
}

// finish writes the virtio_net_hdr into s.buf[:vnetHdrLen]: none needed
// for one packet whose checksums are complete, and for merged segments a
// TCPv4 GSO request with gso_size the first segment's payload, the IPv4
// header checksum redone for the new length and the TCP checksum left
// partial (the pseudo-header's folded sum, VIRTIO_NET_HDR_F_NEEDS_CSUM),
// which the kernel completes for each segment it cuts. With csum (the
// stack left TCP checksums to the device: OffloadChecksums) a lone TCP
// packet, IPv4 or IPv6, is left partial the same way. It reports whether
// the TCP checksum is left partial.
func (s *slot) finish(csum bool) bool {
	h := vnetHdr{}
	if s.segs == 1 && csum {
		partialChecksum(s.buf[vnetHdrLen:], &h)
	}
	if s.segs > 1 {
		p := s.buf[vnetHdrLen:]
		p[10], p[11] = 0, 0
		binary.BigEndian.PutUint16(p[10:], wire.Checksum(p[:s.ihl], 0))
		tl := len(p) - s.ihl
		src := netip.AddrFrom4([4]byte(p[12:16]))
		dst := netip.AddrFrom4([4]byte(p[16:20]))
		binary.BigEndian.PutUint16(p[s.ihl+16:], ^wire.Checksum(nil, wire.PseudoHeaderSum(src, dst, wire.ProtocolTCP, tl)))
		h = vnetHdr{
			Flags:      unix.VIRTIO_NET_HDR_F_NEEDS_CSUM,
			GSOType:    unix.VIRTIO_NET_HDR_GSO_TCPV4,
			HdrLen:     uint16(s.ihl + s.thl),
			GSOSize:    uint16(s.gso),
			CsumStart:  uint16(s.ihl),
			CsumOffset: 16,
		}
	}
	h.put(s.buf)
	return h.Flags&unix.VIRTIO_NET_HDR_F_NEEDS_CSUM != 0
}

// partialChecksum leaves the TCP checksum of pkt, if it is a TCP packet
// (IPv4 without fragmentation, or IPv6 with TCP as its next header),
// partial: the field holds the pseudo-header's folded sum and h asks the
// kernel to complete it (NEEDS_CSUM, from the TCP header on). Any other
// packet is left as it is, its checksums complete.
func partialChecksum(pkt []byte, h *vnetHdr) {
	var start, tl int
	var src, dst netip.Addr
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4 && pkt[9] == wire.ProtocolTCP:
		start = int(pkt[0]&0x0f) * 4
		tl = int(binary.BigEndian.Uint16(pkt[2:]))
		if start < 20 || tl != len(pkt) || binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
			return
		}
		src, dst = netip.AddrFrom4([4]byte(pkt[12:16])), netip.AddrFrom4([4]byte(pkt[16:20]))
	case len(pkt) >= 40 && pkt[0]>>4 == 6 && pkt[6] == wire.ProtocolTCP:
		start = 40
		tl = 40 + int(binary.BigEndian.Uint16(pkt[4:]))
		if tl != len(pkt) {
			return
		}
		src, dst = netip.AddrFrom16([16]byte(pkt[8:24])), netip.AddrFrom16([16]byte(pkt[24:40]))
	default:
		return
	}
	if start+20 > len(pkt) {
		return
	}
	binary.BigEndian.PutUint16(pkt[start+16:], ^wire.Checksum(nil, wire.PseudoHeaderSum(src, dst, wire.ProtocolTCP, len(pkt)-start)))
	h.Flags = unix.VIRTIO_NET_HDR_F_NEEDS_CSUM
	h.CsumStart = uint16(start)
	h.CsumOffset = 16
}

// tcpChecksumOK reports whether pkt, if it is a TCP/IPv4 packet whose
// header lengths fit, has a good TCP checksum (RFC 9293 §3.1); any other
// packet is left to the stack's parser, which says what is wrong with it.
func tcpChecksumOK(pkt []byte) bool {
	if len(pkt) > 0 && pkt[0]>>4 == 6 {
		ip, payload, err := wire.ParseIPv6(pkt)
		if err != nil || ip.NextHeader != wire.ProtocolTCP {
			return true // the stack's parser says what is wrong
		}
		_, err = wire.ParseTCP(payload, ip.Src, ip.Dst)
		return !errors.Is(err, wire.ErrChecksum)
	}
	if len(pkt) < 20 || pkt[0]>>4 != 4 || pkt[9] != 6 {
		return true
	}
	ihl := int(pkt[0]&0x0f) * 4
	tl := int(binary.BigEndian.Uint16(pkt[2:]))
	if ihl < 20 || tl != len(pkt) || ihl+20 > tl || binary.BigEndian.Uint16(pkt[6:])&0x3fff != 0 {
		return true
	}
	src := netip.AddrFrom4([4]byte(pkt[12:16]))
	dst := netip.AddrFrom4([4]byte(pkt[16:20]))
	return wire.Checksum(pkt[ihl:], wire.PseudoHeaderSum(src, dst, wire.ProtocolTCP, tl-ihl)) == 0
}

// isTCP reports whether pkt is an IPv4 or IPv6 packet carrying TCP.
func isTCP(pkt []byte) bool {
	switch {
	case len(pkt) >= 20 && pkt[0]>>4 == 4:
		return pkt[9] == wire.ProtocolTCP
	case len(pkt) > 0 && pkt[0]>>4 == 6:
		ip, _, err := wire.ParseIPv6(pkt)
		return err == nil && ip.NextHeader == wire.ProtocolTCP
	}
	return false
}
