package tcp

// The harness of the state-machine tests, after smoltcp's socket tests: a
// fixture per starting state, built by driving real segments through the
// real code; a segment template relative to the two initial sequence
// numbers; and send/want/wantNothing/advance helpers that exchange exact
// segments at exact virtual times.
//
// Fixture timelines (default config, so RTO 300 ms after the handshake's
// 100 ms RTT sample):
//
//	SYN-SENT      0 s      NewActive; S seq=0 sent
//	ESTABLISHED   0.1 s    SA seq=0 ack=1 received; A seq=1 ack=1 sent
//	FIN-WAIT-1    1 s      CLOSE; FA seq=1 ack=1 sent
//	FIN-WAIT-2    1.1 s    A seq=1 ack=2 received
//	TIME-WAIT     1.2 s    FA seq=1 ack=2 received; A seq=2 ack=2 sent
//	CLOSING       1.1 s    (from FIN-WAIT-1) FA seq=1 ack=1 received; A seq=2 ack=2 sent
//	CLOSE-WAIT    1 s      (from ESTABLISHED) FA seq=1 ack=1 received; A seq=1 ack=2 sent
//	LAST-ACK      1.1 s    CLOSE; FA seq=1 ack=2 sent
//	LISTEN        0 s      NewPassive
//	SYN-RECEIVED  0 s      S seq=0 received; SA seq=0 ack=1 sent
//
// The peer's FIN takes one sequence number from the window without moving
// its right edge, which SWS avoidance keeps still (RFC 9293 §3.8.6.2.2), so
// the ACKs that follow it offer one byte less.
//
// Sequence numbers in a seg are relative: Seq to the sender's ISN, Ack to
// the receiver's. The active fixtures are the client (port 40000), the
// passive ones the server (port 80).

import (
	"bytes"
	"fmt"
	"hash/crc32"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// isnPair is our initial sequence number and the peer's.
type isnPair struct {
	name          string
	local, remote seq.Value
}

var (
	// plainISNs are the usual values: ISS 1000, IRS 5000.
	plainISNs = isnPair{"ISS=1000,IRS=5000", 1000, 5000}
	// wrapISNs put both directions just below 2^32: our first data byte
	// is 2^32-1 and the second is 0; the peer's 16th byte wraps.
	wrapISNs = isnPair{"ISS=2^32-2,IRS=2^32-16", 1<<32 - 2, 1<<32 - 16}
)

var (
	clientAddr = netip.MustParseAddrPort("192.0.2.1:40000")
	serverAddr = netip.MustParseAddrPort("192.0.2.2:80")
)

// reversed returns t as the other side sees it.
func reversed(t Tuple) Tuple { return Tuple{Local: t.Remote, Remote: t.Local} }

// defWin is the window a seg carries when it names none: the default
// RecvBuffer.
const defWin = 65535

// zeroWin in seg.Win asks for a window of zero.
const zeroWin = -1

// seg is a segment template. Zero fields are defaults: Win 0 means defWin,
// except on a RST, which carries window 0 (RFC 9293 formats a reset as
// <SEQ><CTL=RST> with no window).
type seg struct {
	Flags wire.Flags
	Seq   uint32 // relative to the sender's ISN
	Ack   uint32 // relative to the receiver's ISN; used only with ACK
	Win   int    // 0: default (see above); zeroWin: 0; else the window
	Data  []byte
	MSS   uint16 // MSS option; 0 for none
	Rtx   bool   // an expected segment that Output marks as a retransmission
	// Opt gives further options. With the fixture's autoTS, segments
	// without timestamps in Opt get them: the peer's clock (peerTS) on
	// segments sent in, ours (ourTS) echoing the peer's latest in-order
	// TSval on segments expected out. NoTS turns that off for one segment.
	Opt  wire.Options
	NoTS bool
	// SACK lists relative SACK blocks (relative to the receiver's ISN, as
	// acknowledgment numbers are) as pairs left, right.
	SACK []uint32
}

func (s seg) window() uint16 {
	switch {
	case s.Win == zeroWin:
		return 0
	case s.Win != 0:
		return uint16(s.Win)
	case s.Flags&wire.RST != 0:
		return 0
	}
	return defWin
}

// ms and sec are virtual instants.
func ms(n int64) clock.Time  { return clock.Time(n * int64(time.Millisecond)) }
func sec(n int64) clock.Time { return clock.Time(n * int64(time.Second)) }

// data returns n bytes of a recognisable pattern (different for each tag).
func data(tag byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tag + byte(i%251)
	}
	return b
}

type fixture struct {
	c             *Conn
	cfg           Config
	isn           isnPair
	local, remote netip.AddrPort
	now           clock.Time
	modern        bool
	autoTS        bool
	peerRecent    uint32 // the peer's TSval we expect echoed
	lastOurTS     uint32 // our latest TSval, which the peer echoes
	lastAckOut    seq.Value
}

type option func(*fixture)

func withConfig(cfg Config) option { return func(f *fixture) { f.cfg = cfg } }

// modern keeps the configuration's defaults for the data-path features
// (delayed ACK, window scaling, timestamps, SACK, autotuning). Without it,
// a fixture turns them off, so that the state-machine tests see the plain
// RFC 9293 exchange they quote.
func modern(f *fixture) { f.modern = true }

func plain(cfg Config) Config {
	if cfg.DelayedACK == 0 {
		cfg.DelayedACK = -1
	}
	cfg.NoWindowScale, cfg.NoTimestamps, cfg.NoSACK = true, true, true
	if cfg.RecvBufferMax == 0 {
		cfg.RecvBufferMax = cfg.RecvBuffer // no autotuning
		if cfg.RecvBufferMax == 0 {
			cfg.RecvBufferMax = 65535
		}
	}
	return cfg
}
func withISNs(p isnPair) option { return func(f *fixture) { f.isn = p } }

func newFixture(active bool, opts []option) *fixture {
	f := &fixture{isn: plainISNs, local: serverAddr, remote: clientAddr}
	if active {
		f.local, f.remote = clientAddr, serverAddr
	}
	for _, o := range opts {
		o(f)
	}
	if !f.modern {
		f.cfg = plain(f.cfg)
	}
	tuple := Tuple{Local: f.local, Remote: f.remote}
	if active {
		f.c = NewActive(f.cfg, tuple, f.isn.local, f.now)
	} else {
		f.c = NewPassive(f.cfg, tuple, f.isn.local)
	}
	return f
}

// in builds the wire segment the peer sends.
func (f *fixture) in(s seg) wire.Segment {
	w := wire.Segment{
		SrcPort: f.remote.Port(), DstPort: f.local.Port(),
		Seq: f.isn.remote.Add(seq.Size(s.Seq)), Flags: s.Flags,
		Window: s.window(), Payload: s.Data,
	}
	if s.Flags&wire.ACK != 0 {
		w.Ack = f.isn.local.Add(seq.Size(s.Ack))
	}
	f.options(&w, s, f.isn.local, true)
	return w
}

// options completes w's options from s; base makes SACK blocks absolute.
func (f *fixture) options(w *wire.Segment, s seg, base seq.Value, in bool) {
	w.Options = s.Opt
	if s.MSS != 0 {
		w.Options.HasMSS, w.Options.MSS = true, s.MSS
	}
	for i := 0; i+1 < len(s.SACK) && i/2 < wire.MaxSACKBlocks; i += 2 {
		w.Options.SACK[i/2] = wire.SACKBlock{Left: base.Add(seq.Size(s.SACK[i])), Right: base.Add(seq.Size(s.SACK[i+1]))}
		w.Options.NumSACK++
	}
	if f.autoTS && !s.NoTS && !w.Options.HasTimestamps && s.Flags&wire.RST == 0 {
		w.Options.HasTimestamps = true
		if in {
			w.Options.TSVal, w.Options.TSEcr = f.peerTS(f.now), f.lastOurTS
		} else {
			w.Options.TSVal, w.Options.TSEcr = f.ourTS(f.now), f.peerRecent
		}
	}
}

// peerTS is the peer's timestamp clock in the modern tests: 1 ms ticks
// from 100000.
func (f *fixture) peerTS(at clock.Time) uint32 {
	return 100000 + uint32(at/clock.Time(time.Millisecond))
}

// ourTS is the connection's timestamp clock: 1 ms ticks plus an offset
// from the ISS (RFC 7323 §5.4's per-connection offset).
func (f *fixture) ourTS(at clock.Time) uint32 {
	return uint32(at/clock.Time(time.Millisecond)) + uint32(f.isn.local)*2654435761
}

// out builds the wire segment we expect the connection to send.
func (f *fixture) out(s seg) wire.Segment {
	w := wire.Segment{
		SrcPort: f.local.Port(), DstPort: f.remote.Port(),
		Seq: f.isn.local.Add(seq.Size(s.Seq)), Flags: s.Flags,
		Window: s.window(), Payload: s.Data,
	}
	if s.Flags&wire.ACK != 0 {
		w.Ack = f.isn.remote.Add(seq.Size(s.Ack))
	}
	f.options(&w, s, f.isn.remote, false)
	return w
}

// line prints an emitted segment: ports, the canonical Segment.String(),
// the sequence numbers relative to the ISNs, a checksum of the payload and
// the retransmission mark.
func (f *fixture) line(w *wire.Segment, rtx bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d>%d %s (rel %s)", w.SrcPort, w.DstPort, w.String(), w.Relative(f.isn.local, f.isn.remote))
	if len(w.Payload) > 0 {
		fmt.Fprintf(&b, " crc=%08x", crc32.ChecksumIEEE(w.Payload))
	}
	if rtx {
		b.WriteString(" rtx")
	}
	return b.String()
}

// setTime moves the fixture to at. Time never goes back, and a call may not
// skip a timer: HandleTimeout runs at every deadline (use advance).
func (f *fixture) setTime(t testing.TB, at clock.Time) {
	t.Helper()
	if at < f.now {
		t.Fatalf("time goes back from %v to %v", f.now, at)
	}
	if d := f.c.NextDeadline(); at > d {
		t.Fatalf("at %v: the timer due at %v would have fired first; advance to it", at, d)
	}
	f.now = at
}

// send hands the connection a segment from the peer at the virtual time at.
func (f *fixture) send(t testing.TB, at clock.Time, s seg) {
	t.Helper()
	f.setTime(t, at)
	w := f.in(s)
	segLen := len(w.Payload)
	if w.Flags&(wire.SYN|wire.FIN) != 0 {
		segLen++ // SYN and FIN occupy sequence space
	}
	fresh := w.Seq.Add(seq.Size(segLen)).GreaterThan(f.lastAckOut) || segLen == 0 && w.Seq == f.lastAckOut
	if f.autoTS && w.Options.HasTimestamps && fresh && !w.Seq.GreaterThan(f.lastAckOut) && int32(w.Options.TSVal-f.peerRecent) >= 0 {
		// RFC 7323 §4.3 (2): "If SEG.TSval >= TS.Recent and SEG.SEQ =<
		// Last.ACK.sent, then SEG.TSval is copied to TS.Recent", for a
		// segment that passes the sequence test (§5.3 R3): an old
		// duplicate does not.
		f.peerRecent = w.Options.TSVal
	}
	f.c.Input(f.now, &w)
}

type emitted struct {
	seg wire.Segment
	rtx bool
}

// output runs Output at the current time and returns copies of what it
// emitted.
func (f *fixture) output(t testing.TB) []emitted {
	t.Helper()
	var got []emitted
	f.c.Output(f.now, func(s *wire.Segment, rtx bool) {
		c := *s
		c.Payload = bytes.Clone(s.Payload)
		got = append(got, emitted{c, rtx})
		if s.Options.HasTimestamps {
			f.lastOurTS = s.Options.TSVal
		}
		if s.Flags&wire.ACK != 0 {
			f.lastAckOut = s.Ack
		}
	})
	return got
}

// want runs Output and checks that it emits exactly segs, in order.
func (f *fixture) want(t testing.TB, why string, segs ...seg) {
	t.Helper()
	if len(segs) == 0 {
		t.Fatalf("want(%q) with no segments: use wantNothing", why)
	}
	got := f.output(t)
	var wantL, gotL []string
	for _, s := range segs {
		w := f.out(s)
		wantL = append(wantL, f.line(&w, s.Rtx))
	}
	for _, e := range got {
		gotL = append(gotL, f.line(&e.seg, e.rtx))
	}
	same := len(got) == len(segs)
	for i := 0; same && i < len(got); i++ {
		w := f.out(segs[i])
		same = wantL[i] == gotL[i] && bytes.Equal(w.Payload, got[i].seg.Payload)
	}
	if !same {
		t.Fatalf("at %v, %s: emitted segments differ (-want +got):\n%s", f.now, why, diffLines(wantL, gotL))
	}
}

// wantNothing runs Output and checks that it emits nothing.
func (f *fixture) wantNothing(t testing.TB) {
	t.Helper()
	if got := f.output(t); len(got) > 0 {
		var gotL []string
		for _, e := range got {
			gotL = append(gotL, f.line(&e.seg, e.rtx))
		}
		t.Fatalf("at %v: want no segments, got:\n%s", f.now, diffLines(nil, gotL))
	}
}

func (f *fixture) wantState(t testing.TB, s State) {
	t.Helper()
	if got := f.c.State(); got != s {
		t.Fatalf("at %v: state %v, want %v", f.now, got, s)
	}
}

func (f *fixture) wantDeadline(t testing.TB, d clock.Time) {
	t.Helper()
	if got := f.c.NextDeadline(); got != d {
		t.Fatalf("at %v: next deadline %v, want %v", f.now, got, d)
	}
}

// wantEnded checks that the connection is CLOSED and deletable with err.
func (f *fixture) wantEnded(t testing.TB, err error) {
	t.Helper()
	f.wantState(t, Closed)
	if !f.c.Done() {
		t.Fatalf("at %v: CLOSED but not Done", f.now)
	}
	if got := f.c.Err(); got != err {
		t.Fatalf("at %v: Err() = %v, want %v", f.now, got, err)
	}
	f.wantDeadline(t, clock.Never)
}

// advance runs HandleTimeout at to, which must be exactly the next
// deadline.
func (f *fixture) advance(t testing.TB, to clock.Time) {
	t.Helper()
	if d := f.c.NextDeadline(); d != to {
		t.Fatalf("advance to %v: the next deadline is %v", to, d)
	}
	f.now = to
	f.c.HandleTimeout(to)
}

// write queues p at the virtual time at; all of it must fit.
func (f *fixture) write(t testing.TB, at clock.Time, p []byte) {
	t.Helper()
	f.setTime(t, at)
	n, err := f.c.Write(f.now, p)
	if err != nil || n != len(p) {
		t.Fatalf("at %v: Write(%d bytes) = %d, %v", f.now, len(p), n, err)
	}
}

// read reads up to n bytes at the virtual time at.
func (f *fixture) read(t testing.TB, at clock.Time, n int) []byte {
	t.Helper()
	f.setTime(t, at)
	p := make([]byte, n)
	return p[:f.c.Read(f.now, p)]
}

// wantRead reads len(p) bytes at at and checks that exactly p comes out.
func (f *fixture) wantRead(t testing.TB, at clock.Time, p []byte) {
	t.Helper()
	got := f.read(t, at, len(p))
	if !bytes.Equal(got, p) {
		t.Fatalf("at %v: read %d bytes (crc %08x), want %d (crc %08x)",
			f.now, len(got), crc32.ChecksumIEEE(got), len(p), crc32.ChecksumIEEE(p))
	}
}

func (f *fixture) close(t testing.TB, at clock.Time) {
	t.Helper()
	f.setTime(t, at)
	if err := f.c.Close(f.now); err != nil {
		t.Fatalf("at %v: Close: %v", f.now, err)
	}
}

// ---- fixtures, one per starting state ----

func newSynSent(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newFixture(true, opts)
	f.want(t, "active open sends <SEQ=ISS><CTL=SYN>", seg{Flags: wire.SYN, Win: f.recvWin(), MSS: 1460})
	f.wantState(t, SynSent)
	return f
}

func newEstablished(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newSynSent(t, opts...)
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.want(t, "the SYN-ACK is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: f.recvWin()})
	f.wantState(t, Established)
	return f
}

// recvWin is the window a fresh connection of f offers.
func (f *fixture) recvWin() int {
	if f.cfg.RecvBuffer != 0 {
		return f.cfg.RecvBuffer
	}
	return defWin
}

func newFinWait1(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newEstablished(t, opts...)
	f.close(t, sec(1))
	f.want(t, "CLOSE sends the FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1, Win: f.recvWin()})
	f.wantState(t, FinWait1)
	return f
}

func newFinWait2(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newFinWait1(t, opts...)
	f.send(t, ms(1100), seg{Flags: wire.ACK, Seq: 1, Ack: 2})
	f.wantNothing(t)
	f.wantState(t, FinWait2)
	return f
}

func newTimeWait(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newFinWait2(t, opts...)
	f.send(t, ms(1200), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2})
	f.want(t, "the peer's FIN is acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: f.recvWin() - 1})
	f.wantState(t, TimeWait)
	return f
}

func newClosing(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newFinWait1(t, opts...)
	f.send(t, ms(1100), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
	f.want(t, "the peer's FIN is acknowledged", seg{Flags: wire.ACK, Seq: 2, Ack: 2, Win: f.recvWin() - 1})
	f.wantState(t, Closing)
	return f
}

func newCloseWait(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newEstablished(t, opts...)
	f.send(t, sec(1), seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 1})
	f.want(t, "the peer's FIN is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 2, Win: f.recvWin() - 1})
	f.wantState(t, CloseWait)
	return f
}

func newLastAck(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newCloseWait(t, opts...)
	f.close(t, ms(1100))
	f.want(t, "CLOSE sends the FIN", seg{Flags: wire.FIN | wire.ACK, Seq: 1, Ack: 2, Win: f.recvWin() - 1})
	f.wantState(t, LastAck)
	return f
}

func newListen(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newFixture(false, opts)
	f.wantState(t, Listen)
	f.wantNothing(t)
	return f
}

func newSynReceived(t testing.TB, opts ...option) *fixture {
	t.Helper()
	f := newListen(t, opts...)
	f.send(t, 0, seg{Flags: wire.SYN, MSS: 1460})
	f.want(t, "the SYN is answered with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>",
		seg{Flags: wire.SYN | wire.ACK, Ack: 1, Win: f.recvWin(), MSS: 1460})
	f.wantState(t, SynReceived)
	return f
}

// fixtures lists every starting state with its builder.
var fixtures = []struct {
	state State
	build func(testing.TB, ...option) *fixture
}{
	{SynSent, newSynSent},
	{Listen, newListen},
	{SynReceived, newSynReceived},
	{Established, newEstablished},
	{FinWait1, newFinWait1},
	{FinWait2, newFinWait2},
	{CloseWait, newCloseWait},
	{Closing, newClosing},
	{LastAck, newLastAck},
	{TimeWait, newTimeWait},
}

// forISNs runs body once with the plain ISNs and once near the wrap.
func forISNs(t *testing.T, body func(t *testing.T, isn option)) {
	for _, p := range []isnPair{plainISNs, wrapISNs} {
		t.Run(p.name, func(t *testing.T) { body(t, withISNs(p)) })
	}
}

// diffLines is a line diff (longest common subsequence) of want and got,
// with "-" for lines only wanted and "+" for lines only got.
func diffLines(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("   " + want[i] + "\n")
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] >= lcs[i+1][j]):
			b.WriteString(" + " + got[j] + "\n")
			j++
		default:
			b.WriteString(" - " + want[i] + "\n")
			i++
		}
	}
	if n == 0 && m == 0 {
		b.WriteString("   (none)\n")
	}
	return b.String()
}

// TestHarness checks the harness itself: a fixture's history is what the
// timelines above say, and want fails on a wrong segment (so that no test
// can pass vacuously).
func TestHarness(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.state.String(), func(t *testing.T) {
			forISNs(t, func(t *testing.T, isn option) {
				f := fx.build(t, isn)
				f.wantState(t, fx.state)
				if f.c.Done() {
					t.Fatalf("a fresh %v fixture is Done", fx.state)
				}
			})
		})
	}
	t.Run("diff", func(t *testing.T) {
		got := diffLines([]string{"a", "b", "c"}, []string{"a", "x", "c"})
		want := "   a\n + x\n - b\n   c\n"
		if got != want {
			t.Fatalf("diffLines:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("want detects a wrong segment", func(t *testing.T) {
		f := newEstablished(t)
		f.write(t, sec(1), []byte("hello"))
		if !fails(t, func(tb testing.TB) {
			f.want(tb, "wrong ack", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 2, Data: []byte("hello")})
		}) {
			t.Fatal("want accepted a segment with the wrong ack")
		}
		f = newEstablished(t)
		if !fails(t, func(tb testing.TB) { f.want(tb, "nothing is due") }) {
			t.Fatal("want accepted an empty list")
		}
		if !fails(t, func(tb testing.TB) { f.advance(tb, sec(5)) }) {
			t.Fatal("advance accepted a time that is not the deadline")
		}
		f.write(t, sec(1), []byte("hello"))
		f.want(t, "the data", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: []byte("hello")})
		if !fails(t, func(tb testing.TB) { f.send(tb, sec(2), seg{Flags: wire.ACK, Seq: 1, Ack: 6}) }) {
			t.Fatal("send skipped the retransmission timer due at 1.3 s")
		}
	})
}

// fakeTB records a failure instead of failing the test.
type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = true
	runtime.Goexit()
}

// fails reports whether body fails the fakeTB it is handed.
func fails(t *testing.T, body func(tb testing.TB)) bool {
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		body(ft)
	}()
	<-done
	return ft.failed
}
