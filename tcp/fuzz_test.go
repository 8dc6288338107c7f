package tcp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// FuzzConnInput drives a connection from every starting fixture through a
// fuzzer-chosen script of segments, user calls and time, and checks the
// invariants of the TCB after every step.
//
// Input layout: byte 0 picks the fixture, byte 1 the config and ISNs
// (bit 0: RecvBuffer 2000, bit 1: SendBuffer 3000, bit 2: ISNs near 2^32,
// bit 3: 2 challenge ACKs per second). Then ops, each one byte: its top
// three bits are milliseconds to let pass first (as 4·n), its low five bits
// the op:
//
//	0-15   a segment: flags, seq offset (int16), ack offset (int16),
//	       window byte (n·257), payload length byte (n·8); the op's bits
//	       say what the offsets count from (see segment)
//	16-19  jump to the next deadline and run HandleTimeout
//	20-21  let time pass: one byte, n² ms, running timers on the way
//	22-25  Write: one byte, n·16 bytes
//	26-28  Read: one byte, n·16 bytes (n = 0: PruneOutOfOrder(0))
//	29-30  Close
//	31     Abort
func FuzzConnInput(f *testing.F) {
	// seg: a segment at RCV.NXT+seqOff acknowledging SND.UNA+ackOff.
	seg := func(flags wire.Flags, seqOff, ackOff int16, win, plen byte) []byte {
		b := []byte{0, byte(flags)}
		b = binary.BigEndian.AppendUint16(b, uint16(seqOff))
		b = binary.BigEndian.AppendUint16(b, uint16(ackOff))
		return append(b, win, plen)
	}
	// ackAll: a segment at RCV.NXT+seqOff acknowledging SND.NXT.
	ackAll := func(flags wire.Flags, seqOff int16, win, plen byte) []byte {
		b := []byte{1, byte(flags)}
		b = binary.BigEndian.AppendUint16(b, uint16(seqOff))
		b = binary.BigEndian.AppendUint16(b, 0)
		return append(b, win, plen)
	}
	script := func(fixture, cfg byte, ops ...[]byte) []byte {
		b := []byte{fixture, cfg}
		for _, op := range ops {
			b = append(b, op...)
		}
		return b
	}
	const (
		fire  = 16
		write = 22
		read  = 26
		clos  = 29
		abort = 31
	)
	for i := range fixtures {
		fi := byte(i)
		f.Add(script(fi, 0))
		f.Add(script(fi, 0, []byte{fire}, []byte{fire}, []byte{fire}))
		f.Add(script(fi, 4, seg(wire.ACK|wire.PSH, 0, 0, 255, 10), []byte{write, 100}, seg(wire.ACK, 0, 0, 255, 0)))
		f.Add(script(fi, 1, seg(wire.ACK, 0, 0, 0, 200), seg(wire.ACK, 0, 0, 0, 200), []byte{read, 50}, []byte{fire}))
		f.Add(script(fi, 2, []byte{write, 255}, seg(wire.ACK, 0, 0, 0, 0), []byte{fire}, []byte{fire}, seg(wire.ACK, 0, 1460, 255, 0)))
		f.Add(script(fi, 8, seg(wire.RST, 1, 0, 0, 0), seg(wire.SYN, 0, 0, 0, 0), seg(wire.RST, 0, 0, 0, 0)))
		f.Add(script(fi, 0, seg(wire.FIN|wire.ACK, 0, 0, 255, 0), []byte{clos}, seg(wire.ACK, 0, 1, 255, 0), []byte{fire}))
		f.Add(script(fi, 0, []byte{write, 10}, []byte{clos}, seg(wire.FIN|wire.ACK, 0, 0, 255, 0), []byte{abort}))
		f.Add(script(fi, 0, seg(wire.SYN|wire.ACK, -1, 1, 255, 0), seg(wire.SYN, -1, 0, 255, 0), seg(wire.ACK, 0, 0, 255, 0)))
		f.Add(script(fi, 1, []byte{write, 200}, ackAll(wire.ACK|wire.PSH, 0, 4, 183), ackAll(wire.ACK|wire.PSH, 1464, 0, 100),
			[]byte{fire}, []byte{read, 100}, ackAll(wire.ACK, 0, 255, 0), []byte{fire}, []byte{read, 255}, []byte{clos},
			ackAll(wire.FIN|wire.ACK, 0, 255, 0), []byte{fire}))
		f.Add(script(fi, 6, []byte{write, 255}, []byte{write, 255}, ackAll(wire.ACK, 0, 255, 0), []byte{fire},
			seg(wire.ACK, 0, 1460, 255, 0), []byte{fire}, []byte{fire}, ackAll(wire.ACK, 0, 255, 0), []byte{clos}, []byte{fire}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		d := newFuzzDriver(t, b[0], b[1])
		r := byteReader(b[2:])
		for steps := 0; len(r) > 0 && steps < 500; steps++ {
			d.step(&r)
		}
	})
}

// peerByte and ourByte are the bytes at a position of each direction's
// stream, so that delivered and emitted data can be checked byte by byte.
func peerByte(pos uint32) byte { return byte(pos*7 + pos>>8) }
func ourByte(pos uint32) byte  { return byte(pos*13 + pos>>9 + 1) }

type byteReader []byte

func (r *byteReader) byte() byte {
	if len(*r) == 0 {
		return 0
	}
	v := (*r)[0]
	*r = (*r)[1:]
	return v
}

func (r *byteReader) int16() int16 { return int16(uint16(r.byte())<<8 | uint16(r.byte())) }

type fuzzDriver struct {
	t       *testing.T
	f       *fixture
	c       *Conn
	now     clock.Time
	done    bool
	right   seq.Value // right edge of the last window we offered
	rightOK bool
	// Bytes read by the user and written by the user, as stream positions.
	readPos, writePos uint32
	// RCV.NXT and SND.UNA never move back.
	lastRcvNxt, lastSndUna seq.Value
	lastSync               bool       // the last step ended in SYN-RECEIVED or later
	log                    []logEntry // what happened, printed on failure
}

func newFuzzDriver(t *testing.T, fixture, cfgBits byte) *fuzzDriver {
	var cfg Config
	if cfgBits&1 != 0 {
		cfg.RecvBuffer = 2000
	}
	if cfgBits&2 != 0 {
		cfg.SendBuffer, cfg.SendBufferMax = 3000, 3000
	}
	if cfgBits&8 != 0 {
		cfg.ChallengeACKs, cfg.ChallengeACKPeriod = 2, time.Second
	}
	isn := plainISNs
	if cfgBits&4 != 0 {
		isn = wrapISNs
	}
	fx := fixtures[int(fixture)%len(fixtures)]
	f := fx.build(t, withConfig(cfg), withISNs(isn))
	d := &fuzzDriver{t: t, f: f, c: f.c, now: f.now, lastRcvNxt: f.c.rcvNxt, lastSndUna: f.c.sndUna,
		lastSync: f.c.state.Synchronized() || f.c.state == SynReceived}
	d.logf("fixture %v, config %+v, ISNs %s", fx.state, cfg, isn.name)
	d.check("fixture", false)
	return d
}

// logf records a line of history, formatted only if the run fails.
func (d *fuzzDriver) logf(format string, args ...any) {
	d.log = append(d.log, logEntry{d.now, format, args})
}

type logEntry struct {
	at     clock.Time
	format string
	args   []any
}

// segLine prints a segment's canonical line when the history is printed.
type segLine struct {
	hdr wire.Segment // without payload
	n   int          // payload length
}

func lineOf(s *wire.Segment) segLine {
	h := *s
	h.Payload = nil
	return segLine{h, len(s.Payload)}
}

func (l segLine) String() string {
	s := l.hdr
	s.Payload = make([]byte, l.n)
	return s.String()
}

func (d *fuzzDriver) fail(format string, args ...any) {
	d.t.Helper()
	var b strings.Builder
	for _, e := range d.log {
		fmt.Fprintf(&b, "  %v "+e.format+"\n", append([]any{e.at}, e.args...)...)
	}
	d.t.Fatalf("%s\nhistory:\n%s", fmt.Sprintf(format, args...), b.String())
}

// runTimers moves time to to, running HandleTimeout (and Output) at every
// deadline on the way, as a driver's loop does.
func (d *fuzzDriver) runTimers(to clock.Time) {
	for i := 0; i < 64; i++ {
		dl := d.c.NextDeadline()
		if dl > to {
			break
		}
		d.now = dl
		d.logf("HandleTimeout")
		d.c.HandleTimeout(d.now)
		d.check("HandleTimeout", false)
	}
	if to > d.now {
		d.now = to
	}
}

func (d *fuzzDriver) step(r *byteReader) {
	op := r.byte()
	d.runTimers(d.now.Add(time.Duration(op>>5) * 4 * time.Millisecond))
	switch code := op & 31; {
	case code < 16:
		d.segment(r, code)
	case code < 20:
		if dl := d.c.NextDeadline(); dl != clock.Never {
			d.runTimers(dl)
		}
	case code < 22:
		n := time.Duration(r.byte())
		d.runTimers(d.now.Add(n * n * time.Millisecond))
	case code < 26:
		n := int(r.byte()) * 16
		p := make([]byte, n)
		for i := range p {
			p[i] = ourByte(d.writePos + uint32(i))
		}
		w, err := d.c.Write(d.now, p)
		d.writePos += uint32(max(w, 0))
		d.logf("Write(%d) = %d, %v", n, w, err)
		if w < 0 || w > n || (err != nil && w != 0) {
			d.fail("Write(%d) = %d, %v", n, w, err)
		}
		d.check("Write", false)
	case code < 29:
		n := int(r.byte()) * 16
		if n == 0 {
			// Read(0) reads nothing: memory pressure instead, which lets
			// go of the data held out of order.
			freed := d.c.PruneOutOfOrder(0)
			d.logf("PruneOutOfOrder(0) = %d", freed)
			if d.c.Info().OutOfOrder != 0 {
				d.fail("PruneOutOfOrder(0) left %d bytes held", d.c.Info().OutOfOrder)
			}
			d.check("PruneOutOfOrder", false)
			break
		}
		before := d.c.Readable()
		p := make([]byte, n)
		got := d.c.Read(d.now, p)
		d.logf("Read(%d) = %d", n, got)
		if got != min(n, before) {
			d.fail("Read(%d) = %d with %d readable", n, got, before)
		}
		if d.c.irs == d.f.isn.remote {
			for i, b := range p[:got] {
				if want := peerByte(d.readPos + uint32(i)); b != want {
					d.fail("Read: byte %d of the stream is %#x, the peer sent %#x", d.readPos+uint32(i), b, want)
				}
			}
		}
		d.readPos += uint32(got)
		d.check("Read", false)
	case code < 31:
		err := d.c.Close(d.now)
		d.logf("Close = %v", err)
		d.check("Close", false)
	default:
		d.logf("Abort")
		d.c.Abort(d.now)
		d.check("Abort", false)
		if !d.c.Done() || d.c.State() != Closed {
			d.fail("after Abort: state %v, Done %v", d.c.State(), d.c.Done())
		}
	}
}

// segment sends one segment. The op code picks what the offsets count
// from, so that the boundaries of the checks are often hit exactly: bits 2-3
// the sequence number's base (RCV.NXT, the right edge of the window we last
// offered, the peer's ISN, RCV.NXT-1), bits 0-1 the acknowledgment's
// (SND.UNA, SND.NXT, SND.UNA-MAX.SND.WND, ISS).
func (d *fuzzDriver) segment(r *byteReader, code byte) {
	flags := wire.Flags(r.byte())
	seqOff, ackOff := r.int16(), r.int16()
	win, plen := r.byte(), int(r.byte())*8
	c := d.c
	rcvNxt := c.rcvNxt
	if c.state == Listen || c.state == SynSent {
		rcvNxt = d.f.isn.remote
	}
	seqBase := [4]seq.Value{rcvNxt, c.rcvAdvRight, d.f.isn.remote, rcvNxt - 1}[code>>2&3]
	ackBase := [4]seq.Value{c.sndUna, c.sndNxt, c.sndUna - seq.Value(c.maxSndWnd), c.iss}[code&3]
	s := wire.Segment{
		SrcPort: d.f.remote.Port(), DstPort: d.f.local.Port(),
		Seq:    seqBase.Add(seq.Size(int32(seqOff))),
		Ack:    ackBase.Add(seq.Size(int32(ackOff))),
		Flags:  flags,
		Window: uint16(win) * 257,
	}
	if plen > 0 {
		// The peer's stream starts at its ISN+1 (after the SYN).
		pos := uint32(s.Seq - d.f.isn.remote - 1)
		if flags&wire.SYN != 0 {
			pos++
		}
		s.Payload = make([]byte, plen)
		for i := range s.Payload {
			s.Payload[i] = peerByte(pos + uint32(i))
		}
	}
	if flags&wire.SYN != 0 {
		s.Options.HasMSS, s.Options.MSS = true, 64+uint16(win)*8
	}
	if rst, ok := ResetFor(&s); ok == (flags&wire.RST != 0) || (ok && rst.Flags&wire.RST == 0) {
		d.fail("ResetFor(%v) = %v, %v", s.String(), rst.String(), ok)
	}
	keep := bytes.Clone(s.Payload)
	d.logf("in  %v", lineOf(&s))
	d.c.Input(d.now, &s)
	if !bytes.Equal(keep, s.Payload) {
		d.fail("Input changed the segment's payload")
	}
	d.check("Input", flags&wire.RST != 0)
}

// check runs Output and verifies the invariants. inRST says the step's
// input was a reset, which must not be answered with one.
func (d *fuzzDriver) check(what string, inRST bool) {
	d.t.Helper()
	c := d.c
	c.Output(d.now, func(s *wire.Segment, rtx bool) {
		d.logf("out %v rtx=%v", lineOf(s), rtx)
		if s.SrcPort != d.f.local.Port() || s.DstPort != d.f.remote.Port() {
			d.fail("%s: segment with ports %d>%d", what, s.SrcPort, s.DstPort)
		}
		if s.Flags&wire.RST != 0 {
			if inRST {
				d.fail("%s: a RST answered with a RST", what)
			}
			if len(s.Payload) != 0 || s.Flags&(wire.SYN|wire.FIN) != 0 {
				d.fail("%s: RST with payload or SYN/FIN", what)
			}
			return
		}
		if s.Flags&wire.ACK != 0 && s.Ack != c.rcvNxt {
			d.fail("%s: ACK %v, RCV.NXT %v", what, s.Ack, c.rcvNxt)
		}
		if l := s.SeqLen(); l > 0 {
			if s.Seq.LessThan(c.sndUna) || s.Seq.Add(l).GreaterThan(c.sndNxt) {
				d.fail("%s: segment [%v, %v) outside [SND.UNA %v, SND.NXT %v]", what, s.Seq, s.Seq.Add(l), c.sndUna, c.sndNxt)
			}
			if len(s.Payload) > int(c.sndMSS) {
				d.fail("%s: %d bytes exceed the MSS %d", what, len(s.Payload), c.sndMSS)
			}
			pos := uint32(s.Seq - c.iss - 1)
			if len(s.Payload) > 0 && pos+uint32(len(s.Payload)) > d.writePos {
				d.fail("%s: bytes [%d, %d) sent, %d written", what, pos, pos+uint32(len(s.Payload)), d.writePos)
			}
			for i, b := range s.Payload {
				if want := ourByte(pos + uint32(i)); b != want {
					d.fail("%s: byte %d of our stream sent as %#x, written as %#x", what, pos+uint32(i), b, want)
				}
			}
		}
		if c.state.Synchronized() && s.Flags&wire.ACK != 0 {
			// RFC 9293 §3.8.6.2.2: "the window should not be shrunk".
			right := s.Ack.Add(seq.Size(s.Window))
			if d.rightOK && right.LessThan(d.right) {
				d.fail("%s: right edge %v moved left of %v", what, right, d.right)
			}
			d.right, d.rightOK = right, true
		}
	})
	if c.sndUna.GreaterThan(c.sndNxt) {
		d.fail("%s: SND.UNA %v after SND.NXT %v", what, c.sndUna, c.sndNxt)
	}
	sync := c.state.Synchronized() || c.state == SynReceived
	if sync && d.lastSync {
		if c.rcvNxt.LessThan(d.lastRcvNxt) || c.sndUna.LessThan(d.lastSndUna) {
			d.fail("%s: RCV.NXT %v (was %v) or SND.UNA %v (was %v) moved back", what, c.rcvNxt, d.lastRcvNxt, c.sndUna, d.lastSndUna)
		}
	}
	d.lastRcvNxt, d.lastSndUna, d.lastSync = c.rcvNxt, c.sndUna, sync
	if err := c.checkTimeList(); err != nil {
		d.fail("%s: %v", what, err)
	}
	if err := c.checkOOO(); err != nil {
		d.fail("%s: out-of-order queue: %v", what, err)
	}
	if err := c.checkSkips(); err != nil {
		d.fail("%s: retransmission queue: %v", what, err)
	}
	in := c.Info()
	if in.SndUna != c.sndUna || in.SndNxt != c.sndNxt {
		d.fail("%s: Info disagrees with the TCB", what)
	}
	if in.Unread > int(c.rcvBuf) || in.Unread < 0 {
		d.fail("%s: %d bytes unread, RecvBuffer %d", what, in.Unread, int(c.rcvBuf))
	}
	if limit := max(int(c.sndBuf), c.pol.cfg.SendBufferMax); in.Unacked < 0 || in.Unsent < 0 || in.Unacked+in.Unsent > limit {
		d.fail("%s: unacked %d + unsent %d, send buffer at most %d", what, in.Unacked, in.Unsent, limit)
	}
	if dl := c.NextDeadline(); dl <= d.now {
		d.fail("%s: next deadline %v is not after now", what, dl)
	}
	if d.done && !c.Done() {
		d.fail("%s: Done went back to false", what)
	}
	d.done = c.Done()
	if d.done && c.State() != Closed && c.State() != Listen {
		d.fail("%s: Done in state %v", what, c.State())
	}
	if c.State() == Closed && !d.done {
		d.fail("%s: CLOSED but not Done", what)
	}
}
