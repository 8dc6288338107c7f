package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
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
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(pmtuResponse)), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(pmtuResponse), ReadEOF(), Close()},
		Link:   netsim.Impairment{Latency: 50 * time.Millisecond, MTU: 1280},
		Check:  checkPMTU,
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
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(blackholeResponse)), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(blackholeResponse), ReadEOF(), Close()},
		Link:   netsim.Impairment{Latency: 50 * time.Millisecond, MTU: 1280, ICMPBlackhole: true},
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
