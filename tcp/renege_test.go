package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// A receiver that reneges: it SACKs the second and third segments, then
// acknowledges only the first (RFC 2018 §8: "the data receiver is
// permitted to discard data in its queue that has not been acknowledged
// to the data sender, even if the data has already been reported in a
// SACK option"). The sender kept the data ("the sender MUST NOT discard
// data before it is acknowledged by the Acknowledgment Number field") and
// at the first retransmission timeout resends the segment at the left
// edge though it is SACKed (§3: "The data sender MUST retransmit the
// segment at the left edge of the window after a retransmit timeout,
// whether or not the SACKed bit is on for that segment"), then the third
// once the second is acknowledged, its SACKed bit turned off too ("the
// data sender SHOULD turn off all of the SACKed bits").
func TestSACKRenegingFirstTimeout(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	d := data('r', 3*mss)
	win := f.c.RecvBuffer() >> f.c.wantShift()
	f.write(t, sec(1), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:mss], Win: win},
		seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: d[mss : 2*mss], Win: win},
		seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 2*mss, Ack: 1, Data: d[2*mss:], Win: win})
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + mss, 1 + 3*mss}})
	f.wantNothing(t)
	f.send(t, ms(1101), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + mss})
	f.wantNothing(t)
	if i := f.c.Info(); i.SackedBytes != 2*mss || i.Unacked != 2*mss {
		t.Fatalf("after the reneging ACK: %d bytes SACKed, %d unacknowledged, want both %d", i.SackedBytes, i.Unacked, 2*mss)
	}
	f.advance(t, f.c.NextDeadline())
	f.want(t, "the first timeout resends the SACKed left edge",
		seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: d[mss : 2*mss], Win: win, Rtx: true})
	if i := f.c.Info(); i.SackedBytes != 0 || i.CAState != CALoss {
		t.Fatalf("after the timeout: %d bytes SACKed (want 0), state %v (want loss)", i.SackedBytes, i.CAState)
	}
	f.send(t, f.now+ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss})
	f.want(t, "then the third, SACKed once and dropped by the receiver",
		seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 2*mss, Ack: 1, Data: d[2*mss:], Win: win, Rtx: true})
}
