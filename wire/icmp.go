package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gosynack/synack/seq"
)

// icmpHeaderLen is the length of the ICMP and ICMPv6 header that every
// message this package parses has: type, code, checksum and four bytes
// whose meaning depends on the type.
const icmpHeaderLen = 8

// Quote is what an ICMP or ICMPv6 error message quotes of the packet that
// caused it: "Internet Header + 64 bits of Original Data Datagram ... If a
// higher level protocol uses port numbers, they are assumed to be in the
// first 64 data bits of the original datagram's data" (RFC 792); "As much
// of invoking packet as possible without the ICMPv6 packet exceeding the
// minimum IPv6 MTU" (RFC 4443 §3.1). Those 8 bytes hold a TCP segment's
// ports and sequence number, which RFC 5927 §4.1 has the receiver check
// against its connection.
//
// The fields are filled in order, as far as the quote goes; Err says why
// it stops short. A quote is read leniently, since the packet was already
// accepted on its way out: the quoted IPv4 header checksum is not verified
// (the ICMP checksum covers the quote; Linux does not verify it either)
// and Total Length or Payload Length only bounds the quote, which is
// normally shorter. IPv6 extension headers are walked to the upper-layer
// header, but their options and routing headers are not judged.
type Quote struct {
	// IP is the invoking packet's header, its Version 0 if the quote does
	// not hold the whole IP layer (for IPv6, up to the upper-layer header).
	// IP.Protocol() is the upper-layer protocol.
	IP IP

	// SrcPort and DstPort are the invoking packet's TCP or UDP ports,
	// valid if HasPorts: the quote holds 4 bytes of its TCP or UDP header.
	HasPorts         bool
	SrcPort, DstPort uint16

	// Seq is the invoking TCP segment's sequence number, valid if HasSeq:
	// the quote holds 8 bytes of its TCP header.
	HasSeq bool
	Seq    seq.Value

	// Payload is what the quote holds after the IP layer (the start of the
	// upper-layer header), bounded by the quoted IP length; it aliases the
	// message, and is nil when empty or when IP is not set.
	Payload []byte

	// Err is nil if the quote holds the IP layer and the 8 bytes after it,
	// as RFC 792 has every error message hold ("at least the first 8 data
	// octets", RFC 1122 §3.2.2), or an IPv6 chain that ends with No Next
	// Header. Otherwise it is a *ParseError saying
	// where the quote stops short, wrapping ErrTruncated if the quote is
	// cut short and ErrFragment if it quotes a fragment other than the
	// first (which has no upper-layer header; IP.Protocol() is then the
	// protocol the fragment's header names).
	Err error
}

// parseQuote4 reads the IPv4 packet quoted by an ICMP error message; q
// starts at offset base in the message.
func parseQuote4(q []byte, base int) Quote {
	const layer = "icmp"
	if len(q) < ipv4HeaderLen {
		return Quote{Err: icmpErr(layer, "quoted ipv4 header", base, "truncated: "+strconv.Itoa(len(q))+" bytes, need at least 20", ErrTruncated)}
	}
	if v := q[0] >> 4; v != 4 {
		return Quote{Err: icmpErr(layer, "quoted ipv4 version", base, strconv.Itoa(int(v))+", want 4", nil)}
	}
	ihl := int(q[0] & 0x0f)
	hl := ihl * 4
	if ihl < 5 {
		return Quote{Err: icmpErr(layer, "quoted ipv4 IHL", base, strconv.Itoa(ihl)+" ("+strconv.Itoa(hl)+" bytes), want at least 5", nil)}
	}
	if hl > len(q) {
		return Quote{Err: icmpErr(layer, "quoted ipv4 IHL", base, "header length "+strconv.Itoa(hl)+" runs past the end of the "+strconv.Itoa(len(q))+"-byte quote", ErrTruncated)}
	}
	total := int(binary.BigEndian.Uint16(q[2:]))
	if total < hl {
		return Quote{Err: icmpErr(layer, "quoted ipv4 total length", base+2, strconv.Itoa(total)+" is less than the header length "+strconv.Itoa(hl), nil)}
	}
	ff := binary.BigEndian.Uint16(q[6:])
	qt := Quote{IP: IP{Version: 4, V4: IPv4{
		TOS:          q[1],
		ID:           binary.BigEndian.Uint16(q[4:]),
		DontFragment: ff&0x4000 != 0,
		TTL:          q[8],
		Protocol:     q[9],
		Src:          netip.AddrFrom4([4]byte(q[12:16])),
		Dst:          netip.AddrFrom4([4]byte(q[16:20])),
	}}}
	if off := ff & 0x1fff; off != 0 {
		msg := ErrFragment.Error() + " (MF " + strconv.FormatBool(ff&0x2000 != 0) + ", fragment offset " + strconv.Itoa(int(off)*8) + " bytes)"
		qt.Err = icmpErr(layer, "quoted ipv4 fragment offset", base+6, msg, ErrFragment)
		return qt
	}
	qt.upper(q[hl:min(total, len(q))], base+hl, layer)
	return qt
}

// parseQuote6 reads the IPv6 packet quoted by an ICMPv6 error message; q
// starts at offset base in the message.
func parseQuote6(q []byte, base int) Quote {
	const layer = "icmpv6"
	if len(q) < ipv6HeaderLen {
		return Quote{Err: icmpErr(layer, "quoted ipv6 header", base, "truncated: "+strconv.Itoa(len(q))+" bytes, need at least 40", ErrTruncated)}
	}
	if v := q[0] >> 4; v != 6 {
		return Quote{Err: icmpErr(layer, "quoted ipv6 version", base, strconv.Itoa(int(v))+", want 6", nil)}
	}
	q = q[:min(len(q), ipv6HeaderLen+int(binary.BigEndian.Uint16(q[4:])))]
	nh, off, err := walkIPv6(q, walkQuote)
	if err != nil && !errors.Is(err, ErrFragment) {
		pe := err.(*ParseError)
		return Quote{Err: icmpErr(layer, "quoted ipv6 "+pe.Field, base+pe.Offset, pe.Msg, pe.Err)}
	}
	ip := ipv6Fixed(q)
	ip.NextHeader = nh
	qt := Quote{IP: IP{Version: 6, V6: ip}}
	if err != nil {
		pe := err.(*ParseError)
		qt.Err = icmpErr(layer, "quoted ipv6 "+pe.Field, base+pe.Offset, pe.Msg, pe.Err)
		return qt
	}
	if nh != ProtocolNoNextHeader {
		qt.upper(q[off:], base+off, layer)
	}
	return qt
}

// upper reads the start of the quoted upper-layer header u, at offset base
// in the message.
func (qt *Quote) upper(u []byte, base int, layer string) {
	if len(u) > 0 {
		qt.Payload = u[:len(u):len(u)]
	}
	p := qt.IP.Protocol()
	if (p == ProtocolTCP || p == ProtocolUDP) && len(u) >= 4 {
		qt.HasPorts = true
		qt.SrcPort = binary.BigEndian.Uint16(u)
		qt.DstPort = binary.BigEndian.Uint16(u[2:])
	}
	if p == ProtocolTCP && len(u) >= 8 {
		qt.HasSeq = true
		qt.Seq = seqValue(u[4:])
	}
	if len(u) < 8 {
		name := "upper-layer"
		switch p {
		case ProtocolTCP, ProtocolUDP, ProtocolICMP, ProtocolICMPv6:
			name = strings.ToLower(protocolName(p))
		}
		qt.Err = icmpErr(layer, "quoted "+name+" header", base, "truncated: "+strconv.Itoa(len(u))+" bytes, need 8", ErrTruncated)
	}
}

// String prints the quote as ICMP messages show it: the addresses, with
// the ports if the quote has them, the protocol and a TCP sequence number,
// and what stopped the quote short:
//
//	198.18.0.2:80>198.18.0.1:40000 TCP seq=1000
//	198.18.0.2>198.18.0.1 TCP (cut short)
func (qt *Quote) String() string {
	var b strings.Builder
	switch {
	case qt.IP.Version == 0 && errors.Is(qt.Err, ErrTruncated):
		return "(cut short)"
	case qt.IP.Version == 0:
		return "(unreadable)"
	case qt.HasPorts:
		b.WriteString(netip.AddrPortFrom(qt.IP.Src(), qt.SrcPort).String())
		b.WriteByte('>')
		b.WriteString(netip.AddrPortFrom(qt.IP.Dst(), qt.DstPort).String())
	default:
		b.WriteString(qt.IP.Src().String())
		b.WriteByte('>')
		b.WriteString(qt.IP.Dst().String())
	}
	b.WriteByte(' ')
	b.WriteString(protocolName(qt.IP.Protocol()))
	if qt.HasSeq {
		b.WriteString(" seq=")
		b.WriteString(strconv.FormatUint(uint64(qt.Seq), 10))
	}
	switch {
	case errors.Is(qt.Err, ErrFragment):
		b.WriteString(" (later fragment)")
	case qt.Err != nil:
		b.WriteString(" (cut short)")
	}
	return b.String()
}

// ICMPv4Type is the Type of an ICMP message (RFC 792).
type ICMPv4Type uint8

// The ICMP message types this package parses into fields; any other
// parses as a generic message.
const (
	ICMPv4EchoReply       ICMPv4Type = 0
	ICMPv4DestUnreachable ICMPv4Type = 3
	ICMPv4EchoRequest     ICMPv4Type = 8
	ICMPv4TimeExceeded    ICMPv4Type = 11
	ICMPv4ParamProblem    ICMPv4Type = 12
)

// Codes of ICMP Destination Unreachable: 0 to 5 from RFC 792, 9 and 10
// from RFC 1122 §3.2.2.1, 13 from RFC 1812 §5.2.7.1.
const (
	ICMPv4NetUnreachable      = 0
	ICMPv4HostUnreachable     = 1
	ICMPv4ProtocolUnreachable = 2
	ICMPv4PortUnreachable     = 3
	ICMPv4FragmentationNeeded = 4 // "fragmentation needed and DF set"; RFC 1191 adds the MTU
	ICMPv4SourceRouteFailed   = 5
	ICMPv4NetProhibited       = 9  // "communication with destination network administratively prohibited"
	ICMPv4HostProhibited      = 10 // "communication with destination host administratively prohibited"
	ICMPv4AdminProhibited     = 13 // "Communication Administratively Prohibited"
)

// Codes of ICMP Time Exceeded (RFC 792).
const (
	ICMPv4TTLExceeded            = 0
	ICMPv4ReassemblyTimeExceeded = 1
)

// icmpv4DestUnreachableCodes names the Destination Unreachable codes of
// RFC 792, RFC 1122 §3.2.2.1 (6 to 12) and RFC 1812 §5.2.7.1 (13 to 15).
var icmpv4DestUnreachableCodes = [...]string{
	"net-unreachable", "host-unreachable", "protocol-unreachable", "port-unreachable",
	"fragmentation-needed", "source-route-failed", "net-unknown", "host-unknown",
	"source-host-isolated", "net-prohibited", "host-prohibited", "net-unreachable-for-tos",
	"host-unreachable-for-tos", "admin-prohibited", "host-precedence-violation", "precedence-cutoff",
}

// String names the types this package parses ("echo-request",
// "dest-unreachable") and numbers the others ("type=13").
func (t ICMPv4Type) String() string {
	switch t {
	case ICMPv4EchoReply:
		return "echo-reply"
	case ICMPv4DestUnreachable:
		return "dest-unreachable"
	case ICMPv4EchoRequest:
		return "echo-request"
	case ICMPv4TimeExceeded:
		return "time-exceeded"
	case ICMPv4ParamProblem:
		return "parameter-problem"
	}
	return "type=" + strconv.Itoa(int(t))
}

// IsError reports whether t is an ICMP error message: Destination
// Unreachable, Source Quench (4), Redirect (5), Time Exceeded or Parameter
// Problem (RFC 1122 §3.2.2), to which no ICMP error may be sent in reply.
func (t ICMPv4Type) IsError() bool {
	switch t {
	case ICMPv4DestUnreachable, 4, 5, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// ICMPv4 is an ICMP message (RFC 792). The fields after Checksum belong to
// some types only; a type this package does not parse into fields is a
// generic message whose Body is all that follows the checksum.
type ICMPv4 struct {
	Type     ICMPv4Type
	Code     uint8
	Checksum uint16 // the value read by ParseICMPv4; Append computes its own

	// ID and Seq are the Identifier and Sequence Number of an echo request
	// or reply (RFC 792, Echo or Echo Reply Message).
	ID, Seq uint16

	// MTU is the Next-Hop MTU of a Destination Unreachable with code 4,
	// "fragmentation needed and DF set" (RFC 1191 §4): "The size in octets
	// of the largest datagram that could be forwarded". A router that
	// predates RFC 1191 sends 0 (RFC 1191 §5).
	MTU uint16

	// Pointer is the octet of the quoted header where a Parameter Problem
	// was found (RFC 792, Parameter Problem Message).
	Pointer uint8

	// Body is what follows the 8-byte header: an echo's data, or an error
	// message's quote of the invoking packet; for a generic message,
	// everything after the checksum. It aliases the input when parsed
	// (capacity limited to it) and is nil when empty.
	Body []byte

	// Quote is the invoking packet read from Body, for Destination
	// Unreachable, Time Exceeded and Parameter Problem. ParseICMPv4 sets
	// it; Append ignores it and writes Body.
	Quote Quote
}

// parsedICMPv4 reports whether t has fields past the checksum that
// ParseICMPv4 reads.
func parsedICMPv4(t ICMPv4Type) bool {
	switch t {
	case ICMPv4EchoReply, ICMPv4EchoRequest, ICMPv4DestUnreachable, ICMPv4TimeExceeded, ICMPv4ParamProblem:
		return true
	}
	return false
}

// ParseICMPv4 parses an ICMP message (RFC 792) and verifies its checksum,
// "the 16-bit ones's complement of the one's complement sum of the ICMP
// message starting with the ICMP Type" (RFC 792); a failure is an error
// wrapping ErrChecksum, checked first as ParseTCP does. b is the IPv4
// payload: ICMP has no length field of its own.
//
// Echo request and reply, Destination Unreachable, Time Exceeded and
// Parameter Problem need the 8-byte header; their unused bytes are
// ignored, as is the length of RFC 4884's extensions (which, when
// present, are left in Body after the quote). For the three errors the
// invoking packet is read into Quote, which says how much of it there is:
// a quote cut short still parses. Any other type parses as a generic
// message of at least 4 bytes, whatever its code: whether to handle it is
// for the caller (RFC 1122 §3.2.2: "If an ICMP message of unknown type is
// received, it MUST be silently discarded").
func ParseICMPv4(b []byte) (ICMPv4, error) {
	if len(b) < 4 {
		return ICMPv4{}, icmpErr("icmp", "header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need at least 4", ErrTruncated)
	}
	if Checksum(b, 0) != 0 {
		found := binary.BigEndian.Uint16(b[2:])
		want := Checksum(b[4:], Sum(b[:2], 0))
		return ICMPv4{}, checksumErr("icmp", "checksum", 2, found, want)
	}
	m := ICMPv4{Type: ICMPv4Type(b[0]), Code: b[1], Checksum: binary.BigEndian.Uint16(b[2:])}
	if !parsedICMPv4(m.Type) {
		m.Body = body(b, 4)
		return m, nil
	}
	if len(b) < icmpHeaderLen {
		return ICMPv4{}, icmpErr("icmp", "header", 0, "truncated: "+strconv.Itoa(len(b))+" bytes, need 8 for "+m.Type.String(), ErrTruncated)
	}
	m.Body = body(b, icmpHeaderLen)
	switch m.Type {
	case ICMPv4EchoRequest, ICMPv4EchoReply:
		m.ID = binary.BigEndian.Uint16(b[4:])
		m.Seq = binary.BigEndian.Uint16(b[6:])
		return m, nil
	case ICMPv4DestUnreachable:
		// RFC 1191 §4: "the router MUST include the MTU of that next-hop
		// network in the low-order 16 bits of the ICMP header field that
		// is labelled "unused" in the ICMP specification".
		if m.Code == ICMPv4FragmentationNeeded {
			m.MTU = binary.BigEndian.Uint16(b[6:])
		}
	case ICMPv4ParamProblem:
		m.Pointer = b[4]
	}
	m.Quote = parseQuote4(b[icmpHeaderLen:], icmpHeaderLen)
	return m, nil
}

// body returns b[off:] with its capacity limited, or nil if it is empty.
func body(b []byte, off int) []byte {
	if len(b) <= off {
		return nil
	}
	return b[off:len(b):len(b)]
}

// Len returns the length of the encoded message.
func (m *ICMPv4) Len() int {
	if parsedICMPv4(m.Type) {
		return icmpHeaderLen + len(m.Body)
	}
	return 4 + len(m.Body)
}

// Append appends the message to b with its checksum computed (RFC 792);
// m.Checksum and m.Quote are ignored. The header's fields are written for
// the types ParseICMPv4 reads them from, MTU only with code 4 of a
// Destination Unreachable, and the unused bytes are zero ("must be
// initialized to zero by the sender"); then Body. For a generic message,
// Body follows the checksum directly.
func (m *ICMPv4) Append(b []byte) []byte {
	start := len(b)
	b = append(b, byte(m.Type), m.Code, 0, 0)
	if parsedICMPv4(m.Type) {
		var rest [4]byte
		switch m.Type {
		case ICMPv4EchoRequest, ICMPv4EchoReply:
			binary.BigEndian.PutUint16(rest[:], m.ID)
			binary.BigEndian.PutUint16(rest[2:], m.Seq)
		case ICMPv4DestUnreachable:
			if m.Code == ICMPv4FragmentationNeeded {
				binary.BigEndian.PutUint16(rest[2:], m.MTU)
			}
		case ICMPv4ParamProblem:
			rest[0] = m.Pointer
		}
		b = append(b, rest[:]...)
	}
	b = append(b, m.Body...)
	binary.BigEndian.PutUint16(b[start+2:], Checksum(b[start:], 0))
	return b
}

// String prints the message on one line:
//
//	ICMP echo-request id=1 seq=2 len=56
//	ICMP dest-unreachable port-unreachable quoting 198.18.0.2:80>198.18.0.1:40000 TCP seq=1000
//	ICMP dest-unreachable fragmentation-needed mtu=1400 quoting 198.18.0.2:80>198.18.0.1:40000 TCP seq=1000
//	ICMP type=13 code=0 len=16
func (m *ICMPv4) String() string {
	var b strings.Builder
	b.WriteString("ICMP ")
	b.WriteString(m.Type.String())
	switch m.Type {
	case ICMPv4EchoRequest, ICMPv4EchoReply:
		writeEcho(&b, m.Code, m.ID, m.Seq, len(m.Body))
	case ICMPv4DestUnreachable:
		writeCode(&b, m.Code, icmpv4DestUnreachableCodes[:]...)
		if m.Code == ICMPv4FragmentationNeeded {
			b.WriteString(" mtu=")
			b.WriteString(strconv.Itoa(int(m.MTU)))
		}
		writeQuote(&b, &m.Quote)
	case ICMPv4TimeExceeded:
		writeCode(&b, m.Code, "ttl-exceeded", "reassembly-time-exceeded")
		writeQuote(&b, &m.Quote)
	case ICMPv4ParamProblem:
		// RFC 792: "0 = pointer indicates the error"; RFC 1122 §3.2.2.5:
		// "Code 1 = required option is missing".
		writeCode(&b, m.Code, "pointer-indicates-error", "required-option-missing")
		b.WriteString(" pointer=")
		b.WriteString(strconv.Itoa(int(m.Pointer)))
		writeQuote(&b, &m.Quote)
	default:
		writeGeneric(&b, m.Code, len(m.Body))
	}
	return b.String()
}

func writeEcho(b *strings.Builder, code uint8, id, sq uint16, n int) {
	if code != 0 {
		b.WriteString(" code=")
		b.WriteString(strconv.Itoa(int(code)))
	}
	b.WriteString(" id=")
	b.WriteString(strconv.Itoa(int(id)))
	b.WriteString(" seq=")
	b.WriteString(strconv.Itoa(int(sq)))
	b.WriteString(" len=")
	b.WriteString(strconv.Itoa(n))
}

// writeCode writes the name of code from names, or its number.
func writeCode(b *strings.Builder, code uint8, names ...string) {
	b.WriteByte(' ')
	if int(code) < len(names) {
		b.WriteString(names[code])
		return
	}
	b.WriteString("code=")
	b.WriteString(strconv.Itoa(int(code)))
}

func writeQuote(b *strings.Builder, q *Quote) {
	b.WriteString(" quoting ")
	b.WriteString(q.String())
}

func writeGeneric(b *strings.Builder, code uint8, n int) {
	b.WriteString(" code=")
	b.WriteString(strconv.Itoa(int(code)))
	b.WriteString(" len=")
	b.WriteString(strconv.Itoa(n))
}

func icmpErr(layer, field string, off int, msg string, err error) error {
	return &ParseError{Layer: layer, Field: field, Offset: off, Msg: msg, Err: err}
}
