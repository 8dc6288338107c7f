package tcp

import (
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// RFC 4821 §7.7: "If PLPMTUD is enabled ... the Packetization Layer
// SHOULD use the loss of full-sized segments ... to detect a black hole",
// and Linux with tcp_mtu_probing=1 then falls back to tcp_base_mss: the
// first two timeouts resend the 1460-byte segment; the third finds a black
// hole, re-cuts what is in flight to BaseMSS and resends it in segments
// of at most 1024 bytes.
func TestBlackHoleFallsBackToBaseMSS(t *testing.T) {
	f := newEstablished(t)
	d := data('p', 3000)
	f.write(t, ms(200), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	for i, at := range []clock.Time{ms(500), ms(1100)} {
		f.advance(t, at)
		f.want(t, "timeout "+string(rune('1'+i))+": the full-sized segment again",
			seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460], Rtx: true})
		if in := f.c.Info(); in.MSS != 1460 {
			t.Fatalf("MSS %d after %d timeouts, want 1460", in.MSS, i+1)
		}
	}
	f.advance(t, ms(2300))
	// Each 1460-byte segment is re-cut into 1024 and 436 bytes; the loss
	// window, one SMSS of the congestion controller (which still counts
	// 1460 bytes), lets the first two go.
	f.want(t, "timeout 3: a black hole; the first segment re-cut to 1024 + 436 bytes",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1024], Rtx: true},
		seg{Flags: wire.ACK, Seq: 1025, Ack: 1, Data: d[1024:1460], Rtx: true})
	if in := f.c.Info(); in.MSS != BaseMSS {
		t.Fatalf("MSS %d after %d timeouts of full-sized segments, want %d", in.MSS, BlackHoleRTOs, BaseMSS)
	}
	f.send(t, ms(2400), seg{Flags: wire.ACK, Seq: 1, Ack: 1461})
	f.want(t, "the rest, the second segment re-cut likewise",
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2484], Rtx: true},
		seg{Flags: wire.ACK, Seq: 2485, Ack: 1, Data: d[2484:2920], Rtx: true},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:], Rtx: true})
}

// A timeout of a segment shorter than the MSS says nothing about the path
// MTU (RFC 4821 §7.7 counts only full-sized segments): the MSS stays.
func TestBlackHoleNotOnShortSegment(t *testing.T) {
	f := newEstablished(t)
	d := data('q', 500)
	f.write(t, ms(200), d)
	f.want(t, "one short segment", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
	for _, at := range []clock.Time{ms(500), ms(1100), ms(2300), ms(4700)} {
		f.advance(t, at)
		f.want(t, "the short segment again", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
	}
	if in := f.c.Info(); in.MSS != 1460 {
		t.Fatalf("MSS %d after timeouts of a short segment, want 1460", in.MSS)
	}
}
