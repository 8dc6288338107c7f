package sim

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
)

// transfer sends n bytes from client to server over an impaired link and
// returns the world after the run.
func transfer(t *testing.T, seed uint64, n int, imp netsim.Impairment) (*World, Result) {
	t.Helper()
	w := NewWorld(seed, nil)
	c, err := w.AddHost("client", ClientAddr, tcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.AddHost("server", ServerAddr, tcp.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range [][2]string{{"client", "server"}, {"server", "client"}} {
		if err := w.Network().SetPath(d[0], d[1], imp); err != nil {
			t.Fatal(err)
		}
	}
	w.Run(s, Listen(80), Accept(), ReadEOF(), Close())
	w.Run(c, Connect("server", 80), WaitEstablished(), WriteBytes(n), Close(), ReadEOF())
	return w, w.RunFor(2 * time.Hour)
}

// Every byte arrives exactly once and in order, and both ends reach CLOSED,
// whatever the link does (within what TCP can survive), for many seeds.
func TestTransferIntegrity(t *testing.T) {
	const size = 200_000
	want := Pattern(size)
	seeds := 40
	if testing.Short() {
		seeds = 10
	}
	for _, imp := range []netsim.Impairment{
		{Latency: 10 * time.Millisecond},
		{Latency: 20 * time.Millisecond, Loss: 0.05},
		{Latency: 20 * time.Millisecond, Loss: 0.3},
		{Latency: 5 * time.Millisecond, Jitter: 20 * time.Millisecond, Reorder: 0.2, Duplicate: 0.1},
		{Latency: 10 * time.Millisecond, Corrupt: 0.05, Loss: 0.05, Duplicate: 0.05},
		{Latency: 10 * time.Millisecond, Bandwidth: 10_000_000, QueueLimit: 20},
	} {
		t.Run(imp.String(), func(t *testing.T) {
			for seed := uint64(1); seed <= uint64(seeds); seed++ {
				w, res := transfer(t, seed, size, imp)
				cl, sv := w.Host("client"), w.Host("server")
				where := fmt.Sprintf("seed %d (%v)", seed, imp)
				if res.TimedOut {
					t.Fatalf("%s: still running after 2h of virtual time", where)
				}
				for _, h := range []*Host{cl, sv} {
					if err := h.Err(); err != nil {
						t.Fatalf("%s: %v", where, err)
					}
				}
				if got := sv.Received(); !bytes.Equal(got, want) {
					t.Fatalf("%s: server received %d bytes, want %d intact", where, len(got), size)
				}
				for _, h := range []*Host{cl, sv} {
					if st := h.Conn().State(); st != tcp.Closed {
						t.Fatalf("%s: %s ended in %v", where, h.Name, st)
					}
				}
			}
		})
	}
}
