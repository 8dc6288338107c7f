package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/trace"
)

// The nagle-delayed-ack scenario's request, written in two parts (header,
// then body), as an HTTP client that writes the header and the body
// separately does.
const (
	nagleHeader = "POST /form HTTP/1.1\r\nHost: server\r\nContent-Length: 9\r\n\r\n"
	nagleBody   = "name=tcp\n"
	nagleACK    = 200 * time.Millisecond
	// nagleThink is how long the client's application takes to prepare
	// the body once the header is written: the two writes are then two
	// calls, not one buffer (in the same instant they would be merged).
	nagleThink = 5 * time.Millisecond
)

func init() {
	ask := func(noDelay bool) []Step {
		steps := []Step{Connect(serverName, 80), WaitEstablished()}
		if noDelay {
			steps = append(steps, NoDelay())
		}
		return append(steps, Write(nagleHeader), Sleep(nagleThink), Write(nagleBody), ReadN(len(Response)), Close(), ReadEOF())
	}
	answer := []Step{Accept(), ReadUntil(nagleBody), Write(Response), ReadEOF(), Close()}
	register(&Scenario{
		Name:  "nagle-delayed-ack",
		Title: "Nagle's algorithm meets delayed ACK: a 200 ms stall, and TCP_NODELAY",
		Caption: `The client writes its request in two parts, the header and then the body. Nagle's
algorithm (RFC 896, RFC 9293 §3.7.4) sends the header at once but holds the small body back
while the header is unacknowledged, to save the network from many tiny segments. The server
delays its ACK (RFC 9293 §3.8.6.3), hoping to send it with its answer, here for up to 200 ms
(Windows and classic BSD; Linux waits 40 ms at least). But the server cannot answer before it
has the body, and the client will not send the body before the ACK: each waits for the other
until the delayed-ACK timer fires. The ladder shows that first connection: the body leaves
only when the lone ACK arrives. The client then makes the same request again on a second
connection with TCP_NODELAY (Nagle off): header and body leave together, and the answer comes
one round trip after the request. (Writing the request with one write fixes it too.)`,
		Client: append(ask(false), ask(true)...),
		Server: append([]Step{Listen(80)}, append(answer, answer...)...),
		configure: func(host string, c *stack.Config) {
			if host == serverName {
				c.TCP.DelayedACK = nagleACK
			}
		},
		Check:   checkNagle,
		figures: nagleFigures,
		Essential: func(r *Run) error {
			return checkClosed(r.World)
		},
	})
}

// exchange is one connection of the client's: when its request started
// and when the answer's first byte arrived.
type exchange struct {
	port              uint16
	asked, answered   clock.Time
	haveAsked, haveIt bool
}

// exchanges returns the client's connections in the order they started.
func exchanges(ev []trace.Event) []exchange {
	var out []exchange
	find := func(port uint16) *exchange {
		for i := range out {
			if out[i].port == port {
				return &out[i]
			}
		}
		out = append(out, exchange{port: port})
		return &out[len(out)-1]
	}
	for _, e := range ev {
		if e.Host != clientName || e.PayloadLen == 0 {
			continue
		}
		x := find(e.Local.Port())
		switch {
		case e.Kind == trace.SegmentOut && !x.haveAsked:
			x.asked, x.haveAsked = e.At, true
		case e.Kind == trace.SegmentIn && !x.haveIt:
			x.answered, x.haveIt = e.At, true
		}
	}
	return out
}

// checkNagle wants the first request answered one delayed-ACK time plus
// two round trips after it started (the header's round trip, the
// server's held ACK, the body's round trip), the second one round trip
// after its body, both exchanges delivered and closed.
func checkNagle(w *World) error {
	var errs []error
	xs := exchanges(w.events())
	const rtt = 100 * time.Millisecond
	if len(xs) != 2 {
		errs = append(errs, fmt.Errorf("the client made %d exchanges, want 2", len(xs)))
	} else {
		if d := xs[0].answered.Sub(xs[0].asked); d != nagleACK+2*rtt {
			errs = append(errs, fmt.Errorf("with Nagle the answer came %v after the request started, want %v (the delayed ACK and two round trips)", d, nagleACK+2*rtt))
		}
		if d := xs[1].answered.Sub(xs[1].asked); d != rtt+nagleThink {
			errs = append(errs, fmt.Errorf("with TCP_NODELAY the answer came %v after the request started, want one round trip after the body (%v)", d, rtt+nagleThink))
		}
	}
	if n := w.Host(serverName).Stack.Counters().RetransSegs; n != 0 {
		errs = append(errs, fmt.Errorf("the server retransmitted %d segments, want none", n))
	}
	if got := string(w.Host(clientName).Received()); got != Response {
		errs = append(errs, fmt.Errorf("the second answer was %q", got))
	}
	return errors.Join(append(errs, checkClosed(w))...)
}

func nagleFigures(r *Run) []message {
	var out []message
	for i, x := range exchanges(r.Events) {
		f := "with Nagle (connection %d): the answer arrived %v after the request's first byte was sent"
		if i > 0 {
			f = "with TCP_NODELAY (connection %d): the answer arrived %v after the request's first byte was sent"
		}
		out = append(out, message{f, []any{i + 1, x.answered.Sub(x.asked)}})
	}
	return out
}
