package pktdrill

import (
	"fmt"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// waitOut advances virtual time, up to deadline, until the stack has sent
// a packet not yet matched; it reports whether there is one.
func (r *runner) waitOut(deadline clock.Time) bool {
	if r.k != nil {
		r.kwait(deadline, func() bool { return len(r.out) > 0 })
		return len(r.out) > 0
	}
	for i := 0; len(r.out) == 0 && i < 1_000_000; i++ {
		d := r.st.NextDeadline()
		if d > deadline {
			r.advance(deadline)
			break
		}
		r.advance(max(d, r.now))
	}
	return len(r.out) > 0
}

// nextEventBound is the time of the event after events[idx], taking
// events[idx] to happen at t: tolerant mode lets a timer-driven segment
// come any time before it.
func (r *runner) nextEventBound(idx int, t clock.Time) clock.Time {
	limit := t.Add(r.maxWait())
	if idx+1 >= len(r.s.Events) {
		return limit
	}
	next := r.s.Events[idx+1]
	if next.Packet != nil && next.Packet.Dir == Outbound && r.s.Events[idx].Packet != nil &&
		next.Packet.Start == r.s.Events[idx].Packet.Start && next.Packet.Flags == r.s.Events[idx].Packet.Flags {
		// A series of copies (retransmissions, probes): the stack's own
		// timer may space them otherwise; each copy is checked against
		// the one before (timeOK).
		return limit
	}
	var b clock.Time
	switch next.Kind {
	case Absolute, AbsoluteRange:
		b = clock.Time(next.Time)
	case Relative, RelativeRange:
		b = t + clock.Time(next.Time)
	default:
		return limit
	}
	return min(max(b, t), limit)
}

func (r *runner) outbound(ev *Event, idx int, t, tend clock.Time) *Failure {
	p := ev.Packet
	if p.ICMP != nil {
		return r.unsupported(ev.Line, "outbound ICMP (%s) is not supported: the runner matches TCP segments only (synack's stack sends no ICMP error of its own)", p.ICMP.Type)
	}
	deadline := tend.Add(r.tolAt(tend))
	if ev.Kind == AnyTime {
		deadline = r.now.Add(r.maxWait())
	}
	extended := deadline
	if !r.opts.Strict {
		extended = max(extended, r.nextEventBound(idx, t).Add(r.tol))
	}
	if !r.waitOut(extended) {
		return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(r.now),
			Msg:      fmt.Sprintf("timed out waiting for packet (expected at %s)", r.timeText(ev, t, tend)),
			Expected: p.String(), Actual: "nothing sent"}
	}
	first := r.out[0]
	r.out = r.out[1:]
	for !r.opts.Strict && r.owedACK(first) && r.compare(p, []outPkt{first}) != "" {
		// The RFCs' answer to a segment they say to drop with an
		// ACK, which the script leaves out (owedACK).
		r.owedACKs--
		r.logf("skip    %s: the ACK the RFCs require for a segment they say to drop (tolerant)", r.formatSeg(&first))
		r.note(ev.Line, "tolerant: took %s, not in the script, as the ACK RFC 9293 §3.10.7.4 / RFC 5961 §5.2 / RFC 7323 §5.3 require in answer to an injected segment they say to drop", r.formatSeg(&first))
		if !r.waitOut(extended) {
			return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(r.now),
				Msg:      fmt.Sprintf("timed out waiting for packet (expected at %s)", r.timeText(ev, t, tend)),
				Expected: p.String(), Actual: "nothing sent"}
		}
		first = r.out[0]
		r.out = r.out[1:]
	}
	segs := []outPkt{first}
	// Consecutive segments may together match one line whose length is
	// their sum (packetdrill sees the TSO super-packet Linux sends).
	base := r.base()
	if uint32(first.seg.Seq-base) == p.Start && len(first.seg.Payload) > 0 && len(first.seg.Payload) < p.Len &&
		first.seg.Flags&(wire.SYN|wire.FIN|wire.RST) == 0 {
		total := len(first.seg.Payload)
		end := first.seg.Seq.Add(seq.Size(total))
		for total < p.Len {
			if !r.waitOut(extended) {
				break
			}
			nx := r.out[0]
			if nx.seg.Seq != end || len(nx.seg.Payload) == 0 || nx.seg.Flags&(wire.SYN|wire.RST) != 0 {
				break
			}
			r.out = r.out[1:]
			segs = append(segs, nx)
			total += len(nx.seg.Payload)
			end = end.Add(seq.Size(len(nx.seg.Payload)))
			if nx.seg.Flags&wire.FIN != 0 {
				break
			}
		}
	}
	actual := r.describe(segs)
	r.logf("match   %s (line %d) against %s", p, ev.Line, actual)
	if msg := r.compare(p, segs); msg != "" && !(!r.opts.Strict && len(segs) == 1 && r.probeForm(p, segs[0])) {
		return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(segs[0].at),
			Msg: "bad outbound packet: " + msg, Expected: p.String(), Actual: actual}
	}
	if ev.Kind != AnyTime {
		for _, sp := range segs {
			if !r.timeOK(ev, sp, t, tend, extended) {
				return &Failure{File: r.s.Name, Line: ev.Line, At: time.Duration(sp.at),
					Msg: fmt.Sprintf("timing error: expected outbound packet at %s but it was sent at %ss (tolerance %ss)",
						r.timeText(ev, t, tend), fmtSecs(time.Duration(sp.at)), fmtSecs(r.tolAt(t))),
					Expected: p.String(), Actual: actual}
			}
		}
	}
	r.noteTS(p, segs[0])
	r.noteSent(segs)
	r.owedACKs = 0
	if last := segs[len(segs)-1]; !r.opts.Strict && last.timer && !r.appTimer(last) && ev.Kind == Absolute && r.k == nil {
		// The stack's own timer (the RFCs leave it to the stack) sent
		// the segment at another time than the script's: what the
		// script does next, the peer's answer among it, follows the
		// stack's timer, as a relative time already would.
		r.shift += time.Duration(last.at - t)
		r.shiftedAt, r.shifted = last.at, true
	}
	r.prevTimer = false
	if last := segs[len(segs)-1]; last.timer && !r.opts.Strict {
		if r.prevTimerSeries(p) {
			r.prevTimerGap = time.Duration(last.at - r.prevTimerAt)
		} else {
			r.prevTimerGap = 0
		}
		r.prevTimer, r.prevTimerAt = true, last.at
		r.prevTimerLine = p
	}
	return nil
}

// prevTimerSeries reports whether p repeats the previous outbound line's
// segment from a timer: the same flags, sequence number and length (a
// retransmission or probe series).
func (r *runner) prevTimerSeries(p *Packet) bool {
	q := r.prevTimerLine
	return r.prevTimer && q != nil && q.Flags == p.Flags && q.Start == p.Start && q.Len == p.Len
}

// maxWait bounds a wait beyond the times the script gives: long on the
// virtual clock, shorter on the real one.
func (r *runner) maxWait() time.Duration {
	if r.k != nil {
		return kernelMaxWait
	}
	return maxWait
}

func (r *runner) base() seq.Value {
	if r.haveISN {
		return r.localISN
	}
	return 0
}

func (r *runner) timeText(ev *Event, t, tend clock.Time) string {
	if ev.Kind == AnyTime {
		return "any time"
	}
	if tend != t {
		return fmtSecs(time.Duration(t)) + "~" + fmtSecs(time.Duration(tend)) + "s"
	}
	return fmtSecs(time.Duration(t)) + "s"
}

func (r *runner) describe(segs []outPkt) string {
	if len(segs) == 1 {
		return r.formatSeg(&segs[0]) + " at " + fmtSecs(time.Duration(segs[0].at)) + "s"
	}
	s := ""
	for i := range segs {
		if i > 0 {
			s += " + "
		}
		s += r.formatSeg(&segs[i])
	}
	return s + " at " + fmtSecs(time.Duration(segs[0].at)) + "s"
}

// timeOK applies packetdrill's timing check, and in tolerant mode the
// README's allowance for timers the RFCs leave open: a segment sent from a
// timer (retransmission, probe) may come any time after the previous event
// and before the next; a pure ACK may come early (an ACK sent at once
// instead of delayed).
func (r *runner) timeOK(ev *Event, sp outPkt, t, tend, extended clock.Time) bool {
	if tol := r.tolAt(t); sp.at >= t-clock.Time(tol) && sp.at <= tend.Add(tol) {
		return true
	}
	if r.opts.Strict {
		return false
	}
	lower := r.lastEventTime - clock.Time(r.tol)
	if sp.timer && r.appTimer(sp) {
		// Keepalive and user timeouts are the application's to set:
		// checked, not left to the stack.
		return false
	}
	if sp.timer && r.prevTimerSeries(ev.Packet) && r.prevTimerGap > 0 {
		// A later copy of a backoff series: the stack chose the first
		// interval; each next one is at least the previous and at most
		// double it (RFC 6298 §5.5).
		gap := time.Duration(sp.at - r.prevTimerAt)
		return gap >= r.prevTimerGap-r.tol && gap <= 2*r.prevTimerGap+r.tol
	}
	if sp.timer && sp.at >= lower && sp.at <= extended {
		return true
	}
	p := ev.Packet
	if p.Flags == "." && p.Len == 0 && sp.at >= lower && sp.at <= tend.Add(r.tol) {
		return true
	}
	return false
}

// compare returns "" if segs match the script's packet, or what differs.
func (r *runner) compare(p *Packet, segs []outPkt) string {
	first := &segs[0].seg
	var act wire.Flags
	total := 0
	for i := range segs {
		act |= segs[i].seg.Flags
		total += len(segs[i].seg.Payload)
	}
	exp, _ := parseFlags(p.Flags)
	if !r.opts.Strict {
		exp &^= wire.PSH
		act &^= wire.PSH
	}
	if exp != act {
		return fmt.Sprintf("flags: expected %s, got %s", flagString(exp), flagString(act))
	}
	if got := uint32(first.Seq - r.base()); got != p.Start {
		return fmt.Sprintf("sequence number: expected %d, got %d", p.Start, got)
	}
	if total != p.Len {
		return fmt.Sprintf("payload length: expected %d, got %d", p.Len, total)
	}
	if exp&wire.ACK != 0 && uint32(first.Ack) != p.Ack {
		return fmt.Sprintf("ack: expected %d, got %d", p.Ack, uint32(first.Ack))
	}
	if p.HasWin && !(!r.opts.Strict && exp&wire.RST != 0) && first.Window != p.Win {
		return fmt.Sprintf("window: expected %d, got %d", p.Win, first.Window)
	}
	if p.HasUrg && first.Urgent != p.Urg {
		return fmt.Sprintf("urgent pointer: expected %d, got %d", p.Urg, first.Urgent)
	}
	if p.AnyOptions {
		return ""
	}
	if r.opts.Strict {
		return r.compareOptionsStrict(p.Options, segs[0].opts)
	}
	return r.compareOptionsTolerant(p, segs[0])
}

func (r *runner) compareOptionsStrict(exp, act []TCPOption) string {
	mismatch := func() string {
		return fmt.Sprintf("TCP options: expected <%s>, got <%s>", formatOptions(exp), formatOptions(act))
	}
	if len(exp) != len(act) {
		return mismatch()
	}
	for i := range exp {
		e, a := exp[i], act[i]
		if e.Kind != a.Kind || e.Value != a.Value || len(e.Blocks) != len(a.Blocks) {
			return mismatch()
		}
		for j := range e.Blocks {
			if e.Blocks[j] != a.Blocks[j] {
				return mismatch()
			}
		}
		// packetdrill checks TS val only with --tcp_ts_tick_usecs; the
		// echo reply must be the peer's value.
		if e.Kind == OptTS && e.TSEcr != a.TSEcr {
			return mismatch()
		}
	}
	return ""
}

type optSet struct {
	mss, wscale, sackOK, ts, sack bool
	mssV                          uint32
	ts1                           TCPOption
	blocks                        [][2]uint32
}

func setOf(opts []TCPOption) optSet {
	var s optSet
	for _, o := range opts {
		switch o.Kind {
		case OptMSS:
			s.mss, s.mssV = true, o.Value
		case OptWScale:
			s.wscale = true
		case OptSACKOK:
			s.sackOK = true
		case OptTS:
			s.ts, s.ts1 = true, o
		case OptSACK:
			s.sack = true
			s.blocks = append(s.blocks, o.Blocks...)
		}
	}
	return s
}

// compareOptionsTolerant is the README's rule: options as a set, NOPs and
// order ignored; on SYN and SYN-ACK, MSS must match and window scale,
// SACK-permitted and timestamps must be present exactly when offered (for
// our SYN: as the script offers them; for a SYN-ACK: as the peer's SYN
// did), any shift count accepted; timestamps: TSval non-decreasing, TSecr
// the peer's latest TSval.
func (r *runner) compareOptionsTolerant(p *Packet, sp outPkt) string {
	exp, act := setOf(p.Options), setOf(sp.opts)
	if sp.seg.Flags&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK && r.havePeerSYN {
		offer := setOf(r.peerSYN)
		exp.wscale, exp.sackOK, exp.ts = offer.wscale, offer.sackOK, offer.ts
	}
	what := func(name string, want bool) string {
		if want {
			return fmt.Sprintf("TCP options: expected %s, missing in <%s> (script <%s>)", name, formatOptions(sp.opts), formatOptions(p.Options))
		}
		return fmt.Sprintf("TCP options: unexpected %s in <%s> (script <%s>)", name, formatOptions(sp.opts), formatOptions(p.Options))
	}
	if exp.mss != act.mss {
		return what("mss", exp.mss)
	}
	if exp.mss && exp.mssV != act.mssV {
		return fmt.Sprintf("TCP options: expected mss %d, got mss %d", exp.mssV, act.mssV)
	}
	if exp.wscale != act.wscale {
		return what("wscale", exp.wscale)
	}
	if exp.sackOK != act.sackOK {
		return what("sackOK", exp.sackOK)
	}
	if exp.ts != act.ts {
		return what("TS", exp.ts)
	}
	if exp.sack != act.sack || len(exp.blocks) != len(act.blocks) {
		return fmt.Sprintf("TCP options: expected SACK blocks <%s>, got <%s>", formatOptions(p.Options), formatOptions(sp.opts))
	}
	for i := range exp.blocks {
		if exp.blocks[i] != act.blocks[i] {
			return fmt.Sprintf("TCP options: expected SACK blocks <%s>, got <%s>", formatOptions(p.Options), formatOptions(sp.opts))
		}
	}
	if act.ts {
		if r.haveOutTS && act.ts1.TSVal < r.lastOutTSVal {
			return fmt.Sprintf("TS val %d is below the previous %d", act.ts1.TSVal, r.lastOutTSVal)
		}
		want := uint32(0)
		if r.haveTSRecent {
			want = r.tsRecent
		}
		scriptEcr := exp.ts && act.ts1.TSEcr == exp.ts1.TSEcr
		if sp.seg.Flags&wire.ACK != 0 && act.ts1.TSEcr != want && !scriptEcr {
			return fmt.Sprintf("TS ecr: expected TS.Recent %d (RFC 7323 §4.3) or the script's ecr %d, got %d", want, exp.ts1.TSEcr, act.ts1.TSEcr)
		}
	}
	return ""
}

// takeTSRecent applies RFC 7323 §4.3 to an injected segment carrying
// TSval: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, then
// SEG.TSval is copied to TS.Recent" — so a segment PAWS drops (TSval below
// TS.Recent) does not count; nor does one whose ACK acknowledges data never
// sent (SEG.ACK > SND.NXT), which RFC 5961 §5.2 says MUST be discarded. A
// SYN (no ACK) sets it outright (RFC 7323 §3.2).
func (r *runner) takeTSRecent(seg wire.Segment, tsval uint32) {
	if seg.Flags&(wire.SYN|wire.ACK) == wire.SYN {
		r.tsRecent, r.haveTSRecent = tsval, true
		return
	}
	if r.haveTSRecent && int32(tsval-r.tsRecent) < 0 {
		return
	}
	if r.haveLastAck && seg.Seq.GreaterThan(r.lastAckSent) {
		return
	}
	if seg.Flags&wire.ACK != 0 && r.haveISN && r.haveSndNxt && int32(uint32(seg.Ack-r.localISN)-r.sndNxtRel) > 0 {
		return
	}
	r.tsRecent, r.haveTSRecent = tsval, true
}

// noteSent records Last.ACK.sent and SND.NXT from matched segments.
func (r *runner) noteSent(segs []outPkt) {
	for i := range segs {
		s := &segs[i].seg
		if s.Flags&wire.ACK != 0 {
			r.lastAckSent, r.haveLastAck = s.Ack, true
		}
		end := uint32(s.Seq-r.base()) + uint32(len(s.Payload))
		if s.Flags&(wire.SYN|wire.FIN) != 0 {
			end++
		}
		if !r.haveSndNxt || int32(end-r.sndNxtRel) > 0 {
			r.sndNxtRel, r.haveSndNxt = end, true
		}
	}
}

// noteTS records the timestamps of a matched packet.
func (r *runner) noteTS(p *Packet, sp outPkt) {
	a := setOf(sp.opts)
	if !a.ts {
		return
	}
	r.lastOutTSVal, r.haveOutTS = a.ts1.TSVal, true
	if e := setOf(p.Options); e.ts {
		r.tsMap[e.ts1.TSVal] = a.ts1.TSVal
		if !r.haveTSOffset {
			r.tsOffset, r.haveTSOffset = a.ts1.TSVal-e.ts1.TSVal, true
		}
	}
}

// appTimer reports whether sp is a keepalive probe of a connection whose
// keepalive the script set, or a segment a user timeout the script set
// could have caused: its time is the application's, checked as written.
func (r *runner) appTimer(sp outPkt) bool {
	if r.st == nil {
		return false
	}
	for _, s := range r.socks {
		if s == nil || s.c == nil || s.c.Tuple().Local.Port() != sp.seg.SrcPort {
			continue
		}
		for _, o := range s.opts {
			switch o.name {
			case "TCP_USER_TIMEOUT":
				if sp.seg.Flags&wire.RST != 0 {
					return true
				}
			case "SO_KEEPALIVE", "TCP_KEEPIDLE", "TCP_KEEPINTVL":
				i := s.c.Info()
				if s.ka.on && sp.seg.Flags&(wire.SYN|wire.FIN|wire.RST) == 0 && len(sp.seg.Payload) <= 1 && sp.seg.Seq == i.SndUna-1 {
					return true
				}
			}
		}
	}
	return false
}

// noteInbound records, for tolerant matching, what an injected segment
// obliges the stack to: an ACK in reply when the RFCs say to drop it and
// answer (owesACK), and whether it closed the peer's window.
func (r *runner) noteInbound(seg wire.Segment, p *Packet) {
	if r.owesACK(seg, p) {
		r.owedACKs++
	}
	if seg.Flags&wire.ACK != 0 && seg.Flags&(wire.SYN|wire.RST) == 0 {
		r.peerWnd0 = seg.Window == 0
		if r.haveISN {
			if a := uint32(seg.Ack - r.localISN); !r.haveSndUna || int32(a-r.sndUnaRel) > 0 {
				if !r.haveSndNxt || int32(a-r.sndNxtRel) <= 0 {
					r.sndUnaRel, r.haveSndUna = a, true
				}
			}
		}
	}
}

// owesACK reports whether seg is a segment of a synchronized connection
// that the RFCs say to drop with an ACK in reply: one acknowledging data
// never sent (RFC 9293 §3.10.7.4: "If the ACK acks something not yet sent
// (SEG.ACK > SND.NXT), then send an ACK, drop the segment, and return";
// RFC 5961 §5.2: "MUST be discarded and an ACK sent back"), or one PAWS
// rejects (RFC 7323 §5.3 R1: "Send an acknowledgment in reply").
func (r *runner) owesACK(seg wire.Segment, p *Packet) bool {
	if seg.Flags&(wire.SYN|wire.RST) != 0 || seg.Flags&wire.ACK == 0 || !r.haveISN || !r.haveSndNxt || !r.haveLastAck {
		return false
	}
	if int32(uint32(seg.Ack-r.localISN)-r.sndNxtRel) > 0 {
		return true
	}
	for _, o := range p.Options {
		if o.Kind == OptTS && r.haveTSRecent && int32(o.TSVal-r.tsRecent) < 0 {
			return true
		}
	}
	return false
}

// owedACK reports whether sp, which does not match the script's line, is
// the ACK an injected segment was owed (owesACK) and the script, written
// for a stack that dropped such segments silently, leaves out: a pure ACK
// at SND.NXT repeating the last acknowledgment sent, which tells the peer
// nothing new. Tolerant matching takes it as the RFCs' answer and goes on
// to the next segment.
func (r *runner) owedACK(sp outPkt) bool {
	s := &sp.seg
	return r.owedACKs > 0 && s.Flags == wire.ACK && len(s.Payload) == 0 && r.haveLastAck && s.Ack == r.lastAckSent &&
		r.haveSndNxt && uint32(s.Seq-r.base()) == r.sndNxtRel
}

// probeForm reports whether sp is a zero-window probe of the other form
// RFC 9293 §3.8.6.1 allows where the script's line p has the form that
// sends new data: "The sending TCP peer must regularly transmit at least
// one octet of new data (if available), or retransmit to the receiving
// TCP peer even if the send window is zero". The script's line is one
// octet at SND.NXT, into the peer's zero window; sp is an ACK carrying
// SEQ=SND.UNA-1 and no data (the form Linux and synack send), from the
// persist timer. Either makes the peer answer with its window.
func (r *runner) probeForm(p *Packet, sp outPkt) bool {
	s := &sp.seg
	exp, _ := parseFlags(p.Flags)
	return sp.timer && r.peerWnd0 && r.haveSndNxt && r.haveSndUna && r.sndUnaRel == r.sndNxtRel &&
		exp&^wire.PSH == wire.ACK && p.Len == 1 && p.Start == r.sndNxtRel &&
		s.Flags&^wire.PSH == wire.ACK && len(s.Payload) == 0 && uint32(s.Seq-r.base()) == r.sndUnaRel-1 &&
		uint32(s.Ack) == p.Ack
}
