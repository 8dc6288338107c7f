package impair_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/impair"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// fake is an inner link: what the wrapper sends is recorded with the time it
// arrived, and Inject feeds packets to the wrapper's reader.
type fake struct {
	mu     sync.Mutex
	sent   []stamped
	in     chan []byte
	done   chan struct{}
	closed bool
}

type stamped struct {
	at time.Time
	id uint32
}

func newFake() *fake { return &fake{in: make(chan []byte, 1024), done: make(chan struct{})} }

func (f *fake) Send(p []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, stamped{time.Now(), idOf(p)})
	return nil
}

func (f *fake) Receive(buf []byte) (int, error) {
	select {
	case p := <-f.in:
		return copy(buf, p), nil
	case <-f.done:
		return 0, link.ErrClosed
	}
}

func (f *fake) MTU() int { return 1500 }

func (f *fake) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed = true
		close(f.done)
	}
	return nil
}

// pkt is a 40-byte TCP/IPv4 packet (no options, no payload) whose sequence
// number is id.
func pkt(id uint32) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Src: netip.MustParseAddr("198.18.0.2"), Dst: netip.MustParseAddr("198.18.0.1")},
		TCP: wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(id), Flags: wire.ACK, Window: 65535},
	}
	return p.Append(nil)
}

// idOf reads pkt's id back: the TCP sequence number, at byte 24.
func idOf(p []byte) uint32 { return binary.BigEndian.Uint32(p[24:28]) }

func TestValidate(t *testing.T) {
	_, err := impair.New(newFake(), impair.Config{
		Out: netsim.Impairment{Loss: 1.5},
		In:  netsim.Impairment{Bandwidth: -1},
	})
	if err == nil {
		t.Fatal("New accepted Loss 1.5 and Bandwidth -1")
	}
	for _, want := range []string{"Config.Out", "Loss", "Config.In", "Bandwidth"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

// TestLatencyOrder: with a latency and no randomness, packets arrive in
// order exactly Latency after they were sent, in both directions.
func TestLatencyOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		imp := netsim.Impairment{Latency: 20 * time.Millisecond}
		l, err := impair.New(f, impair.Config{Out: imp, In: netsim.Impairment{Latency: 5 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range uint32(3) {
			l.Send(pkt(i))
			time.Sleep(time.Millisecond)
		}
		f.in <- pkt(100)
		buf := make([]byte, 1500)
		n, err := l.Receive(buf)
		if err != nil || n != 40 || idOf(buf) != 100 {
			t.Fatalf("Receive = %d, %v, %x", n, err, buf[:n])
		}
		if got := time.Since(start); got != 3*time.Millisecond+5*time.Millisecond {
			t.Errorf("In packet took until %v, want 8ms (injected at 3ms, 5ms latency)", got)
		}
		time.Sleep(50 * time.Millisecond)
		synctest.Wait()
		f.mu.Lock()
		sent := slices.Clone(f.sent)
		f.mu.Unlock()
		if len(sent) != 3 {
			t.Fatalf("inner link got %d packets, want 3", len(sent))
		}
		for i, s := range sent {
			want := start.Add(time.Duration(i)*time.Millisecond + 20*time.Millisecond)
			if s.id != uint32(i) || !s.at.Equal(want) {
				t.Errorf("packet %d: id %d at %v, want id %d at %v", i, s.id, s.at.Sub(start), i, want.Sub(start))
			}
		}
		l.Close()
	})
}

// run sends n packets out through a fresh wrapper and returns the ids in
// the order the inner link got them, and the stats.
func run(t *testing.T, cfg impair.Config, n int) ([]uint32, netsim.PathStats) {
	var ids []uint32
	var st netsim.PathStats
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		l, err := impair.New(f, cfg)
		if err != nil {
			t.Fatal(err)
		}
		for i := range uint32(n) {
			l.Send(pkt(i))
			time.Sleep(100 * time.Microsecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		f.mu.Lock()
		for _, s := range f.sent {
			ids = append(ids, s.id)
		}
		f.mu.Unlock()
		st = l.Stats(impair.Out)
		l.Close()
	})
	return ids, st
}

// TestSeeded: loss, reordering and duplication follow the seed: the same
// seed gives the same deliveries, and the counters add up.
func TestSeeded(t *testing.T) {
	cfg := impair.Config{
		Out:  netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01},
		Seed: 7,
	}
	const n = 2000
	a, sa := run(t, cfg, n)
	b, sb := run(t, cfg, n)
	if !slices.Equal(a, b) || sa != sb {
		t.Fatalf("same seed, different runs: %v vs %v", sa, sb)
	}
	if sa.Sent != n || sa.Delivered != n-sa.Lost+sa.Duplicated || len(a) != sa.Delivered {
		t.Fatalf("stats %v, %d delivered: do not add up for %d sent", sa, len(a), n)
	}
	if sa.Lost == 0 || sa.Reordered == 0 || sa.Duplicated == 0 {
		t.Fatalf("stats %v: 2000 packets and no loss, reordering or duplication", sa)
	}
	// Reordered packets are overtaken: the order is not sorted.
	if slices.IsSorted(a) {
		t.Fatal("reordering did not reorder")
	}
	cfg.Seed = 8
	c, _ := run(t, cfg, n)
	if slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 gave the same deliveries")
	}
}

// TestDropHook: the hook sees every packet of each direction and drops what
// it selects.
func TestDropHook(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		l, err := impair.New(f, impair.Config{Drop: func(d impair.Direction, p []byte) bool {
			return d == impair.Out && idOf(p)%2 == 1
		}})
		if err != nil {
			t.Fatal(err)
		}
		for i := range uint32(6) {
			l.Send(pkt(i))
		}
		f.mu.Lock()
		var ids []uint32
		for _, s := range f.sent {
			ids = append(ids, s.id)
		}
		f.mu.Unlock()
		if !slices.Equal(ids, []uint32{0, 2, 4}) {
			t.Fatalf("delivered %v, want [0 2 4]", ids)
		}
		if st := l.Stats(impair.Out); st.RuleDrops != 3 || st.Sent != 6 {
			t.Fatalf("stats %v, want 6 sent, 3 rule drops", st)
		}
		l.Close()
	})
}

func TestCloseUnblocksReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, err := impair.New(newFake(), impair.Config{})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() {
			_, err := l.Receive(make([]byte, 100))
			done <- err
		}()
		synctest.Wait()
		l.Close()
		if err := <-done; !errors.Is(err, link.ErrClosed) {
			t.Fatalf("Receive after Close: %v", err)
		}
		if err := l.Send(pkt(1)); !errors.Is(err, link.ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
	})
}

// TestNotTCPPasses: link/netsim models TCP over IPv4 only; anything else (here
// 40 bytes that are not an IPv4 packet) crosses at once, unimpaired, and
// is counted sent and delivered.
func TestNotTCPPasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		l, err := impair.New(f, impair.Config{Out: netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 1}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		l.Send(make([]byte, 40))
		f.mu.Lock()
		sent := slices.Clone(f.sent)
		f.mu.Unlock()
		if len(sent) != 1 || !sent[0].at.Equal(start) {
			t.Fatalf("inner link got %v, want one packet at once", sent)
		}
		if st := l.Stats(impair.Out); st.Sent != 1 || st.Delivered != 1 || st.Lost != 0 {
			t.Fatalf("stats %v, want 1 sent and delivered", st)
		}
		l.Close()
	})
}
