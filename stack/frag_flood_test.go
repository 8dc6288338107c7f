package stack

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// fragFloodShape is a flood of fragments that never complete a datagram.
type fragFloodShape struct {
	name string
	n    int // fragments
	// frag returns flood fragment i, from a spoofed source in
	// 198.19.0.0/16.
	frag func(r *rand.Rand, i int) []byte
}

var fragFloodShapes = []fragFloodShape{
	{"first fragments of 1480 bytes, a new datagram each", 100_000, func(r *rand.Rand, i int) []byte {
		return frag4(spoofed(r), hostAddr, uint16(r.Uint32()), wire.ProtocolUDP, floodData, 0, 1480, true)
	}},
	{"8-byte fragments at random offsets, a new datagram each", 100_000, func(r *rand.Rand, i int) []byte {
		off := 8 * (1 + r.IntN(8000))
		return frag4(spoofed(r), hostAddr, uint16(r.Uint32()), wire.ProtocolUDP, floodData, off, off+8, true)
	}},
	{"44 fragments of 1480 bytes per datagram, never the last", 100_000, func(r *rand.Rand, i int) []byte {
		off := 1480 * (i % 44)
		return frag4(netip.AddrFrom4([4]byte{198, 19, byte(i / 44 >> 8), byte(i / 44)}), hostAddr, 1, wire.ProtocolUDP, floodData, off, off+1480, true)
	}},
	{"8-byte fragments of one datagram, never the last", 8000, func(r *rand.Rand, i int) []byte {
		off := 8 * (1 + i)
		return frag4(netip.AddrFrom4([4]byte{198, 19, 0, 1}), hostAddr, 1, wire.ProtocolUDP, floodData, off, off+8, true)
	}},
}

var floodData = pattern(65536)

func spoofed(r *rand.Rand) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 19, byte(r.Uint32()), byte(r.Uint32())})
}

type fragFloodResult struct {
	maxQueues, maxMem  int
	delivered, evicted uint64
	real               int
}

// fragFlood sends a flood's fragments at 10000 a second (so none times
// out: 100000 take 10 s), with a real client's 4000-byte datagram in three
// fragments after every 1000th, and measures what reassembly held.
func fragFlood(t testing.TB, sh fragFloodShape) fragFloodResult {
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
	e.SetRecvBuffer(1<<20, 1<<30)
	r := rand.New(rand.NewPCG(7, 8))
	real := udpBytes(ap(peerAddr, 40000), ap(hostAddr, 53), pattern(4000))
	var res fragFloodResult
	for i := range sh.n {
		now := clock.Time(0).Add(time.Duration(i) * 100 * time.Microsecond)
		s.Input(now, sh.frag(r, i))
		if i%1000 == 999 {
			id := uint16(60000 + res.real)
			res.real++
			for _, p := range []piece{{0, 1480, true}, {1480, 2960, true}, {2960, len(real), false}} {
				s.Input(now, frag4(peerAddr, hostAddr, id, wire.ProtocolUDP, real, p.off, p.end, p.more))
			}
		}
		res.maxQueues = max(res.maxQueues, len(s.frag.queues))
		res.maxMem = max(res.maxMem, s.frag.mem)
		s.HandleTimeout(now)
		s.Output(now, func([]byte) {})
	}
	for {
		d, ok, _ := e.Recv()
		if !ok {
			break
		}
		if !bytes.Equal(d.Payload, pattern(4000)) {
			t.Fatalf("a real datagram of %d bytes came out wrong", len(d.Payload))
		}
		res.delivered++
	}
	res.evicted = s.Counters().ReasmEvicted
	checkFragState(t, s)
	return res
}

// Floods of fragments that never complete a datagram hold at most the
// bounds (1024 datagrams, 4 MiB), and a real client's datagrams, sent
// among them, all come through: the flood's oldest datagrams are evicted,
// never the new one.
func TestFragFlood(t *testing.T) {
	if testing.Short() {
		t.Skip("floods of 100000 fragments")
	}
	for _, sh := range fragFloodShapes {
		res := fragFlood(t, sh)
		if res.maxQueues > DefaultFragQueues || res.maxMem > DefaultFragMemory {
			t.Errorf("%s: %d datagrams and %d bytes held, over the bounds", sh.name, res.maxQueues, res.maxMem)
		}
		if res.delivered != uint64(res.real) {
			t.Errorf("%s: %d of the %d real datagrams delivered", sh.name, res.delivered, res.real)
		}
	}
}

// fragFloodTable is docs/HARDENING.md's table of fragment floods.
func fragFloodTable(t testing.TB) string {
	var b strings.Builder
	b.WriteString("| flood | fragments | datagrams held at most | bytes held at most | oldest evicted | real datagrams through |\n|---|---:|---:|---:|---:|---:|\n")
	for _, sh := range fragFloodShapes {
		res := fragFlood(t, sh)
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d of %d |\n", sh.name, sh.n, res.maxQueues, res.maxMem, res.evicted, res.delivered, res.real)
	}
	return b.String()
}

// BenchmarkReassemble: a 4000-byte UDP datagram in three IPv4 fragments,
// reassembled and queued to an endpoint, then read.
func BenchmarkReassemble(b *testing.B) {
	s, err := New(Config{Name: "h", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		b.Fatal(err)
	}
	e, _ := s.BindUDP(AnyFamily, ap(netip.Addr{}, 53))
	d := udpBytes(ap(peerAddr, 40000), ap(hostAddr, 53), pattern(4000))
	var pkts [3][]byte
	for i, p := range []piece{{0, 1480, true}, {1480, 2960, true}, {2960, len(d), false}} {
		pkts[i] = frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, d, p.off, p.end, p.more)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(d)))
	for b.Loop() {
		for _, p := range pkts {
			s.Input(0, p)
		}
		if _, ok, _ := e.Recv(); !ok {
			b.Fatal("no datagram")
		}
	}
}
