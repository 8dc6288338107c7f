package synack

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

// Sixteen goroutines open and close connections at once, each accepting
// whichever connection is next and reading it to EOF after closing its own
// client end (bench's ConnRate with workers=16). Every server Read must see
// the FIN its client sent: a lost wake-up shows as a Read that reaches its
// deadline (the clock is synctest's: a lost wake-up fails at once, a
// correct run never waits for it).
func TestConcurrentOpenClose(t *testing.T) {
	for _, workers := range []int{1, 4, 16} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { concurrentOpenClose(t, workers) })
		})
	}
}

func concurrentOpenClose(t *testing.T, workers int) {
	tn := newTestNet(t, netsim.Impairment{})
	ln, err := tn.server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const perWorker = 200
	raddr := netip.AddrPortFrom(mem.ServerAddr, 80)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				if err := openClose(tn, ln, raddr); err != nil {
					errs <- fmt.Errorf("connection %d: %w", i, err)
					ln.Close()
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func openClose(tn *testNet, ln *Listener, raddr netip.AddrPort) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := tn.client.DialAddr(ctx, raddr)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	s, err := ln.AcceptTCP()
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	defer s.Close()
	if err := c.Close(); err != nil {
		return fmt.Errorf("close client: %w", err)
	}
	s.SetReadDeadline(time.Now().Add(30 * time.Second))
	var one [1]byte
	if n, err := s.Read(one[:]); err != io.EOF {
		peer := "gone"
		for _, so := range tn.client.Sockets() {
			if so.Local.Port() == s.raddr().AddrPort().Port() {
				peer = fmt.Sprintf("%+v", so.Info)
			}
		}
		return fmt.Errorf("server read %d bytes, %v (state %v, client end %s); want EOF", n, err, s.State(), peer)
	}
	return s.Close()
}

// Eight goroutines Read one Conn at once (net.Conn allows it) while the
// peer writes eight single bytes and closes: every byte is read exactly once
// and every reader sees EOF. With one wake-up for several waiters, the
// others slept through the FIN (synctest reports them blocked forever).
func TestConcurrentReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{})
		c, s := tn.connPair(t)
		const readers = 8
		var total atomic.Int64
		var wg sync.WaitGroup
		for range readers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var b [4]byte
				for {
					n, err := s.Read(b[:])
					total.Add(int64(n))
					if err == io.EOF {
						return
					}
					if err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		c.SetNoDelay(true)
		for i := range readers {
			synctest.Wait()
			if _, err := c.Write([]byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		c.Close()
		wg.Wait()
		if got := total.Load(); got != readers {
			t.Fatalf("read %d bytes in all, want %d", got, readers)
		}
	})
}
