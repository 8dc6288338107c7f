package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// A duplicate that PAWS drops (an original overtaken by its
// retransmission carries the older TSval) is still reported: RFC 7323
// §5.3 R1, "Send an acknowledgment in reply ... and drop the segment",
// and RFC 2883 §4, "the first block of the SACK option should be a D-SACK
// block specifying the sequence numbers for the duplicate segment that
// triggers the acknowledgement". The bytes count in Stats.DupBytesIn.
func TestPAWSDuplicateDSACK(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	oldTS := f.peerTS(ms(900))
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("abc")})
	f.advance(t, ms(1040))
	f.want(t, "the delayed ACK of the data", seg{Flags: wire.ACK, Seq: 1, Ack: 4, Win: (65536-3)/2 + 1})
	old := wire.Options{HasTimestamps: true, TSVal: oldTS, TSEcr: f.lastOurTS}
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("abc"), Opt: old})
	f.want(t, "the ACK for the PAWS drop, with a D-SACK of the duplicate",
		seg{Flags: wire.ACK, Seq: 1, Ack: 4, Win: (65536-3)/2 + 1, SACK: []uint32{1, 4}})
	if s := f.c.Stats(); s.PAWSDrops != 1 || s.DupBytesIn != 3 {
		t.Fatalf("PAWSDrops %d DupBytesIn %d, want 1 and 3", s.PAWSDrops, s.DupBytesIn)
	}
}
