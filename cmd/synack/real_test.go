package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/internal/netns"
)

// Bad flags of serve, get, relay and netns are refused before anything touches
// the system (no root needed), with exit status 2 and a message naming the
// flag.
func TestRealFlagErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"serve", "--echo"}, "--tun is required"},
		{[]string{"serve", "--tun", "synack0"}, "exactly one of --http DIR, --echo and --discard"},
		{[]string{"serve", "--tun", "synack0", "--echo", "--discard"}, "exactly one of"},
		{[]string{"serve", "--tun", "synack0", "--http", dir + "/nope"}, `--http "` + dir + `/nope"`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr", "10.0.0.300"}, `--addr "10.0.0.300": not an IPv4 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr", "::1"}, `--addr "::1": not an IPv4 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--port", "70000"}, "--port 70000"},
		{[]string{"serve", "--tun", "a-name-longer-than-15", "--echo"}, "1 to 15 bytes"},
		{[]string{"serve", "--tun", "synack0", "--echo", "extra"}, "takes no arguments"},
		{[]string{"get", "--tun", "synack0"}, "takes 1 argument(s) (URL)"},
		{[]string{"get", "http://198.18.0.1/"}, "--tun is required"},
		{[]string{"get", "ftp://198.18.0.1/", "--tun", "synack0"}, `scheme "ftp", want http or https`},
		{[]string{"get", "http://example.com/", "--tun", "synack0"}, `host "example.com" is not an IPv4 or IPv6 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr6", "198.18.0.2"}, `--addr6 "198.18.0.2": not an IPv6 address`},
		{[]string{"serve", "--tun", "synack0", "--echo", "--addr", "", "--addr6", ""}, `--addr and --addr6 are both empty`},
		{[]string{"get", "http://[2001:2::1]/", "--tun", "synack0", "--addr6", ""}, `an IPv6 host, but synack has no IPv6 address`},
		{[]string{"get", "http://198.18.0.1/", "--tun", "synack0", "-o", dir + "/no/such/dir/f"}, "-o"},
		{[]string{"netns", "up", "--mtu", "10"}, "--mtu 10"},
		{[]string{"netns", "up", "--name", "bad name!"}, `--name "bad name!": a namespace name is letters, digits`},
		{[]string{"netns", "up", "--tun", "bad:tun"}, `--tun "bad:tun": an interface name is 1 to 15 bytes`},
		{[]string{"netns", "down", "--name", "a/b"}, `--name "a/b": not a namespace name`},
		{[]string{"serve", "--tun", "a:b", "--echo"}, `--tun "a:b": not an interface name`},
		{[]string{"netns", "up", "extra"}, "takes no arguments"},
		{[]string{"serve", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"relay", "--direct"}, "--tun is required"},
		{[]string{"relay", "--tun", "synack0"}, "exactly one of --direct and --socks5 HOST:PORT"},
		{[]string{"relay", "--tun", "synack0", "--direct", "--socks5", "127.0.0.1:1080"}, "exactly one of --direct and --socks5"},
		{[]string{"relay", "--tun", "synack0", "--socks5", "nohost"}, `--socks5 "nohost": want HOST:PORT`},
		{[]string{"relay", "--tun", "synack0", "--socks5", "127.0.0.1:99999"}, `port "99999" is not a number from 1 to 65535`},
		{[]string{"relay", "--tun", "synack0", "--direct", "--udp-idle", "0s"}, "--udp-idle 0s"},
		{[]string{"relay", "--tun", "synack0", "--direct", "--socks5-user", "u"}, "--socks5-user needs --socks5"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tc.want)
			}
		})
	}
}

// testNetnsName is a namespace name of this test process's own, removed
// (whatever made it) when t ends.
func testNetnsName(t *testing.T, what string) string {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	name := fmt.Sprintf("synack-%d-%s", os.Getpid(), what)
	t.Cleanup(func() {
		netns.RemoveNamed(name)
		if _, err := os.Stat("/var/run/netns/" + name); err == nil {
			t.Errorf("namespace %s still exists", name)
		}
	})
	return name
}

// `synack netns up` of a name that exists fails saying so and what to do,
// and leaves the namespace that was there (and its device) alone.
func TestNetnsUpTwice(t *testing.T) {
	name := testNetnsName(t, "twice")
	if _, stderr, code := runCLI(t, "netns", "up", "--name", name); code != 0 {
		t.Fatalf("first netns up: exit %d: %s", code, stderr)
	}
	_, stderr, code := runCLI(t, "netns", "up", "--name", name)
	want := "synack netns down --name " + name
	if code != 1 || !strings.Contains(stderr, "exists") || !strings.Contains(stderr, want) {
		t.Fatalf("second netns up: exit %d, stderr %q; want exit 1 saying the namespace exists and %q", code, stderr, want)
	}
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatalf("the first namespace is gone: %v", err)
	}
	dev, err := ns.OpenTUN(netns.DefaultTUN)
	if err != nil {
		t.Fatalf("the first namespace lost its device: %v", err)
	}
	dev.Close()
	if _, stderr, code := runCLI(t, "netns", "down", "--name", name); code != 0 {
		t.Fatalf("netns down: exit %d: %s", code, stderr)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"synack":     "synack",
		"synack-1.2": "synack-1.2",
		"/tmp/a_b":   "/tmp/a_b",
		"":           "''",
		"bad name!":  "'bad name!'",
		"it's":       `'it'\''s'`,
		"$x":         "'$x'",
	} {
		if got := shq(in); got != want {
			t.Errorf("shq(%q) = %s, want %s", in, got, want)
		}
	}
}

// The commands `netns up` prints work pasted as they are: names and paths
// quoted for the shell where they need it.
func TestNetnsUpHints(t *testing.T) {
	name := testNetnsName(t, "hints")
	out, stderr, code := runCLI(t, "netns", "up", "--name", name, "--tun", "syn.1")
	if code != 0 {
		t.Fatalf("netns up: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"synack serve --tun syn.1 --netns " + name + " --http .\n",
		"ip netns exec " + name + " curl http://198.18.0.2/\n",
		"synack netns down --name " + name + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("netns up printed\n%s\nwithout %q", out, want)
		}
	}
}

// Without root, netns up and down say which command needs root, for what,
// and what to do; nothing is tried. (The user id is faked: the test does
// not need to run unprivileged.)
func TestNetnsNeedsRoot(t *testing.T) {
	// A name of the test's own, removed at the end should up run after all.
	name := fmt.Sprintf("synack-%d-noroot", os.Getpid())
	t.Cleanup(func() { netns.RemoveNamed(name) })
	defer func(f func() int) { euid = f }(euid)
	euid = func() int { return 1000 }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"netns", "up", "--name", name}, "netns up needs root (to create a network namespace and its TUN device): run it with sudo"},
		{[]string{"netns", "down", "--name", name}, "netns down needs root (to remove the namespace and its TUN device): run it with sudo"},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		if code != 1 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s as uid 1000: exit %d, stderr %q; want exit 1 and %q", strings.Join(tc.args, " "), code, stderr, tc.want)
		}
	}
}

// testNetns makes a namespace as `synack netns up` does, removed when t
// ends.
func testNetns(t *testing.T, what string) *netns.NS {
	t.Helper()
	name := testNetnsName(t, what)
	ns, err := netns.New(netns.Options{Name: name, Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// serve and get on what is not a TUN device they can have say what it is
// and how to make one, with the commands quoted for the shell.
func TestDeviceErrors(t *testing.T) {
	ns := testNetns(t, "dev")
	n := ns.Name()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve", "--tun", "lo", "--netns", n, "--echo"}, []string{
			`"lo" exists and is a loopback device, not a TUN device`,
			"synack netns up", "ip netns exec " + n + " ip tuntap add NAME mode tun"}},
		{[]string{"get", "http://198.18.0.1/", "--tun", "lo", "--netns", n}, []string{`"lo" exists and is a loopback device, not a TUN device`}},
		{[]string{"serve", "--tun", "x$y", "--netns", n, "--echo"}, []string{
			`no device "x$y" in this network namespace`,
			"ip netns exec " + n + " ip tuntap add 'x$y' mode tun"}},
		{[]string{"serve", "--tun", "synack0", "--netns", n + "-nosuch", "--echo"}, []string{
			`no namespace ` + n + `-nosuch`, "synack netns up --name " + n + "-nosuch"}},
	} {
		_, stderr, code := runCLI(t, tc.args...)
		for _, want := range tc.want {
			if code != 1 || !strings.Contains(stderr, want) {
				t.Errorf("%s: exit %d, stderr %q; want exit 1 and %q", strings.Join(tc.args, " "), code, stderr, want)
			}
		}
	}
}

// The flags of serve and get read right in --help: pflag takes a
// `quoted` word of a usage string for the value's placeholder.
func TestRealHelp(t *testing.T) {
	for _, c := range []string{"serve", "get"} {
		out, _, code := runCLI(t, c, "--help")
		if code != 0 {
			t.Fatalf("%s --help: exit %d", c, code)
		}
		for _, want := range []string{
			"--tun NAME ", "TUN device NAME synack runs on ('synack netns up' makes synack0)",
			"--netns NAME ",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s --help lacks %q:\n%s", c, want, out)
			}
		}
		if strings.Contains(out, "--tun synack") || strings.Contains(out, "`") {
			t.Errorf("%s --help shows a usage string's quote as a placeholder:\n%s", c, out)
		}
	}
}

// lines is a Writer safe for concurrent use whose text can be waited for.
type lines struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{}
}

func newLines() *lines { return &lines{changed: make(chan struct{}, 1)} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Write(p)
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// background is a command running in this process.
type background struct {
	out, err *lines
	cancel   context.CancelFunc
	code     chan int
}

// startCLI runs the command line args until stop, on a thread of its own
// in the namespace ns (nil: this process's), as if it had been started
// there.
func startCLI(t *testing.T, ns *netns.NS, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{out: newLines(), err: newLines(), cancel: cancel, code: make(chan int, 1)}
	run := func() error {
		root := newRoot(b.out, b.err)
		root.SetArgs(args)
		code := 0
		if err := root.ExecuteContext(ctx); err != nil {
			fmt.Fprintln(b.err, "synack:", err)
			code = 1
		}
		b.code <- code
		return nil
	}
	go func() {
		if ns == nil {
			run()
			return
		}
		if err := ns.Do(run); err != nil {
			fmt.Fprintln(b.err, "entering the namespace:", err)
			b.code <- 1
		}
	}()
	t.Cleanup(func() { b.stop() })
	return b
}

// waitFor waits until the standard output holds s, or the command ends
// (which fails t).
func (b *background) waitFor(t *testing.T, s string) {
	t.Helper()
	for !strings.Contains(b.out.String(), s) {
		select {
		case <-b.out.changed:
		case code := <-b.code:
			b.code <- code
			t.Fatalf("the command ended (exit %d) before printing %q:\n%s%s", code, s, b.out, b.err)
		}
	}
}

// stop interrupts the command and returns its exit status.
func (b *background) stop() int {
	b.cancel()
	code := <-b.code
	b.code <- code
	return code
}

// echoOnce sends a line to addr from the kernel's side of ns and checks
// that it comes back.
func echoOnce(t *testing.T, ns *netns.NS, addr string) {
	t.Helper()
	c, err := ns.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const msg = "hello, synack\n"
	if _, err := io.WriteString(c, msg); err != nil {
		t.Fatal(err)
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || got != msg {
		t.Fatalf("echo of %q: %q, %v", msg, got, err)
	}
}

// With --netns "" serve runs in the namespace it was started in, and
// checks nothing about root before it opens the device (the user id is
// faked: the interop test TestCLIUnprivileged runs it as nobody).
func TestServeCurrentNamespace(t *testing.T) {
	ns := testNetns(t, "cur")
	defer func(f func() int) { euid = f }(euid)
	euid = func() int { return 1000 }
	b := startCLI(t, ns, "serve", "--tun", netns.DefaultTUN, "--netns", "", "--echo")
	b.waitFor(t, "listening on [::]:7")
	echoOnce(t, ns, "198.18.0.2:7")
	echoOnce(t, ns, "[2001:2::2]:7")
	if code := b.stop(); code != 0 {
		t.Fatalf("serve ended with exit %d:\n%s", code, b.err)
	}
}

// nft loads rules into the namespace, or skips t without nft.
func nft(t *testing.T, ns *netns.NS, rules string) {
	t.Helper()
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipped: nft not found in PATH (Debian package nftables)")
	}
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := ns.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nft: %v: %s", err, stderr.String())
	}
}

// get --timeout gives up connecting to an address that never answers
// (the kernel in the test's namespace drops the SYNs), saying it timed out
// connecting to that address.
func TestGetTimeout(t *testing.T) {
	ns := testNetns(t, "timeout")
	nft(t, ns, `table inet synack_test {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 9 drop
	}
}
`)
	_, stderr, code := runCLI(t, "get", "http://198.18.0.1:9/", "--tun", netns.DefaultTUN, "--netns", ns.Name(), "--timeout", "1s")
	want := "timed out after 1s connecting to 198.18.0.1:9"
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("get of a dropping address: exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
	}
	out, _, _ := runCLI(t, "get", "--help")
	if !strings.Contains(out, "--timeout duration") || !strings.Contains(out, `(default 30s)`) {
		t.Errorf("get --help does not show --timeout and its default:\n%s", out)
	}
}

// tshark reads file and prints the packets that filter keeps, one field
// per line, or skips t without tshark.
func tshark(t *testing.T, file, filter, field string) string {
	t.Helper()
	if _, err := exec.LookPath("tshark"); err != nil {
		t.Skip("skipped: tshark not found in PATH (Debian package tshark)")
	}
	cmd := exec.Command("tshark", "-n", "-o", "tcp.check_checksum:TRUE", "-r", file, "-Y", filter, "-T", "fields", "-e", field)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tshark -r %s -Y %q: %v\n%s", file, filter, err, stderr.String())
	}
	return string(out)
}

// checkLiveCapture reads a --pcap file back: the HTTP request and answer
// are in it, with the stack's annotations and wall-clock times; tshark
// (when installed) decodes the exchange and finds no malformed packet or
// bad checksum.
func checkLiveCapture(t *testing.T, file, path string, states ...string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	c, err := capture.Read(f)
	f.Close()
	if err != nil {
		t.Fatalf("reading the capture back: %v", err)
	}
	var data, comments strings.Builder
	for _, p := range c.Packets {
		data.Write(p.Data)
		comments.WriteString(strings.Join(p.Comments, "; ") + "\n")
		if y := p.Time.Year(); y != time.Now().Year() {
			t.Fatalf("packet %d is dated %v: not wall-clock time", p.N, p.Time)
		}
	}
	for _, want := range []string{"GET " + path + " HTTP/1.1\r\n", "HTTP/1.1 200 OK\r\n"} {
		if !strings.Contains(data.String(), want) {
			t.Errorf("the capture's %d packets lack %q", len(c.Packets), want)
		}
	}
	for _, s := range append(states, "cwnd ") {
		if !strings.Contains(comments.String(), s) {
			t.Errorf("no packet comment says %q:\n%s", s, comments.String())
		}
	}
	if bad := tshark(t, file, `_ws.malformed || tcp.checksum.status == "Bad" || ip.checksum.status == "Bad"`, "frame.number"); strings.TrimSpace(bad) != "" {
		t.Errorf("tshark finds malformed or bad-checksum packets: %s", bad)
	}
	if got := tshark(t, file, "http.request", "http.request.uri"); strings.TrimSpace(got) != path {
		t.Errorf("tshark decodes the HTTP requests %q, want %q", got, path)
	}
	if got := tshark(t, file, "http.response", "http.response.code"); strings.TrimSpace(got) != "200" {
		t.Errorf("tshark decodes the HTTP responses %q, want 200", got)
	}
}

// serve --pcap and get --pcap write what crosses the device, annotated
// with what synack decided, as the simulated runs' captures are.
func TestLivePcap(t *testing.T) {
	ns := testNetns(t, "pcap")
	dir := t.TempDir()
	www := filepath.Join(dir, "www")
	os.Mkdir(www, 0o755)
	body := strings.Repeat("synack over a TUN device\n", 4000)
	if err := os.WriteFile(filepath.Join(www, "f.txt"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	kernelClient := &http.Client{Transport: &http.Transport{DialContext: ns.DialContext, DisableKeepAlives: true}}

	servePcap := filepath.Join(dir, "serve.pcapng")
	b := startCLI(t, nil, "serve", "--tun", netns.DefaultTUN, "--netns", ns.Name(), "--http", www, "--pcap", servePcap)
	b.waitFor(t, "listening on")
	resp, err := kernelClient.Get("http://198.18.0.2/f.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(got) != body {
		t.Fatalf("GET from serve: %d bytes, %v; want %d bytes", len(got), err, len(body))
	}
	if code := b.stop(); code != 0 {
		t.Fatalf("serve: exit %d:\n%s", code, b.err)
	}
	// A state change is on the next packet of its instant: the
	// handshake's last ACK, which answers nothing, carries none, and who
	// closes first is a race.
	checkLiveCapture(t, servePcap, "/f.txt", "state LISTEN -> SYN-RECEIVED")

	// get from a kernel server in the namespace.
	ln, err := ns.Listen("tcp", "198.18.0.1:8080")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(www))}
	go srv.Serve(ln)
	defer srv.Close()
	getPcap := filepath.Join(dir, "get.pcapng")
	_, stderr, code := runCLI(t, "get", "http://198.18.0.1:8080/f.txt", "--tun", netns.DefaultTUN, "--netns", ns.Name(), "-o", filepath.Join(dir, "got"), "--pcap", getPcap)
	if code != 0 {
		t.Fatalf("get: exit %d: %s", code, stderr)
	}
	checkLiveCapture(t, getPcap, "/f.txt", "state SYN-SENT -> ESTABLISHED")
}

// A --pcap file that cannot be written is an error when the run ends, not
// a capture silently lost.
func TestLivePcapWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skipf("skipped: no /dev/full to fail writes: %v", err)
	}
	ns := testNetns(t, "pcapfull")
	b := startCLI(t, nil, "serve", "--tun", netns.DefaultTUN, "--netns", ns.Name(), "--echo", "--pcap", "/dev/full")
	b.waitFor(t, "listening on")
	echoOnce(t, ns, "198.18.0.2:7")
	if code := b.stop(); code != 1 || !strings.Contains(b.err.String(), "--pcap /dev/full") {
		t.Fatalf("serve --pcap /dev/full: exit %d, stderr %q; want exit 1 and the --pcap error", code, b.err)
	}
}

// relay --socks5 with nothing listening at the proxy's address fails with
// exit status 1 and says which proxy, before it opens any device.
func TestRelayProxyUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, stderr, code := runCLI(t, "relay", "--tun", "synack0", "--netns", "", "--socks5", addr)
	if code != 1 || !strings.Contains(stderr, "socks5 proxy "+addr) || !strings.Contains(stderr, "connection refused") {
		t.Fatalf("exit %d, stderr %q; want exit 1 naming the proxy", code, stderr)
	}
}
