package netsim

import (
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

func TestLatency(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "client", "server", Impairment{Latency: 20 * time.Millisecond})
	if got := n.NextDeadline(); got != clock.Never {
		t.Fatalf("idle NextDeadline = %v, want never", got)
	}
	if id := n.Send(ms(5), "client", c2s(wire.SYN, 100, 0)); id != 1 {
		t.Errorf("first PacketID = %d, want 1", id)
	}
	if got := n.NextDeadline(); got != ms(25) {
		t.Fatalf("NextDeadline = %v, want 0.025s", got)
	}
	n.Poll(ms(25)-1, func(string, []byte) { t.Error("delivered 1ns early") })
	wantDeliveries(t, drain(n, clock.Never), "0.025000s server seq=100")

	// An unset path is unimpaired, with zero latency.
	if id := n.Send(ms(30), "server", s2c(wire.SYN|wire.ACK, 500, 0)); id != 2 {
		t.Errorf("second PacketID = %d, want 2", id)
	}
	wantDeliveries(t, drain(n, clock.Never), "0.030000s client seq=500")

	wantLines(t, "events", eventStrings(log),
		"0.005000s client->server link-send #1 198.18.0.2:40000>198.18.0.1:80 S seq=100 ack=- win=65535 len=0",
		"0.025000s client->server link-deliver #1 198.18.0.2:40000>198.18.0.1:80 S seq=100 ack=- win=65535 len=0",
		"0.030000s server->client link-send #2 198.18.0.1:80>198.18.0.2:40000 SA seq=500 ack=1 win=65535 len=0",
		"0.030000s server->client link-deliver #2 198.18.0.1:80>198.18.0.2:40000 SA seq=500 ack=1 win=65535 len=0",
	)
	if s := n.Stats("client", "server"); s != (PathStats{Sent: 1, Delivered: 1}) {
		t.Errorf("stats %v", s)
	}
}

// Jitter spreads arrivals but never lets a packet overtake an earlier one on
// the same path.
func TestJitterKeepsFIFO(t *testing.T) {
	n := newNet(t, 7, nil)
	const lat, jit = 10 * time.Millisecond, 8 * time.Millisecond
	setPath(t, n, "client", "server", Impairment{Latency: lat, Jitter: jit})
	sent := map[uint32]clock.Time{}
	for i := range uint32(1000) {
		at := clock.Time(i) * clock.Time(100*time.Microsecond)
		sent[i] = at
		n.Send(at, "client", c2s(wire.ACK, i, 100))
	}
	got := drain(n, clock.Never)
	if len(got) != 1000 {
		t.Fatalf("%d deliveries, want 1000", len(got))
	}
	delays := map[time.Duration]bool{}
	for i, d := range got {
		if d.sn != uint32(i) {
			t.Fatalf("delivery %d is seq=%d: jitter reordered the path", i, d.sn)
		}
		delay := d.at.Sub(sent[d.sn])
		if delay < lat || delay >= lat+jit {
			t.Fatalf("seq=%d delayed %v, want in [%v, %v)", d.sn, delay, lat, lat+jit)
		}
		delays[delay] = true
	}
	if len(delays) < 100 {
		t.Errorf("only %d distinct delays: jitter is not drawn", len(delays))
	}
}

// Three 1500-byte packets at 12 Mbit/s take 1ms each to serialize; each
// leaves when its last bit is sent and then crosses the latency.
func TestBandwidth(t *testing.T) {
	n := newNet(t, 1, nil)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond, Bandwidth: 12_000_000})
	for i := range uint32(3) {
		n.Send(0, "client", c2s(wire.ACK, i, 1460))
	}
	wantDeliveries(t, drain(n, clock.Never),
		"0.011000s server seq=0",
		"0.012000s server seq=1",
		"0.013000s server seq=2",
	)
	// The link is idle again: a packet sent later starts at once.
	n.Send(ms(20), "client", c2s(wire.ACK, 3, 1460))
	wantDeliveries(t, drain(n, clock.Never), "0.031000s server seq=3")
}

func TestQueueLimitTailDrops(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	setPath(t, n, "client", "server", Impairment{Bandwidth: 12_000_000, QueueLimit: 2})
	// At 0: #1 is serialized at once, #2 and #3 wait, #4 and #5 find the
	// queue full.
	for i := range uint32(5) {
		n.Send(0, "client", c2s(wire.ACK, i+1, 1460))
	}
	// At 1ms #2 starts, so only #3 waits: #6 joins it, #7 is dropped.
	n.Send(ms(1), "client", c2s(wire.ACK, 6, 1460))
	n.Send(ms(1), "client", c2s(wire.ACK, 7, 1460))
	wantDeliveries(t, drain(n, clock.Never),
		"0.001000s server seq=1",
		"0.002000s server seq=2",
		"0.003000s server seq=3",
		"0.004000s server seq=6",
	)
	var dropped []string
	for _, e := range log.Events {
		if e.Kind == trace.LinkDrop {
			if e.LinkCause != trace.LinkQueueFull || e.Reason != "" {
				t.Errorf("drop %s: cause %v, detail %q, want queue full and none", e.String(), e.LinkCause, e.Reason)
			}
			dropped = append(dropped, e.At.String()+" #"+strconv.FormatUint(e.PacketID, 10)+" "+e.Why())
		}
	}
	wantLines(t, "drops", dropped,
		"0.000000s #4 queue full",
		"0.000000s #5 queue full",
		"0.001000s #7 queue full",
	)
	if s := n.Stats("client", "server"); s != (PathStats{Sent: 7, Delivered: 4, QueueDrops: 3}) {
		t.Errorf("stats %v", s)
	}
}

func TestSerialization(t *testing.T) {
	for _, c := range []struct {
		bytes int
		bps   int64
		want  time.Duration
	}{
		{1500, 12_000_000, time.Millisecond},
		{1500, 1_000_000_000, 12 * time.Microsecond},
		{1, 3, 2666666667 * time.Nanosecond}, // rounded up
		{65535, 1, 524280 * time.Second},
		{1 << 40, 1, time.Duration(1<<63 - 1)}, // saturates
	} {
		if got := serialization(c.bytes, c.bps); got != c.want {
			t.Errorf("serialization(%d, %d) = %v, want %v", c.bytes, c.bps, got, c.want)
		}
	}
}

// Packets that cannot be routed are dropped with a reason, never a panic,
// and never reach a path.
func TestAdmission(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 1, log)
	good := c2s(wire.SYN, 1, 0)

	badIPSum := slices.Clone(good)
	badIPSum[10] ^= 1

	for _, c := range []struct {
		name   string
		from   string
		pkt    []byte
		cause  trace.LinkDropCause
		reason string
	}{
		{"nil", "client", nil, trace.LinkMalformed, "malformed: ip: version at offset 0: truncated: 0 bytes"},
		{"garbage", "client", []byte("example: not an IP packet"), trace.LinkMalformed, "malformed: ipv6: header at offset 0: truncated: 25 bytes, need at least 40"},
		{"version 5", "client", []byte("P: not an IP packet"), trace.LinkMalformed, "malformed: ip: version at offset 0: 5, want 4 or 6"},
		{"truncated", "client", good[:30], trace.LinkMalformed, "malformed: ipv4: total length at offset 2: 40 but packet has only 30 bytes"},
		{"ip checksum", "client", badIPSum, trace.LinkMalformed, "malformed: ipv4: header checksum at offset 10:"},
		{"no route", "client", seg(clientAddr, netip.MustParseAddr("198.18.0.9"), wire.SYN, 1, 0), trace.LinkNoRoute, "no route to 198.18.0.9"},
		{"unknown sender", "mallory", good, trace.LinkUnknownSender, `unknown sender "mallory"`},
	} {
		log.Events = nil
		if id := n.Send(ms(1), c.from, c.pkt); id != 0 {
			t.Errorf("%s: PacketID %d, want 0", c.name, id)
		}
		if len(log.Events) != 1 || log.Events[0].Kind != trace.LinkDrop {
			t.Errorf("%s: events %q, want one link-drop", c.name, eventStrings(log))
			continue
		}
		e := log.Events[0]
		if e.Host != c.from || e.PacketID != 0 || e.LinkCause != c.cause || !strings.HasPrefix(e.Why(), c.reason) {
			t.Errorf("%s: got %s, want host %s, reason %q", c.name, e.String(), c.from, c.reason)
		}
	}
	if got := n.Rejected(); got != 7 {
		t.Errorf("Rejected() = %d, want 7", got)
	}
	if got := n.NextDeadline(); got != clock.Never {
		t.Errorf("NextDeadline = %v after rejections", got)
	}
	if s := n.Stats("client", "server"); s != (PathStats{}) {
		t.Errorf("stats %v, want zero", s)
	}
}

// A bad TCP checksum is the receiver's business: the link, like a router,
// lets it through.
func TestBadTCPChecksumCrossesTheLink(t *testing.T) {
	n := newNet(t, 1, nil)
	pkt := c2s(wire.ACK, 9, 10)
	pkt[len(pkt)-1] ^= 0x01
	if id := n.Send(0, "client", pkt); id != 1 {
		t.Fatalf("PacketID %d, want 1", id)
	}
	got := drain(n, clock.Never)
	if len(got) != 1 || !slices.Equal(got[0].data, pkt) {
		t.Fatalf("got %v, want the packet unchanged", got)
	}
	if _, err := wire.ParsePacket(got[0].data); !errors.Is(err, wire.ErrChecksum) {
		t.Errorf("receiver's parse: %v, want a bad checksum", err)
	}
}

// Send copies: the caller may reuse its buffer at once.
func TestSendCopies(t *testing.T) {
	n := newNet(t, 1, nil)
	pkt := c2s(wire.ACK, 9, 10)
	want := slices.Clone(pkt)
	n.Send(0, "client", pkt)
	clear(pkt)
	got := drain(n, clock.Never)
	if len(got) != 1 || !slices.Equal(got[0].data, want) {
		t.Fatalf("got %v, want the packet as sent", got)
	}
}

func TestHosts(t *testing.T) {
	n := newNet(t, 1, nil)
	if got := n.Hosts(); !slices.Equal(got, []string{"client", "server", "other"}) {
		t.Errorf("Hosts() = %q", got)
	}
	if a, ok := n.Addr("server"); !ok || a != serverAddr {
		t.Errorf("Addr(server) = %v, %v", a, ok)
	}
	if name, ok := n.HostByAddr(netip.MustParseAddr("::ffff:198.18.0.2")); !ok || name != "client" {
		t.Errorf("HostByAddr(mapped client) = %q, %v", name, ok)
	}
	if _, ok := n.HostByAddr(netip.MustParseAddr("198.18.0.99")); ok {
		t.Error("HostByAddr found an unknown address")
	}
	for _, c := range []struct {
		name string
		addr string
		want string
	}{
		{"client", "198.18.0.50", `host "client" already exists`},
		{"dup", "198.18.0.1", `address 198.18.0.1 already belongs to "server"`},
		{"", "198.18.0.50", "host name is empty"},
		{"a->b", "198.18.0.50", `contains "->"`},
		{"dup6", "198.18.0.1", `already belongs to "server"`},
		{"router", "198.19.255.254", "is the routers'"},
	} {
		err := n.AddHost(c.name, netip.MustParseAddr(c.addr))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("AddHost(%q, %s) = %v, want %q", c.name, c.addr, err, c.want)
		}
	}
	if err := n.AddHost("zero", netip.Addr{}); err == nil {
		t.Error("AddHost with the zero Addr succeeded")
	}
	if err := n.SetPath("client", "nobody", Impairment{}); err == nil || !strings.Contains(err.Error(), `unknown host "nobody"`) {
		t.Errorf("SetPath to unknown host: %v", err)
	}
	if err := n.SetPath("nobody", "client", Impairment{}); err == nil || !strings.Contains(err.Error(), `unknown host "nobody"`) {
		t.Errorf("SetPath from unknown host: %v", err)
	}
	if err := n.AddRule("client", "nobody", Rule{}); err == nil || !strings.Contains(err.Error(), `unknown host "nobody"`) {
		t.Errorf("AddRule to unknown host: %v", err)
	}
	if err := n.SetPath("client", "server", Impairment{Loss: 2}); err == nil || !strings.Contains(err.Error(), "Loss") {
		t.Errorf("SetPath with Loss 2: %v", err)
	}
}

func TestValidate(t *testing.T) {
	if err := (Impairment{}).Validate(); err != nil {
		t.Errorf("zero Impairment: %v", err)
	}
	full := Impairment{Latency: 1, Jitter: 1, Loss: 1, Duplicate: 1, Reorder: 1, ReorderDelay: 1, Corrupt: 1, Bandwidth: 1, QueueLimit: 1}
	if err := full.Validate(); err != nil {
		t.Errorf("valid Impairment: %v", err)
	}
	nan := 0.0
	nan /= nan
	for _, c := range []struct {
		imp   Impairment
		field string
	}{
		{Impairment{Latency: -1}, "Impairment.Latency"},
		{Impairment{Jitter: -1}, "Impairment.Jitter"},
		{Impairment{Loss: -0.1}, "Impairment.Loss"},
		{Impairment{Loss: nan}, "Impairment.Loss"},
		{Impairment{Duplicate: 1.5}, "Impairment.Duplicate"},
		{Impairment{Reorder: 2}, "Impairment.Reorder"},
		{Impairment{ReorderDelay: -time.Second}, "Impairment.ReorderDelay"},
		{Impairment{Corrupt: -1}, "Impairment.Corrupt"},
		{Impairment{Bandwidth: -1}, "Impairment.Bandwidth"},
		{Impairment{QueueLimit: -1}, "Impairment.QueueLimit"},
	} {
		err := c.imp.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: %v, want an error naming %s", c.imp, err, c.field)
		}
	}
	// Every bad field is reported.
	err := Impairment{Loss: 2, Jitter: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), "Loss") || !strings.Contains(err.Error(), "Jitter") {
		t.Errorf("two bad fields: %v", err)
	}
}

func TestImpairmentString(t *testing.T) {
	for _, c := range []struct {
		imp  Impairment
		want string
	}{
		{Impairment{}, "perfect"},
		{Impairment{Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.01}, "20ms+5ms jitter, 1% loss"},
		{Impairment{Reorder: 0.05, Latency: 10 * time.Millisecond}, "10ms, 5% reorder by 5ms"},
		{Impairment{Bandwidth: 12_000_000, QueueLimit: 20}, "12Mbit/s queue 20"},
		{Impairment{Bandwidth: 1_500_000}, "1500kbit/s"},
		{Impairment{Bandwidth: 1_234_567}, "1.234567Mbit/s"},
		{Impairment{Duplicate: 0.001, Corrupt: 0.5}, "0.1% duplicate, 50% corrupt"},
	} {
		if got := c.imp.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.imp, got, c.want)
		}
	}
}

func TestReorderDelayDefault(t *testing.T) {
	for _, c := range []struct {
		imp  Impairment
		want time.Duration
	}{
		{Impairment{}, time.Millisecond},
		{Impairment{Latency: 40 * time.Millisecond}, 20 * time.Millisecond},
		{Impairment{Latency: 40 * time.Millisecond, ReorderDelay: 3 * time.Millisecond}, 3 * time.Millisecond},
	} {
		if got := c.imp.reorderDelay(); got != c.want {
			t.Errorf("%+v: %v, want %v", c.imp, got, c.want)
		}
	}
}

// A host answering inside deliver on a zero-latency path has its answer
// delivered by the same Poll, after what was already due.
func TestSendFromDeliver(t *testing.T) {
	n := newNet(t, 1, nil)
	n.Send(ms(1), "client", c2s(wire.SYN, 1, 0))
	n.Send(ms(1), "client", c2s(wire.ACK, 2, 0))
	var got []string
	n.Poll(ms(1), func(to string, b []byte) {
		d := newDelivery(ms(1), to, b)
		got = append(got, d.String())
		if to == "server" && d.sn == 1 {
			n.Send(ms(1), "server", s2c(wire.SYN|wire.ACK, 100, 0))
		}
	})
	wantLines(t, "deliveries", got,
		"0.001000s server seq=1",
		"0.001000s server seq=2",
		"0.001000s client seq=100",
	)
}

// Ties in arrival time across paths go in the order packets were scheduled.
func TestTiesInSendOrder(t *testing.T) {
	n := newNet(t, 1, nil)
	setPath(t, n, "client", "server", Impairment{Latency: 5 * time.Millisecond})
	n.Send(ms(0), "client", c2s(wire.ACK, 1, 0))
	n.Send(ms(5), "server", s2c(wire.ACK, 2, 0))
	n.Send(ms(5), "client", seg(clientAddr, otherAddr, wire.ACK, 3, 0))
	n.Send(ms(1), "client", c2s(wire.ACK, 4, 0))
	wantDeliveries(t, drain(n, clock.Never),
		"0.005000s server seq=1",
		"0.005000s client seq=2",
		"0.005000s other seq=3",
		"0.006000s server seq=4",
	)
}

// SendOn takes the named path whatever the destination address: a packet
// for an address no host has still crosses client->server with that path's
// latency. An unknown receiver is rejected.
func TestSendOn(t *testing.T) {
	n := newNet(t, 1, nil)
	setPath(t, n, "client", "server", Impairment{Latency: 20 * time.Millisecond})
	far := netip.MustParseAddr("198.19.1.2")
	if id := n.SendOn(ms(5), "client", "server", seg(clientAddr, far, wire.SYN, 100, 0)); id != 1 {
		t.Fatalf("PacketID = %d, want 1", id)
	}
	wantDeliveries(t, drain(n, clock.Never), "0.025000s server seq=100")
	if id := n.SendOn(ms(30), "client", "nobody", c2s(wire.ACK, 7, 0)); id != 0 || n.Rejected() != 1 {
		t.Fatalf("to an unknown receiver: PacketID %d, %d rejected; want 0, 1", id, n.Rejected())
	}
	if id := n.Send(ms(30), "client", seg(clientAddr, far, wire.ACK, 8, 0)); id != 0 || n.Rejected() != 2 {
		t.Fatalf("Send to %v: PacketID %d, %d rejected; want 0 (no route), 2", far, id, n.Rejected())
	}
}
