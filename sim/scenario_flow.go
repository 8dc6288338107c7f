package sim

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// zwSize is the zero-window scenario's answer: three receive buffers' worth.
const zwSize = 12 * mss

// The keepalive scenario's timing: probes after 10 s idle, every 5 s, 3
// unanswered ones; the server vanishes at 15 s.
const (
	kaIdle, kaInterval, kaCount = 10 * time.Second, 5 * time.Second, 3
	kaGone                      = 15 * time.Second
)

func init() {
	register(&Scenario{
		Name:  "zero-window",
		Title: "A zero window: the receiver is full, the sender probes until it opens",
		Caption: `The client's receive buffer holds only 4 segments (5792 bytes), and its application stops
reading for 3 s. The server's first 4 segments fill the buffer, and the client's ACK says
win=0: nothing more may be sent. The server does not give up, and it does not simply wait
either, since the ACK that will reopen the window carries no data and, if lost, would never be
retransmitted (a deadlock). It arms the persist timer and sends zero-window probes, each
an old sequence number that the receiver must answer with its current window (RFC 9293
§3.8.6.1), backing off like the retransmission timer. When the application reads again, the
client sends a window update (an ACK with the window open) and the transfer resumes at once.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), StopReading(), Write(Request),
			Sleep(3 * time.Second), StartReading(), ReadN(zwSize), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), WriteBytes(zwSize), ReadEOF(), Close()},
		configure: func(host string, c *stack.Config) {
			if host == clientName {
				c.TCP.RecvBuffer, c.TCP.RecvBufferMax = 4*mss, 4*mss
			}
		},
		Check:   checkZeroWindow,
		figures: zeroWindowFigures,
		Essential: func(r *Run) error {
			return all(delivered(r.World, zwSize), checkClosed(r.World))
		},
	})
	register(&Scenario{
		Name:  "keepalive",
		Title: "Keepalive: an idle connection finds out that its peer is gone",
		Caption: `After the answer, the connection is idle: nothing is sent, and TCP by itself would never
notice if the other end vanished. The client has keepalive on (SO_KEEPALIVE; here 10 s idle,
probes every 5 s, 3 of them, where Linux's defaults are 2 hours, 75 s and 9). After 10 s of
silence it sends a keepalive probe: an ACK with the sequence number one below the next, which
the peer must answer with an ACK (RFC 9293 §3.8.4); the server answers, and the client knows the
connection is alive. At 15 s the server's host disappears (its packets, and those to it, are
lost from then on). 10 s after the last answer the client probes again, then every 5 s; after
3 unanswered probes it declares the peer dead and closes the connection with "connection timed
out". Keepalives are optional and off by default: RFC 1122 §4.2.3.6 says they must not be sent
more often than every 2 hours by default.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(Response)), WaitClosed()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(Response)},
		configure: func(host string, c *stack.Config) {
			if host == clientName {
				c.TCP.KeepAliveIdle, c.TCP.KeepAliveInterval, c.TCP.KeepAliveCount = kaIdle, kaInterval, kaCount
			}
		},
		setup: func(w *World) error {
			w.At(clock.Time(kaGone), func() {
				for _, d := range [][2]string{{clientName, serverName}, {serverName, clientName}} {
					// Both hosts exist and the rule is valid: AddRule
					// cannot fail here.
					_ = w.Network().AddRule(d[0], d[1], netsim.Rule{Name: "server-gone", Action: netsim.Drop})
				}
			})
			return nil
		},
		Check:   checkKeepalive,
		figures: keepaliveFigures,
		Essential: func(r *Run) error {
			return expectErr(r.World.Host(clientName), tcp.ErrTimeout)
		},
	})
}

// zeroWindow is what the zero-window scenario's events show.
type zeroWindow struct {
	closedAt, updateAt clock.Time // the client's win=0 ACK and its window update
	probes             []clock.Time
}

func zeroWindowOf(ev []trace.Event) zeroWindow {
	var z zeroWindow
	closed := false
	for _, e := range ev {
		if e.Kind != trace.SegmentOut || e.PayloadLen != 0 || e.Seg.Flags&(wire.SYN|wire.FIN|wire.RST) != 0 {
			continue
		}
		switch {
		case e.Host == clientName && e.Seg.Window == 0 && !closed:
			closed, z.closedAt = true, e.At
		case e.Host == clientName && e.Seg.Window > 0 && closed && z.updateAt == 0:
			z.updateAt = e.At
		case e.Host == serverName && closed && z.updateAt == 0:
			z.probes = append(z.probes, e.At)
		}
	}
	return z
}

// checkZeroWindow wants a win=0 ACK, at least three probes at growing
// intervals before the window update, the update once the client reads
// again (3 s), and the data delivered with no retransmission.
func checkZeroWindow(w *World) error {
	var errs []error
	z := zeroWindowOf(w.events())
	if z.closedAt == 0 {
		errs = append(errs, errors.New("the client never advertised a zero window"))
	}
	if len(z.probes) < 3 {
		errs = append(errs, fmt.Errorf("the server sent %d zero-window probes, want at least 3", len(z.probes)))
	}
	for i := 2; i < len(z.probes); i++ {
		if z.probes[i].Sub(z.probes[i-1]) <= z.probes[i-1].Sub(z.probes[i-2]) {
			errs = append(errs, fmt.Errorf("the probes at %v do not back off", z.probes))
			break
		}
	}
	if z.updateAt < clock.Time(3*time.Second) {
		errs = append(errs, fmt.Errorf("the client's window update at %v, want it once it reads again at 3s", time.Duration(z.updateAt)))
	}
	if r := retrans(w.Host(serverName)); r != 0 {
		errs = append(errs, fmt.Errorf("the server retransmitted %d segments, want none (probes are not retransmissions)", r))
	}
	return errors.Join(append(errs, delivered(w, zwSize), checkClosed(w))...)
}

func zeroWindowFigures(r *Run) []message {
	z := zeroWindowOf(r.Events)
	var ps []string
	for _, p := range z.probes {
		ps = append(ps, time.Duration(p).String())
	}
	return []message{
		{"the client advertised a zero window at %v and reopened it at %v", []any{time.Duration(z.closedAt), time.Duration(z.updateAt)}},
		{"zero-window probes from the server: %d, at %s", []any{len(z.probes), joinList(ps)}},
	}
}

// joinList is a list for a figure: "a, b, c".
type joinList []string

func (j joinList) say(l i18n.Lang) string { return strings.Join(j, l.Tr(", ")) }

// probesOf returns the times of the client's keepalive probes (its
// segments once the exchange is over, after 1 s) and how many the server
// answered.
func probesOf(ev []trace.Event) (probes []clock.Time, answered int) {
	for _, e := range ev {
		if e.Kind != trace.SegmentOut || e.At < clock.Time(time.Second) {
			continue
		}
		switch e.Host {
		case clientName:
			probes = append(probes, e.At)
		case serverName:
			answered++
		}
	}
	return probes, answered
}

// checkKeepalive wants one probe answered, then kaCount unanswered at
// kaInterval, and the connection timed out kaInterval after the last.
func checkKeepalive(w *World) error {
	var errs []error
	probes, answered := probesOf(w.events())
	c := w.Host(clientName).Conn()
	if c != nil && c.Stats().KeepAlives != uint64(len(probes)) {
		errs = append(errs, fmt.Errorf("the client counted %d keepalive probes, the trace shows %d segments after the exchange", c.Stats().KeepAlives, len(probes)))
	}
	if len(probes) != 1+kaCount || answered != 1 {
		errs = append(errs, fmt.Errorf("the client sent %d keepalive probes and %d were answered, want %d and 1", len(probes), answered, 1+kaCount))
	} else {
		if probes[1].Sub(probes[0]) < kaIdle {
			errs = append(errs, fmt.Errorf("the second probe came %v after the answered one, want the idle time %v", probes[1].Sub(probes[0]), kaIdle))
		}
		for i := 2; i < len(probes); i++ {
			if d := probes[i].Sub(probes[i-1]); d != kaInterval {
				errs = append(errs, fmt.Errorf("probes %d and %d are %v apart, want %v", i, i+1, d, kaInterval))
			}
		}
		if end := w.Now(); end.Sub(probes[len(probes)-1]) != kaInterval {
			errs = append(errs, fmt.Errorf("the connection ended %v after the last probe, want %v", end.Sub(probes[len(probes)-1]), kaInterval))
		}
	}
	return errors.Join(append(errs, expectErr(w.Host(clientName), tcp.ErrTimeout), expectState(w.Host(serverName), tcp.Established))...)
}

func keepaliveFigures(r *Run) []message {
	probes, answered := probesOf(r.Events)
	var ps []string
	for _, p := range probes {
		ps = append(ps, time.Duration(p).String())
	}
	return []message{
		{"keepalive probes from the client: %d, at %s; answered: %d", []any{len(probes), joinList(ps), answered}},
		{"the client gave up at %v: %v; the server's side is still ESTABLISHED (it has no keepalive)", []any{r.Result.End.Sub(0), errSayer{r.World.Host(clientName).Conn().Err()}}},
	}
}

// errSayer is a connection's error in a figure.
type errSayer struct{ err error }

func (e errSayer) say(l i18n.Lang) string { return l.Tr(fmt.Sprint(e.err)) }
