package sim

import (
	"fmt"
	"strings"

	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

// What the Essential checks read in a run's events, and the notes that say
// how an impaired run differs from the one a caption tells.

// linkSender returns the host that sent the packet of a link event: links
// are named "from->to".
func linkSender(e *trace.Event) string {
	from, _, _ := strings.Cut(e.Host, "->")
	return from
}

func isLinkEvent(e *trace.Event) bool {
	switch e.Kind {
	case trace.LinkSend, trace.LinkDeliver, trace.LinkDrop, trace.LinkDuplicate, trace.LinkCorrupt, trace.LinkHold:
		return true
	}
	return false
}

// byRule reports whether a link event is the work of one of the
// scenario's rules (netsim writes their reasons "rule: ...").
func byRule(e *trace.Event) bool { return strings.HasPrefix(e.Reason, "rule:") }

// message is a note that can be said in English or Chinese: its English
// format (the key of package i18n's catalogue) and its arguments, each
// said in the note's language if it can be (a sayer).
type message struct {
	format string
	args   []any
}

// sayer is an argument of a note that has words of its own.
type sayer interface{ say(l i18n.Lang) string }

func (m message) in(l i18n.Lang) string {
	args := make([]any, len(m.args))
	for i, a := range m.args {
		if s, ok := a.(sayer); ok {
			a = s.say(l)
		}
		args[i] = a
	}
	return l.Trf(m.format, args...)
}

// hostName is a host's name in a note ("client" is 客户端 in Chinese).
type hostName string

func (h hostName) say(l i18n.Lang) string { return l.Tr(string(h)) }

// packet names a packet as the ladder numbers it ("#4 A from the
// client"): in a world, the link numbers packets in the order they are
// sent and copied, as the ladder does.
type packet struct {
	id    uint64
	flags wire.Flags
	from  hostName
}

func (p packet) say(l i18n.Lang) string {
	return l.Trf("#%d %s from the %s", p.id, p.flags, p.from.say(l))
}

func packetName(e *trace.Event) packet {
	return packet{uint64(e.PacketID), e.Seg.Flags, hostName(linkSender(e))}
}

// packets is a list of packets, cut short after most of them.
type packets struct {
	list []packet
	more bool
}

func (ps packets) say(l i18n.Lang) string {
	names := make([]string, len(ps.list))
	for i, p := range ps.list {
		names[i] = p.say(l)
	}
	s := strings.Join(names, l.Tr(", "))
	if ps.more {
		s += l.Tr(", ...")
	}
	return s
}

// count is n of what ("1 packet", "3 segments"); the catalogue has each
// form ("1 packet", "%d packets").
type count struct {
	n    int
	what string
}

func (c count) say(l i18n.Lang) string {
	if c.n == 1 {
		return l.Tr("1 " + c.what)
	}
	return l.Trf("%d "+c.what+"s", c.n)
}

// linkNotes lists what the link did to the run's packets besides what the
// scenario's rules do.
func linkNotes(r *Run) []message {
	kinds := []struct {
		what string // the format of the note: what, how many, which
		f    func(e *trace.Event) bool
	}{
		{"the link also lost %s (%s)", func(e *trace.Event) bool { return e.Kind == trace.LinkDrop && e.LinkCause == trace.LinkLoss }},
		{"the bottleneck's full queue dropped %s (%s)", func(e *trace.Event) bool { return e.Kind == trace.LinkDrop && e.LinkCause == trace.LinkQueueFull }},
		{"the link duplicated %s (%s)", func(e *trace.Event) bool { return e.Kind == trace.LinkDuplicate && !byRule(e) }},
		{"the link corrupted %s (%s)", func(e *trace.Event) bool { return e.Kind == trace.LinkCorrupt && !byRule(e) }},
		{"the link held back, so that later ones overtook them, %s (%s)", func(e *trace.Event) bool {
			return e.Kind == trace.LinkHold && strings.HasPrefix(e.Reason, "reorder")
		}},
	}
	var notes []message
	for _, k := range kinds {
		var names []packet
		for i := range r.Events {
			if e := &r.Events[i]; isLinkEvent(e) && k.f(e) {
				names = append(names, packetName(e))
			}
		}
		if len(names) == 0 {
			continue
		}
		const most = 6
		list := packets{names[:min(len(names), most)], len(names) > most}
		notes = append(notes, message{k.what, []any{count{len(names), "packet"}, list}})
	}
	return notes
}

// retransNote compares the retransmissions of r with those of base, the
// run without impairments.
func retransNote(r, base *Run) []message {
	var got, want []string
	differ := false
	if hs := r.World.Hosts(); len(hs) == 2 {
		var g, w [2]uint64
		for i, h := range hs {
			g[i], w[i] = retrans(h), retrans(base.World.Host(h.Name))
		}
		if g == w {
			return nil
		}
		return []message{{"the %s retransmitted %s and the %s %d, where the run without impairments retransmits %d and %d",
			[]any{hostName(hs[0].Name), count{int(g[0]), "segment"}, hostName(hs[1].Name), g[1], w[0], w[1]}}}
	}
	for i, h := range r.World.Hosts() {
		g, w := retrans(h), retrans(base.World.Host(h.Name))
		differ = differ || g != w
		if i == 0 {
			got = append(got, fmt.Sprintf("the %s retransmitted %s", h.Name, plural(int(g), "segment")))
		} else {
			got = append(got, fmt.Sprintf("the %s %d", h.Name, g))
		}
		want = append(want, fmt.Sprint(w))
	}
	if !differ {
		return nil
	}
	return []message{{"%s, where the run without impairments retransmits %s",
		[]any{strings.Join(got, " and "), strings.Join(want, " and ")}}}
}

// phrase is a few words in a note, said in the note's language.
type phrase string

func (p phrase) say(l i18n.Lang) string { return l.Tr(string(p)) }

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// walk calls f with each event of the run and the state that each host's
// connection was in before it (CLOSED before the first change).
func (r *Run) walk(f func(e *trace.Event, state map[string]tcp.State)) {
	st := map[string]tcp.State{}
	for i := range r.Events {
		e := &r.Events[i]
		f(e, st)
		if e.Kind == trace.State {
			st[e.Host] = e.To
		}
	}
}

// sent counts the segments host sent that match f; state is host's state
// as it sent each.
func (r *Run) sent(host string, f func(e *trace.Event, state tcp.State) bool) int {
	n := 0
	r.walk(func(e *trace.Event, st map[string]tcp.State) {
		if e.Kind == trace.SegmentOut && e.Host == host && f(e, st[host]) {
			n++
		}
	})
	return n
}

// received counts the segments host's TCP took in that match f.
func (r *Run) received(host string, f func(e *trace.Event, state tcp.State) bool) int {
	n := 0
	r.walk(func(e *trace.Event, st map[string]tcp.State) {
		if e.Kind == trace.SegmentIn && e.Host == host && f(e, st[host]) {
			n++
		}
	})
	return n
}

// passed reports whether host's connection was ever in state s.
func (r *Run) passed(host string, s tcp.State) bool {
	for i := range r.Events {
		if e := &r.Events[i]; e.Kind == trace.State && e.Host == host && e.To == s {
			return true
		}
	}
	return false
}

// linkPackets returns the link events of kind about packets sent by host
// that match f.
func (r *Run) linkPackets(host string, kind trace.Kind, f func(e *trace.Event) bool) []*trace.Event {
	var out []*trace.Event
	for i := range r.Events {
		if e := &r.Events[i]; e.Kind == kind && linkSender(e) == host && f(e) {
			out = append(out, e)
		}
	}
	return out
}

func flagged(f, not wire.Flags) func(e *trace.Event, _ tcp.State) bool {
	return func(e *trace.Event, _ tcp.State) bool { return e.Seg.Flags.Has(f) && e.Seg.Flags&not == 0 }
}

// wantAtLeast checks that host did something (counted by n) at least
// least times.
func wantAtLeast(host, what string, n, least int) error {
	if n < least {
		return fmt.Errorf("%s: %s %s, want at least %s", host, what, times(n), times(least))
	}
	return nil
}

func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}

// closersWaited checks that every host that closed first (FIN-WAIT-1)
// waited in TIME-WAIT: RFC 9293 §3.6, whatever the link lost on the way.
func closersWaited(r *Run) error {
	var errs []error
	for _, h := range r.World.Hosts() {
		if r.passed(h.Name, tcp.FinWait1) && !r.passed(h.Name, tcp.TimeWait) {
			errs = append(errs, fmt.Errorf("%s: closed first but never waited in TIME-WAIT", h.Name))
		}
	}
	return all(errs...)
}

// The essential checks of the scenarios: what each teaches, asked of a run
// whose link the overrides impaired.

func attemptFails(h *Host) uint64 { return h.Stack.Counters().AttemptFails }
func estabResets(h *Host) uint64  { return h.Stack.Counters().EstabResets }
func outRsts(h *Host) uint64      { return h.Stack.Counters().OutRsts }

// wantPassed checks that host's connection went through each state.
func wantPassed(r *Run, host string, states ...tcp.State) error {
	var missing []string
	for _, s := range states {
		if !r.passed(host, s) {
			missing = append(missing, s.String())
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: never in %s", host, strings.Join(missing, ", "))
	}
	return nil
}

// essentialClose is what the demo and the close teach: the exchange (if
// any) intact, the client closing first and waiting in TIME-WAIT, the
// server passing through CLOSE-WAIT and LAST-ACK.
func essentialClose(check func(w *World) error) func(r *Run) error {
	return func(r *Run) error {
		return all(check(r.World), closersWaited(r),
			wantPassed(r, clientName, tcp.FinWait1, tcp.TimeWait), wantPassed(r, serverName, tcp.CloseWait, tcp.LastAck))
	}
}

var bareSYN = flagged(wire.SYN, wire.ACK)

func essentialLostSYN(r *Run) error {
	return all(checkHTTP(r.World), closersWaited(r),
		wantAtLeast(clientName, "retransmitted its SYN", r.sent(clientName, func(e *trace.Event, s tcp.State) bool {
			return bareSYN(e, s) && e.Retransmit
		}), 1))
}

func essentialLostSYNACK(r *Run) error {
	return all(checkHTTP(r.World), closersWaited(r),
		wantAtLeast(clientName, "retransmitted its SYN", r.sent(clientName, func(e *trace.Event, s tcp.State) bool {
			return bareSYN(e, s) && e.Retransmit
		}), 1),
		wantAtLeast(serverName, "sent its SYN-ACK", r.sent(serverName, flagged(wire.SYN|wire.ACK, 0)), 2))
}

// essentialStaleSYN follows the client's first SYN, which the scenario's
// rule holds for 10 s: if it reached the server's TCP, the server must
// have dropped the half-open connection it made of it.
func essentialStaleSYN(r *Run) error {
	w := r.World
	base := all(checkHTTP(w), closersWaited(r))
	var first *trace.Event
	var delivered, corrupted bool
	for i := range r.Events {
		e := &r.Events[i]
		if !isLinkEvent(e) || linkSender(e) != clientName {
			continue
		}
		if first == nil && e.Kind == trace.LinkSend && bareSYN(e, 0) {
			first = e
		}
		if first != nil && e.PacketID == first.PacketID {
			delivered = delivered || e.Kind == trace.LinkDeliver
			corrupted = corrupted || e.Kind == trace.LinkCorrupt
		}
	}
	switch {
	case first == nil:
		return all(base, fmt.Errorf("client: sent no SYN"))
	case !delivered:
		r.note("the link lost the delayed SYN (%s) as well, so it never reached the server: the rest of the story (the server's SYN-ACK, the client's RST) did not happen", packetName(first))
		return base
	case corrupted:
		r.note("the link corrupted the delayed SYN (%s), so the server's TCP discarded it: the rest of the story (the server's SYN-ACK, the client's RST) did not happen", packetName(first))
		return base
	}
	var err error
	if attemptFails(w.Host(serverName)) == 0 {
		err = fmt.Errorf("server: the delayed SYN reached it, but it never dropped the half-open connection it opened for it (AttemptFails = 0)")
	}
	if outRsts(w.Host(clientName)) == 0 {
		r.note("the client sent no RST (no SYN-ACK of the old SYN reached it): the server dropped the half-open connection when its retransmissions of the SYN-ACK ran out")
	}
	return all(base, err)
}

// essentialLostFinalACK asks that, when the link lost the client's ACK of
// the server's FIN, the server retransmitted the FIN from LAST-ACK and the
// client, in TIME-WAIT, acknowledged it again, unless another ACK of the
// FIN reached the server before its timer fired.
func essentialLostFinalACK(r *Run) error {
	var fin *trace.Event
	for i := range r.Events {
		if e := &r.Events[i]; e.Kind == trace.SegmentOut && e.Host == serverName && e.Seg.Flags&wire.FIN != 0 {
			fin = e
			break
		}
	}
	base := all(checkClosed(r.World), closersWaited(r))
	if fin == nil {
		return all(base, fmt.Errorf("server: sent no FIN"))
	}
	finEnd := fin.Seg.Seq.Add(1)
	finalACK := func(e *trace.Event) bool {
		return e.Seg.Flags&(wire.SYN|wire.FIN|wire.RST) == 0 && e.Seg.Flags&wire.ACK != 0 && e.Seg.Ack == finEnd
	}
	if len(r.linkPackets(clientName, trace.LinkDrop, finalACK)) == 0 {
		var what any = phrase("an ACK")
		if d := r.linkPackets(clientName, trace.LinkDrop, byRule); len(d) > 0 {
			what = packetName(d[0])
		}
		r.note("the link did not lose the client's final ACK: the scenario's rule, which drops the client's second ACK without data, dropped %s instead, so the server had no FIN to retransmit", what)
		return base
	}
	finalACKs := r.linkPackets(clientName, trace.LinkSend, finalACK)
	retransmitted := r.sent(serverName, func(e *trace.Event, s tcp.State) bool {
		return e.Seg.Flags&wire.FIN != 0 && e.Retransmit && s == tcp.LastAck
	})
	if retransmitted == 0 {
		// Another ACK of the FIN got there first: the client answers a
		// late or duplicate segment with an ACK (RFC 9293 §3.10.7.4).
		if len(finalACKs) < 2 {
			return all(base, fmt.Errorf("server: its FIN was never acknowledged again after the final ACK was lost, yet it did not retransmit the FIN"))
		}
		r.note("the server did not retransmit its FIN: the client acknowledged it again (%s), answering a late or duplicate segment, before the server's retransmission timer fired", packetName(finalACKs[1]))
		return base
	}
	return all(base,
		wantAtLeast(clientName, "acknowledged the server's FIN", len(finalACKs), 2),
		wantAtLeast(clientName, "acknowledged the server's FIN from TIME-WAIT", r.sent(clientName, func(e *trace.Event, s tcp.State) bool {
			return finalACK(e) && s == tcp.TimeWait
		}), 1))
}

func essentialHalfClose(check func(w *World) error) func(r *Run) error {
	return func(r *Run) error {
		return all(check(r.World), closersWaited(r),
			wantAtLeast(serverName, "sent data in CLOSE-WAIT", r.sent(serverName, func(e *trace.Event, s tcp.State) bool {
				return e.PayloadLen > 0 && s == tcp.CloseWait
			}), 1),
			wantAtLeast(clientName, "received data after its FIN", r.received(clientName, func(e *trace.Event, s tcp.State) bool {
				return e.PayloadLen > 0 && (s == tcp.FinWait1 || s == tcp.FinWait2)
			}), 1))
	}
}

// essentialSimultaneousOpen: one connection, no listener; a host that got
// the other's SYN while in SYN-SENT went through SYN-RECEIVED (RFC 9293
// Figure 7).
func essentialSimultaneousOpen(r *Run) error {
	errs := []error{checkClosed(r.World)}
	for _, h := range r.World.Hosts() {
		crossed := r.received(h.Name, func(e *trace.Event, s tcp.State) bool { return bareSYN(e, s) && s == tcp.SynSent }) > 0
		switch {
		case crossed && !r.passed(h.Name, tcp.SynReceived):
			errs = append(errs, fmt.Errorf("%s: got the other's SYN in SYN-SENT but never went to SYN-RECEIVED", h.Name))
		case !crossed:
			r.note("the SYNs did not cross (a SYN was lost or late): the %s's SYN was answered before the other's reached it, so it went from SYN-SENT straight to ESTABLISHED", hostName(h.Name))
		}
		if c := h.Stack.Counters(); c.PassiveOpens != 0 {
			errs = append(errs, fmt.Errorf("%s: %d passive opens, want none: there is no listener", h.Name, c.PassiveOpens))
		}
	}
	return all(errs...)
}

// essentialSimultaneousClose: both closed; each side that closed first
// waited in TIME-WAIT.
func essentialSimultaneousClose(r *Run) error {
	for _, h := range r.World.Hosts() {
		switch {
		case r.passed(h.Name, tcp.Closing):
		case r.passed(h.Name, tcp.CloseWait):
			r.note("the FINs did not cross: the %s had the other's FIN before it closed, and went through CLOSE-WAIT, not CLOSING", hostName(h.Name))
		default:
			r.note("the FINs did not cross (a FIN was lost or late): the %s's FIN was acknowledged before the other's arrived, so it went through FIN-WAIT-2, not CLOSING", hostName(h.Name))
		}
	}
	return all(checkClosed(r.World), closersWaited(r))
}

func essentialRefused(r *Run) error {
	w := r.World
	return all(expectErr(w.Host(clientName), tcp.ErrConnRefused),
		wantAtLeast(serverName, "answered with RST", int(outRsts(w.Host(serverName))), 1),
		wantAtLeast(clientName, "failed a connection attempt", int(attemptFails(w.Host(clientName))), 1))
}

// essentialAbort: the client aborts with RST and no FIN; the RST ends the
// server's connection unless the link lost it (or the exchange that
// follows it, RFC 5961's challenge ACK and the RST that answers it): an
// RST is neither acknowledged nor retransmitted.
func essentialAbort(r *Run) error {
	w := r.World
	errs := []error{expectErr(w.Host(clientName), tcp.ErrAborted),
		wantAtLeast(clientName, "sent RST", r.sent(clientName, flagged(wire.RST, 0)), 1)}
	if n := r.sent(clientName, flagged(wire.FIN, 0)); n > 0 {
		errs = append(errs, fmt.Errorf("client: sent %d FIN segments, want none: an abort sends RST", n))
	}
	var abortAt *trace.Event
	for i := range r.Events {
		if e := &r.Events[i]; e.Kind == trace.SegmentOut && e.Host == clientName && e.Seg.Flags&wire.RST != 0 {
			abortAt = e
			break
		}
	}
	srv := w.Host(serverName)
	reset := estabResets(w.Host(serverName)) > 0 || attemptFails(w.Host(serverName)) > 0
	switch {
	case reset && srv.Conn() != nil:
		errs = append(errs, expectErr(srv, tcp.ErrConnReset))
	case reset:
		r.excuse(serverName, "the client's RST reached the server before the server's program accepted the connection, so the connection ended in the accept queue and the server's accept never returned it")
	case abortAt != nil:
		var lost []packet
		for i := range r.Events {
			e := &r.Events[i]
			if (e.Kind != trace.LinkDrop && e.Kind != trace.LinkCorrupt) || e.At < abortAt.At {
				continue
			}
			if linkSender(e) == serverName || e.Seg.Flags&wire.RST != 0 {
				lost = append(lost, packetName(e))
			}
		}
		if len(lost) == 0 {
			errs = append(errs, fmt.Errorf("server: the client's RST reached it, but its connection was not reset"))
			break
		}
		r.excuse(serverName, "the link lost or corrupted %s: an RST is neither acknowledged nor retransmitted, so the server's connection stays open, and the server learns of the abort only when it next sends", packets{list: lost})
	}
	return all(errs...)
}
