package capture

import (
	"bytes"
	"net/netip"
	"regexp"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var (
	rttNoteRe = regexp.MustCompile(`rtt [^;\s]+ srtt ([^;\s]+) rto ([^;\s]+)`)
	metricsRe = regexp.MustCompile(`cwnd \d+ ssthresh \S+ srtt (\S+) rto (\S+)$`)
)

// comments returns the comment of every packet of a pcapng file.
func comments(t *testing.T, data []byte) []string {
	t.Helper()
	nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for {
		_, _, opts, err := nr.ReadPacketDataWithOptions()
		if err != nil {
			return out
		}
		if len(opts.Comments) != 1 {
			t.Fatalf("packet %d: %d comments", len(out)+1, len(opts.Comments))
		}
		out = append(out, opts.Comments[0])
	}
}

// The SRTT and RTO a comment ends with are those in force at its packet:
// the latest RTT sample's, not those of a Metrics event recorded before the
// sample (the server's "established" comes before the sample of the ACK
// that establishes it). In the demo nothing but RTT samples moves them.
func TestCommentFiguresInForce(t *testing.T) {
	for _, at := range []string{"client", "server"} {
		s, _ := sim.Lookup("demo")
		var buf bytes.Buffer
		w, err := NewPointWriter(&buf, at)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Execute(sim.Overrides{Seed: 1, Recorder: w, Tap: w.Tap}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		var srtt, rto string
		checked := 0
		for i, c := range comments(t, buf.Bytes()) {
			for _, m := range rttNoteRe.FindAllStringSubmatch(c, -1) {
				srtt, rto = m[1], m[2]
			}
			m := metricsRe.FindStringSubmatch(c)
			if m == nil || srtt == "" {
				continue
			}
			checked++
			if m[1] != srtt || m[2] != rto {
				t.Errorf("at %s, packet %d: %q ends with srtt %s rto %s; the latest RTT sample gave srtt %s rto %s", at, i+1, c, m[1], m[2], srtt, rto)
			}
		}
		if checked == 0 {
			t.Errorf("at %s: no comment has both an RTT sample and the metrics", at)
		}
	}
}

// Whichever of a Metrics event and an RTT sample came last gives the
// figures.
func TestCommentFiguresOrder(t *testing.T) {
	local := netip.MustParseAddrPort("198.18.0.1:80")
	remote := netip.MustParseAddrPort("198.18.0.2:5000")
	metrics := func(at clock.Time, srtt, rto time.Duration) *trace.Event {
		return &trace.Event{At: at, Kind: trace.Metrics, Host: "server", Local: local, Remote: remote,
			Cwnd: 14480, Ssthresh: 1<<31 - 1, SRTT: srtt, RTO: rto, Reason: "test"}
	}
	note := func(at clock.Time, s string) *trace.Event {
		return &trace.Event{At: at, Kind: trace.Note, Host: "server", Local: local, Remote: remote, Reason: s}
	}
	p := wire.Packet{IP: wire.IPv4{TTL: 64, Src: remote.Addr(), Dst: local.Addr()},
		TCP: wire.Segment{SrcPort: remote.Port(), DstPort: local.Port(), Flags: wire.ACK, Seq: 1, Ack: 1, Window: 100}}
	pkt := p.Append(nil)
	for _, tc := range []struct {
		name   string
		events []*trace.Event
		want   string
	}{
		{"sample after metrics", []*trace.Event{metrics(1, 0, time.Second), note(1, "rtt 100ms srtt 100ms rto 300ms")},
			"srtt 100ms rto 300ms"},
		{"metrics after sample", []*trace.Event{note(1, "rtt 100ms srtt 100ms rto 300ms"), metrics(1, 100*time.Millisecond, 600*time.Millisecond)},
			"srtt 100ms rto 600ms"},
		{"sample before the connection's first metrics", []*trace.Event{note(1, "rtt 100ms srtt 100ms rto 300ms")}, ""},
	} {
		var buf bytes.Buffer
		w, err := NewPointWriter(&buf, "server")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range tc.events {
			w.Record(e)
		}
		w.Tap(1, "server", false, pkt)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		c := comments(t, buf.Bytes())[0]
		m := metricsRe.FindStringSubmatch(c)
		got := ""
		if m != nil {
			got = "srtt " + m[1] + " rto " + m[2]
		}
		if got != tc.want {
			t.Errorf("%s: comment %q: figures %q, want %q", tc.name, c, got, tc.want)
		}
	}
}
