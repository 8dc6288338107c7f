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
	// With delayed ACKs (one ACK per two segments) a flight is 1.5
	// times the last: the check sees that the window did not double.
	b := *s
	b.configure = func(string, *stack.Config) {}
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

func clockAt(d time.Duration) clock.Time { return clock.Time(d) }
