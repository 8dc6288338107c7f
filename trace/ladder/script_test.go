package ladder

import (
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// A script writes the events a simulation of two hosts on a link would
// record, so that tests read like the exchange they describe.

type host struct {
	name string
	ap   netip.AddrPort
	isn  seq.Value
}

var (
	client = &host{"client", netip.MustParseAddrPort("198.18.0.2:40000"), 1000}
	server = &host{"server", netip.MustParseAddrPort("198.18.0.1:80"), 5000}
)

const ms = time.Millisecond

type sent struct {
	from, to *host
	seg      wire.Segment
	n        int
}

type script struct {
	ev    []trace.Event
	now   clock.Time
	id    uint64
	sent  map[uint64]sent
	links bool // record the link's events (false: a real network)
}

func newScript() *script { return &script{sent: map[uint64]sent{}, links: true} }

func (s *script) at(d time.Duration) *script {
	s.now = clock.Time(d)
	return s
}

func (s *script) add(e trace.Event) {
	e.At = s.now
	s.ev = append(s.ev, e)
}

func path(from, to *host) string { return from.name + "->" + to.name }

// seg makes a segment from one host to another with seq and ack relative to
// their ISNs; a SYN carries an MSS option.
func seg(from, to *host, flags string, rseq, rack uint32) wire.Segment {
	f, ok := wire.ParseFlags(flags)
	if !ok {
		panic("bad flags " + flags)
	}
	sg := wire.Segment{
		SrcPort: from.ap.Port(), DstPort: to.ap.Port(), Flags: f, Window: 65535,
		Seq: from.isn + seq.Value(rseq),
	}
	if f&wire.ACK != 0 {
		sg.Ack = to.isn + seq.Value(rack)
	}
	if f&wire.SYN != 0 {
		sg.Options.HasMSS, sg.Options.MSS = true, 1460
	}
	return sg
}

// out records from sending a segment and, with links, the link taking it;
// it returns the link's packet id.
func (s *script) out(from, to *host, sg wire.Segment, n int, retransmit bool, reason string) uint64 {
	e := trace.Event{Kind: trace.SegmentOut, Host: from.name, Local: from.ap, Remote: to.ap,
		Retransmit: retransmit, Reason: reason}
	sg.Payload = make([]byte, n)
	e.SetSegment(&sg)
	s.add(e)
	s.id++
	s.sent[s.id] = sent{from, to, e.Seg, n}
	if s.links {
		s.add(trace.Event{Kind: trace.LinkSend, Host: path(from, to), PacketID: s.id,
			Local: from.ap, Remote: to.ap, Seg: e.Seg, PayloadLen: n})
	}
	return s.id
}

func (s *script) send(from, to *host, flags string, rseq, rack uint32, n int) uint64 {
	return s.out(from, to, seg(from, to, flags, rseq, rack), n, false, "")
}

func (s *script) resend(from, to *host, flags string, rseq, rack uint32, n int, reason string) uint64 {
	return s.out(from, to, seg(from, to, flags, rseq, rack), n, true, reason)
}

func (s *script) linkEvent(k trace.Kind, id uint64, reason string) {
	p := s.sent[id]
	s.add(trace.Event{Kind: k, Host: path(p.from, p.to), PacketID: id, Reason: reason})
}

// deliver records the link delivering packet id and the receiver taking it.
func (s *script) deliver(id uint64) {
	if s.links {
		s.linkEvent(trace.LinkDeliver, id, "")
	}
	p := s.sent[id]
	s.add(trace.Event{Kind: trace.SegmentIn, Host: p.to.name, Local: p.to.ap, Remote: p.from.ap,
		Seg: p.seg, PayloadLen: p.n})
}

// reject records the link delivering packet id and the receiver dropping it.
func (s *script) reject(id uint64, reason string) {
	if s.links {
		s.linkEvent(trace.LinkDeliver, id, "")
	}
	p := s.sent[id]
	s.add(trace.Event{Kind: trace.Drop, Host: p.to.name, Local: p.to.ap, Remote: p.from.ap,
		Seg: p.seg, PayloadLen: p.n, Reason: reason})
}

// lose records the link dropping packet id for cause, with detail.
func (s *script) lose(id uint64, cause trace.LinkDropCause, detail string) {
	p := s.sent[id]
	s.add(trace.Event{Kind: trace.LinkDrop, Host: path(p.from, p.to), PacketID: id, LinkCause: cause, Reason: detail})
}

func (s *script) hold(id uint64, reason string) { s.linkEvent(trace.LinkHold, id, reason) }
func (s *script) corrupt(id uint64)             { s.linkEvent(trace.LinkCorrupt, id, "") }

// dup records the link copying packet id; it returns the copy's id.
func (s *script) dup(id uint64) uint64 {
	p := s.sent[id]
	s.id++
	s.sent[s.id] = p
	s.add(trace.Event{Kind: trace.LinkDuplicate, Host: path(p.from, p.to), PacketID: id, Dup: s.id})
	return s.id
}

// state records h (connected to peer, or listening if peer is nil) moving
// from one state to another.
func (s *script) state(h, peer *host, from, to state.State) {
	e := trace.Event{Kind: trace.State, Host: h.name, Local: h.ap, From: from, To: to}
	if peer != nil {
		e.Remote = peer.ap
	}
	s.add(e)
}

func (s *script) timer(h, peer *host, k trace.Kind, name string, deadline time.Duration) {
	s.add(trace.Event{Kind: k, Host: h.name, Local: h.ap, Remote: peer.ap, Timer: name,
		Deadline: clock.Time(deadline)})
}

func (s *script) note(h, peer *host, reason string) {
	s.add(trace.Event{Kind: trace.Note, Host: h.name, Local: h.ap, Remote: peer.ap, Reason: reason})
}

// handshake opens client -> server at t0 with 50 ms each way; it ends at
// t0+150ms with both ESTABLISHED. With req > 0 the client sends a request of
// req bytes with its ACK; handshake returns the request's packet id.
func (s *script) handshake(t0 time.Duration, req int) (request uint64) {
	s.at(t0)
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.timer(client, server, trace.TimerSet, "retransmit", t0+time.Second)
	s.at(t0 + 50*ms)
	s.deliver(syn)
	s.state(server, client, state.Listen, state.SynReceived)
	synack := s.send(server, client, "SA", 0, 1, 0)
	s.timer(server, client, trace.TimerSet, "retransmit", t0+50*ms+time.Second)
	s.at(t0 + 100*ms)
	s.deliver(synack)
	s.timer(client, server, trace.TimerStop, "retransmit", 0)
	s.state(client, server, state.SynSent, state.Established)
	ack := s.send(client, server, "A", 1, 1, 0)
	if req > 0 {
		request = s.send(client, server, "PA", 1, 1, req)
		s.timer(client, server, trace.TimerSet, "retransmit", t0+100*ms+time.Second)
	}
	s.at(t0 + 150*ms)
	s.deliver(ack)
	s.timer(server, client, trace.TimerStop, "retransmit", 0)
	s.state(server, client, state.SynReceived, state.Established)
	return request
}
