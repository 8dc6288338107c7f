package synack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
)

// wantOpErr checks that err is a *net.OpError for op that wraps target.
func wantOpErr(t *testing.T, err error, op string, target error) {
	t.Helper()
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("got %T %v, want a *net.OpError", err, err)
	}
	if oe.Op != op {
		t.Errorf("OpError.Op = %q, want %q (%v)", oe.Op, op, err)
	}
	if !errors.Is(err, target) {
		t.Errorf("got %v, want it to wrap %v", err, target)
	}
}

func TestDialRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 10 * time.Millisecond})
		start := time.Now()
		_, err := tn.client.Dial("tcp", "198.18.0.1:81")
		wantOpErr(t, err, "dial", syscall.ECONNREFUSED)
		if got := time.Since(start); got != 20*time.Millisecond {
			t.Errorf("refused after %v, want one RTT (20ms)", got)
		}
		if got, want := err.Error(), "dial tcp 198.18.0.2:"; len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("error text %q, want it to start %q", got, want)
		}
		if c := tn.client.Counters(); c.ActiveOpens != 1 || c.AttemptFails != 1 {
			t.Errorf("client counters %+v, want ActiveOpens=1 AttemptFails=1", c)
		}
	})
}

// A SYN that is never answered is retried 6 times (1+2+4+...+64 s) and the
// dial fails with ETIMEDOUT after 127 s of (fake) time.
func TestDialTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Loss: 1})
		start := time.Now()
		_, err := tn.client.Dial("tcp", "198.18.0.1:80")
		wantOpErr(t, err, "dial", syscall.ETIMEDOUT)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%v: Timeout() is not true", err)
		}
		if got := time.Since(start); got != 127*time.Second {
			t.Errorf("gave up after %v, want 127s", got)
		}
	})
}

func TestDialContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Loss: 1})
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		start := time.Now()
		_, err := tn.client.DialContext(ctx, "tcp", "198.18.0.1:80")
		wantOpErr(t, err, "dial", context.DeadlineExceeded)
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("gave up after %v, want 3s", got)
		}
		synctest.Wait()
		if s := tn.client.Sockets(); len(s) != 0 {
			t.Errorf("the aborted attempt is still there: %v", s)
		}
		ctx, cancel2 := context.WithCancel(t.Context())
		cancel2()
		_, err = tn.client.DialContext(ctx, "tcp", "198.18.0.1:80")
		wantOpErr(t, err, "dial", context.Canceled)
	})
}

func TestDialBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{})
		for _, tc := range []struct{ network, addr, want string }{
			{"sctp", "198.18.0.1:80", "dial sctp: unknown network sctp"}, // "udp" is a UDPConn (udp.go)
			{"tcp", "198.18.0.1", "dial tcp: address 198.18.0.1: missing port in address"},
			{"tcp", "198.18.0.1:http", "dial tcp: address http: invalid port (a number from 0 to 65535)"},
			{"tcp", "198.18.0.1:70000", "dial tcp: address 70000: invalid port (a number from 0 to 65535)"},
			{"tcp", "example.com:80", "dial tcp: lookup example.com: no resolver (Config.Resolve) and not an IP literal"},
			// An IPv4-only host has no route to an IPv6 address (Linux:
			// ENETUNREACH).
			{"tcp", "[2001:2::1]:80", "dial tcp [2001:2::1]:80: connect: network is unreachable"},
			{"tcp", "[::]:80", "dial tcp [::]:80: connect: invalid argument"},
			{"tcp4", "[2001:2::1]:80", "dial tcp4 [2001:2::1]:80: address 2001:2::1: address of the wrong family for tcp4"},
			{"tcp6", "198.18.0.1:80", "dial tcp6 198.18.0.1:80: address 198.18.0.1: address of the wrong family for tcp6"},
		} {
			_, err := tn.client.Dial(tc.network, tc.addr)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Dial(%q, %q) = %v, want %q", tc.network, tc.addr, err, tc.want)
			}
		}
		if _, err := tn.server.Listen("tcp", "198.18.0.9:80"); err == nil {
			t.Error("Listen on another host's address succeeded")
		}
	})
}

func TestResolve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		client, _ := New(cp, Config{Seed: 1, Resolve: func(_ context.Context, host string) (netip.Addr, error) {
			if host == "server.test" {
				return mem.ServerAddr, nil
			}
			return netip.Addr{}, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}})
		defer client.Close()
		server, _ := New(sp, Config{Seed: 2})
		defer server.Close()
		ln, _ := server.Listen("tcp", ":80")
		defer ln.Close()
		c, err := client.Dial("tcp", "server.test:80")
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		if _, err := client.Dial("tcp", "nowhere.test:80"); err == nil {
			t.Error("dial to an unresolvable name succeeded")
		}
	})
}

func TestListenInUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{})
		ln, err := tn.server.Listen("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		_, err = tn.server.Listen("tcp", "198.18.0.1:80")
		wantOpErr(t, err, "listen", syscall.EADDRINUSE)
		ln.Close()
		ln, err = tn.server.Listen("tcp", ":80")
		if err != nil {
			t.Fatalf("listen after close: %v", err)
		}
		ln.Close()
		ln2, err := tn.server.Listen("tcp", ":0")
		if err != nil {
			t.Fatal(err)
		}
		if p := ln2.Addr().(*net.TCPAddr).Port; p < 32768 || p > 60999 {
			t.Errorf("port 0 gave %d, want an ephemeral port", p)
		}
		ln2.Close()
	})
}

func TestEOFAndHalfClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		if _, err := c.Write([]byte("request")); err != nil {
			t.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(s)
		if err != nil || string(got) != "request" {
			t.Fatalf("server read %q, %v; want \"request\" then EOF", got, err)
		}
		if n, err := s.Read(make([]byte, 10)); n != 0 || err != io.EOF {
			t.Errorf("second read after EOF = %d, %v; want 0, io.EOF", n, err)
		}
		// Half-close: the server still answers.
		if _, err := s.Write([]byte("response")); err != nil {
			t.Fatalf("write after the peer's FIN: %v", err)
		}
		s.Close()
		got, err = io.ReadAll(c)
		if err != nil || string(got) != "response" {
			t.Fatalf("client read %q, %v", got, err)
		}
		_, err = c.Write([]byte("more"))
		wantOpErr(t, err, "write", syscall.EPIPE)
		c.Close()
	})
}

func TestReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		done := make(chan error)
		go func() {
			_, err := c.Read(make([]byte, 10))
			done <- err
		}()
		if err := s.SetLinger(0); err != nil {
			t.Fatal(err)
		}
		s.Close()
		err := <-done
		wantOpErr(t, err, "read", syscall.ECONNRESET)
		_, err = c.Write([]byte("x"))
		wantOpErr(t, err, "write", syscall.ECONNRESET)
		if got := tn.server.Counters().OutRsts; got != 1 {
			t.Errorf("server OutRsts = %d, want 1", got)
		}
		if got := tn.client.Counters().EstabResets; got != 1 {
			t.Errorf("client EstabResets = %d, want 1", got)
		}
	})
}

// An established connection whose peer vanishes fails with ETIMEDOUT after
// the data retransmissions run out.
func TestDataTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, _ := tn.connPair(t)
		tn.n.SetPath("client", "server", netsim.Impairment{Loss: 1})
		if _, err := c.Write([]byte("into the void")); err != nil {
			t.Fatal(err)
		}
		_, err := c.Read(make([]byte, 10))
		wantOpErr(t, err, "read", syscall.ETIMEDOUT)
		// The first retransmission is the tail loss probe, sent at the
		// RTO's expiry instead of the RTO (RFC 8985 §7.2: "If Now() + PTO >
		// TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()"); then
		// DataRetries RTO retransmissions.
		if st := c.Info().Stats; st.Retransmits != 16 || st.TLPs != 1 {
			t.Errorf("%d retransmissions, %d TLPs; want 16 (a probe and DataRetries 15), 1", st.Retransmits, st.TLPs)
		}
	})
}

func TestClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		defer s.Close()
		rd := make(chan error)
		go func() {
			_, err := c.Read(make([]byte, 10))
			rd <- err
		}()
		synctest.Wait()
		c.Close()
		wantOpErr(t, <-rd, "read", net.ErrClosed)
		_, err := c.Write([]byte("x"))
		wantOpErr(t, err, "write", net.ErrClosed)
		_, err = c.Read(make([]byte, 1))
		wantOpErr(t, err, "read", net.ErrClosed)
		wantOpErr(t, c.Close(), "close", net.ErrClosed)
		wantOpErr(t, c.SetDeadline(time.Now()), "set", net.ErrClosed)
		wantOpErr(t, c.SetNoDelay(true), "set", net.ErrClosed)
		// The peer sees an orderly close.
		if _, err := s.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("peer read %v, want io.EOF", err)
		}

		ln, _ := tn.server.Listen("tcp", ":81")
		acc := make(chan error)
		go func() {
			_, err := ln.Accept()
			acc <- err
		}()
		synctest.Wait()
		ln.Close()
		wantOpErr(t, <-acc, "accept", net.ErrClosed)
		wantOpErr(t, ln.Close(), "close", net.ErrClosed)
	})
}

func TestDeadlines(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		start := time.Now()
		c.SetReadDeadline(start.Add(3 * time.Second))
		_, err := c.Read(make([]byte, 10))
		wantOpErr(t, err, "read", os.ErrDeadlineExceeded)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%v: Timeout() is not true", err)
		}
		if got := time.Since(start); got != 3*time.Second {
			t.Errorf("read timed out after %v, want 3s", got)
		}
		// The connection lives on.
		c.SetReadDeadline(time.Time{})
		s.Write([]byte("hi"))
		if n, err := c.Read(make([]byte, 10)); n != 2 || err != nil {
			t.Errorf("read after clearing the deadline: %d, %v", n, err)
		}

		// A writer whose peer does not read fills both buffers and times out.
		c.SetWriteDeadline(time.Now().Add(time.Second))
		n, err := c.Write(make([]byte, 1<<20))
		wantOpErr(t, err, "write", os.ErrDeadlineExceeded)
		if n == 0 || n >= 1<<20 {
			t.Errorf("wrote %d bytes before the deadline, want a partial write", n)
		}

		ln, _ := tn.server.ListenTCP("tcp", ":81")
		ln.SetDeadline(time.Now().Add(time.Second))
		_, err = ln.Accept()
		wantOpErr(t, err, "accept", os.ErrDeadlineExceeded)
		ln.Close()
	})
}

// CloseRead: further reads see EOF; what the peer sends is acknowledged and
// dropped, so the peer's writes complete.
func TestCloseRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		if err := c.CloseRead(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("read after CloseRead: %v, want io.EOF", err)
		}
		if _, err := s.Write(make([]byte, 1<<20)); err != nil {
			t.Fatalf("peer write: %v", err)
		}
		time.Sleep(time.Second) // fake time: the transfer ends long before
		synctest.Wait()
		if i := s.Info(); i.Unacked != 0 || i.Unsent != 0 {
			t.Errorf("peer has %d bytes unacked, %d unsent; want all acknowledged", i.Unacked, i.Unsent)
		}
		if i := c.Info(); i.Unread != 0 || i.Stats.BytesIn != 1<<20 {
			t.Errorf("reader: unread %d, bytes in %d; want 0 and %d", i.Unread, i.Stats.BytesIn, 1<<20)
		}
		// Writing still works.
		if _, err := c.Write([]byte("still here")); err != nil {
			t.Errorf("write after CloseRead: %v", err)
		}
	})
}

// The socket options land in the connection's TCB.
func TestOptions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, _ := tn.connPair(t)
		if o := c.Options(); !o.NoDelay || o.KeepAlive || o.Linger != -1 {
			t.Errorf("defaults %+v, want NoDelay (as the net package), no keepalive, linger -1", o)
		}
		c.SetNoDelay(false)
		c.SetReadBuffer(32768)
		c.SetWriteBuffer(100000)
		c.SetKeepAlive(true)
		c.SetKeepAlivePeriod(30 * time.Second)
		c.SetLinger(5)
		want := Options{NoDelay: false, KeepAlive: true, KeepAliveIdle: 30 * time.Second,
			KeepAliveInterval: 30 * time.Second, KeepAliveCount: 9, SendBuffer: 100000, RecvBuffer: 32768, Linger: 5}
		if o := c.Options(); o != want {
			t.Errorf("options %+v, want %+v", o, want)
		}
		c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: time.Minute, Interval: -1, Count: 3})
		if o := c.Options(); o.KeepAliveIdle != time.Minute || o.KeepAliveInterval != 30*time.Second || o.KeepAliveCount != 3 {
			t.Errorf("after SetKeepAliveConfig: %+v", o)
		}
		if err := c.SetReadBuffer(0); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("SetReadBuffer(0) = %v, want EINVAL", err)
		}
		if c.Info().RcvWnd > 32768 {
			t.Errorf("window %d beyond the 32768-byte receive buffer", c.Info().RcvWnd)
		}
	})
}

// Info reads the TCB like `ss -ti`: on a 20 ms RTT link under fake time the
// RTT estimate is exact.
func TestInfo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 10 * time.Millisecond})
		c, s := tn.connPair(t)
		go io.Copy(io.Discard, s)
		if _, err := c.Write(make([]byte, 100000)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		i := c.Info()
		if i.State != tcp.Established || i.SRTT != 20*time.Millisecond || i.Stats.BytesOut != 100000 || i.Unacked != 0 {
			t.Errorf("info %+v, want ESTABLISHED, SRTT 20ms, 100000 bytes out, all acked", i)
		}
		socks := tn.client.Sockets()
		if len(socks) != 1 || socks[0].Info.State != tcp.Established {
			t.Fatalf("sockets %v", socks)
		}
		line := socks[0].String()
		if want := "ESTABLISHED 198.18.0.2:"; line[:len(want)] != want {
			t.Errorf("socket line %q", line)
		}
		t.Log(line)
	})
}

// Read's cases in the order its doc gives them: data that came before the
// FIN, then io.EOF; a zero-length read is 0, nil even after the FIN; past
// the read deadline, os.ErrDeadlineExceeded comes before data waiting;
// CloseRead's io.EOF before the deadline's error; Close's net.ErrClosed
// before everything.
func TestReadCases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		if _, err := s.Write([]byte("data")); err != nil {
			t.Fatal(err)
		}
		s.Close()
		time.Sleep(time.Second)
		synctest.Wait()
		if n, err := c.Read(nil); n != 0 || err != nil {
			t.Errorf("zero-length read with data and FIN waiting = %d, %v; want 0, nil", n, err)
		}
		c.SetReadDeadline(time.Now().Add(-time.Second))
		_, err := c.Read(make([]byte, 10))
		wantOpErr(t, err, "read", os.ErrDeadlineExceeded)
		c.SetReadDeadline(time.Time{})
		buf := make([]byte, 10)
		if n, err := c.Read(buf); n != 4 || err != nil || string(buf[:n]) != "data" {
			t.Errorf("read = %d %q, %v; want the data before the FIN", n, buf[:n], err)
		}
		if n, err := c.Read(buf); n != 0 || err != io.EOF {
			t.Errorf("read after the data = %d, %v; want 0, io.EOF", n, err)
		}
		if n, err := c.Read(nil); n != 0 || err != nil {
			t.Errorf("zero-length read after the FIN = %d, %v; want 0, nil", n, err)
		}
		c.SetReadDeadline(time.Now().Add(-time.Second))
		c.CloseRead()
		if n, err := c.Read(nil); n != 0 || err != io.EOF {
			t.Errorf("zero-length read after CloseRead, past the deadline = %d, %v; want 0, io.EOF", n, err)
		}
		c.Close()
		_, err = c.Read(nil)
		wantOpErr(t, err, "read", net.ErrClosed)
	})
}

// RFC 1122 §4.2.2.13: "If such a host issues a CLOSE call while received
// data is still pending in TCP, or if new data is received after CLOSE is
// called, its TCP SHOULD send a RST to show that data was lost." Close
// with unread data resets the connection, as on Linux: the peer's next
// call sees ECONNRESET. The same after CloseWrite.
func TestCloseWithUnreadDataResets(t *testing.T) {
	for _, halfFirst := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
			c, s := tn.connPair(t)
			if _, err := s.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			if halfFirst {
				if err := c.CloseWrite(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(100 * time.Millisecond)
				synctest.Wait()
			}
			c.Close()
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
			if got := s.State(); got != tcp.Closed {
				t.Fatalf("peer in %v after Close with unread data (CloseWrite first: %v), want CLOSED by a RST", got, halfFirst)
			}
			_, err := s.Read(make([]byte, 10))
			wantOpErr(t, err, "read", syscall.ECONNRESET)
		})
	}
}

// "... or if new data is received after CLOSE is called": data the peer
// sends after our Close draws a RST; the peer's Write then fails.
func TestDataAfterCloseResets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond})
		c, s := tn.connPair(t)
		c.Close()
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if _, err := s.Write([]byte("late")); err != nil {
			t.Fatalf("first write after the peer's FIN: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		if got := s.State(); got != tcp.Closed {
			t.Fatalf("peer in %v after sending data to a closed connection, want CLOSED by a RST", got)
		}
		_, err := s.Write([]byte("more"))
		wantOpErr(t, err, "write", syscall.ECONNRESET)
	})
}
