package stack

import (
	"net/netip"

	"github.com/gosynack/synack/wire"
)

// parseTCP is wire.ParseTCP, without the checksum when the link has
// verified it (Config.LinkVerifiesChecksums) or cannot corrupt
// (Config.LinkOffloadsChecksums).
func (s *Stack) parseTCP(payload []byte, src, dst netip.Addr) (wire.Segment, error) {
	if s.cfg.LinkVerifiesChecksums || s.cfg.LinkOffloadsChecksums {
		return wire.ParseTCPNoChecksum(payload)
	}
	return wire.ParseTCP(payload, src, dst)
}
