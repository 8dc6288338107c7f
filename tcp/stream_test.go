package tcp

// The reliable stream with every option on: window scaling and timestamps
// (RFC 7323), SACK (RFC 2018, RFC 2883), delayed ACK, Nagle, loss recovery
// (RFC 5681, RFC 6582, RFC 6675, RFC 8985), keepalive and the user
// timeout. Exact segments at exact virtual times, like the state-machine
// tests; every segment carries timestamps (the fixture's autoTS).

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp/cc"
	"github.com/gosynack/synack/wire"
)

// mss is the payload of a full segment here: MSS 1460 less the 12 bytes of
// the timestamps option (RFC 9293 §3.7.1: the sender reduces the segment
// size by the size of the options it sends).
const mss = 1448

// modernCfg has a 64 KiB receive buffer that does not grow, so that our
// window scale is 1 and the window field is half the free buffer.
func modernCfg() Config {
	return Config{RecvBuffer: 65536, RecvBufferMax: 65536}
}

// wsOpt, sackOpt build option sets for seg.Opt.
func peerSynOpts(sack bool) wire.Options {
	return wire.Options{HasWScale: true, WScale: 2, SACKPermitted: sack}
}

// newModern returns an ESTABLISHED client at 100 ms whose SYN offered
// window scale, SACK and timestamps and whose peer answered with window
// scale 2, timestamps and, if sack, SACK-permitted.
func newModern(t *testing.T, cfg Config, sack bool, opts ...option) *fixture {
	t.Helper()
	f := newFixture(true, append([]option{withConfig(cfg), modern}, opts...))
	f.autoTS = true
	// RFC 7323 §2.2: "A TCP MAY send the Window Scale option in a <SYN>
	// segment"; §3.2 likewise for TSopt, with TSecr zero; RFC 2018 §2 for
	// SACK-permitted.
	synOpt := wire.Options{HasWScale: true, WScale: f.c.wantShift(), SACKPermitted: true}
	if cfg.NoSACK {
		synOpt.SACKPermitted = false
	}
	f.want(t, "SYN with every option", seg{Flags: wire.SYN, Win: min(f.c.RecvBuffer(), 65535), MSS: 1460, Opt: synOpt})
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460, Opt: peerSynOpts(sack)})
	f.peerRecent = f.peerTS(ms(100))
	f.want(t, "ACK of the SYN-ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: f.c.RecvBuffer() >> f.c.wantShift()})
	f.wantState(t, Established)
	return f
}

// RFC 7323 §2.2-2.3: both SYNs carried Window Scale, so windows are scaled
// from now on: "the true window size is ... SEG.WND << Snd.Wind.Shift";
// ours is the free buffer >> Rcv.Wind.Shift.
func TestWindowScaleNegotiated(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	i := f.c.Info()
	if !i.WScale || i.RcvWScale != 1 || i.SndWScale != 2 || !i.Timestamps || !i.SACK {
		t.Fatalf("negotiated: %+v", i)
	}
	f.send(t, ms(200), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 1000})
	if got := f.c.Info().SndWnd; got != 4000 {
		t.Fatalf("SND.WND after a window field of 1000 with shift 2 = %d, want 4000", got)
	}
	f.wantNothing(t)
}

// RFC 7323 §2.2: "[a SYN-ACK] MAY send a Window Scale option ... only if it
// received a Window Scale option in the initial <SYN>"; without it, "the
// window scaling function is disabled in both directions", so the window
// offered stays within 16 bits. RFC 2018 §2 likewise for SACK-permitted.
func TestPassiveAnswersOnlyWhatWasOffered(t *testing.T) {
	f := newFixture(false, []option{withConfig(Config{RecvBuffer: 200000}), modern})
	f.autoTS = true
	f.send(t, 0, seg{Flags: wire.SYN, MSS: 1460})
	f.peerRecent = f.peerTS(0)
	f.want(t, "SYN-ACK with MSS and timestamps only", seg{Flags: wire.SYN | wire.ACK, Ack: 1, Win: 65535, MSS: 1460})
	f.send(t, ms(100), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	f.wantState(t, Established)
	i := f.c.Info()
	if i.WScale || i.SACK || !i.Timestamps || i.RcvWnd != 65535 {
		t.Fatalf("negotiated: %+v", i)
	}
}

// RFC 9293 §3.8.6.3: "A TCP endpoint SHOULD implement a delayed ACK
// (SHLD-18), but an ACK should not be excessively delayed; in particular,
// the delay MUST be less than 0.5 seconds (MUST-40)." synack waits DelayedACK (40 ms by default) for data
// to carry the ACK.
func TestDelayedACK(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	d := data('d', mss)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
	f.wantNothing(t)
	f.wantDeadline(t, ms(1040))
	f.advance(t, ms(1040))
	f.want(t, "the delayed ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1 + mss, Win: (65536 - mss) / 2})
	if s := f.c.Stats(); s.DelayedACKs != 1 {
		t.Fatalf("DelayedACKs = %d", s.DelayedACKs)
	}
	// Data to send carries the ACK instead: no separate ACK.
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: data('e', 10)})
	f.write(t, ms(1110), []byte("reply"))
	f.want(t, "the reply carries the ACK", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 11 + mss, Win: (65536 - mss - 10) / 2, Data: []byte("reply")})
	f.wantRead(t, ms(1120), append(d, data('e', 10)...))
}

// RFC 9293 §3.8.6.3: "an ACK SHOULD be generated for at least every second
// full-sized segment".
func TestAckEverySecondSegment(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: data('a', mss)})
	f.wantNothing(t)
	f.send(t, ms(1010), seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: data('b', mss)})
	f.want(t, "ACK at the second full segment", seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, Win: (65536 - 2*mss) / 2})
	f.wantDeadline(t, clock.Never)
}

// Out-of-order data is held and reported in SACK blocks. RFC 5681 §4.2: "A
// TCP receiver SHOULD send an immediate duplicate ACK when an out-of-order
// segment arrives" and "an immediate ACK when the incoming segment fills in
// all or part of a gap". RFC 2018 §4: "The first SACK block ... MUST
// specify the contiguous block of data containing the segment which
// triggered this ACK"; the rest repeat "the most recently reported SACK
// blocks".
func TestOutOfOrderReassemblyAndSACK(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	in := data('r', 4*mss)
	part := func(k int) []byte { return in[k*mss : (k+1)*mss] }
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: part(1)})
	f.want(t, "duplicate ACK with a SACK block", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768,
		SACK: []uint32{1 + mss, 1 + 2*mss}})
	f.send(t, ms(1010), seg{Flags: wire.ACK, Seq: 1 + 3*mss, Ack: 1, Data: part(3)})
	f.want(t, "the newest block first", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768,
		SACK: []uint32{1 + 3*mss, 1 + 4*mss, 1 + mss, 1 + 2*mss}})
	if i := f.c.Info(); i.OutOfOrder != 2*mss || f.c.Readable() != 0 {
		t.Fatalf("held %d bytes, readable %d", i.OutOfOrder, f.c.Readable())
	}
	f.send(t, ms(1020), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: part(0)})
	f.want(t, "gap filled: immediate ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, Win: (65536 - 2*mss) / 2,
		SACK: []uint32{1 + 3*mss, 1 + 4*mss}})
	f.send(t, ms(1030), seg{Flags: wire.ACK, Seq: 1 + 2*mss, Ack: 1, Data: part(2)})
	f.want(t, "all in order", seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 4*mss, Win: (65536 - 4*mss) / 2})
	f.wantRead(t, ms(1040), in)
	if s := f.c.Stats(); s.OutOfOrderIn != 2 || s.BytesIn != 4*mss || s.DupBytesIn != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// RFC 2883 §4: "If the data sender receives a duplicate segment, the first
// block of the next SACK option should specify the duplicate".
func TestDSACKForDuplicate(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	d := data('x', 100)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
	f.advance(t, ms(1040))
	f.want(t, "delayed ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2})
	f.send(t, ms(1300), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
	f.want(t, "D-SACK below the cumulative ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2,
		SACK: []uint32{1, 101}})
	if s := f.c.Stats(); s.DupBytesIn != 100 {
		t.Fatalf("DupBytesIn = %d", s.DupBytesIn)
	}
}

// A retransmission of data we already have that also carries the peer's
// FIN: RFC 9293 §3.10.7.4 "advance RCV.NXT over the FIN, and send an
// acknowledgment for the FIN"; RFC 2883 §4 "the first block of the next
// SACK option should specify the duplicate" "when D-SACK is used". By
// default the ACK carries the D-SACK; with FINClearsSACK (Linux's tcp_fin
// resets its SACK state) it carries none.
func TestDSACKWithFIN(t *testing.T) {
	for _, clear := range []bool{false, true} {
		cfg := modernCfg()
		cfg.FINClearsSACK = clear
		f := newModern(t, cfg, true)
		d := data('x', 100)
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
		f.advance(t, ms(1040))
		f.want(t, "delayed ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2})
		f.send(t, ms(1300), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1, Data: d})
		want := seg{Flags: wire.ACK, Seq: 1, Ack: 102, Win: (65536 - 100) / 2}
		if !clear {
			want.SACK = []uint32{1, 101}
		}
		f.want(t, "ACK of the FIN", want)
		f.wantState(t, CloseWait)
	}
}

// Nagle (RFC 9293 §3.7.4: "a TCP SHOULD implement the Nagle algorithm ...
// to coalesce short segments"), in Minshall's form: a short segment waits
// while an earlier short segment is unacknowledged. NoDelay sends at once.
func TestNagle(t *testing.T) {
	for _, noDelay := range []bool{false, true} {
		cfg := modernCfg()
		cfg.NoDelay = noDelay
		f := newModern(t, cfg, true)
		f.write(t, sec(1), data('1', 100))
		f.want(t, "the first short segment goes", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: data('1', 100)})
		f.write(t, ms(1010), data('2', 100))
		if noDelay {
			f.want(t, "NoDelay: at once", seg{Flags: wire.PSH | wire.ACK, Seq: 101, Ack: 1, Win: 32768, Data: data('2', 100)})
			continue
		}
		f.wantNothing(t)
		f.write(t, ms(1020), data('3', 100))
		f.wantNothing(t)
		if s := f.c.Stats(); s.NagleDelays != 2 {
			t.Fatalf("NagleDelays = %d", s.NagleDelays)
		}
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 101})
		f.want(t, "coalesced after the ACK", seg{Flags: wire.PSH | wire.ACK, Seq: 101, Ack: 1, Win: 32768,
			Data: append(data('2', 100), data('3', 100)...)})
	}
}

// RFC 5681 §3.2: "The fast retransmit algorithm uses the arrival of 3
// duplicate ACKs ... as an indication that a segment has been lost." "The
// lost segment starting at SND.UNA MUST be retransmitted". Without SACK,
// NewReno (RFC 6582) ends recovery at the full acknowledgment, with
// "cwnd = min (ssthresh, max(FlightSize, SMSS) + SMSS)".
func TestFastRetransmitThreeDupACKs(t *testing.T) {
	cfg := modernCfg()
	cfg.NoSACK, cfg.Congestion = true, "newreno"
	f := newModern(t, cfg, false)
	// The peer's first ACK after the SYN-ACK scales its window (the SYN-ACK's
	// was not scaled), so it is no duplicate by rule (e) of RFC 5681 §2;
	// let it come first.
	f.send(t, ms(500), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	d := data('f', 5*mss)
	f.write(t, sec(1), d)
	var segs []seg
	for k := range 5 {
		s := seg{Flags: wire.ACK, Seq: uint32(1 + k*mss), Ack: 1, Win: 32768, Data: d[k*mss : (k+1)*mss]}
		if k == 4 {
			s.Flags |= wire.PSH
		}
		segs = append(segs, s)
	}
	f.want(t, "five segments", segs...)
	for k := range 2 {
		f.send(t, ms(1100+int64(k)), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.wantNothing(t)
	}
	f.send(t, ms(1102), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	rtx := segs[0]
	rtx.Rtx = true
	f.want(t, "fast retransmit at the third duplicate", rtx)
	// RFC 5681 equation (4): ssthresh = max (FlightSize / 2, 2*SMSS).
	if i := f.c.Info(); !i.InRecovery || i.Ssthresh != 5*mss/2 || i.Cwnd != 5*mss/2 {
		t.Fatalf("in recovery: %+v", i)
	}
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 5*mss})
	f.wantNothing(t)
	if i := f.c.Info(); i.InRecovery || i.Cwnd != 2*mss {
		t.Fatalf("after the full ACK: cwnd %d, in recovery %v", i.Cwnd, i.InRecovery)
	}
	if s := f.c.Stats(); s.FastRecoveries != 1 || s.Retransmits != 1 || s.Timeouts != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// RFC 6582 §3.2 (4): on a partial acknowledgment, "retransmit the first
// unacknowledged segment".
func TestNewRenoPartialACK(t *testing.T) {
	cfg := modernCfg()
	cfg.NoSACK, cfg.Congestion = true, "newreno"
	f := newModern(t, cfg, false)
	f.send(t, ms(500), seg{Flags: wire.ACK, Seq: 1, Ack: 1}) // window update
	d := data('p', 6*mss)
	f.write(t, sec(1), d)
	f.output(t)
	for k := range 3 {
		f.send(t, ms(1100+int64(k)), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
	}
	f.want(t, "fast retransmit", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: d[:mss], Rtx: true})
	// Segments 1 and 3 were lost: the retransmission brings the ACK up to
	// segment 3 only.
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss})
	f.want(t, "the next hole", seg{Flags: wire.ACK, Seq: 1 + 2*mss, Ack: 1, Win: 32768, Data: d[2*mss : 3*mss], Rtx: true})
	if !f.c.Info().InRecovery {
		t.Fatal("a partial ACK ended recovery")
	}
}

// RFC 6675 §4: "pipe: A sender's estimate of the number of bytes
// outstanding in the network" — SACKed bytes have left it, bytes deemed
// lost too, and a retransmission is back in it. With three segments SACKed
// above a hole, RACK's reordering window is zero (RFC 8985 §6.2: "Else if
// RACK.segs_sacked >= DupThresh: Return 0"), so the hole is lost at once.
func TestSACKRecoveryPipe(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	d := data('s', 5*mss)
	f.write(t, sec(1), d)
	f.output(t)
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + mss, 1 + 4*mss}})
	f.want(t, "the hole retransmitted", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: d[:mss], Rtx: true})
	i := f.c.Info()
	// Five segments out, three SACKed, one lost and retransmitted, one
	// (the last) not yet known: pipe is two segments.
	if !i.InRecovery || i.SackedBytes != 3*mss || i.LostBytes != mss || i.Pipe != 2*mss {
		t.Fatalf("scoreboard: %+v", i)
	}
	// CUBIC's multiplicative decrease (RFC 9438 §4.6): ssthresh = flight * 0.7.
	if i.Ssthresh != 5*mss*7/10 {
		t.Fatalf("ssthresh %d, want %d", i.Ssthresh, 5*mss*7/10)
	}
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 5*mss})
	if i := f.c.Info(); i.InRecovery || i.Pipe != 0 || i.SackedBytes != 0 || i.LostBytes != 0 {
		t.Fatalf("after recovery: %+v", i)
	}
}

// RFC 8985 §6.2: a segment is lost when "RACK.xmit_ts >= Segment.xmit_ts
// AND RACK.xmit_ts - Segment.xmit_ts + RACK.rtt ... >= reo_wnd"; otherwise
// the reordering timer waits for the rest of the window. Before reordering
// is seen and with fewer than DupThresh segments SACKed, reo_wnd is
// min_RTT/4 = 25 ms.
func TestRACKReorderingWindow(t *testing.T) {
	// The ISNs in the upper half of the sequence space catch marks that
	// start at zero instead of the ISS (RACK.fack at zero made every
	// delivery look reordered there).
	for _, isn := range []isnPair{plainISNs, {"ISS=2^31+1000,IRS=2^31+5000", 1<<31 + 1000, 1<<31 + 5000}} {
		setup := func(t *testing.T) (*fixture, []byte) {
			f := newModern(t, modernCfg(), true, withISNs(isn))
			d := data('k', 3*mss)
			f.write(t, sec(1), d)
			f.output(t)
			f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, SACK: []uint32{1 + mss, 1 + 2*mss}})
			f.wantNothing(t)
			f.wantDeadline(t, ms(1125))
			if f.c.reorderingSeen {
				t.Fatal("RACK.reordering_seen set by an in-order SACK")
			}
			return f, d
		}
		t.Run(isn.name+"/reordered", func(t *testing.T) {
			f, _ := setup(t)
			f.send(t, ms(1110), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss})
			f.wantNothing(t)
			if s := f.c.Stats(); s.Retransmits != 0 || s.FastRecoveries != 0 {
				t.Fatalf("reordering taken for loss: %+v", s)
			}
			if !f.c.reorderingSeen {
				t.Fatal("RACK.reordering_seen not set")
			}
		})
		t.Run(isn.name+"/lost", func(t *testing.T) {
			f, d := setup(t)
			f.advance(t, ms(1125))
			f.want(t, "lost once the window passed", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: d[:mss], Rtx: true})
		})
	}
}

// The tail loss probe, RFC 8985 §7: two segments go unacknowledged, the PTO
// fires, the last segment is sent again as the probe, and the ACK that
// covers it tells whether the probe repaired a loss (a congestion event) or
// was spurious (a D-SACK: none).
func TestTailLossProbe(t *testing.T) {
	setup := func(t *testing.T) (*fixture, []byte) {
		f := newModern(t, modernCfg(), true)
		// The handshake's sample: SRTT 100 ms, RTTVAR 50 ms, and RTO =
		// SRTT + max(4·RTTVAR, MinRTO) = 300 ms (sampleRTT).
		f.wantRTT(t, 100*time.Millisecond, 50*time.Millisecond, 300*time.Millisecond)
		d := data('t', 2*mss)
		f.write(t, sec(1), d)
		f.want(t, "two segments",
			seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: d[:mss]},
			seg{Flags: wire.PSH | wire.ACK, Seq: 1 + mss, Ack: 1, Win: 32768, Data: d[mss:]})
		// §7.2: "If SRTT is available: PTO = 2 * SRTT" (FlightSize is two
		// segments, so no TLP.max_ack_delay is added), before the RTO at
		// 1.3 s.
		f.wantDeadline(t, ms(1200))
		f.advance(t, ms(1200))
		// §7.3: "If such an unsent segment is not available, then the sender
		// SHOULD retransmit the highest-sequence segment sent so far and set
		// TLP.is_retrans to true."
		f.want(t, "the probe", seg{Flags: wire.PSH | wire.ACK, Seq: 1 + mss, Ack: 1, Win: 32768, Data: d[mss:], Rtx: true})
		if s := f.c.Stats(); s.TLPs != 1 || s.Retransmits != 1 {
			t.Fatalf("after the probe: TLPs %d, Retransmits %d", s.TLPs, s.Retransmits)
		}
		// §7.3: "After attempting to send a loss probe, regardless of
		// whether a loss probe was sent, the sender MUST re-arm the RTO
		// timer, not the PTO timer, if the FlightSize is not zero": "Rearm
		// RTO timer to fire at timeout = now + RTO", 1.2 s + 300 ms.
		f.wantDeadline(t, ms(1500))
		return f, d
	}
	t.Run("repaired", func(t *testing.T) {
		f, _ := setup(t)
		more := data('u', mss)
		f.write(t, ms(1250), more)
		f.want(t, "new data after the probe", seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 2*mss, Ack: 1, Win: 32768, Data: more})
		if i := f.c.Info(); i.Ssthresh != cc.NoThreshold {
			t.Fatalf("ssthresh %d before the probe's ACK", i.Ssthresh)
		}
		// §7.4.2: "Upon receiving an ACK that covers some sequence number
		// after TLP.end_seq ... if the TLP.end_seq is still set and thus
		// indicates that the TLP probe retransmission remains
		// unacknowledged, then the sender should presume that at least
		// one of its data segments was lost. The sender then SHOULD invoke
		// a congestion control response equivalent to a fast recovery."
		f.send(t, ms(1300), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 3*mss})
		f.wantNothing(t)
		// CUBIC's multiplicative decrease (RFC 9438 §4.6) of the three
		// segments in flight: ssthresh = 3*SMSS * 0.7, and the window cut
		// below the initial ten segments (the ACK, with nothing left in
		// flight, ends that recovery at once and slow-starts from there).
		if i := f.c.Info(); i.Ssthresh != 3*mss*7/10 || i.Cwnd >= 10*mss || i.InRecovery {
			t.Fatalf("after the ACK beyond TLP.end_seq: ssthresh %d (want %d), cwnd %d (want below %d), in recovery %v",
				i.Ssthresh, 3*mss*7/10, i.Cwnd, 10*mss, i.InRecovery)
		}
		f.wantDeadline(t, clock.Never)
	})
	t.Run("spurious", func(t *testing.T) {
		f, _ := setup(t)
		// §7.4.2: "If the TLP retransmission is spurious, a receiver that
		// uses DSACK would return an ACK that covers TLP.end_seq with a
		// DSACK option (Case 1). ... The sender considers the TLP episode
		// to be done": no congestion response.
		f.send(t, ms(1300), seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, SACK: []uint32{1 + mss, 1 + 2*mss}})
		f.wantNothing(t)
		if s, i := f.c.Stats(), f.c.Info(); s.DSACKsIn != 1 || i.Ssthresh != cc.NoThreshold || i.Cwnd < 10*mss || s.FastRecoveries != 0 {
			t.Fatalf("after the D-SACK of the probe: DSACKsIn %d, ssthresh %d, cwnd %d, FastRecoveries %d; want 1, no threshold, at least the initial window, 0",
				s.DSACKsIn, i.Ssthresh, i.Cwnd, s.FastRecoveries)
		}
		// The episode is done (TLP.end_seq is None again), so new data arms
		// a PTO (§7.2): 2*SRTT, SRTT still 100 ms (the ACK echoed the
		// probe's timestamp, a sample of 100 ms), before the RTO at 1.61 s.
		more := data('u', 2*mss)
		f.write(t, ms(1310), more)
		f.want(t, "new data",
			seg{Flags: wire.ACK, Seq: 1 + 2*mss, Ack: 1, Win: 32768, Data: more[:mss]},
			seg{Flags: wire.PSH | wire.ACK, Seq: 1 + 3*mss, Ack: 1, Win: 32768, Data: more[mss:]})
		f.wantDeadline(t, ms(1510))
	})
}

// RFC 7323 §5.3 R1: "If there is a Timestamps option in the arriving
// segment, SEG.TSval < TS.Recent, TS.Recent is valid ..., and if the RST
// bit is not set, then treat the arriving segment as not acceptable: Send
// an acknowledgment in reply ... and drop the segment." §3.2: "If a
// non-<RST> segment is received without a TSopt, a TCP SHOULD silently drop
// the segment."
func TestPAWS(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	old := wire.Options{HasTimestamps: true, TSVal: f.peerRecent - 1, TSEcr: f.lastOurTS}
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("old"), Opt: old})
	f.want(t, "ACK for the PAWS drop", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: 32768})
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("nots"), NoTS: true})
	f.wantNothing(t)
	if s := f.c.Stats(); s.PAWSDrops != 1 || s.BytesIn != 0 || f.c.Readable() != 0 {
		t.Fatalf("stats %+v", s)
	}
	f.send(t, ms(1200), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("new")})
	f.advance(t, ms(1240))
	// 65533 free bytes >> 1 would pull the advertised right edge back by a
	// byte; it is rounded up instead (RFC 7323 §2.4).
	f.want(t, "the fresh segment is taken", seg{Flags: wire.ACK, Seq: 1, Ack: 4, Win: (65536-3)/2 + 1})
}

// RFC 9293 §3.8.4: keep-alive probes are sent only when idle, and "an
// unresponsive peer" lets the connection be dropped; RFC 1122 §4.2.3.6:
// the probe is a segment with "SEG.SEQ = SND.NXT-1" and no data.
func TestKeepAlive(t *testing.T) {
	cfg := modernCfg()
	cfg.KeepAliveIdle, cfg.KeepAliveInterval, cfg.KeepAliveCount = 10*time.Second, time.Second, 2
	t.Run("unanswered", func(t *testing.T) {
		f := newModern(t, cfg, true)
		f.wantDeadline(t, ms(10100))
		f.advance(t, ms(10100))
		f.want(t, "first probe", seg{Flags: wire.ACK, Seq: 0, Ack: 1, Win: 32768})
		f.advance(t, ms(11100))
		f.want(t, "second probe", seg{Flags: wire.ACK, Seq: 0, Ack: 1, Win: 32768})
		f.advance(t, ms(12100))
		f.wantNothing(t) // dropped silently by default
		f.wantEnded(t, ErrTimeout)
	})
	t.Run("unanswered, KeepAliveReset", func(t *testing.T) {
		cfg := cfg
		cfg.KeepAliveReset = true
		f := newModern(t, cfg, true)
		for _, at := range []int64{10100, 11100} {
			f.advance(t, ms(at))
			f.want(t, "probe", seg{Flags: wire.ACK, Seq: 0, Ack: 1, Win: 32768})
		}
		f.advance(t, ms(12100))
		// The connection is dropped with a reset, as Linux
		// (tcp_keepalive_timer: tcp_send_active_reset) and the BSDs
		// (tcp_drop) send it, so that a peer that is there after all
		// learns of it: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> (RFC
		// 9293 §3.10.5's form of the reset an abort sends), with the
		// Timestamps option (RFC 7323 §5.2's RST of a user abort).
		f.want(t, "reset", seg{Flags: wire.RST | wire.ACK, Seq: 1, Ack: 1,
			Opt: wire.Options{HasTimestamps: true, TSVal: f.ourTS(ms(12100)), TSEcr: f.peerRecent}})
		f.wantEnded(t, ErrTimeout)
	})
	t.Run("answered", func(t *testing.T) {
		f := newModern(t, cfg, true)
		f.advance(t, ms(10100))
		f.want(t, "probe", seg{Flags: wire.ACK, Seq: 0, Ack: 1, Win: 32768})
		f.send(t, ms(10150), seg{Flags: wire.ACK, Seq: 1, Ack: 1})
		f.advance(t, ms(11100)) // the interval timer finds the peer alive
		f.wantNothing(t)
		f.wantDeadline(t, ms(20150))
		if s := f.c.Stats(); s.KeepAlives != 1 {
			t.Fatalf("KeepAlives %d", s.KeepAlives)
		}
	})
}

// RFC 5482 §1: the user timeout "controls how long transmitted data may
// remain unacknowledged before a connection is dropped". The retransmission
// timer is cut short to fire when it expires.
func TestUserTimeout(t *testing.T) {
	cfg := modernCfg()
	cfg.UserTimeout, cfg.NoSACK = time.Second, true // no TLP
	f := newModern(t, cfg, false)
	d := data('u', 100)
	f.write(t, sec(1), d)
	first := seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Win: 32768, Data: d}
	f.want(t, "data", first)
	rtx := first
	rtx.Rtx = true
	f.advance(t, ms(1300))
	f.want(t, "first retransmission", rtx)
	f.advance(t, ms(1900))
	f.want(t, "second retransmission", rtx)
	f.wantDeadline(t, ms(2000)) // not 3.1 s: the user timeout
	f.advance(t, ms(2000))
	f.wantEnded(t, ErrTimeout)
}

// Receive-buffer autotuning: a reader that drains a full window each round
// trip lets the buffer (and so the window offered) double, up to
// RecvBufferMax.
func TestReceiveAutotuning(t *testing.T) {
	cfg := Config{RecvBuffer: 16384, RecvBufferMax: 1 << 20, DelayedACK: -1}
	f := newModern(t, cfg, true)
	now := sec(1)
	off := 1
	for round := range 4 {
		for k := 0; k*mss < f.c.RecvBuffer()/2+mss; k++ {
			f.send(t, now, seg{Flags: wire.ACK, Seq: uint32(off), Ack: 1, Data: data(byte(round), mss)})
			off += mss
			f.output(t)
			f.read(t, now, 1<<20)
		}
		now = now.Add(150 * time.Millisecond)
	}
	if got := f.c.RecvBuffer(); got <= 16384 || got > 1<<20 {
		t.Fatalf("RecvBuffer after four busy round trips = %d", got)
	}
}

// RFC 5681 §4.2: "A TCP receiver SHOULD send an immediate duplicate ACK
// when an out-of-order segment arrives" — one for each, even when several
// arrive before the connection next sends, since a sender without SACK
// counts them (§3.2). And §2 (e) counts an ACK as a duplicate only if "the
// advertised window in the incoming acknowledgment equals the advertised
// window in the last incoming acknowledgment": while a hole is open, a read
// does not move the window of those duplicates.
func TestDuplicateACKPerOutOfOrderSegment(t *testing.T) {
	cfg := modernCfg()
	cfg.NoSACK = true
	f := newModern(t, cfg, false)
	in := data('o', 5*mss)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: in[:mss]})
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1 + mss, Ack: 1, Data: in[mss : 2*mss]})
	win := (65536 - 2*mss) / 2
	f.want(t, "ACK of two segments", seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, Win: win})
	f.wantRead(t, ms(1001), in[:2*mss])
	// Segment 3 is lost; 4 and 5 arrive together.
	f.send(t, ms(1010), seg{Flags: wire.ACK, Seq: 1 + 3*mss, Ack: 1, Data: in[3*mss : 4*mss]})
	f.send(t, ms(1010), seg{Flags: wire.ACK, Seq: 1 + 4*mss, Ack: 1, Data: in[4*mss:]})
	dup := seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, Win: win}
	f.want(t, "a duplicate ACK for each, with the window unchanged", dup, dup)
}

// SetQuickACK is TCP_QUICKACK: on, a delayed ACK that is due goes at once
// (RFC 9293 §3.8.6.3 bounds the delay, "the delay MUST be less than 0.5
// seconds", and leaves it to the implementation below that; Linux's
// TCP_QUICKACK sends the pending ACK); off, the connection leaves its
// quick-ACK mode and delays the ACK of the next segment (Linux's
// pingpong mode).
func TestSetQuickACK(t *testing.T) {
	f := newModern(t, modernCfg(), true)
	d := data('q', 100)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
	f.wantNothing(t) // delayed
	f.setTime(t, ms(1010))
	f.c.SetQuickACK(true)
	f.want(t, "the pending ACK at once", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2})
	f.wantNothing(t)

	cfg := modernCfg()
	cfg.QuickACKs = 16
	g := newModern(t, cfg, true)
	g.setTime(t, sec(1))
	g.c.SetQuickACK(false)
	g.send(t, ms(1010), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d})
	g.wantNothing(t) // not a quick ACK: delayed
	g.wantDeadline(t, ms(1050))
	// On again: the pending ACK goes, and quick ACKs resume.
	g.setTime(t, ms(1020))
	g.c.SetQuickACK(true)
	g.want(t, "the pending ACK at once", seg{Flags: wire.ACK, Seq: 1, Ack: 101, Win: (65536 - 100) / 2})
	g.send(t, ms(1030), seg{Flags: wire.ACK, Seq: 101, Ack: 1, Data: d})
	g.want(t, "a quick ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 201, Win: (65536 - 200) / 2})
}

// Autotuning stops 2^Rcv.Wind.Shift - 1 bytes short of RecvBufferMax:
// advertise rounds a scaled window up rather than pull the advertised
// edge back (RFC 7323 §2.4), so the peer may send that much beyond the
// buffer, and a full window must still fit the ring RecvBufferMax takes
// (it took one twice as large: 8 MiB for a 4 MiB buffer). Here 256 KiB,
// window scale 3.
func TestAutotuneLeavesRoomForRounding(t *testing.T) {
	cfg := Config{RecvBuffer: 16384, RecvBufferMax: 1 << 18, DelayedACK: -1}
	f := newModern(t, cfg, true)
	now := sec(1)
	off := 1
	for round := 0; round < 12 && f.c.RecvBuffer() < 1<<17; round++ {
		for k := 0; k*mss < f.c.RecvBuffer()/2+mss; k++ {
			f.send(t, now, seg{Flags: wire.ACK, Seq: uint32(off), Ack: 1, Data: data(byte(round), mss)})
			off += mss
			f.output(t)
			f.read(t, now, 1<<18)
		}
		now = now.Add(150 * time.Millisecond)
	}
	for range 2 { // two more busy round trips: the last doubling
		for k := 0; k*mss < 1<<17+mss; k++ {
			f.send(t, now, seg{Flags: wire.ACK, Seq: uint32(off), Ack: 1, Data: data('z', mss)})
			off += mss
			f.output(t)
			f.read(t, now, 1<<18)
		}
		now = now.Add(150 * time.Millisecond)
	}
	shift := f.c.Info().RcvWScale
	if want := 1<<18 - (1<<shift - 1); f.c.RecvBuffer() != want {
		t.Fatalf("RecvBuffer %d after autotuning with window scale %d, want %d", f.c.RecvBuffer(), shift, want)
	}
	// The peer fills the window the last ACK offered, rounded up, and
	// nothing is read.
	f.send(t, now, seg{Flags: wire.ACK, Seq: uint32(off), Ack: 1, Data: data('y', 1)})
	off++
	f.output(t)
	edge := int(f.c.rcvAdvRight.Size(f.c.rcvNxt))
	for edge > 0 {
		n := min(edge, mss)
		f.send(t, now, seg{Flags: wire.ACK, Seq: uint32(off), Ack: 1, Data: data('w', n)})
		off += n
		edge -= n
	}
	f.output(t)
	if got := len(f.c.rcv.mem); got > 1<<18 {
		t.Fatalf("a full window took a ring of %d bytes, above RecvBufferMax %d", got, 1<<18)
	}
}

// RFC 7323 §2.4: when RCV.NXT moves by less than the scale's unit, "the
// TCP will have to either advertise a new window that is beyond what it
// previously advertised (and perhaps beyond the buffer) or will have to
// advertise a smaller window, which will cause the TCP window to
// shrink". A 64 KiB buffer at scale 1, nothing read: after 3 bytes the
// edge is rounded up to one byte past the buffer (65537 bytes past the
// unread data), as before; after 3 more, rounding up again would creep
// a further byte, beyond the buffer's 64 KiB ring by more than the unit,
// so the field is rounded down (the window shrinks by a byte), and rule
// 1, "The receiver MUST honor, as in window, any segment that would have
// been in window for any <ACK> sent by the receiver", still takes data up
// to the edge advertised before.
func TestWindowRoundingDoesNotCreep(t *testing.T) {
	cfg := modernCfg()
	cfg.DelayedACK = -1
	f := newModern(t, cfg, true)
	f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: []byte("abc")})
	f.want(t, "rounded up: the edge one byte past the buffer", seg{Flags: wire.ACK, Seq: 1, Ack: 4, Win: (65536-3)/2 + 1})
	f.send(t, ms(1001), seg{Flags: wire.ACK, Seq: 4, Ack: 1, Data: []byte("def")})
	f.want(t, "rounded down: no further creep", seg{Flags: wire.ACK, Seq: 1, Ack: 7, Win: (65536 - 6) / 2})
	f.send(t, ms(1002), seg{Flags: wire.ACK, Seq: 7, Ack: 1, Data: data('e', 65538-7)})
	f.want(t, "the edge advertised before honoured", seg{Flags: wire.ACK, Seq: 1, Ack: 65538, Win: zeroWin})
	if got := len(f.c.rcv.mem); got > 1<<17 {
		t.Fatalf("ring of %d bytes", got)
	}
}
