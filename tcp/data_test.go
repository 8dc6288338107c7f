package tcp

// Data transfer: in-order delivery with cumulative ACKs, the receive window
// and its updates (receiver SWS avoidance), a full receive buffer.

import (
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// §3.10.7.4 seventh: "Once the TCP endpoint takes responsibility for the
// data, it advances RCV.NXT over the data accepted ... Send an
// acknowledgment of the form: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>". These
// fixtures turn delayed ACKs off, so every segment is acknowledged at once.
func TestInOrderTransfer(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		f := newEstablished(t, isn)
		in := data('i', 3000)
		for k := range 3 {
			lo, hi := 1000*k, 1000*(k+1)
			f.send(t, ms(1000+10*int64(k)), seg{Flags: wire.PSH | wire.ACK, Seq: uint32(1 + lo), Ack: 1, Data: in[lo:hi]})
			f.want(t, "cumulative ACK", seg{Flags: wire.ACK, Seq: 1, Ack: uint32(1 + hi), Win: defWin - hi})
		}
		// A segment beyond RCV.NXT is held for reassembly, and a duplicate
		// ACK says what is expected (RFC 5681 §4.2).
		f.send(t, ms(1030), seg{Flags: wire.PSH | wire.ACK, Seq: 4001 + 1000, Ack: 1, Data: data('?', 100)})
		f.want(t, "duplicate ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: defWin - 3000})
		// A retransmission of data already taken is acknowledged again.
		f.send(t, ms(1040), seg{Flags: wire.PSH | wire.ACK, Seq: 2001, Ack: 1, Data: in[2000:]})
		f.want(t, "duplicate ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: defWin - 3000})
		f.wantRead(t, ms(1050), in)
		if f.c.Readable() != 0 {
			t.Fatalf("Readable = %d after reading everything", f.c.Readable())
		}
		// The window offered (62535) is more than half the buffer: no pure
		// window update for the read (as Linux's tcp_cleanup_rbuf, see
		// Conn.Read). And while the hole before the held segment is open,
		// the edge stays put (no SACK here: see Conn.advertise).
		f.wantNothing(t)

		// Our side: 3000 bytes in MSS-sized segments, PSH on the last.
		out := data('o', 3000)
		f.write(t, sec(2), out)
		f.want(t, "three segments",
			seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: defWin - 3000, Data: out[:1460]},
			seg{Flags: wire.ACK, Seq: 1461, Ack: 3001, Win: defWin - 3000, Data: out[1460:2920]},
			seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 3001, Win: defWin - 3000, Data: out[2920:]})
		f.wantDeadline(t, ms(2300))
		// "If SND.UNA < SEG.ACK =< SND.NXT, then set SND.UNA <- SEG.ACK. Any
		// segments on the retransmission queue that are thereby entirely
		// acknowledged are removed."
		f.send(t, ms(2100), seg{Flags: wire.ACK, Seq: 3001, Ack: 2921})
		f.wantNothing(t)
		if i := f.c.Info(); i.Unacked != 80 || i.Unsent != 0 || i.SndUna != f.isn.local.Add(2921) {
			t.Fatalf("after a partial ACK: %+v", i)
		}
		f.wantDeadline(t, ms(2100).Add(f.c.Info().RTO)) // (5.3) restarted
		f.send(t, ms(2200), seg{Flags: wire.ACK, Seq: 3001, Ack: 3001})
		f.wantNothing(t)
		f.wantDeadline(t, clock.Never)
		if i := f.c.Info(); i.Unacked != 0 || i.SndUna != f.isn.local.Add(3001) || i.SndNxt != i.SndUna {
			t.Fatalf("after the final ACK: %+v", i)
		}
		if s := f.c.Stats(); s.BytesIn != 3000 || s.BytesOut != 3000 || s.Retransmits != 0 {
			t.Fatalf("stats: %+v", s)
		}
	})
}

// A send buffer holds at most SendBuffer bytes; the rest is refused until
// acknowledgments free room.
func TestSendBufferBound(t *testing.T) {
	f := newEstablished(t, withConfig(Config{SendBuffer: 1000, SendBufferMax: 1000}))
	f.setTime(t, sec(1))
	n, err := f.c.Write(f.now, data('b', 1500))
	if n != 1000 || err != nil || f.c.SendSpace() != 0 {
		t.Fatalf("Write(1500) = %d, %v; SendSpace %d", n, err, f.c.SendSpace())
	}
	f.want(t, "what fitted", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('b', 1000)})
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 401})
	if got := f.c.SendSpace(); got != 400 {
		t.Fatalf("SendSpace after 400 acked = %d", got)
	}
}

// Send-buffer autotuning (Linux's tcp_sndbuf_expand; the RFCs leave buffer
// sizes to the implementation): the buffer is twice the congestion window,
// at least SendBuffer and at most SendBufferMax, so a writer can keep the
// window full; SetSendBuffer fixes it, as SO_SNDBUF does.
func TestSendBufferAutotune(t *testing.T) {
	f := newEstablished(t, withConfig(Config{SendBuffer: 4000, SendBufferMax: 1 << 20}))
	f.setTime(t, sec(1))
	want := 2 * f.c.Info().Cwnd
	if want <= 4000 {
		t.Fatalf("initial window %d: the test needs twice it above SendBuffer", want/2)
	}
	if n, err := f.c.Write(f.now, data('a', 100000)); n != want || err != nil {
		t.Fatalf("Write(100000) = %d, %v; want twice the congestion window, %d", n, err, want)
	}
	if s := f.c.SendBuffer(); s != want {
		t.Fatalf("SendBuffer() = %d, want %d", s, want)
	}
	f.c.SetSendBuffer(4000)
	if s, sp := f.c.SendBuffer(), f.c.SendSpace(); s != 4000 || sp != 0 {
		t.Fatalf("after SetSendBuffer(4000): SendBuffer() = %d, SendSpace() = %d; want 4000, 0", s, sp)
	}

	g := newEstablished(t, withConfig(Config{SendBuffer: 4000, SendBufferMax: 4000}))
	g.setTime(t, sec(1))
	if n, err := g.c.Write(g.now, data('a', 100000)); n != 4000 || err != nil {
		t.Fatalf("SendBufferMax = SendBuffer: Write(100000) = %d, %v; want 4000", n, err)
	}
}

// Data written in SYN-SENT goes with the ACK that completes the handshake:
// §3.10.7.3 "Data or controls that were queued for transmission MAY be
// included."
func TestWriteInSynSent(t *testing.T) {
	f := newSynSent(t)
	f.write(t, ms(50), []byte("early"))
	f.wantNothing(t)
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.want(t, "data carries the ACK", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("early")})
}

// §3.8.6.2.2 (receiver's SWS avoidance): the right edge of the offered
// window moves only when it can move by min(RCV.BUFF/2, MSS) or more, and
// "the total of RCV.NXT and RCV.WND should not be reduced".
func TestReceiveWindowUpdateSWS(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		// RecvBuffer 4000, MSS 1460: the threshold is 1460.
		f := newEstablished(t, isn, withConfig(Config{RecvBuffer: 4000}))
		f.send(t, sec(1), seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: data('a', 1000)})
		f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1001, Win: 3000})
		f.wantRead(t, ms(1100), data('a', 1000)[:500])
		f.wantNothing(t) // the edge could move 500 < 1460
		f.wantRead(t, ms(1200), data('a', 1000)[500:])
		f.wantNothing(t) // 1000 < 1460
		f.send(t, ms(1300), seg{Flags: wire.PSH | wire.ACK, Seq: 1001, Ack: 1, Data: data('b', 1000)})
		// 3000 bytes are free, but offering them moves the edge by only
		// 1000: the edge stays at 4001, a window of 2000.
		f.want(t, "ACK keeps the right edge", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: 2000})
		f.wantRead(t, ms(1400), data('b', 1000))
		f.want(t, "window update: the edge moves by 2000", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: 4000})
		f.wantNothing(t)
	})
}

// A full receive buffer offers a zero window; the peer's probes get ACKs
// with the zero window (§3.10.7.4: "If the RCV.WND is zero, no segments will
// be acceptable, but special allowance should be made to accept valid ACKs,
// URGs, and RSTs"; and "If an incoming segment is not acceptable, an
// acknowledgment should be sent in reply").
func TestZeroReceiveWindow(t *testing.T) {
	forISNs(t, func(t *testing.T, isn option) {
		// RecvBuffer 2000: the SWS threshold is 1000.
		f := newEstablished(t, isn, withConfig(Config{RecvBuffer: 2000}))
		in := data('z', 2000)
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: in[:1460]})
		f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1461, Win: 540})
		f.send(t, ms(1010), seg{Flags: wire.PSH | wire.ACK, Seq: 1461, Ack: 1, Data: in[1460:]})
		f.want(t, "zero window", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: zeroWin})
		// A probe with one byte of new data (BSD style) is not taken.
		f.send(t, ms(1500), seg{Flags: wire.ACK, Seq: 2001, Ack: 1, Data: []byte("!")})
		f.want(t, "ACK with the zero window", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: zeroWin})
		// A probe at RCV.NXT-1 without data (Linux style).
		f.send(t, ms(1600), seg{Flags: wire.ACK, Seq: 2000, Ack: 1})
		f.want(t, "ACK with the zero window", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: zeroWin})
		// An ACK at RCV.NXT is acceptable and needs no reply.
		f.send(t, ms(1700), seg{Flags: wire.ACK, Seq: 2001, Ack: 1})
		f.wantNothing(t)
		if f.c.Readable() != 2000 {
			t.Fatalf("Readable = %d, want 2000", f.c.Readable())
		}
		f.wantRead(t, sec(2), in[:999])
		f.wantNothing(t) // 999 < 1000
		f.wantRead(t, sec(2), in[999:1000])
		f.want(t, "window update", seg{Flags: wire.ACK, Seq: 1, Ack: 2001, Win: 1000})
		f.send(t, ms(2100), seg{Flags: wire.PSH | wire.ACK, Seq: 2001, Ack: 1, Data: data('y', 1000)})
		f.want(t, "zero window again", seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: zeroWin})
		// More than the window: only what fits is taken.
		f.wantRead(t, ms(2200), append(in[1000:], data('y', 1000)[:500]...))
		f.want(t, "window update", seg{Flags: wire.ACK, Seq: 1, Ack: 3001, Win: 1500})
		f.send(t, ms(2300), seg{Flags: wire.PSH | wire.ACK, Seq: 3001, Ack: 1, Data: data('x', 1600)})
		f.want(t, "1500 taken", seg{Flags: wire.ACK, Seq: 1, Ack: 4501, Win: zeroWin})
	})
}

// §3.7.1: "If an MSS Option is not received at connection setup, TCP
// implementations MUST assume a default send MSS of 536 (576 - 40) for
// IPv4". The send MSS is also capped by our own (Config.MSS).
func TestSendMSS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		peerMSS uint16
		cfg     Config
		want    int
	}{
		{"no option", 0, Config{}, 536},
		{"peer's", 1000, Config{}, 1000},
		{"capped by ours", 9000, Config{MSS: 1200}, 1200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(true, []option{withConfig(tc.cfg)})
			f.want(t, "SYN", seg{Flags: wire.SYN, MSS: f.c.pol.cfg.MSS})
			f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: tc.peerMSS})
			f.want(t, "ACK", seg{Flags: wire.ACK, Seq: 1, Ack: 1})
			d := data('m', tc.want+10)
			f.write(t, sec(1), d)
			f.want(t, "one full segment and the rest",
				seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:tc.want]},
				seg{Flags: wire.PSH | wire.ACK, Seq: uint32(1 + tc.want), Ack: 1, Data: d[tc.want:]})
		})
	}
}

// RFC 6928: an initial window of min(10·MSS, max(2·MSS, 14600)) = 14600
// bytes for MSS 1460; RFC 5681 §3.1 slow start then grows cwnd by
// "min (N, SMSS)" per ACK (equation 2), where RFC 3465 §2.2 lets an ACK of
// two segments count both ("MUST NOT use L > 2*SMSS bytes"): synack's
// default L is 2, Config.SlowStartLimit 1 is RFC 5681's own rule.
func TestInitialWindowAndSlowStart(t *testing.T) {
	for _, l := range []int{0, 1} {
		f := newEstablished(t, withConfig(Config{SlowStartLimit: l}))
		d := data('c', 20000)
		f.write(t, sec(1), d)
		var first []seg
		for i := range 10 {
			first = append(first, seg{Flags: wire.ACK, Seq: uint32(1 + 1460*i), Ack: 1, Data: d[1460*i : 1460*(i+1)]})
		}
		f.want(t, "ten segments: the initial window", first...)
		f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 2921})
		if l == 1 {
			// One ACK of two segments: cwnd 14600 + min(2920, 1460) =
			// 16060, with 11680 in flight: three more segments.
			f.want(t, "L=1: cwnd grew by one MSS",
				seg{Flags: wire.ACK, Seq: 14601, Ack: 1, Data: d[14600:16060]},
				seg{Flags: wire.ACK, Seq: 16061, Ack: 1, Data: d[16060:17520]},
				seg{Flags: wire.ACK, Seq: 17521, Ack: 1, Data: d[17520:18980]})
			if in := f.c.Info(); in.Cwnd != 16060 || in.Unsent != 1020 {
				t.Fatalf("L=1: cwnd %d, unsent %d", in.Cwnd, in.Unsent)
			}
			continue
		}
		// L=2: cwnd 14600 + min(2920, 2920) = 17520, with 11680 in
		// flight: 5840 bytes, the 5400 left.
		f.want(t, "L=2: cwnd grew by two MSS",
			seg{Flags: wire.ACK, Seq: 14601, Ack: 1, Data: d[14600:16060]},
			seg{Flags: wire.ACK, Seq: 16061, Ack: 1, Data: d[16060:17520]},
			seg{Flags: wire.ACK, Seq: 17521, Ack: 1, Data: d[17520:18980]},
			seg{Flags: wire.PSH | wire.ACK, Seq: 18981, Ack: 1, Data: d[18980:]})
		if in := f.c.Info(); in.Cwnd != 17520 || in.Unsent != 0 {
			t.Fatalf("L=2: cwnd %d, unsent %d", in.Cwnd, in.Unsent)
		}
	}
}
