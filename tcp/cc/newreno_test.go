package cc

import (
	"testing"

	"github.com/gosynack/synack/clock"
)

const smss = 1460

// ackRound acknowledges one window (Window() bytes at the round's start) in
// ACKs of per bytes each (the last may be smaller) and returns cwnd after.
func ackRound(c Controller, now clock.Time, per int, appLimited bool) int {
	w := c.Window()
	for left := w; left > 0; left -= per {
		c.OnAck(Ack{Now: now, Acked: min(per, left), Flight: w, AppLimited: appLimited})
	}
	return c.Window()
}

func TestNewRenoInitialWindow(t *testing.T) {
	// RFC 6928 §2: "IW = min (10*MSS, max (2*MSS, 14600))".
	for _, mss := range []int{536, 1000, 1460, 4000, 9000} {
		want := min(10*mss, max(2*mss, 14600))
		if got := NewNewReno(Config{MSS: mss}).Window(); got != want {
			t.Errorf("MSS %d: IW %d, want %d", mss, got, want)
		}
		r := NewNewReno(Config{})
		r.SetMSS(mss)
		if got := r.Window(); got != want {
			t.Errorf("SetMSS(%d): IW %d, want %d", mss, got, want)
		}
		if got := r.Threshold(); got != NoThreshold {
			t.Errorf("SetMSS(%d): ssthresh %d, want NoThreshold", mss, got)
		}
	}
	if got := NewNewReno(Config{}).Window(); got != min(10*DefaultMSS, max(2*DefaultMSS, 14600)) {
		t.Errorf("default MSS: IW %d", got)
	}
	if got := NewNewReno(Config{MSS: smss, InitialWindow: 4 * smss}).Window(); got != 4*smss {
		t.Errorf("configured IW: %d, want %d", got, 4*smss)
	}
	// A configured IW below one segment is raised to one segment.
	if got := NewNewReno(Config{MSS: smss, InitialWindow: 100}).Window(); got != smss {
		t.Errorf("configured IW 100: %d, want %d", got, smss)
	}
}

func TestNewRenoSlowStartDoubles(t *testing.T) {
	// RFC 5681 §3.1: "During slow start, a TCP increments cwnd by at most
	// SMSS bytes for each ACK received that cumulatively acknowledges new
	// data." One ACK per segment doubles cwnd every round.
	r := NewNewReno(Config{MSS: smss})
	iw := r.Window()
	for round := 1; round <= 8; round++ {
		if got, want := ackRound(r, 0, smss, false), iw<<round; got != want {
			t.Fatalf("round %d: cwnd %d, want %d", round, got, want)
		}
	}
}

func TestNewRenoSlowStartByteCounting(t *testing.T) {
	// RFC 5681 §3.1 equation (2): "cwnd += min (N, SMSS)", with RFC
	// 3465's limit L*SMSS for SMSS (§2.2: "MUST NOT use L > 2*SMSS
	// bytes"); L defaults to 2 segments.
	for _, tc := range []struct {
		limit, l int
	}{{0, 2}, {1, 1}, {2, 2}} {
		r := NewNewReno(Config{MSS: smss, SlowStartLimit: tc.limit})
		w := r.Window()
		for _, n := range []int{500, 1, smss, smss + 1, 2 * smss, 2*smss + 1, 50 * smss, 0} {
			r.OnAck(Ack{Acked: n})
			w += min(n, tc.l*smss)
			if r.Window() != w {
				t.Fatalf("L=%d: after an ACK of %d bytes: cwnd %d, want %d", tc.l, n, r.Window(), w)
			}
		}
	}
	// With L = 1, delayed ACKs (two segments per ACK) grow cwnd by 1.5
	// per round; with L = 2 they double it as one ACK per segment does.
	for _, l := range []int{1, 2} {
		r := NewNewReno(Config{MSS: smss, SlowStartLimit: l})
		w := r.Window()
		for round := 1; round <= 4; round++ {
			acks := (w + 2*smss - 1) / (2 * smss)
			w += min(acks*l*smss, w)
			if got := ackRound(r, 0, 2*smss, false); got != w {
				t.Fatalf("L=%d round %d with delayed ACKs: cwnd %d, want %d", l, round, got, w)
			}
		}
	}
}

func TestSlowStartAfterTimeoutLimitOne(t *testing.T) {
	// RFC 3465 §2.3: in the slow start that follows a retransmission
	// timeout L is 1*SMSS, since an ACK there may cover segments sent
	// before the timeout. It is 2 again after the next congestion event
	// and once cwnd reaches ssthresh.
	for _, name := range Names() {
		c, _ := New(name, Config{MSS: smss})
		c.OnRTO(0, 20*smss)
		c.OnAck(Ack{Now: 1, Acked: 2 * smss})
		if c.Window() != 2*smss {
			t.Fatalf("%s: after a timeout, a 2-segment ACK: cwnd %d, want %d", name, c.Window(), 2*smss)
		}
		for c.Window() < c.Threshold() {
			c.OnAck(Ack{Now: 1, Acked: smss})
		}
		c.OnCongestion(2, 20*smss)
		c.OnRecoveryEnd(2, 20*smss)
		c.OnRTO(3, 2*smss)
		c.OnAck(Ack{Now: 4, Acked: smss})
		c.OnCongestion(5, 40*smss) // ssthresh 20 or 28 SMSS, cwnd = ssthresh
		c.OnRecoveryEnd(5, 2*smss) // cwnd 3 SMSS: slow start again
		w := c.Window()
		c.OnAck(Ack{Now: 6, Acked: 2 * smss})
		if c.Window() != w+2*smss {
			t.Fatalf("%s: slow start after recovery: cwnd %d, want %d", name, c.Window(), w+2*smss)
		}
	}
}

func TestSlowStartUnlimitedAsLinux(t *testing.T) {
	// Config.SlowStartLimit < 0: Linux's tcp_slow_start, cwnd =
	// min(cwnd + acked, ssthresh), the rest of the ACK counted in
	// congestion avoidance.
	for _, name := range Names() {
		c, _ := New(name, Config{MSS: smss, SlowStartLimit: -1})
		w := c.Window()
		c.OnAck(Ack{Now: 1, Acked: 5 * smss, SRTT: 1})
		if c.Window() != w+5*smss {
			t.Fatalf("%s: a 5-segment ACK: cwnd %d, want %d", name, c.Window(), w+5*smss)
		}
		c.OnRTO(2, 20*smss) // ssthresh 10 or 14 SMSS
		th := c.Threshold()
		c.OnAck(Ack{Now: 3, Acked: th + 3*smss, SRTT: 1})
		if c.Window() < th || c.Window() > th+smss {
			t.Fatalf("%s: an ACK past ssthresh %d: cwnd %d, want ssthresh and at most one SMSS of congestion avoidance", name, th, c.Window())
		}
	}
}

// intoCA returns a NewReno in congestion avoidance at cwnd = ssthresh = w.
func intoCA(t *testing.T, w int) *NewReno {
	t.Helper()
	r := NewNewReno(Config{MSS: smss})
	r.OnCongestion(0, 2*w)
	r.OnRecoveryEnd(0, 2*w)
	if r.Window() != w || r.Threshold() != w {
		t.Fatalf("setup: cwnd %d ssthresh %d, want %d", r.Window(), r.Threshold(), w)
	}
	return r
}

func TestNewRenoCongestionAvoidance(t *testing.T) {
	// RFC 5681 §3.1: "When the number of bytes acknowledged reaches cwnd,
	// then cwnd can be incremented by up to SMSS bytes." and "This method
	// both allows TCPs to increase cwnd by one segment per RTT in the face
	// of delayed ACKs and provides robustness against ACK Division
	// attacks."
	for _, per := range []int{smss, 2 * smss, 100} {
		r := intoCA(t, 10*smss)
		for round := 1; round <= 20; round++ {
			if got, want := ackRound(r, 0, per, false), (10+round)*smss; got != want {
				t.Fatalf("ACKs of %d bytes, round %d: cwnd %d, want %d", per, round, got, want)
			}
		}
	}
	// "MUST NOT increment cwnd by more than SMSS bytes": one huge ACK
	// grows cwnd by one SMSS, and the surplus does not buy more later.
	r := intoCA(t, 10*smss)
	r.OnAck(Ack{Acked: 100 * smss})
	if got := r.Window(); got != 11*smss {
		t.Fatalf("after a 100-segment ACK: cwnd %d, want %d", got, 11*smss)
	}
	r.OnAck(Ack{Acked: 1})
	if got := r.Window(); got != 12*smss {
		t.Fatalf("the carried count is below one window: cwnd %d, want %d", got, 12*smss)
	}
	r.OnAck(Ack{Acked: smss})
	if got := r.Window(); got != 12*smss {
		t.Fatalf("cwnd %d, want %d", got, 12*smss)
	}
}

func TestNewRenoOnCongestion(t *testing.T) {
	// RFC 5681 §3.2 step 2: "ssthresh = max (FlightSize / 2, 2*SMSS)"
	// (4); RFC 6675 §5 step (4.2): "cwnd = ssthresh".
	for _, flight := range []int{100 * smss, 20*smss + 1, 5 * smss, 4 * smss, 3 * smss, smss, 0} {
		r := NewNewReno(Config{MSS: smss})
		ackRound(r, 0, smss, false)
		r.OnCongestion(0, flight)
		want := max(flight/2, 2*smss)
		if r.Threshold() != want || r.Window() != want {
			t.Errorf("flight %d: cwnd %d ssthresh %d, want both %d", flight, r.Window(), r.Threshold(), want)
		}
	}
}

func TestNewRenoRecoveryEnd(t *testing.T) {
	// RFC 6582 §3.2 step 3: "Set cwnd to either (1) min (ssthresh,
	// max(FlightSize, SMSS) + SMSS) or (2) ssthresh."  We use (1).
	for _, flight := range []int{40 * smss, 20 * smss, 19 * smss, 3 * smss, 100, 0} {
		r := NewNewReno(Config{MSS: smss})
		r.OnCongestion(0, 40*smss)
		r.OnRecoveryEnd(0, flight)
		want := min(20*smss, max(flight, smss)+smss)
		if r.Window() != want || r.Threshold() != 20*smss {
			t.Errorf("flight %d: cwnd %d ssthresh %d, want %d and %d", flight, r.Window(), r.Threshold(), want, 20*smss)
		}
	}
	// After a timeout there is nothing to deflate.
	r := NewNewReno(Config{MSS: smss})
	r.OnRTO(0, 40*smss)
	ackRound(r, 0, smss, false)
	r.OnRecoveryEnd(0, 0)
	if r.Window() != 2*smss {
		t.Errorf("OnRecoveryEnd after OnRTO: cwnd %d, want %d", r.Window(), 2*smss)
	}
}

func TestNewRenoRTO(t *testing.T) {
	// RFC 5681 §3.1: "upon a timeout ... cwnd MUST be set to no more than
	// the loss window, LW, which equals 1 full-sized segment" and
	// ssthresh by equation (4).
	r := NewNewReno(Config{MSS: smss})
	ackRound(r, 0, smss, false)
	r.OnRTO(0, 16*smss)
	if r.Window() != smss || r.Threshold() != 8*smss {
		t.Fatalf("after RTO: cwnd %d ssthresh %d, want %d and %d", r.Window(), r.Threshold(), smss, 8*smss)
	}
	// "when a TCP sender detects segment loss using the retransmission
	// timer and the given segment has already been retransmitted by way
	// of the retransmission timer at least once, the value of ssthresh is
	// held constant."
	r.OnRTO(0, smss)
	if r.Window() != smss || r.Threshold() != 8*smss {
		t.Fatalf("after a second RTO: cwnd %d ssthresh %d, want %d and %d", r.Window(), r.Threshold(), smss, 8*smss)
	}
	// "Therefore, after retransmitting the dropped segment the TCP sender
	// uses the slow start algorithm to increase the window from 1
	// full-sized segment to the new value of ssthresh, at which point
	// congestion avoidance again takes over."
	for _, want := range []int{2, 4, 8, 9, 10} {
		if got := ackRound(r, 0, smss, false); got != want*smss {
			t.Fatalf("after the RTO: cwnd %d, want %d segments", got, want)
		}
	}
	// A timeout after an ACK is a new event: equation (4) again.
	r.OnRTO(0, 6*smss)
	if r.Threshold() != 3*smss {
		t.Fatalf("a later RTO: ssthresh %d, want %d", r.Threshold(), 3*smss)
	}
}

func TestNewRenoUndo(t *testing.T) {
	// RFC 3708 / RFC 4015 response, as Linux: a spurious reduction is
	// undone by restoring cwnd and ssthresh, never lowering either.
	r := NewNewReno(Config{MSS: smss})
	ackRound(r, 0, smss, false)
	cwnd, ssthresh := r.Window(), r.Threshold()
	r.OnCongestion(0, cwnd)
	r.Undo(0)
	if r.Window() != cwnd || r.Threshold() != ssthresh {
		t.Fatalf("undo of OnCongestion: cwnd %d ssthresh %d, want %d and %d", r.Window(), r.Threshold(), cwnd, ssthresh)
	}
	// Undo twice does nothing more; the recovery it ended is not deflated.
	r.OnRecoveryEnd(0, 0)
	r.Undo(0)
	if r.Window() != cwnd {
		t.Fatalf("second undo: cwnd %d, want %d", r.Window(), cwnd)
	}

	r = intoCA(t, 20*smss)
	r.OnRTO(0, 20*smss)
	ackRound(r, 0, smss, false) // cwnd 2 SMSS
	r.Undo(0)
	if r.Window() != 20*smss || r.Threshold() != 20*smss {
		t.Fatalf("undo of OnRTO: cwnd %d ssthresh %d, want %d", r.Window(), r.Threshold(), 20*smss)
	}

	// cwnd = max(cwnd, saved): a window that grew past the saved one stays.
	r = intoCA(t, 4*smss)
	r.OnCongestion(0, 4*smss) // cwnd 2 SMSS, saved 4 SMSS
	r.OnRecoveryEnd(0, 4*smss)
	for range 3 {
		ackRound(r, 0, smss, false)
	}
	grown := r.Window()
	r.Undo(0)
	if r.Window() != max(grown, 4*smss) || r.Threshold() != 4*smss {
		t.Fatalf("late undo: cwnd %d ssthresh %d, want %d and %d", r.Window(), r.Threshold(), max(grown, 4*smss), 4*smss)
	}
	// Nothing saved: Undo is a no-op.
	r = NewNewReno(Config{MSS: smss})
	r.Undo(0)
	if r.Window() != 10*smss || r.Threshold() != NoThreshold {
		t.Fatalf("undo with nothing saved changed the state")
	}
}

func TestNewRenoIdle(t *testing.T) {
	// RFC 5681 §4.1: "cwnd is reduced to the value of the restart window
	// (RW) before the transmission begins" and "RW = min(IW,cwnd)".
	r := NewNewReno(Config{MSS: smss})
	iw := r.Window()
	ackRound(r, 0, smss, false)
	r.OnIdle(0)
	if r.Window() != iw {
		t.Fatalf("idle with cwnd > IW: cwnd %d, want %d", r.Window(), iw)
	}
	r.OnRTO(0, 40*smss)
	r.OnIdle(0)
	if r.Window() != smss {
		t.Fatalf("idle with cwnd < IW: cwnd %d, want %d", r.Window(), smss)
	}
}

func TestNewRenoAppLimited(t *testing.T) {
	// RFC 7661 §4.3 (via Ack.AppLimited): the window does not grow while
	// the sender does not use it.
	r := NewNewReno(Config{MSS: smss})
	iw := r.Window()
	for range 3 {
		if got := ackRound(r, 0, smss, true); got != iw {
			t.Fatalf("slow start, application-limited: cwnd %d, want %d", got, iw)
		}
	}
	r = intoCA(t, 10*smss)
	for range 3 {
		if got := ackRound(r, 0, smss, true); got != 10*smss {
			t.Fatalf("congestion avoidance, application-limited: cwnd %d, want %d", got, 10*smss)
		}
	}
	// Application-limited bytes are not counted toward the next increase.
	for left := 10*smss - smss; left > 0; left -= smss {
		r.OnAck(Ack{Acked: smss})
	}
	if r.Window() != 10*smss {
		t.Fatalf("cwnd %d before a window's worth of counted bytes, want %d", r.Window(), 10*smss)
	}
	r.OnAck(Ack{Acked: smss})
	if r.Window() != 11*smss {
		t.Fatalf("cwnd %d after a window's worth, want %d", r.Window(), 11*smss)
	}
}

func TestSlowStartLimitCountsUnits(t *testing.T) {
	// Ack.Unit, a super-segment with segmentation offload: RFC 3465's
	// L (2 by default, 1 after a timeout) and HyStart++'s L (8, RFC 9406)
	// count units instead of SMSS; a Unit below SMSS counts as SMSS.
	const unit = 44 * smss
	for _, name := range Names() {
		for _, tc := range []struct {
			unit, acked, grow int
			hystart           bool
		}{
			{0, 100 * smss, 2 * smss, false},
			{smss / 2, 100 * smss, 2 * smss, false},
			{unit, 10 * smss, 10 * smss, false},
			{unit, 100 * smss, 2 * unit, false},
			{unit, 100 * smss, 100 * smss, true},
			{unit, 400 * smss, 8 * unit, true},
			{0, 100 * smss, 8 * smss, true},
		} {
			c, _ := New(name, Config{MSS: smss, HyStart: tc.hystart})
			w := c.Window()
			c.OnAck(Ack{Now: 1, Acked: tc.acked, Unit: tc.unit, SndUna: 1, SndNxt: 2})
			if c.Window() != w+tc.grow {
				t.Errorf("%s, unit %d, HyStart %v: an ACK of %d bytes: cwnd %d, want %d", name, tc.unit, tc.hystart, tc.acked, c.Window(), w+tc.grow)
			}
		}
		c, _ := New(name, Config{MSS: smss})
		c.OnRTO(0, 200*smss)
		c.OnAck(Ack{Now: 1, Acked: 100 * smss, Unit: unit})
		if c.Window() != smss+unit {
			t.Errorf("%s: after a timeout, an ACK of 100 SMSS with unit %d: cwnd %d, want %d (L = 1 unit)", name, unit, c.Window(), smss+unit)
		}
	}
}
