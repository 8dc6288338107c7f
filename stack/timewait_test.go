package stack

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// tsSeg is seg with a timestamp option.
func tsSeg(flags wire.Flags, sq, ack seq.Value, tsval uint32) []byte {
	p := wire.Packet{
		IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: 65535,
			Options: wire.Options{HasTimestamps: tsval != 0, TSVal: tsval}},
	}
	return p.Append(nil)
}

// timeWaitServer accepts a connection from the peer (ISN 7000, TSval
// 100 if ts) and closes it first; the peer's FIN puts it in TIME-WAIT.
func timeWaitServer(t *testing.T, ts bool) (*Stack, *tcp.Conn) {
	t.Helper()
	s := newHost(t, hostAddr, nil)
	l, _ := s.Listen(80, 0)
	tv := func(v uint32) uint32 {
		if ts {
			return v
		}
		return 0
	}
	s.Input(0, tsSeg(wire.SYN, 7000, 0, tv(100)))
	out(t, s, 0)
	c := s.Conns()[0]
	s.Input(0, tsSeg(wire.ACK, 7001, c.ISS().Add(1), tv(101)))
	l.Accept()
	s.Close(0, c)
	out(t, s, 0)
	s.Input(0, tsSeg(wire.ACK|wire.FIN, 7001, c.ISS().Add(2), tv(102)))
	out(t, s, 0)
	if c.State() != tcp.TimeWait {
		t.Fatalf("state %v", c.State())
	}
	return s, c
}

// RFC 6191 §2: with timestamps, a SYN in TIME-WAIT whose TSval is above
// the last one seen is a new incarnation and is accepted; RFC 1122
// §4.2.2.13: the new ISS is "larger than the largest sequence number it
// used on the previous connection incarnation", and an old duplicate
// leaves the connection in TIME-WAIT.
func TestTimeWaitReopen(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ts     bool
		sq     seq.Value
		tsval  uint32
		reopen bool
	}{
		{"newer timestamp", true, 5000, 200, true}, // a lower sequence number does not matter
		{"older timestamp", true, 9000, 50, false},
		{"equal timestamp, higher sequence", true, 9000, 102, true},
		{"equal timestamp, old sequence", true, 7002, 102, false},
		{"no timestamps, higher sequence", false, 9000, 0, true},
		{"no timestamps, old sequence", false, 7001, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, old := timeWaitServer(t, tc.ts)
			floor := old.SndNxt()
			at := clock.Time(time.Second)
			s.Input(at, tsSeg(wire.SYN, tc.sq, 0, tc.tsval))
			var got []wire.Segment
			s.Output(at, func(b []byte) { p, _ := wire.ParsePacket(b); got = append(got, p.TCP) })
			if len(got) != 1 {
				t.Fatalf("sent %d segments", len(got))
			}
			g := got[0]
			if !tc.reopen {
				// The TIME-WAIT connection answers: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
				if g.Flags != wire.ACK || g.Seq != floor || g.Ack != 7002 || s.Lookup(old.Tuple()) != old {
					t.Fatalf("sent %v; want the old connection's ACK, still in TIME-WAIT", &g)
				}
				return
			}
			if g.Flags != wire.SYN|wire.ACK || g.Ack != tc.sq.Add(1) || !g.Seq.GreaterThan(floor) {
				t.Fatalf("sent %v; want a SYN-ACK for %d with ISS above %d", &g, tc.sq.Add(1), floor)
			}
			if c := s.Lookup(old.Tuple()); c == nil || c == old || c.State() != tcp.SynReceived {
				t.Fatalf("new connection %v", c)
			}
		})
	}
}

// pump exchanges packets between a and b at now until both are quiet.
func pump(t *testing.T, now clock.Time, a, b *Stack) {
	t.Helper()
	for i := 0; i < 100; i++ {
		var ab, ba [][]byte
		a.Output(now, func(p []byte) { ab = append(ab, append([]byte(nil), p...)) })
		b.Output(now, func(p []byte) { ba = append(ba, append([]byte(nil), p...)) })
		if len(ab)+len(ba) == 0 {
			return
		}
		for _, p := range ab {
			b.Input(now, p)
		}
		for _, p := range ba {
			a.Input(now, p)
		}
	}
	t.Fatal("no quiet after 100 rounds")
}

// An HTTP/1.0-style loop where the server closes first: the server holds
// each connection in TIME-WAIT for 60 s while the client, with 8 ports,
// comes back on them every few connections. With RFC 6191 every dial is
// established at once: no SYN is retransmitted (issue 15: 5% of dials
// stalled for a second).
//
// With timestamps and without. With them the reopening is RFC 6191's (§2:
// a SYN whose timestamp is greater than the last one seen on the old
// incarnation is new), which needs the client's timestamp clock to grow
// across incarnations of the 4-tuple; RFC 7323 Appendix H (j): "entirely
// random offsets for each new connection will conflict with PAWS". synack's
// offset is per address pair (tcp.TSOffset, as Linux's secure_tcp_ts_off);
// with the offset per connection (from the ISS), dial 9 stalled.
func TestHTTP10LoopNoStalls(t *testing.T) {
	for _, noTS := range []bool{true, false} {
		t.Run(fmt.Sprintf("NoTimestamps=%v", noTS), func(t *testing.T) {
			server, _ := New(Config{Name: "server", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), ISNKey: tcp.ISNKey{1}})
			client, _ := New(Config{Name: "client", Addr: peerAddr, Rand: rand.New(rand.NewPCG(3, 4)), ISNKey: tcp.ISNKey{2},
				EphemeralLow: 40000, EphemeralHigh: 40007, TCP: tcp.Config{NoTimestamps: noTS}})
			l, _ := server.Listen(80, 0)
			buf := make([]byte, 100)
			reopened := 0
			for i := 0; i < 200; i++ {
				now := clock.Time(time.Duration(i) * 10 * time.Millisecond)
				c, err := client.Connect(now, netip.AddrPortFrom(hostAddr, 80))
				if err != nil {
					t.Fatalf("dial %d: %v", i, err)
				}
				if server.Lookup(tcp.Tuple{Local: netip.AddrPortFrom(hostAddr, 80), Remote: c.Tuple().Local}) != nil {
					reopened++
				}
				pump(t, now, client, server)
				if c.State() != tcp.Established {
					t.Fatalf("dial %d from %v at %v: %v, not established at once", i, c.Tuple().Local, now, c.State())
				}
				client.Write(now, c, []byte("GET / HTTP/1.0\r\n\r\n"))
				pump(t, now, client, server)
				sc := l.Accept()
				server.Read(now, sc, buf)
				server.Write(now, sc, []byte("HTTP/1.0 200 OK\r\n\r\nhi"))
				sc.CloseRead(now)
				server.Close(now, sc)
				pump(t, now, client, server)
				client.Read(now, c, buf)
				client.Close(now, c)
				pump(t, now, client, server)
				if sc.State() != tcp.TimeWait {
					t.Fatalf("server side %v, want TIME-WAIT", sc.State())
				}
			}
			if r := client.Counters().RetransSegs; r != 0 || reopened < 150 {
				t.Fatalf("%d retransmissions (want 0); %d dials found the port in TIME-WAIT (want most)", r, reopened)
			}
		})
	}
}
