package stack

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

func cookieHost(t *testing.T, mode SynCookieMode, synBacklog int) *Stack {
	t.Helper()
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
		ISNKey: tcp.ISNKey{1, 2, 3}, SynCookies: mode, SynBacklog: synBacklog})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// optPacket builds a segment from the peer with options.
func optPacket(srcPort uint16, flags wire.Flags, sq, ack seq.Value, o wire.Options) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: srcPort, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: 1000, Options: o},
	}
	return p.Append(nil)
}

// sent returns the one segment s sends now.
func sent(t *testing.T, s *Stack, now clock.Time) wire.Segment {
	t.Helper()
	var segs []wire.Segment
	s.Output(now, func(b []byte) {
		p, err := wire.ParsePacket(b)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, p.TCP)
	})
	if len(segs) != 1 {
		t.Fatalf("sent %d segments, want 1", len(segs))
	}
	return segs[0]
}

// RFC 4987 §3.6: "the server can send a SYN-ACK with a cookie and then
// forget the SYN, keeping no state"; the cookie "encodes ... the MSS
// value"; and Linux carries the window scale and SACK-permitted in the
// timestamp's low bits. The connection the ACK makes has what the SYN asked.
func TestSynCookieHandshake(t *testing.T) {
	s := cookieHost(t, CookiesAlways, 0)
	l, _ := s.Listen(80, 0)
	syn := wire.Options{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamps: true, TSVal: 5000}
	at := clock.Time(10 * time.Second)
	s.Input(at, optPacket(40000, wire.SYN, 7000, 0, syn))
	if n := len(s.Conns()); n != 0 {
		t.Fatalf("%d connections after a cookie SYN-ACK; want none (no state)", n)
	}
	sa := sent(t, s, at)
	o := sa.Options
	if sa.Flags != wire.SYN|wire.ACK || sa.Ack != 7001 || !o.HasMSS || o.MSS != 1460 || !o.HasWScale || !o.SACKPermitted || !o.HasTimestamps || o.TSEcr != 5000 {
		t.Fatalf("SYN-ACK %v", &sa)
	}
	// 1400 is carried as 1300, the largest table entry not above it.
	if idx := uint32(sa.Seq) & 3; idx != 1 {
		t.Fatalf("MSS index %d, want 1 (1300)", idx)
	}
	if bits := o.TSVal & 63; bits != 7|16 {
		t.Fatalf("TSval low bits %#x, want wscale 7 | SACK 16", bits)
	}
	// 70 s later, in the next counter period: still valid.
	at2 := at + clock.Time(70*time.Second)
	s.Input(at2, optPacket(40000, wire.ACK, 7001, sa.Seq.Add(1), wire.Options{HasTimestamps: true, TSVal: 5100, TSEcr: o.TSVal}))
	c := l.Accept()
	if c == nil {
		t.Fatalf("no connection from the cookie; counters %+v", s.Counters())
	}
	in := c.Info()
	if in.State != tcp.Established || in.ISS != sa.Seq || in.RcvNxt != 7001 || in.MSS != 1300 || !in.SACK || !in.Timestamps || in.SndWScale != 7 || in.RcvWScale != int(o.WScale) {
		t.Fatalf("connection %+v", in)
	}
	if ctr := s.Counters(); ctr.SyncookiesSent != 1 || ctr.SyncookiesRecv != 1 || ctr.SyncookiesFailed != 0 || ctr.PassiveOpens != 1 || ctr.CurrEstab != 1 {
		t.Fatalf("counters %+v", ctr)
	}
	// The connection works: data from the peer is acknowledged.
	p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 7001, Ack: sa.Seq.Add(1), Flags: wire.ACK | wire.PSH, Window: 1000,
			Options: wire.Options{HasTimestamps: true, TSVal: 5200, TSEcr: o.TSVal}, Payload: []byte("hello")}}
	s.Input(at2, p.Append(nil))
	buf := make([]byte, 10)
	if n := s.Read(at2, c, buf); string(buf[:n]) != "hello" {
		t.Fatalf("read %q", buf[:n])
	}
}

// Without timestamps the cookie has room for the MSS only: no window
// scaling, no SACK (RFC 4987 §3.6: cookies "cannot encode all TCP options").
func TestSynCookieNoTimestamps(t *testing.T) {
	s := cookieHost(t, CookiesAlways, 0)
	l, _ := s.Listen(80, 0)
	s.Input(0, optPacket(40000, wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true}))
	sa := sent(t, s, 0)
	if o := sa.Options; !o.HasMSS || o.HasWScale || o.SACKPermitted || o.HasTimestamps {
		t.Fatalf("SYN-ACK %v: want MSS only", &sa)
	}
	s.Input(0, optPacket(40000, wire.ACK, 7001, sa.Seq.Add(1), wire.Options{}))
	c := l.Accept()
	if c == nil {
		t.Fatal("no connection")
	}
	if in := c.Info(); in.MSS != 1460 || in.SACK || in.WScale || in.Timestamps {
		t.Fatalf("connection %+v", in)
	}
}

// Validation accepts the current and previous counter only; a forged or
// stale cookie is answered as any ACK for a listener is (RFC 9293 §3.10.7.2:
// "<SEQ=SEG.ACK><CTL=RST>") and counted in SyncookiesFailed.
func TestSynCookieInvalid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		at     time.Duration
		delta  seq.Size // added to the cookie
		seqOff seq.Size // added to the peer's sequence number
	}{
		{"stale (two periods on)", 130 * time.Second, 0, 0},
		{"forged", time.Second, 4, 0},
		{"another ISN", time.Second, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cookieHost(t, CookiesAlways, 0)
			l, _ := s.Listen(80, 0)
			s.Input(0, optPacket(40000, wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460}))
			sa := sent(t, s, 0)
			now := clock.Time(tc.at)
			ack := sa.Seq.Add(1 + tc.delta)
			s.Input(now, optPacket(40000, wire.ACK, seq.Value(7001).Add(tc.seqOff), ack, wire.Options{}))
			if l.Accept() != nil {
				t.Fatal("a connection from a bad cookie")
			}
			wantOut(t, out(t, s, now), fmt.Sprintf("198.18.0.1:80 > 198.18.0.2:40000 R seq=%d ack=- win=0 len=0", ack))
			if ctr := s.Counters(); ctr.SyncookiesFailed != 1 || ctr.SyncookiesRecv != 0 {
				t.Fatalf("counters %+v", ctr)
			}
		})
	}
}

// By default cookies start when the SYN queue is full: the first SynBacklog
// SYNs get half-open connections, the rest cookies, and a client whose SYN
// got a cookie still gets in.
func TestSynCookieWhenFull(t *testing.T) {
	s := cookieHost(t, CookiesWhenFull, 2)
	l, _ := s.Listen(80, 0)
	for port := uint16(40000); port < 40003; port++ {
		s.Input(0, optPacket(port, wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460}))
	}
	if n, h := len(s.Conns()), l.HalfOpen(); n != 2 || h != 2 {
		t.Fatalf("%d connections, %d half-open; want 2, 2", n, h)
	}
	var cookie seq.Value
	s.Output(0, func(b []byte) {
		p, _ := wire.ParsePacket(b)
		if p.TCP.DstPort == 40002 {
			cookie = p.TCP.Seq
		}
	})
	if ctr := s.Counters(); ctr.SyncookiesSent != 1 {
		t.Fatalf("SyncookiesSent %d", ctr.SyncookiesSent)
	}
	s.Input(0, optPacket(40002, wire.ACK, 7001, cookie.Add(1), wire.Options{}))
	c := l.Accept()
	if c == nil || c.Tuple().Remote.Port() != 40002 || c.State() != tcp.Established {
		t.Fatalf("accepted %v", c)
	}
	// An ACK to a listener that sent no cookie lately is not tried as one.
	s2 := cookieHost(t, CookiesWhenFull, 2)
	s2.Listen(80, 0)
	s2.Input(0, optPacket(40000, wire.ACK, 7001, 12345, wire.Options{}))
	if ctr := s2.Counters(); ctr.SyncookiesFailed != 0 || ctr.OutRsts != 1 {
		t.Fatalf("counters %+v", ctr)
	}
}
