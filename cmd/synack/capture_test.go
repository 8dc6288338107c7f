package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// demo --pcap --pcap-at both writes a pcapng file that pcapgo reads back:
// one interface per host, every packet with a comment.
func TestDemoPcap(t *testing.T) {
	file := filepath.Join(t.TempDir(), "demo.pcapng")
	plain, _, _ := runCLI(t, "demo")
	out, errOut, code := runCLI(t, "demo", "--pcap", file, "--pcap-at", "both")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if out != plain {
		t.Errorf("--pcap changed the output")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, _, opts, err := r.ReadPacketDataWithOptions()
		if err != nil {
			break
		}
		n++
		if len(opts.Comments) != 1 || opts.Comments[0] == "" {
			t.Errorf("packet %d: comments %q", n, opts.Comments)
		}
	}
	// The demo's 9 segments, each sent and received.
	if n != 18 || r.NInterfaces() != 2 {
		t.Errorf("%d packets on %d interfaces, want 18 on 2 (9 packets, each sent and received)", n, r.NInterfaces())
	}
	lad, errOut, code := runCLI(t, "ladder", file)
	if code != 0 || !strings.Contains(lad, "client 198.18.0.2:60193 ⇄ server 198.18.0.1:80") {
		t.Errorf("ladder of the capture: exit %d %s\n%s", code, errOut, lad)
	}
}

// tshark reads every file synack writes with no malformed packet, and
// shows the comments.
func TestPcapTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed (apt-get install tshark)")
	}
	dir := t.TempDir()
	for _, args := range [][]string{
		{"demo"},
		{"demo", "--pcap-at", "server"},
		{"demo", "--pcap-at", "both"},
		{"scenario", "run", "lost-synack"},
		{"scenario", "run", "simultaneous-close", "--pcap-at", "both"},
		{"scenario", "run", "refused"},
		{"demo", "--corrupt", "20%", "--dup", "20%", "--loss", "10%", "--seed", "3"},
		{"soak", "--case", "loss-5", "--seed", "3", "--size", "50000"},
		{"soak", "--case", "reorder-delay", "--seed", "2", "--size", "50000", "--pcap-at", "server"},
	} {
		name := strings.Join(args, "_")
		file := filepath.Join(dir, strings.ReplaceAll(name, "%", "")+".pcapng")
		if _, errOut, code := runCLI(t, append(args, "--pcap", file)...); code == 2 {
			t.Fatalf("%s: %s", name, errOut)
		}
		mal, err := exec.Command(tshark, "-r", file, "-Y", "_ws.malformed").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: tshark: %v\n%s", name, err, mal)
		}
		if s := stripRootWarning(string(mal)); s != "" {
			t.Errorf("%s: malformed packets:\n%s", name, s)
		}
		cm, err := exec.Command(tshark, "-r", file, "-T", "fields", "-e", "frame.comment").Output()
		if err != nil {
			t.Fatalf("%s: tshark: %v", name, err)
		}
		lines := strings.Split(strings.TrimSpace(string(cm)), "\n")
		for i, l := range lines {
			if !strings.HasPrefix(l, "client ") && !strings.HasPrefix(l, "server ") {
				t.Errorf("%s: frame %d: comment %q", name, i+1, l)
			}
		}
		if name == "demo" {
			// One capture point: the client's 9 packets, and nothing
			// Wireshark takes for a retransmission in a run that has none.
			if len(lines) != 9 || !strings.Contains(string(cm), "state CLOSED -> SYN-SENT") {
				t.Errorf("demo: %d comments, want 9 with the state changes:\n%s", len(lines), cm)
			}
			rtx, err := exec.Command(tshark, "-r", file, "-Y", "tcp.analysis.retransmission || tcp.analysis.duplicate_ack").CombinedOutput()
			if err != nil {
				t.Fatalf("%s: tshark: %v", name, err)
			}
			if s := stripRootWarning(string(rtx)); s != "" {
				t.Errorf("demo: Wireshark sees retransmissions or duplicate ACKs in a clean run:\n%s", s)
			}
		}
	}
}

func stripRootWarning(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !strings.HasPrefix(l, "Running as user") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestLadderErrors(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("not a capture\n"), 0o644)
	fixture := filepath.Join("..", "..", "capture", "testdata", "rst.pcap")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ladder"}, 2, "takes 1 argument(s)"},
		{[]string{"ladder", filepath.Join(dir, "missing.pcap")}, 2, filepath.Join(dir, "missing.pcap") + ": no such file or directory: synack ladder needs a capture file"},
		{[]string{"ladder", dir}, 2, dir + " is a directory: synack ladder needs a capture file (pcap or pcapng, as tcpdump -w FILE or Wireshark writes)"},
		{[]string{"ladder", text}, 2, text + ": offset 0: magic number"},
		{[]string{"ladder", text}, 2, "it looks like text"},
		{[]string{"ladder", fixture, "--port", "9"}, 2, "--port 9 matches none of the 2 connections"},
		{[]string{"ladder", fixture, "--conn", "x"}, 2, "ADDR:PORT-ADDR:PORT"},
		{[]string{"ladder", fixture, "--conn", "1.2.3.4:5-6.7.8.9:10", "--port", "80"}, 2, "give one"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
	out, errOut, code := runCLI(t, "ladder", fixture, "--port", "8081", "--ascii")
	if code != 0 || !strings.Contains(out, "Connection 1:") || strings.Contains(out, "Connection 2:") || strings.Contains(out, "│") {
		t.Errorf("--port 8081 --ascii: exit %d %s\n%s", code, errOut, out)
	}
}

// A file that cannot be opened is named with what was wrong; permission
// denied is told as such (it cannot be made to happen for root, so the
// error is built here).
func TestOpenCaptureError(t *testing.T) {
	err := openError("cap.pcap", &fs.PathError{Op: "open", Path: "cap.pcap", Err: fs.ErrPermission})
	if want := "cap.pcap: permission denied: this user may not read it"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

// A capture of a link type synack does not read is refused as a whole.
func TestLadderUnsupportedLinkType(t *testing.T) {
	var b bytes.Buffer
	w := pcapgo.NewWriter(&b)
	w.WriteFileHeader(65535, layers.LinkTypeIEEE802_11)
	w.WritePacket(gopacket.CaptureInfo{CaptureLength: 24, Length: 24}, make([]byte, 24))
	file := filepath.Join(t.TempDir(), "wifi.pcap")
	os.WriteFile(file, b.Bytes(), 0o644)
	_, errOut, code := runCLI(t, "ladder", file)
	if want := file + ": link type 105 (802.11) is not supported: synack reads Ethernet"; code != 2 || !strings.Contains(errOut, want) {
		t.Errorf("exit %d %q, want 2 and %q", code, errOut, want)
	}
}

// A capture at one host (the default --pcap-at client) is one capture
// point: synack ladder infers the other end's states from the segments, as
// for a tcpdump capture, and draws each packet once.
func TestPcapOnePointLadder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "client.pcapng")
	if _, errOut, code := runCLI(t, "demo", "--pcap", file); code != 0 {
		t.Fatalf("demo --pcap: exit %d: %s", code, errOut)
	}
	lad, errOut, code := runCLI(t, "ladder", file)
	if code != 0 {
		t.Fatalf("ladder: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"one capture point", "SYN-RECEIVED", "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT", "#9 A seq=34 ack=54"} {
		if !strings.Contains(lad, want) {
			t.Errorf("ladder lacks %q:\n%s", want, lad)
		}
	}
	for _, bad := range []string{"recorded no events", "could not be inferred", "◀┄┄"} {
		if strings.Contains(lad, bad) {
			t.Errorf("ladder says %q:\n%s", bad, lad)
		}
	}
}

// synack ladder --help says how to read what it prints.
func TestLadderHelp(t *testing.T) {
	out, _, code := runCLI(t, "ladder", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"win=N×?", "tcp.window_size", "the window field unscaled",
		"#n is the packet's frame number", "frame.number",
		"cut short", "gzip",
		"tcpdump -w - | synack ladder -", "--svg string", "--html string", "--color when",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
}

// A capture cut short (tcpdump killed while it writes) is drawn up to the
// cut, with a note saying where; a file cut inside its header is an error.
func TestLadderCutShort(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "demo.pcapng")
	if _, errOut, code := runCLI(t, "demo", "--pcap", file); code != 0 {
		t.Fatalf("demo --pcap: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, data[:len(data)-30], 0o644)
	out, errOut, code := runCLI(t, "ladder", cut)
	if code != 0 || !strings.Contains(out, "note: the capture is cut short in the middle of frame 9") || !strings.Contains(out, "#8 FA") {
		t.Errorf("exit %d %s\n%s", code, errOut, out)
	}
	os.WriteFile(cut, data[:40], 0o644)
	if _, errOut, code := runCLI(t, "ladder", cut); code != 2 || !strings.Contains(errOut, "cut.pcapng: bad pcapng section or interface header") {
		t.Errorf("cut in the header: exit %d %s", code, errOut)
	}
}
