package synack

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

var (
	client6 = netip.MustParseAddr("2001:2::2")
	server6 = netip.MustParseAddr("2001:2::1")
)

// newTestNet6 is newTestNet with dual-stack hosts: the client at
// 198.18.0.2 and 2001:2::2, the server at 198.18.0.1 and 2001:2::1 (the
// IPv6 benchmarking range, RFC 5180). link/mem carries IPv6 on unimpaired
// paths only.
func newTestNet6(tb testing.TB) *testNet {
	tb.Helper()
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		tb.Fatal(err)
	}
	if err := n.AddAddr6("client", client6); err != nil {
		tb.Fatal(err)
	}
	if err := n.AddAddr6("server", server6); err != nil {
		tb.Fatal(err)
	}
	client, err := New(cp, Config{Name: "client", Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	server, err := New(sp, Config{Name: "server", Seed: 2})
	if err != nil {
		tb.Fatal(err)
	}
	tn := &testNet{n: n, client: client, server: server}
	tb.Cleanup(tn.close)
	return tn
}

// net/http over IPv6 end to end: a 1 MB download and a 1 MB upload through
// a dual-stack listener on ":80", and the same listener over IPv4.
func TestHTTPOverIPv6(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet6(t)
		ln, err := tn.server.Listen("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		if got := ln.Addr().String(); got != "[::]:80" {
			t.Errorf("dual-stack listener's Addr %s, want [::]:80 (as net reports it)", got)
		}
		var remotes []string
		srv := &http.Server{Handler: handler(), ConnState: func(c net.Conn, s http.ConnState) {
			if s == http.StateNew {
				remotes = append(remotes, c.LocalAddr().String()+"<-"+c.RemoteAddr().String())
			}
		}}
		go srv.Serve(ln)
		defer srv.Close()
		tr := &http.Transport{DialContext: tn.client.DialContext}
		defer tr.CloseIdleConnections()
		hc := &http.Client{Transport: tr}
		resp, err := hc.Get("http://[2001:2::1]:80/bytes/1000000")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(body, pattern(1000000)) {
			t.Fatalf("downloaded %d bytes, not the pattern", len(body))
		}
		up := pattern(1 << 20)
		resp, err = hc.Post("http://[2001:2::1]:80/sha256", "application/octet-stream", bytes.NewReader(up))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		sum := sha256.Sum256(up)
		if string(got) != hex.EncodeToString(sum[:]) {
			t.Fatalf("server's hash %s, want %x", got, sum)
		}
		resp, err = hc.Get("http://198.18.0.1:80/hello")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(remotes) != 2 || !strings.HasPrefix(remotes[0], "[2001:2::1]:80<-[2001:2::2]:") || !strings.HasPrefix(remotes[1], "198.18.0.1:80<-198.18.0.2:") {
			t.Fatalf("server's connections: %v", remotes)
		}
	})
}

// The networks "tcp4" and "tcp6" and the addresses of net.Conn over IPv6.
func TestNetworksTCP4TCP6(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet6(t)
		l6, err := tn.server.ListenTCP("tcp6", "[::]:81")
		if err != nil {
			t.Fatal(err)
		}
		if got := l6.Addr().String(); got != "[2001:2::1]:81" {
			t.Errorf("tcp6 listener's Addr %s", got)
		}
		// The IPv4 side of port 81 is still free.
		l4, err := tn.server.ListenTCP("tcp4", ":81")
		if err != nil {
			t.Fatalf("tcp4 listener beside a tcp6 one: %v", err)
		}
		if got := l4.Addr().String(); got != "198.18.0.1:81" {
			t.Errorf("tcp4 listener's Addr %s", got)
		}
		if _, err := tn.server.Listen("tcp", ":81"); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("dual-stack listen on a taken port: %v", err)
		}
		for _, tc := range []struct {
			network, addr string
			ln            *Listener
			local, remote string
		}{
			{"tcp6", "[2001:2::1]:81", l6, "[2001:2::2]", "[2001:2::1]:81"},
			{"tcp", "[2001:2::1]:81", l6, "[2001:2::2]", "[2001:2::1]:81"},
			{"tcp4", "198.18.0.1:81", l4, "198.18.0.2", "198.18.0.1:81"},
			{"tcp", "[::ffff:198.18.0.1]:81", l4, "198.18.0.2", "198.18.0.1:81"},
		} {
			accepted := make(chan net.Conn, 1)
			go func() {
				c, _ := tc.ln.Accept()
				accepted <- c
			}()
			c, err := tn.client.Dial(tc.network, tc.addr)
			if err != nil {
				t.Fatalf("Dial(%q, %q): %v", tc.network, tc.addr, err)
			}
			a := <-accepted
			if !strings.HasPrefix(c.LocalAddr().String(), tc.local+":") || c.RemoteAddr().String() != tc.remote {
				t.Errorf("Dial(%q, %q): local %v, remote %v", tc.network, tc.addr, c.LocalAddr(), c.RemoteAddr())
			}
			if a.LocalAddr().String() != tc.remote || a.RemoteAddr().String() != c.LocalAddr().String() {
				t.Errorf("accepted: local %v, remote %v", a.LocalAddr(), a.RemoteAddr())
			}
			if ta := c.LocalAddr().(*net.TCPAddr); strings.HasPrefix(tc.local, "[") != (ta.IP.To4() == nil) {
				t.Errorf("LocalAddr %v of the wrong family", ta)
			}
			c.Write([]byte("ping"))
			buf := make([]byte, 4)
			if _, err := io.ReadFull(a, buf); err != nil || string(buf) != "ping" {
				t.Errorf("read %q, %v", buf, err)
			}
			c.Close()
			a.Close()
		}
		if _, err := tn.server.Listen("tcp6", "198.18.0.1:82"); err == nil {
			t.Error("tcp6 listen on an IPv4 address")
		}
		// RFC 9293 §3.10.7.1 over IPv6: a SYN to a closed port is refused.
		_, err = tn.client.Dial("tcp6", "[2001:2::1]:9")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial a closed IPv6 port: %v", err)
		}
	})
}

// A host with an IPv6 address only: Config.Addr may hold it.
func TestIPv6OnlyStack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		n.AddAddr6("client", client6)
		n.AddAddr6("server", server6)
		client, err := New(cp, Config{Addr: client6, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		server, err := New(sp, Config{Addr6: server6, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		defer server.Close()
		if client.Addr().IsValid() || client.Addr6() != client6 {
			t.Fatalf("addresses %v and %v", client.Addr(), client.Addr6())
		}
		ln, err := server.Listen("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		if got := ln.Addr().String(); got != "[2001:2::1]:80" {
			t.Errorf("listener's Addr %s", got)
		}
		go func() {
			c, err := ln.Accept()
			if err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		c, err := client.Dial("tcp", "[2001:2::1]:80")
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("echo"))
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "echo" {
			t.Fatalf("read %q, %v", buf, err)
		}
		c.Close()
		if _, err := client.Dial("tcp", "198.18.0.1:80"); !errors.Is(err, syscall.ENETUNREACH) {
			t.Errorf("dial IPv4 from an IPv6-only host: %v", err)
		}
	})
}

// A connection attempt that times out after an ICMP soft error reports the
// soft error, as Linux reports sk_err_soft instead of ETIMEDOUT; a hard one
// in SYN-SENT is ECONNREFUSED at once.
func TestICMPErrorsMapToErrno(t *testing.T) {
	tuple := tcp.Tuple{Local: netip.MustParseAddrPort("[2001:2::2]:40000"), Remote: netip.MustParseAddrPort("[2001:2::1]:80")}
	c := tcp.NewActive(tcp.Config{SynRetries: 1}, tuple, 1000, 0)
	c.Output(0, func(*wire.Segment, bool) {})
	c.HandleICMP(0, &tcp.ICMPError{Err: tcp.ErrHostUnreachable, Seq: 1000, What: "ICMPv6 dest-unreachable address-unreachable"})
	for i := 0; !c.Done() && i < 10; i++ {
		now := c.NextDeadline()
		c.HandleTimeout(now)
		c.Output(now, func(*wire.Segment, bool) {})
	}
	if err := mapErr("connect", c.Err()); !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Errorf("timeout after a soft error: %v (Err %v)", err, c.Err())
	}
	h := tcp.NewActive(tcp.Config{}, tuple, 1000, 0)
	h.Output(0, func(*wire.Segment, bool) {})
	h.HandleICMP(0, &tcp.ICMPError{Err: tcp.ErrConnRefused, Hard: true, Seq: 1000, What: "ICMPv6 dest-unreachable port-unreachable"})
	if err := mapErr("connect", h.Err()); !h.Done() || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("hard error: done %v, %v", h.Done(), err)
	}
}
