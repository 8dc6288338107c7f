package stack

import (
	"strconv"

	"github.com/gosynack/synack/wire"
)

// parse is wire.ParsePacket, without the TCP checksum when the link has
// verified it (Config.LinkVerifiesChecksums).
func (s *Stack) parse(pkt []byte) (wire.Packet, error) {
	if !s.cfg.LinkVerifiesChecksums {
		return wire.ParsePacket(pkt)
	}
	ip, payload, err := wire.ParseIPv4(pkt)
	if err != nil {
		return wire.Packet{}, err
	}
	if ip.Protocol != wire.ProtocolTCP {
		return wire.Packet{}, &wire.ParseError{Layer: "ipv4", Field: "protocol", Offset: 9, Msg: strconv.Itoa(int(ip.Protocol)) + ", want 6 (TCP)"}
	}
	seg, err := wire.ParseTCPNoChecksum(payload)
	if err != nil {
		return wire.Packet{}, err
	}
	return wire.Packet{IP: ip, TCP: seg}, nil
}
