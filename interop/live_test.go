package interop

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	synack "github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
)

// liveNS makes a network namespace called name, with its loopback up,
// removed when t ends whether it passed or not.
func liveNS(t *testing.T, name string) {
	t.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	inNS(t, name, "ip", "link", "set", "lo", "up")
}

// inNS runs a tool in namespace ns and returns its output.
func inNS(t *testing.T, ns string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v\n%s", ns, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// kernelHTTP starts python3's HTTP server on addr port 80 in namespace ns,
// serving a small page, and waits until it listens; it is stopped when t
// ends.
func kernelHTTP(t *testing.T, ns, addr string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>hello from the kernel's TCP</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := exec.Command("ip", "netns", "exec", ns, "python3", "-m", "http.server", "80", "--bind", addr, "--directory", dir)
	var log strings.Builder
	srv.Stdout, srv.Stderr = &log, &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Process.Kill()
		srv.Wait()
	})
	listen := netip.AddrPortFrom(netip.MustParseAddr(addr), 80).String()
	waitFor(t, "the HTTP server to listen on "+listen, func() bool {
		return strings.Contains(inNS(t, ns, "ss", "-Hltn", "sport", "=", ":80"), listen)
	})
}

// ladderRow is a segment's row of a text ladder: frame number, flags,
// relative seq and ack ("-" without ACK).
var ladderRow = regexp.MustCompile(`#(\d+) ([A-Z]+) seq=(\d+) ack=(\d+|-)`)

// liveLadder captures with synack ladder -i iface in namespace clientNS
// while curl there fetches url, and returns the ladder it drew and the
// pcapng file it kept. The capture is stopped with SIGINT once the last
// row of the connection's close is drawn.
func liveLadder(t *testing.T, bin, clientNS, iface, url string) (string, string) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "live.pcapng")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lad := exec.CommandContext(ctx, "ip", "netns", "exec", clientNS, bin, "ladder", "-i", iface, "--port", "80", "--pcap", file, "--duration", "50s", "--lang", "en")
	w := &lineWatcher{want: "capturing on " + iface, seen: make(chan struct{})}
	var stderr strings.Builder
	lad.Stdout, lad.Stderr = w, &stderr
	if err := lad.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- lad.Wait() }()
	select {
	case <-w.seen:
	case err := <-exited:
		t.Fatalf("synack ladder -i %s ended before capturing: %v\n%s%s", iface, err, w.text(), stderr.String())
	case <-time.After(20 * time.Second):
		lad.Process.Kill()
		t.Fatalf("synack ladder -i %s did not start capturing in 20 s:\n%s%s", iface, w.text(), stderr.String())
	}
	got := inNS(t, clientNS, "curl", "-sS", "--max-time", "10", url)
	if !strings.Contains(got, "hello from the kernel's TCP") {
		t.Fatalf("curl %s: %q", url, got)
	}
	// Both sides' ends are drawn: CLOSED or TIME-WAIT in each column (the
	// row of the close's last ACK).
	leftDone := regexp.MustCompile(`(?m)^ *\d+\.\d+s  (CLOSED|TIME-WAIT) `)
	rightDone := regexp.MustCompile(`(?m)[│┤] (CLOSED|TIME-WAIT)$`)
	deadline := time.Now().Add(15 * time.Second)
	for !(leftDone.MatchString(w.text()) && rightDone.MatchString(w.text())) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	// ip netns exec execs synack: its process is synack's.
	if err := lad.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("synack ladder -i %s after SIGINT: %v\n%s%s", iface, err, w.text(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		lad.Process.Kill()
		t.Fatalf("synack ladder -i %s did not end within 10 s of SIGINT:\n%s", iface, w.text())
	}
	return w.text(), file
}

// TestLiveLadder: synack ladder -i draws, live, the kernel's connection
// from curl in one namespace to python3's HTTP server in another (a veth
// pair, Ethernet), over IPv4 and over IPv6, with every state right: the handshake as RFC 9293
// §3.5 Figure 6 has it ("TCP Peer A ... SYN-SENT ... ESTABLISHED", "TCP
// Peer B LISTEN ... SYN-RECEIVED ... ESTABLISHED"), and the close ending
// with the side that closed first in TIME-WAIT, as the kernel's own ss
// shows it. It reproduces what the texts check their explanation with in
// Wireshark: an ephemeral client port to port 80, the SYN with relative
// Seq 0, the SYN-ACK with Seq 0 and Ack 1, the ACK with Seq 1 and Ack 1;
// tshark, reading the --pcap file, gives every segment the same frame
// number and relative seq and ack as the ladder.
func TestLiveLadder(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "ip", "curl", "python3", "ss")
	bin := buildCLI(t)
	client := fmt.Sprintf("synack-%d-livec", os.Getpid())
	server := fmt.Sprintf("synack-%d-lives", os.Getpid())
	liveNS(t, client)
	liveNS(t, server)
	inNS(t, client, "ip", "link", "add", "lc0", "type", "veth", "peer", "name", "ls0", "netns", server)
	inNS(t, client, "ip", "addr", "add", "198.18.0.2/24", "dev", "lc0")
	inNS(t, server, "ip", "addr", "add", "198.18.0.1/24", "dev", "ls0")
	inNS(t, client, "ip", "addr", "add", "2001:2::2/64", "dev", "lc0", "nodad")
	inNS(t, server, "ip", "addr", "add", "2001:2::1/64", "dev", "ls0", "nodad")
	inNS(t, client, "ip", "link", "set", "lc0", "up")
	inNS(t, server, "ip", "link", "set", "ls0", "up")
	kernelHTTP(t, server, "198.18.0.1")
	kernelHTTP(t, server, "2001:2::1")

	for _, tc := range []struct{ name, url string }{
		{"IPv4", "http://198.18.0.1/"},
		{"IPv6", "http://[2001:2::1]/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, file := liveLadder(t, bin, client, "lc0", tc.url)
			t.Logf("synack ladder -i lc0:\n%s", out)
			if !strings.Contains(out, "capturing on lc0 (Ethernet)") {
				t.Errorf("the capture does not say it reads Ethernet frames")
			}
			conn := checkLiveHandshake(t, out, client)
			checkLiveClose(t, out, client, server, conn)
			checkTshark(t, out, file)
		})
	}
}

// TestLiveLadderLoopback: on a loopback device, whose packet socket shows
// each packet leaving and arriving, each is drawn once, with the states as
// on a veth.
func TestLiveLadderLoopback(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "ip", "curl", "python3", "ss")
	bin := buildCLI(t)
	ns := fmt.Sprintf("synack-%d-livelo", os.Getpid())
	liveNS(t, ns)
	kernelHTTP(t, ns, "127.0.0.1")
	out, file := liveLadder(t, bin, ns, "lo", "http://127.0.0.1/")
	t.Logf("synack ladder -i lo:\n%s", out)
	conn := checkLiveHandshake(t, out, ns)
	checkLiveClose(t, out, ns, ns, conn)
	frames := map[string]bool{}
	for _, m := range ladderRow.FindAllStringSubmatch(out, -1) {
		if frames[m[1]] {
			t.Errorf("frame #%s is drawn twice", m[1])
		}
		frames[m[1]] = true
	}
	checkTshark(t, out, file)

	// --duration ends a capture that sees nothing, saying so.
	quiet := inNS(t, ns, bin, "ladder", "-i", "lo", "--port", "80", "--duration", "300ms", "--lang", "en")
	if !strings.Contains(quiet, "no TCP segments to or from port 80 were seen") || !strings.Contains(quiet, "--duration 300ms reached") {
		t.Errorf("ladder -i lo --duration 300ms with no traffic:\n%s", quiet)
	}
	// --count ends it after that many packets: the handshake's three.
	lad := exec.Command("ip", "netns", "exec", ns, bin, "ladder", "-i", "lo", "--port", "80", "--count", "3", "--duration", "30s", "--lang", "en")
	w := &lineWatcher{want: "capturing on lo", seen: make(chan struct{})}
	lad.Stdout, lad.Stderr = w, w
	if err := lad.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- lad.Wait() }()
	select {
	case <-w.seen:
	case <-time.After(20 * time.Second):
		lad.Process.Kill()
		t.Fatalf("ladder -i lo --count 3 did not start:\n%s", w.text())
	}
	inNS(t, ns, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1/")
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("ladder -i lo --count 3: %v\n%s", err, w.text())
		}
	case <-time.After(20 * time.Second):
		lad.Process.Kill()
		t.Fatalf("ladder -i lo --count 3 did not end after curl:\n%s", w.text())
	}
	got := w.text()
	if n := len(ladderRow.FindAllString(got, -1)); n != 3 || !strings.Contains(got, "3 packets captured on lo") || !strings.Contains(got, "--count 3 reached") {
		t.Errorf("ladder -i lo --count 3 drew %d segments:\n%s", n, got)
	}
}

// TestLiveLadderTUN: on a TUN device, whose packets are raw IP, curl's
// connection to synack's own HTTP server on the device's far side is
// drawn with the same states.
func TestLiveLadderTUN(t *testing.T) {
	needTools(t, "ip", "curl", "ss")
	name := fmt.Sprintf("synack-%d-livetun", os.Getpid())
	ns := netns.ForTest(t, netns.Options{Name: name, Persist: true, NoOffload: true})
	dev, err := ns.OpenTUN(ns.TUNName())
	if err != nil {
		t.Fatal(err)
	}
	st, err := synack.New(dev, synack.Config{Addr: netns.StackAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ln, err := st.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<p>hello from the kernel's TCP</p>\n")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	bin := buildCLI(t)
	out, file := liveLadder(t, bin, name, ns.TUNName(), "http://"+netns.StackAddr.String()+"/")
	t.Logf("synack ladder -i %s:\n%s", ns.TUNName(), out)
	if !strings.Contains(out, "capturing on "+ns.TUNName()+" (raw IP)") {
		t.Errorf("the capture does not say it reads raw IP packets")
	}
	conn := checkLiveHandshake(t, out, name)
	checkLiveClose(t, out, name, "", conn)
	checkTshark(t, out, file)
}

// liveConn is the connection a live ladder drew.
type liveConn struct {
	client, server string // ADDR:PORT
}

// checkLiveHandshake checks the handshake's rows and states and the
// client's port, and returns the connection.
func checkLiveHandshake(t *testing.T, out, clientNS string) liveConn {
	t.Helper()
	m := regexp.MustCompile(`Connection 1: (\S+):(\d+)-(\S+):80\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no connection to port 80 drawn")
	}
	if strings.Contains(out, "Connection 2:") {
		t.Errorf("more than one connection drawn")
	}
	c := liveConn{client: m[1] + ":" + m[2], server: m[3] + ":80"}
	port, _ := strconv.Atoi(m[2])
	var lo, hi int
	fmt.Sscan(inNS(t, clientNS, "cat", "/proc/sys/net/ipv4/ip_local_port_range"), &lo, &hi)
	if port < lo || port > hi {
		t.Errorf("client port %d is not ephemeral (the namespace's range is %d-%d)", port, lo, hi)
	}
	rows := ladderRow.FindAllStringSubmatch(out, -1)
	if len(rows) < 3 {
		t.Fatalf("%d segments drawn, want the handshake at least", len(rows))
	}
	want := [][2]string{{"S", "seq=0 ack=-"}, {"SA", "seq=0 ack=1"}, {"A", "seq=1 ack=1"}}
	for i, w := range want {
		if rows[i][2] != w[0] || "seq="+rows[i][3]+" ack="+rows[i][4] != w[1] {
			t.Errorf("handshake segment %d is %q, want %s %s", i+1, rows[i][0], w[0], w[1])
		}
	}
	// The rows' states: time, client state, arrow, server state.
	states := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ +CLOSED +│ +│ LISTEN$`),
		regexp.MustCompile(`(?m)^ *\d+\.\d+s  SYN-SENT +├── #\d+ S seq=0 ack=- .*▷│ SYN-RECEIVED$`),
		regexp.MustCompile(`(?m)^ *\d+\.\d+s  ESTABLISHED +│◁─+ #\d+ SA seq=0 ack=1 .*┤$`),
		regexp.MustCompile(`(?m)^ *\d+\.\d+s {10,}├── #\d+ A seq=1 ack=1 .*▷│ ESTABLISHED$`),
	}
	for _, re := range states {
		if !re.MatchString(out) {
			t.Errorf("no row matches %s", re)
		}
	}
	return c
}

// checkLiveClose checks how the connection closed. Usually one side
// sends its FIN first and ends in TIME-WAIT, as the kernel's ss shows it
// (unless its namespace is "": not the kernel's), and the other goes
// through CLOSE-WAIT and LAST-ACK to CLOSED (RFC 9293 §3.6 Figure 12). When
// both send their FINs before either has the other's (curl and python3
// can close at the same instant), both go through CLOSING to TIME-WAIT
// (Figure 13, "Simultaneous close sequence"), and ss shows both there.
func checkLiveClose(t *testing.T, out, clientNS, serverNS string, c liveConn) {
	t.Helper()
	fin := regexp.MustCompile(`(?m)^ *\d+\.\d+s  (\S*) +([├│]).*#\d+ F`).FindStringSubmatch(out)
	if fin == nil {
		t.Fatalf("no FIN drawn")
	}
	type end struct{ addr, ns string }
	first, other := end{c.client, clientNS}, end{c.server, serverNS}
	if fin[2] == "│" { // the arrow comes from the right: the server closed first
		first, other = other, first
	}
	timeWait := []end{first}
	states := []string{"FIN-WAIT-1", "CLOSE-WAIT", "LAST-ACK", "TIME-WAIT"}
	simultaneous := strings.Contains(out, " CLOSING ") || strings.Contains(out, " CLOSING\n")
	if simultaneous {
		t.Logf("a simultaneous close: both sides sent their FIN before the other's arrived")
		timeWait = append(timeWait, other)
		states = []string{"FIN-WAIT-1", "CLOSING", "TIME-WAIT"}
	} else if !regexp.MustCompile(`(?m)(^ *\d+\.\d+s  CLOSED |[│┤] CLOSED$)`).MatchString(out) {
		t.Errorf("%s, which closed second, never reaches CLOSED", other.addr)
	}
	for _, e := range timeWait {
		if !strings.Contains(out, "note: "+e.addr+" ends in TIME-WAIT") {
			t.Errorf("the ladder does not say %s ends in TIME-WAIT", e.addr)
		}
		if e.ns != "" {
			tw := inNS(t, e.ns, "ss", "-Htan", "state", "time-wait")
			if !strings.Contains(tw, e.addr) {
				t.Errorf("ss in %s shows no TIME-WAIT for %s:\n%s", e.ns, e.addr, tw)
			}
		}
	}
	for _, st := range states {
		if !regexp.MustCompile(`(?m)(^ *\d+\.\d+s  ` + st + ` |[│┤] ` + st + `$)`).MatchString(out) {
			t.Errorf("state %s is not drawn", st)
		}
	}
	if strings.Contains(out, "later packets changed rows drawn above") {
		t.Errorf("rows drawn live were revised at the end")
	}
	if !strings.Contains(out, "stopped by a signal") || !regexp.MustCompile(`--pcap \S+: \d+ packets written`).MatchString(out) {
		t.Errorf("the capture did not end cleanly on SIGINT with its file written")
	}
}

// checkTshark reads the --pcap file with tshark, Wireshark's reader, and
// checks that each TCP segment has the frame number and relative seq and
// ack the ladder drew.
func checkTshark(t *testing.T, out, file string) {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Logf("tshark not found (Debian package tshark): the ladder is not checked against Wireshark's reading of %s", filepath.Base(file))
		return
	}
	ts, err := exec.Command("tshark", "-r", file, "-o", "tcp.relative_sequence_numbers:TRUE", "-Y", "tcp",
		"-T", "fields", "-e", "frame.number", "-e", "tcp.srcport", "-e", "tcp.dstport", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.seq", "-e", "tcp.ack").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", file, err)
	}
	drawn := map[string][]string{}
	for _, m := range ladderRow.FindAllStringSubmatch(out, -1) {
		drawn[m[1]] = m
	}
	lines := strings.Split(strings.TrimSpace(string(ts)), "\n")
	if len(lines) != len(drawn) {
		t.Errorf("tshark reads %d TCP segments in the --pcap file, the ladder drew %d", len(lines), len(drawn))
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		if len(f) != 7 {
			t.Fatalf("tshark line %q", line)
		}
		m, ok := drawn[f[0]]
		if !ok {
			t.Errorf("tshark's frame %s (%s) is not drawn", f[0], line)
			continue
		}
		ack := f[6]
		if f[4] != "1" && f[4] != "True" {
			ack = "-"
		}
		if m[3] != f[5] || m[4] != ack {
			t.Errorf("frame %s: the ladder says seq=%s ack=%s, tshark seq=%s ack=%s", f[0], m[3], m[4], f[5], ack)
		}
		if i == 0 && f[2] != "80" {
			t.Errorf("tshark's first segment goes to port %s, not 80", f[2])
		}
	}
}
