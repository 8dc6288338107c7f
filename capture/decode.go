package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/wire"
)

// Segment is a TCP/IPv4 packet decoded from a capture.
type Segment struct {
	Src, Dst netip.AddrPort
	IP       wire.IPv4
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

// skip is a packet that is not a TCP/IPv4 segment and is counted, not an
// error: the reason it was left out.
type skip string

const (
	skipIPv6     skip = "IPv6 packets (IPv6 not supported yet)"
	skipNotIP    skip = "packets that are not IP (ARP, LLDP...)"
	skipNotTCP   skip = "IPv4 packets that are not TCP (UDP, ICMP...)"
	skipFragment skip = "IPv4 fragments (not reassembled)"
)

// linkIPv4 strips the link layer of data and returns the IP packet, or a
// skip reason, or an error for a frame too short or a link type synack
// does not read.
func linkIPv4(lt layers.LinkType, data []byte) ([]byte, skip, error) {
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
		case 4:
			return data, "", nil
		case 6:
			return nil, skipIPv6, nil
		}
		return nil, skipNotIP, nil
	case layers.LinkTypeIPv6:
		return nil, skipIPv6, nil
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
		case 2:
			return data[4:], "", nil
		case 10, 24, 28, 30:
			return nil, skipIPv6, nil
		}
		return nil, skipNotIP, nil
	default:
		return nil, "", unsupported(lt)
	}
	switch proto {
	case 0x0800:
		return rest, "", nil
	case 0x86dd:
		return nil, skipIPv6, nil
	}
	return nil, skipNotIP, nil
}

func unsupported(lt layers.LinkType) error {
	return fmt.Errorf("link type %d (%v) is not supported (synack reads Ethernet, raw IP, Linux cooked SLL/SLL2 and BSD loopback)", uint16(lt), lt)
}

// supported reports whether linkIPv4 reads frames of link type lt.
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

// decode reads the TCP/IPv4 segment of a captured packet. The IP header's
// checksum is verified (the kernel always computes it); the TCP checksum
// is not.
func decode(p *Packet) (Segment, skip, error) {
	b, sk, err := linkIPv4(p.LinkType, p.Data)
	if err != nil || sk != "" {
		return Segment{}, sk, err
	}
	if len(b) < 20 {
		return Segment{}, "", fmt.Errorf("IPv4 header cut: %d bytes captured, need 20", len(b))
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:]))
	if ff := binary.BigEndian.Uint16(b[6:]); ff&0x3fff != 0 {
		return Segment{}, skipFragment, nil
	}
	if b[9] != wire.ProtocolTCP {
		return Segment{}, skipNotTCP, nil
	}
	truncated := false
	switch {
	case total < len(b) && total >= ihl:
		b = b[:total] // Ethernet padding after the datagram
	case total > len(b):
		// The snaplen cut the packet: keep the headers if they are all
		// there, and fill the missing payload with zeros so that the
		// lengths stay right.
		if ihl < 20 || len(b) < ihl+20 || len(b) < ihl+int(b[ihl+12]>>4)*4 {
			return Segment{}, "", fmt.Errorf("cut by the snaplen inside the headers: %d of %d bytes captured", len(b), total)
		}
		full := make([]byte, total)
		copy(full, b)
		b, truncated = full, true
	}
	ip, payload, err := wire.ParseIPv4(b)
	if err != nil {
		return Segment{}, "", err
	}
	seg, err := wire.ParseTCPNoChecksum(payload)
	if err != nil {
		return Segment{}, "", err
	}
	s := Segment{
		Src: netip.AddrPortFrom(ip.Src, seg.SrcPort), Dst: netip.AddrPortFrom(ip.Dst, seg.DstPort),
		IP: ip, TCP: seg, PayloadLen: len(seg.Payload), Truncated: truncated,
	}
	s.TCP.Payload = nil
	return s, "", nil
}
