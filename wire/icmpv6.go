package wire

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
)

// ICMPv6Type is the Type of an ICMPv6 message (RFC 4443 §2.1).
type ICMPv6Type uint8

// The ICMPv6 message types this package parses into fields; any other
// parses as a generic message.
const (
	ICMPv6DestUnreachable ICMPv6Type = 1
	ICMPv6PacketTooBig    ICMPv6Type = 2
	ICMPv6TimeExceeded    ICMPv6Type = 3
	ICMPv6ParamProblem    ICMPv6Type = 4
	ICMPv6EchoRequest     ICMPv6Type = 128
	ICMPv6EchoReply       ICMPv6Type = 129
)

// Codes of ICMPv6 Destination Unreachable (RFC 4443 §3.1).
const (
	ICMPv6NoRoute            = 0
	ICMPv6AdminProhibited    = 1 // "Communication with destination administratively prohibited"
	ICMPv6BeyondScope        = 2
	ICMPv6AddressUnreachable = 3
	ICMPv6PortUnreachable    = 4
	ICMPv6SourcePolicyFailed = 5 // "Source address failed ingress/egress policy"
	ICMPv6RejectRoute        = 6
)

// Codes of ICMPv6 Time Exceeded (RFC 4443 §3.3).
const (
	ICMPv6HopLimitExceeded       = 0
	ICMPv6ReassemblyTimeExceeded = 1
)

// Codes of ICMPv6 Parameter Problem (RFC 4443 §3.4; 3 from RFC 8200 §4.5).
const (
	ICMPv6ErroneousHeaderField   = 0
	ICMPv6UnrecognizedNextHeader = 1
	ICMPv6UnrecognizedOption     = 2
	ICMPv6IncompleteHeaderChain  = 3 // the first fragment lacks headers through the upper-layer header
)

// String names the types this package parses ("echo-request",
// "packet-too-big") and numbers the others ("type=135").
func (t ICMPv6Type) String() string {
	switch t {
	case ICMPv6DestUnreachable:
		return "dest-unreachable"
	case ICMPv6PacketTooBig:
		return "packet-too-big"
	case ICMPv6TimeExceeded:
		return "time-exceeded"
	case ICMPv6ParamProblem:
		return "parameter-problem"
	case ICMPv6EchoRequest:
		return "echo-request"
	case ICMPv6EchoReply:
		return "echo-reply"
	}
	return "type=" + strconv.Itoa(int(t))
}

// IsError reports whether t is an ICMPv6 error message: "error messages
// are identified as such by a zero in the high-order bit of their message
// Type field values" (RFC 4443 §2.1).
func (t ICMPv6Type) IsError() bool { return t < 128 }

// ICMPv6 is an ICMPv6 message (RFC 4443). The fields after Checksum belong
// to some types only; a type this package does not parse into fields is a
// generic message whose Body is all that follows the checksum.
type ICMPv6 struct {
	Type     ICMPv6Type
	Code     uint8
	Checksum uint16 // the value read by ParseICMPv6; Append computes its own

	// ID and Seq are the Identifier and Sequence Number of an echo request
	// or reply (RFC 4443 §4.1, §4.2).
	ID, Seq uint16

	// MTU is the MTU of a Packet Too Big: "The Maximum Transmission Unit
	// of the next-hop link" (RFC 4443 §3.2).
	MTU uint32

	// Pointer is the offset in the invoking packet of a Parameter Problem:
	// "Identifies the octet offset within the invoking packet where the
	// error was detected" (RFC 4443 §3.4).
	Pointer uint32

	// Body is what follows the 8-byte header: an echo's data, or an error
	// message's quote of the invoking packet; for a generic message,
	// everything after the checksum. It aliases the input when parsed
	// (capacity limited to it) and is nil when empty.
	Body []byte

	// Quote is the invoking packet read from the message after its 8-byte
	// header, for every error type, including those of unknown type. It
	// is set by ParseICMPv6 and ignored by Append, which writes Body.
	Quote Quote
}

// parsedICMPv6 reports whether t has fields past the checksum that
// ParseICMPv6 reads.
func parsedICMPv6(t ICMPv6Type) bool {
	return (t >= ICMPv6DestUnreachable && t <= ICMPv6ParamProblem) || t == ICMPv6EchoRequest || t == ICMPv6EchoReply
}

// ParseICMPv6 parses an ICMPv6 message (RFC 4443) carried from src to dst
// and verifies its checksum, which covers the IPv6 pseudo-header: "The
// Next Header value used in the pseudo-header is 58" (RFC 4443 §2.3, RFC
// 8200 §8.1). A failure is an error wrapping ErrChecksum, checked first as
// ParseTCP does. b is the upper-layer payload of the IPv6 packet, as
// ParseIPv6 returns it; src and dst are taken in their 16-byte form.
//
// Destination Unreachable, Packet Too Big, Time Exceeded, Parameter
// Problem and echo request and reply need the 8-byte header; unused bytes
// are ignored, as is the length of RFC 4884's extensions (which, when
// present, are left in Body after the quote). Any other type parses as a
// generic message of at least 4 bytes. Error messages of a type this
// package does not know still have their quote read if they have the
// 8-byte header: "If an ICMPv6 error message of unknown type is received
// at a host, it MUST be passed to the upper-layer process that originated
// the packet that caused the error, where this can be identified" (RFC
// 4443 §2.4 (a)). A quote cut short still parses; Quote says how much of
// the invoking packet there is.
func ParseICMPv6(b []byte, src, dst netip.Addr) (ICMPv6, error) {
	if len(b) < 4 {
		return ICMPv6{}, icmpErr("icmpv6", "header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need at least 4", ErrTruncated)
	}
	ph := icmpv6PseudoHeaderSum(src, dst, len(b))
	if Checksum(b, ph) != 0 {
		found := binary.BigEndian.Uint16(b[2:])
		want := Checksum(b[4:], Sum(b[:2], ph))
		return ICMPv6{}, checksumErr("icmpv6", "checksum", 2, found, want)
	}
	m := ICMPv6{Type: ICMPv6Type(b[0]), Code: b[1], Checksum: binary.BigEndian.Uint16(b[2:])}
	if !parsedICMPv6(m.Type) {
		m.Body = body(b, 4)
		if m.Type.IsError() && len(b) >= icmpHeaderLen {
			m.Quote = parseQuote6(b[icmpHeaderLen:], icmpHeaderLen)
		}
		return m, nil
	}
	if len(b) < icmpHeaderLen {
		return ICMPv6{}, icmpErr("icmpv6", "header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need 8 for "+m.Type.String(), ErrTruncated)
	}
	m.Body = body(b, icmpHeaderLen)
	switch m.Type {
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		m.ID = binary.BigEndian.Uint16(b[4:])
		m.Seq = binary.BigEndian.Uint16(b[6:])
		return m, nil
	case ICMPv6PacketTooBig:
		m.MTU = binary.BigEndian.Uint32(b[4:])
	case ICMPv6ParamProblem:
		m.Pointer = binary.BigEndian.Uint32(b[4:])
	}
	m.Quote = parseQuote6(b[icmpHeaderLen:], icmpHeaderLen)
	return m, nil
}

// icmpv6PseudoHeaderSum is PseudoHeaderSum for ICMPv6, which has only the
// IPv6 form: IPv4 addresses are taken as IPv4-mapped.
func icmpv6PseudoHeaderSum(src, dst netip.Addr, n int) uint32 {
	return PseudoHeaderSum(netip.AddrFrom16(src.As16()), netip.AddrFrom16(dst.As16()), ProtocolICMPv6, n)
}

// Len returns the length of the encoded message.
func (m *ICMPv6) Len() int {
	if parsedICMPv6(m.Type) {
		return icmpHeaderLen + len(m.Body)
	}
	return 4 + len(m.Body)
}

// Append appends the message to b with its checksum computed over the
// IPv6 pseudo-header of src and dst (RFC 4443 §2.3); m.Checksum and
// m.Quote are ignored. The header's fields are written for the types
// ParseICMPv6 reads them from, the unused bytes of the others are zero
// ("must be initialized to zero by the sender", RFC 4443 §3.1), then
// Body. For a generic message, Body follows the checksum directly.
func (m *ICMPv6) Append(b []byte, src, dst netip.Addr) []byte {
	start := len(b)
	b = append(b, byte(m.Type), m.Code, 0, 0)
	if parsedICMPv6(m.Type) {
		var rest [4]byte
		switch m.Type {
		case ICMPv6EchoRequest, ICMPv6EchoReply:
			binary.BigEndian.PutUint16(rest[:], m.ID)
			binary.BigEndian.PutUint16(rest[2:], m.Seq)
		case ICMPv6PacketTooBig:
			binary.BigEndian.PutUint32(rest[:], m.MTU)
		case ICMPv6ParamProblem:
			binary.BigEndian.PutUint32(rest[:], m.Pointer)
		}
		b = append(b, rest[:]...)
	}
	b = append(b, m.Body...)
	ck := Checksum(b[start:], icmpv6PseudoHeaderSum(src, dst, len(b)-start))
	binary.BigEndian.PutUint16(b[start+2:], ck)
	return b
}

// String prints the message on one line:
//
//	ICMPv6 echo-reply id=1 seq=2 len=56
//	ICMPv6 packet-too-big mtu=1280 quoting [2001:db8::1]:80>[2001:db8::2]:40000 TCP seq=1000
//	ICMPv6 parameter-problem unrecognized-next-header pointer=40 quoting 2001:db8::1>2001:db8::2 proto=132
//	ICMPv6 type=135 code=0 len=28
func (m *ICMPv6) String() string {
	var b strings.Builder
	b.WriteString("ICMPv6 ")
	b.WriteString(m.Type.String())
	switch m.Type {
	case ICMPv6EchoRequest, ICMPv6EchoReply:
		writeEcho(&b, m.Code, m.ID, m.Seq, len(m.Body))
	case ICMPv6DestUnreachable:
		writeCode(&b, m.Code, "no-route", "admin-prohibited", "beyond-scope", "address-unreachable",
			"port-unreachable", "source-policy-failed", "reject-route")
		writeQuote(&b, &m.Quote)
	case ICMPv6PacketTooBig:
		// RFC 4443 §3.2: Code "Set to 0 (zero) by the originator and
		// ignored by the receiver".
		b.WriteString(" mtu=")
		b.WriteString(strconv.FormatUint(uint64(m.MTU), 10))
		writeQuote(&b, &m.Quote)
	case ICMPv6TimeExceeded:
		writeCode(&b, m.Code, "hop-limit-exceeded", "reassembly-time-exceeded")
		writeQuote(&b, &m.Quote)
	case ICMPv6ParamProblem:
		writeCode(&b, m.Code, "erroneous-header-field", "unrecognized-next-header", "unrecognized-option", "incomplete-header-chain")
		b.WriteString(" pointer=")
		b.WriteString(strconv.FormatUint(uint64(m.Pointer), 10))
		writeQuote(&b, &m.Quote)
	default:
		writeGeneric(&b, m.Code, len(m.Body))
		if m.Type.IsError() && len(m.Body) >= 4 {
			writeQuote(&b, &m.Quote)
		}
	}
	return b.String()
}
