package synack

import (
	"net"
	"net/netip"
	"testing"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

// testNet is two stacks on an in-memory network.
type testNet struct {
	n              *mem.Network
	client, server *Stack
}

func (tn *testNet) close() {
	tn.client.Close()
	tn.server.Close()
	tn.n.Close()
}

func newTestNet(tb testing.TB, imp netsim.Impairment) *testNet {
	tb.Helper()
	n, cp, sp, err := mem.Pair(1, imp)
	if err != nil {
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

// connPair dials the server's port 80 from the client and returns both ends.
func (tn *testNet) connPair(tb testing.TB) (*Conn, *Conn) {
	tb.Helper()
	ln, err := tn.server.ListenTCP("tcp", ":80")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return tn.dialAccept(tb, ln)
}

func (tn *testNet) dialAccept(tb testing.TB, ln *Listener) (*Conn, *Conn) {
	tb.Helper()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- res{c, err}
	}()
	c1, err := tn.client.DialAddr(tb.Context(), netip.AddrPortFrom(mem.ServerAddr, uint16(ln.Addr().(*net.TCPAddr).Port)))
	if err != nil {
		tb.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		tb.Fatal(r.err)
	}
	return c1, r.c
}
