package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// Info.CAState names the sender's loss-recovery state as Linux's
// tcpi_ca_state does. RFC 5681 §3.2: "The fast retransmit algorithm uses
// the arrival of 3 duplicate ACKs ... as an indication that a segment has
// been lost"; before the third the sender is in disorder (RFC 3042's
// limited transmit), at the third in recovery, and back in the open state
// once "the ACK acknowledges all of the data up to and including
// 'recover'" (RFC 6582 §3.2 step 3). A retransmission timeout starts the
// loss state (RFC 6298 §5.4).
func TestCAState(t *testing.T) {
	const m = 1460
	f := newEstablished(t)
	in := data('c', 12*m)
	part := func(k int) []byte { return in[k*m : (k+1)*m] }
	f.write(t, sec(1), in[:10*m])
	var first []seg
	for k := range 10 {
		first = append(first, seg{Flags: wire.ACK, Seq: uint32(1 + k*m), Ack: 1, Data: part(k)})
	}
	first[9].Flags |= wire.PSH // the write's last segment
	f.want(t, "the initial window", first...)
	wantCA := func(s CAState) {
		t.Helper()
		if got := f.c.Info().CAState; got != s {
			t.Fatalf("at %v: CAState %v, want %v", f.now, got, s)
		}
	}
	wantCA(CAOpen)
	dup := seg{Flags: wire.ACK, Seq: 1, Ack: 1}
	f.send(t, ms(1100), dup)
	f.wantNothing(t) // nothing more written: no limited transmit
	wantCA(CADisorder)
	f.send(t, ms(1101), dup)
	f.wantNothing(t)
	wantCA(CADisorder)
	f.send(t, ms(1102), dup)
	f.want(t, "the third: fast retransmit", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: part(0), Rtx: true})
	wantCA(CARecovery)
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 10*m})
	f.wantNothing(t)
	wantCA(CAOpen)
	f.write(t, ms(1300), in[10*m:11*m])
	f.want(t, "segment 11", seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 10*m, Ack: 1, Data: part(10)})
	f.advance(t, f.c.NextDeadline())
	f.want(t, "its retransmission by the RTO", seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 10*m, Ack: 1, Data: part(10), Rtx: true})
	wantCA(CALoss)
	f.send(t, f.now+ms(10), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 11*m})
	wantCA(CAOpen)
}
