package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/wire"
)

// Segment is a TCP packet, over IPv4 or IPv6, decoded from a capture.
type Segment struct {
	Src, Dst netip.AddrPort
	IP       wire.IP
	// TCP is the header; Payload is nil and PayloadLen is the length the
	// IP header gives, even if the snaplen cut the bytes.
	TCP        wire.Segment
	PayloadLen int
	// Truncated: the capture holds the headers but not all the payload
	// (a small snaplen). The TCP checksum cannot be checked then; it is
	// never checked anyway, since captures taken where the kernel offloads
	// checksums carry wrong ones.
	Truncated bool
}

// Message is an ICMP (RFC 792) or ICMPv6 (RFC 4443) message decoded from
// a capture. V6 says which of V4 and V6 holds it.
type Message struct {
	Src, Dst netip.Addr
	IsV6     bool
	V4       wire.ICMPv4
	V6       wire.ICMPv6
	// Problem says what is wrong with the message, "" if nothing: a bad
	// checksum (the message is then read as if it were right, so that the
	// ladder can show what it said), a cut by the snaplen, a quote cut
	// short.
	Problem string
}

// Quote returns what the message quotes of the packet that caused it
// (zero for a message that is not an error).
func (m *Message) Quote() *wire.Quote {
	if m.IsV6 {
		return &m.V6.Quote
	}
	return &m.V4.Quote
}

// IsError reports whether the message is an ICMP or ICMPv6 error.
func (m *Message) IsError() bool {
	if m.IsV6 {
		return m.V6.Type.IsError()
	}
	return m.V4.Type.IsError()
}

// skip is a packet that is neither a TCP segment nor an ICMP message and
// is counted, not an error: the reason it was left out.
type skip string

const (
	skipNotIP      skip = "packets that are not IP (ARP, LLDP...)"
	skipNotTCP     skip = "IP packets that are neither TCP nor ICMP (UDP...)"
	skipFragment   skip = "IPv4 fragments (not reassembled)"
	skipFragment6  skip = "IPv6 fragments (not reassembled)"
	skipNoNextHdr6 skip = "IPv6 packets with no upper-layer header (No Next Header)"
)

// linkIP strips the link layer of data and returns the IPv4 or IPv6
// packet, or a skip reason, or an error for a frame too short or a link
// type synack does not read.
func linkIP(lt layers.LinkType, data []byte) ([]byte, skip, error) {
	if !supported(lt) {
		return nil, "", unsupported(lt)
	}
	var proto uint16 // an EtherType
	var rest []byte
	switch lt {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return nil, "", fmt.Errorf("ethernet header cut: %d bytes, need 14", len(data))
		}
		proto, rest = binary.BigEndian.Uint16(data[12:]), data[14:]
		for proto == 0x8100 || proto == 0x88a8 { // 802.1Q / 802.1ad tags
			if len(rest) < 4 {
				return nil, "", fmt.Errorf("VLAN tag cut at offset %d", len(data)-len(rest))
			}
			proto, rest = binary.BigEndian.Uint16(rest[2:]), rest[4:]
		}
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, 12, 14: // 12 and 14: DLT_RAW on some BSDs
		if len(data) == 0 {
			return nil, "", errors.New("empty packet")
		}
		switch data[0] >> 4 {
		case 4, 6:
			return data, "", nil
		}
		return nil, skipNotIP, nil
	case layers.LinkTypeIPv6:
		if len(data) == 0 {
			return nil, "", errors.New("empty packet")
		}
		return data, "", nil
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return nil, "", fmt.Errorf("linux cooked (SLL) header cut: %d bytes, need 16", len(data))
		}
		proto, rest = binary.BigEndian.Uint16(data[14:]), data[16:]
	case layers.LinkTypeLinuxSLL2:
		if len(data) < 20 {
			return nil, "", fmt.Errorf("linux cooked v2 (SLL2) header cut: %d bytes, need 20", len(data))
		}
		proto, rest = binary.BigEndian.Uint16(data[0:]), data[20:]
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		if len(data) < 4 {
			return nil, "", fmt.Errorf("loopback header cut: %d bytes, need 4", len(data))
		}
		// The address family, in the capturing host's byte order for
		// Null, network order for Loop: AF_INET is 2 everywhere; AF_INET6
		// is 10, 24, 28 or 30 depending on the system.
		af := binary.LittleEndian.Uint32(data)
		if af > 0xffff {
			af = binary.BigEndian.Uint32(data)
		}
		switch af {
		case 2, 10, 24, 28, 30:
			return data[4:], "", nil
		}
		return nil, skipNotIP, nil
	default:
		return nil, "", unsupported(lt)
	}
	switch proto {
	case 0x0800, 0x86dd:
		return rest, "", nil
	}
	return nil, skipNotIP, nil
}

func unsupported(lt layers.LinkType) error {
	return fmt.Errorf("link type %d (%v) is not supported (synack reads Ethernet, raw IP, Linux cooked SLL/SLL2 and BSD loopback)", uint16(lt), lt)
}

// supported reports whether linkIP reads frames of link type lt.
func supported(lt layers.LinkType) bool {
	switch lt {
	case layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeIPv4, 12, 14, layers.LinkTypeIPv6,
		layers.LinkTypeLinuxSLL, layers.LinkTypeLinuxSLL2, layers.LinkTypeNull, layers.LinkTypeLoop:
		return true
	}
	return false
}

// LinkTypesSupported returns an error when the file holds frames and
// none of them is of a link type synack reads.
func (f *File) LinkTypesSupported() error {
	if len(f.Packets) == 0 {
		return nil
	}
	for i := range f.Packets {
		if supported(f.Packets[i].LinkType) {
			return nil
		}
	}
	lt := f.Packets[0].LinkType
	return fmt.Errorf("link type %d (%v) is not supported: synack reads Ethernet, raw IP, Linux cooked (SLL, SLL2) and BSD loopback captures", uint16(lt), lt)
}

// decode reads the TCP segment or the ICMP message of a captured packet,
// over IPv4 or IPv6. The IPv4 header's checksum is verified (the kernel
// always computes it); the TCP checksum is not. IPv6 extension headers are
// walked to the upper-layer header (wire.ParseIPv6).
func decode(p *Packet) (*Segment, *Message, skip, error) {
	b, sk, err := linkIP(p.LinkType, p.Data)
	if err != nil || sk != "" {
		return nil, nil, sk, err
	}
	if len(b) > 0 && b[0]>>4 == 6 {
		return decode6(b)
	}
	return decode4(b)
}

func decode4(b []byte) (*Segment, *Message, skip, error) {
	if len(b) < 20 {
		return nil, nil, "", fmt.Errorf("IPv4 header cut: %d bytes captured, need 20", len(b))
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ff := binary.BigEndian.Uint16(b[6:]); ff&0x3fff != 0 {
		return nil, nil, skipFragment, nil
	}
	proto := b[9]
	if proto != wire.ProtocolTCP && proto != wire.ProtocolICMP {
		return nil, nil, skipNotTCP, nil
	}
	truncated := false
	switch {
	case total < len(b) && total >= ihl:
		b = b[:total] // Ethernet padding after the datagram
	case total > len(b):
		// The snaplen cut the packet: keep the headers if they are all
		// there, and fill the missing payload with zeros so that the
		// lengths stay right.
		if proto == wire.ProtocolTCP && (ihl < 20 || len(b) < ihl+20 || len(b) < ihl+int(b[ihl+12]>>4)*4) ||
			proto == wire.ProtocolICMP && (ihl < 20 || len(b) < ihl+8) {
			return nil, nil, "", fmt.Errorf("cut by the snaplen inside the headers: %d of %d bytes captured", len(b), total)
		}
		full := make([]byte, total)
		copy(full, b)
		b, truncated = full, true
	}
	ip, payload, err := wire.ParseIPv4(b)
	if err != nil {
		return nil, nil, "", err
	}
	h := wire.IP{Version: 4, V4: ip}
	if proto == wire.ProtocolICMP {
		m, err := icmp4(payload, truncated)
		if err != nil {
			return nil, nil, "", err
		}
		m.Src, m.Dst = ip.Src, ip.Dst
		return nil, m, "", nil
	}
	s, err := tcp(h, payload, truncated)
	return s, nil, "", err
}

func decode6(b []byte) (*Segment, *Message, skip, error) {
	if len(b) < 40 {
		return nil, nil, "", fmt.Errorf("IPv6 header cut: %d bytes captured, need 40", len(b))
	}
	captured := len(b)
	truncated := false
	switch total := 40 + int(binary.BigEndian.Uint16(b[4:])); {
	case total < len(b):
		// Padding after the packet (Ethernet pads frames to 60 bytes);
		// a jumbogram (RFC 2675, Payload Length 0) is not supported and
		// fails in ParseIPv6 for its Hop-by-Hop header cut short.
		b = b[:total]
	case total > len(b):
		full := make([]byte, total)
		copy(full, b)
		b, truncated = full, true
	}
	ip, payload, err := wire.ParseIPv6(b)
	switch {
	case errors.Is(err, wire.ErrFragment):
		return nil, nil, skipFragment6, nil
	case err != nil && truncated:
		return nil, nil, "", fmt.Errorf("cut by the snaplen inside the headers: %d of %d bytes captured (%w)", captured, len(b), err)
	case err != nil:
		return nil, nil, "", err
	}
	// The headers the payload starts after, and how many of them the
	// capture holds.
	hdrs := len(b) - len(payload)
	switch ip.NextHeader {
	case wire.ProtocolTCP:
		if truncated && (captured < hdrs+20 || captured < hdrs+int(payload[12]>>4)*4) {
			return nil, nil, "", fmt.Errorf("cut by the snaplen inside the headers: %d of %d bytes captured", captured, len(b))
		}
		s, err := tcp(wire.IP{Version: 6, V6: ip}, payload, truncated)
		return s, nil, "", err
	case wire.ProtocolICMPv6:
		if truncated && captured < hdrs+8 {
			return nil, nil, "", fmt.Errorf("cut by the snaplen inside the ICMPv6 header: %d of %d bytes captured", captured, len(b))
		}
		m, err := icmp6(payload, ip.Src, ip.Dst, truncated)
		if err != nil {
			return nil, nil, "", err
		}
		m.Src, m.Dst = ip.Src, ip.Dst
		return nil, m, "", nil
	case wire.ProtocolNoNextHeader:
		return nil, nil, skipNoNextHdr6, nil
	}
	return nil, nil, skipNotTCP, nil
}

// tcp reads the TCP segment of an IP packet.
func tcp(ip wire.IP, payload []byte, truncated bool) (*Segment, error) {
	seg, err := wire.ParseTCPNoChecksum(payload)
	if err != nil {
		return nil, err
	}
	s := &Segment{
		Src: netip.AddrPortFrom(ip.Src(), seg.SrcPort), Dst: netip.AddrPortFrom(ip.Dst(), seg.DstPort),
		IP: ip, TCP: seg, PayloadLen: len(seg.Payload), Truncated: truncated,
	}
	s.TCP.Payload = nil
	return s, nil
}

// icmp4 reads an ICMP message. One whose checksum fails is read as if it
// were right, with the failure in Problem: a receiver discards it (RFC
// 1122 §3.2.2), but what it says belongs on the ladder. So is one the
// snaplen cut, whose checksum cannot be checked.
func icmp4(b []byte, truncated bool) (*Message, error) {
	v, err := wire.ParseICMPv4(b)
	problem := ""
	if err != nil && errors.Is(err, wire.ErrChecksum) && len(b) >= 4 {
		problem = "bad ICMP checksum: the receiver discards it (" + err.Error() + ")"
		if truncated {
			problem = "cut by the snaplen: its checksum is not checked"
		}
		fixed := append([]byte(nil), b...)
		fixed[2], fixed[3] = 0, 0
		binary.BigEndian.PutUint16(fixed[2:], wire.Checksum(fixed, 0))
		v, err = wire.ParseICMPv4(fixed)
	}
	if err != nil {
		return nil, err
	}
	m := &Message{V4: v, Problem: problem}
	m.quoteProblem()
	return m, nil
}

// icmp6 is icmp4 for ICMPv6 (RFC 4443 §2.3's checksum, over the
// pseudo-header of src and dst).
func icmp6(b []byte, src, dst netip.Addr, truncated bool) (*Message, error) {
	v, err := wire.ParseICMPv6(b, src, dst)
	problem := ""
	if err != nil && errors.Is(err, wire.ErrChecksum) && len(b) >= 4 {
		problem = "bad ICMPv6 checksum: the receiver discards it (" + err.Error() + ")"
		if truncated {
			problem = "cut by the snaplen: its checksum is not checked"
		}
		fixed := append([]byte(nil), b...)
		fixed[2], fixed[3] = 0, 0
		ph := wire.PseudoHeaderSum(src, dst, wire.ProtocolICMPv6, len(b))
		binary.BigEndian.PutUint16(fixed[2:], wire.Checksum(fixed, ph))
		v, err = wire.ParseICMPv6(fixed, src, dst)
	}
	if err != nil {
		return nil, err
	}
	m := &Message{IsV6: true, V6: v, Problem: problem}
	m.quoteProblem()
	return m, nil
}

// quoteProblem adds to Problem an error message's quote cut short.
func (m *Message) quoteProblem() {
	if !m.IsError() {
		return
	}
	if q := m.Quote(); q.Err != nil && m.Problem == "" {
		m.Problem = "its quote of the packet that caused it is incomplete: " + q.Err.Error()
	}
}
