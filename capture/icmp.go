package capture

import (
	"fmt"

	"github.com/gosynack/synack/wire"
)

// Words says what the message is, as a reader of the ladder wants it:
// its type and code in words, with the MTU of a Fragmentation Needed (RFC
// 1191 §4) or a Packet Too Big (RFC 4443 §3.2) and the identifier and
// sequence number of an echo.
//
//	ICMP Destination Unreachable (port unreachable)
//	ICMP Fragmentation Needed mtu=1280
//	ICMPv6 Packet Too Big mtu=1280
//	ICMPv6 Time Exceeded (hop limit exceeded in transit)
//	ICMPv6 Echo Request id=7 seq=1 len=56
func (m *Message) Words() string {
	if m.IsV6 {
		return words6(&m.V6)
	}
	return words4(&m.V4)
}

func coded(what string, code uint8, names ...string) string {
	if int(code) < len(names) && names[code] != "" {
		return what + " (" + names[code] + ")"
	}
	return fmt.Sprintf("%s (code %d)", what, code)
}

func echo(what string, id, sq uint16, n int) string {
	return fmt.Sprintf("%s id=%d seq=%d len=%d", what, id, sq, n)
}

// words4 names ICMP types and codes as RFC 792, RFC 1122 §3.2.2.1 and
// RFC 1812 §5.2.7.1 do.
func words4(v *wire.ICMPv4) string {
	const p = "ICMP "
	switch v.Type {
	case wire.ICMPv4EchoRequest:
		return echo(p+"Echo Request", v.ID, v.Seq, len(v.Body))
	case wire.ICMPv4EchoReply:
		return echo(p+"Echo Reply", v.ID, v.Seq, len(v.Body))
	case wire.ICMPv4DestUnreachable:
		if v.Code == wire.ICMPv4FragmentationNeeded {
			// RFC 1191 §4: "fragmentation needed and DF set", with the
			// next-hop MTU; 0 from a router older than RFC 1191.
			if v.MTU == 0 {
				return p + "Fragmentation Needed (next-hop mtu not given)"
			}
			return fmt.Sprintf("%sFragmentation Needed mtu=%d", p, v.MTU)
		}
		return coded(p+"Destination Unreachable", v.Code, "net unreachable", "host unreachable", "protocol unreachable",
			"port unreachable", "", "source route failed", "net unknown", "host unknown", "source host isolated",
			"net administratively prohibited", "host administratively prohibited", "net unreachable for TOS",
			"host unreachable for TOS", "administratively prohibited", "host precedence violation", "precedence cutoff")
	case wire.ICMPv4TimeExceeded:
		return coded(p+"Time Exceeded", v.Code, "TTL exceeded in transit", "fragment reassembly time exceeded")
	case wire.ICMPv4ParamProblem:
		return fmt.Sprintf("%s pointer=%d", coded(p+"Parameter Problem", v.Code, "pointer indicates the error", "required option missing", "bad length"), v.Pointer)
	case 4:
		return p + "Source Quench"
	case 5:
		return coded(p+"Redirect", v.Code, "for the network", "for the host", "for the TOS and network", "for the TOS and host")
	}
	return fmt.Sprintf("%stype %d code %d", p, v.Type, v.Code)
}

// words6 names ICMPv6 types and codes as RFC 4443, RFC 4861 (neighbour
// discovery) and RFC 3810 (MLDv2) do.
func words6(v *wire.ICMPv6) string {
	const p = "ICMPv6 "
	switch v.Type {
	case wire.ICMPv6EchoRequest:
		return echo(p+"Echo Request", v.ID, v.Seq, len(v.Body))
	case wire.ICMPv6EchoReply:
		return echo(p+"Echo Reply", v.ID, v.Seq, len(v.Body))
	case wire.ICMPv6DestUnreachable:
		return coded(p+"Destination Unreachable", v.Code, "no route to destination", "administratively prohibited",
			"beyond scope of source address", "address unreachable", "port unreachable",
			"source address failed ingress/egress policy", "reject route to destination")
	case wire.ICMPv6PacketTooBig:
		return fmt.Sprintf("%sPacket Too Big mtu=%d", p, v.MTU)
	case wire.ICMPv6TimeExceeded:
		return coded(p+"Time Exceeded", v.Code, "hop limit exceeded in transit", "fragment reassembly time exceeded")
	case wire.ICMPv6ParamProblem:
		return fmt.Sprintf("%s pointer=%d", coded(p+"Parameter Problem", v.Code, "erroneous header field",
			"unrecognized Next Header type", "unrecognized IPv6 option", "incomplete header chain"), v.Pointer)
	}
	if n := ndName(v.Type); n != "" {
		return p + n
	}
	return fmt.Sprintf("%stype %d code %d", p, v.Type, v.Code)
}

// ndName names the ICMPv6 messages of neighbour discovery (RFC 4861 §4)
// and multicast listener discovery (RFC 2710, RFC 3810), which every IPv6
// link carries.
func ndName(t wire.ICMPv6Type) string {
	switch t {
	case 130:
		return "Multicast Listener Query"
	case 131:
		return "Multicast Listener Report"
	case 132:
		return "Multicast Listener Done"
	case 133:
		return "Router Solicitation"
	case 134:
		return "Router Advertisement"
	case 135:
		return "Neighbor Solicitation"
	case 136:
		return "Neighbor Advertisement"
	case 137:
		return "Redirect"
	case 143:
		return "Multicast Listener Report v2"
	}
	return ""
}

// linkLocal reports a message of neighbour discovery or multicast listener
// discovery: the link's own business, never about a TCP connection.
func (m *Message) linkLocal() bool {
	return m.IsV6 && ndName(m.V6.Type) != ""
}
