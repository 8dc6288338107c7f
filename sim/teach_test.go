package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/trace"
)

// run executes s with seed 1 and no overrides.
func run(t *testing.T, s *Scenario) *Run {
	t.Helper()
	r, err := s.Execute(Overrides{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lookup(t *testing.T, name string) *Scenario {
	t.Helper()
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("no scenario %s", name)
	}
	return s
}

// wantProblem wants the run of s to fail its check with a problem
// containing want: the check sees when the scenario does not show its
// point.
func wantProblem(t *testing.T, s *Scenario, want string) {
	t.Helper()
	r := run(t, s)
	if got := strings.Join(r.Problems, "; "); !strings.Contains(got, want) {
		t.Errorf("%s changed: problems %q, want one with %q", s.Name, got, want)
	}
}

// RFC 5681 §3.1: "During slow start, a TCP increments cwnd by at most SMSS
// bytes for each ACK received that cumulatively acknowledges new data."
// With an ACK for every segment, each round trip's flight doubles; the
// loss sets ssthresh by equation (4), "ssthresh = max (FlightSize / 2, 2*SMSS)".
func TestSlowStartDoubles(t *testing.T) {
	s := lookup(t, "slow-start")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	if rs := rounds(r.Events); len(rs) < 3 || rs[0] != 10 || rs[1] != 20 || rs[2] != 40 {
		t.Errorf("rounds %v, want 10, 20, 40 first", rs)
	}
	loss, ok := firstLoss(r.Events)
	if !ok || loss.Ssthresh != loss.Cwnd || loss.Ssthresh < 2*mss {
		t.Errorf("loss metrics %+v", loss)
	}
	// With delayed ACKs (one ACK per two segments) and RFC 5681's own
	// limit (one SMSS of growth per ACK, so per two segments
	// acknowledged; SlowStartLimit 1, where synack's default is RFC
	// 3465's 2) a flight is 1.5 times the last, as the explanation says,
	// and the check sees that it did not double.
	b := *s
	b.configure = func(_ string, c *stack.Config) { c.TCP.Congestion, c.TCP.SlowStartLimit = "newreno", 1 }
	b.Rules = nil
	if rs := rounds(run(t, &b).Events); len(rs) < 3 || rs[1] != 15 || rs[2] != 23 {
		t.Errorf("with delayed ACKs: rounds %v, want 10, 15, 23 first", rs)
	}
	wantProblem(t, &b, "want 10, 20, 40 first")
}

// RFC 5681 §3.2: "The fast retransmit algorithm uses the arrival of 3
// duplicate ACKs ... as an indication that a segment has been lost",
// and RFC 6582 §3.2 step 5 on a partial ACK: "retransmit the first
// unacknowledged segment".
func TestFastRecoveryThreeDupACKs(t *testing.T) {
	s := lookup(t, "fast-recovery")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	fr := recovery(r.Events)
	if len(fr.retrans) != 2 || fr.dupsBefore != 3 || !fr.partial {
		t.Fatalf("retransmissions %d, duplicate ACKs before the first %d, partial %v", len(fr.retrans), fr.dupsBefore, fr.partial)
	}
	// Both retransmissions are loss recovery, not the timer's, and both
	// leave before the first data segment's RTO (300 ms after it) fires.
	var first trace.Event
	for _, e := range r.Events {
		if e.Kind == trace.SegmentOut && e.Host == serverName && e.PayloadLen > 0 {
			first = e
			break
		}
	}
	for _, e := range fr.retrans {
		if e.RetransmitReason != trace.RetransmitLost || e.At.Sub(first.At) >= 300*time.Millisecond {
			t.Errorf("retransmission at %v (%v), first data at %v", time.Duration(e.At), e.RetransmitReason, time.Duration(first.At))
		}
	}
	// Without the losses there is nothing to recover: the check says so.
	wantProblem(t, broken(s), "retransmitted 0 segments, want 2")
}

// RFC 9293 §3.8.6.1: "The sending TCP peer must regularly transmit at
// least one octet of new data (if available), or retransmit to the
// receiving TCP peer even if the send window is zero, in order to
// 'probe' the window." synack probes as Linux does, with an old sequence
// number the receiver must answer.
func TestZeroWindowProbes(t *testing.T) {
	s := lookup(t, "zero-window")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	z := zeroWindowOf(r.Events)
	if len(z.probes) != 3 || z.closedAt != clockAt(200*time.Millisecond) {
		t.Errorf("zero window at %v, probes %v", time.Duration(z.closedAt), z.probes)
	}
	// A reader that keeps up never closes the window.
	b := *s
	b.configure = nil
	wantProblem(t, &b, "never advertised a zero window")
}

// RFC 9293 §3.8.4: keep-alive "MUST default to off", and a probe is a
// segment "containing no data" that elicits an ACK; after KeepAliveCount
// unanswered probes the connection is given up.
func TestKeepaliveDetectsDeadPeer(t *testing.T) {
	s := lookup(t, "keepalive")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	probes, answered := probesOf(r.Events)
	want := []time.Duration{10200 * time.Millisecond, 20300 * time.Millisecond, 25300 * time.Millisecond, 30300 * time.Millisecond}
	if len(probes) != len(want) || answered != 1 {
		t.Fatalf("probes %v, answered %d", probes, answered)
	}
	for i := range want {
		if time.Duration(probes[i]) != want[i] {
			t.Errorf("probe %d at %v, want %v", i+1, time.Duration(probes[i]), want[i])
		}
	}
	if r.Result.End != clockAt(35300*time.Millisecond) {
		t.Errorf("ended at %v, want 35.3s", r.Result.End)
	}
	// A peer that stays answers every probe: the connection lives on
	// (until the run's limit), and the check says so.
	b := *s
	b.setup = nil
	b.Limit = time.Minute
	wantProblem(t, &b, "connection ended with <nil>, want connection timed out")
}

// Nagle (RFC 9293 §3.7.4): "if there is unacknowledged data ... the user
// data is buffered"; delayed ACK (§3.8.6.3) holds the ACK up to 200 ms
// here: the body waits for the held ACK. TCP_NODELAY removes the wait.
func TestNagleDelayedACKStall(t *testing.T) {
	s := lookup(t, "nagle-delayed-ack")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	xs := exchanges(r.Events)
	if len(xs) != 2 || xs[0].answered.Sub(xs[0].asked) != 400*time.Millisecond || xs[1].answered.Sub(xs[1].asked) != 105*time.Millisecond {
		t.Fatalf("exchanges %+v", xs)
	}
	// A server that acknowledges at once (no delayed ACK) has no stall:
	// the body waits one round trip for the header's ACK, no more.
	b := *s
	b.configure = func(host string, c *stack.Config) { c.TCP.DelayedACK = -1 }
	wantProblem(t, &b, "with Nagle the answer came 200ms")
}

// RFC 4987 §3.6: with SYN cookies "the server ... does not need to
// allocate any state" for a SYN, and the connection is made when the
// returning ACK carries the cookie. Without them the full SYN queue drops
// the real client's SYN (Linux's ListenDrops), and it must retransmit.
func TestSynFloodCookies(t *testing.T) {
	s := lookup(t, "syn-flood")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	c := r.World.Host(serverName).Stack.Counters()
	if c.SyncookiesSent != floodSYNs-floodQueue+1 || c.SyncookiesRecv != 1 {
		t.Errorf("counters %+v", c)
	}
	b := *s
	b.configure = func(host string, c *stack.Config) {
		if host == serverName {
			c.SynBacklog, c.SynCookies = floodQueue, stack.CookiesOff
		}
	}
	wantProblem(t, &b, "the client retransmitted")
	if r := run(t, &b); r.World.Host(serverName).Stack.Counters().ListenDrops == 0 {
		t.Error("without cookies the full SYN queue dropped nothing")
	}
}

// RFC 9293 §3.4.2: TIME-WAIT lasts 2·MSL, and the four numbers of the
// connection stay taken; with one ephemeral port more, the 4th connect
// finds a free one at once.
func TestTimeWaitPortsRunOut(t *testing.T) {
	s := lookup(t, "time-wait-ports")
	r := run(t, s)
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %q", r.Problems)
	}
	if n := len(r.World.Host(clientName).ConnectFailures()); n != 19 {
		t.Errorf("%d failed connects, want 19 (every 500 ms from 0.9 s to 9.9 s)", n)
	}
	b := *s
	b.configure = func(host string, c *stack.Config) {
		if host == clientName {
			c.EphemeralLow, c.EphemeralHigh = twLow, twLow+twPorts
		}
	}
	wantProblem(t, &b, "connect found no port 0 times")
}

func clockAt(d time.Duration) clock.Time { return clock.Time(d) }
