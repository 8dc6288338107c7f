package netsim

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	clientAddr = netip.MustParseAddr("198.18.0.2")
	serverAddr = netip.MustParseAddr("198.18.0.1")
	otherAddr  = netip.MustParseAddr("198.18.0.3")
)

// ms is a virtual instant n milliseconds after the epoch.
func ms(n float64) clock.Time { return clock.Time(n * float64(time.Millisecond)) }

// newNet returns a network with a client, a server and an "other" host.
func newNet(t testing.TB, seed uint64, rec trace.Recorder) *Network {
	t.Helper()
	n := NewNetwork(seed, rec)
	for _, h := range []struct {
		name string
		addr netip.Addr
	}{{"client", clientAddr}, {"server", serverAddr}, {"other", otherAddr}} {
		if err := n.AddHost(h.name, h.addr); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func setPath(t testing.TB, n *Network, from, to string, imp Impairment) {
	t.Helper()
	if err := n.SetPath(from, to, imp); err != nil {
		t.Fatal(err)
	}
}

func addRule(t testing.TB, n *Network, from, to string, r Rule) {
	t.Helper()
	if err := n.AddRule(from, to, r); err != nil {
		t.Fatal(err)
	}
}

// seg builds a packet from src to dst with the given flags, sequence number
// and payload length. The sequence number identifies packets in tests.
func seg(src, dst netip.Addr, flags wire.Flags, sn uint32, payload int) []byte {
	p := wire.Packet{
		IP: wire.IPv4{TTL: 64, Src: src, Dst: dst},
		TCP: wire.Segment{
			SrcPort: 40000, DstPort: 80,
			Seq: seq.Value(sn), Ack: 1, Flags: flags, Window: 65535,
			Payload: make([]byte, payload),
		},
	}
	if src == serverAddr {
		p.TCP.SrcPort, p.TCP.DstPort = 80, 40000
	}
	return p.Append(nil)
}

// c2s is a client->server packet; s2c the reverse.
func c2s(flags wire.Flags, sn uint32, payload int) []byte {
	return seg(clientAddr, serverAddr, flags, sn, payload)
}
func s2c(flags wire.Flags, sn uint32, payload int) []byte {
	return seg(serverAddr, clientAddr, flags, sn, payload)
}

// delivery is one packet handed over by Poll.
type delivery struct {
	at   clock.Time
	to   string
	sn   uint32 // from the TCP header, read without checking the checksum
	data []byte
}

func (d delivery) String() string { return fmt.Sprintf("%v %s seq=%d", d.at, d.to, d.sn) }

// drain polls the network at each deadline up to and including until.
func drain(n *Network, until clock.Time) []delivery {
	var out []delivery
	for {
		t := n.NextDeadline()
		if t == clock.Never || t > until {
			return out
		}
		n.Poll(t, func(to string, b []byte) {
			out = append(out, newDelivery(t, to, b))
		})
	}
}

func newDelivery(t clock.Time, to string, b []byte) delivery {
	d := delivery{at: t, to: to, data: slices.Clone(b)}
	if len(b) >= 28 {
		d.sn = uint32(b[24])<<24 | uint32(b[25])<<16 | uint32(b[26])<<8 | uint32(b[27])
	}
	return d
}

// eventStrings returns the String of every event of the given kinds (all
// kinds when none are given).
func eventStrings(log *trace.Log, kinds ...trace.Kind) []string {
	var out []string
	for i := range log.Events {
		e := &log.Events[i]
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e.String())
		}
	}
	return out
}

func wantDeliveries(t *testing.T, got []delivery, want ...string) {
	t.Helper()
	var g []string
	for _, d := range got {
		g = append(g, d.String())
	}
	if !slices.Equal(g, want) {
		t.Errorf("deliveries:\n got  %s\n want %s", strings.Join(g, "\n      "), strings.Join(want, "\n      "))
	}
}

func wantLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %s\n want %s", what, strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}
