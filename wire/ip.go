package wire

import (
	"net/netip"
	"strconv"
	"strings"
)

// IP protocol numbers (IANA "Assigned Internet Protocol Numbers"), used in
// the IPv4 Protocol field and the IPv6 Next Header fields. ProtocolTCP is
// with the TCP types.
const (
	ProtocolICMP         = 1  // RFC 792
	ProtocolUDP          = 17 // RFC 768
	ProtocolICMPv6       = 58 // RFC 4443
	ProtocolNoNextHeader = 59 // RFC 8200 §4.7
)

// IP is an IPv4 or an IPv6 header, for code that handles both families.
// Version says which of V4 and V6 holds it; the other is zero. The zero IP
// (Version 0) holds no header.
type IP struct {
	Version uint8 // 4 or 6
	V4      IPv4
	V6      IPv6
}

// ParseIP parses an IPv4 or an IPv6 packet, chosen by the version in its
// first four bits, with ParseIPv4 or ParseIPv6, and returns the header with
// the payload. Errors are theirs; a version other than 4 or 6 is an "ip"
// ParseError.
func ParseIP(b []byte) (IP, []byte, error) {
	if len(b) == 0 {
		return IP{}, nil, &ParseError{Layer: "ip", Field: "version", Offset: 0, Msg: "truncated: 0 bytes", Err: ErrTruncated}
	}
	switch v := b[0] >> 4; v {
	case 4:
		ip, payload, err := ParseIPv4(b)
		if err != nil {
			return IP{}, nil, err
		}
		return IP{Version: 4, V4: ip}, payload, nil
	case 6:
		ip, payload, err := ParseIPv6(b)
		if err != nil {
			return IP{}, nil, err
		}
		return IP{Version: 6, V6: ip}, payload, nil
	default:
		return IP{}, nil, &ParseError{Layer: "ip", Field: "version", Offset: 0, Msg: strconv.Itoa(int(v)) + ", want 4 or 6"}
	}
}

// Src returns the source address, the zero Addr if ip holds no header.
func (ip *IP) Src() netip.Addr {
	switch ip.Version {
	case 4:
		return ip.V4.Src
	case 6:
		return ip.V6.Src
	}
	return netip.Addr{}
}

// Dst returns the destination address, the zero Addr if ip holds no header.
func (ip *IP) Dst() netip.Addr {
	switch ip.Version {
	case 4:
		return ip.V4.Dst
	case 6:
		return ip.V6.Dst
	}
	return netip.Addr{}
}

// Protocol returns the upper-layer protocol: the IPv4 Protocol, or the
// IPv6 NextHeader (which ParseIPv6 sets past the extension headers).
func (ip *IP) Protocol() uint8 {
	switch ip.Version {
	case 4:
		return ip.V4.Protocol
	case 6:
		return ip.V6.NextHeader
	}
	return 0
}

// HopLimit returns the IPv4 TTL or the IPv6 Hop Limit.
func (ip *IP) HopLimit() uint8 {
	switch ip.Version {
	case 4:
		return ip.V4.TTL
	case 6:
		return ip.V6.HopLimit
	}
	return 0
}

// Len returns the length of the header as Append writes it: 20 for IPv4,
// 40 for IPv6, 0 for the zero IP.
func (ip *IP) Len() int {
	switch ip.Version {
	case 4:
		return ipv4HeaderLen
	case 6:
		return ipv6HeaderLen
	}
	return 0
}

// Append appends the header with IPv4.Append or IPv6.Append, and panics as
// they do; it also panics if Version is neither 4 nor 6.
func (ip *IP) Append(b []byte, payloadLen int) []byte {
	switch ip.Version {
	case 4:
		return ip.V4.Append(b, payloadLen)
	case 6:
		return ip.V6.Append(b, payloadLen)
	}
	panic("wire: IP header of version " + strconv.Itoa(int(ip.Version)))
}

// String prints the header on one line:
//
//	IPv4 192.0.2.1 > 198.51.100.2 TCP ttl=64 id=0x1c46 DF
//	IPv6 2001:db8::1 > 2001:db8::2 UDP hlim=64 flow=0x12345
func (ip *IP) String() string {
	switch ip.Version {
	case 4:
		var b strings.Builder
		v := &ip.V4
		b.WriteString("IPv4 ")
		b.WriteString(v.Src.String())
		b.WriteString(" > ")
		b.WriteString(v.Dst.String())
		b.WriteByte(' ')
		b.WriteString(protocolName(v.Protocol))
		b.WriteString(" ttl=")
		b.WriteString(strconv.Itoa(int(v.TTL)))
		b.WriteString(" id=")
		b.WriteString(hex16(v.ID))
		if v.TOS != 0 {
			b.WriteString(" tos=")
			b.WriteString(hex8(v.TOS))
		}
		if v.DontFragment {
			b.WriteString(" DF")
		}
		return b.String()
	case 6:
		return ip.V6.String()
	}
	return "IP version " + strconv.Itoa(int(ip.Version))
}

// protocolName names the protocols this package parses and numbers the
// others: "TCP", "proto=132".
func protocolName(p uint8) string {
	switch p {
	case ProtocolICMP:
		return "ICMP"
	case ProtocolTCP:
		return "TCP"
	case ProtocolUDP:
		return "UDP"
	case ProtocolICMPv6:
		return "ICMPv6"
	case ProtocolNoNextHeader:
		return "no-next-header"
	}
	return "proto=" + strconv.Itoa(int(p))
}

func hex8(v uint8) string {
	const digits = "0123456789abcdef"
	return string([]byte{'0', 'x', digits[v>>4], digits[v&0xf]})
}
