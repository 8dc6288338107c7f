package stack

import (
	"math/rand/v2"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// scaledConn opens a connection from s to peerAddr:80 whose peer announced
// MSS 1460, window scale 7 and SACK (no timestamps), so that the 4 MiB
// receive window can be offered in full.
func scaledConn(t testing.TB, s *Stack) *tcp.Conn {
	t.Helper()
	c, err := s.Connect(0, netip.AddrPortFrom(peerAddr, 80))
	if err != nil {
		t.Fatal(err)
	}
	s.Output(0, func([]byte) {})
	p := wire.Packet{
		IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: 80, DstPort: c.Tuple().Local.Port(), Seq: 5000, Ack: c.ISS().Add(1), Flags: wire.SYN | wire.ACK, Window: 65535,
			Options: wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true}},
	}
	s.Input(0, p.Append(nil))
	s.Output(0, func([]byte) {})
	if c.State() != tcp.Established {
		t.Fatalf("handshake: %v", c.State())
	}
	return c
}

// dataPacket is a segment of the peer's stream at offset rel from its
// first byte.
func dataPacket(c *tcp.Conn, rel uint32, payload []byte) []byte {
	p := wire.Packet{
		IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: 80, DstPort: c.Tuple().Local.Port(), Seq: seq.Value(5001 + rel), Ack: c.ISS().Add(1),
			Flags: wire.ACK, Window: 65535, Payload: payload},
	}
	return p.Append(nil)
}

// oooCost measures, through the whole stack (Input of the packet, Output
// of the ACK), the CPU of one segment of a 1-byte out-of-order flood whose
// queue holds about holes ranges (4 MiB receive buffer): shape "append"
// puts each beyond the highest held after a 1-byte hole, "fill" fills a
// hole between two ranges, in a scattered order; shape "in-order" is the
// yardstick, a 1448-byte segment in order, read at once. Each run is 4
// batches of holes/8 segments (at least 1024), the packets built and the
// queue rebuilt, untimed, before each batch; it returns the least ns per
// segment of runs runs.
func oooCost(t testing.TB, shape string, holes, runs int) float64 {
	per := max(holes/8, 1024)
	best := 0.0
	pkts := make([][]byte, per)
	buf := make([]byte, 2048)
	now := clock.Time(time.Millisecond)
	for run := 0; run < runs; run++ {
		var spent time.Duration
		for batch := 0; batch < 4; batch++ {
			s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
				TCP: tcp.Config{DelayedACK: -1, RecvBuffer: 4 << 20, RecvBufferMax: 4 << 20}})
			if err != nil {
				t.Fatal(err)
			}
			c := scaledConn(t, s)
			if shape != "in-order" {
				for k := 0; k < holes; k++ {
					s.Input(now, dataPacket(c, uint32(2*k+1), []byte{'x'}))
					s.Output(now, func([]byte) {})
				}
			}
			for j := range pkts {
				switch shape {
				case "in-order":
					pkts[j] = dataPacket(c, uint32(j*1448), make([]byte, 1448))
				case "append":
					pkts[j] = dataPacket(c, uint32(2*(holes+j)+1), []byte{'x'})
				default:
					pkts[j] = dataPacket(c, uint32(2*(1+j*7919%(holes-1))), []byte{'x'})
				}
			}
			runtime.GC()
			start := time.Now()
			for _, p := range pkts {
				s.Input(now, p)
				if shape == "in-order" {
					s.Read(now, c, buf)
				}
				s.Output(now, func([]byte) {})
			}
			spent += time.Since(start)
		}
		ns := float64(spent.Nanoseconds()) / float64(4*per)
		if run == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// TestOutOfOrderFloodHeld checks the flood oooCost measures: 60k 1-byte
// ranges held in a 4 MiB window, each after a hole, all SACKable, and a
// hole filled joins two of them.
func TestOutOfOrderFloodHeld(t *testing.T) {
	const holes = 60 << 10
	s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
		TCP: tcp.Config{DelayedACK: -1, RecvBuffer: 4 << 20, RecvBufferMax: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	c := scaledConn(t, s)
	for k := 0; k < holes; k++ {
		s.Input(0, dataPacket(c, uint32(2*k+1), []byte{'x'}))
		s.Output(0, func([]byte) {})
	}
	if got := c.Info().OutOfOrder; got != holes {
		t.Fatalf("%d bytes held out of order, want %d", got, holes)
	}
	var ack wire.Packet
	s.Input(0, dataPacket(c, 2, []byte{'x'}))
	s.Output(0, func(b []byte) {
		var err error
		if ack, err = wire.ParsePacket(b); err != nil {
			t.Fatal(err)
		}
	})
	// RFC 2018 §4: "The first SACK block (i.e., the one immediately
	// following the kind and length fields in the option) MUST specify the
	// contiguous block of data containing the segment which triggered this
	// ACK".
	want := wire.SACKBlock{Left: seq.Value(5001 + 1), Right: seq.Value(5001 + 4)}
	if got := ack.TCP.Options.SACKBlocks(); len(got) == 0 || got[0] != want {
		t.Fatalf("SACK blocks %v, want the first %v", got, want)
	}
	if got := c.Info().OutOfOrder; got != holes+1 {
		t.Fatalf("%d bytes held after the fill, want %d", got, holes+1)
	}
}

// TestMemoryPressurePrunes: 16 connections under 1-byte out-of-order
// floods, with a stack-wide budget of 192 KiB (pressure at 128 KiB): the
// buffers stay within the budget (beyond it, by at most the array that
// crossed it and the 4 KiB each connection may always have), the
// out-of-order data of a connection that gets more under pressure is let
// go (RFC 2018 §8: "the data receiver is permitted to discard data in its
// queue that has not been acknowledged to the data sender, even if the
// data has already been reported in a SACK option"), and once the holes
// are filled and the data read, nothing is held.
func TestMemoryPressurePrunes(t *testing.T) {
	s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
		TCP: tcp.Config{DelayedACK: -1, RecvBuffer: 64 << 10, RecvBufferMax: 64 << 10, MemPressure: 128 << 10, MemLimit: 192 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	var conns []*tcp.Conn
	for range 16 {
		conns = append(conns, scaledConn(t, s))
	}
	high := 0
	for k := 0; k < 2000; k++ {
		for _, c := range conns {
			s.Input(0, dataPacket(c, uint32(2*k+1+k%7*4096), []byte{'x'}))
		}
		s.Output(0, func([]byte) {})
		high = max(high, s.Memory().BufferBytes)
	}
	m := s.Memory()
	t.Logf("high-water %d bytes, %d drops", high, m.Drops)
	if !m.Pressure || m.Drops == 0 || high > 192<<10+64<<10+16*(4<<10) {
		t.Fatalf("pressure %v, %d drops, high-water %d bytes", m.Pressure, m.Drops, high)
	}
	pruned := uint64(0)
	for _, c := range conns {
		pruned += c.Stats().OutOfOrderPruned
	}
	if pruned == 0 {
		t.Fatal("no out-of-order data let go under pressure")
	}
	// The holes filled in order and everything read: nothing is held.
	buf := make([]byte, 64<<10)
	for _, c := range conns {
		for i := 0; i < 100 && (c.Info().OutOfOrder > 0 || i == 0); i++ {
			off := uint32(c.Info().RcvNxt - seq.Value(5001))
			s.Input(0, dataPacket(c, off, make([]byte, 1000)))
			s.Read(0, c, buf)
		}
		s.Read(0, c, buf)
	}
	s.Output(0, func([]byte) {})
	if m := s.Memory(); m.BufferBytes != 0 || m.Pressure {
		t.Fatalf("%d bytes held (pressure %v) after everything was read", m.BufferBytes, m.Pressure)
	}
}
