package interop

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
)

// liveRun is a synack ladder -i running in a namespace.
type liveRun struct {
	cmd    *exec.Cmd
	out    *lineWatcher
	exited chan error
}

// startLive starts synack ladder -i iface with args in namespace ns and
// waits until it captures (its first line, in either language, ends with
// how to stop it: Ctrl-C); it is killed when t ends if still running.
func startLive(t *testing.T, bin, ns, iface string, args ...string) *liveRun {
	t.Helper()
	all := append([]string{"netns", "exec", ns, bin, "ladder", "-i", iface, "--duration", "50s", "--lang", "en"}, args...)
	r := &liveRun{cmd: exec.Command("ip", all...), out: &lineWatcher{want: "Ctrl-C", seen: make(chan struct{})}, exited: make(chan error, 1)}
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.exited <- r.cmd.Wait() }()
	t.Cleanup(func() { r.cmd.Process.Kill() })
	select {
	case <-r.out.seen:
	case err := <-r.exited:
		t.Fatalf("synack ladder -i %s ended before capturing: %v\n%s", iface, err, r.out.text())
	case <-time.After(20 * time.Second):
		t.Fatalf("synack ladder -i %s did not start capturing in 20 s:\n%s", iface, r.out.text())
	}
	return r
}

// stop ends the capture with SIGINT and returns what it printed.
func (r *liveRun) stop(t *testing.T) string {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.exited:
		if err != nil {
			t.Fatalf("synack ladder -i after SIGINT: %v\n%s", err, r.out.text())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("synack ladder -i did not end within 20 s of SIGINT:\n%s", r.out.text())
	}
	return r.out.text()
}

// fileHas waits until file exists and holds want, and returns it.
func fileHas(t *testing.T, file, want string) []byte {
	t.Helper()
	var b []byte
	waitFor(t, filepath.Base(file)+" to hold "+want, func() bool {
		var err error
		b, err = os.ReadFile(file)
		return err == nil && bytes.Contains(b, []byte(want))
	})
	return b
}

// TestLiveLadderPictures: synack ladder -i --svg --html --plot writes its
// pictures as the capture goes, whole each time (a browser's reload shows
// the latest), of the latest connection --port chooses; at the end they
// are byte for byte what synack ladder FILE draws afterwards from the
// --pcap file, with the --conn it names. Without --pcap they are drawn
// from the capture kept in memory, titled with the interface.
func TestLiveLadderPictures(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "ip", "curl", "python3", "ss")
	bin := buildCLI(t)
	ns := fmt.Sprintf("synack-%d-webpics", os.Getpid())
	liveNS(t, ns)
	kernelHTTP(t, ns, "127.0.0.1")
	dir := t.TempDir()
	pcap, svg, html, plot := filepath.Join(dir, "live.pcapng"), filepath.Join(dir, "live.svg"), filepath.Join(dir, "live.html"), filepath.Join(dir, "plot.svg")
	r := startLive(t, bin, ns, "lo", "--port", "80", "--pcap", pcap, "--svg", svg, "--html", html, "--plot", plot)

	// While it captures: the first connection's pictures, then the
	// second's, each file rewritten in place.
	inNS(t, ns, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1/")
	first := fileHas(t, svg, "live.pcapng, connection 1: 127.0.0.1:")
	fileHas(t, html, "live.pcapng, connection 1: 127.0.0.1:")
	fileHas(t, plot, "live.pcapng, connection 1: 127.0.0.1:")
	inNS(t, ns, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1/")
	fileHas(t, svg, "live.pcapng, connection 2: 127.0.0.1:")
	// The second connection's close is drawn in the text: every packet
	// of it has been captured.
	waitFor(t, "the second connection's close", func() bool {
		txt := r.out.text()
		i := strings.Index(txt, "Connection 2:")
		return i >= 0 && regexp.MustCompile(`(?m)^ *\d+\.\d+s  (CLOSED|TIME-WAIT) `).MatchString(txt[i:]) &&
			regexp.MustCompile(`(?m)[│┤] (CLOSED|TIME-WAIT)$`).MatchString(txt[i:])
	})
	out := r.stop(t)
	t.Logf("synack ladder -i lo:\n%s", out)

	m := regexp.MustCompile(`--svg \S+ --html \S+ --plot \S+: connection 2, (\S+), the latest of the 2 chosen \(synack ladder (\S+) --conn (\S+) draws it again\)`).FindStringSubmatch(out)
	if m == nil || m[1] != m[3] || m[2] != pcap {
		t.Fatalf("the end does not say which connection the pictures show, and how to draw it again:\n%s", out)
	}
	conn := m[3]
	again := filepath.Join(dir, "again")
	cmd := exec.Command(bin, "ladder", pcap, "--conn", conn, "--svg", again+".svg", "--html", again+".html", "--plot", again+"-plot.svg", "--lang", "en")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	for _, f := range [][2]string{{svg, again + ".svg"}, {html, again + ".html"}, {plot, again + "-plot.svg"}} {
		live, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(f[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(live, after) {
			t.Errorf("%s, written live, differs from what synack ladder %s --conn %s draws afterwards (%d and %d bytes)", filepath.Base(f[0]), filepath.Base(pcap), conn, len(live), len(after))
		}
		if !bytes.Contains(live, []byte("connection 2: "+conn)) {
			t.Errorf("%s does not show connection 2, %s", filepath.Base(f[0]), conn)
		}
	}
	if bytes.Equal(first, fileHas(t, svg, "connection 2")) {
		t.Error("the SVG written during the capture is the final one")
	}
	// No temporary file is left beside the pictures.
	names, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(names) > 0 {
		t.Errorf("left behind: %q", names)
	}

	// Without --pcap: from the capture kept in memory, titled with the
	// interface; in Chinese with --lang zh.
	mem := filepath.Join(dir, "mem.svg")
	r = startLive(t, bin, ns, "lo", "--port", "80", "--svg", mem, "--lang", "zh")
	inNS(t, ns, "curl", "-sS", "--max-time", "10", "-o", "/dev/null", "http://127.0.0.1/")
	fileHas(t, mem, "lo，第 1 条连接：127.0.0.1:")
	out = r.stop(t)
	if !strings.Contains(out, "--svg "+mem+"：第 1 条连接，127.0.0.1:") {
		t.Errorf("without --pcap, the end does not say what the SVG shows:\n%s", out)
	}
	b, _ := os.ReadFile(mem)
	if !bytes.Contains(b, []byte("#1 S seq=0")) {
		t.Errorf("mem.svg lacks the SYN:\n%.2000s", b)
	}
}
