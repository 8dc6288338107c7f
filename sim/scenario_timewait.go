package sim

import (
	"errors"
	"fmt"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
)

// The time-wait-ports scenario: a client with twPorts ephemeral ports
// makes twConns HTTP/1.0-style exchanges in a row, each closed by the
// client first, with an MSL of twMSL.
const (
	twPorts = 3
	twConns = 4
	twMSL   = 5 * time.Second
	twRetry = 500 * time.Millisecond
	twLow   = 50000
)

func init() {
	var client, server []Step
	server = append(server, Listen(80))
	for range twConns {
		client = append(client, ConnectRetry(serverName, 80, twRetry), WaitEstablished(), Write(Request), ReadN(len(Response)), Close(), ReadEOF())
		server = append(server, Accept(), ReadUntil("\r\n\r\n"), Write(Response), ReadEOF(), Close())
	}
	register(&Scenario{
		Name:  "time-wait-ports",
		Title: "TIME-WAIT piles up on the side that closes first, until the ports run out",
		Caption: `An HTTP/1.0-style client makes one connection per request and closes each first, so
each of its connections ends in TIME-WAIT for 2·MSL (MSL is 5 s here, so 10 s; Linux holds
TIME-WAIT 60 s). It keeps the connection's address and port pair: no new connection may use the
same four numbers while old duplicates could still arrive (RFC 9293 §3.4.2). The client here
has only 3 ephemeral ports (a busy client or proxy meets the same limit with its 28232), and
the server a single address and port. After 3 requests all 3 ports are in TIME-WAIT, and the
4th connect fails at once ("cannot assign requested address"): the application retries every
500 ms and succeeds only when the first TIME-WAIT ends, 10 s after that connection closed. The
ladder shows the first connection's port pair: its TIME-WAIT, then the 4th connection on the
same four numbers, with an ISN 2.6 million higher (the ISN clock ticks every 4 µs, RFC 9293
§3.4.1). The cure is not to skip TIME-WAIT but to reuse connections (keep-alive), or to let the
server close first: then TIME-WAIT is kept by the server, which may reopen it for a new SYN
that is clearly newer (RFC 6191, as Linux does).`,
		Client: client,
		Server: server,
		MSL:    twMSL,
		configure: func(host string, c *stack.Config) {
			if host == clientName {
				c.EphemeralLow, c.EphemeralHigh = twLow, twLow+twPorts-1
			}
		},
		Check:   checkTimeWaitPorts,
		figures: timeWaitFigures,
		Essential: func(r *Run) error {
			return checkClosed(r.World)
		},
	})
}

// twOpen is one of the client's connections: when it opened, from which
// port, and when it entered and left TIME-WAIT.
type twOpen struct {
	port               uint16
	opened, tw, closed clock.Time
}

func timeWaits(ev []trace.Event) []twOpen {
	var out []twOpen
	for _, e := range ev {
		if e.Kind != trace.State || e.Host != clientName {
			continue
		}
		switch {
		case e.From == tcp.Closed && e.To == tcp.SynSent:
			out = append(out, twOpen{port: e.Local.Port(), opened: e.At})
		case len(out) > 0 && e.To == tcp.TimeWait:
			for i := range out {
				if out[i].port == e.Local.Port() && out[i].tw == 0 {
					out[i].tw = e.At
				}
			}
		case len(out) > 0 && e.From == tcp.TimeWait && e.To == tcp.Closed:
			for i := range out {
				if out[i].port == e.Local.Port() && out[i].tw != 0 && out[i].closed == 0 {
					out[i].closed = e.At
				}
			}
		}
	}
	return out
}

// inTimeWait counts the connections in TIME-WAIT at t.
func inTimeWait(cs []twOpen, t clock.Time) int {
	n := 0
	for _, c := range cs {
		if c.tw != 0 && c.tw <= t && (c.closed == 0 || c.closed > t) {
			n++
		}
	}
	return n
}

// checkTimeWaitPorts wants the 4th connection to have found no port at
// first, to open from the port the first connection held just as its
// TIME-WAIT of 2·MSL ended, each TIME-WAIT 2·MSL long, and all closed.
func checkTimeWaitPorts(w *World) error {
	var errs []error
	cs := timeWaits(w.events())
	fails := w.Host(clientName).ConnectFailures()
	if len(cs) != twConns {
		return errors.Join(fmt.Errorf("the client opened %d connections, want %d", len(cs), twConns), checkClosed(w))
	}
	for i, c := range cs {
		if c.closed.Sub(c.tw) != 2*twMSL {
			errs = append(errs, fmt.Errorf("connection %d stayed in TIME-WAIT %v, want 2·MSL = %v", i+1, c.closed.Sub(c.tw), 2*twMSL))
		}
	}
	if len(fails) == 0 || inTimeWait(cs, fails[0]) != twPorts {
		errs = append(errs, fmt.Errorf("connect found no port %d times, the first with %d connections in TIME-WAIT; want it to fail with all %d ports in TIME-WAIT", len(fails), inTimeWait(cs, firstOr(fails)), twPorts))
	}
	last := cs[twConns-1]
	if last.port != cs[0].port || last.opened < cs[0].closed || last.opened.Sub(cs[0].closed) > twRetry {
		errs = append(errs, fmt.Errorf("the 4th connection opened at %v from port %d; want port %d, within %v after its TIME-WAIT ended at %v", time.Duration(last.opened), last.port, cs[0].port, twRetry, time.Duration(cs[0].closed)))
	}
	return errors.Join(append(errs, checkClosed(w))...)
}

func firstOr(ts []clock.Time) clock.Time {
	if len(ts) == 0 {
		return 0
	}
	return ts[0]
}

func timeWaitFigures(r *Run) []message {
	cs := timeWaits(r.Events)
	var out []message
	for i, c := range cs {
		out = append(out, message{"connection %d: port %d, opened at %v with %d of the client's connections in TIME-WAIT; in TIME-WAIT from %v to %v",
			[]any{i + 1, c.port, time.Duration(c.opened), inTimeWait(cs, c.opened), time.Duration(c.tw), time.Duration(c.closed)}})
	}
	fails := r.World.Host(clientName).ConnectFailures()
	if len(fails) > 0 {
		out = append(out, message{"connect found no free port %d times, from %v to %v", []any{len(fails), time.Duration(fails[0]), time.Duration(fails[len(fails)-1])}})
	}
	return out
}
