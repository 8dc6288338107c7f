package synack

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

// A datagram each way between a ListenUDP socket and a DialUDP one, with
// the addresses each side reports.
func TestUDPEcho(t *testing.T) {
	tn := newTestNet(t, netsim.Impairment{})
	srv, err := tn.server.ListenUDP("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if got := srv.LocalAddr().String(); got != "198.18.0.1:53" {
		t.Errorf("server LocalAddr %s, want 198.18.0.1:53", got)
	}
	c, err := tn.client.Dial("udp", "198.18.0.1:53")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, from, err := srv.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if string(buf[:n]) != "ping" || from.String() != c.LocalAddr().String() {
		t.Errorf("server read %q from %v, want \"ping\" from %v", buf[:n], from, c.LocalAddr())
	}
	if _, err := srv.WriteTo([]byte("pong"), from); err != nil {
		t.Fatal(err)
	}
	n, err = c.Read(buf)
	if err != nil || string(buf[:n]) != "pong" {
		t.Errorf("client read %q, %v; want \"pong\"", buf[:n], err)
	}
	// A datagram is cut to the buffer, the rest lost, as with net.
	srv.WriteTo([]byte("truncated"), from)
	n, err = c.Read(buf[:5])
	if err != nil || string(buf[:n]) != "trunc" {
		t.Errorf("short read %q, %v; want \"trunc\"", buf[:n], err)
	}
	if _, err := c.(*UDPConn).WriteTo([]byte("x"), from); !errors.Is(err, syscall.EISCONN) {
		t.Errorf("WriteTo on a connected socket: %v, want EISCONN", err)
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, syscall.EDESTADDRREQ) {
		t.Errorf("Write on an unconnected socket: %v, want EDESTADDRREQ", err)
	}
	// A datagram over the MTU goes in fragments (stack/udp.go); one over
	// IPv4's largest, 65507 bytes of data, fails as on Linux.
	if _, err := srv.WriteTo(make([]byte, 65508), from); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("65508-byte datagram over IPv4: %v, want EMSGSIZE", err)
	}
	if _, err := tn.server.ListenUDP("udp4", ":53"); !errors.Is(err, syscall.EADDRINUSE) {
		t.Errorf("second bind of port 53: %v, want EADDRINUSE", err)
	}
	if _, err := tn.server.ListenUDP("tcp", ":53"); err == nil {
		t.Error("ListenUDP with network tcp succeeded")
	}
}

// A connected socket hears the Port Unreachable its datagram to a closed
// port brought back: ECONNREFUSED on the next read, as Linux reports it.
func TestUDPConnRefused(t *testing.T) {
	tn := newTestNet(t, netsim.Impairment{})
	c, err := tn.client.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(mem.ServerAddr, 9)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("anyone?"))
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("read after a datagram to a closed port: %v, want ECONNREFUSED", err)
	}
	if got := tn.server.UDPCounters().NoPorts; got != 1 {
		t.Errorf("server NoPorts %d, want 1", got)
	}
}

// Deadlines, Close and Stack.Close, as net.PacketConn promises: a read
// past its deadline times out (also one blocked when the deadline is set),
// Close unblocks a blocked read with net.ErrClosed and every later call
// fails with it.
func TestUDPDeadlinesAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{})
		c, err := tn.client.ListenUDP("udp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(-time.Second))
		if _, _, err := c.ReadFrom(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read past the deadline: %v", err)
		}
		c.SetReadDeadline(time.Time{})
		errc := make(chan error, 1)
		go func() {
			_, _, err := c.ReadFrom(make([]byte, 1))
			errc <- err
		}()
		synctest.Wait()
		c.SetReadDeadline(time.Now().Add(time.Second))
		start := time.Now()
		if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("blocked read after SetReadDeadline: %v", err)
		}
		if d := time.Since(start); d != time.Second {
			t.Errorf("timed out after %v of virtual time, want 1s", d)
		}
		c.SetReadDeadline(time.Time{})
		go func() {
			_, _, err := c.ReadFrom(make([]byte, 1))
			errc <- err
		}()
		synctest.Wait()
		c.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read blocked during Close: %v", err)
		}
		if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(198, 18, 0, 1), Port: 9}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("write after Close: %v", err)
		}
		if err := c.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close: %v", err)
		}
		d, _ := tn.client.ListenUDP("udp", ":0")
		go func() {
			_, _, err := d.ReadFrom(make([]byte, 1))
			errc <- err
		}()
		synctest.Wait()
		tn.client.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read blocked during Stack.Close: %v", err)
		}
	})
}

// Concurrent readers and writers on one socket (run with -race): every
// datagram is read exactly once.
func TestUDPConcurrent(t *testing.T) {
	tn := newTestNet(t, netsim.Impairment{})
	srv, _ := tn.server.ListenUDP("udp", ":7")
	defer srv.Close()
	c, _ := tn.client.ListenUDP("udp", ":0")
	defer c.Close()
	const writers, each = 4, 50
	var mu sync.Mutex
	got := map[string]int{}
	var rwg sync.WaitGroup
	for range 3 {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			buf := make([]byte, 64)
			for {
				n, _, err := srv.ReadFrom(buf)
				if err != nil {
					return
				}
				mu.Lock()
				got[string(buf[:n])]++
				mu.Unlock()
			}
		}()
	}
	var wg sync.WaitGroup
	to := &net.UDPAddr{IP: net.IPv4(198, 18, 0, 1), Port: 7}
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				c.WriteTo([]byte(strings.Repeat("x", w)+string(rune('a'+i%26))+string(rune('0'+i/26))), to)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == writers*each || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	srv.Close()
	rwg.Wait()
	if len(got) != writers*each {
		t.Fatalf("read %d distinct datagrams, want %d", len(got), writers*each)
	}
	for k, v := range got {
		if v != 1 {
			t.Errorf("datagram %q read %d times", k, v)
		}
	}
}

// IPv6 and the families of the networks: "udp6" on a dual-stack stack
// takes IPv6 only, "udp4" IPv4 only.
func TestUDPFamilies(t *testing.T) {
	n := mem.NewNetwork(1, nil)
	defer n.Close()
	a6 := netip.MustParseAddr("2001:2::1")
	b6 := netip.MustParseAddr("2001:2::2")
	pa, _ := n.Attach("a", mem.ServerAddr)
	pb, _ := n.Attach("b", mem.ClientAddr)
	if err := n.AddAddr6("a", a6); err != nil {
		t.Fatal(err)
	}
	n.AddAddr6("b", b6)
	sa, err := New(pa, Config{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sa.Close()
	sb, _ := New(pb, Config{Seed: 2})
	defer sb.Close()
	l6, err := sa.ListenUDP("udp6", ":53")
	if err != nil {
		t.Fatal(err)
	}
	defer l6.Close()
	l4, err := sa.ListenUDP("udp4", ":53")
	if err != nil {
		t.Fatalf("udp4 beside udp6 on one port: %v", err)
	}
	defer l4.Close()
	c6, _ := sb.Dial("udp", "[2001:2::1]:53")
	c4, _ := sb.Dial("udp", "198.18.0.1:53")
	c6.Write([]byte("six"))
	c4.Write([]byte("four"))
	buf := make([]byte, 10)
	n6, from6, _ := l6.ReadFromUDPAddrPort(buf)
	if string(buf[:n6]) != "six" || from6.Addr() != b6 {
		t.Errorf("udp6 socket read %q from %v", buf[:n6], from6)
	}
	n4, from4, _ := l4.ReadFromUDPAddrPort(buf)
	if string(buf[:n4]) != "four" || from4.Addr() != mem.ClientAddr {
		t.Errorf("udp4 socket read %q from %v", buf[:n4], from4)
	}
	if _, err := sb.Dial("udp4", "[2001:2::1]:53"); err == nil {
		t.Error("udp4 dial to an IPv6 address succeeded")
	}
}

// flowGoroutines lists goroutines in the forwarder's and flows' methods.
func flowGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "synack.(*UDPFlow)") || strings.Contains(g, "synack.(*UDPForwarder)") || strings.Contains(g, "synack.(*UDPConn)") {
			out = append(out, g)
		}
	}
	return out
}

// The UDP forwarder: a flow to an address the proxy does not own is handed
// over with its original destination; its handler answers from it; a
// refused destination gets a Port Unreachable (ECONNREFUSED at a connected
// client); an idle flow expires after the idle timeout (its Read returns
// io.EOF and the table is empty), and a closed one leaves nothing at once.
func TestUDPForwarder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe()
		proxy, err := New(a, Config{Addr: netip.MustParseAddr("198.18.0.1"), AnyDestination: true, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer proxy.Close()
		client, err := New(b, Config{Addr: netip.MustParseAddr("198.18.0.2"), Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		if _, err := client.ForwardUDP(0, nil); err == nil {
			t.Fatal("ForwardUDP without AnyDestination succeeded")
		}
		refused := netip.MustParseAddrPort("198.19.0.9:53")
		ended := make(chan error, 4)
		fw, err := proxy.ForwardUDP(10*time.Second, func(src, dst netip.AddrPort) func(*UDPFlow) {
			if dst == refused {
				return nil
			}
			return func(f *UDPFlow) {
				buf := make([]byte, 100)
				for {
					n, err := f.Read(buf)
					if err != nil {
						ended <- err
						return
					}
					if string(buf[:n]) == "bye" {
						ended <- f.Close()
						return
					}
					f.Write([]byte("to " + f.LocalAddr().String() + " from " + f.RemoteAddr().String() + ": " + string(buf[:n])))
				}
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		c1, _ := client.Dial("udp", "198.19.7.7:53")
		c2, _ := client.Dial("udp", "[::ffff:198.19.7.8]:5353")
		c3, _ := client.Dial("udp", refused.String())
		buf := make([]byte, 100)
		for _, c := range []net.Conn{c1, c2} {
			c.Write([]byte("hi"))
			n, err := c.Read(buf)
			want := "to " + c.RemoteAddr().String() + " from " + c.LocalAddr().String() + ": hi"
			if err != nil || string(buf[:n]) != want {
				t.Errorf("reply %q, %v; want %q", buf[:n], err, want)
			}
		}
		c3.Write([]byte("hi"))
		if _, err := c3.Read(buf); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("refused flow: %v, want ECONNREFUSED", err)
		}
		synctest.Wait()
		if got := fw.Flows(); got != 3 {
			t.Errorf("%d flows, want 3 (two open, one refused)", got)
		}
		c2.Write([]byte("bye"))
		if err := <-ended; err != nil {
			t.Errorf("handler's Close: %v", err)
		}
		synctest.Wait()
		if got := fw.Flows(); got != 2 {
			t.Errorf("%d flows after one closed, want 2", got)
		}
		// c1 keeps its flow alive for 9 s, then goes quiet: it expires 10 s
		// after its last datagram, the refused one 10 s after its own.
		time.Sleep(9 * time.Second)
		c1.Write([]byte("still here"))
		c1.Read(buf)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if got := fw.Flows(); got != 1 {
			t.Errorf("%d flows 11 s in, want 1 (the refused one expired)", got)
		}
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if got := fw.Flows(); got != 0 {
			t.Errorf("%d flows after the idle timeout, want 0", got)
		}
		if err := <-ended; err != io.EOF {
			t.Errorf("read of an expired flow: %v, want io.EOF", err)
		}
		for _, c := range []net.Conn{c1, c2, c3} {
			c.Close()
		}
		fw.Close()
		synctest.Wait()
		if g := flowGoroutines(); len(g) != 0 {
			t.Errorf("%d goroutines left:\n%s", len(g), strings.Join(g, "\n\n"))
		}
	})
}

// At most maxPending flows wait for accept at once: a datagram that would
// start one more is dropped and counted, and once accept returns new flows
// are taken again.
func TestUDPForwarderPendingBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := pipe()
		proxy, _ := New(a, Config{Addr: netip.MustParseAddr("198.18.0.1"), AnyDestination: true, Seed: 1})
		defer proxy.Close()
		client, _ := New(b, Config{Addr: netip.MustParseAddr("198.18.0.2"), Seed: 2})
		defer client.Close()
		release := make(chan struct{})
		fw, err := proxy.ForwardUDP(time.Second, func(src, dst netip.AddrPort) func(*UDPFlow) {
			<-release
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		proxy.mu.Lock()
		fw.maxPending = 3
		proxy.mu.Unlock()
		var conns []net.Conn
		for range 5 {
			c, _ := client.Dial("udp", "198.19.7.7:53")
			conns = append(conns, c)
			c.Write([]byte("q"))
		}
		synctest.Wait()
		if got, d := fw.Flows(), fw.Dropped(); got != 3 || d != 2 {
			t.Errorf("%d flows, %d dropped; want 3 and 2", got, d)
		}
		close(release)
		synctest.Wait()
		conns[4].Write([]byte("q"))
		synctest.Wait()
		if got, d := fw.Flows(), fw.Dropped(); got != 4 || d != 2 {
			t.Errorf("after accept returned: %d flows, %d dropped; want 4 and 2", got, d)
		}
		for _, c := range conns {
			c.Close()
		}
		fw.Close()
	})
}
