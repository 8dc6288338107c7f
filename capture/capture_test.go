package capture

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	goldenpkg "github.com/gosynack/synack/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	goldenpkg.Check(t, filepath.Join("testdata", name+".golden"), got, *update, "./capture")
}

func lineDiff(want, got string) string { return goldenpkg.Diff(want, got) }

func ladderText(t *testing.T, name string, data []byte, opt ladder.Options) string {
	t.Helper()
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	a := Analyze(f)
	var b bytes.Buffer
	if err := a.WriteText(&b, name, a.Conns, opt); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b.String()
}

// The fixtures are captures of the kernel's TCP, recorded by
// testdata/record.sh in network namespaces; each ladder is a golden file.
func TestKernelCaptureGolden(t *testing.T) {
	for _, name := range []string{"normal", "simclose", "rst", "retrans", "zerowin"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name+".pcap"))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name, ladderText(t, name+".pcap", data, ladder.Options{}))
		})
	}
}

// What each fixture is for must be in its ladder: the states and marks
// the capture was recorded to show.
func TestKernelCaptureFacts(t *testing.T) {
	want := map[string][]string{
		"normal":   {"SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT", "CLOSED"},
		"simclose": {"FIN-WAIT-1", "CLOSING", "TIME-WAIT"},
		"rst":      {"RST: reset", "CLOSED", "2 TCP connections", "cut by the snaplen"},
		"retrans":  {"retransmission of #1", "duplicate ACK #1 of", "retransmission of #11"},
		"zerowin":  {"zero window", "zero-window probe", "window full", "window update"},
	}
	for name, facts := range want {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		out := ladderText(t, name, data, ladder.Options{})
		for _, f := range facts {
			if !strings.Contains(out, f) {
				t.Errorf("%s: the ladder does not show %q", name, f)
			}
		}
	}
}

// runWithPcap runs a scenario and writes its pcapng.
func runWithPcap(t *testing.T, name string) (*sim.Run, []byte) {
	t.Helper()
	s, ok := sim.Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "client", "server")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Execute(sim.Overrides{Seed: 1, Recorder: w, Tap: w.Tap})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return r, buf.Bytes()
}

func TestSynackPcapngGolden(t *testing.T) {
	_, data := runWithPcap(t, "demo")
	golden(t, "synack-demo", ladderText(t, "demo.pcapng", data, ladder.Options{}))
}

// Every packet is written twice (sent on the sender's interface, received
// on the receiver's), with its direction, a comment, and the virtual time.
func TestWriterPackets(t *testing.T) {
	r, data := runWithPcap(t, "lost-synack")
	nr, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var outs, ins, lost int
	for {
		pkt, ci, opts, err := nr.ReadPacketDataWithOptions()
		if err != nil {
			break
		}
		if len(opts.Comments) != 1 || opts.Flags == nil {
			t.Fatalf("packet at %v: comments %q, flags %v", ci.Timestamp, opts.Comments, opts.Flags)
		}
		host := []string{"client", "server"}[ci.InterfaceIndex]
		if !strings.HasPrefix(opts.Comments[0], host+" ") {
			t.Errorf("comment %q does not start with the host %q", opts.Comments[0], host)
		}
		switch opts.Flags.Direction {
		case pcapgo.NgEpbFlagDirectionOutbound:
			outs++
		case pcapgo.NgEpbFlagDirectionInbound:
			ins++
		}
		if ci.Timestamp.Before(Epoch) || ci.CaptureLength != len(pkt) {
			t.Errorf("packet at %v, %d bytes of %d", ci.Timestamp, len(pkt), ci.CaptureLength)
		}
		if strings.Contains(opts.Comments[0], "retransmission (RTO)") {
			lost++
		}
	}
	if nr.NInterfaces() != 2 {
		t.Fatalf("%d interfaces, want 2", nr.NInterfaces())
	}
	for i, want := range []string{"client", "server"} {
		in, _ := nr.Interface(i)
		if in.Name != want || in.LinkType != layers.LinkTypeRaw {
			t.Errorf("interface %d: %q link type %v, want %q raw", i, in.Name, in.LinkType, want)
		}
	}
	var sent, delivered, rto int
	for _, e := range r.Events {
		switch {
		case e.Kind == trace.SegmentOut:
			sent++
			if e.Retransmit {
				rto++
			}
		case e.Kind == trace.LinkDeliver:
			delivered++
		}
	}
	if outs != sent || ins != delivered || lost != rto {
		t.Errorf("file has %d sent, %d received, %d retransmissions; trace has %d, %d, %d", outs, ins, lost, sent, delivered, rto)
	}
	if outs == ins {
		t.Errorf("lost-synack loses a packet: want fewer received (%d) than sent (%d)", ins, outs)
	}
}

// The ladder of a synack capture agrees with the ladder of its trace:
// the same arrows (sender, label, time sent, time arrived) and the same
// states in the same order. Two things a capture cannot show are left out:
// a state change with no segment (TIME-WAIT ending) and the link's verdict
// on a lost packet (the capture shows it sent and never received).
func TestRoundTrip(t *testing.T) {
	for _, name := range []string{"demo", "handshake", "close", "half-close", "lost-syn", "lost-synack", "lost-final-ack", "simultaneous-close", "abort", "refused"} {
		t.Run(name, func(t *testing.T) {
			r, data := runWithPcap(t, name)
			want, err := ladder.Build(r.Events, ladder.Options{Left: "client", Right: "server"})
			if err != nil {
				t.Fatal(err)
			}
			f, err := Read(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			a := Analyze(f)
			if len(a.Conns) != 1 {
				t.Fatalf("%d connections, want 1", len(a.Conns))
			}
			got, err := a.Diagram(a.Conns[0], ladder.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Packets) != len(want.Packets) {
				t.Fatalf("%d packets, want %d", len(got.Packets), len(want.Packets))
			}
			for i := range want.Packets {
				w, g := &want.Packets[i], &got.Packets[i]
				arr := func(p *ladder.Packet) time.Duration {
					if p.Fate == ladder.Delivered {
						return time.Duration(p.Arrived)
					}
					return -1
				}
				if w.From != g.From || w.Label != g.Label || w.Sent != g.Sent || arr(w) != arr(g) || w.Retransmit != g.Retransmit {
					t.Errorf("packet #%d: capture %v %q sent %v arrived %v retransmit %v; trace %v %q sent %v arrived %v retransmit %v",
						w.N, g.From, g.Label, g.Sent, arr(g), g.Retransmit, w.From, w.Label, w.Sent, arr(w), w.Retransmit)
				}
			}
			for sd := ladder.Left; sd <= ladder.Right; sd++ {
				ws, gs := states(want, sd), states(got, sd)
				if n := len(ws); n >= 2 && ws[n-2] == "TIME-WAIT" && ws[n-1] == "CLOSED" {
					ws = ws[:n-1]
				}
				if strings.Join(ws, " ") != strings.Join(gs, " ") {
					t.Errorf("%v states: capture %v, trace %v", sd, gs, ws)
				}
			}
		})
	}
}

func states(d *ladder.Diagram, sd ladder.Side) []string {
	s := []string{d.Hosts[sd].Initial}
	for _, r := range d.Rows {
		if r.Changed[sd] && r.State[sd] != s[len(s)-1] {
			s = append(s, r.State[sd])
		}
	}
	return s
}

// pcapOf writes a classic pcap of the given frames.
func pcapOf(t testing.TB, lt layers.LinkType, snap uint32, frames ...[]byte) []byte {
	var b bytes.Buffer
	w := pcapgo.NewWriterNanos(&b)
	if err := w.WriteFileHeader(snap, lt); err != nil {
		t.Fatal(err)
	}
	for i, f := range frames {
		ci := gopacket.CaptureInfo{Timestamp: Epoch.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(f), Length: len(f)}
		if err := w.WritePacket(ci, f); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// demoPackets returns the IPv4 packets of the demo as the client saw
// them: sent and received.
func demoPackets(t testing.TB) [][]byte {
	var pkts [][]byte
	s, _ := sim.Lookup("demo")
	_, err := s.Execute(sim.Overrides{Seed: 1, Tap: func(_ clock.Time, host string, _ bool, p []byte) {
		if host == "client" {
			pkts = append(pkts, append([]byte(nil), p...))
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return pkts
}

func frames(pkts [][]byte, wrap func(p []byte) []byte) [][]byte {
	var out [][]byte
	for _, p := range pkts {
		out = append(out, wrap(p))
	}
	return out
}

// ladderOnly drops the first line (file name, format and start time).
func ladderOnly(s string) string {
	_, rest, _ := strings.Cut(s, "\n")
	return rest
}

// Every link type gives the same ladder as raw IP.
func TestLinkTypes(t *testing.T) {
	pkts := demoPackets(t)
	raw := ladderOnly(ladderText(t, "raw", pcapOf(t, layers.LinkTypeRaw, 65535, pkts...), ladder.Options{}))
	eth := func(p []byte) []byte {
		f := append(make([]byte, 12), 0x08, 0x00)
		f = append(f, p...)
		for len(f) < 60 {
			f = append(f, 0) // minimum frame: padding after the datagram
		}
		return f
	}
	vlan := func(p []byte) []byte {
		return append(append(make([]byte, 12), 0x81, 0x00, 0, 5, 0x08, 0x00), p...)
	}
	sll := func(p []byte) []byte {
		h := make([]byte, 16)
		binary.BigEndian.PutUint16(h[14:], 0x0800)
		return append(h, p...)
	}
	sll2 := func(p []byte) []byte {
		h := make([]byte, 20)
		binary.BigEndian.PutUint16(h[0:], 0x0800)
		return append(h, p...)
	}
	null := func(p []byte) []byte { return append([]byte{2, 0, 0, 0}, p...) }
	loop := func(p []byte) []byte { return append([]byte{0, 0, 0, 2}, p...) }
	for _, c := range []struct {
		name string
		lt   layers.LinkType
		wrap func([]byte) []byte
	}{
		{"ethernet", layers.LinkTypeEthernet, eth},
		{"vlan", layers.LinkTypeEthernet, vlan},
		{"ipv4", layers.LinkTypeIPv4, func(p []byte) []byte { return p }},
		{"sll", layers.LinkTypeLinuxSLL, sll},
		{"sll2", layers.LinkTypeLinuxSLL2, sll2},
		{"null", layers.LinkTypeNull, null},
		{"loop", layers.LinkTypeLoop, loop},
	} {
		got := ladderOnly(ladderText(t, c.name, pcapOf(t, c.lt, 65535, frames(pkts, c.wrap)...), ladder.Options{}))
		if got != raw {
			t.Errorf("%s: ladder differs from raw IP:\n%s", c.name, lineDiff(raw, got))
		}
	}
}

// A small snaplen cuts payloads: the headers are read, the lengths come
// from the IP header, and the output says so.
func TestSnaplen(t *testing.T) {
	pkts := demoPackets(t)
	full := ladderOnly(ladderText(t, "full", pcapOf(t, layers.LinkTypeRaw, 65535, pkts...), ladder.Options{}))
	// 72 bytes hold every header of the demo (IPv4 20, TCP 20, options up
	// to 20 on the SYNs and 12 of timestamps on the rest) but not the
	// payloads.
	const snap = 72
	var cut [][]byte
	for _, p := range pkts {
		cut = append(cut, p[:min(len(p), snap)])
	}
	got := ladderText(t, "cut", pcapOf(t, layers.LinkTypeRaw, snap, cut...), ladder.Options{})
	if !strings.Contains(got, "note: 2 segments were cut by the snaplen") {
		t.Errorf("no note about the snaplen:\n%s", got)
	}
	_, rest, _ := strings.Cut(ladderOnly(got), "\n")
	_, fullRest, _ := strings.Cut(full, "\n")
	_ = fullRest
	if !strings.Contains(got, "len=32") || !strings.Contains(got, "len=52") {
		t.Errorf("payload lengths lost:\n%s", rest)
	}
	// Cut inside the TCP header: the packet is reported, not drawn.
	got = ladderText(t, "cut", pcapOf(t, layers.LinkTypeRaw, 30, pkts[0][:30], pkts[1]), ladder.Options{})
	if want := fmt.Sprintf("frame 1: cut by the snaplen inside the headers: 30 of %d bytes captured", len(pkts[0])); !strings.Contains(got, want) {
		t.Errorf("no report of the cut header:\n%s", got)
	}
}

func TestSkipped(t *testing.T) {
	pkts := demoPackets(t)
	v6 := make([]byte, 60) // No Next Header, and padding
	v6[0], v6[6] = 0x60, wire.ProtocolNoNextHeader
	udp := append([]byte(nil), pkts[0][:20]...)
	udp[9] = 17
	arp := append(make([]byte, 12), 0x08, 0x06, 1, 2, 3)
	in := append([][]byte{v6}, pkts[:3]...)
	in = append(in, udp)
	f, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeRaw, 65535, in...)))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(f)
	if a.Skipped[string(skipNoNextHdr6)] != 1 || a.Skipped[string(skipNotTCP)] != 1 || len(a.Conns) != 1 || a.Conns[0].Packets != 3 {
		t.Errorf("skipped %v, %d connections", a.Skipped, len(a.Conns))
	}
	f, _ = Read(bytes.NewReader(pcapOf(t, layers.LinkTypeEthernet, 65535, arp, append(append(make([]byte, 12), 0x86, 0xdd), v6...))))
	a = Analyze(f)
	if a.Skipped[string(skipNotIP)] != 1 || a.Skipped[string(skipNoNextHdr6)] != 1 || len(a.Conns) != 0 {
		t.Errorf("skipped %v, %d connections", a.Skipped, len(a.Conns))
	}
	if s := a.Summary(); !strings.Contains(s, "No Next Header") {
		t.Errorf("summary %q does not say why the IPv6 packet was left out", s)
	}
}

func TestBadFiles(t *testing.T) {
	pkts := demoPackets(t)
	good := pcapOf(t, layers.LinkTypeRaw, 65535, pkts[:3]...)
	_, ng := runWithPcap(t, "handshake")
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"short", []byte{0xd4, 0xc3}, "2-byte file"},
		{"text", []byte("hello world\n"), "offset 0: magic number 0x68656c6c is neither pcap"},
		{"tcpdump's printed output", []byte("12:00:01.000 IP 192.0.2.1.80 > 192.0.2.2.5000: Flags [S]\n"), "it looks like text (tcpdump's printed output? write a capture with tcpdump -w FILE)"},
		{"zip", []byte("PK\x03\x04\x14\x00\x00\x00"), "it is a zip archive: unzip it first"},
		{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0, 0, 4}, "it is xz-compressed: xz -d it first"},
		{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0}, "it is zstd-compressed: zstd -d it first"},
		{"bzip2", []byte("BZh91AY&SY"), "it is bzip2-compressed: bunzip2 it first"},
		{"snoop", []byte("snoop\x00\x00\x00\x00\x00\x00\x02"), "it is a snoop capture: convert it with editcap -F pcap"},
		{"binary", []byte{0, 1, 2, 3, 0, 0, 0, 0}, "not a capture file"},
		{"pcap header cut", good[:10], "offset 0: bad pcap file header"},
		{"pcapng header cut", ng[:20], "bad pcapng section or interface header"},
		// A file cut after its headers is read up to the cut (TestCutShort).
	} {
		_, err := Read(bytes.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	f, err := Read(bytes.NewReader(pcapOf(t, layers.LinkTypeFDDI, 65535, pkts[0])))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(f)
	if a.NBad != 1 || !strings.Contains(a.Bad[0], "frame 1: link type 10 (FDDI) is not supported") {
		t.Errorf("bad %v", a.Bad)
	}
	// A file whose frames are all of link types synack does not read is
	// refused as a whole; one frame it reads is enough to go on.
	if err := f.LinkTypesSupported(); err == nil || !strings.Contains(err.Error(), "link type 10 (FDDI) is not supported: synack reads Ethernet") {
		t.Errorf("FDDI file: %v", err)
	}
	f.Packets = append(f.Packets, Packet{N: 2, LinkType: layers.LinkTypeEthernet})
	if err := f.LinkTypesSupported(); err != nil {
		t.Errorf("FDDI and Ethernet: %v", err)
	}
}

// A capture that starts mid-connection: states and ISNs unknown, numbers
// counted from the first seq seen, and the output says so.
func TestMidConnection(t *testing.T) {
	pkts := demoPackets(t)
	out := ladderText(t, "mid", pcapOf(t, layers.LinkTypeRaw, 65535, pkts[len(pkts)-5:]...), ladder.Options{})
	for _, want := range []string{
		"198.18.0.2:60193 not seen, counted from its first seq",
		"state before the capture is unknown",
		"assumed ESTABLISHED",
		"CLOSE-WAIT", "LAST-ACK", "TIME-WAIT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSelect(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "rst.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Read(bytes.NewReader(data))
	a := Analyze(f)
	if len(a.Conns) != 2 {
		t.Fatalf("%d connections", len(a.Conns))
	}
	c, err := a.Select("", 8081)
	if err != nil || len(c) != 1 || c[0] != a.Conns[0] {
		t.Errorf("--port 8081: %v %v", c, err)
	}
	spec := a.Conns[1].Addr[1].String() + "-" + a.Conns[1].Addr[0].String()
	if c, err := a.Select(spec, 0); err != nil || len(c) != 1 || c[0] != a.Conns[1] {
		t.Errorf("--conn %s: %v %v", spec, c, err)
	}
	if _, err := a.Select("1.2.3.4-5", 0); err == nil || !strings.Contains(err.Error(), "ADDR:PORT-ADDR:PORT") {
		t.Errorf("bad --conn: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	for _, name := range []string{"normal", "rst", "simclose"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcap"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	if data, err := os.ReadFile(filepath.Join("testdata", "icmp-errors.pcapng")); err == nil {
		f.Add(data)
	}
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, "client", "server")
	w.Tap(0, "client", true, []byte{0x45, 0, 0, 20})
	w.Flush()
	f.Add(buf.Bytes())
	f.Add([]byte{0x0a, 0x0d, 0x0d, 0x0a})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if file == nil {
				return
			}
		}
		a := Analyze(file)
		a.AllICMP = true
		for _, c := range a.Conns {
			d, err := a.Diagram(c, ladder.Options{})
			if err != nil {
				continue
			}
			var b bytes.Buffer
			if err := d.WriteText(&b); err != nil {
				t.Fatal(err)
			}
		}
	})
}
