package main

import (
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// svgElem is an element of an SVG with its attributes.
type svgElem struct {
	name  string
	attrs map[string]string
	text  string // the text directly inside it
}

func (e *svgElem) has(class string) bool {
	return slices.Contains(strings.Fields(e.attrs["class"]), class)
}

func (e *svgElem) num(t *testing.T, attr string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(e.attrs[attr], 64)
	if err != nil {
		t.Fatalf("<%s class=%q> %s=%q: %v", e.name, e.attrs["class"], attr, e.attrs[attr], err)
	}
	return v
}

// parseSVG reads every element of an SVG with encoding/xml.
func parseSVG(t *testing.T, s string) []*svgElem {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(s))
	var out, stack []*svgElem
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &svgElem{name: tok.Name.Local, attrs: map[string]string{}}
			for _, a := range tok.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			out = append(out, e)
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
}

func byClass(es []*svgElem, class string) []*svgElem {
	var out []*svgElem
	for _, e := range es {
		if e.has(class) {
			out = append(out, e)
		}
	}
	return out
}

func plotFile(t *testing.T, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "plot.svg")
	_, errOut, code := runCLI(t, append(args, out)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The golden plot of a lossy run, the README's picture docs/plot.svg:
// CUBIC over a 10 Mbit/s bottleneck with 2% loss, made by 'go run
// ./cmd/synack soak --case cubic --seed 4 --size 80000 --plot
// docs/plot.svg'. Each retransmission is drawn as an orange bar with a mark at its
// time and sequence number, each packet the link lost has a cross, and the
// cwnd line drops after the first loss.
func TestPlotLossyGolden(t *testing.T) {
	const seed = 4
	svg := plotFile(t, "soak", "--case", "cubic", "--seed", strconv.Itoa(seed), "--size", "80000", "--plot")
	checkGolden(t, "../../docs/plot.svg", svg)
	es := parseSVG(t, svg)

	// What happened, from the run's own trace.
	c, _ := sim.LookupSoakCase("cubic")
	c.Size = 80000
	var log trace.Log
	if _, err := sim.RunSoakTraced(c, seed, &log); err != nil {
		t.Fatal(err)
	}
	var isn uint32
	type mark struct {
		t   string
		seq int64
	}
	var retx []mark
	var lost []int64
	sent := map[uint64]int64{} // link packet id -> relative seq of client data
	for _, e := range log.Events {
		switch {
		case e.Kind == trace.SegmentOut && e.Host == "client" && e.Seg.Flags&wire.SYN != 0:
			isn = uint32(e.Seg.Seq)
		case e.Kind == trace.SegmentOut && e.Host == "client" && e.Retransmit && e.PayloadLen > 0:
			retx = append(retx, mark{strconv.FormatFloat(float64(e.At)/1e9, 'f', -1, 64), int64(uint32(e.Seg.Seq) - isn)})
		case e.Kind == trace.LinkSend && e.Local.Port() != 9 && e.PayloadLen > 0:
			sent[e.PacketID] = int64(uint32(e.Seg.Seq) - isn)
		case e.Kind == trace.LinkDrop:
			if s, ok := sent[e.PacketID]; ok {
				lost = append(lost, s)
			}
		}
	}
	if len(retx) == 0 || len(lost) == 0 {
		t.Fatalf("seed %d retransmitted %d segments and lost %d: pick a seed that loses data", seed, len(retx), len(lost))
	}
	bars := byClass(es, "retransmit")
	marks := byClass(es, "retransmit-mark")
	if len(bars) != len(retx) || len(marks) != len(retx) {
		t.Errorf("%d retransmission bars and %d marks, want %d each", len(bars), len(marks), len(retx))
	}
	for _, r := range retx {
		found := false
		for i, b := range bars {
			if b.attrs["data-t"] == r.t && b.num(t, "data-seq") == float64(r.seq) && i < len(marks) && marks[i].attrs["data-packet"] == b.attrs["data-packet"] {
				found = true
			}
		}
		if !found {
			t.Errorf("no retransmission bar and mark at %s s, seq %d", r.t, r.seq)
		}
	}
	var lostSeqs []int64
	for _, m := range byClass(es, "lost-mark") {
		lostSeqs = append(lostSeqs, int64(m.num(t, "data-seq")))
	}
	slices.Sort(lost)
	slices.Sort(lostSeqs)
	if !slices.Equal(lost, lostSeqs) {
		t.Errorf("lost marks at seqs %v, want the link's losses %v", lostSeqs, lost)
	}

	// The cwnd cut: the polyline is lower (a greater y) after the first
	// lost segment than where it was when it was sent.
	var lostX []float64
	for _, s := range byClass(es, "seg") {
		if s.has("lost") {
			lostX = append(lostX, s.num(t, "x1"))
		}
	}
	xLoss := slices.Min(lostX)
	lines := byClass(es, "cwnd-line")
	if len(lines) != 1 {
		t.Fatalf("%d cwnd lines", len(lines))
	}
	before, after := -1.0, -1.0
	for _, pt := range strings.Fields(lines[0].attrs["points"]) {
		xs, ys, _ := strings.Cut(pt, ",")
		x, _ := strconv.ParseFloat(xs, 64)
		y, _ := strconv.ParseFloat(ys, 64)
		if x <= xLoss {
			before = y
		} else {
			after = max(after, y)
		}
	}
	if before < 0 || after <= before {
		t.Errorf("the cwnd line is at y=%v when the first lost segment is sent (x=%v) and at most y=%v after: no cut", before, xLoss, after)
	}
	// And its points say so in bytes.
	var pre, post []float64
	tLoss := slices.MinFunc(byClass(es, "lost-mark"), func(a, b *svgElem) int {
		return strings.Compare(a.attrs["data-t"], b.attrs["data-t"])
	}).num(t, "data-t")
	for _, p := range byClass(es, "cwnd") {
		if p.num(t, "data-t") <= tLoss {
			pre = append(pre, p.num(t, "data-value"))
		} else {
			post = append(post, p.num(t, "data-value"))
		}
	}
	if len(pre) == 0 || len(post) == 0 || slices.Min(post) >= pre[len(pre)-1] {
		t.Errorf("cwnd %v up to the loss at %v s, %v after: no cut", pre, tLoss, post)
	}
}

// The plot of a kernel capture (Linux's TCP: the first SYN dropped and
// retransmitted after 1 s, then the 4th data segment dropped and fast
// retransmitted): frame numbers on every point, the retransmissions of
// frames 2 and 14 marked, no cwnd (a capture has none) and the axis broken
// over the second the SYN waited.
func TestPlotCapture(t *testing.T) {
	const pcap = "../../capture/testdata/retrans.pcap"
	svg := plotFile(t, "plot", pcap, "-o")
	checkGolden(t, "testdata/plot-retrans.svg", svg)
	es := parseSVG(t, svg)
	var frames []string
	for _, b := range byClass(es, "retransmit") {
		frames = append(frames, b.attrs["data-packet"]+"@"+b.attrs["data-seq"])
	}
	if want := []string{"2@0", "14@1501"}; !slices.Equal(frames, want) {
		t.Errorf("retransmissions %v, want %v (frame@relative seq)", frames, want)
	}
	if n := len(byClass(es, "cwnd-line")) + len(byClass(es, "ssthresh-line")) + len(byClass(es, "srtt-line")); n != 0 {
		t.Errorf("%d cwnd, ssthresh or SRTT lines drawn from a capture", n)
	}
	if len(byClass(es, "flight-line")) != 1 || len(byClass(es, "break")) == 0 || len(byClass(es, "lost-mark")) != 0 {
		t.Error("want bytes in flight, a broken axis, and no losses (a capture cannot tell them)")
	}
	var head []string
	for _, e := range byClass(es, "head") {
		head = append(head, e.text)
	}
	h := strings.Join(head, "\n")
	for _, want := range []string{"retrans.pcap, connection 1: 198.18.0.2:34634-198.18.0.1:8080", "data sent by 198.18.0.2:34634 to 198.18.0.1:8080", "inferred from the"} {
		if !strings.Contains(h, want) {
			t.Errorf("the head does not say %q:\n%s", want, h)
		}
	}
	for _, e := range es {
		if _, ok := e.attrs["data-t"]; ok {
			if n, err := strconv.Atoi(e.attrs["data-packet"]); err != nil || n < 1 || n > 26 {
				t.Errorf("<%s class=%q> data-packet=%q: want a frame number 1..26", e.name, e.attrs["class"], e.attrs["data-packet"])
			}
		}
	}
	// --dir the other way: the server's 4 bytes.
	other := plotFile(t, "plot", pcap, "--dir", "198.18.0.1:8080", "--what", "tseq", "-o")
	es = parseSVG(t, other)
	if segs := byClass(es, "seg"); len(segs) != 3 || len(byClass(es, "panel")) != 1 {
		t.Errorf("--dir 198.18.0.1:8080 --what tseq: %d segments in %d panels, want the SYN-ACK, the data and the FIN in one", len(segs), len(byClass(es, "panel")))
	}
}

// --plot on demo, scenario run, soak and ladder writes what synack plot
// writes, and changes nothing else.
func TestPlotFlag(t *testing.T) {
	for _, c := range []struct{ withPlot, plot []string }{
		{[]string{"demo", "--loss", "30%", "--seed", "3"}, []string{"plot", "demo", "--loss", "30%", "--seed", "3", "-o"}},
		{[]string{"scenario", "run", "lost-syn"}, []string{"plot", "lost-syn", "-o"}},
		{[]string{"ladder", "../../capture/testdata/zerowin.pcap"}, []string{"plot", "../../capture/testdata/zerowin.pcap", "-o"}},
	} {
		plain, _, _ := runCLI(t, c.withPlot...)
		file := filepath.Join(t.TempDir(), "p.svg")
		out, errOut, code := runCLI(t, append(c.withPlot, "--plot", file, "--color", "never")...)
		if code != 0 {
			t.Fatalf("%v --plot: exit %d: %s", c.withPlot, code, errOut)
		}
		if out != plain {
			t.Errorf("%v: --plot changed the output:\n%s", c.withPlot, diff(plain, out))
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if want := plotFile(t, c.plot...); string(got) != want {
			t.Errorf("%v --plot differs from %v", c.withPlot, c.plot)
		}
	}
}

// Bad input says what is wrong, and no file is left behind.
func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("empty.pcap", nil)
	text := write("notes.txt", []byte("12:00:00.000 IP 10.0.0.1.80 > 10.0.0.2.4000: Flags [S]\n"))
	// A pcap of one ARP request and nothing else.
	hdr := []byte{0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0}
	arp := make([]byte, 42)
	copy(arp, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06})
	rec := []byte{0, 0, 0, 0, 0, 0, 0, 0, 42, 0, 0, 0, 42, 0, 0, 0}
	noTCP := write("arp.pcap", append(append(hdr, rec...), arp...))
	out := filepath.Join(dir, "out.svg")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plot", empty, "-o", out}, 2, "empty.pcap: empty file: not a pcap or pcapng capture"},
		{[]string{"plot", text, "-o", out}, 2, "not a capture file; it looks like text"},
		{[]string{"plot", noTCP, "-o", out}, 1, "arp.pcap: no TCP/IPv4 segments in 1 packets: nothing to plot"},
		{[]string{"plot", "no-such-scenario", "-o", out}, 2, "no-such-scenario is neither a scenario (abort, close, demo,"},
		{[]string{"plot", dir, "-o", out}, 2, "is a directory: synack plot needs a scenario name or a capture file"},
		{[]string{"plot", "http", "-o", out}, 2, "a plot is of one connection"},
		{[]string{"plot", "demo"}, 2, "synack plot needs -o FILE"},
		{[]string{"plot", "demo", "-o", out, "--what", "cwnd,ladder"}, 2, `--what: "ladder" is not a plot: want tseq, cwnd, rtt, goodput, all`},
		{[]string{"plot", "demo", "-o", out, "--dir", "bob"}, 2, `--dir: no end of the connection is called "bob": the ends are client (198.18.0.2:60193) and server (198.18.0.1:80)`},
		{[]string{"plot", "demo", "-o", out, "--port", "80"}, 2, "--port chooses a connection of a capture; scenario demo has one"},
		{[]string{"plot", "demo", "-o", out, "--loss", "150"}, 2, `"150" is outside 0..1`},
		{[]string{"plot", "demo", "-o", out, "--pcap", "x"}, 2, "unknown flag: --pcap"},
		{[]string{"plot", noTCP, "-o", out, "--seed", "2"}, 2, "--seed changes a simulated run, and " + noTCP + " is a capture, not a scenario"},
		{[]string{"plot", "../../capture/testdata/retrans.pcap", "-o", out, "--port", "99"}, 2, "--port 99 matches none of the 1 connections"},
		{[]string{"plot", "../../capture/testdata/retrans.pcap", "-o", out, "--port", "70000"}, 2, "--port 70000: want a port number 1..65535"},
		{[]string{"plot", "demo", "-o", filepath.Join(dir, "no", "such", "dir.svg")}, 2, "-o " + filepath.Join(dir, "no", "such", "dir.svg")},
		{[]string{"soak", "--case", "cubic", "--plot", out}, 2, "--ladder, --events, --pcap and --plot need --seed N --case NAME"},
		{[]string{"scenario", "run", "http", "--plot", out}, 2, "--plot is not supported by the http scenario"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want exit %d saying %q", c.args, code, errOut, c.code, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%v: left %s behind", c.args, out)
			os.Remove(out)
		}
	}
}

// Every scenario, in both directions, and every connection of the kernel
// captures plots as well-formed SVG with finite numbers, each point naming
// its packet.
func TestPlotEverything(t *testing.T) {
	var runs [][]string
	for _, name := range sim.Names() {
		for _, dir := range []string{"client", "server"} {
			runs = append(runs, []string{"plot", name, "--dir", dir, "-o", "-"})
		}
	}
	files, _ := filepath.Glob("../../capture/testdata/*.pcap")
	if len(files) == 0 {
		t.Fatal("no captures in capture/testdata")
	}
	for _, f := range files {
		file, err := readCapture(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range capture.Analyze(file).Conns {
			runs = append(runs, []string{"plot", f, "--conn", c.String(), "-o", "-"})
		}
	}
	for _, args := range runs {
		svg, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Errorf("%v: exit %d: %s", args, code, errOut)
			continue
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%v: NaN or Inf in the SVG", args)
		}
		points := 0
		for _, e := range parseSVG(t, svg) {
			if _, ok := e.attrs["data-t"]; ok {
				points++
				if n, err := strconv.Atoi(e.attrs["data-packet"]); err != nil || n < 1 {
					t.Errorf("%v: <%s class=%q> data-packet=%q", args, e.name, e.attrs["class"], e.attrs["data-packet"])
				}
			}
		}
		if points == 0 && !strings.Contains(svg, "no segments in this direction") {
			t.Errorf("%v: no points, and no word of why", args)
		}
	}
}

// --lang zh gives the plot's titles, axis labels and legends in Chinese,
// from synack plot and from --plot on scenario run, soak --seed and
// ladder (a capture), and names a CJK font; --lang en (the default) is
// English.
func TestPlotChinese(t *testing.T) {
	pcap := filepath.Join("..", "..", "capture", "testdata", "normal.pcap")
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"plot", []string{"plot", "fast-recovery", "--lang", "zh", "-o"},
			[]string{"服务器所发数据的时间–序号图", "拥塞窗口 cwnd", "慢启动阈值 ssthresh", "重传超时 RTO", "按场景设定被链路丢弃", "快速重传与快速恢复"}},
		{"scenario run", []string{"scenario", "run", "slow-start", "--lang", "zh", "--plot"},
			[]string{"服务器所发数据的时间–序号图", "有效吞吐量", "慢启动"}},
		{"soak", []string{"soak", "--case", "cubic", "--seed", "4", "--size", "80000", "--lang", "zh", "--plot"},
			[]string{"客户端所发数据的时间–序号图", "CUBIC 拥塞控制", "往返时间 RTT"}},
		{"ladder", []string{"ladder", pcap, "--lang", "zh", "--plot"},
			[]string{"198.18.0.1:8080 所发数据的时间–序号图", "来自抓包", "时间（秒）"}},
	} {
		svg := plotFile(t, c.args...)
		for _, w := range append(c.want, "WenQuanYi Zen Hei", "数据报文段") {
			if !strings.Contains(svg, w) {
				t.Errorf("%s: no %q in the plot", c.name, w)
			}
		}
		for _, en := range []string{"Time–sequence graph", "Congestion window", "Goodput:", "time (s)", ">data segment<", "note: "} {
			if strings.Contains(svg, en) {
				t.Errorf("%s: the Chinese plot says %q", c.name, en)
			}
		}
	}
	if en := plotFile(t, "plot", "fast-recovery", "-o"); !strings.Contains(en, "Time–sequence graph of the server&#39;s data") || strings.Contains(en, "WenQuanYi") {
		t.Error("the English plot is not the English one")
	}
}
