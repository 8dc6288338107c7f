package wire

import (
	"encoding/binary"
	"errors"
	"slices"
	"strconv"
)

// Fragment is one fragment of an IPv4 datagram (RFC 791 §3.2) or of an
// IPv6 packet (RFC 8200 §4.5), as ParseFragment returns it for a
// reassembler.
type Fragment struct {
	// IP is the header. For IPv4 it is the fragment's own (DontFragment
	// as sent); for IPv6 the fixed header with NextHeader set to the
	// Fragment header's Next Header, the first header of the fragmentable
	// part.
	IP IP
	// ID is the IPv4 Identification (16 bits) or the IPv6 Fragment
	// header's Identification (32 bits).
	ID uint32
	// Offset is the fragment's offset in bytes (the field times 8), and
	// More its MF (IPv4) or M (IPv6) flag.
	Offset int
	More   bool
	// Data is the fragment's part of the datagram: the IPv4 payload, or
	// what follows the IPv6 Fragment header. It aliases the packet.
	Data []byte
	// DataOff is the offset of Data in the packet: the IPv4 header length,
	// or the end of the IPv6 Fragment header. For IPv6 the Fragment header
	// is at DataOff-8, so its Fragment Offset field is at DataOff-6 (the
	// Pointer of an ICMPv6 Parameter Problem about it, RFC 8200 §4.5); the
	// unfragmentable part is the DataOff-48 bytes of extension headers
	// before it.
	DataOff int
}

// Fragment header size (RFC 8200 §4.5) and the largest IPv4 datagram and
// IPv6 payload (Total Length and Payload Length are 16 bits).
const (
	FragmentHeaderLen = 8
	MaxIPv4Datagram   = 0xffff
	MaxIPv6Payload    = 0xffff
)

// ParseFragment parses an IPv4 or IPv6 packet that ParseIP rejected with
// an error wrapping ErrFragment: the header is checked as ParseIPv4 or
// ParseIPv6 checks it (lengths, the IPv4 header checksum, the IPv6
// extension headers before the Fragment header), and the fragment's
// fields are returned. A packet that is not a fragment (an IPv4 packet
// with MF and offset zero, an IPv6 packet without a Fragment header or
// with an atomic one) is returned with Offset 0 and More false; any other
// fault is ParseIPv4's or ParseIPv6's error.
//
// It checks as ParseIPv4 and ParseIPv6 do, without the fragment check and
// the error it would build, so a fragment costs no allocation here.
func ParseFragment(b []byte) (Fragment, error) {
	if len(b) > 0 && b[0]>>4 == 6 {
		return parseFragment6(b)
	}
	ip, payload, err := parseIPv4(b, true)
	if err != nil {
		return Fragment{}, err
	}
	ff := binary.BigEndian.Uint16(b[6:])
	return Fragment{IP: IP{Version: 4, V4: ip}, ID: uint32(ip.ID), Offset: int(ff&0x1fff) * 8, More: ff&0x2000 != 0,
		Data: payload, DataOff: len(b) - len(payload)}, nil
}

func parseFragment6(b []byte) (Fragment, error) {
	ip, payload, err := parseIPv6(b, walkFragment)
	if err == nil {
		return Fragment{IP: IP{Version: 6, V6: ip}, Data: payload, DataOff: len(b) - len(payload)}, nil
	}
	if err != errFragmentHere {
		return Fragment{}, err
	}
	// payload starts at the Fragment header, whose Next Header ip has.
	fh := len(b) - len(payload)
	fo := binary.BigEndian.Uint16(b[fh+2:])
	f := Fragment{IP: IP{Version: 6, V6: ip}, ID: binary.BigEndian.Uint32(b[fh+4:]), Offset: int(fo>>3) * 8, More: fo&1 != 0, DataOff: fh + FragmentHeaderLen}
	if f.DataOff < len(b) {
		f.Data = b[f.DataOff:len(b):len(b)]
	}
	return f, nil
}

// UpperHeaderLen is the least an upper-layer header of protocol p takes
// (TCP 20, UDP 8, ICMP and ICMPv6 8), what a first fragment must hold of
// it, as Linux's ipv6_frag_thdr_truncated asks; 0 for other protocols.
func UpperHeaderLen(p uint8) int {
	switch p {
	case ProtocolTCP:
		return tcpHeaderLen
	case ProtocolUDP:
		return udpHeaderLen
	case ProtocolICMP, ProtocolICMPv6:
		return 8
	}
	return 0
}

// HeaderChainIn checks the first fragment's data d of an IPv6 packet,
// whose first header is of type nh: RFC 8200 §4.5 says "If the first
// fragment does not include all headers through an Upper-Layer header,
// then that fragment should be discarded" (RFC 7112 §5). It walks the
// Hop-by-Hop, Routing and Destination Options headers in d and returns
// nil if the upper-layer header they lead to is in d, at least
// UpperHeaderLen bytes of it, else an error saying what is missing.
func HeaderChainIn(nh uint8, d []byte) error {
	off := 0
	for n := 0; n < maxExtHeaders; n++ {
		switch nh {
		case nhHopByHop, nhRouting, nhDestOpts:
		case nhFragment:
			return errors.New("a second Fragment header in the first fragment")
		default:
			if need := UpperHeaderLen(nh); len(d)-off < need {
				return errors.New("first fragment holds " + strconv.Itoa(len(d)-off) + " bytes of the " + protocolName(nh) +
					" header, need " + strconv.Itoa(need))
			}
			return nil
		}
		if len(d)-off < 8 {
			return errors.New("first fragment ends in the " + extHeaderName(nh) + " header")
		}
		hl := (int(d[off+1]) + 1) * 8
		if off+hl > len(d) {
			return errors.New("first fragment ends in the " + extHeaderName(nh) + " header")
		}
		nh = d[off]
		off += hl
	}
	return errors.New("first fragment has more than " + strconv.Itoa(maxExtHeaders) + " extension headers")
}

// AppendFragment appends a 20-byte IPv4 header for a fragment of
// payloadLen bytes at offset bytes into the datagram (a multiple of 8),
// with MF set if more: Append with the flags and offset of RFC 791 §3.1.
// It panics as Append does, and if offset is not a multiple of 8 or
// exceeds the 13-bit field.
func (ip *IPv4) AppendFragment(b []byte, payloadLen, offset int, more bool) []byte {
	if offset%8 != 0 || offset < 0 || offset/8 > 0x1fff {
		panic("wire: IPv4 fragment offset " + strconv.Itoa(offset) + " is not a multiple of 8 in 0..65528")
	}
	start := len(b)
	b = ip.Append(b, payloadLen)
	ff := uint16(offset / 8)
	if more {
		ff |= 0x2000
	}
	if ip.DontFragment {
		ff |= 0x4000
	}
	binary.BigEndian.PutUint16(b[start+6:], ff)
	binary.BigEndian.PutUint16(b[start+10:], 0)
	binary.BigEndian.PutUint16(b[start+10:], Checksum(b[start:start+ipv4HeaderLen], 0))
	return b
}

// AppendFragment appends a 40-byte IPv6 header and an 8-byte Fragment
// header (RFC 8200 §4.5) for a fragment of payloadLen bytes at offset
// bytes (a multiple of 8) into the fragmentable part: ip.NextHeader goes
// in the Fragment header's Next Header, 44 in the fixed header's; id is
// the Identification, and M is set if more. It panics as Append does, and
// if offset is not a multiple of 8 or exceeds the 13-bit field.
func (ip *IPv6) AppendFragment(b []byte, payloadLen, offset int, more bool, id uint32) []byte {
	if offset%8 != 0 || offset < 0 || offset/8 > 0x1fff {
		panic("wire: IPv6 fragment offset " + strconv.Itoa(offset) + " is not a multiple of 8 in 0..65528")
	}
	h := *ip
	h.NextHeader = nhFragment
	b = h.Append(b, FragmentHeaderLen+payloadLen)
	fo := uint16(offset)
	if more {
		fo |= 1
	}
	b = slices.Grow(b, FragmentHeaderLen)
	return append(b, ip.NextHeader, 0, byte(fo>>8), byte(fo), byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}
