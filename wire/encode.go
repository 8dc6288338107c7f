package wire

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"strconv"
)

// defaultTTL is the TTL written when IPv4.TTL is zero: "A host MUST NOT
// send a datagram with a Time-to-Live (TTL) value of zero" (RFC 1122
// §3.2.1.7); 64 is what Linux and most hosts use.
const defaultTTL = 64

// layout returns the encoded length of the options and how many SACK
// blocks are encoded. Each option is padded to 4 bytes as Linux does, so
// the length is a multiple of 4 as the data offset requires (RFC 9293
// §3.1). SACK blocks that would take the options past 40 bytes are dropped
// from the end: with timestamps at most 3 fit (RFC 2018 §3).
func (o *Options) layout() (n, nsack int) {
	if o.HasMSS {
		n += 4
	}
	if o.HasTimestamps || o.SACKPermitted {
		n += 4
	}
	if o.HasTimestamps {
		n += 8
	}
	if o.HasWScale {
		n += 4
	}
	nsack = min(int(o.NumSACK), MaxSACKBlocks)
	for nsack > 0 && n+4+8*nsack > maxOptionLen {
		nsack--
	}
	if nsack > 0 {
		n += 4 + 8*nsack
	}
	return n, nsack
}

// Len returns the length of the options as Append writes them, a multiple
// of 4 and at most 40.
func (o *Options) Len() int {
	n, _ := o.layout()
	return n
}

// Append appends the options in the order and padding Linux uses, so that
// captures look familiar:
//
//	MSS
//	sackOK,TS     (both)  or  NOP,NOP,TS  or  NOP,NOP,sackOK
//	NOP,wscale
//	NOP,NOP,SACK
//
// Only the first NumSACK (at most 4) SACK blocks are written, and of those
// only as many as fit in 40 bytes of options; the rest are dropped from
// the end. Fields whose Has flag is false are not written. WScale is
// written as given, even above 14.
func (o *Options) Append(b []byte) []byte {
	_, nsack := o.layout()
	if o.HasMSS {
		b = append(b, optMSS, 4, byte(o.MSS>>8), byte(o.MSS))
	}
	if o.HasTimestamps {
		if o.SACKPermitted {
			b = append(b, optSACKPermitted, 2, optTimestamps, 10)
		} else {
			b = append(b, optNOP, optNOP, optTimestamps, 10)
		}
		b = binary.BigEndian.AppendUint32(b, o.TSVal)
		b = binary.BigEndian.AppendUint32(b, o.TSEcr)
	} else if o.SACKPermitted {
		b = append(b, optNOP, optNOP, optSACKPermitted, 2)
	}
	if o.HasWScale {
		b = append(b, optNOP, optWScale, 3, o.WScale)
	}
	if nsack > 0 {
		b = append(b, optNOP, optNOP, optSACK, byte(2+8*nsack))
		for _, blk := range o.SACK[:nsack] {
			b = binary.BigEndian.AppendUint32(b, uint32(blk.Left))
			b = binary.BigEndian.AppendUint32(b, uint32(blk.Right))
		}
	}
	return b
}

// HeaderLen returns the length of the TCP header with its options.
func (s *Segment) HeaderLen() int { return tcpHeaderLen + s.Options.Len() }

// Len returns the length of the encoded segment: header, options, payload.
func (s *Segment) Len() int { return s.HeaderLen() + len(s.Payload) }

// Append appends the segment to b, with the checksum computed over the
// pseudo-header of src and dst ("The sender MUST generate it (MUST-2)",
// RFC 9293 §3.1); s.Checksum is ignored. The reserved bits are zero
// ("Must be zero in generated segments", RFC 9293 §3.1). Options are laid
// out as Options.Append describes. b is grown at most once.
func (s *Segment) Append(b []byte, src, dst netip.Addr) []byte {
	return s.appendTCP(b, src, dst, true)
}

// AppendNoChecksum is Append with the checksum field left zero, for a link
// that cannot corrupt a packet and whose receiver does not verify it
// (link.ChecksumOffloader: two stacks joined in memory, as gVisor's
// checksum offload capabilities leave it). Nothing else on the wire may
// see such a segment: every TCP receiver MUST verify the checksum
// (RFC 9293 §3.1, MUST-3).
func (s *Segment) AppendNoChecksum(b []byte) []byte {
	return s.appendTCP(b, netip.Addr{}, netip.Addr{}, false)
}

func (s *Segment) appendTCP(b []byte, src, dst netip.Addr, sum bool) []byte {
	hl := s.HeaderLen()
	n := hl + len(s.Payload)
	b = slices.Grow(b, n)
	start := len(b)
	b = binary.BigEndian.AppendUint16(b, s.SrcPort)
	b = binary.BigEndian.AppendUint16(b, s.DstPort)
	b = binary.BigEndian.AppendUint32(b, uint32(s.Seq))
	b = binary.BigEndian.AppendUint32(b, uint32(s.Ack))
	b = append(b, byte(hl/4)<<4, byte(s.Flags))
	b = binary.BigEndian.AppendUint16(b, s.Window)
	b = append(b, 0, 0)
	b = binary.BigEndian.AppendUint16(b, s.Urgent)
	b = s.Options.Append(b)
	b = append(b, s.Payload...)
	if sum {
		ck := Checksum(b[start:], PseudoHeaderSum(src, dst, ProtocolTCP, n))
		binary.BigEndian.PutUint16(b[start+16:], ck)
	}
	return b
}

// Append appends a 20-byte IPv4 header (IHL 5, no options) for a payload of
// payloadLen bytes: Total Length is 20+payloadLen, MF and the fragment
// offset are zero, TTL is 64 if ip.TTL is zero, and the header checksum is
// computed (RFC 791 §3.1). Src and Dst must be IPv4 or IPv4-mapped
// addresses; an invalid (zero) Addr is written as 0.0.0.0.
//
// Append panics if payloadLen is negative or 20+payloadLen exceeds 65535,
// the largest Total Length, or if an address is IPv6: those are bugs in
// the caller, not conditions of the network.
func (ip *IPv4) Append(b []byte, payloadLen int) []byte {
	total := ipv4HeaderLen + payloadLen
	if payloadLen < 0 || total > 0xffff {
		panic("wire: IPv4 payload of " + strconv.Itoa(payloadLen) + " bytes does not fit in Total Length")
	}
	ttl := ip.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	var flags byte
	if ip.DontFragment {
		flags = 0x40
	}
	src, dst := addr4(ip.Src), addr4(ip.Dst)
	b = slices.Grow(b, ipv4HeaderLen)
	start := len(b)
	b = append(b,
		0x45, ip.TOS, byte(total>>8), byte(total),
		byte(ip.ID>>8), byte(ip.ID), flags, 0,
		ttl, ip.Protocol, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	binary.BigEndian.PutUint16(b[start+10:], Checksum(b[start:start+ipv4HeaderLen], 0))
	return b
}

func addr4(a netip.Addr) [4]byte {
	if !a.IsValid() {
		return [4]byte{}
	}
	if !a.Is4() && !a.Is4In6() {
		panic("wire: IPv4 header with IPv6 address " + a.String())
	}
	return a.As4()
}

// Len returns the length of the encoded packet.
func (p *Packet) Len() int { return ipv4HeaderLen + p.TCP.Len() }

// Append appends the IPv4 header and the TCP segment, with protocol 6
// whatever p.IP.Protocol says; p is not modified. The TCP checksum covers
// the IPv4 pseudo-header of p.IP's addresses (IPv4-mapped addresses are
// unmapped). It panics as IPv4.Append does.
func (p *Packet) Append(b []byte) []byte {
	return p.appendPacket(b, true)
}

// AppendNoChecksum is Append with the TCP checksum field left zero (see
// Segment.AppendNoChecksum); the IPv4 header checksum is computed.
func (p *Packet) AppendNoChecksum(b []byte) []byte {
	return p.appendPacket(b, false)
}

func (p *Packet) appendPacket(b []byte, sum bool) []byte {
	n := p.TCP.Len()
	b = slices.Grow(b, ipv4HeaderLen+n)
	ip := p.IP
	ip.Protocol = ProtocolTCP
	b = ip.Append(b, n)
	return p.TCP.appendTCP(b, p.IP.Src.Unmap(), p.IP.Dst.Unmap(), sum)
}
