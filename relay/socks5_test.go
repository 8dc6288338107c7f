package relay

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	synack "github.com/gosynack/synack"
)

// RFC 1928 §6: "VER protocol version: X'05', REP Reply field, RSV
// RESERVED, ATYP address type of following address" then BND.ADDR and
// BND.PORT; every prefix of a good reply is a clear error, never a panic.
func TestReadReply(t *testing.T) {
	good := []struct {
		b    []byte
		want string
	}{
		{[]byte{5, 0, 0, 1, 198, 18, 0, 1, 0x04, 0x38}, "198.18.0.1:1080"},
		{append(append([]byte{5, 0, 0, 4}, netip.MustParseAddr("2001:2::1").AsSlice()...), 0, 53), "[2001:2::1]:53"},
		{[]byte{5, 0, 0, 3, 3, 'a', '.', 'b', 0, 80}, "invalid AddrPort"},
	}
	for _, g := range good {
		a, err := readReply(bytes.NewReader(g.b))
		if err != nil || a.String() != g.want {
			t.Errorf("readReply(% x) = %v, %v; want %s", g.b, a, err, g.want)
		}
		for i := range len(g.b) {
			if _, err := readReply(bytes.NewReader(g.b[:i])); err == nil || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("readReply of %d of %d bytes: %v, want an unexpected EOF", i, len(g.b), err)
			}
		}
	}
	bad := []struct {
		b    []byte
		want string
	}{
		{[]byte{4, 0, 0, 1, 1, 2, 3, 4, 0, 1}, "version 4 in the reply"},
		{[]byte{5, 0, 7, 1, 1, 2, 3, 4, 0, 1}, "reserved byte 0x07"},
		{[]byte{5, 0, 0, 2, 1, 2, 3, 4, 0, 1}, "address type 2"},
		{[]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0}, "socks5 reply 0x05: connection refused"},
		{[]byte{5, 0x42, 0, 1, 0, 0, 0, 0, 0, 0}, "unassigned reply code"},
	}
	for _, b := range bad {
		if _, err := readReply(bytes.NewReader(b.b)); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("readReply(% x) = %v, want %q", b.b, err, b.want)
		}
	}
}

// RFC 1928 §3: the server "selects from one of the methods given in
// METHODS, and sends a METHOD selection message"; "If the selected METHOD
// is X'FF', none of the methods listed by the client are acceptable".
func TestParseMethodReply(t *testing.T) {
	for _, c := range []struct {
		b    []byte
		want string
	}{{[]byte{5, 0}, ""}, {[]byte{5, 0xff}, "no acceptable"}, {[]byte{4, 0}, "version 4"}, {[]byte{5, 2}, "not offered"}, {[]byte{5}, "1 bytes"}} {
		err := parseMethodReply(c.b, 0)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("parseMethodReply(% x) = %v, want %q", c.b, err, c.want)
		}
	}
}

// RFC 1928 §7's UDP request header, both families; a fragment is dropped
// ("MUST drop any datagram whose FRAG field is other than X'00'").
func TestParseUDPHeader(t *testing.T) {
	for _, a := range []string{"198.19.0.9:53", "[2001:2::9]:5353"} {
		ap := netip.MustParseAddrPort(a)
		b := append(appendAddr([]byte{0, 0, 0}, ap), "hello"...)
		got, p, err := parseUDPHeader(b)
		if err != nil || got != ap || string(p) != "hello" {
			t.Errorf("parseUDPHeader(%v) = %v, %q, %v", a, got, p, err)
		}
		for i := range len(b) - 5 {
			if _, _, err := parseUDPHeader(b[:i]); err == nil {
				t.Errorf("%v cut to %d bytes parsed", a, i)
			}
		}
		b[2] = 1
		if _, _, err := parseUDPHeader(b); err == nil || !strings.Contains(err.Error(), "fragment") {
			t.Errorf("fragment: %v", err)
		}
	}
}

// fakeProxy is a SOCKS5 server on loopback for the client's tests: it
// answers CONNECT with reply (connecting nowhere: it echoes) and UDP
// ASSOCIATE with a relay that echoes each datagram with its header.
func fakeProxy(t *testing.T, reply byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				b := make([]byte, 262)
				if _, err := io.ReadFull(c, b[:2]); err != nil {
					return
				}
				io.ReadFull(c, b[:b[1]])
				c.Write([]byte{5, 0})
				if _, err := io.ReadFull(c, b[:4]); err != nil {
					return
				}
				cmd, n := b[1], map[byte]int{1: 4, 4: 16}[b[3]]
				io.ReadFull(c, b[:n+2])
				if reply != 0 {
					c.Write([]byte{5, reply, 0, 1, 0, 0, 0, 0, 0, 0})
					return
				}
				if cmd == 3 {
					u, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
					if err != nil {
						return
					}
					defer u.Close()
					port := u.LocalAddr().(*net.UDPAddr).Port
					c.Write(binary.BigEndian.AppendUint16([]byte{5, 0, 0, 1, 0, 0, 0, 0}, uint16(port)))
					go func() {
						buf := make([]byte, 2048)
						for {
							n, from, err := u.ReadFrom(buf)
							if err != nil {
								return
							}
							u.WriteTo(buf[:n], from)
						}
					}()
					io.Copy(io.Discard, c)
					return
				}
				c.Write([]byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 1})
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestSOCKS5Connect(t *testing.T) {
	s := &SOCKS5{Addr: fakeProxy(t, 0), Timeout: 5 * time.Second}
	if err := s.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, err := s.DialTCP(context.Background(), netip.MustParseAddrPort("198.19.0.5:80"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("ping"))
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil || string(b) != "ping" {
		t.Fatalf("through the proxy: %q, %v", b, err)
	}
}

// A proxy's refusal becomes the client's: reply 5 a RST, 4 a host
// unreachable, 3 a net unreachable, 2 a prohibition.
func TestSOCKS5Refusals(t *testing.T) {
	for code, want := range map[byte]synack.Refusal{5: synack.RefuseReset, 4: synack.RefuseHostUnreachable, 3: synack.RefuseNetUnreachable, 2: synack.RefuseProhibited, 1: synack.RefuseReset} {
		s := &SOCKS5{Addr: fakeProxy(t, code)}
		_, err := s.DialTCP(context.Background(), netip.MustParseAddrPort("198.19.0.5:80"))
		var re *ReplyError
		if !errors.As(err, &re) || re.Code != code || RefusalFor(err) != want {
			t.Errorf("reply %d: %v (refusal %v), want a ReplyError and %v", code, err, RefusalFor(err), want)
		}
	}
}

func TestSOCKS5UDP(t *testing.T) {
	s := &SOCKS5{Addr: fakeProxy(t, 0)}
	dst := netip.MustParseAddrPort("198.19.0.9:53")
	u, err := s.DialUDP(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	u.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := u.Write([]byte("query")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	n, err := u.Read(b)
	if err != nil || string(b[:n]) != "query" {
		t.Fatalf("through the relay: %q, %v", b[:n], err)
	}
}

// UDP ASSOCIATE names the address the client will send from, so its family
// is that of the client's side of the proxy, not the destination's: "the
// DST.ADDR and DST.PORT fields contain the address and port that the client
// expects to use to send UDP datagrams on for the association" (RFC 1928
// §4). A client reaching an IPv4 proxy for an IPv6 destination names
// 0.0.0.0:0; Dante refuses "::" there ("no IPv6 address found amongst the
// internal addresses").
func TestSOCKS5UDPAssociateFamily(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skipf("no loopback: %v", err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 262)
		if _, err := io.ReadFull(c, b[:2]); err != nil {
			return
		}
		io.ReadFull(c, b[:b[1]])
		c.Write([]byte{5, 0})
		if _, err := io.ReadFull(c, b[:4]); err != nil {
			return
		}
		n := map[byte]int{1: 4, 4: 16}[b[3]]
		io.ReadFull(c, b[4:4+n+2])
		got <- append([]byte(nil), b[:4+n+2]...)
		c.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0})
	}()
	s := &SOCKS5{Addr: ln.Addr().String(), Timeout: 5 * time.Second}
	if _, err := s.DialUDP(context.Background(), netip.MustParseAddrPort("[2001:2::9]:53")); err == nil {
		t.Fatal("DialUDP succeeded though the proxy answered 7 (command not supported)")
	}
	want := []byte{5, 3, 0, 1, 0, 0, 0, 0, 0, 0}
	select {
	case req := <-got:
		if !bytes.Equal(req, want) {
			t.Errorf("UDP ASSOCIATE for [2001:2::9]:53 through an IPv4 proxy: % x, want % x (0.0.0.0:0)", req, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the proxy got no request")
	}
}

// An unreachable proxy is a clear error naming it.
func TestSOCKS5Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = (&SOCKS5{Addr: addr}).Check(context.Background())
	if err == nil || !strings.Contains(err.Error(), "socks5 proxy "+addr) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Check of a closed port: %v", err)
	}
}

// FuzzReadReply: any bytes as the proxy's reply give an address or an
// error, never a panic, and a success is a well-formed reply.
func FuzzReadReply(f *testing.F) {
	f.Add([]byte{5, 0, 0, 1, 198, 18, 0, 1, 0x04, 0x38})
	f.Add([]byte{5, 0, 0, 3, 3, 'a', '.', 'b', 0, 80})
	f.Add([]byte{5, 5, 0, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := readReply(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(b) < 6 || b[0] != 5 || b[1] != 0 || b[2] != 0 {
			t.Fatalf("readReply(% x) = %v with no error", b, a)
		}
		if a.Addr().IsValid() {
			if want := appendAddr(nil, a); !bytes.Equal(b[3:3+len(want)], want) {
				t.Fatalf("readReply(% x) = %v, which encodes as % x", b, a, want)
			}
		}
	})
}

// FuzzParseUDPHeader: any datagram from the relay parses or is an error;
// what parses encodes back to the same header.
func FuzzParseUDPHeader(f *testing.F) {
	f.Add(append(appendAddr([]byte{0, 0, 0}, netip.MustParseAddrPort("198.19.0.9:53")), "x"...))
	f.Add(appendAddr([]byte{0, 0, 0}, netip.MustParseAddrPort("[2001:2::9]:53")))
	f.Add([]byte{0, 0, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		a, p, err := parseUDPHeader(b)
		if err != nil {
			return
		}
		h := appendAddr([]byte{0, 0, 0}, a)
		if b[3] == 4 && a.Addr().Is4() {
			return // an IPv4-mapped IPv6 address is its IPv4 address
		}
		if !bytes.Equal(b[3:len(h)], h[3:]) || !bytes.Equal(b[len(h):], p) {
			t.Fatalf("parseUDPHeader(% x) = %v, % x", b, a, p)
		}
	})
}

// The relay through a SOCKS5 proxy (the loopback stand-in, which echoes
// what CONNECT and UDP ASSOCIATE carry): a TCP connection and a UDP flow
// of the client come back; a proxy that answers "connection refused"
// refuses the client's connection with a RST. Real time, not synctest:
// the proxy's sockets are the kernel's.
func TestRelayThroughSOCKS5(t *testing.T) {
	for _, tc := range []struct {
		reply byte
		want  error
	}{{0, nil}, {socksConnRefused, syscall.ECONNREFUSED}, {socksNotAllowed, syscall.EHOSTUNREACH}} {
		w := newWorld(t, 0)
		proxy := &SOCKS5{Addr: fakeProxy(t, tc.reply)}
		w.relay.Close()
		r, err := Start(w.relayStack, Config{Dialer: proxy})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := w.client.DialContext(ctx, "tcp", "198.19.0.5:80")
		cancel()
		if tc.want != nil {
			if !errors.Is(err, tc.want) {
				t.Errorf("reply %d: dial %v, want %v", tc.reply, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write([]byte("through socks5"))
		b := make([]byte, 14)
		if _, err := io.ReadFull(c, b); err != nil || string(b) != "through socks5" {
			t.Fatalf("tcp through the proxy: %q, %v", b, err)
		}
		c.Close()
		u, err := w.client.Dial("udp", "198.19.0.9:53")
		if err != nil {
			t.Fatal(err)
		}
		u.SetDeadline(time.Now().Add(10 * time.Second))
		u.Write([]byte("dns?"))
		n, err := u.Read(b)
		if err != nil || string(b[:n]) != "dns?" {
			t.Fatalf("udp through the proxy: %q, %v", b[:n], err)
		}
		u.Close()
	}
}

// proxyBytes is a proxy's side of a negotiation: what it answers is b,
// what the client writes is kept.
type proxyBytes struct {
	r       *bytes.Reader
	written bytes.Buffer
}

func (p *proxyBytes) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *proxyBytes) Write(b []byte) (int, error) { return p.written.Write(b) }

// FuzzSOCKS5Handshake: any bytes as the proxy's whole side of a
// negotiation (method selection, RFC 1929 status, the reply to a request)
// give a bound address or an error, never a panic; the client writes only
// well-formed messages.
func FuzzSOCKS5Handshake(f *testing.F) {
	f.Add([]byte{5, 0, 5, 0, 0, 1, 198, 18, 0, 1, 0, 80}, false)
	f.Add([]byte{5, 2, 1, 0, 5, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 80}, true)
	f.Add([]byte{5, 0xff}, false)
	f.Add([]byte{5, 2, 1, 1}, true)
	f.Fuzz(func(t *testing.T, b []byte, auth bool) {
		s := &SOCKS5{}
		if auth {
			s.User, s.Password = "user", "pass"
		}
		p := &proxyBytes{r: bytes.NewReader(b)}
		if err := s.greet(p); err != nil {
			if err.Error() == "" {
				t.Fatal("an error without a message")
			}
			return
		}
		want := []byte{5, 1, 0}
		if auth {
			want = []byte{5, 1, 2, 1, 4, 'u', 's', 'e', 'r', 4, 'p', 'a', 's', 's'}
		}
		if !bytes.Equal(p.written.Bytes(), want) {
			t.Fatalf("the client wrote % x, want % x", p.written.Bytes(), want)
		}
		if _, err := readReply(p.r); err != nil && err.Error() == "" {
			t.Fatal("an error without a message")
		}
	})
}

// RFC 1929 §2: the client sends "VER (X'01') ULEN UNAME PLEN PASSWD"; "A
// STATUS field of X'00' indicates success. If the server returns a
// `failure' (STATUS value other than X'00') status, it MUST close the
// connection."
func TestSOCKS5UserPassword(t *testing.T) {
	s := &SOCKS5{User: "alice", Password: "secret"}
	p := &proxyBytes{r: bytes.NewReader([]byte{5, 2, 1, 0})}
	if err := s.greet(p); err != nil {
		t.Fatal(err)
	}
	if want := "\x05\x01\x02\x01\x05alice\x06secret"; p.written.String() != want {
		t.Fatalf("the client wrote %q, want %q", p.written.String(), want)
	}
	p = &proxyBytes{r: bytes.NewReader([]byte{5, 2, 1, 1})}
	if err := s.greet(p); err == nil || !strings.Contains(err.Error(), "user name and password refused (status 0x01)") {
		t.Fatalf("a refused password: %v", err)
	}
	p = &proxyBytes{r: bytes.NewReader([]byte{5, 0})}
	if err := s.greet(p); err == nil || !strings.Contains(err.Error(), "not offered") {
		t.Fatalf("the proxy picks a method not offered: %v", err)
	}
}
