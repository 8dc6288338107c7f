package relay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	synack "github.com/gosynack/synack"
	"github.com/gosynack/synack/link"
)

// pipeEnd is one end of a wire joining two stacks that carries every
// packet to the other end whatever its destination.
type pipeEnd struct {
	in, out chan []byte
	done    chan struct{}
	once    *sync.Once
}

func pipe() (a, b *pipeEnd) {
	ab, ba := make(chan []byte, 512), make(chan []byte, 512)
	done, once := make(chan struct{}), new(sync.Once)
	return &pipeEnd{in: ba, out: ab, done: done, once: once}, &pipeEnd{in: ab, out: ba, done: done, once: once}
}

func (p *pipeEnd) Send(pkt []byte) error {
	select {
	case <-p.done:
		return link.ErrClosed
	case p.out <- append([]byte(nil), pkt...):
	default:
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

// stackDialer dials with a synack stack: the relay's "host sockets".
type stackDialer struct {
	st   *synack.Stack
	fail error // if set, every TCP dial fails with it
}

func (d *stackDialer) DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	if d.fail != nil {
		return nil, d.fail
	}
	return d.st.DialAddr(ctx, dst)
}

func (d *stackDialer) DialUDP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	return d.st.DialContext(ctx, "udp", dst.String())
}

type world struct {
	client, relayStack, server *synack.Stack
	relay                      *Relay
	dialer                     *stackDialer
	mu                         sync.Mutex
	log                        []string
}

func (w *world) lines() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.log, "\n")
}

// newWorld joins client to the relay's stack, and the relay's dialer to
// a server that echoes TCP on every port but 81 (refused with a RST) and
// UDP on every port but 54 (refused with Port Unreachable).
func newWorld(t *testing.T, udpIdle time.Duration) *world {
	t.Helper()
	w := &world{}
	mk := func(l link.Link, addr string, anyDst bool, seed uint64) *synack.Stack {
		st, err := synack.New(l, synack.Config{Addr: netip.MustParseAddr(addr), AnyDestination: anyDst, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a, b := pipe()
	c, d := pipe()
	w.relayStack = mk(a, "198.18.0.1", true, 1)
	w.client = mk(b, "198.18.0.2", false, 2)
	dialStack := mk(c, "198.18.1.2", false, 3)
	w.server = mk(d, "198.18.1.1", true, 4)
	if _, err := w.server.ForwardTCP(0, 0, func(r *synack.TCPRequest) {
		if r.Destination().Port() == 81 {
			r.Refuse(synack.RefuseReset)
			return
		}
		c, err := r.Complete(context.Background())
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.server.ForwardUDP(time.Minute, func(src, dst netip.AddrPort) func(*synack.UDPFlow) {
		if dst.Port() == 54 {
			return nil
		}
		return func(fl *synack.UDPFlow) {
			defer fl.Close()
			buf := make([]byte, 2048)
			for {
				n, err := fl.Read(buf)
				if err != nil {
					return
				}
				fl.Write(buf[:n])
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	w.dialer = &stackDialer{st: dialStack}
	r, err := Start(w.relayStack, Config{Dialer: w.dialer, UDPIdle: udpIdle, Log: func(l string) {
		w.mu.Lock()
		w.log = append(w.log, l)
		w.mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	w.relay = r
	t.Cleanup(func() {
		r.Close()
		for _, st := range []*synack.Stack{w.client, w.relayStack, dialStack, w.server} {
			st.Close()
		}
	})
	return w
}

// A TCP connection goes through the relay to its original destination and
// back, with half-close passed on; the relay's flow lines and counters say
// so, and once the connection is closed the relay holds nothing of it.
func TestRelayTCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 0)
		c, err := w.client.Dial("tcp", "198.19.0.5:7")
		if err != nil {
			t.Fatal(err)
		}
		msg := bytes.Repeat([]byte("synack relay "), 10000)
		go func() {
			c.Write(msg)
			c.(*synack.Conn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo through the relay: %d bytes of %d, %v", len(got), len(msg), err)
		}
		c.Close()
		time.Sleep(time.Second) // the relay's side closes
		ct := w.relay.Counters()
		if ct.TCPOpened != 1 || ct.TCPActive != 0 || ct.BytesUp != uint64(len(msg)) || ct.BytesDown != uint64(len(msg)) {
			t.Fatalf("counters %v", ct)
		}
		log := w.lines()
		if !strings.Contains(log, "tcp 198.18.0.2:") || !strings.Contains(log, "> 198.19.0.5:7 open") ||
			!strings.Contains(log, "close: 130000 bytes up, 130000 bytes down") {
			t.Fatalf("flow lines:\n%s", log)
		}
		w.relay.mu.Lock()
		n := len(w.relay.conns)
		w.relay.mu.Unlock()
		if n != 0 {
			t.Fatalf("relay still tracks %d connections of a closed flow", n)
		}
		// After TIME-WAIT (2 MSL) no TCB is left either.
		time.Sleep(3 * time.Minute)
		if socks := w.relayStack.Sockets(); len(socks) != 0 {
			t.Fatalf("relay stack: %d sockets left after close and TIME-WAIT: %+v", len(socks), socks)
		}
	})
}

// A destination that refuses the relay's dial is refused to the client
// with a RST ("connection refused"); a dial that fails with EACCES
// (prohibited) reaches the client as an ICMP administratively prohibited
// (EHOSTUNREACH). Neither sends a SYN-ACK first.
func TestRelayRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 0)
		_, err := w.client.Dial("tcp", "198.19.0.5:81")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("dial a refusing destination: %v, want connection refused", err)
		}
		time.Sleep(10 * time.Millisecond) // the error-token bucket refills
		w.dialer.fail = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.EACCES}
		_, err = w.client.Dial("tcp", "198.19.0.5:82")
		if !errors.Is(err, syscall.EHOSTUNREACH) {
			t.Fatalf("dial a prohibited destination: %v, want host unreachable", err)
		}
		if ct := w.relay.Counters(); ct.TCPRefused != 2 || ct.TCPOpened != 0 {
			t.Fatalf("counters %v", ct)
		}
		if n := w.client.Counters().AttemptFails; n != 2 {
			t.Fatalf("client AttemptFails %d", n)
		}
	})
}

// A UDP flow goes through and back; an idle one expires and leaves
// nothing; a flow whose destination refuses goes on (the dial of a UDP
// socket cannot know).
func TestRelayUDPExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 5*time.Second)
		u, err := w.client.Dial("udp", "198.19.0.9:53")
		if err != nil {
			t.Fatal(err)
		}
		defer u.Close()
		for i := range 3 {
			q := []byte("query " + string(rune('a'+i)))
			u.Write(q)
			buf := make([]byte, 100)
			u.SetReadDeadline(time.Now().Add(time.Second))
			n, err := u.Read(buf)
			if err != nil || string(buf[:n]) != string(q) {
				t.Fatalf("answer %q, %v; want %q", buf[:n], err, q)
			}
		}
		// The relay counts an answer's bytes after the write the client's
		// read returns from: wait for its goroutines to block again.
		synctest.Wait()
		if ct := w.relay.Counters(); ct.UDPOpened != 1 || ct.UDPActive != 1 || ct.BytesUp != 21 || ct.BytesDown != 21 {
			t.Fatalf("counters %v", ct)
		}
		time.Sleep(6 * time.Second)
		synctest.Wait()
		if ct := w.relay.Counters(); ct.UDPActive != 0 {
			t.Fatalf("after the idle time: counters %v", ct)
		}
		if n := w.relay.udp.Flows(); n != 0 {
			t.Fatalf("forwarder holds %d flows after the idle time", n)
		}
		w.relay.mu.Lock()
		n := len(w.relay.conns)
		w.relay.mu.Unlock()
		if n != 0 {
			t.Fatalf("relay still tracks %d sockets of an expired flow", n)
		}
		if !strings.Contains(w.lines(), "> 198.19.0.9:53 close: 21 bytes up, 21 bytes down") {
			t.Fatalf("flow lines:\n%s", w.lines())
		}
	})
}

// Many TCP flows at once, each through and back (bounded: 100).
func TestRelayConcurrent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, 0)
		const n = 100
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := w.client.Dial("tcp", netip.AddrPortFrom(netip.MustParseAddr("198.19.0.5"), uint16(1000+i)).String())
				if err != nil {
					errs <- err
					return
				}
				defer c.Close()
				msg := bytes.Repeat([]byte{byte(i)}, 5000)
				go func() { c.Write(msg); c.(*synack.Conn).CloseWrite() }()
				got, err := io.ReadAll(c)
				if err != nil || !bytes.Equal(got, msg) {
					errs <- errors.New("flow " + c.LocalAddr().String() + ": wrong echo")
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		time.Sleep(time.Second)
		if ct := w.relay.Counters(); ct.TCPOpened != n || ct.TCPActive != 0 {
			t.Fatalf("counters %v", ct)
		}
	})
}
