package tcp

// Benchmarks of what a hostile peer can make one segment cost (issue 15):
// 1-byte out-of-order floods with many holes, ACKs whose SACK blocks sweep a
// long retransmission queue, and the heap a send buffer holds per byte,
// beside the cost of a normal in-order segment. Each op is one Input and the
// Output that answers it. The connections are driven directly, without the
// test harness, so that only the stack's work is timed.

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/cc"
	"github.com/gosynack/synack/wire"
)

var benchTuple = Tuple{Local: clientAddr, Remote: serverAddr}

const (
	benchISS = 1000
	benchIRS = 5000
)

func discard(*wire.Segment, bool) {}

// benchPool is a BufferPool that keeps what it is given, as drivers do.
type benchPool struct{ free [][]byte }

func (p *benchPool) Get(n int) []byte {
	for i, b := range p.free {
		if cap(b) >= n {
			p.free[i] = p.free[len(p.free)-1]
			p.free = p.free[:len(p.free)-1]
			return b
		}
	}
	return make([]byte, 0, n)
}

func (p *benchPool) Put(b []byte) { p.free = append(p.free, b) }

// benchConn returns an ESTABLISHED client whose peer announced mss, window
// scale 14 and SACK (no timestamps, so that four SACK blocks fit).
func benchConn(cfg Config, mss uint16) *Conn {
	cfg.NoTimestamps = true
	c := NewActive(cfg, benchTuple, benchISS, 0)
	c.Output(0, discard)
	sa := wire.Segment{SrcPort: 80, DstPort: 40000, Seq: benchIRS, Ack: benchISS + 1,
		Flags: wire.SYN | wire.ACK, Window: 65535,
		Options: wire.Options{HasMSS: true, MSS: mss, HasWScale: true, WScale: 14, SACKPermitted: true}}
	c.Input(ms(1), &sa)
	c.Output(ms(1), discard)
	if c.State() != Established {
		panic("bench connection not established: " + c.State().String())
	}
	return c
}

// fixedWindow is a congestion controller whose window never changes, so
// that a sender keeps a long queue in flight.
type fixedWindow struct{ w int }

func (f *fixedWindow) Name() string                  { return "fixed" }
func (f *fixedWindow) Window() int                   { return f.w }
func (f *fixedWindow) Threshold() int                { return cc.NoThreshold }
func (f *fixedWindow) SetMSS(int)                    {}
func (f *fixedWindow) OnAck(cc.Ack)                  {}
func (f *fixedWindow) OnCongestion(clock.Time, int)  {}
func (f *fixedWindow) OnRecoveryEnd(clock.Time, int) {}
func (f *fixedWindow) OnRTO(clock.Time, int)         {}
func (f *fixedWindow) Undo(clock.Time)               {}
func (f *fixedWindow) OnIdle(clock.Time)             {}

// peerSeg is a segment from the bench connection's peer: data at rel
// (relative to the peer's first data byte) acknowledging ack (relative to
// our first data byte).
func peerSeg(s *wire.Segment, rel, ack uint32, payload []byte) {
	*s = wire.Segment{SrcPort: 80, DstPort: 40000, Seq: seq.Value(benchIRS + 1 + rel),
		Ack: seq.Value(benchISS + 1 + ack), Flags: wire.ACK, Window: 65535, Payload: payload}
}

var oneByte = []byte{'x'}

// BenchmarkInOrderSegment is the yardstick: one in-order segment taken,
// read and acknowledged at once.
func BenchmarkInOrderSegment(b *testing.B) {
	for _, n := range []int{1, 1448} {
		b.Run("len="+strconv.Itoa(n), func(b *testing.B) {
			c := benchConn(Config{DelayedACK: -1, RecvBuffer: 4 << 20, RecvBufferMax: 4 << 20, Buffers: &benchPool{}}, 1460)
			p := make([]byte, n)
			buf := make([]byte, n)
			var s wire.Segment
			now := ms(2)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				peerSeg(&s, uint32(i*n), 0, p)
				c.Input(now, &s)
				c.Read(now, buf)
				c.Output(now, discard)
				now += clock.Time(time.Microsecond)
			}
		})
	}
}

// oooConn returns a receiver holding holes 1-byte segments, each with a
// 1-byte hole before it: held bytes at offsets 1, 3, 5, ...
func oooConn(holes int) *Conn {
	c := benchConn(Config{DelayedACK: -1, RecvBuffer: 8 << 20, RecvBufferMax: 8 << 20}, 1460)
	var s wire.Segment
	for k := 0; k < holes; k++ {
		peerSeg(&s, uint32(2*k+1), 0, oneByte)
		c.Input(ms(2), &s)
		c.Output(ms(2), discard)
	}
	return c
}

// BenchmarkOutOfOrderFlood is the flood of issue 15, with holes holes
// already held, in two shapes: each op a 1-byte segment beyond the highest
// held, leaving a 1-byte hole before it (shape=append), or one that fills
// a hole among them, joining two ranges (shape=fill, holes taken in a
// scattered order). The queue is rebuilt, untimed, every holes/8 ops, so
// that it stays within 12.5% of its size.
func BenchmarkOutOfOrderFlood(b *testing.B) {
	for _, shape := range []string{"append", "fill"} {
		for _, holes := range []int{1 << 10, 32 << 10, 60 << 10} {
			b.Run("shape="+shape+"/holes="+strconv.Itoa(holes), func(b *testing.B) {
				per := max(holes/8, 128)
				var c *Conn
				var s wire.Segment
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					k := i % per
					if k == 0 {
						b.StopTimer()
						c = oooConn(holes)
						b.StartTimer()
					}
					at := uint32(2*(holes+k) + 1)
					if shape == "fill" {
						// Hole j (1 <= j < holes) is at offset 2j.
						at = uint32(2 * (1 + k*7919%(holes-1)))
					}
					peerSeg(&s, at, 0, oneByte)
					c.Input(ms(3), &s)
					c.Output(ms(3), discard)
				}
				b.StopTimer()
				if held := c.Info().OutOfOrder; held < holes {
					b.Fatalf("held %d bytes out of order, want at least %d", held, holes)
				}
			})
		}
	}
}

// sackConn returns a sender with records segments of 48 bytes in flight
// (the peer announced MSS 48), the first acknowledged cumulatively.
func sackConn(records int) *Conn {
	const mss = 48
	c := benchConn(Config{SendBuffer: 8 << 20, SendBufferMax: 8 << 20}, mss)
	c.cc = &fixedWindow{w: 1 << 30}
	var s wire.Segment
	peerSeg(&s, 0, 0, nil) // the window, scaled now
	c.Input(ms(2), &s)
	p := make([]byte, (records+1)*mss)
	if n, err := c.Write(ms(2), p); n != len(p) || err != nil {
		panic("write: " + strconv.Itoa(n))
	}
	c.Output(ms(2), discard)
	if got := int(c.sndNxt.Size(c.sndUna)) / mss; got != records+1 {
		panic("sent " + strconv.Itoa(got) + " segments")
	}
	peerSeg(&s, 0, mss, nil)
	c.Input(ms(3), &s)
	c.Output(ms(3), discard)
	return c
}

// BenchmarkSACKAbuse is one ACK against a 100k-record queue, in issue 15's
// three shapes: a block over the whole queue (repeated), four blocks whose
// edges fall inside segments and that move by one segment each ACK (among
// 97 positions), and a D-SACK below the cumulative ACK before the
// whole-queue block.
func BenchmarkSACKAbuse(b *testing.B) {
	const records = 100_000
	const mss = 48
	for _, shape := range []string{"whole", "fragment", "dsack"} {
		b.Run("shape="+shape+"/records=100k", func(b *testing.B) {
			c := sackConn(records)
			una := uint32(mss)
			end := uint32((records + 1) * mss)
			var s wire.Segment
			now := ms(4)
			// The first ACKs SACK nearly every record: work in proportion
			// to what they deliver. The ops timed are those after, which
			// repeat (whole, dsack) or move (fragment) their blocks.
			const warm = 200
			for i := -warm; i < b.N; i++ {
				if i == 0 {
					b.ReportAllocs()
					b.ResetTimer()
				}
				peerSeg(&s, 0, una, nil)
				o := &s.Options
				switch shape {
				case "whole":
					o.SACK[0] = wire.SACKBlock{Left: seq.Value(benchISS + 1 + una + mss), Right: seq.Value(benchISS + 1 + end)}
					o.NumSACK = 1
				case "fragment":
					q := uint32(records / 4)
					for j := range uint32(4) {
						first := una + (j*q+uint32((i+warm)%97)+1)*mss
						o.SACK[j] = wire.SACKBlock{Left: seq.Value(benchISS + 1 + first + 1), Right: seq.Value(benchISS + 1 + first + (q-200)*mss - 1)}
					}
					o.NumSACK = 4
				case "dsack":
					o.SACK[0] = wire.SACKBlock{Left: seq.Value(benchISS + 1), Right: seq.Value(benchISS + 1 + mss)}
					o.SACK[1] = wire.SACKBlock{Left: seq.Value(benchISS + 1 + una + mss), Right: seq.Value(benchISS + 1 + end)}
					o.NumSACK = 2
				}
				c.Input(now, &s)
				c.Output(now, discard)
				now += clock.Time(time.Microsecond)
			}
			b.StopTimer()
			if st := c.Stats(); st.Dropped != 0 || c.Info().SackedBytes < records/2*mss {
				b.Fatalf("%d ACKs dropped, %d bytes SACKed", st.Dropped, c.Info().SackedBytes)
			}
		})
	}
}

// BenchmarkSendBufferHeap fills a send buffer that autotuned to 4 MiB
// (the congestion window lets 2 MiB fly, SendBufferMax is Linux's 4 MiB)
// to a peer that never acknowledges, and reports the heap it holds per
// byte buffered: without a pool, and with a pool that keeps every array
// given back (the arrays the buffer outgrew count too).
func BenchmarkSendBufferHeap(b *testing.B) {
	for _, pooled := range []bool{false, true} {
		b.Run("pool="+strconv.FormatBool(pooled), func(b *testing.B) {
			var ms0, ms1 runtime.MemStats
			for i := 0; i < b.N; i++ {
				runtime.GC()
				runtime.ReadMemStats(&ms0)
				var cfg Config
				if pooled {
					cfg.Buffers = &benchPool{}
				}
				c := benchConn(cfg, 1460)
				c.cc = &fixedWindow{w: 2 << 20}
				p := make([]byte, 64<<10)
				buffered := 0
				for k := 0; k < 1000; k++ {
					n, _ := c.Write(ms(2), p)
					buffered += n
					c.Output(ms(2), discard)
					if n == 0 {
						break
					}
				}
				p = nil
				runtime.GC()
				runtime.ReadMemStats(&ms1)
				b.ReportMetric(float64(ms1.HeapAlloc-ms0.HeapAlloc)/float64(buffered), "heap-bytes/buffered-byte")
				b.ReportMetric(float64(buffered), "buffered-bytes")
				runtime.KeepAlive(c)
			}
		})
	}
}
