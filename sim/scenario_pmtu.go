package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace/i18n"
)

// pmtuResponse is the pmtu scenario's answer: six full segments' worth, so
// that the first flight of full-sized segments meets the smaller MTU.
var pmtuResponse = "HTTP/1.0 200 OK\r\nContent-Length: 8000\r\n\r\n" + strings.Repeat("x", 8000)

// blackholeResponse is pmtu-blackhole's answer: enough after the fallback
// for the probes upward to show.
var blackholeResponse = "HTTP/1.0 200 OK\r\nContent-Length: 40000\r\n\r\n" + strings.Repeat("x", 40000)

func init() {
	register(&Scenario{
		Name:  "pmtu",
		Title: "Path MTU discovery: a router's Fragmentation Needed",
		Caption: `Both hosts announced an MSS of 1460, but a router between them forwards at most 1280
bytes, so the server's first full-sized segments (1500 bytes with their headers) do not fit.
The router drops each one and tells the server why: an ICMP Destination Unreachable,
"fragmentation needed and DF set", that gives the next hop's MTU (RFC 1191). The server checks
that the segment it quotes is one it sent and that is not yet acknowledged (RFC 5927), lowers
its MSS to fit 1280 bytes, and at once sends the dropped data again, cut to the new size,
without waiting for a retransmission timeout. Every later segment fits.`,
		Client:  []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(pmtuResponse)), Close(), ReadEOF()},
		Server:  []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(pmtuResponse), ReadEOF(), Close()},
		Link:    netsim.Impairment{Latency: 50 * time.Millisecond, MTU: 1280},
		Check:   checkPMTU,
		figures: pmtuFigures,
		// Under impairments a timeout more is ordinary TCP; what the
		// scenario teaches is that the answer gets through the smaller
		// MTU, each too-big packet answered by the router.
		Essential: func(r *Run) error {
			w := r.World
			var errs []error
			if got := w.Host(clientName).Received(); string(got) != pmtuResponse {
				errs = append(errs, fmt.Errorf("the client received %d bytes, want the %d of the answer", len(got), len(pmtuResponse)))
			}
			if st := w.Network().Stats(serverName, clientName); st.ICMPSent != st.TooBig {
				errs = append(errs, fmt.Errorf("the router dropped %d too-big packets and answered %d", st.TooBig, st.ICMPSent))
			}
			return errors.Join(append(errs, checkClosed(w))...)
		},
	})
}

func init() {
	register(&Scenario{
		Name:  "pmtu-blackhole",
		Title: "A path MTU black hole: the ICMP never comes",
		Caption: `As in pmtu, a router between the hosts forwards at most 1280 bytes, but here its
Fragmentation Needed messages are filtered out on the way back (a "black hole", RFC 2923), so
the server never learns why its full-sized segments vanish. It can only see them time out.
After the third timeout of a full-sized segment in a row, the server guesses that size is the
problem (RFC 4821 §7.7; Linux's tcp_mtu_probing=1): it falls back to an MSS of 1024 bytes,
re-cuts what is in flight, and the data gets through. It costs the three timeouts, with their
backoff, where pmtu lost one round trip. Then the server probes upward (RFC 4821 §7): one
segment halfway between 1024 and its first MSS of 1460, too big for the hop and lost, which
does not count as congestion; then one halfway between 1024 and 1241, which arrives, and the
MSS rises to its size.`,
		Client:  []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(blackholeResponse)), Close(), ReadEOF()},
		Server:  []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(blackholeResponse), ReadEOF(), Close()},
		Link:    netsim.Impairment{Latency: 50 * time.Millisecond, MTU: 1280, ICMPBlackhole: true},
		figures: pmtuFigures,
		Check: func(w *World) error {
			c, s := w.Host(clientName), w.Host(serverName)
			var errs []error
			if string(c.Received()) != blackholeResponse {
				errs = append(errs, fmt.Errorf("the client received %d bytes, want the %d of the answer", len(c.Received()), len(blackholeResponse)))
			}
			if st := w.Network().Stats(serverName, clientName); st.TooBig == 0 || st.ICMPSent != 0 {
				errs = append(errs, fmt.Errorf("the router dropped %d too-big packets and answered %d, want some dropped and none answered", st.TooBig, st.ICMPSent))
			}
			if conn := s.Conn(); conn != nil && conn.Stats().Timeouts < 3 {
				errs = append(errs, fmt.Errorf("the server had %d retransmission timeouts, want at least the 3 that detect the black hole", conn.Stats().Timeouts))
			}
			if conn := s.Conn(); conn != nil && conn.Info().MSS <= tcp.BaseMSS {
				errs = append(errs, fmt.Errorf("the server's MSS is %d at the end, want more than the fallback's %d: probing never raised it", conn.Info().MSS, tcp.BaseMSS))
			}
			return errors.Join(append(errs, checkClosed(w))...)
		},
		Essential: func(r *Run) error {
			w := r.World
			var errs []error
			if got := w.Host(clientName).Received(); string(got) != blackholeResponse {
				errs = append(errs, fmt.Errorf("the client received %d bytes, want the %d of the answer", len(got), len(blackholeResponse)))
			}
			return errors.Join(append(errs, checkClosed(w))...)
		},
	})
}

// checkPMTU wants the answer delivered, the too-big segments each answered
// by the router, resent at once (no timeout), and both ends closed.
func checkPMTU(w *World) error {
	c, s := w.Host(clientName), w.Host(serverName)
	var errs []error
	if string(c.Received()) != pmtuResponse {
		errs = append(errs, fmt.Errorf("the client received %d bytes, want the %d of the answer", len(c.Received()), len(pmtuResponse)))
	}
	st := w.Network().Stats(serverName, clientName)
	if st.TooBig == 0 || st.ICMPSent != st.TooBig {
		errs = append(errs, fmt.Errorf("the router dropped %d too-big packets and answered %d, want at least one, each answered", st.TooBig, st.ICMPSent))
	}
	if conn := s.Conn(); conn != nil && conn.Stats().Timeouts != 0 {
		errs = append(errs, fmt.Errorf("the server had %d retransmission timeouts; the ICMP message should make the resend immediate", conn.Stats().Timeouts))
	}
	if n := s.Stack.Counters().PathMTUChanges; n != 1 {
		errs = append(errs, fmt.Errorf("the server's path MTU changed %d times, want once", n))
	}
	return errors.Join(append(errs, checkClosed(w))...)
}

// sharedResponse is pmtu-shared's second answer: a few segments, enough to
// show their size.
var sharedResponse = "HTTP/1.0 200 OK\r\nContent-Length: 6000\r\n\r\n" + strings.Repeat("y", 6000)

func init() {
	register(&Scenario{
		Name:  "pmtu-shared",
		Title: "The path MTU a black hole taught, shared with the next connection",
		Caption: `The path of pmtu-blackhole (a 1280-byte hop whose Fragmentation Needed messages are
filtered out), and two requests, one connection after the other. The first connection loses
its full-sized segments to three timeouts, falls back to an MSS of 1024 bytes and probes
upward, as in pmtu-blackhole. The server's stack keeps what its connection learnt for every
connection to that client (RFC 1191 §6.2, RFC 4821): the black hole lowers the path MTU it
holds for the client to 1064 bytes, and each probe that arrives raises it to the probe's
size. The second connection's SYN-ACK still offers the link's MSS of 1460 (RFC 1191 §6.4:
path MTU discovery "does not affect the value sent in the TCP MSS option"), but its first
data segments are already of the size the probes found: no timeout, no fallback. The cache
forgets after 10 minutes (RFC 1191 §6.3), when the link's MTU is tried again.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(blackholeResponse)), Close(), ReadEOF(),
			Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(sharedResponse)), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(blackholeResponse), ReadEOF(), Close(),
			Accept(), ReadUntil("\r\n\r\n"), Write(sharedResponse), ReadEOF(), Close()},
		Link:    netsim.Impairment{Latency: 50 * time.Millisecond, MTU: 1280, ICMPBlackhole: true},
		Ladder:  2,
		figures: sharedFigures,
		Check: func(w *World) error {
			c, s := w.Host(clientName), w.Host(serverName)
			var errs []error
			if string(c.Received()) != sharedResponse {
				errs = append(errs, fmt.Errorf("the client received %d bytes on its second connection, want the %d of the answer", len(c.Received()), len(sharedResponse)))
			}
			if conn := s.Conn(); conn == nil || conn.Stats().Timeouts != 0 || conn.Info().MSS <= tcp.BaseMSS {
				errs = append(errs, fmt.Errorf("the server's second connection: want no timeout and an MSS above the fallback's %d", tcp.BaseMSS))
			}
			if ctr := s.Stack.Counters(); ctr.PathMTUBlackHoles != 1 || ctr.PathMTUProbeRaises == 0 {
				errs = append(errs, fmt.Errorf("the server's stack recorded %d black holes and %d probes, want 1 and at least 1", ctr.PathMTUBlackHoles, ctr.PathMTUProbeRaises))
			}
			return errors.Join(append(errs, checkClosed(w))...)
		},
		Essential: func(r *Run) error {
			w := r.World
			var errs []error
			if got := w.Host(clientName).Received(); string(got) != sharedResponse {
				errs = append(errs, fmt.Errorf("the client received %d bytes on its second connection, want the %d of the answer", len(got), len(sharedResponse)))
			}
			return errors.Join(append(errs, checkClosed(w))...)
		},
	})
}

// pmtuFigures are the server's path MTU cache at the end of the run (the
// one destination, the client) and the counters of what wrote it.
func pmtuFigures(r *Run) []message {
	st := r.World.Host(serverName).Stack
	var out []message
	for _, e := range st.PathMTUs(r.Result.End) {
		out = append(out, message{"the server's path MTU for %v: %d bytes, from %s at %v, kept until %v",
			[]any{e.Dst, e.MTU, pmtuSource(e.From), e.Learnt.Sub(0), e.Expires.Sub(0)}})
	}
	if len(out) == 0 {
		out = append(out, message{"the server keeps no path MTU below its link's %d bytes", []any{st.MTU()}})
	}
	c := st.Counters()
	out = append(out, message{"its path MTU writes: %d from ICMP, %d from black holes, %d from probes",
		[]any{c.PathMTUChanges, c.PathMTUBlackHoles, c.PathMTUProbeRaises}})
	return out
}

// sharedFigures are pmtuFigures and the server's second connection.
func sharedFigures(r *Run) []message {
	out := pmtuFigures(r)
	if c := r.World.Host(serverName).Conn(); c != nil {
		out = append(out, message{"the server's second connection: send MSS %d, %d retransmission timeouts",
			[]any{c.Info().MSS, c.Stats().Timeouts}})
	}
	return out
}

// pmtuSource says what wrote a path MTU.
type pmtuSource stack.PathMTUSource

func (s pmtuSource) say(l i18n.Lang) string {
	switch stack.PathMTUSource(s) {
	case stack.FromICMP:
		return l.Tr("an ICMP message")
	case stack.FromBlackHole:
		return l.Tr("a black hole")
	case stack.FromProbe:
		return l.Tr("an acknowledged probe")
	}
	return stack.PathMTUSource(s).String()
}
