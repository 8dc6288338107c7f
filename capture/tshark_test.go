package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/trace/ladder"
)

// arrowLabel reads an arrow's number and fields from a text ladder.
var arrowLabel = regexp.MustCompile(`#(\d+) ([A-Z]+) seq=(\d+) ack=([-\d]+) win=(\d+)(×\?)? len=(\d+)`)

// tsharkAgrees checks the ladder text out of the capture data against
// tshark's reading of the same file: every TCP/IPv4 frame tshark sees is an
// arrow numbered by its frame.number, with tshark's tcp.window_size,
// tcp.len and, where the handshake is in the capture, relative tcp.seq and
// tcp.ack; "×?" exactly where tshark's scale factor is unknown (-1); and
// no arrow tshark does not have.
func tsharkAgrees(t *testing.T, name string, data []byte, out string) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	// A TCP header quoted in an ICMP error is no segment of the ladder's.
	cmd := exec.Command(tshark, "-r", file, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-E", "separator=,",
		"-e", "frame.number", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.flags.ack", "-e", "tcp.flags.syn",
		"-e", "tcp.window_size", "-e", "tcp.window_size_scalefactor", "-e", "tcp.len")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	fields, err := cmd.Output()
	// tshark exits non-zero on a file cut short, after printing its frames.
	if err != nil && !strings.Contains(stderr.String(), "cut short") {
		t.Fatalf("%s: tshark: %v\n%s", name, err, stderr.String())
	}
	arrows := map[string][]string{}
	for _, m := range arrowLabel.FindAllStringSubmatch(out, -1) {
		arrows[m[1]] = m
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(fields)), "\n") {
		f := strings.Split(line, ",")
		if len(f) != 8 {
			continue
		}
		frame, sq, ack, hasAck, syn, win, scale, n := f[0], f[1], f[2], truth(f[3]), truth(f[4]), f[5], f[6], f[7]
		seen[frame] = true
		a, ok := arrows[frame]
		if !ok {
			t.Errorf("%s: frame %d (tshark: seq=%s ack=%s win=%s len=%s) is no arrow #%s of the ladder", name, atoi(frame), sq, ack, win, n, frame)
			continue
		}
		if a[5] != win || a[7] != n {
			t.Errorf("%s: #%s win=%s len=%s; tshark: window_size %s, len %s", name, frame, a[5], a[7], win, n)
		}
		if unknown := a[6] != ""; unknown != (scale == "-1" && win != "0" && !syn) {
			t.Errorf("%s: #%s win=%s%s; tshark's scale factor is %q", name, frame, a[5], a[6], scale)
		}
		if scale == "-1" {
			continue // tshark counts seq from 1 without the SYN, the ladder from 0
		}
		if a[3] != sq || hasAck && a[4] != ack || !hasAck && a[4] != "-" {
			t.Errorf("%s: #%s seq=%s ack=%s; tshark: seq %s ack %s", name, frame, a[3], a[4], sq, ack)
		}
	}
	for frame := range arrows {
		if !seen[frame] {
			t.Errorf("%s: arrow #%s is no TCP/IPv4 frame of tshark's", name, frame)
		}
	}
	if len(seen) == 0 {
		t.Errorf("%s: tshark sees no TCP/IPv4 frame:\n%s", name, stderr.String())
	}
}

func truth(s string) bool { return s == "1" || s == "True" }

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// The ladders of the kernel captures and of the captures the tests make
// read as tshark reads the files.
func TestTsharkAgrees(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	files := map[string][]byte{}
	for _, name := range []string{"normal", "simclose", "rst", "retrans", "zerowin"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcap"))
		if err != nil {
			t.Fatal(err)
		}
		files[name+".pcap"] = data
	}
	for _, name := range []string{"ipv6", "pmtu", "icmp-errors"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		files[name+".pcapng"] = data
	}
	eth := func(frames ...[]byte) []byte { return pcapOf(t, layers.LinkTypeEthernet, 65535, frames...) }
	conn := linuxConn(100, 3000, 1448)
	files["linux.pcap"] = eth(conn...)
	files["mixed.pcap"] = eth(append([][]byte{arpFrame(), ipv6Frame(), conn[0], arpFrame()}, append(conn[1:5:5], append([][]byte{ipv6Frame()}, conn[5:]...)...)...)...)
	files["no-syn.pcap"] = eth(conn[2:]...)
	files["tso.pcap"] = eth(linuxConn(100, 30000, 14480)...)
	whole := eth(conn...)
	files["cut.pcap"] = whole[:len(whole)-20]
	// synack's own pcapng at one capture point (a pcapng of --pcap-at both
	// holds each packet twice, sent and received, and the ladder draws one
	// arrow of the two frames).
	for _, sc := range []string{"demo", "lost-synack"} {
		s, _ := sim.Lookup(sc)
		var buf bytes.Buffer
		w, err := NewPointWriter(&buf, "client")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Execute(sim.Overrides{Seed: 1, Recorder: w, Tap: w.Tap}); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		files["synack-"+sc+".pcapng"] = buf.Bytes()
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			tsharkAgrees(t, name, data, ladderText(t, name, data, ladder.Options{}))
		})
	}
}

// A capture of the kernel's loopback TCP, made during the test as a user
// makes one (tcpdump -i lo -w - | synack ladder -): dumpcap on lo writes
// to a pipe while a Go net/http client fetches from a server on 127.0.0.1
// (and on ::1, over IPv6), each request on a
// connection of its own. UDP datagrams to the same port mark where the
// capture has got to, and add frames the ladder leaves out.
func TestLoopbackCapture(t *testing.T) {
	dumpcap, err := exec.LookPath("dumpcap")
	if err != nil {
		t.Skip("dumpcap not installed (apt-get install tshark brings it)")
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln6, err6 := net.Listen("tcp6", fmt.Sprintf("[::1]:%d", port))
	if sink, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
		defer sink.Close()
	}
	mark, err := net.Dial("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer mark.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, dumpcap, "-q", "-i", "lo", "-f", fmt.Sprintf("port %d", port), "-w", "-")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("dumpcap: %v", err)
	}
	// The pipe, read as it comes: a UDP frame is a mark seen, numbered by
	// its first 4 bytes.
	var raw bytes.Buffer
	marks := make(chan uint32, 1024)
	done := make(chan error, 1)
	go func() {
		r, err := pcapgo.NewNgReader(io.TeeReader(stdout, &raw), pcapgo.NgReaderOptions{})
		for err == nil {
			var data []byte
			if data, _, err = r.ReadPacketData(); err == nil && len(data) >= 46 && data[12] == 8 && data[13] == 0 && data[23] == 17 {
				select {
				case marks <- binary.BigEndian.Uint32(data[42:]):
				default:
				}
			}
		}
		io.Copy(io.Discard, stdout)
		done <- err
	}()
	// catchUp sends marks until the capture shows one of them: everything
	// sent on lo before it is then captured.
	var sent uint32
	catchUp := func() {
		first := sent + 1
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			sent++
			mark.Write(binary.BigEndian.AppendUint32(make([]byte, 0, 512), sent)[:512])
			for {
				select {
				case n := <-marks:
					if n >= first {
						return
					}
					continue
				case err := <-done:
					t.Skipf("dumpcap cannot capture on lo (not root?): %v\n%s", err, stderr.String())
				case <-tick.C:
				}
				break
			}
		}
	}
	catchUp()

	body := bytes.Repeat([]byte("synack "), 20000) // 140 kB: several segments
	var closed sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				closed.Add(1)
			case http.StateClosed, http.StateHijacked:
				closed.Done()
			}
		},
	}
	go srv.Serve(ln)
	if err6 == nil {
		go srv.Serve(ln6)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(host string) {
		resp, err := client.Get(fmt.Sprintf("http://%s/", net.JoinHostPort(host, strconv.Itoa(port))))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("GET from %s: %d bytes, %v", host, len(got), err)
		}
	}
	get("127.0.0.1")
	if err6 == nil {
		get("::1")
	}
	get("127.0.0.1")
	closed.Wait()
	srv.Close()
	catchUp()
	cmd.Process.Signal(syscall.SIGINT)
	<-done
	cmd.Wait()

	file, err := Read(bytes.NewReader(raw.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(file)
	want := 2
	if err6 == nil {
		want = 3
	}
	if len(a.Conns) != want {
		t.Fatalf("%d TCP connections, want %d (%d frames, %v)", len(a.Conns), want, len(file.Packets), a.Skipped)
	}
	var b bytes.Buffer
	if err := a.WriteText(&b, "lo.pcapng", a.Conns, ladder.Options{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"SYN-SENT", "SYN-RECEIVED", "FIN-WAIT-1", "CLOSE-WAIT", "TIME-WAIT", "<mss 65495,wscale",
		"IP packets that are neither TCP nor ICMP (UDP...) were left out"} {
		if !strings.Contains(out, want) {
			t.Errorf("the ladder lacks %q:\n%s", want, out)
		}
	}
	if err6 == nil && !strings.Contains(out, fmt.Sprintf("[::1]:%d", port)) {
		t.Errorf("no ladder of the IPv6 connection:\n%s", out)
	}
	// Loopback segments are as large as its 65483-byte MSS allows, and
	// no larger: nothing was offloaded.
	if strings.Contains(out, "offload") {
		t.Errorf("a note on offload on loopback:\n%s", out)
	}
	tsharkAgrees(t, "lo.pcapng", raw.Bytes(), out)
}

// tsharkICMP checks the ICMP messages synack reads in a capture against
// tshark's reading of it: the same frames (neighbour discovery and MLD
// aside, which synack leaves out), the same types and codes, the same MTU
// and the same quoted TCP sequence number; and each message that quotes
// a connection's segment is on that connection's ladder.
func tsharkICMP(t *testing.T, name string, data []byte) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	file := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tshark, "-r", file, "-Y", "(icmp || icmpv6) && !(icmpv6.type >= 130 && icmpv6.type <= 143)",
		"-T", "fields", "-E", "separator=;", "-E", "aggregator=,",
		"-e", "frame.number", "-e", "icmp.type", "-e", "icmp.code", "-e", "icmpv6.type", "-e", "icmpv6.code",
		"-e", "icmp.mtu", "-e", "icmpv6.mtu", "-e", "tcp.seq_raw", "-e", "tcp.seq")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: tshark: %v\n%s", name, err, stderr.String())
	}
	type row struct{ typ, code, mtu, seq string }
	theirs := map[int]row{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, ";")
		if len(f) != 9 {
			continue
		}
		r := row{typ: f[1] + f[3], code: f[2] + f[4], mtu: f[5] + f[6], seq: f[7]}
		if r.seq == "" {
			r.seq = f[8] // ICMP's quote: tshark gives seq, not seq_raw
		}
		theirs[atoi(f[0])] = r
	}
	file2, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(file2)
	ladders := map[*Conn]string{}
	for _, c := range a.Conns {
		d, err := a.Diagram(c, ladder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := d.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		ladders[c] = b.String()
	}
	seen := map[int]bool{}
	for _, m := range a.ICMP {
		seen[m.N] = true
		r, ok := theirs[m.N]
		if !ok {
			t.Errorf("%s: frame %d (%s) is no ICMP frame of tshark's", name, m.N, m)
			continue
		}
		typ, code, mtu := fmt.Sprint(uint8(m.Msg.V4.Type)), fmt.Sprint(m.Msg.V4.Code), ""
		if m.Msg.IsV6 {
			typ, code = fmt.Sprint(uint8(m.Msg.V6.Type)), fmt.Sprint(m.Msg.V6.Code)
			if m.Msg.V6.Type == 2 {
				mtu = fmt.Sprint(m.Msg.V6.MTU)
			}
		} else if m.Msg.V4.Type == 3 && m.Msg.V4.Code == 4 {
			mtu = fmt.Sprint(m.Msg.V4.MTU)
		}
		seq := ""
		if q := m.Msg.Quote(); m.Msg.IsError() && q.HasSeq {
			seq = fmt.Sprint(uint32(q.Seq))
		}
		if r != (row{typ, code, mtu, seq}) {
			t.Errorf("%s: frame %d: type %s code %s mtu %q quoted seq %q; tshark: type %s code %s mtu %q seq %q",
				name, m.N, typ, code, mtu, seq, r.typ, r.code, r.mtu, r.seq)
		}
		if m.Conn != nil && !m.dup && !strings.Contains(ladders[m.Conn], fmt.Sprintf("#%d %s", m.N, m.Msg.Words())) {
			t.Errorf("%s: frame %d (%s) is not on the ladder of connection %d", name, m.N, m, m.Conn.N)
		}
	}
	for n := range theirs {
		if !seen[n] {
			t.Errorf("%s: tshark's ICMP frame %d is not read", name, n)
		}
	}
	if len(theirs) == 0 {
		t.Errorf("%s: tshark sees no ICMP frame", name)
	}
}

// The ICMP messages of the kernel captures and of the ones the tests make
// read as tshark reads them.
func TestTsharkICMP(t *testing.T) {
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	files := map[string][]byte{}
	for _, name := range []string{"ipv6", "pmtu", "icmp-errors"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		files[name+".pcapng"] = data
	}
	files["ptb.pcap"] = pcapOf(t, layers.LinkTypeRaw, 65535, pmtuConn(t, nil)...)
	for name, data := range files {
		t.Run(name, func(t *testing.T) { tsharkICMP(t, name, data) })
	}
}
