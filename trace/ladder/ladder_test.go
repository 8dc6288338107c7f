package ladder

import (
	"flag"
	goldenpkg "github.com/gosynack/synack/internal/golden"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/state"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/wire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenpkg.Check(t, filepath.Join("testdata", name+".golden"), got, *update, "./trace/ladder")
}

func render(t *testing.T, events []trace.Event, opt Options) string {
	t.Helper()
	got, err := Text(events, opt)
	if err != nil {
		t.Fatal(err)
	}
	checkAligned(t, got)
	return got
}

// checkAligned checks that every line of the diagram has its lifelines in
// the same two columns as the header, counting columns as a terminal does
// (a Chinese character takes two).
func checkAligned(t *testing.T, text string) {
	t.Helper()
	var cols []int
	for _, line := range strings.Split(text, "\n") {
		var rails []int
		col := 0
		for _, r := range line {
			if strings.ContainsRune("│├┤|", r) {
				rails = append(rails, col)
			}
			col += i18n.Width(string(r))
		}
		if len(rails) < 2 || strings.HasPrefix(line, "legend") || strings.HasPrefix(line, "note") ||
			strings.HasPrefix(line, "图例") || strings.HasPrefix(line, "注") {
			continue
		}
		got := []int{rails[0], rails[len(rails)-1]}
		if cols == nil {
			cols = got
			continue
		}
		if got[0] != cols[0] || got[1] != cols[1] {
			t.Errorf("lifelines at columns %v, want %v:\n%s", got, cols, line)
		}
	}
	if cols == nil {
		t.Errorf("no lifelines in:\n%s", text)
	}
}

// fullExchange is the demo: handshake, one HTTP request and response, the
// client closes first, the server a little later, TIME-WAIT runs out.
func fullExchange() []trace.Event {
	s := newScript()
	req := s.handshake(0, 78)
	s.deliver(req)
	resp := s.send(server, client, "PA", 1, 79, 512)
	s.timer(server, client, trace.TimerSet, "retransmit", 1150*ms)
	s.at(200 * ms)
	s.deliver(resp)
	s.timer(client, server, trace.TimerStop, "retransmit", 0)
	// The client has its response and closes: FIN-WAIT-1.
	s.state(client, server, state.Established, state.FinWait1)
	fin := s.send(client, server, "FA", 79, 513, 0)
	s.timer(client, server, trace.TimerSet, "retransmit", 1200*ms)
	s.at(250 * ms)
	s.deliver(fin)
	s.timer(server, client, trace.TimerStop, "retransmit", 0)
	s.state(server, client, state.Established, state.CloseWait)
	ackFin := s.send(server, client, "A", 513, 80, 0)
	s.at(300 * ms)
	s.deliver(ackFin)
	s.timer(client, server, trace.TimerStop, "retransmit", 0)
	s.state(client, server, state.FinWait1, state.FinWait2)
	// The server's application closes too: LAST-ACK.
	s.state(server, client, state.CloseWait, state.LastAck)
	fin2 := s.send(server, client, "FA", 513, 80, 0)
	s.timer(server, client, trace.TimerSet, "retransmit", 1300*ms)
	s.at(350 * ms)
	s.deliver(fin2)
	s.state(client, server, state.FinWait2, state.TimeWait)
	last := s.send(client, server, "A", 80, 514, 0)
	s.timer(client, server, trace.TimerSet, "time-wait", 60350*ms)
	s.at(400 * ms)
	s.deliver(last)
	s.timer(server, client, trace.TimerStop, "retransmit", 0)
	s.state(server, client, state.LastAck, state.Closed)
	s.at(60350 * ms)
	s.timer(client, server, trace.TimerFired, "time-wait", 0)
	s.state(client, server, state.TimeWait, state.Closed)
	return s.ev
}

func TestHandshakeDataClose(t *testing.T) {
	golden(t, "handshake", render(t, fullExchange(), Options{}))
}

func TestHandshakeTimersASCII(t *testing.T) {
	golden(t, "handshake_timers_ascii", render(t, fullExchange(), Options{Timers: true, Notes: true, ASCII: true}))
}

func TestHandshakeAbsoluteServerLeft(t *testing.T) {
	golden(t, "handshake_absolute_server_left", render(t, fullExchange(), Options{Left: "server", Absolute: true, NoLegend: true}))
}

// The link drops the first SYN; the client's retransmission timer fires and
// it sends the SYN again (RFC 9293 §3.8.1, RFC 6298 §5).
func TestLostSYN(t *testing.T) {
	s := newScript()
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.lose(syn, trace.LinkRule, "drop 1st S !A")
	s.timer(client, server, trace.TimerSet, "retransmit", time.Second)
	s.at(time.Second)
	s.timer(client, server, trace.TimerFired, "retransmit", 0)
	syn2 := s.resend(client, server, "S", 0, 0, 0, "RTO")
	s.timer(client, server, trace.TimerSet, "retransmit", 3*time.Second)
	s.at(1050 * ms)
	s.deliver(syn2)
	s.state(server, client, state.Listen, state.SynReceived)
	synack := s.send(server, client, "SA", 0, 1, 0)
	s.at(1100 * ms)
	s.deliver(synack)
	s.timer(client, server, trace.TimerStop, "retransmit", 0)
	s.state(client, server, state.SynSent, state.Established)
	ack := s.send(client, server, "A", 1, 1, 0)
	s.at(1150 * ms)
	s.deliver(ack)
	s.state(server, client, state.SynReceived, state.Established)
	golden(t, "lost_syn", render(t, s.ev, Options{Timers: true}))
}

// The link duplicates a data segment; the copy arrives after the original
// and is no longer acceptable: the server drops it and acknowledges again
// (RFC 9293 §3.10.7.4, first check).
func TestDuplicate(t *testing.T) {
	s := newScript()
	s.handshake(0, 0)
	s.at(200 * ms)
	data := s.send(client, server, "PA", 1, 1, 100)
	cp := s.dup(data)
	s.at(250 * ms)
	s.deliver(data)
	ack := s.send(server, client, "A", 1, 101, 0)
	s.at(270 * ms)
	s.reject(cp, "unacceptable segment")
	dupack := s.out(server, client, seg(server, client, "A", 1, 101), 0, false, "ACK of an unacceptable segment")
	s.at(300 * ms)
	s.deliver(ack)
	s.at(320 * ms)
	s.deliver(dupack)
	golden(t, "duplicate", render(t, s.ev, Options{}))
}

// The link holds the first SYN back; the client retransmits, the
// connection opens, and then the old SYN arrives: the server answers a SYN
// in ESTABLISHED with a challenge ACK (RFC 5961 §4.2).
func TestHeldSYN(t *testing.T) {
	s := newScript()
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.hold(syn, "until 1.500000s")
	s.at(time.Second)
	syn2 := s.resend(client, server, "S", 0, 0, 0, "RTO")
	s.at(1050 * ms)
	s.deliver(syn2)
	s.state(server, client, state.Listen, state.SynReceived)
	synack := s.send(server, client, "SA", 0, 1, 0)
	s.at(1100 * ms)
	s.deliver(synack)
	s.state(client, server, state.SynSent, state.Established)
	ack := s.send(client, server, "A", 1, 1, 0)
	s.at(1150 * ms)
	s.deliver(ack)
	s.state(server, client, state.SynReceived, state.Established)
	s.at(1500 * ms)
	s.deliver(syn)
	chal := s.out(server, client, seg(server, client, "A", 1, 1), 0, false, "challenge ACK")
	s.at(1550 * ms)
	s.deliver(chal)
	golden(t, "held_syn", render(t, s.ev, Options{}))
}

// The link flips bits in a data segment; the server's checksum check fails
// and it drops it; the client's RTO sends it again.
func TestCorrupt(t *testing.T) {
	s := newScript()
	s.handshake(0, 0)
	s.at(200 * ms)
	data := s.send(client, server, "PA", 1, 1, 100)
	s.corrupt(data)
	s.at(250 * ms)
	s.reject(data, "bad checksum")
	s.at(1200 * ms)
	again := s.resend(client, server, "PA", 1, 1, 100, "RTO")
	s.at(1250 * ms)
	s.deliver(again)
	ack := s.send(server, client, "A", 1, 101, 0)
	s.at(1300 * ms)
	s.deliver(ack)
	golden(t, "corrupt", render(t, s.ev, Options{}))
}

// Nobody listens on the port: the server's stack answers the SYN with
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (RFC 9293 §3.10.7.1). The server
// never sent a SYN, so its sequence number is absolute.
func TestRefused(t *testing.T) {
	s := newScript()
	s.state(client, server, state.Closed, state.SynSent)
	syn := s.send(client, server, "S", 0, 0, 0)
	s.at(50 * ms)
	s.deliver(syn)
	rst := seg(server, client, "RA", 0, 1)
	rst.Seq, rst.Window = 0, 0
	r := s.out(server, client, rst, 0, false, "no listener")
	s.at(100 * ms)
	s.deliver(r)
	s.state(client, server, state.SynSent, state.Closed)
	s.note(client, server, "connection refused")
	golden(t, "refused", render(t, s.ev, Options{Notes: true}))
}

// Both hosts send a SYN at once; each answers the other's SYN with a
// SYN-ACK from SYN-RECEIVED (RFC 9293 §3.5, Figure 7).
func TestSimultaneousOpen(t *testing.T) {
	s := newScript()
	s.state(client, server, state.Closed, state.SynSent)
	a := s.send(client, server, "S", 0, 0, 0)
	s.state(server, client, state.Closed, state.SynSent)
	b := s.send(server, client, "S", 0, 0, 0)
	s.at(50 * ms)
	s.deliver(a)
	s.state(server, client, state.SynSent, state.SynReceived)
	sa1 := s.send(server, client, "SA", 0, 1, 0)
	s.deliver(b)
	s.state(client, server, state.SynSent, state.SynReceived)
	sa2 := s.send(client, server, "SA", 0, 1, 0)
	s.at(100 * ms)
	s.deliver(sa1)
	s.state(client, server, state.SynReceived, state.Established)
	s.deliver(sa2)
	s.state(server, client, state.SynReceived, state.Established)
	golden(t, "simultaneous_open", render(t, s.ev, Options{}))
}

// A real network: only the client records events, the peer is known by its
// address, and nothing says when a segment arrived except the client's own
// receipts.
func TestNoLinkOneSide(t *testing.T) {
	s := newScript()
	s.links = false
	s.state(client, server, state.Closed, state.SynSent)
	s.send(client, server, "S", 0, 0, 0)
	s.at(21 * ms)
	s.id++
	s.sent[s.id] = sent{server, client, seg(server, client, "SA", 0, 1), 0}
	s.deliver(s.id)
	s.state(client, server, state.SynSent, state.Established)
	s.send(client, server, "A", 1, 1, 0)
	s.send(client, server, "PA", 1, 1, 78)
	s.at(43 * ms)
	s.id++
	s.sent[s.id] = sent{server, client, seg(server, client, "A", 1, 79), 0}
	s.deliver(s.id)
	s.id++
	rst := seg(server, client, "R", 1, 0)
	s.sent[s.id] = sent{server, client, rst, 0}
	s.deliver(s.id)
	s.state(client, server, state.Established, state.Closed)
	var ev []trace.Event
	for _, e := range s.ev {
		if e.Host == "client" {
			ev = append(ev, e)
		}
	}
	golden(t, "nolink_one_side", render(t, ev, Options{}))
}

// Both hosts record events but the link does not: each SegmentIn is matched
// with its peer's SegmentOut.
func TestNoLinkBothSides(t *testing.T) {
	s := newScript()
	s.links = false
	s.handshake(0, 0)
	golden(t, "nolink_both", render(t, s.ev, Options{}))
}

// The demo must fit a 100-column terminal.
func TestWidth(t *testing.T) {
	for _, opt := range []Options{{}, {ASCII: true}, {Timers: true, Notes: true}} {
		got := render(t, fullExchange(), opt)
		for _, line := range strings.Split(got, "\n") {
			if n := len([]rune(line)); n > 100 {
				t.Errorf("%d columns: %s", n, line)
			}
		}
	}
}

// A third host connects to the server too: the diagram shows the first
// SYN's connection and says what it left out; Options pick the other.
func TestThreeHosts(t *testing.T) {
	other := &host{"other", netip.MustParseAddrPort("198.18.0.3:50000"), 9000}
	s := newScript()
	s.state(server, nil, state.Closed, state.Listen)
	s.state(client, server, state.Closed, state.SynSent)
	a := s.send(client, server, "S", 0, 0, 0)
	s.at(10 * ms)
	s.state(other, server, state.Closed, state.SynSent)
	b := s.send(other, server, "S", 0, 0, 0)
	s.at(50 * ms)
	s.deliver(a)
	s.state(server, client, state.Listen, state.SynReceived)
	s.at(60 * ms)
	s.deliver(b)
	s.state(server, other, state.Listen, state.SynReceived)
	s.send(server, other, "SA", 0, 1, 0)
	golden(t, "three_hosts", render(t, s.ev, Options{}))

	got := render(t, s.ev, Options{Right: "other"})
	if first := strings.SplitN(got, "\n", 2)[0]; first != "server 198.18.0.1:80 ⇄ other 198.18.0.3:50000" {
		t.Errorf("Right: other drew %q", first)
	}
	if !strings.Contains(got, "#2 SA seq=0 ack=1") {
		t.Errorf("the server's SYN-ACK to other is missing:\n%s", got)
	}
}

// Two connections between the same hosts: one at a time, each with its own
// states.
func TestTwoConnections(t *testing.T) {
	s := newScript()
	s.handshake(0, 0)
	c2 := &host{"client", netip.MustParseAddrPort("198.18.0.2:40001"), 7000}
	s.at(time.Second)
	s.state(c2, server, state.Closed, state.SynSent)
	s.send(c2, server, "S", 0, 0, 0)
	d, err := Build(s.ev, Options{Conn: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Packets) != 1 || d.Hosts[Left].Addr != c2.ap || d.Hosts[Left].Initial != "CLOSED" {
		t.Errorf("connection 2: hosts %+v, %d packets", d.Hosts, len(d.Packets))
	}
	if want := "showing connection 2 of 2 (client 198.18.0.2:40001 <-> server 198.18.0.1:80); Options.Conn chooses"; !contains(d.Notes, want) {
		t.Errorf("notes %q lack %q", d.Notes, want)
	}
	if d, _ := Build(s.ev, Options{}); len(d.Packets) != 3 {
		t.Errorf("connection 1 has %d packets, want 3", len(d.Packets))
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestErrors(t *testing.T) {
	ev := fullExchange()
	for _, tc := range []struct {
		name   string
		events []trace.Event
		opt    Options
		want   string
	}{
		{"no events", nil, Options{}, "no events"},
		{"no pair", []trace.Event{{Kind: trace.Note, Host: "client", Reason: "hi"}}, Options{}, "no connection"},
		{"unknown host", ev, Options{Left: "nobody"}, `no connection between "nobody" and any host (hosts: client, server)`},
		{"same host twice", ev, Options{Left: "client", Right: "client"}, "both"},
		{"no such connection", ev, Options{Conn: 2}, "Conn 2: there are 1 connections"},
	} {
		_, err := Build(tc.events, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

// Nonsense is drawn as well as it can be, and said to be nonsense.
func TestOddInput(t *testing.T) {
	t.Run("reversed", func(t *testing.T) {
		ev := fullExchange()
		for i, j := 0, len(ev)-1; i < j; i, j = i+1, j-1 {
			ev[i], ev[j] = ev[j], ev[i]
		}
		d, err := Build(ev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !contains(d.Notes, "events were not in time order; sorted by time") {
			t.Errorf("notes: %q", d.Notes)
		}
		checkAligned(t, text(t, d))
	})
	t.Run("unknown ids", func(t *testing.T) {
		s := newScript()
		s.handshake(0, 0)
		s.add(trace.Event{Kind: trace.LinkDeliver, Host: "client->server", PacketID: 99})
		s.add(trace.Event{Kind: trace.LinkDrop, Host: "server->client", PacketID: 2})
		s.add(trace.Event{Kind: trace.LinkDuplicate, Host: "client->server", PacketID: 1, Dup: 3})
		s.add(trace.Event{Kind: 200, Host: "client"})
		d, err := Build(s.ev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			"1 link events about packets never sent on the link were ignored",
			"1 link events about packets already delivered or lost were ignored",
			"1 link duplicates with an id already in use were ignored",
			"1 events of unknown kind 200 were ignored",
		} {
			if !contains(d.Notes, want) {
				t.Errorf("notes %q lack %q", d.Notes, want)
			}
		}
	})
	t.Run("no SYN", func(t *testing.T) {
		// The trace starts in the middle of a connection.
		s := newScript()
		s.at(time.Second)
		p := s.send(client, server, "PA", 1, 1, 10)
		s.at(time.Second + 50*ms)
		s.deliver(p)
		got := render(t, s.ev, Options{NoLegend: true})
		golden(t, "no_syn", got)
	})
	t.Run("addresses only", func(t *testing.T) {
		// Link events alone, as a capture would give: names come from the
		// link's path, states are unknown.
		s := newScript()
		s.handshake(0, 0)
		var ev []trace.Event
		for _, e := range s.ev {
			if isLinkKind(e.Kind) {
				ev = append(ev, e)
			}
		}
		d, err := Build(ev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if d.Hosts[Left].Name != "client" || d.Hosts[Right].Name != "server" || d.Hosts[Left].Traced || len(d.Packets) != 3 {
			t.Errorf("hosts %+v, %d packets", d.Hosts, len(d.Packets))
		}
		checkAligned(t, text(t, d))
	})
	t.Run("no addresses", func(t *testing.T) {
		// Hand-made events that name hosts and nothing else.
		var ev []trace.Event
		for _, e := range fullExchange() {
			e.Local, e.Remote = netip.AddrPort{}, netip.AddrPort{}
			ev = append(ev, e)
		}
		want := render(t, fullExchange(), Options{NoLegend: true})
		got := render(t, ev, Options{NoLegend: true})
		// Only the title differs: it has no addresses to print.
		if _, g, _ := strings.Cut(got, "\n"); !strings.HasSuffix(want, g) {
			t.Errorf("without addresses:\n%s\nwith:\n%s", got, want)
		}
	})
	t.Run("huge payload", func(t *testing.T) {
		s := newScript()
		s.handshake(0, 0)
		s.ev[2].PayloadLen = 1 << 40
		s.ev[3].PayloadLen = -5
		d, err := Build(s.ev, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d.Packets[0].Label, "len=1048576") {
			t.Errorf("label %q", d.Packets[0].Label)
		}
	})
}

func text(t *testing.T, d *Diagram) string {
	t.Helper()
	var sb strings.Builder
	if err := d.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// FuzzBuild feeds made-up event sequences: Build may refuse them, but must
// not panic, what it draws as text must stay aligned, and its SVG and HTML
// must agree with the model.
func FuzzBuild(f *testing.F) {
	f.Add([]byte("\x01\x00\x00\x00\x02\x00\x07\x02\x00\x01\x02\x00\x08\x03\x00\x01\x00\x00"))
	f.Add([]byte{7, 0, 0, 1, 2, 0, 8, 0, 5, 1, 18, 1, 10, 0, 0, 1, 0, 0, 9, 1, 0, 2, 0, 0, 3, 1, 1, 0, 0, 0})
	f.Fuzz(fuzzOne)
}

func fuzzOne(t *testing.T, data []byte) {
	{
		hosts := []string{"client", "server", "client->server", "server->client", "x"}
		aps := []netip.AddrPort{{}, client.ap, server.ap, netip.MustParseAddrPort("198.18.0.3:1")}
		// State 200 is no state at all; a From of index 0 is unknown.
		states := []state.State{200, state.Closed, state.SynSent, state.Established}
		var ev []trace.Event
		at := clock.Time(0)
		for len(data) >= 6 {
			b := data[:6]
			data = data[6:]
			at += clock.Time(int8(b[1])) * clock.Time(ms)
			e := trace.Event{
				At: at, Kind: trace.Kind(b[0] % 16), Host: hosts[int(b[2])%len(hosts)],
				Local: aps[int(b[3]&3)], Remote: aps[int(b[3]>>2&3)],
				PacketID: uint64(b[4] & 7), Dup: uint64(b[4] >> 3 & 7),
				From: states[int(b[5]&3)], FromUnknown: b[5]&3 == 0, To: states[int(b[5]>>2&3)],
				Retransmit: b[5]&16 != 0, PayloadLen: int(int8(b[5])),
			}
			e.Seg.Flags = wire.Flags(b[4])
			e.Seg.Seq = seq.Value(b[5]) << 28
			e.Seg.Ack = seq.Value(b[1])
			ev = append(ev, e)
		}
		for _, opt := range []Options{{}, {Timers: true, Notes: true, ASCII: true, Left: "server"}} {
			d, err := Build(ev, opt)
			if err != nil {
				continue
			}
			checkAligned(t, text(t, d))
			svgOf(t, d, SVGOptions{})
			htmlOf(t, d, HTMLOptions{})
		}
	}
}
