package synack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/gosynack/synack/link"
)

// pipeEnd is one end of a wire joining two stacks that carries every
// packet to the other end whatever its destination (a link/mem network
// routes by address, and the point here is addresses nobody owns).
type pipeEnd struct {
	in, out chan []byte
	done    chan struct{}
	once    *sync.Once
}

func pipe() (a, b *pipeEnd) {
	ab, ba := make(chan []byte, 256), make(chan []byte, 256)
	done, once := make(chan struct{}), new(sync.Once)
	return &pipeEnd{in: ba, out: ab, done: done, once: once}, &pipeEnd{in: ab, out: ba, done: done, once: once}
}

func (p *pipeEnd) Send(pkt []byte) error {
	select {
	case <-p.done:
		return link.ErrClosed
	case p.out <- append([]byte(nil), pkt...):
	default: // full: dropped
	}
	return nil
}

func (p *pipeEnd) Receive(buf []byte) (int, error) {
	select {
	case pkt := <-p.in:
		return copy(buf, pkt), nil
	case <-p.done:
		return 0, link.ErrClosed
	}
}

func (p *pipeEnd) MTU() int     { return 1500 }
func (p *pipeEnd) Close() error { p.once.Do(func() { close(p.done) }); return nil }

// TestListenAny: a client dials an address the proxy stack does not own;
// ListenAny accepts it, and the Conn's LocalAddr is the address and port
// the client dialled.
func TestListenAny(t *testing.T) {
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
		if _, err := client.ListenAny(); err == nil || !strings.Contains(err.Error(), "AnyDestination") {
			t.Fatalf("ListenAny without AnyDestination: %v", err)
		}
		ln, err := proxy.ListenAny()
		if err != nil {
			t.Fatal(err)
		}
		if ln.Addr().String() != "0.0.0.0:0" {
			t.Fatalf("listener address %v", ln.Addr())
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// Echo the original destination back.
			io.WriteString(c, c.LocalAddr().String())
			c.Close()
		}()
		c, err := client.DialContext(context.Background(), "tcp", "198.19.7.7:8443")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "198.19.7.7:8443" || c.RemoteAddr().String() != "198.19.7.7:8443" {
			t.Fatalf("proxy saw local address %q, client's remote %v; want 198.19.7.7:8443", got, c.RemoteAddr())
		}
		c.Close()
		ln.Close()
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	})
}
