package stack

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// seg builds a segment from peer port 40000 to the host's port 80.
func seg(flags wire.Flags, sq, ack seq.Value, win uint16, payload string) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: win, Payload: []byte(payload)},
	}
	return p.Append(nil)
}

// orphanSetup accepts a connection from the peer (ISN 7000) at time 0
// with the peer's window win, writes data, and closes it both ways (as
// close(2) does) at 1 s. It returns the stack and the connection.
func orphanSetup(t *testing.T, win uint16, data string) (*Stack, *tcp.Conn) {
	t.Helper()
	s := newHost(t, hostAddr, nil)
	l, _ := s.Listen(80, 0)
	s.Input(0, seg(wire.SYN, 7000, 0, win, ""))
	out(t, s, 0)
	c := s.Conns()[0]
	s.Input(0, seg(wire.ACK, 7001, c.ISS().Add(1), win, ""))
	if l.Accept() != c {
		t.Fatal("no connection")
	}
	at := clock.Time(time.Second)
	if data != "" {
		s.Write(at, c, []byte(data))
	}
	c.CloseRead(at)
	s.Close(at, c)
	if !c.Orphan() {
		t.Fatal("not an orphan after Close and CloseRead")
	}
	return s, c
}

// run advances s through its timers up to end, calling answer with each
// segment it sends; it returns when c was freed (or end).
func run(t *testing.T, s *Stack, c *tcp.Conn, end clock.Time, answer func(now clock.Time, seg *wire.Segment)) clock.Time {
	t.Helper()
	now := clock.Time(time.Second)
	for {
		var sent []wire.Segment
		s.Output(now, func(b []byte) {
			p, err := wire.ParsePacket(b)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, p.TCP)
		})
		if s.Lookup(c.Tuple()) == nil {
			return now
		}
		for i := range sent {
			if answer != nil {
				answer(now, &sent[i])
			}
		}
		if len(sent) > 0 && answer != nil {
			continue // the answers may have made output
		}
		d := s.NextDeadline()
		if d > end {
			t.Fatalf("at %v: connection in %v not freed (next deadline %v)", now, c.State(), d)
		}
		now = d
		s.HandleTimeout(now)
	}
}

// An orphan whose peer acknowledges its FIN and never sends one: freed
// FinTimeout (60 s, Linux's tcp_fin_timeout) after entering FIN-WAIT-2.
// RFC 9293 §3.10.7.4 gives FIN-WAIT-2 no timeout, which leaves the peer
// holding the connection for ever (issue 15: 4 hours checked).
func TestOrphanFinWait2Timeout(t *testing.T) {
	s, c := orphanSetup(t, 65535, "")
	ackAt := clock.Time(1010 * time.Millisecond)
	freed := run(t, s, c, clock.Time(time.Hour), func(now clock.Time, sg *wire.Segment) {
		if sg.Flags&wire.FIN != 0 {
			s.Input(ackAt, seg(wire.ACK, 7001, sg.Seq.Add(1), 65535, ""))
			if c.State() != tcp.FinWait2 {
				t.Fatalf("state %v after the ACK of our FIN", c.State())
			}
		}
	})
	if want := ackAt.Add(60 * time.Second); freed != want {
		t.Fatalf("freed at %v, want %v (FIN-WAIT-2 entered at %v, + 60 s)", freed, want, ackAt)
	}
	// Without Close+CloseRead (a half-close: the application may still
	// read) FIN-WAIT-2 has no timeout.
	s2 := newHost(t, hostAddr, nil)
	s2.Listen(80, 0)
	s2.Input(0, seg(wire.SYN, 7000, 0, 65535, ""))
	out(t, s2, 0)
	c2 := s2.Conns()[0]
	s2.Input(0, seg(wire.ACK, 7001, c2.ISS().Add(1), 65535, ""))
	s2.Close(0, c2)
	out(t, s2, 0)
	s2.Input(0, seg(wire.ACK, 7001, c2.ISS().Add(2), 65535, ""))
	if c2.State() != tcp.FinWait2 || s2.NextDeadline() != clock.Never {
		t.Fatalf("half-closed: state %v, deadline %v; want FIN-WAIT-2, never", c2.State(), s2.NextDeadline())
	}
}

// backoffSum is the sum of rto·2^i for i in 0..n, each capped at 120 s
// (MaxRTO).
func backoffSum(rto time.Duration, n int) time.Duration {
	var sum time.Duration
	for i := 0; i <= n; i++ {
		sum += min(rto<<i, 120*time.Second)
	}
	return sum
}

// An orphan whose peer keeps a zero window and answers every probe: freed
// when its 9th persist timer fires, after the 8 probes OrphanRetries
// allows (Linux's tcp_probe_timer: "icsk_probes_out >= max_probes").
func TestOrphanZeroWindowProbes(t *testing.T) {
	s, c := orphanSetup(t, 0, "hello")
	rto := c.Info().RTO
	probes := 0
	freed := run(t, s, c, clock.Time(time.Hour), func(now clock.Time, sg *wire.Segment) {
		if sg.Flags&wire.ACK != 0 && len(sg.Payload) == 0 && sg.Flags&wire.FIN == 0 {
			probes++
		}
		// RFC 9293 §3.8.6.1: the receiver answers a probe with its window:
		// still zero.
		s.Input(now, seg(wire.ACK, 7001, c.ISS().Add(1), 0, ""))
	})
	want := clock.Time(time.Second).Add(backoffSum(rto, 8))
	if freed != want || probes != 8 || c.Err() != tcp.ErrTimeout {
		t.Fatalf("freed at %v after %d probes (%v); want %v (1 s + RTO %v·(1+2+...+256)) after 8, ErrTimeout", freed, probes, c.Err(), want, rto)
	}
}

// An orphan whose peer vanishes with data in flight: freed at the 9th RTO
// expiry, after OrphanRetries (8) retransmissions instead of DataRetries
// (15).
func TestOrphanVanishedPeer(t *testing.T) {
	s, c := orphanSetup(t, 65535, "hello")
	rto := c.Info().RTO
	freed := run(t, s, c, clock.Time(24*time.Hour), nil)
	want := clock.Time(time.Second).Add(backoffSum(rto, 8))
	if freed != want || c.Err() != tcp.ErrTimeout {
		t.Fatalf("freed at %v (%v); want %v (1 s + RTO %v·(1+2+...+256)), ErrTimeout", freed, c.Err(), want, rto)
	}
}

// A peer that trickles bytes to an orphan: RFC 1122 §4.2.2.13, "if new
// data is received after CLOSE is called, its TCP SHOULD send a RST to
// show that data was lost": the first byte frees it, at once.
func TestOrphanTrickle(t *testing.T) {
	s, c := orphanSetup(t, 65535, "")
	at := clock.Time(2 * time.Second)
	var fin seq.Value
	s.Output(at, func(b []byte) { p, _ := wire.ParsePacket(b); fin = p.TCP.Seq })
	s.Input(at, seg(wire.ACK, 7001, fin.Add(1), 65535, ""))
	s.Input(at, seg(wire.ACK, 7001, fin.Add(1), 65535, "x"))
	wantOut(t, out(t, s, at), "198.18.0.1:80 > 198.18.0.2:40000 R seq="+fin.Add(1).String()+" ack=- win=0 len=0")
	if s.Lookup(c.Tuple()) != nil {
		t.Fatal("not freed")
	}
}
