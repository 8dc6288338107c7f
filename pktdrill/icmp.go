package pktdrill

import (
	"encoding/binary"
	"strconv"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// ICMP names of packet lines, as packetdrill's icmp_packet.c has them:
// a type, then a code of that type (a number is taken too).
var icmp4Types = map[string]wire.ICMPv4Type{
	"echo_reply":              0,
	"unreachable":             3,
	"destination_unreachable": 3,
	"source_quench":           4,
	"redirect":                5,
	"echo_request":            8,
	"time_exceeded":           11,
	"parameter_problem":       12,
}

var icmp4Codes = map[string]uint8{
	"net_unreachable":          wire.ICMPv4NetUnreachable,
	"host_unreachable":         wire.ICMPv4HostUnreachable,
	"protocol_unreachable":     wire.ICMPv4ProtocolUnreachable,
	"port_unreachable":         wire.ICMPv4PortUnreachable,
	"frag_needed":              wire.ICMPv4FragmentationNeeded,
	"source_route_failed":      wire.ICMPv4SourceRouteFailed,
	"net_unknown":              6,
	"host_unknown":             7,
	"source_host_isolated":     8,
	"net_prohibited":           wire.ICMPv4NetProhibited,
	"host_prohibited":          wire.ICMPv4HostProhibited,
	"net_unreachable_for_tos":  11,
	"host_unreachable_for_tos": 12,
	"packet_filtered":          wire.ICMPv4AdminProhibited,
	"precedence_violation":     14,
	"precedence_cutoff":        15,
	// time_exceeded
	"ttl_exceeded":             0,
	"frag_reassembly_exceeded": 1,
}

var icmp6Types = map[string]wire.ICMPv6Type{
	"unreachable":             1,
	"destination_unreachable": 1,
	"packet_too_big":          2,
	"time_exceeded":           3,
	"parameter_problem":       4,
	"echo_request":            128,
	"echo_reply":              129,
}

var icmp6Codes = map[string]uint8{
	"no_route":            wire.ICMPv6NoRoute,
	"admin_prohibited":    wire.ICMPv6AdminProhibited,
	"beyond_scope":        wire.ICMPv6BeyondScope,
	"address_unreachable": wire.ICMPv6AddressUnreachable,
	"port_unreachable":    wire.ICMPv6PortUnreachable,
	"source_policy":       wire.ICMPv6SourcePolicyFailed,
	"reject_route":        wire.ICMPv6RejectRoute,
	// time_exceeded
	"hop_limit_exceeded":       0,
	"ttl_exceeded":             0,
	"frag_reassembly_exceeded": 1,
}

func icmpCode(name string, table map[string]uint8) (uint8, bool) {
	if name == "" {
		return 0, true
	}
	if c, ok := table[name]; ok {
		return c, true
	}
	n, err := strconv.ParseUint(name, 0, 8)
	return uint8(n), err == nil
}

// inboundICMP injects an ICMP or ICMPv6 error from the scripted peer's
// address (the router of packetdrill's model) about a segment the stack
// sent, as packetdrill builds it: the quoted packet is the stack's own
// IP header and the first 8 bytes of its TCP header (RFC 792: "Internet
// Header + 64 bits of Original Data Datagram"), with the connection's
// addresses and ports and the sequence number "[start:end(len)]" gives,
// relative to the stack's ISN (0, the ISN, when not given). Under
// --ip_version=ipv6, "unreachable frag_needed mtu N" is sent as a Packet
// Too Big of MTU N, as packetdrill does, so that one script serves both
// families.
func (r *runner) inboundICMP(ev *Event) *Failure {
	ic := ev.Packet.ICMP
	localPort, remotePort := uint16(ServerPort), uint16(PeerPort)
	if r.activePort != 0 {
		localPort, remotePort = r.activePort, ServerPort
	}
	var start seq.Value
	if ic.HasEchoed {
		start = seq.Value(ic.EchoStart)
	}
	if r.haveISN {
		start = r.localISN + start
	}
	quotedLen := 20 + ic.EchoLen // the quoted segment's TCP header and payload
	tcp8 := make([]byte, 8)
	binary.BigEndian.PutUint16(tcp8, localPort)
	binary.BigEndian.PutUint16(tcp8[2:], remotePort)
	binary.BigEndian.PutUint32(tcp8[4:], uint32(start))

	var b []byte
	if r.wireV6() {
		typ, ok := icmp6Types[ic.Type]
		code := uint8(0)
		if ic.Type == "unreachable" && ic.Code == "frag_needed" {
			typ, ok = wire.ICMPv6PacketTooBig, true
		} else if !ok {
			return r.malformed(ev.Line, "unknown ICMPv6 type %q (expected one of unreachable, packet_too_big, time_exceeded, parameter_problem)", ic.Type)
		} else if code, ok = icmpCode(ic.Code, icmp6Codes); !ok {
			return r.malformed(ev.Line, "unknown ICMPv6 code %q for type %s", ic.Code, ic.Type)
		}
		quoted := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: r.localAddr, Dst: r.remoteAddr}
		body := append(quoted.Append(nil, quotedLen), tcp8...)
		m := wire.ICMPv6{Type: typ, Code: code, Body: body}
		if typ == wire.ICMPv6PacketTooBig {
			m.MTU = uint32(ic.MTU)
		}
		ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: r.remoteAddr, Dst: r.localAddr}
		b = ip.Append(nil, m.Len())
		b = m.Append(b, r.remoteAddr, r.localAddr)
	} else {
		typ, ok := icmp4Types[ic.Type]
		if !ok {
			return r.malformed(ev.Line, "unknown ICMP type %q (expected one of unreachable, time_exceeded, parameter_problem, source_quench)", ic.Type)
		}
		code, ok := icmpCode(ic.Code, icmp4Codes)
		if !ok {
			return r.malformed(ev.Line, "unknown ICMP code %q for type %s", ic.Code, ic.Type)
		}
		quoted := wire.IPv4{TTL: 64, DontFragment: true, Protocol: wire.ProtocolTCP, Src: r.localAddr.Unmap(), Dst: r.remoteAddr.Unmap()}
		body := append(quoted.Append(nil, quotedLen), tcp8...)
		m := wire.ICMPv4{Type: typ, Code: code, Body: body}
		if typ == wire.ICMPv4DestUnreachable && code == wire.ICMPv4FragmentationNeeded {
			m.MTU = uint16(ic.MTU)
		}
		ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: r.remoteAddr.Unmap(), Dst: r.localAddr.Unmap()}
		b = ip.Append(nil, m.Len())
		b = m.Append(b)
	}
	r.logf("inject  %s (line %d)", ev.Packet, ev.Line)
	return r.inject(ev, b)
}
