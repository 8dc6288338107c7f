package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// Config.SlowStartLimit -1 (the linux profile): every segment an ACK
// covers counts in slow start, as Linux's tcp_slow_start. An ACK of four
// segments grows cwnd by four (RFC 3465 §2.2 would allow two: "MUST NOT
// use L > 2*SMSS bytes"; the default).
func TestSlowStartStretchACK(t *testing.T) {
	for _, tc := range []struct {
		limit, grow int
	}{{0, 2}, {-1, 4}} {
		f := newEstablished(t, withConfig(Config{SlowStartLimit: tc.limit}))
		d := data('s', 20*1460)
		f.write(t, sec(1), d)
		var first []seg
		for i := range 10 {
			first = append(first, seg{Flags: wire.ACK, Seq: uint32(1 + 1460*i), Ack: 1, Data: d[1460*i : 1460*(i+1)]})
		}
		f.want(t, "the initial window", first...)
		// Four segments acknowledged: four leave the flight, and cwnd
		// grows by grow segments.
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 4*1460})
		var more []seg
		for i := 10; i < 14+tc.grow; i++ {
			more = append(more, seg{Flags: wire.ACK, Seq: uint32(1 + 1460*i), Ack: 1, Data: d[1460*i : 1460*(i+1)]})
		}
		f.want(t, "four segments for the four acknowledged, and the growth", more...)
		if got := f.c.Info().Cwnd; got != (10+tc.grow)*1460 {
			t.Fatalf("limit %d: cwnd %d, want %d", tc.limit, got, (10+tc.grow)*1460)
		}
	}
}

// Config.CubicReduceFromWindow (the linux profile): a timeout with one
// segment in flight and cwnd 10 segments sets ssthresh = max(cwnd·β_cubic,
// 2·SMSS) = 7 segments, which RFC 9438 §4.6 allows ("Some implementations
// of CUBIC currently use _cwnd_ instead of _flight_size_ when calculating
// a new _ssthresh_"); by default the flight gives max(1·0.7, 2) = 2.
func TestCubicTimeoutSsthreshFromWindow(t *testing.T) {
	for _, tc := range []struct {
		fromWindow bool
		want       int
	}{{false, 2 * 1460}, {true, 7 * 1460}} {
		f := newEstablished(t, withConfig(Config{CubicReduceFromWindow: tc.fromWindow}))
		d := data('r', 1460)
		f.write(t, sec(1), d)
		f.want(t, "one segment", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
		f.advance(t, f.c.NextDeadline())
		f.want(t, "its retransmission", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
		if i := f.c.Info(); i.Ssthresh != tc.want || i.Cwnd != 1460 {
			t.Fatalf("from window %v: ssthresh %d cwnd %d, want %d and 1460", tc.fromWindow, i.Ssthresh, i.Cwnd, tc.want)
		}
	}
}
