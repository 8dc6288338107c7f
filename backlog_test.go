package synack

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
)

// Config.Backlog bounds the accept queue through the Go API: with a
// backlog of 1 and nothing accepted, a second dial's SYN is dropped and
// counted (ListenOverflows), as Linux does; it gets in once the first is
// accepted (the client retransmits its SYN).
func TestConfigBacklog(t *testing.T) {
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	client, err := New(cp, Config{Name: "client", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	// One shard: a backlog of 1 cannot be split (TestShardLimits has the
	// shards' shares).
	server, err := New(sp, Config{Name: "server", Seed: 2, Backlog: 1, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ln, err := server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	to := netip.AddrPortFrom(mem.ServerAddr, 80)
	c1, err := client.DialAddr(t.Context(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		c, err := client.DialAddr(ctx, to)
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	// Wait (bounded) for the second SYN to arrive and be dropped.
	for i := 0; server.Counters().ListenOverflows == 0; i++ {
		if i == 500 {
			t.Fatalf("no ListenOverflows after 5 s: counters %+v", server.Counters())
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("second dial returned (%v) while the accept queue was full", err)
	default:
	}
	a, err := ln.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	cancel()
	<-done
}

// Config.MaxConns: a dial beyond it fails at once with
// stack.ErrTooManyConns.
func TestConfigMaxConns(t *testing.T) {
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	// One shard: a limit of 1 cannot be split (TestShardLimits has the
	// shards' shares).
	client, err := New(cp, Config{Name: "client", Seed: 1, MaxConns: 1, Shards: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := New(sp, Config{Name: "server", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if _, err := server.ListenTCP("tcp", ":80"); err != nil {
		t.Fatal(err)
	}
	to := netip.AddrPortFrom(mem.ServerAddr, 80)
	c1, err := client.DialAddr(t.Context(), to)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if _, err := client.DialAddr(t.Context(), to); !errors.Is(err, stack.ErrTooManyConns) {
		t.Fatalf("second dial: %v, want ErrTooManyConns", err)
	}
}
