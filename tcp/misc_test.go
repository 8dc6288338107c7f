package tcp

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// A simultaneous open whose user closed in SYN-RECEIVED sends its FIN once
// the peer's SYN-ACK arrives (as TestSynReceivedClose for a passive open).
func TestSimultaneousOpenClose(t *testing.T) {
	f := newSynSent(t)
	f.send(t, ms(50), seg{Flags: wire.SYN})
	f.want(t, "SYN-ACK", seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.close(t, ms(60))
	f.wantNothing(t)
	f.send(t, ms(80), seg{Flags: wire.SYN | wire.ACK, Ack: 1})
	f.wantState(t, FinWait1)
	f.want(t, "the queued FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
}

// §3.10.7.4 fifth: "if the ACK bit is off, drop the segment and return".
func TestSegmentWithoutAckDropped(t *testing.T) {
	for _, fx := range synchronized {
		t.Run(fx.state.String(), func(t *testing.T) {
			f := fx.build(t)
			f.send(t, f.soon(), seg{Flags: wire.PSH, Seq: fx.rcvNxt, Data: []byte("no ack")})
			f.wantNothing(t)
			f.wantState(t, fx.state)
			f.send(t, f.soon(), seg{Flags: wire.FIN, Seq: fx.rcvNxt})
			f.wantNothing(t)
			f.wantState(t, fx.state)
			if f.c.Readable() != 0 || f.c.Stats().Dropped != 2 {
				t.Fatalf("Readable=%d Dropped=%d", f.c.Readable(), f.c.Stats().Dropped)
			}
		})
	}
}

// SEND and CLOSE in each state (§3.10.2, §3.10.4): "error: connection
// closing" once the user has closed, "connection does not exist" in CLOSED.
func TestUserCallsByState(t *testing.T) {
	wantWrite := map[State]error{
		Listen: ErrNotConnected, FinWait1: ErrClosing, FinWait2: ErrClosing,
		Closing: ErrClosing, LastAck: ErrClosing, TimeWait: ErrClosing,
	}
	wantClose := map[State]error{
		FinWait1: ErrClosing, FinWait2: ErrClosing, Closing: ErrClosing, LastAck: ErrClosing, TimeWait: ErrClosing,
	}
	for _, fx := range fixtures {
		t.Run(fx.state.String(), func(t *testing.T) {
			f := fx.build(t)
			if _, err := f.c.Write(f.now, []byte("x")); !errors.Is(err, wantWrite[fx.state]) {
				t.Fatalf("Write: %v, want %v", err, wantWrite[fx.state])
			}
			if space := f.c.SendSpace(); (space == 0) != (wantWrite[fx.state] != nil) {
				t.Fatalf("SendSpace = %d", space)
			}
			if err := f.c.Close(f.now); !errors.Is(err, wantClose[fx.state]) {
				t.Fatalf("Close: %v, want %v", err, wantClose[fx.state])
			}
		})
	}
	f := newLastAck(t)
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 2, Ack: 2})
	f.wantEnded(t, nil)
	if _, err := f.c.Write(f.now, []byte("x")); err != ErrClosed {
		t.Fatalf("Write in CLOSED: %v", err)
	}
	if f.c.SendSpace() != 0 || !f.c.ReadClosed() {
		t.Fatalf("SendSpace %d ReadClosed %v in CLOSED", f.c.SendSpace(), f.c.ReadClosed())
	}
	g := newEstablished(t, withConfig(Config{SendBuffer: 10, SendBufferMax: 10}))
	g.write(t, sec(1), data('f', 10))
	if n, err := g.c.Write(g.now, []byte("more")); n != 0 || err != nil {
		t.Fatalf("Write to a full buffer: %d, %v", n, err)
	}
}

// The Recorder sees every state change, segment and timer, at the times the
// driver handed in.
func TestTraceEvents(t *testing.T) {
	var log trace.Log
	f := newEstablished(t, withConfig(Config{Recorder: &log, Host: "client"}))
	f.close(t, sec(1))
	f.want(t, "FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
	f.advance(t, ms(1300))
	f.want(t, "FIN again", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1, Rtx: true})
	f.send(t, ms(1400), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2})
	f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: defWin - 1})
	f.advance(t, ms(61400))
	f.wantEnded(t, nil)

	var states, outs, timers []string
	for _, e := range log.Events {
		if e.Host != "client" || e.Local != f.local || e.Remote != f.remote {
			t.Fatalf("event with wrong host or addresses: %v", e.String())
		}
		switch e.Kind {
		case trace.State:
			states = append(states, e.At.String()+" "+e.From.String()+">"+e.To.String())
		case trace.SegmentOut:
			s := e.Seg
			s.Payload = make([]byte, e.PayloadLen)
			line := e.At.String() + " " + s.Relative(f.isn.local, f.isn.remote)
			if e.Retransmit {
				line += " rtx"
			}
			outs = append(outs, line)
		case trace.TimerSet:
			timers = append(timers, e.At.String()+" "+e.Timer+" "+e.Deadline.String())
		}
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{
		{"states", states, []string{
			"0.000000s CLOSED>SYN-SENT",
			"0.100000s SYN-SENT>ESTABLISHED",
			"1.000000s ESTABLISHED>FIN-WAIT-1",
			// §3.10.7.4 fifth: "if the FIN segment is now acknowledged,
			// then enter FIN-WAIT-2 and continue processing in that state";
			// the eighth step then takes the FIN.
			"1.400000s FIN-WAIT-1>FIN-WAIT-2",
			"1.400000s FIN-WAIT-2>TIME-WAIT",
			"61.400000s TIME-WAIT>CLOSED",
		}},
		{"segments", outs, []string{
			"0.000000s S seq=0 ack=- win=65535 len=0 <mss 1460>",
			"0.100000s A seq=1 ack=1 win=65535 len=0",
			"1.000000s FA seq=1 ack=1 win=65535 len=0",
			"1.300000s FA seq=1 ack=1 win=65535 len=0 rtx",
			"1.400000s A seq=2 ack=2 win=65534 len=0",
		}},
		{"timers", timers, []string{
			"0.000000s retransmit 1.000000s",
			"1.000000s retransmit 1.300000s",
			"1.300000s retransmit 1.900000s",
			"1.400000s time-wait 61.400000s",
		}},
	} {
		if strings.Join(c.got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s (-want +got):\n%s", c.name, diffLines(c.want, c.got))
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	for _, bad := range []Config{
		{MSS: 10}, {RecvBuffer: -1}, {RecvBuffer: 70000, NoWindowScale: true}, {RecvBuffer: 1<<30 + 1}, {RecvBuffer: 100, RecvBufferMax: 50}, {Congestion: "vegas"}, {KeepAliveIdle: -1}, {MSL: -time.Second},
		{SynRetries: -1}, {MinRTO: 2 * time.Second, MaxRTO: time.Second},
	} {
		if bad.Validate() == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
	d := Config{}.withDefaults()
	if d.MSS != 1460 || d.RecvBuffer != 65535 || d.SendBuffer != 65536 || d.MSL != 30*time.Second ||
		d.SynRetries != 6 || d.SynAckRetries != 5 || d.DataRetries != 15 || d.InitialRTO != time.Second ||
		d.MinRTO != 200*time.Millisecond || d.MaxRTO != 120*time.Second || d.ChallengeACKs != 10 ||
		d.ChallengeACKPeriod != 5*time.Second {
		t.Fatalf("defaults: %+v", d)
	}
}
