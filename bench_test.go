package synack

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
)

// newBenchNet is newTestNet with both Ports at the given MTU and cfg as
// the TCP policy of both stacks.
func newBenchNet(b *testing.B, mtu int, cfg tcp.Config) *testNet {
	b.Helper()
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		b.Fatal(err)
	}
	if err := cp.SetMTU(mtu); err != nil {
		b.Fatal(err)
	}
	if err := sp.SetMTU(mtu); err != nil {
		b.Fatal(err)
	}
	client, err := New(cp, Config{Name: "client", Seed: 1, TCP: cfg})
	if err != nil {
		b.Fatal(err)
	}
	server, err := New(sp, Config{Name: "server", Seed: 2, TCP: cfg})
	if err != nil {
		b.Fatal(err)
	}
	tn := &testNet{n: n, client: client, server: server}
	b.Cleanup(tn.close)
	return tn
}

// BenchmarkTransfer measures bulk throughput between two stacks over a
// perfect in-memory link in real time (the cost of the Go API, the stack
// and the link together).
func BenchmarkTransfer(b *testing.B) {
	tn := newTestNet(b, netsim.Impairment{})
	c, s := tn.connPair(b)
	bulk(b, c, s)
}

// BenchmarkBulk is BenchmarkTransfer at two MTUs, with buffers large
// enough not to limit the window (4 MiB, as Linux's defaults allow).
func BenchmarkBulk(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		b.Run(fmt.Sprintf("mtu=%d", mtu), func(b *testing.B) {
			tn := newBenchNet(b, mtu, tcp.Config{SendBuffer: 4 << 20, RecvBuffer: 1 << 20})
			c, s := tn.connPair(b)
			bulk(b, c, s)
		})
	}
}

func bulk(b *testing.B, c, s *Conn) {
	done := make(chan int64)
	go func() {
		buf := make([]byte, 256<<10)
		var n int64
		for {
			k, err := s.Read(buf)
			n += int64(k)
			if err != nil {
				break
			}
		}
		done <- n
	}()
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.Close()
	if n := <-done; n != int64(b.N)*int64(len(buf)) {
		b.Fatalf("received %d bytes, sent %d", n, int64(b.N)*int64(len(buf)))
	}
}

// BenchmarkPingPong measures one-byte round trips: the client writes a
// byte, the server echoes it, the client reads it.
func BenchmarkPingPong(b *testing.B) {
	tn := newTestNet(b, netsim.Impairment{})
	c, s := tn.connPair(b)
	go func() {
		buf := make([]byte, 1)
		for {
			if _, err := io.ReadFull(s, buf); err != nil {
				return
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 1)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rt/s")
}

// BenchmarkConnect measures connections opened and closed one after the
// other: dial, accept, then both sides close (the client first; the
// server closes in a goroutine per connection, as a server would). The
// next dial waits for the accept, so that the listener's backlog never
// fills while a busy pair of goroutines keeps the accepting one off the
// CPU. MSL is
// 1 ms so that TIME-WAIT does not pile up connections and exhaust the
// ephemeral ports, as a kernel benchmark would reuse TIME-WAIT ports.
func BenchmarkConnect(b *testing.B) {
	tn := newBenchNet(b, 1500, tcp.Config{MSL: time.Millisecond})
	ln, err := tn.server.ListenTCP("tcp", ":80")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{})
	go func() {
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			accepted <- struct{}{}
			go func() {
				var buf [1]byte
				c.Read(buf[:]) // EOF once the client has closed
				c.Close()
			}()
		}
	}()
	raddr := netip.AddrPortFrom(mem.ServerAddr, 80)
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		c, err := tn.client.DialAddr(b.Context(), raddr)
		if err != nil {
			b.Fatal(err)
		}
		<-accepted
		c.Close()
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "conn/s")
}

// BenchmarkIdleConns opens 10,000 connections and reports the heap they
// hold per pair (both ends: TCBs, the stacks' tables, Conn wrappers), with
// nothing in flight.
func BenchmarkIdleConns(b *testing.B) {
	const pairs = 10000
	for b.Loop() {
		tn := newBenchNet(b, 1500, tcp.Config{})
		var lns []*Listener
		// Four listening ports: one client port may then serve four
		// connections (the ephemeral range has 28,232 ports).
		for p := 80; p < 84; p++ {
			ln, err := tn.server.ListenTCP("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				b.Fatal(err)
			}
			lns = append(lns, ln)
		}
		conns := make([]net.Conn, 0, 2*pairs)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for i := range pairs {
			c, s := tn.dialAccept(b, lns[i%len(lns)])
			conns = append(conns, c, s)
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/pairs, "B/pair")
		runtime.KeepAlive(conns)
		tn.close()
	}
}
