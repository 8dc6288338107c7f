package capture

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

// streamOf feeds the capture in file to a Stream packet by packet, drawing
// after each at the packet's own time, as a live capture would, and
// returns the packets it kept and what it drew before Close and after.
func streamOf(t *testing.T, file string, port int) (*File, string, string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s, err := NewStream(&out, "", port, ladder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var at time.Time
	for _, p := range c.Packets {
		p.N = 0
		at = p.Time
		s.Add(p)
		if err := s.Draw(at); err != nil {
			t.Fatal(err)
		}
	}
	before := out.String()
	if err := s.Close(at); err != nil {
		t.Fatal(err)
	}
	// The packets a Stream keeps: TCP, ICMP other than the link's own, and
	// those that do not decode.
	kept := &File{Format: c.Format, Interfaces: c.Interfaces}
	for _, p := range c.Packets {
		seg, msg, sk, err := decode(&p)
		if err == nil && (sk != "" || msg != nil && msg.linkLocal() || seg != nil && port > 0 && int(seg.Src.Port()) != port && int(seg.Dst.Port()) != port) {
			continue
		}
		kept.Packets = append(kept.Packets, p)
	}
	return kept, before, strings.TrimPrefix(out.String(), before)
}

// TestStreamRowsAreTheWholeCapture: the rows a Stream draws as the packets
// come are the rows the whole capture draws, states included, laid out in
// the stream's fixed widths; a capture whose later packets change rows
// already drawn says so and draws the connection again.
func TestStreamRowsAreTheWholeCapture(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.pcap*")
	if len(files) == 0 {
		t.Fatal("no captures in testdata")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			c, streamed, closing := streamOf(t, file, 0)
			a := Analyze(c)
			var want strings.Builder
			for _, conn := range a.Conns {
				d, err := a.Diagram(conn, ladder.Options{})
				if err != nil {
					continue
				}
				lay := d.StreamLayout()
				want.WriteString(d.TextHeader(lay)[1] + "\n")
				for i := range d.Rows {
					for _, line := range d.TextRow(i, lay) {
						want.WriteString(line + "\n")
					}
				}
			}
			got := rowLines(streamed + closing)
			revised := strings.Contains(closing, "later packets changed rows drawn above")
			// Every frame of every connection is drawn once.
			drawn := map[string]int{}
			for _, m := range regexp.MustCompile(`#(\d+) [A-Z]+ seq=`).FindAllStringSubmatch(streamed+closing, -1) {
				drawn[m[1]]++
			}
			for _, conn := range a.Conns {
				for _, sg := range conn.sights {
					if n := drawn[strconv.Itoa(sg.pkt.N)]; n != 1 && !revised {
						t.Errorf("frame %d of connection %s is drawn %d times", sg.pkt.N, conn, n)
					}
				}
			}
			// retrans.pcap's first SYN goes unanswered for a second, longer
			// than Settle: its row is drawn before the server's state
			// shows, and redrawn at the end.
			if wantRevised := filepath.Base(file) == "retrans.pcap"; revised != wantRevised {
				t.Errorf("rows revised: %v, want %v:\n%s%s", revised, wantRevised, streamed, closing)
			}
			if len(a.Conns) == 1 && !revised && got != want.String() {
				t.Errorf("streamed rows:\n%s\nthe whole capture's:\n%s", got, want.String())
			}
			if !strings.Contains(closing, "legend:") {
				t.Errorf("Close drew no legend:\n%s", closing)
			}
		})
	}
}

// rowLines keeps the lines of a stream's output that are rows: those
// with a time or a lifeline, after each connection's header.
func rowLines(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "│") && !strings.Contains(line, " time ") && !strings.HasPrefix(strings.TrimSpace(line), "time") {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// TestStreamNormal: the handshake's rows, each with the states it
// changes, and the notes at the end.
func TestStreamNormal(t *testing.T) {
	_, streamed, closing := streamOf(t, "testdata/normal.pcap", 8080)
	t.Logf("\n%s%s", streamed, closing)
	streamed += closing
	for _, want := range []string{
		"SYN-SENT         ├── #1 S seq=0 ack=- win=64240",
		"│ SYN-RECEIVED",
		"ESTABLISHED      │◁─",
		"#2 SA seq=0 ack=1 win=65160",
		"├── #3 A seq=1 ack=1 win=64512 len=0",
		"TIME-WAIT        │◁─",
		"#10 A seq=34 ack=54",
	} {
		if !strings.Contains(streamed, want) {
			t.Errorf("streamed ladder lacks %q", want)
		}
	}
	if strings.Contains(closing, "later packets changed") {
		t.Errorf("rows were revised:\n%s", closing)
	}
	if !strings.Contains(closing, "ends in TIME-WAIT") || !strings.Contains(closing, liveFrameNote) {
		t.Errorf("closing notes:\n%s", closing)
	}
}

// TestLiveFileRoundTrip: what LiveFile writes reads back as it was: the
// interface's name and link type, each packet's bytes, time, length and
// direction.
func TestLiveFileRoundTrip(t *testing.T) {
	f, err := os.Open("testdata/normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	w, err := NewLiveFile(&buf, "veth0", c.Packets[0].LinkType)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range c.Packets {
		p.Dir = DirIn + Direction(i%2)
		if err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	back, err := Read(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	if back.Format != "pcapng" || len(back.Interfaces) != 1 || back.Interfaces[0].Name != "veth0" || back.Interfaces[0].LinkType != c.Packets[0].LinkType {
		t.Fatalf("read back %s with interfaces %+v", back.Format, back.Interfaces)
	}
	if len(back.Packets) != len(c.Packets) {
		t.Fatalf("%d packets read back, %d written", len(back.Packets), len(c.Packets))
	}
	for i, p := range back.Packets {
		q := c.Packets[i]
		if string(p.Data) != string(q.Data) || !p.Time.Equal(q.Time) || p.Length != q.Length || p.Dir != DirIn+Direction(i%2) {
			t.Errorf("packet %d read back as %d bytes at %v, length %d, %v; written %d bytes at %v, length %d",
				i+1, len(p.Data), p.Time, p.Length, p.Dir, len(q.Data), q.Time, q.Length)
		}
	}
}

// TestStreamLetsGoOfClosedConnections: a connection both of whose ends
// have closed, all its rows drawn and quiet for retireAfter, is let go of (its
// notes kept for Close), so that a long capture of many connections does
// not analyse them all again at every Draw; time 0 stays the first
// packet's, and the same ports used again are a new connection.
func TestStreamLetsGoOfClosedConnections(t *testing.T) {
	f, err := os.Open("testdata/normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s, err := NewStream(&out, "", 0, ladder.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := c.Packets[0].Time
	for round := range 2 {
		for _, p := range c.Packets {
			p.Time = p.Time.Add(time.Duration(round) * 10 * time.Second)
			s.Add(p)
			if err := s.Draw(p.Time); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Draw(t0.Add(time.Duration(round)*10*time.Second + retireAfter + time.Second)); err != nil {
			t.Fatal(err)
		}
		if len(s.file.Packets) != 0 || len(s.retired) != round+1 {
			t.Fatalf("round %d: %d packets kept, %d connections let go; want 0 and %d", round+1, len(s.file.Packets), len(s.retired), round+1)
		}
	}
	if err := s.Close(t0.Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	t.Logf("\n%s", got)
	for _, want := range []string{
		"Connection 1: 198.18.0.2:45170-198.18.0.1:8080\n198.18.0.2:45170",
		"Connection 2: 198.18.0.2:45170-198.18.0.1:8080\n198.18.0.2:45170",
		" 10.000000s  SYN-SENT ",
		"#20 A seq=34 ack=54",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := strings.Count(got, "ends in TIME-WAIT"); n != 2 {
		t.Errorf("%d connections end in TIME-WAIT, want 2", n)
	}
}

// TestStreamChinese: with --lang zh the stream's own words are Chinese,
// as the catalogue has them.
func TestStreamChinese(t *testing.T) {
	f, err := os.Open("testdata/normal.pcap")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := Read(f)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	s, err := NewStream(&out, "", 8080, ladder.Options{Lang: i18n.Chinese})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Packets {
		s.Add(p)
	}
	if err := s.Close(c.Packets[len(c.Packets)-1].Time); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{"时间 0 是抓到的第一个 TCP 或 ICMP 报文", "第 1 条连接：198.18.0.2:45170-198.18.0.1:8080",
		"seq（序号）与 ack（确认号）为相对值", "注：#n 是报文在网卡上出现的顺序", "图例："} {
		if !strings.Contains(got, want) {
			t.Errorf("the Chinese stream lacks %q:\n%s", want, got)
		}
	}
}
