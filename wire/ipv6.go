package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// IPv6 is the fixed IPv6 header (RFC 8200 §3). Extension headers are walked
// by ParseIPv6 and not kept (synack sends none), as IPv4 options are
// skipped by ParseIPv4. There is no Payload Length field: ParseIPv6 checks
// it against the packet, and Append writes the length it is given.
type IPv6 struct {
	TrafficClass uint8
	FlowLabel    uint32 // 20 bits (RFC 8200 §6)
	HopLimit     uint8

	// NextHeader is the upper-layer protocol, the value the pseudo-header
	// of RFC 8200 §8.1 carries: ParseIPv6 sets it from the last header of
	// the chain ("the first one that is not an extension header", RFC
	// 8200 §4), and Append writes it in the fixed header, since it writes
	// no extension header.
	NextHeader uint8

	Src, Dst netip.Addr
}

// Sizes and Next Header values of the IPv6 header and the extension
// headers ParseIPv6 walks (RFC 8200 §3, §4.3 to §4.6).
const (
	ipv6HeaderLen = 40

	nhHopByHop = 0
	nhRouting  = 43
	nhFragment = 44
	nhDestOpts = 60

	// maxExtHeaders bounds the extension headers ParseIPv6 walks. RFC 8200
	// §4.1 recommends each header at most once, Destination Options at
	// most twice, so a packet in the recommended order has at most seven
	// (with Authentication and ESP); past eight, the chain is an attack
	// or a bug, not a packet worth walking.
	maxExtHeaders = 8
)

// defaultHopLimit is the Hop Limit written when IPv6.HopLimit is zero, the
// same 64 as defaultTTL (Linux's net.ipv6.conf.all.hop_limit).
const defaultHopLimit = 64

// ParseIPv6 parses an IPv6 packet (RFC 8200 §3): the fixed header, then the
// extension headers up to the upper-layer header, whose protocol it
// returns in NextHeader with its bytes as the payload. The payload aliases
// b (capacity limited to it) and is nil when empty. Offsets in an "ipv6"
// ParseError count from the first byte of the IPv6 header, so for a field
// at fault (a Next Header value, an option type, a routing type) they are
// the Pointer of an ICMPv6 Parameter Problem about it (RFC 4443 §3.4).
//
// It is strict about length, as ParseIPv4 is: Payload Length must equal
// len(b)-40. Bytes after the packet are an error, so a link layer must
// trim its frame to the packet first, and a b shorter than the header plus
// Payload Length is an error wrapping ErrTruncated; the upper-layer length
// of the pseudo-header (RFC 8200 §8.1) is then just len(payload). A
// Payload Length of 0 with bytes after the header would be a jumbogram
// (RFC 2675), which is not supported.
//
// The Hop-by-Hop Options (0), Routing (43), Fragment (44) and Destination
// Options (60) headers are walked, in any order and any number of times
// up to eight headers (RFC 8200 §4.1: "IPv6 nodes must accept and attempt
// to process extension headers in any order and occurring any number of
// times in the same packet, except for the Hop-by-Hop Options header,
// which is restricted to appear immediately after an IPv6 header only"),
// as follows:
//
//   - Hop-by-Hop and Destination Options: Pad1 and PadN are skipped; so is
//     any other option whose two high-order bits are 00, and one with
//     other action bits is an error, since it asks to discard the packet
//     when not recognized (RFC 8200 §4.2).
//   - Routing: synack knows no routing type, so a header with Segments Left
//     zero is skipped and any other is an error (RFC 8200 §4.4).
//   - Fragment: a fragment is an error wrapping ErrFragment, as an IPv4
//     fragment is (ParseFragment reads it for a reassembler). A Fragment header with
//     offset 0 and M 0 (an atomic fragment) is skipped: "If the fragment is
//     a whole datagram (that is, both the Fragment Offset field and the M
//     flag are zero), then it does not need any further reassembly and
//     should be processed as a fully reassembled packet" (RFC 8200 §4.5).
//
// The other IPv6 extension headers (Authentication 51, Mobility 135, HIP
// 139, Shim6 140, experimental 253 and 254) are errors naming the value
// and the offset of the Next Header field that holds it. No Next Header
// (59) ends the chain with a nil payload: bytes after it "must be ignored"
// (RFC 8200 §4.7). Any other value, ESP (50) included, is an upper-layer
// protocol and ends the chain; whether synack handles it is for the caller.
// The Hop Limit is returned as received, even zero (RFC 8200 §3: "A node
// that is the destination of a packet should not discard a packet with
// Hop Limit equal to zero").
func ParseIPv6(b []byte) (ip IPv6, payload []byte, err error) { return parseIPv6(b, walkPacket) }

// parseIPv6 is ParseIPv6 with the walk's mode: with walkFragment, a packet
// whose Fragment header is not atomic returns errFragmentHere with the
// fixed header (NextHeader the Fragment header's) and the packet from the
// Fragment header on as payload.
func parseIPv6(b []byte, mode walkMode) (ip IPv6, payload []byte, err error) {
	if len(b) == 0 {
		return IPv6{}, nil, ip6Err("header", 0, "truncated: 0 bytes, need at least 40", ErrTruncated)
	}
	if v := b[0] >> 4; v != 6 {
		return IPv6{}, nil, ip6Err("version", 0, strconv.Itoa(int(v))+", want 6", nil)
	}
	if len(b) < ipv6HeaderLen {
		return IPv6{}, nil, ip6Err("header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need at least 40", ErrTruncated)
	}
	pl := int(binary.BigEndian.Uint16(b[4:]))
	rest := len(b) - ipv6HeaderLen
	switch {
	case pl == 0 && rest > 0:
		return IPv6{}, nil, ip6Err("payload length", 4, "0 but packet has "+strconv.Itoa(rest)+" bytes after the header (jumbograms, RFC 2675, are not supported)", nil)
	case pl > rest:
		return IPv6{}, nil, ip6Err("payload length", 4, strconv.Itoa(pl)+" but packet has only "+strconv.Itoa(rest)+" bytes after the header", ErrTruncated)
	case pl < rest:
		return IPv6{}, nil, ip6Err("payload length", 4, strconv.Itoa(pl)+" but packet has "+strconv.Itoa(rest)+" bytes after the header", nil)
	}
	nh, off, err := walkIPv6(b, mode)
	if err == errFragmentHere {
		ip = ipv6Fixed(b)
		ip.NextHeader = nh
		return ip, b[off:len(b):len(b)], err
	}
	if err != nil {
		return IPv6{}, nil, err
	}
	ip = ipv6Fixed(b)
	ip.NextHeader = nh
	if nh != ProtocolNoNextHeader && off < len(b) {
		payload = b[off:len(b):len(b)]
	}
	return ip, payload, nil
}

// ipv6Fixed reads the fields of the fixed header b[:40] other than the
// lengths and Next Header.
func ipv6Fixed(b []byte) IPv6 {
	return IPv6{
		TrafficClass: b[0]<<4 | b[1]>>4,
		FlowLabel:    uint32(b[1]&0x0f)<<16 | uint32(b[2])<<8 | uint32(b[3]),
		HopLimit:     b[7],
		Src:          netip.AddrFrom16([16]byte(b[8:24])),
		Dst:          netip.AddrFrom16([16]byte(b[24:40])),
	}
}

// walkIPv6 follows the Next Header chain of the IPv6 packet b, from the
// fixed header to the first header that is not an extension header, and
// returns that header's protocol and offset. b ends where the packet does.
//
// In a quote (the invoking packet of an ICMPv6 error, which synack sent or
// forwarded, so only its transport header matters) options and routing
// headers are skipped unread, and a first fragment (offset 0) is walked
// on, since it holds the whole header chain (RFC 8200 §4.5); a later
// fragment returns the protocol its Fragment header names with an error
// wrapping ErrFragment.
//
// With walkFragment a fragment that is not atomic returns the protocol its
// Fragment header names, the offset of that header, and errFragmentHere,
// which says no more (and costs no allocation).
func walkIPv6(b []byte, mode walkMode) (nh uint8, off int, err error) {
	quote := mode == walkQuote
	nh, nhOff := b[6], 6
	off = ipv6HeaderLen
	for n := 0; ; n++ {
		switch nh {
		case nhHopByHop, nhRouting, nhFragment, nhDestOpts:
		case 51, 135, 139, 140, 253, 254:
			return 0, 0, ip6Err("next header", nhOff, strconv.Itoa(int(nh))+" ("+extHeaderName(nh)+") is an extension header synack does not process", nil)
		default:
			return nh, off, nil
		}
		name := extHeaderName(nh)
		// RFC 8200 §4: "The same action should be taken if a node
		// encounters a Next Header value of zero in any header other than
		// an IPv6 header."
		if nh == nhHopByHop && nhOff != 6 {
			return 0, 0, ip6Err("next header", nhOff, "0 (hop-by-hop options) after an extension header; it must immediately follow the IPv6 header", nil)
		}
		if n == maxExtHeaders {
			return 0, 0, ip6Err("next header", nhOff, strconv.Itoa(int(nh))+" ("+name+") would be extension header "+strconv.Itoa(n+1)+"; at most "+strconv.Itoa(maxExtHeaders)+" are walked", nil)
		}
		if len(b)-off < 8 {
			return 0, 0, ip6Err(name+" header", off, "truncated: "+strconv.Itoa(len(b)-off)+" bytes, need at least 8", ErrTruncated)
		}
		// RFC 8200 §4.3, §4.4, §4.6: "Hdr Ext Len: 8-bit unsigned integer.
		// Length of the ... header in 8-octet units, not including the
		// first 8 octets." The Fragment header has a fixed 8 bytes and a
		// Reserved byte in that place (§4.5).
		hl := 8
		if nh != nhFragment {
			hl = (int(b[off+1]) + 1) * 8
			if off+hl > len(b) {
				return 0, 0, ip6Err(name+" header length", off+1, strconv.Itoa(hl)+" bytes run past the end of the "+strconv.Itoa(len(b))+"-byte packet", ErrTruncated)
			}
		}
		h := b[off : off+hl]
		switch nh {
		case nhHopByHop, nhDestOpts:
			if !quote {
				if err := checkTLVOptions(h, off, name); err != nil {
					return 0, 0, err
				}
			}
		case nhRouting:
			// RFC 8200 §4.4: "If Segments Left is non-zero, the node must
			// discard the packet and send an ICMP Parameter Problem, Code
			// 0, message to the packet's Source Address, pointing to the
			// unrecognized Routing Type."
			if !quote && h[3] != 0 {
				return 0, 0, ip6Err("routing type", off+2, strconv.Itoa(int(h[2]))+" with "+strconv.Itoa(int(h[3]))+" segments left is not supported", nil)
			}
		case nhFragment:
			fo := binary.BigEndian.Uint16(h[2:])
			fragOff, more := int(fo>>3)*8, fo&1 != 0
			if mode == walkFragment && (fragOff != 0 || more) {
				return h[0], off, errFragmentHere
			}
			if fragOff != 0 || (more && !quote) {
				msg := ErrFragment.Error() + " (M " + strconv.FormatBool(more) + ", fragment offset " + strconv.Itoa(fragOff) +
					" bytes, identification " + hex32(binary.BigEndian.Uint32(h[4:])) + ")"
				err := ip6Err("fragment offset", off+2, msg, ErrFragment)
				if quote {
					return h[0], off + hl, err
				}
				return 0, 0, err
			}
		}
		nh, nhOff = h[0], off
		off += hl
	}
}

// walkMode is how walkIPv6 walks: a packet received, the quote of an
// ICMPv6 error, or a packet that may be a fragment (ParseFragment).
type walkMode uint8

const (
	walkPacket walkMode = iota
	walkQuote
	walkFragment
)

// errFragmentHere is walkIPv6's answer, in walkFragment mode, for a
// fragment.
var errFragmentHere = errors.New("wire: fragment header")

// checkTLVOptions checks the options of the Hop-by-Hop or Destination
// Options header h, which starts at offset base in the packet (RFC 8200
// §4.2).
func checkTLVOptions(h []byte, base int, header string) error {
	for i := 2; i < len(h); {
		t := h[i]
		// RFC 8200 §4.2: "NOTE! the format of the Pad1 option is a special
		// case -- it does not have length and value fields."
		if t == 0 {
			i++
			continue
		}
		field := func() string { return "option " + hex8(t) + " in " + header }
		if i+1 >= len(h) {
			return ip6Err(field(), base+i, "no length byte before the end of the header at offset "+strconv.Itoa(base+len(h)), nil)
		}
		n := 2 + int(h[i+1])
		if i+n > len(h) {
			return ip6Err(field(), base+i, "length "+strconv.Itoa(n)+" runs past the end of the header at offset "+strconv.Itoa(base+len(h)), nil)
		}
		// RFC 8200 §4.2: the highest-order 2 bits of an unrecognized
		// Option Type say "00 - skip over this option and continue
		// processing the header"; 01, 10 and 11 all begin "discard the
		// packet". synack recognizes only Pad1 and PadN (1).
		if act := t >> 6; t != 1 && act != 0 {
			return ip6Err(field(), base+i, "not recognized, and its action bits "+strconv.Itoa(int(act>>1))+strconv.Itoa(int(act&1))+" say to discard the packet", nil)
		}
		i += n
	}
	return nil
}

// extHeaderName names the IPv6 extension headers (IANA "IPv6 Extension
// Header Types").
func extHeaderName(nh uint8) string {
	switch nh {
	case nhHopByHop:
		return "hop-by-hop options"
	case nhRouting:
		return "routing"
	case nhFragment:
		return "fragment"
	case nhDestOpts:
		return "destination options"
	case 51:
		return "authentication"
	case 135:
		return "mobility"
	case 139:
		return "HIP"
	case 140:
		return "shim6"
	case 253, 254:
		return "experimental"
	}
	return "next header " + strconv.Itoa(int(nh))
}

// Len returns the length of the header as Append writes it: 40.
func (ip *IPv6) Len() int { return ipv6HeaderLen }

// Append appends a 40-byte IPv6 header (RFC 8200 §3) for a payload of
// payloadLen bytes, with NextHeader in its Next Header field and no
// extension header. Only the low 20 bits of FlowLabel are written, and a
// zero HopLimit is written as 64. An invalid (zero) Addr is written as ::.
//
// Append panics if payloadLen is negative or exceeds 65535, the largest
// Payload Length, or if an address is IPv4 (Is4; an IPv4-mapped IPv6
// address is written as it is): those are bugs in the caller.
func (ip *IPv6) Append(b []byte, payloadLen int) []byte {
	if payloadLen < 0 || payloadLen > 0xffff {
		panic("wire: IPv6 payload of " + strconv.Itoa(payloadLen) + " bytes does not fit in Payload Length")
	}
	hl := ip.HopLimit
	if hl == 0 {
		hl = defaultHopLimit
	}
	src, dst := addr16(ip.Src), addr16(ip.Dst)
	fl := ip.FlowLabel & 0xfffff
	b = slices.Grow(b, ipv6HeaderLen)
	b = append(b,
		6<<4|ip.TrafficClass>>4, ip.TrafficClass<<4|byte(fl>>16), byte(fl>>8), byte(fl),
		byte(payloadLen>>8), byte(payloadLen), ip.NextHeader, hl)
	b = append(b, src[:]...)
	return append(b, dst[:]...)
}

func addr16(a netip.Addr) [16]byte {
	if a.Is4() {
		panic("wire: IPv6 header with IPv4 address " + a.String())
	}
	return a.As16()
}

// String prints the header on one line, with the traffic class and flow
// label only when they are not zero:
//
//	IPv6 2001:db8::1 > 2001:db8::2 TCP hlim=64 tclass=0xb8 flow=0x12345
func (ip *IPv6) String() string {
	var b strings.Builder
	b.WriteString("IPv6 ")
	b.WriteString(ip.Src.String())
	b.WriteString(" > ")
	b.WriteString(ip.Dst.String())
	b.WriteByte(' ')
	b.WriteString(protocolName(ip.NextHeader))
	b.WriteString(" hlim=")
	b.WriteString(strconv.Itoa(int(ip.HopLimit)))
	if ip.TrafficClass != 0 {
		b.WriteString(" tclass=")
		b.WriteString(hex8(ip.TrafficClass))
	}
	if ip.FlowLabel != 0 {
		b.WriteString(" flow=0x")
		b.WriteString(strconv.FormatUint(uint64(ip.FlowLabel), 16))
	}
	return b.String()
}

func ip6Err(field string, off int, msg string, err error) error {
	return &ParseError{Layer: "ipv6", Field: field, Offset: off, Msg: msg, Err: err}
}

func hex32(v uint32) string { return hex16(uint16(v>>16)) + hex16(uint16(v))[2:] }
