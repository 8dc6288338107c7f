package plot

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	goldenpkg "github.com/gosynack/synack/internal/golden"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
	"github.com/gosynack/synack/wire"
)

var (
	cli = netip.MustParseAddrPort("198.18.0.2:4000")
	srv = netip.MustParseAddrPort("198.18.0.1:80")
)

const ms = int64(time.Millisecond)

// exchange records segments as both hosts' stacks would, without link
// events: a send by its sender, an arrival (if any) by its receiver.
type exchange struct{ ev []trace.Event }

func (x *exchange) send(at int64, fromClient bool, flags wire.Flags, sq, ack uint32, win uint16, n int, retransmit bool, opts ...func(*wire.Options)) {
	host, local, remote := "client", cli, srv
	if !fromClient {
		host, local, remote = "server", srv, cli
	}
	s := wire.Segment{SrcPort: local.Port(), DstPort: remote.Port(), Seq: seq.Value(sq), Ack: seq.Value(ack), Flags: flags, Window: win}
	for _, o := range opts {
		o(&s.Options)
	}
	x.ev = append(x.ev, trace.Event{At: clock.Time(at), Kind: trace.SegmentOut, Host: host, Local: local, Remote: remote, Seg: s, PayloadLen: n, Retransmit: retransmit})
}

func (x *exchange) arrive(at int64) {
	e := x.ev[len(x.ev)-1]
	if e.Kind != trace.SegmentOut {
		panic("arrive after a non-send")
	}
	e.At, e.Kind, e.Retransmit = clock.Time(at), trace.SegmentIn, false
	if e.Host == "client" {
		e.Host, e.Local, e.Remote = "server", srv, cli
	} else {
		e.Host, e.Local, e.Remote = "client", cli, srv
	}
	x.ev = append(x.ev, e)
}

func (x *exchange) metrics(at int64, cwnd, ssthresh int, srtt, rto time.Duration) {
	x.ev = append(x.ev, trace.Event{At: clock.Time(at), Kind: trace.Metrics, Host: "client", Local: cli, Remote: srv, Cwnd: cwnd, Ssthresh: ssthresh, SRTT: srtt, RTO: rto})
}

func sack(l, r uint32) func(*wire.Options) {
	return func(o *wire.Options) {
		o.SACK[o.NumSACK] = wire.SACKBlock{Left: seq.Value(l), Right: seq.Value(r)}
		o.NumSACK++
	}
}

// lossyExchange is a handshake, two data segments of 100 bytes, the first
// lost and sent again by the RTO, a SACK for the second, and the ACK of
// both.
func lossyExchange() *exchange { return lossy(false) }

// linkDrop records the link taking the segment just sent and dropping it
// by a scenario's rule, as package netsim says it.
func (x *exchange) linkDrop(rule string) {
	e := x.ev[len(x.ev)-1]
	x.ev = append(x.ev,
		trace.Event{At: e.At, Kind: trace.LinkSend, Host: "client->server", PacketID: 1, Local: e.Local, Remote: e.Remote, Seg: e.Seg, PayloadLen: e.PayloadLen},
		trace.Event{At: e.At, Kind: trace.LinkDrop, Host: "client->server", PacketID: 1, LinkCause: trace.LinkRule, Reason: rule})
}

// lossy is lossyExchange; with rule, the link drops the first data
// segment by a scenario's rule.
func lossy(rule bool) *exchange {
	const A = wire.ACK
	x := &exchange{}
	x.send(0, true, wire.SYN, 1000, 0, 65535, 0, false)
	x.arrive(10 * ms)
	x.send(10*ms, false, wire.SYN|A, 5000, 1001, 65535, 0, false)
	x.arrive(20 * ms)
	x.metrics(20*ms, 14600, 1<<31-1, 20*time.Millisecond, 220*time.Millisecond)
	x.send(20*ms, true, A, 1001, 5001, 1000, 0, false) // #3
	x.arrive(30 * ms)
	x.send(20*ms, true, wire.PSH|A, 1001, 5001, 1000, 100, false) // #4, never arrives
	if rule {
		x.linkDrop("drop 1st A !S !F !R data")
	}
	x.send(20*ms, true, wire.PSH|A, 1101, 5001, 1000, 100, false) // #5
	x.arrive(30 * ms)
	x.send(30*ms, false, A, 5001, 1001, 1000, 0, false, sack(1101, 1201)) // #6
	x.arrive(40 * ms)
	x.metrics(240*ms, 1460, 7300, 20*time.Millisecond, 440*time.Millisecond)
	x.send(240*ms, true, wire.PSH|A, 1001, 5001, 1000, 100, true) // #7
	x.arrive(250 * ms)
	x.send(250*ms, false, A, 5001, 1201, 1000, 0, false) // #8
	x.arrive(260 * ms)
	return x
}

func build(t *testing.T, x *exchange, opt Options) *Plot {
	t.Helper()
	d, err := ladder.Build(x.ev, ladder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Build(d, x.ev, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The segments, ACKs, bytes in flight and RTT samples of a small exchange,
// exactly.
func TestBuildExchange(t *testing.T) {
	p := build(t, lossyExchange(), Options{})
	if p.Sender.Name != "client" {
		t.Fatalf("sender %q, want the client (it sent all the data)", p.Sender.Name)
	}
	wantSegs := []Seg{
		{N: 1, At: 0, Seq: 0, End: 1, SYN: true},
		{N: 4, At: 20 * ms, Seq: 1, End: 101, Len: 100},
		{N: 5, At: 20 * ms, Seq: 101, End: 201, Len: 100},
		{N: 7, At: 240 * ms, Seq: 1, End: 101, Len: 100, Retransmit: true},
	}
	if !slices.Equal(p.Segs, wantSegs) {
		t.Errorf("segments:\n got %+v\nwant %+v", p.Segs, wantSegs)
	}
	// The SYN-ACK's window is not scaled (RFC 7323 §2.2) and no SYN
	// offered a scale, so every window is the field.
	if len(p.Acks) != 3 {
		t.Fatalf("acks %+v, want 3", p.Acks)
	}
	a := p.Acks[1]
	if a.N != 6 || a.At != 40*ms || a.Ack != 1 || a.Win != 1001 || !slices.Equal(a.SACK, [][2]int64{{101, 201}}) {
		t.Errorf("the SACK's ACK: %+v", a)
	}
	// In flight: the SYN, nothing once it is acknowledged, 200 bytes
	// after both segments (the retransmission adds nothing: the space was
	// sent), none after the last ACK.
	wantFlight := []Point{{1, 0, 1}, {2, 20 * ms, 0}, {4, 20 * ms, 100}, {5, 20 * ms, 200}, {8, 260 * ms, 0}}
	if !slices.Equal(p.Flight, wantFlight) {
		t.Errorf("in flight:\n got %+v\nwant %+v", p.Flight, wantFlight)
	}
	// RFC 6298 §3 (Karn): "RTT samples MUST NOT be made using segments
	// that were retransmitted": the SYN's sample only; the last ACK covers
	// the retransmitted segment.
	if want := []Point{{2, 20 * ms, 20 * ms}}; !slices.Equal(p.RTTs, want) {
		t.Errorf("RTT samples %+v, want %+v", p.RTTs, want)
	}
	if want := []Point{{5, 20 * ms, 14600}, {7, 240 * ms, 1460}}; !slices.Equal(p.Cwnd, want) {
		t.Errorf("cwnd %+v, want %+v", p.Cwnd, want)
	}
	if want := []Point{{7, 240 * ms, 7300}}; !slices.Equal(p.Ssthresh, want) {
		t.Errorf("ssthresh %+v, want %+v (the infinite one is not drawn)", p.Ssthresh, want)
	}
	if p.Delivered != 200 || p.DataFrom != 20*ms || p.DataTo != 260*ms {
		t.Errorf("delivered %d bytes from %d to %d, want 200 from 20ms to 260ms", p.Delivered, p.DataFrom, p.DataTo)
	}
	var sum int64
	for _, b := range p.Goodput {
		sum += b.Bytes
	}
	if sum != p.Delivered {
		t.Errorf("the goodput bins hold %d bytes, want %d", sum, p.Delivered)
	}
	if !p.axis.broken() {
		t.Errorf("the axis is not broken, but nothing was sent for 200 of the 260 ms")
	}
}

// --dir picks the other end by name or address; a name of neither end is
// an error that lists the ends.
func TestChooseSender(t *testing.T) {
	x := lossyExchange()
	for _, name := range []string{"server", srv.String()} {
		if p := build(t, x, Options{Sender: name}); p.Sender.Name != "server" || len(p.Segs) != 1 || !p.Segs[0].SYN {
			t.Errorf("Sender %q: sender %q, segments %+v; want the server's SYN-ACK alone", name, p.Sender.Name, p.Segs)
		}
	}
	d, _ := ladder.Build(x.ev, ladder.Options{})
	_, err := Build(d, x.ev, Options{Sender: "bob"})
	if err == nil || !strings.Contains(err.Error(), `"bob"`) || !strings.Contains(err.Error(), "client (198.18.0.2:4000) and server (198.18.0.1:80)") {
		t.Errorf("Sender bob: %v", err)
	}
	if _, err := Build(nil, nil, Options{}); err == nil {
		t.Error("Build(nil) did not fail")
	}
}

// Sequence numbers are relative to the ISN across the wrap of the 32-bit
// space.
func TestUnwrap(t *testing.T) {
	u := unwrap{base: 0xffffff00}
	for _, c := range []struct {
		v    uint32
		want int64
	}{{0xffffff00, 0}, {0x10, 0x110}, {0xfffffff0, 0xf0}, {0x7000_0000, 0x7000_0100}, {0xe000_0000, 0xe000_0100}, {0x10, 0x1_0000_0110}} {
		if got := u.rel(c.v); got != c.want {
			t.Errorf("rel(%#x) = %#x, want %#x", c.v, got, c.want)
		}
	}
}

func TestParsePanels(t *testing.T) {
	for in, want := range map[string]Panel{"all": All, "tseq": TimeSeq, "cwnd, rtt": Cwnd | RTT, "goodput,all": All} {
		if got, err := ParsePanels(in); err != nil || got != want {
			t.Errorf("ParsePanels(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "tseq,", "cwnd;rtt", "TSEQ"} {
		if _, err := ParsePanels(in); err == nil || !strings.Contains(err.Error(), "tseq, cwnd, rtt, goodput, all") {
			t.Errorf("ParsePanels(%q): %v, want an error listing the plots", in, err)
		}
	}
}

func FuzzParsePanels(f *testing.F) {
	for _, s := range []string{"all", "tseq,cwnd", "rtt, goodput", ",", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePanels(s)
		if err == nil && (p == 0 || p&^All != 0) {
			t.Errorf("ParsePanels(%q) = %b", s, p)
		}
	})
}

// A silence longer than half the connection breaks the axis; x is
// monotonic across the break, and every piece has a tick.
func TestAxisBreak(t *testing.T) {
	times := []int64{0, 1_016_798_000, 1_016_900_000, 1_017_287_000}
	a := newAxis(0, times[3], times, 800)
	if !a.broken() {
		t.Fatal("not broken")
	}
	prev := -1.0
	for _, tt := range []int64{0, 1, 500_000_000, 1_016_798_000, 1_017_000_000, 1_017_287_000} {
		x := a.x(tt)
		if x < prev || x < 0 || x > 800 {
			t.Errorf("x(%d) = %v after %v", tt, x, prev)
		}
		prev = x
	}
	if x := a.x(1_016_798_000); x < minPieceW+breakW {
		t.Errorf("the second piece starts at %v, inside the first or the break", x)
	}
	ticks := a.timeTicks()
	if len(ticks) < 3 || ticks[0].label != "0" {
		t.Errorf("ticks %+v", ticks)
	}
	for i := 1; i < len(ticks); i++ {
		if ticks[i].at <= ticks[i-1].at {
			t.Errorf("ticks out of order: %+v", ticks)
		}
	}
	if b := newAxis(0, 100*ms, []int64{0, 50 * ms, 100 * ms}, 800); b.broken() {
		t.Error("a 50 ms silence in 100 ms broke the axis (want: more than half only)")
	}
}

func TestNice(t *testing.T) {
	for _, c := range []struct {
		v        float64
		up, down int64
	}{{0.3, 1, 1}, {1, 1, 1}, {3, 5, 2}, {7, 10, 5}, {22e6, 50e6, 20e6}, {100, 100, 100}} {
		if got := niceStep(c.v); got != c.up {
			t.Errorf("niceStep(%v) = %d, want %d", c.v, got, c.up)
		}
		if got := niceFloor(c.v); got != c.down {
			t.Errorf("niceFloor(%v) = %d, want %d", c.v, got, c.down)
		}
	}
}

// The SVG is well-formed, every point names its packet, and the marks of
// the retransmission and the cwnd are where the exchange puts them.
func TestWriteSVG(t *testing.T) {
	p := build(t, lossyExchange(), Options{Title: "a <small> & lossy exchange"})
	var b bytes.Buffer
	if err := p.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&b)
	classes := map[string][]map[string]string{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			attrs := map[string]string{}
			for _, a := range se.Attr {
				attrs[a.Name.Local] = a.Value
			}
			for _, c := range strings.Fields(attrs["class"]) {
				classes[c] = append(classes[c], attrs)
			}
			if _, ok := attrs["data-t"]; ok && attrs["data-packet"] == "" {
				t.Errorf("<%s class=%q> has a time and no packet", se.Name.Local, attrs["class"])
			}
		}
	}
	if r := classes["retransmit"]; len(r) != 1 || r[0]["data-packet"] != "7" || r[0]["data-t"] != "0.24" || r[0]["data-seq"] != "1" {
		t.Errorf("retransmission bars %v, want #7 at 0.24 s, seq 1", r)
	}
	if m := classes["retransmit-mark"]; len(m) != 1 || m[0]["data-packet"] != "7" {
		t.Errorf("retransmission marks %v", m)
	}
	if s := classes["sack"]; len(s) != 1 || s[0]["data-left"] != "101" || s[0]["data-right"] != "201" {
		t.Errorf("SACK blocks %v", s)
	}
	if c := classes["cwnd"]; len(c) != 2 || c[1]["data-value"] != "1460" || c[1]["data-t"] != "0.24" {
		t.Errorf("cwnd points %v", c)
	}
	for _, c := range []string{"ack-line", "window-line", "cwnd-line", "ssthresh-line", "flight-line", "rtt", "srtt-line", "rto-line", "goodput"} {
		if len(classes[c]) == 0 {
			t.Errorf("nothing of class %s", c)
		}
	}
	if len(classes["lost-mark"]) != 0 {
		t.Error("lost marks without link events: nothing was seen lost")
	}
}

var update = flag.Bool("update", false, "rewrite testdata/*.svg")

// texts are the words of an SVG: each <text> and <title>'s content.
func texts(t *testing.T, svg string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var out []string
	in := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			in = tok.Name.Local
		case xml.EndElement:
			in = ""
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" && (in == "text" || in == "title") {
				out = append(out, s)
			}
		}
	}
}

// latinWord is a word of Latin letters; a Chinese plot keeps only the
// abbreviations and units Chinese textbooks write in Latin letters.
var latinWord = regexp.MustCompile(`[A-Za-z]+`)

var keptInLatin = map[string]bool{
	"SYN": true, "FIN": true, "ACK": true, "ack": true, "SACK": true, "ISN": true, "RST": true,
	"cwnd": true, "ssthresh": true, "RTT": true, "SRTT": true, "RTO": true,
	"ms": true, "s": true, "bit": true, "kbit": true, "Mbit": true, "k": true, "M": true,
}

// The lossy exchange plotted in Chinese, with the link dropping its first
// data segment by a scenario's rule: titles, axis labels, legends, notes
// and tooltips are in Chinese (only the abbreviations stay in Latin
// letters), the picture names a CJK font, and it is the golden picture.
func TestChineseGolden(t *testing.T) {
	p := build(t, lossy(true), Options{Title: "丢包的一次小交换", Lang: i18n.Chinese})
	var b bytes.Buffer
	if err := p.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	svg := b.String()
	goldenpkg.Check(t, filepath.Join("testdata", "lossy.zh.svg"), svg, *update, "./trace/plot")
	if !strings.Contains(svg, "WenQuanYi Zen Hei") || !strings.Contains(svg, "Noto Sans CJK SC") {
		t.Error("the Chinese plot names no CJK font")
	}
	for _, want := range []string{"客户端所发数据的时间–序号图", "拥塞窗口 cwnd", "慢启动阈值 ssthresh", "在途字节", "往返时间 RTT", "重传超时 RTO",
		"有效吞吐量", "时间（秒）", "按场景设定被链路丢弃", "重传"} {
		if !strings.Contains(svg, want) {
			t.Errorf("no %q in the Chinese plot", want)
		}
	}
	for _, s := range texts(t, svg) {
		if s == p.Title {
			continue
		}
		for _, w := range latinWord.FindAllString(s, -1) {
			if !keptInLatin[w] {
				t.Errorf("%q: %q is English", s, w)
			}
		}
	}
	// English is as it was: the rule's loss in words, no CJK font named.
	p = build(t, lossy(true), Options{Title: "a lossy exchange"})
	b.Reset()
	if err := p.WriteSVG(&b); err != nil {
		t.Fatal(err)
	}
	en := b.String()
	if strings.Contains(en, "WenQuanYi") || !strings.Contains(en, "lost, as the scenario asks") || strings.Contains(en, "drop 1st") {
		t.Errorf("the English plot: CJK font %v, the rule's loss in words %v, its compact form %v",
			strings.Contains(en, "WenQuanYi"), strings.Contains(en, "lost, as the scenario asks"), strings.Contains(en, "drop 1st"))
	}
}

// wrap breaks English at spaces and Chinese between any two characters
// (not before its closing punctuation), counting a Chinese character as
// two columns.
func TestWrap(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want []string
	}{
		{"one two three", 8, []string{"one two", "three"}},
		{"一二三四五六", 6, []string{"一二三", "四五六"}},
		{"一二，三四", 4, []string{"一", "二，", "三四"}},
		{"注：窗口 cwnd 变小", 12, []string{"注：窗口", "cwnd 变小"}},
		{"", 5, nil},
	} {
		if got := wrap(c.s, c.n); !slices.Equal(got, c.want) {
			t.Errorf("wrap(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// In a Chinese sentence an address is set off from the characters beside
// it by a space, not from punctuation or the sentence's ends; in English
// the sentence is as it always was.
func TestAddressInChinese(t *testing.T) {
	const a = "198.18.0.1:80"
	zh, en := &Plot{Lang: i18n.Chinese}, &Plot{}
	for _, c := range []struct {
		p      *Plot
		format string
		want   string
	}{
		{zh, "%s sent no data", a + " 没有发送数据"},
		{zh, "no Metrics events of %s: no cwnd, ssthresh, SRTT or RTO to draw", "没有 " + a + " 的 Metrics 事件：画不出 cwnd、ssthresh、SRTT 和 RTO"},
		{zh, "%s sent no data", "客户端没有发送数据"},
		{en, "%s sent no data", a + " sent no data"},
		{en, "%s sent no data", "the client sent no data"},
	} {
		name := a
		if !strings.Contains(c.want, a) {
			name = "client"
		}
		if got := c.p.trf(c.format, c.p.host(name)); got != c.want {
			t.Errorf("%v %q with %s: %q, want %q", c.p.Lang, c.format, name, got, c.want)
		}
	}
}
