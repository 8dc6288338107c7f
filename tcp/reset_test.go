package tcp

// Resets: LISTEN and SYN-SENT answers to bad ACKs, ABORT, ResetFor; and the
// RFC 6528 ISN generator.

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// §3.10.7.2 LISTEN.
func TestListenInput(t *testing.T) {
	t.Run("ACK gets RST", func(t *testing.T) {
		for _, flags := range []wire.Flags{wire.ACK, wire.SYN | wire.ACK, wire.FIN | wire.ACK} {
			f := newListen(t)
			// "Any acknowledgment is bad if it arrives on a connection still
			// in the LISTEN state. An acceptable reset segment should be
			// formed for any arriving ACK-bearing segment. The RST should be
			// formatted as follows: <SEQ=SEG.ACK><CTL=RST>"
			f.send(t, ms(1), seg{Flags: flags, Seq: 77, Ack: 12345, Data: []byte("x")})
			f.want(t, "RST", seg{Flags: wire.RST, Seq: 12345})
			f.wantState(t, Listen)
			if !f.c.Done() {
				t.Fatal("not Done after a bad ACK")
			}
		}
	})
	t.Run("RST ignored", func(t *testing.T) {
		f := newListen(t)
		// "An incoming RST segment could not be valid since it could not
		// have been sent in response to anything sent by this incarnation
		// of the connection. An incoming RST should be ignored."
		f.send(t, ms(1), seg{Flags: wire.RST | wire.ACK, Ack: 1})
		f.wantNothing(t)
		f.wantState(t, Listen)
	})
	t.Run("neither SYN nor ACK dropped", func(t *testing.T) {
		f := newListen(t)
		// "Fourth, other data or control: This should not be reached. Drop
		// the segment and return."
		f.send(t, ms(1), seg{Flags: wire.FIN | wire.PSH, Data: []byte("data")})
		f.wantNothing(t)
		f.wantState(t, Listen)
	})
	t.Run("user calls", func(t *testing.T) {
		f := newListen(t)
		if _, err := f.c.Write(0, []byte("x")); err != ErrNotConnected {
			t.Fatalf("Write in LISTEN: %v", err)
		}
		if n := f.c.Read(0, make([]byte, 10)); n != 0 {
			t.Fatalf("Read in LISTEN: %d", n)
		}
	})
}

// A TCB that is Done is deleted: later segments do not revive it.
func TestDoneIgnoresInput(t *testing.T) {
	for _, first := range []seg{
		{Flags: wire.RST, Seq: 1},  // SYN-RECEIVED -> LISTEN
		{Flags: wire.SYN, Seq: 10}, // SYN-RECEIVED -> LISTEN
	} {
		f := newSynReceived(t)
		f.send(t, ms(10), first)
		f.wantNothing(t)
		f.wantState(t, Listen)
		// A new SYN for the same tuple belongs to the listener, not to this
		// deleted TCB: it must not take the Conn back to SYN-RECEIVED.
		f.send(t, ms(20), seg{Flags: wire.SYN, Seq: 1000})
		f.wantNothing(t)
		f.wantState(t, Listen)
		if !f.c.Done() {
			t.Fatal("not Done")
		}
	}
	f := newListen(t)
	f.send(t, ms(1), seg{Flags: wire.ACK, Ack: 5})
	f.want(t, "RST", seg{Flags: wire.RST, Seq: 5})
	f.send(t, ms(2), seg{Flags: wire.SYN})
	f.wantNothing(t)
	f.wantState(t, Listen)
}

// §3.10.7.3 SYN-SENT, first: "If SEG.ACK =< ISS or SEG.ACK > SND.NXT, send a
// reset (unless the RST bit is set, if so drop the segment and return)
// <SEQ=SEG.ACK><CTL=RST> and discard the segment."
func TestSynSentUnacceptableAck(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newSynSent(t, isn)
		for i, ack := range []uint32{0, 2, 1 << 31, 1<<32 - 1} {
			at := ms(10 + 10*int64(i))
			f.send(t, at, seg{Flags: wire.SYN | wire.ACK, Ack: ack})
			f.want(t, "RST", seg{Flags: wire.RST, Seq: ack})
			f.wantState(t, SynSent)
			f.send(t, at+1, seg{Flags: wire.ACK, Seq: 1, Ack: ack})
			f.want(t, "RST", seg{Flags: wire.RST, Seq: ack})
			f.send(t, at+2, seg{Flags: wire.RST | wire.ACK, Ack: ack})
			f.wantNothing(t)
			f.wantState(t, SynSent)
		}
		// "Fifth, if neither of the SYN or RST bits is set, then drop the
		// segment and return." (an acceptable ACK alone)
		f.send(t, ms(60), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantNothing(t)
		f.wantState(t, SynSent)
		f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1})
		f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantState(t, Established)
	})
}

// An unacceptable ACK in SYN-RECEIVED: §3.10.7.4 fifth, "If the segment
// acknowledgment is not acceptable, form a reset segment
// <SEQ=SEG.ACK><CTL=RST> and send it."
func TestSynReceivedUnacceptableAck(t *testing.T) {
	f := newSynReceived(t)
	f.send(t, ms(10), seg{Flags: wire.ACK, Seq: 1, Ack: 5})
	f.want(t, "RST", seg{Flags: wire.RST, Seq: 5})
	f.wantState(t, SynReceived)
	f.send(t, ms(20), seg{Flags: wire.ACK, Seq: 1, Ack: 0})
	f.want(t, "RST", seg{Flags: wire.RST, Seq: 0})
	f.send(t, ms(30), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.wantState(t, Established)
}

// §3.10.5 ABORT: "SYN-RECEIVED STATE, ESTABLISHED STATE, FIN-WAIT-1 STATE,
// FIN-WAIT-2 STATE, CLOSE-WAIT STATE: Send a reset segment:
// <SEQ=SND.NXT><CTL=RST>"; in SYN-SENT "delete the TCB"; in CLOSING,
// LAST-ACK and TIME-WAIT "respond with "ok" and delete the TCB".
func TestAbort(t *testing.T) {
	// SEQ=SND.NXT; the ACK bit and ACK=RCV.NXT are added, as Linux does.
	rstSeq := map[State]uint32{SynReceived: 1, Established: 1, FinWait1: 2, FinWait2: 2, CloseWait: 1}
	rstAck := map[State]uint32{SynReceived: 1, Established: 1, FinWait1: 1, FinWait2: 1, CloseWait: 2}
	for _, fx := range fixtures {
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				f.setTime(t, f.now.Add(5*time.Millisecond))
				f.c.Abort(f.now)
				if sq, ok := rstSeq[fx.state]; ok {
					f.want(t, "RST", seg{Flags: wire.RST | wire.ACK, Seq: sq, Ack: rstAck[fx.state]})
				} else {
					f.wantNothing(t)
				}
				f.wantEnded(t, ErrAborted)
				f.wantNothing(t)
				if _, err := f.c.Write(f.now, []byte("x")); err != ErrAborted {
					t.Fatalf("Write after ABORT: %v", err)
				}
			})
		})
	}
	t.Run("SND.NXT after an RTO", func(t *testing.T) {
		f := newEstablished(t)
		f.write(t, sec(1), data('a', 100))
		f.want(t, "data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('a', 100)})
		f.advance(t, ms(1300)) // the RTO deems the segment lost; its retransmission waits for Output
		f.c.Abort(f.now)
		f.want(t, "RST at the highest sequence number sent", seg{Flags: wire.RST | wire.ACK, Seq: 101, Ack: 1})
		f.wantEnded(t, ErrAborted)
	})
}

// §3.10.7.1: "If the ACK bit is off, sequence number zero is used,
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. If the ACK bit is on,
// <SEQ=SEG.ACK><CTL=RST>." and "An incoming segment containing a RST is
// discarded."
func TestResetFor(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   wire.Segment
		want string // canonical line, or "" for no reply
	}{
		{"SYN", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 5000, Flags: wire.SYN, Window: 65535},
			"RA seq=0 ack=5001 win=0 len=0"},
		{"data and FIN without ACK", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 1<<32 - 5, Flags: wire.FIN, Payload: make([]byte, 10)},
			"RA seq=0 ack=6 win=0 len=0"},
		{"ACK", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 5000, Ack: 777, Flags: wire.ACK, Window: 100},
			"R seq=777 ack=- win=0 len=0"},
		{"SYN-ACK", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 5000, Ack: 1<<32 - 1, Flags: wire.SYN | wire.ACK},
			"R seq=4294967295 ack=- win=0 len=0"},
		{"RST", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 5000, Flags: wire.RST}, ""},
		{"RST-ACK", wire.Segment{SrcPort: 40000, DstPort: 81, Seq: 5000, Ack: 1, Flags: wire.RST | wire.ACK}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := ResetFor(&tc.in)
			if ok != (tc.want != "") {
				t.Fatalf("ResetFor(%v) ok=%v", tc.in.String(), ok)
			}
			if !ok {
				return
			}
			if got := out.String(); got != tc.want || out.SrcPort != 81 || out.DstPort != 40000 || len(out.Payload) != 0 {
				t.Fatalf("ResetFor(%v) = %d>%d %v, want 81>40000 %v", tc.in.String(), out.SrcPort, out.DstPort, got, tc.want)
			}
		})
	}
}

// RFC 6528 §3: "ISN = M + F(localip, localport, remoteip, remoteport,
// secretkey)" where "M is the 4 microsecond timer".
func TestISN(t *testing.T) {
	key := ISNKey{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	base := Tuple{Local: netip.MustParseAddrPort("198.18.0.1:80"), Remote: netip.MustParseAddrPort("198.18.0.2:40000")}
	at := clock.Time(123456789)
	isn := ISN(key, base, at)
	if again := ISN(key, base, at); again != isn {
		t.Fatalf("same inputs: %v then %v", isn, again)
	}
	others := []Tuple{
		reversed(base),
		{Local: base.Local, Remote: netip.MustParseAddrPort("198.18.0.2:40001")},
		{Local: netip.MustParseAddrPort("198.18.0.1:81"), Remote: base.Remote},
		{Local: base.Local, Remote: netip.MustParseAddrPort("198.18.0.3:40000")},
		{Local: netip.MustParseAddrPort("[2001:db8::1]:80"), Remote: base.Remote},
	}
	seen := map[seq.Value]Tuple{isn: base}
	for _, o := range others {
		v := ISN(key, o, at)
		if prev, dup := seen[v]; dup {
			t.Fatalf("tuples %v and %v share ISN %v", prev, o, v)
		}
		seen[v] = o
	}
	if v := ISN(ISNKey{9}, base, at); v == isn {
		t.Fatalf("another key gives the same ISN %v", v)
	}
	// M ticks every 4 µs.
	m0 := clock.Time(4000 * 1000) // a multiple of 4 µs
	i0 := ISN(key, base, m0)
	for _, tc := range []struct {
		dt   clock.Time
		want seq.Value
	}{
		{3999, i0},
		{4000, i0 + 1},
		{8000, i0 + 2},
		{4000 << 32, i0}, // M wraps modulo 2^32
	} {
		if got := ISN(key, base, m0+tc.dt); got != tc.want {
			t.Fatalf("ISN at +%dns = %v, want %v", tc.dt, got, tc.want)
		}
	}
}
