package ladder

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// This file decides which two hosts and which connection a diagram shows,
// and which events belong to it.

func isHostKind(k trace.Kind) bool {
	switch k {
	case trace.SegmentOut, trace.SegmentIn, trace.State, trace.TimerSet,
		trace.TimerFired, trace.TimerStop, trace.Drop, trace.Note, trace.Metrics,
		trace.ICMPIn:
		return true
	}
	return false
}

func isLinkKind(k trace.Kind) bool {
	switch k {
	case trace.LinkSend, trace.LinkDeliver, trace.LinkDrop, trace.LinkDuplicate,
		trace.LinkCorrupt, trace.LinkHold:
		return true
	}
	return false
}

// endpoint is one end of a connection: a name, and an address if the events
// carry one.
type endpoint struct {
	name string
	ap   netip.AddrPort
}

// same reports whether two endpoints are the same end: by address when both
// have one, else by name.
func (e endpoint) same(f endpoint) bool {
	if e.ap.IsValid() && f.ap.IsValid() {
		return e.ap == f.ap
	}
	return e.name == f.name
}

// connKey identifies a connection: its two addresses in order, or, when the
// events carry no addresses, its two host names in order.
type connKey struct {
	a, b   netip.AddrPort
	na, nb string
}

func keyOf(x, y endpoint) connKey {
	if x.ap.IsValid() && y.ap.IsValid() {
		if x.ap.Compare(y.ap) > 0 {
			x, y = y, x
		}
		return connKey{a: x.ap, b: y.ap}
	}
	if x.name > y.name {
		x, y = y, x
	}
	return connKey{na: x.name, nb: y.name}
}

func (k connKey) byName() bool { return !k.a.IsValid() }

// view is how one event relates to connections.
type view struct {
	// ok: the event names a connection (ends from and to); otherwise, if
	// host != "", it is a host event with no usable addresses.
	ok       bool
	from, to endpoint
	host     string
}

type conn struct {
	key     connKey
	ends    [2]endpoint // ends[0] is the first sender seen
	synFrom int         // index in ends of the first SYN's sender, -1 if none
}

type linkKey struct {
	path string
	id   uint64
}

// names maps addresses to host names, learned from the events.
type names struct {
	ep   map[netip.AddrPort]string
	addr map[netip.Addr]string
}

func learnNames(events []trace.Event) *names {
	n := &names{ep: map[netip.AddrPort]string{}, addr: map[netip.Addr]string{}}
	learn := func(ap netip.AddrPort, name string) {
		if !ap.IsValid() || name == "" {
			return
		}
		if _, ok := n.ep[ap]; !ok {
			n.ep[ap] = name
		}
		if _, ok := n.addr[ap.Addr()]; !ok {
			n.addr[ap.Addr()] = name
		}
	}
	// A host's own events name its addresses; link paths ("client->server")
	// name the hosts that recorded nothing.
	for i := range events {
		if e := &events[i]; isHostKind(e.Kind) {
			learn(e.Local, e.Host)
		}
	}
	for i := range events {
		if e := &events[i]; e.Kind == trace.LinkSend {
			from, to := splitPath(e.Host)
			learn(e.Local, from)
			learn(e.Remote, to)
		}
	}
	return n
}

// splitPath splits a link path name "a->b" into its ends.
func splitPath(path string) (from, to string) {
	from, to, ok := strings.Cut(path, "->")
	if !ok {
		return "", ""
	}
	return strings.TrimSpace(from), strings.TrimSpace(to)
}

func (n *names) of(ap netip.AddrPort, fallback string) endpoint {
	if !ap.IsValid() {
		if fallback == "" {
			fallback = "?"
		}
		return endpoint{name: fallback}
	}
	if name, ok := n.ep[ap]; ok {
		return endpoint{name, ap}
	}
	if name, ok := n.addr[ap.Addr()]; ok {
		return endpoint{name, ap}
	}
	if fallback != "" {
		return endpoint{fallback, ap}
	}
	return endpoint{ap.String(), ap}
}

// views relates each event to a connection and lists the connections in
// order of first appearance.
func views(events []trace.Event, n *names) ([]view, []*conn) {
	vs := make([]view, len(events))
	sent := map[linkKey]view{}
	byKey := map[connKey]*conn{}
	var conns []*conn
	for i := range events {
		e := &events[i]
		var v view
		switch {
		case isHostKind(e.Kind):
			if e.Local.IsValid() && e.Remote.IsValid() {
				local := endpoint{e.Host, e.Local}
				remote := n.of(e.Remote, "")
				v = view{ok: true, from: local, to: remote}
				if e.Kind == trace.SegmentIn {
					v.from, v.to = remote, local
				}
			} else {
				v = view{host: e.Host}
			}
		case e.Kind == trace.LinkSend:
			pf, pt := splitPath(e.Host)
			v = view{ok: true, from: n.of(e.Local, pf), to: n.of(e.Remote, pt)}
			sent[linkKey{e.Host, e.PacketID}] = v
		case isLinkKind(e.Kind):
			v = sent[linkKey{e.Host, e.PacketID}]
			if e.Kind == trace.LinkDuplicate && v.ok {
				sent[linkKey{e.Host, e.Dup}] = v
			}
		}
		vs[i] = v
		if !v.ok {
			continue
		}
		k := keyOf(v.from, v.to)
		c := byKey[k]
		if c == nil {
			c = &conn{key: k, ends: [2]endpoint{v.from, v.to}, synFrom: -1}
			byKey[k] = c
			conns = append(conns, c)
		}
		if c.synFrom < 0 && isSYN(e) {
			c.synFrom = 1
			if c.ends[0].same(v.from) {
				c.synFrom = 0
			}
		}
	}
	return vs, conns
}

// isSYN reports an event that shows a segment with SYN and without ACK.
func isSYN(e *trace.Event) bool {
	switch e.Kind {
	case trace.SegmentOut, trace.SegmentIn, trace.LinkSend:
		return e.Seg.Flags&(wire.SYN|wire.ACK) == wire.SYN
	}
	return false
}

// selection is the chosen connection, ends[Left] and ends[Right].
type selection struct {
	key   connKey
	ends  [2]endpoint
	notes []string
}

func choose(conns []*conn, opt Options) (*selection, error) {
	if len(conns) == 0 {
		return nil, errors.New("ladder: the events show no connection between two hosts")
	}
	if opt.Left != "" && opt.Left == opt.Right {
		return nil, fmt.Errorf("ladder: Left and Right are both %q", opt.Left)
	}
	var cands []*conn
	for _, c := range conns {
		if fits(c, opt.Left) && fits(c, opt.Right) {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("ladder: no connection between %s and %s (hosts: %s)",
			orAny(opt.Left), orAny(opt.Right), strings.Join(hostNames(conns), ", "))
	}
	var c *conn
	switch {
	case opt.Conn > len(cands) || opt.Conn < 0:
		return nil, fmt.Errorf("ladder: Conn %d: there are %d connections", opt.Conn, len(cands))
	case opt.Conn > 0:
		c = cands[opt.Conn-1]
	default:
		c = cands[0]
		for _, x := range cands {
			if x.synFrom >= 0 {
				c = x
				break
			}
		}
	}
	left := 0
	switch {
	case opt.Left != "":
		if !matches(c.ends[0], opt.Left) {
			left = 1
		}
	case opt.Right != "":
		if matches(c.ends[0], opt.Right) {
			left = 1
		}
	case c.synFrom >= 0:
		left = c.synFrom
	}
	sel := &selection{key: c.key, ends: [2]endpoint{c.ends[left], c.ends[1-left]}}
	if hs := hostNames(conns); len(hs) > 2 {
		sel.notes = append(sel.notes, fmt.Sprintf("the events name %d hosts (%s); showing %s and %s",
			len(hs), strings.Join(hs, ", "), sel.ends[0].name, sel.ends[1].name))
	}
	if len(cands) > 1 {
		i := 1
		for cands[i-1] != c {
			i++
		}
		a, b := sel.ends[0], sel.ends[1]
		if a.ap.IsValid() && b.ap.IsValid() {
			// The names apart from the addresses, so that a translation
			// (i18n's TrFilled) finds each name.
			sel.notes = append(sel.notes, fmt.Sprintf("showing connection %d of %d (%s %s <-> %s %s); Options.Conn chooses",
				i, len(cands), a.name, a.ap, b.name, b.ap))
		} else {
			sel.notes = append(sel.notes, fmt.Sprintf("showing connection %d of %d (%s <-> %s); Options.Conn chooses",
				i, len(cands), endTitle(a), endTitle(b)))
		}
	}
	return sel, nil
}

func endTitle(e endpoint) string {
	if e.ap.IsValid() {
		return e.name + " " + e.ap.String()
	}
	return e.name
}

func orAny(name string) string {
	if name == "" {
		return "any host"
	}
	return fmt.Sprintf("%q", name)
}

// matches reports whether an option names the endpoint: by host name, or by
// address for a host known only by its address.
func matches(e endpoint, name string) bool {
	return e.name == name || (e.ap.IsValid() && e.ap.String() == name)
}

func fits(c *conn, name string) bool {
	return name == "" || matches(c.ends[0], name) || matches(c.ends[1], name)
}

func hostNames(conns []*conn) []string {
	seen := map[string]bool{}
	var hs []string
	for _, c := range conns {
		for _, e := range c.ends {
			if !seen[e.name] {
				seen[e.name] = true
				hs = append(hs, e.name)
			}
		}
	}
	sort.Strings(hs)
	return hs
}

// side tells which column an event belongs to and from which side it is
// drawn (the sender for segments and link events, else the host); ok is
// false for events of other connections.
func (s *selection) side(e *trace.Event, v view) (Side, bool) {
	if v.ok {
		k := keyOf(v.from, v.to)
		if k != s.key && !(k.byName() && s.names(v.from.name, v.to.name)) {
			return 0, false
		}
		// Host events are drawn from the host; a SegmentIn's view runs from
		// the remote end, so look at the receiving end.
		end := v.from
		if e.Kind == trace.SegmentIn {
			end = v.to
		}
		if end.same(s.ends[Left]) {
			return Left, true
		}
		if end.same(s.ends[Right]) {
			return Right, true
		}
		return 0, false
	}
	if v.host == "" {
		return 0, false
	}
	// A host event without both addresses (a listener's, or one about a
	// packet that could not be parsed): the host's address if it has one,
	// else its name, unless both ends have that name.
	for _, sd := range []Side{Left, Right} {
		if e.Local.IsValid() && e.Local == s.ends[sd].ap {
			return sd, true
		}
	}
	l, r := v.host == s.ends[Left].name, v.host == s.ends[Right].name
	switch {
	case l && !r:
		return Left, true
	case r && !l:
		return Right, true
	}
	return 0, false
}

// names reports whether the two names are the selection's two hosts.
func (s *selection) names(a, b string) bool {
	l, r := s.ends[Left].name, s.ends[Right].name
	return (a == l && b == r) || (a == r && b == l)
}
