package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// mss is the payload of a full-sized segment between the scenarios' hosts
// (an MSS of 1460 less the 12 bytes of the timestamps option).
const mss = 1448

// The transfers of slow-start and fast-recovery.
const (
	ssSize = 100 * mss
	frSize = 14 * mss
)

// bottleneck is a 10 Mbit/s link, 50 ms each way: each full-sized segment
// takes 1.2 ms to cross, so a flight arrives spread out and the receiver
// acknowledges every segment or every second one as it comes, as on a
// real path, rather than a whole flight at one instant.
var bottleneck = netsim.Impairment{Latency: 50 * time.Millisecond, Bandwidth: 10_000_000}

// dropData is a rule dropping the nth data segment from one host.
func dropData(from, to, name string, nth int) DirectedRule {
	return DirectedRule{from, to, netsim.Rule{Name: name, Match: match(wire.ACK, wire.SYN|wire.FIN|wire.RST, netsim.WithPayload), Nth: nth, Action: netsim.Drop}}
}

func init() {
	register(&Scenario{
		Name:  "slow-start",
		Title: "Slow start: the congestion window doubles every round trip, until a loss sets ssthresh",
		Caption: `A new connection does not know the path, so it starts with a small congestion window
(cwnd): 10 segments (RFC 6928). In slow start every ACK of new data raises cwnd by one segment
(RFC 5681 §3.1); the client here acknowledges every segment (no delayed ACK), so each round
trip's flight is twice the last: 10, 20, 40 segments, a round trip apart. The slow-start
threshold (ssthresh) starts infinite. The 45th segment is lost: the SACK blocks and RACK show it
missing, the server retransmits it at once (fast recovery), and sets ssthresh to half the data
in flight (RFC 5681 equation (4), NewReno here; Linux's default CUBIC takes 0.7 of it). From then
on cwnd may grow only by about one segment per round trip (congestion avoidance). With delayed
ACKs (one ACK per two segments), RFC 5681's one segment per ACK would grow the flight by half
each round trip; synack counts up to two segments per ACK (RFC 3465), so it still doubles.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(ssSize), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), WriteBytes(ssSize), ReadEOF(), Close()},
		configure: func(host string, c *stack.Config) {
			c.TCP.Congestion = "newreno"
			if host == clientName {
				c.TCP.DelayedACK = -1
			}
		},
		Link:    bottleneck,
		Rules:   []DirectedRule{dropData(serverName, clientName, "lose-45th", 45)},
		Check:   checkSlowStart,
		figures: slowStartFigures,
		Essential: func(r *Run) error {
			return all(delivered(r.World, ssSize), checkClosed(r.World))
		},
	})
	register(&Scenario{
		Name:  "fast-recovery",
		Title: "Fast retransmit and fast recovery: three duplicate ACKs instead of a timeout",
		Caption: `The server's first flight is 10 segments; the 3rd and the 6th are lost. Each segment that
arrives after a hole makes the client repeat its last ACK (a duplicate ACK, RFC 5681 §4.2). SACK is off
here, so duplicates are all the server learns. At the third duplicate ACK it takes the segment
as lost rather than delayed by reordering and retransmits it at once (fast retransmit), long
before its retransmission timeout would fire; it halves its window (ssthresh = half the data in
flight) instead of falling back to slow start from one segment. The ACK for the retransmission
is partial: it stops at the second hole. NewReno (RFC 6582) takes a partial ACK for proof that
the next segment is lost too and retransmits it at once, staying in fast recovery, so both
holes are filled with no timeout. Recovery ends with the ACK of everything sent before it began.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(frSize), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadUntil("\r\n\r\n"), WriteBytes(frSize), ReadEOF(), Close()},
		configure: func(host string, c *stack.Config) {
			c.TCP.Congestion = "newreno"
			c.TCP.NoSACK = true
		},
		Link:    bottleneck,
		Rules:   []DirectedRule{dropData(serverName, clientName, "lose-3rd", 3), dropData(serverName, clientName, "lose-6th", 6)},
		Check:   checkFastRecovery,
		figures: recoveryFigures,
		Essential: func(r *Run) error {
			return all(delivered(r.World, frSize), checkClosed(r.World))
		},
	})
}

// delivered wants the client to have read the n bytes of the pattern.
func delivered(w *World, n int) error {
	if got := w.Host(clientName).Received(); string(got) != string(Pattern(n)) {
		return fmt.Errorf("the client received %d bytes, want the %d sent", len(got), n)
	}
	return nil
}

// rounds groups the first transmissions of the server's data segments into
// round trips: a round starts with the first segment sent 3/4 of an RTT
// (75 ms on the scenarios' 100 ms paths) or more after the last round began.
func rounds(ev []trace.Event) []int {
	var out []int
	start := time.Duration(-1)
	for i := range ev {
		e := &ev[i]
		if e.Kind != trace.SegmentOut || e.Host != serverName || e.PayloadLen == 0 || e.Retransmit {
			continue
		}
		if t := time.Duration(e.At); start < 0 || t-start >= 75*time.Millisecond {
			start = t
			out = append(out, 0)
		}
		out[len(out)-1]++
	}
	return out
}

// metrics returns the server's Metrics events.
func metrics(ev []trace.Event) []trace.Event {
	var out []trace.Event
	for _, e := range ev {
		if e.Kind == trace.Metrics && e.Host == serverName {
			out = append(out, e)
		}
	}
	return out
}

// firstLoss is the server's first Metrics event that set ssthresh, and
// whether there is one.
func firstLoss(ev []trace.Event) (trace.Event, bool) {
	for _, e := range metrics(ev) {
		if e.Ssthresh < math.MaxInt32 {
			return e, true
		}
	}
	return trace.Event{}, false
}

// checkSlowStart wants the first three rounds to be 10, 20 and 40
// segments, the loss to set ssthresh to half the flight (RFC 5681
// equation (4)), no timeout, and the data delivered.
func checkSlowStart(w *World) error {
	var errs []error
	ev := w.events()
	rs := rounds(ev)
	if len(rs) < 3 || rs[0] != 10 || rs[1] != 20 || rs[2] != 40 {
		errs = append(errs, fmt.Errorf("the server's rounds sent %v new segments, want 10, 20, 40 first", rs))
	}
	loss, ok := firstLoss(ev)
	if !ok {
		errs = append(errs, errors.New("the server never set ssthresh"))
	} else if loss.Ssthresh < 10*mss || loss.Ssthresh > 35*mss {
		// The flight when the loss is seen: the 40 of the third round
		// less those already acknowledged, about 70 segments at most.
		errs = append(errs, fmt.Errorf("ssthresh %d bytes after the loss, want about half the flight", loss.Ssthresh))
	}
	s := w.Host(serverName)
	if c := s.Conn(); c != nil && (c.Stats().Timeouts != 0 || c.Stats().Retransmits != 1) {
		errs = append(errs, fmt.Errorf("the server had %d timeouts and %d retransmissions, want 0 and 1", c.Stats().Timeouts, c.Stats().Retransmits))
	}
	return errors.Join(append(errs, delivered(w, ssSize), checkClosed(w))...)
}

func slowStartFigures(r *Run) []message {
	var out []message
	for i, n := range rounds(r.Events) {
		if i == 4 {
			break
		}
		out = append(out, message{"round trip %d: the server sent %d new segments", []any{i + 1, n}})
	}
	if loss, ok := firstLoss(r.Events); ok {
		out = append(out, message{"at %v the loss was detected: ssthresh = %d bytes (%d segments), cwnd = %d bytes",
			[]any{time.Duration(loss.At), loss.Ssthresh, loss.Ssthresh / mss, loss.Cwnd}})
	}
	return out
}

// checkFastRecovery wants the first retransmission right after the third
// duplicate ACK, the second right after the partial ACK that followed it,
// no timeout, and the data delivered.
func checkFastRecovery(w *World) error {
	var errs []error
	fr := recovery(w.events())
	if len(fr.retrans) != 2 {
		errs = append(errs, fmt.Errorf("the server retransmitted %d segments, want 2", len(fr.retrans)))
	} else {
		if fr.dupsBefore != 3 {
			errs = append(errs, fmt.Errorf("the first retransmission came after %d duplicate ACKs, want 3", fr.dupsBefore))
		}
		if !fr.partial {
			errs = append(errs, errors.New("the second retransmission did not answer a partial ACK"))
		}
	}
	if c := w.Host(serverName).Conn(); c != nil && (c.Stats().Timeouts != 0 || c.Stats().FastRecoveries != 1) {
		errs = append(errs, fmt.Errorf("the server had %d timeouts and %d fast recoveries, want 0 and 1", c.Stats().Timeouts, c.Stats().FastRecoveries))
	}
	return errors.Join(append(errs, delivered(w, frSize), checkClosed(w))...)
}

// recovered is what the server saw and did in fast recovery.
type recovered struct {
	retrans    []trace.Event // the server's retransmissions
	dupsBefore int           // duplicate ACKs it had received before the first
	partial    bool          // the second followed an ACK of the first
}

func recovery(ev []trace.Event) recovered {
	var r recovered
	var lastAck trace.Event
	haveAck := false
	for _, e := range ev {
		switch {
		case e.Kind == trace.SegmentIn && e.Host == serverName && e.Seg.Flags&wire.ACK != 0:
			if len(r.retrans) == 0 && haveAck && e.PayloadLen == 0 && e.Seg.Flags&(wire.SYN|wire.FIN) == 0 && e.Seg.Ack == lastAck.Seg.Ack {
				r.dupsBefore++
			} else if len(r.retrans) == 0 {
				r.dupsBefore = 0
			}
			lastAck, haveAck = e, true
		case e.Kind == trace.SegmentOut && e.Host == serverName && e.Retransmit:
			if len(r.retrans) == 1 && haveAck && lastAck.Seg.Ack == e.Seg.Seq && lastAck.Seg.Ack.GreaterThan(r.retrans[0].Seg.Seq) {
				r.partial = true
			}
			r.retrans = append(r.retrans, e)
		}
	}
	return r
}

func recoveryFigures(r *Run) []message {
	fr := recovery(r.Events)
	var out []message
	if len(fr.retrans) > 0 {
		out = append(out, message{"the first retransmission left at %v, after %d duplicate ACKs", []any{time.Duration(fr.retrans[0].At), fr.dupsBefore}})
	}
	if len(fr.retrans) > 1 {
		out = append(out, message{"the second left at %v, at the partial ACK", []any{time.Duration(fr.retrans[1].At)}})
	}
	if loss, ok := firstLoss(r.Events); ok {
		out = append(out, message{"ssthresh = %d bytes (%d segments); retransmission timeouts: %d", []any{loss.Ssthresh, loss.Ssthresh / mss, r.World.Host(serverName).Conn().Stats().Timeouts}})
	}
	return out
}
