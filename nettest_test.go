package synack

import (
	"net"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

func makePipe(imp netsim.Impairment) nettest.MakePipe {
	return func() (c1, c2 net.Conn, stop func(), err error) {
		n, cp, sp, err := mem.Pair(1, imp)
		if err != nil {
			return nil, nil, nil, err
		}
		client, err := New(cp, Config{Seed: 1})
		if err != nil {
			return nil, nil, nil, err
		}
		server, err := New(sp, Config{Seed: 2})
		if err != nil {
			return nil, nil, nil, err
		}
		stopAll := func() {
			client.Close()
			server.Close()
			n.Close()
		}
		ln, err := server.Listen("tcp", ":80")
		if err != nil {
			stopAll()
			return nil, nil, nil, err
		}
		ch := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			ch <- c
		}()
		c1, err = client.Dial("tcp", "198.18.0.1:80")
		if err != nil {
			stopAll()
			return nil, nil, nil, err
		}
		c2 = <-ch
		ln.Close()
		return c1, c2, func() {
			c1.Close()
			c2.Close()
			stopAll()
		}, nil
	}
}

// nettest.TestConn: the net.Conn contract (I/O, deadlines, Close unblocking,
// concurrent methods) over a perfect in-memory link and over one with
// latency. Run it with -race.
func TestNetConn(t *testing.T) {
	t.Run("perfect", func(t *testing.T) { nettest.TestConn(t, makePipe(netsim.Impairment{})) })
	t.Run("latency", func(t *testing.T) {
		nettest.TestConn(t, makePipe(netsim.Impairment{Latency: 2 * time.Millisecond}))
	})
}
