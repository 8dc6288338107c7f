package tcp

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// Pacing sends a window's segments SRTT*SMSS/(2*cwnd) apart in slow start
// (Linux's tcp_pacing_ss_ratio, 200%), each when the pacing deadline,
// which NextDeadline reports, comes.
func TestPacingSlowStart(t *testing.T) {
	f := newEstablished(t, withConfig(Config{Pacing: true}))
	// The handshake measured SRTT = 100 ms; cwnd = IW = 10*1460 = 14600,
	// ssthresh unset: 1460 * 100 ms / (2 * 14600) = 5 ms per segment.
	p := data('a', 3*1460)
	f.write(t, sec(1), p)
	f.want(t, "the first segment leaves at once", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: p[:1460]})
	f.wantDeadline(t, sec(1)+ms(5))
	f.advance(t, sec(1)+ms(5))
	f.want(t, "the second 5 ms later", seg{Flags: wire.ACK, Seq: 1 + 1460, Ack: 1, Data: p[1460:2920]})
	f.wantDeadline(t, sec(1)+ms(10))
	f.advance(t, sec(1)+ms(10))
	f.want(t, "the third 5 ms after that", seg{Flags: wire.ACK | wire.PSH, Seq: 1 + 2920, Ack: 1, Data: p[2920:]})
	// Nothing left to pace: the next deadline is the retransmission
	// timer's once the pacing deadline passes, which holds nothing back.
	f.advance(t, sec(1)+ms(15))
	f.wantNothing(t)
	if d := f.c.NextDeadline(); d != f.c.timers.rtoAt {
		t.Fatalf("next deadline %v, want the RTO at %v", d, f.c.timers.rtoAt)
	}
}

// Without Pacing the same window leaves back to back.
func TestPacingOff(t *testing.T) {
	f := newEstablished(t)
	p := data('a', 3*1460)
	f.write(t, sec(1), p)
	f.want(t, "three segments at once", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: p[:1460]},
		seg{Flags: wire.ACK, Seq: 1 + 1460, Ack: 1, Data: p[1460:2920]},
		seg{Flags: wire.ACK | wire.PSH, Seq: 1 + 2920, Ack: 1, Data: p[2920:]})
}

// In congestion avoidance (cwnd >= ssthresh/2) the rate is 1.2*cwnd/SRTT
// (tcp_pacing_ca_ratio, 120%).
func TestPacingCongestionAvoidance(t *testing.T) {
	f := newEstablished(t, withConfig(Config{Pacing: true}))
	f.c.cc.OnCongestion(f.now, 40000) // CUBIC: ssthresh = cwnd = 28000
	if w := f.c.cc.Window(); w != 28000 {
		t.Fatalf("cwnd %d", w)
	}
	// 1460 * 100 ms * 100 / (120 * 28000) = 4345238 ns.
	if got, want := f.c.paceInterval(1460), 4345238*time.Nanosecond; got != want {
		t.Fatalf("interval %v, want %v", got, want)
	}
	p := data('b', 2*1460)
	f.write(t, sec(1), p)
	f.want(t, "the first at once", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: p[:1460]})
	f.wantDeadline(t, sec(1)+clock.Time(4345238))
	f.advance(t, sec(1)+clock.Time(4345238))
	f.want(t, "the second one interval later", seg{Flags: wire.ACK | wire.PSH, Seq: 1 + 1460, Ack: 1, Data: p[1460:]})
}
