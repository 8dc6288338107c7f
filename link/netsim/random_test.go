package netsim

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// The rate tests are deterministic: a fixed seed gives the same draws every
// run. The tolerances (about 3.5 standard deviations) say the streams behave
// like the configured probabilities, not that a run may flake.

const trials = 10_000

// within reports whether count is within tol of p*trials.
func within(t *testing.T, what string, count int, p, tol float64) {
	t.Helper()
	got := float64(count) / trials
	if got < p-tol || got > p+tol {
		t.Errorf("%s rate %.4f (%d of %d), want %.3f ± %.3f", what, got, count, trials, p, tol)
	}
}

// sendMany sends trials data packets from client to server, 1ms apart, with
// seq = index, and returns what was sent.
func sendMany(n *Network) [][]byte {
	sent := make([][]byte, trials)
	for i := range trials {
		sent[i] = c2s(wire.ACK|wire.PSH, uint32(i), 100)
		n.Send(ms(float64(i)), "client", sent[i])
	}
	return sent
}

func TestLossRate(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 42, log)
	setPath(t, n, "client", "server", Impairment{Loss: 0.1})
	sendMany(n)
	got := drain(n, clock.Never)
	s := n.Stats("client", "server")
	within(t, "loss", s.Lost, 0.1, 0.01)
	if s.Sent != trials || s.Delivered != len(got) || s.Delivered+s.Lost != trials {
		t.Errorf("stats %v with %d deliveries", s, len(got))
	}
	if drops := eventStrings(log, trace.LinkDrop); len(drops) != s.Lost {
		t.Errorf("%d link-drop events, %d lost", len(drops), s.Lost)
	}
	for _, e := range log.Events {
		if e.Kind == trace.LinkDrop && (e.LinkCause != trace.LinkLoss || e.Why() != "loss") {
			t.Fatalf("drop %s: cause %v, want loss", e.String(), e.LinkCause)
		}
	}
}

func TestDuplicateRate(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 42, log)
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond, Jitter: 2 * time.Millisecond, Duplicate: 0.05})
	sent := sendMany(n)
	got := drain(n, clock.Never)
	s := n.Stats("client", "server")
	within(t, "duplicate", s.Duplicated, 0.05, 0.008)
	if s.Delivered != trials+s.Duplicated || len(got) != s.Delivered {
		t.Errorf("stats %v with %d deliveries", s, len(got))
	}
	// Every copy has its own id, and both it and its original are delivered
	// intact.
	delivered := map[uint64]bool{}
	for _, e := range log.Events {
		if e.Kind == trace.LinkDeliver {
			delivered[e.PacketID] = true
		}
	}
	dups := 0
	for _, e := range log.Events {
		if e.Kind != trace.LinkDuplicate {
			continue
		}
		dups++
		if e.Dup == 0 || e.Dup == e.PacketID || !delivered[e.PacketID] || !delivered[e.Dup] {
			t.Fatalf("duplicate %s: copy #%d, delivered %v/%v", e.String(), e.Dup, delivered[e.PacketID], delivered[e.Dup])
		}
	}
	if dups != s.Duplicated || len(delivered) != s.Delivered {
		t.Errorf("%d link-dup events, %d distinct ids delivered; stats %v", dups, len(delivered), s)
	}
	perSeq := map[uint32]int{}
	for _, d := range got {
		perSeq[d.sn]++
		if !slices.Equal(d.data, sent[d.sn]) {
			t.Fatalf("seq=%d arrived changed", d.sn)
		}
	}
	twice := 0
	for _, c := range perSeq {
		if c == 2 {
			twice++
		}
	}
	if twice != s.Duplicated {
		t.Errorf("%d packets arrived twice, %d duplicated", twice, s.Duplicated)
	}
}

func TestReorderRate(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 42, log)
	// ReorderDelay defaults to Latency/2 = 5ms, so the next 4 packets (1ms
	// apart) overtake a reordered one.
	setPath(t, n, "client", "server", Impairment{Latency: 10 * time.Millisecond, Reorder: 0.1})
	sendMany(n)
	got := drain(n, clock.Never)
	s := n.Stats("client", "server")
	within(t, "reorder", s.Reordered, 0.1, 0.01)
	late, overtaken := 0, 0
	highest := -1
	for _, d := range got {
		switch delay := d.at.Sub(ms(float64(d.sn))); delay {
		case 10 * time.Millisecond:
		case 15 * time.Millisecond:
			late++
		default:
			t.Fatalf("seq=%d delayed %v, want 10ms or 15ms", d.sn, delay)
		}
		if int(d.sn) < highest {
			overtaken++
		}
		highest = max(highest, int(d.sn))
	}
	holds := eventStrings(log, trace.LinkHold)
	if late != s.Reordered || len(holds) != s.Reordered || len(got) != trials {
		t.Errorf("%d late, %d link-hold events, %d deliveries; stats %v", late, len(holds), len(got), s)
	}
	// A reordered packet is overtaken unless the four behind it were all
	// reordered too (p = 1e-4 each): with this seed, every one is.
	if overtaken != s.Reordered {
		t.Errorf("%d packets overtaken, %d reordered", overtaken, s.Reordered)
	}
}

func TestCorruptRate(t *testing.T) {
	log := &trace.Log{}
	n := newNet(t, 42, log)
	setPath(t, n, "client", "server", Impairment{Corrupt: 0.02})
	sent := sendMany(n)
	got := drain(n, clock.Never)
	s := n.Stats("client", "server")
	within(t, "corrupt", s.Corrupted, 0.02, 0.005)
	if len(got) != trials {
		t.Fatalf("%d deliveries", len(got))
	}
	corrupted := 0
	var inHeader, inTCP bool
	for i, d := range got { // no reordering: the i-th delivery is the i-th sent
		switch bitDiff(sent[i], d.data) {
		case 0:
		case 1:
			corrupted++
			if _, err := wire.ParsePacket(d.data); err == nil {
				t.Errorf("packet %d: one bit flipped and the receiver still parses it", i)
			}
			for j := range d.data {
				if d.data[j] != sent[i][j] {
					inHeader = inHeader || j < 20
					inTCP = inTCP || j >= 20
				}
			}
		default:
			t.Fatalf("packet %d: %d bits differ, want 0 or 1", i, bitDiff(sent[i], d.data))
		}
	}
	if corrupted != s.Corrupted || len(eventStrings(log, trace.LinkCorrupt)) != corrupted {
		t.Errorf("%d corrupted deliveries; stats %v", corrupted, s)
	}
	if !inHeader || !inTCP {
		t.Errorf("flips in IPv4 header: %v, in TCP: %v; want both", inHeader, inTCP)
	}
}

// run drives a busy, impaired two-way exchange and returns every delivery
// (time, host, bytes) and every trace event, as strings.
func run(t *testing.T, seed uint64) (deliveries, events []string) {
	log := &trace.Log{}
	n := newNet(t, seed, log)
	imp := Impairment{
		Latency: 10 * time.Millisecond, Jitter: 3 * time.Millisecond,
		Loss: 0.05, Duplicate: 0.05, Reorder: 0.05, Corrupt: 0.05,
		Bandwidth: 10_000_000, QueueLimit: 8,
	}
	setPath(t, n, "client", "server", imp)
	imp.Latency = 7 * time.Millisecond
	setPath(t, n, "server", "client", imp)
	addRule(t, n, "client", "server", Rule{Match: synOnly, Nth: 1, Action: Hold, HoldFor: time.Second})
	addRule(t, n, "server", "client", Rule{Match: Match{Flags: wire.ACK}, Nth: 3, Action: Drop})
	record := func(at clock.Time, to string, b []byte) {
		deliveries = append(deliveries, fmt.Sprintf("%v %s %s", at, to, hex.EncodeToString(b)))
	}
	for i := range 2000 {
		now := clock.Time(i) * clock.Time(250*time.Microsecond)
		for t := n.NextDeadline(); t <= now; t = n.NextDeadline() {
			n.Poll(t, func(to string, b []byte) { record(t, to, b) })
		}
		flags := wire.ACK | wire.PSH
		if i%100 == 0 {
			flags = wire.SYN
		}
		n.Send(now, "client", c2s(flags, uint32(i), i%1400))
		if i%3 == 0 {
			n.Send(now, "server", s2c(wire.ACK, uint32(i), 0))
		}
	}
	for t := n.NextDeadline(); t != clock.Never; t = n.NextDeadline() {
		n.Poll(t, func(to string, b []byte) { record(t, to, b) })
	}
	return deliveries, eventStrings(log)
}

func TestDeterminism(t *testing.T) {
	d1, e1 := run(t, 1)
	d2, e2 := run(t, 1)
	if !slices.Equal(d1, d2) {
		t.Error("same seed, different deliveries")
	}
	if !slices.Equal(e1, e2) {
		t.Error("same seed, different trace")
	}
	d3, e3 := run(t, 2)
	if slices.Equal(d1, d3) || slices.Equal(e1, e3) {
		t.Error("seeds 1 and 2 gave the same run")
	}
	// Everything happened at least once.
	seen := map[string]bool{}
	for _, e := range e1 {
		seen[strings.Fields(e)[2]] = true
	}
	for _, k := range []trace.Kind{trace.LinkDrop, trace.LinkHold, trace.LinkDuplicate, trace.LinkCorrupt} {
		if !seen[k.String()] {
			t.Errorf("the run never recorded %v", k)
		}
	}
}

// Configuring and using other paths does not change what one path does to
// its packets.
func TestPathsAreIndependent(t *testing.T) {
	imp := Impairment{Latency: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Loss: 0.1, Duplicate: 0.1, Reorder: 0.1, Corrupt: 0.1}
	// What happened on client->server, without PacketIDs (the counter is
	// shared by all paths).
	toServer := func(busy bool) []string {
		var out []string
		rec := trace.Func(func(e *trace.Event) {
			if e.Host != "client->server" {
				return
			}
			line := fmt.Sprintf("%v %v %s", e.At, e.Kind, e.Seg.String())
			if e.Kind != trace.LinkDeliver {
				line += " " + e.Reason
			}
			out = append(out, line)
		})
		n := newNet(t, 9, rec)
		if busy {
			setPath(t, n, "server", "client", imp)
			setPath(t, n, "other", "server", imp)
		}
		setPath(t, n, "client", "server", imp)
		for i := range 1000 {
			now := ms(float64(i))
			for t := n.NextDeadline(); t <= now; t = n.NextDeadline() {
				n.Poll(t, nil)
			}
			n.Send(now, "client", c2s(wire.ACK, uint32(i), 10))
			if busy {
				n.Send(now, "server", s2c(wire.ACK, uint32(i), 10))
				n.Send(now, "other", seg(otherAddr, serverAddr, wire.ACK, uint32(i), 10))
			}
		}
		drain(n, clock.Never)
		return out
	}
	quiet, busy := toServer(false), toServer(true)
	if len(quiet) < 2000 {
		t.Fatalf("only %d events", len(quiet))
	}
	if !slices.Equal(quiet, busy) {
		t.Error("traffic on other paths changed client->server")
	}
}

// Nothing a sender hands the network makes it panic, and whatever it
// accepts it eventually delivers or accounts for.
func FuzzSend(f *testing.F) {
	f.Add(c2s(wire.SYN, 1, 0))
	f.Add(c2s(wire.ACK, 1, 50)[:45])
	f.Add([]byte{0x45})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		n := newNet(t, 1, &trace.Log{})
		hosts := n.Hosts()
		for _, from := range hosts {
			for _, to := range hosts {
				setPath(t, n, from, to, Impairment{Corrupt: 1, Duplicate: 1})
			}
		}
		id := n.Send(0, "client", b)
		drain(n, clock.Never)
		var s PathStats
		for _, to := range hosts {
			p := n.Stats("client", to)
			s.Sent += p.Sent
			s.Delivered += p.Delivered
			s.Corrupted += p.Corrupted
		}
		if id == 0 && (s != PathStats{} || n.Rejected() != 1) {
			t.Errorf("rejected, yet stats %v, rejected %d", s, n.Rejected())
		}
		if id != 0 && (s != PathStats{Sent: 1, Delivered: 2, Corrupted: 2} || n.Rejected() != 0) {
			t.Errorf("accepted, stats %v, rejected %d", s, n.Rejected())
		}
	})
}
