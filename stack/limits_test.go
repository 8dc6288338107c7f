package stack

import (
	"errors"
	"math/rand/v2"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// limitHost has a listener on port 80 and accepts n connections from peer
// ports 40000.. at time 0.
func limitHost(t *testing.T, cfg Config, n int) (*Stack, []*tcp.Conn) {
	t.Helper()
	cfg.Name, cfg.Addr, cfg.Rand = "h", hostAddr, rand.New(rand.NewPCG(1, 2))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := s.Listen(80, 0)
	var cs []*tcp.Conn
	for i := 0; i < n; i++ {
		port := uint16(40000 + i)
		s.Input(0, packet(port, 80, wire.SYN, 7000, 0, ""))
		out(t, s, 0)
		c := s.Lookup(tcp.Tuple{Local: netip.AddrPortFrom(hostAddr, 80), Remote: netip.AddrPortFrom(peerAddr, port)})
		if c == nil {
			t.Fatalf("no connection from port %d", port)
		}
		s.Input(0, packet(port, 80, wire.ACK, 7001, c.ISS().Add(1), ""))
		if l.Accept() != c {
			t.Fatal("accept")
		}
		cs = append(cs, c)
	}
	return s, cs
}

// Beyond MaxOrphans the oldest orphan is reset (as Linux's "too many
// orphaned sockets").
func TestMaxOrphans(t *testing.T) {
	s, cs := limitHost(t, Config{MaxOrphans: 2}, 3)
	for _, c := range cs {
		c.CloseRead(0)
		s.Close(0, c)
	}
	got := out(t, s, 0)
	wantOut(t, got[:1], "198.18.0.1:80 > 198.18.0.2:40000 RA seq="+cs[0].ISS().Add(1).String()+" ack=7001 win=0 len=0")
	if c := s.Counters(); c.OrphanOverflows != 1 || s.Lookup(cs[0].Tuple()) != nil || s.Lookup(cs[2].Tuple()) == nil {
		t.Fatalf("OrphanOverflows %d; oldest freed %v", c.OrphanOverflows, s.Lookup(cs[0].Tuple()) == nil)
	}
}

// Beyond MaxTimeWait the oldest TIME-WAIT connection is freed early,
// silently.
func TestMaxTimeWait(t *testing.T) {
	s, cs := limitHost(t, Config{MaxTimeWait: 2}, 3)
	for i, c := range cs {
		s.Close(0, c)
		out(t, s, 0)
		port := uint16(40000 + i)
		// The peer acknowledges our FIN and sends its own: TIME-WAIT.
		s.Input(0, packet(port, 80, wire.ACK|wire.FIN, 7001, c.ISS().Add(2), ""))
		if c.State() != tcp.TimeWait {
			t.Fatalf("state %v", c.State())
		}
		out(t, s, 0)
	}
	if c := s.Counters(); c.TimeWaitOverflows != 1 || s.Lookup(cs[0].Tuple()) != nil || s.Lookup(cs[1].Tuple()) == nil {
		t.Fatalf("TimeWaitOverflows %d", c.TimeWaitOverflows)
	}
}

// At MaxConns, Connect fails with ErrTooManyConns and a SYN is dropped.
func TestMaxConns(t *testing.T) {
	s, _ := limitHost(t, Config{MaxConns: 2}, 2)
	if _, err := s.Connect(0, netip.AddrPortFrom(peerAddr, 80)); !errors.Is(err, ErrTooManyConns) {
		t.Fatalf("Connect: %v", err)
	}
	s.Input(0, packet(41000, 80, wire.SYN, 7000, 0, ""))
	wantOut(t, out(t, s, 0))
	if c := s.Counters(); c.ConnLimitDrops != 1 || c.ListenDrops != 1 {
		t.Fatalf("counters %+v", c)
	}
}
