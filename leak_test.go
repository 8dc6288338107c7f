package synack

import (
	"io"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// ourGoroutines lists the goroutines in methods of Stack, Conn, Listener,
// the mem network and the real-time loop: the stacks' and the network's
// timer goroutines, the stacks' readers, and user calls blocked in them.
func ourGoroutines() []string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		for _, f := range []string{"synack.(*Stack)", "synack.(*shard)", "synack.(*Conn)", "synack.(*Listener)", "synack/link/mem.(*Network)", "synack/link/mem.(*Port)", "synack/internal/rt.(*Loop)"} {
			if strings.Contains(g, "github.com/gosynack/"+f) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// Stack.Close with connections in every state and calls blocked in every
// way: each blocked call returns net.ErrClosed, and afterwards no goroutine
// of the stacks or the network is left.
func TestCloseLeavesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := mem.NewNetwork(1, nil)
		other := netip.MustParseAddr("198.18.0.3")
		ports := map[string]netip.Addr{"client": mem.ClientAddr, "server": mem.ServerAddr, "other": other}
		stacks := map[string]*Stack{}
		for _, name := range []string{"client", "server", "other"} {
			p, err := n.Attach(name, ports[name])
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(p, Config{Name: name, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			stacks[name] = s
		}
		for from := range ports {
			for to := range ports {
				if from != to {
					n.SetPath(from, to, netsim.Impairment{Latency: 5 * time.Millisecond})
				}
			}
		}
		// "other" never gets its handshake's final ACK through: the server
		// stays in SYN-RECEIVED.
		n.AddRule("other", "server", netsim.Rule{Match: netsim.Match{Flags: wire.ACK, NotFlags: wire.SYN}, Action: netsim.Drop})
		client, server := stacks["client"], stacks["server"]
		tn := &testNet{n: n, client: client, server: server}

		ln, _ := server.ListenTCP("tcp", ":80")
		blocked := make(chan error, 16)
		call := func(f func() error) {
			go func() { blocked <- f() }()
		}

		// ESTABLISHED with a blocked Read on one end and a blocked Write on
		// the other (nobody reads).
		c1, _ := tn.dialAccept(t, ln)
		call(func() error { _, err := c1.Read(make([]byte, 1)); return err })
		c5, _ := tn.dialAccept(t, ln)
		call(func() error { _, err := c5.Write(make([]byte, 1<<20)); return err })
		// FIN-WAIT-2 / CLOSE-WAIT.
		c2, _ := tn.dialAccept(t, ln)
		c2.CloseWrite()
		// TIME-WAIT on the client, after an orderly close.
		c3, s3 := tn.dialAccept(t, ln)
		c3.Close()
		io.ReadAll(s3)
		s3.Close()
		// FIN-WAIT-1: data and FIN queued behind a zero window.
		c4, _ := tn.dialAccept(t, ln)
		c4.Write(make([]byte, 100000))
		c4.Close()
		// SYN-RECEIVED on the server.
		if _, err := stacks["other"].Dial("tcp", "198.18.0.1:80"); err != nil {
			t.Fatal(err)
		}
		// SYN-SENT: a dial that nobody answers (no route), and a blocked Accept.
		call(func() error { _, err := client.Dial("tcp", "198.18.0.9:80"); return err })
		call(func() error { _, err := ln.Accept(); return err })
		ln2, _ := client.Listen("tcp", ":8080")
		call(func() error { _, err := ln2.Accept(); return err })

		time.Sleep(3 * time.Second)
		synctest.Wait()
		states := map[string]bool{}
		for _, s := range []*Stack{client, server} {
			for _, k := range s.Sockets() {
				states[k.Info.State.String()] = true
			}
		}
		var got []string
		for s := range states {
			got = append(got, s)
		}
		sort.Strings(got)
		for _, want := range []tcp.State{tcp.SynSent, tcp.SynReceived, tcp.Established, tcp.FinWait1, tcp.FinWait2, tcp.CloseWait, tcp.TimeWait} {
			if !states[want.String()] {
				t.Errorf("no connection in %v; states: %v", want, got)
			}
		}
		// Each stack has a timer goroutine per shard and one reader, and,
		// with several shards, a receive worker per shard.
		want := 5 + 1
		for _, s := range stacks {
			n := len(s.shards)
			want += n + 1
			if n > 1 && shardWorkers {
				want += n
			}
		}
		if len(ourGoroutines()) != want {
			t.Errorf("expected the blocked calls and the stacks' goroutines, found %d", len(ourGoroutines()))
		}

		for _, s := range stacks {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		}
		for range 5 {
			if err := <-blocked; err == nil || !strings.Contains(err.Error(), net.ErrClosed.Error()) {
				t.Errorf("blocked call returned %v, want net.ErrClosed", err)
			}
		}
		n.Close()
		if g := ourGoroutines(); len(g) > 0 {
			t.Errorf("%d goroutines left after Close:\n%s", len(g), strings.Join(g, "\n\n"))
		}
		if _, err := client.Dial("tcp", "198.18.0.1:80"); err == nil || !strings.Contains(err.Error(), "use of closed") {
			t.Errorf("dial on a closed stack: %v, want net.ErrClosed", err)
		}
		if _, err := client.Listen("tcp", ":80"); err == nil {
			t.Error("listen on a closed stack succeeded")
		}
	})
}
