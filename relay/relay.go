// Package relay forwards every TCP connection and UDP flow that arrives on
// an any-destination synack Stack (a TUN device's traffic, as tun2socks
// takes it) to its original destination, through a Dialer: the host's
// own sockets (Direct) or a SOCKS5 proxy (SOCKS5).
//
// A TCP connection is dialled before the client's SYN is answered
// (synack's ForwardTCP): if the destination refuses, the client is
// refused too, with a RST, or with the ICMP Destination Unreachable that
// matches the dial's error (host or network unreachable, prohibited). A
// UDP flow (ForwardUDP) is dialled on its first datagram; a flow whose
// dial fails is answered with Port Unreachable, and a flow idle for the
// idle time expires.
package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	synack "github.com/gosynack/synack"
)

// Dialer opens the relay's side of a flow to its original destination.
type Dialer interface {
	// DialTCP connects to dst.
	DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error)
	// DialUDP returns a connected datagram socket to dst: each Write is
	// one datagram to dst, each Read one datagram from it.
	DialUDP(ctx context.Context, dst netip.AddrPort) (net.Conn, error)
}

// Direct dials with the host's own sockets, in the network namespace the
// process runs in.
type Direct struct{}

// DialTCP connects to dst.
func (Direct) DialTCP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", dst.String())
}

// DialUDP returns a connected UDP socket to dst.
func (Direct) DialUDP(ctx context.Context, dst netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "udp", dst.String())
}

// Config describes a Relay.
type Config struct {
	Dialer Dialer
	// Log, if set, gets one line per flow as it opens, is refused and
	// closes (with the bytes each way).
	Log func(line string)
	// DialTimeout bounds a dial to a destination (default 10 s).
	DialTimeout time.Duration
	// UDPIdle is how long a UDP flow lives with no datagram either way
	// (default 60 s).
	UDPIdle time.Duration
	// MaxPending bounds the TCP connections being dialled at once
	// (default 1024): more SYNs are dropped, and their clients retry.
	MaxPending int
}

// Counters count a Relay's flows and bytes. Up is from the client to the
// destination, down the other way.
type Counters struct {
	TCPOpened, TCPRefused, TCPActive uint64
	UDPOpened, UDPRefused, UDPActive uint64
	BytesUp, BytesDown               uint64
}

func (c Counters) String() string {
	return fmt.Sprintf("tcp %d opened, %d refused, %d active; udp %d flows, %d refused, %d active; %d bytes up, %d bytes down",
		c.TCPOpened, c.TCPRefused, c.TCPActive, c.UDPOpened, c.UDPRefused, c.UDPActive, c.BytesUp, c.BytesDown)
}

// Relay forwards a Stack's flows.
type Relay struct {
	cfg  Config
	tcp  *synack.TCPForwarder
	udp  *synack.UDPForwarder
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	tcpOpened, tcpRefused, tcpActive atomic.Uint64
	udpOpened, udpRefused, udpActive atomic.Uint64
	up, down                         atomic.Uint64

	mu     sync.Mutex
	closed bool
	conns  map[io.Closer]struct{} // open flows' both ends, closed by Close
}

// Start relays st's flows; st needs synack.Config.AnyDestination.
func Start(st *synack.Stack, cfg Config) (*Relay, error) {
	if cfg.Dialer == nil {
		return nil, errors.New("relay: no Dialer")
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 10 * time.Second
	}
	if cfg.UDPIdle <= 0 {
		cfg.UDPIdle = 60 * time.Second
	}
	r := &Relay{cfg: cfg, conns: make(map[io.Closer]struct{})}
	r.ctx, r.stop = context.WithCancel(context.Background())
	var err error
	// A SYN waits at most the dial's time, and a little more for the
	// handler to decide.
	if r.tcp, err = st.ForwardTCP(cfg.MaxPending, cfg.DialTimeout+time.Second, r.forwardTCP); err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}
	if r.udp, err = st.ForwardUDP(cfg.UDPIdle, r.acceptUDP); err != nil {
		r.tcp.Close()
		return nil, fmt.Errorf("relay: %w", err)
	}
	return r, nil
}

// Counters returns the relay's counters.
func (r *Relay) Counters() Counters {
	return Counters{
		TCPOpened: r.tcpOpened.Load(), TCPRefused: r.tcpRefused.Load(), TCPActive: r.tcpActive.Load(),
		UDPOpened: r.udpOpened.Load(), UDPRefused: r.udpRefused.Load(), UDPActive: r.udpActive.Load(),
		BytesUp: r.up.Load(), BytesDown: r.down.Load(),
	}
}

// Close stops relaying, closes every open flow and waits for the relay's
// goroutines to end.
func (r *Relay) Close() error {
	r.stop()
	r.tcp.Close()
	r.udp.Close()
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

func (r *Relay) logf(format string, a ...any) {
	if r.cfg.Log != nil {
		r.cfg.Log(fmt.Sprintf(format, a...))
	}
}

// enter counts a goroutine in the relay's WaitGroup; false if the relay
// is closing.
func (r *Relay) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// track adds c to the flows Close closes; false if the relay is closing.
func (r *Relay) track(cs ...io.Closer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	for _, c := range cs {
		r.conns[c] = struct{}{}
	}
	return true
}

func (r *Relay) untrack(cs ...io.Closer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range cs {
		delete(r.conns, c)
	}
}

// RefusalFor is how the client is refused when the dial to its
// destination failed with err: host and network unreachable, and a
// prohibition, by their ICMP messages; anything else (a refusal, a
// timeout, a proxy's failure) by a RST.
func RefusalFor(err error) synack.Refusal {
	var re *ReplyError
	switch {
	case errors.As(err, &re):
		switch re.Code {
		case socksNetUnreachable:
			return synack.RefuseNetUnreachable
		case socksHostUnreachable, socksTTLExpired:
			return synack.RefuseHostUnreachable
		case socksNotAllowed:
			return synack.RefuseProhibited
		}
	case errors.Is(err, syscall.EHOSTUNREACH):
		return synack.RefuseHostUnreachable
	case errors.Is(err, syscall.ENETUNREACH):
		return synack.RefuseNetUnreachable
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return synack.RefuseProhibited
	}
	return synack.RefuseReset
}

func (r *Relay) forwardTCP(req *synack.TCPRequest) {
	if !r.enter() {
		return // refused with a RST when the handler returns
	}
	defer r.wg.Done()
	src, dst := req.Source(), req.Destination()
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.DialTimeout)
	up, err := r.cfg.Dialer.DialTCP(ctx, dst)
	cancel()
	if err != nil {
		how := RefusalFor(err)
		req.Refuse(how)
		r.tcpRefused.Add(1)
		r.logf("tcp %v > %v refused (%v): %v", src, dst, how, err)
		return
	}
	// The client's ACK is one round trip away; a client that never sends
	// it gives up within its SYN-ACK retransmissions.
	ctx, cancel = context.WithTimeout(r.ctx, time.Minute)
	c, err := req.Complete(ctx)
	cancel()
	if err != nil {
		up.Close()
		r.logf("tcp %v > %v handshake failed: %v", src, dst, err)
		return
	}
	if !r.track(c, up) {
		c.Close()
		up.Close()
		return
	}
	r.tcpOpened.Add(1)
	r.tcpActive.Add(1)
	r.logf("tcp %v > %v open", src, dst)
	start := time.Now()
	upBytes, downBytes, why := r.splice(c, up)
	r.untrack(c, up)
	r.tcpActive.Add(^uint64(0))
	r.logf("tcp %v > %v close: %d bytes up, %d bytes down, %v%s", src, dst, upBytes, downBytes, time.Since(start).Round(time.Millisecond), why)
}

// splice copies both ways between the client's connection c and up until
// both directions end; an end of stream is passed on as a half-close, an
// error as an abort of the other side.
func (r *Relay) splice(c *synack.Conn, up net.Conn) (upBytes, downBytes int64, why string) {
	var wg sync.WaitGroup
	var errUp, errDown error
	wg.Add(2)
	go func() {
		defer wg.Done()
		upBytes, errUp = copyCount(up, c, &r.up)
		if errUp != nil {
			abort(up)
			c.SetLinger(0)
			c.Close()
			return
		}
		closeWrite(up)
	}()
	go func() {
		defer wg.Done()
		downBytes, errDown = copyCount(c, up, &r.down)
		if errDown != nil {
			c.SetLinger(0)
			c.Close()
			abort(up)
			return
		}
		c.CloseWrite()
	}()
	wg.Wait()
	c.Close()
	up.Close()
	if err := errors.Join(errUp, errDown); err != nil {
		why = " (" + err.Error() + ")"
	}
	return upBytes, downBytes, why
}

// copyCount copies src to dst, adding what it copied to n. A read error
// of io.EOF is the end of the stream, not an error.
func copyCount(dst io.Writer, src io.Reader, n *atomic.Uint64) (int64, error) {
	buf := make([]byte, 32<<10)
	var total int64
	for {
		k, err := src.Read(buf)
		if k > 0 {
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return total, werr
			}
			total += int64(k)
			n.Add(uint64(k))
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
		return
	}
	c.Close()
}

// abort closes c with a RST if it is a TCP connection.
func abort(c net.Conn) {
	if l, ok := c.(interface{ SetLinger(int) error }); ok {
		l.SetLinger(0)
	}
	c.Close()
}

// acceptUDP dials a new flow's destination; nil refuses the flow.
func (r *Relay) acceptUDP(src, dst netip.AddrPort) func(*synack.UDPFlow) {
	if !r.enter() {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.cfg.DialTimeout)
	up, err := r.cfg.Dialer.DialUDP(ctx, dst)
	cancel()
	if err != nil {
		r.wg.Done()
		r.udpRefused.Add(1)
		r.logf("udp %v > %v refused: %v", src, dst, err)
		return nil
	}
	return func(fl *synack.UDPFlow) {
		defer r.wg.Done()
		if !r.track(fl, up) {
			fl.Close()
			up.Close()
			return
		}
		r.udpOpened.Add(1)
		r.udpActive.Add(1)
		r.logf("udp %v > %v open", src, dst)
		start := time.Now()
		var downBytes atomic.Int64
		done := make(chan struct{})
		go func() {
			defer close(done)
			buf := make([]byte, 65536)
			for {
				n, err := up.Read(buf)
				if err != nil {
					if isRefused(err) {
						continue // an ICMP error for an earlier datagram: the flow goes on
					}
					fl.Close()
					return
				}
				if _, err := fl.Write(buf[:n]); err != nil {
					return
				}
				downBytes.Add(int64(n))
				r.down.Add(uint64(n))
			}
		}()
		buf := make([]byte, 65536)
		var upBytes int64
		for {
			n, err := fl.Read(buf) // io.EOF when the flow expires
			if err != nil {
				break
			}
			if _, err := up.Write(buf[:n]); err == nil {
				upBytes += int64(n)
				r.up.Add(uint64(n))
			}
		}
		up.Close()
		fl.Close()
		<-done
		r.untrack(fl, up)
		r.udpActive.Add(^uint64(0))
		r.logf("udp %v > %v close: %d bytes up, %d bytes down, %v", src, dst, upBytes, downBytes.Load(), time.Since(start).Round(time.Millisecond))
	}
}

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }
