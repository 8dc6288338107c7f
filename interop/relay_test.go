package interop

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/gosynack/synack/internal/netns"
)

// The relay's test network: the client namespace routes 198.18.0.0/15 and
// 2001:2::/48 into the TUN (synack netns up); synack relay runs in a
// second namespace, joined to a third, the server's, by a veth pair.
const (
	relayVeth4  = "198.19.2.1/24"
	relayVeth6  = "2001:2:0:2::1/64"
	serverAddr4 = "198.19.2.2"
	serverAddr6 = "2001:2:0:2::2"
	relayTUN    = "srly0"
)

// TestRelayDirect: `synack relay --direct` carries curl from the client
// namespace to an HTTP server in a third namespace (a download and an
// upload each way, SHA-256 equal, IPv4 and IPv6), DNS queries over UDP to a
// DNS server there, many concurrent TCP flows (bounded), and shows a
// refused destination as "connection refused". The relay dials only the
// server namespace's addresses.
//
// TestRelaySOCKS5 does the same with --socks5 through Dante's SOCKS
// server (danted), a maintained SOCKS5 server with CONNECT and UDP
// ASSOCIATE: no SOCKS5 server library that has UDP ASSOCIATE is served by
// the Go module proxy (github.com/armon/go-socks5 is, without UDP
// ASSOCIATE, unchanged since 2016).
func TestRelayDirect(t *testing.T) { testRelay(t, false) }

// TestRelaySOCKS5: as TestRelayDirect, with `synack relay --socks5` through
// danted in the relay's namespace (CONNECT and UDP ASSOCIATE), which dials
// the server namespace. It skips when danted (Debian's dante-server) is not
// installed.
func TestRelaySOCKS5(t *testing.T) { testRelay(t, true) }

func testRelay(t *testing.T, socks bool) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "curl", "ip")
	if socks {
		needTools(t, "danted")
	}
	// The 100 MiB and 1,000 flows: SYNACK_RELAY_SIZE=100MiB
	// SYNACK_RELAY_FLOWS=1000.
	n := size(t, "SYNACK_RELAY_SIZE", 8<<20)
	flows := int(size(t, "SYNACK_RELAY_FLOWS", 200))
	if flows > 2000 {
		t.Fatalf("SYNACK_RELAY_FLOWS=%d: at most 2000", flows)
	}
	size := n
	dir := t.TempDir()
	bin := filepath.Join(dir, "synack")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gosynack/synack/cmd/synack").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pid := os.Getpid()
	clientName := fmt.Sprintf("synack-%d-rlyc", pid)
	relayName := fmt.Sprintf("synack-%d-rlyr", pid)
	serverName := fmt.Sprintf("synack-%d-rlys", pid)
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}

	// The client namespace, with its TUN.
	run(bin, "netns", "up", "--name", clientName, "--tun", relayTUN)
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "netns", "down", "--name", clientName).CombinedOutput(); err != nil {
			t.Errorf("synack netns down: %v\n%s", err, out)
			netns.RemoveNamed(clientName)
		}
	})
	// The relay's and the server's namespaces, joined by a veth pair made
	// inside the relay's namespace (nothing is made in this one).
	for _, ns := range []string{relayName, serverName} {
		run("ip", "netns", "add", ns)
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v\n%s", ns, err, out)
			}
		})
	}
	for _, args := range [][]string{
		{"-n", relayName, "link", "add", "rly0", "type", "veth", "peer", "name", "srv0", "netns", serverName},
		{"-n", relayName, "link", "set", "lo", "up"},
		{"-n", relayName, "addr", "add", relayVeth4, "dev", "rly0"},
		{"-n", relayName, "addr", "add", relayVeth6, "dev", "rly0", "nodad"},
		{"-n", relayName, "link", "set", "rly0", "up"},
		{"-n", serverName, "link", "set", "lo", "up"},
		{"-n", serverName, "addr", "add", serverAddr4 + "/24", "dev", "srv0"},
		{"-n", serverName, "addr", "add", serverAddr6 + "/64", "dev", "srv0", "nodad"},
		{"-n", serverName, "link", "set", "srv0", "up"},
	} {
		run("ip", args...)
	}
	// Wait for the veth pair's carrier (the kernel reports it up to a
	// second after both ends are up): IPv4 goes out before it, but a first
	// IPv6 SYN sent in that window is dropped and sent again only after the
	// kernel's 1 s initial RTO (curl's time_connect was 1.02 s over IPv6,
	// 0.001 s over IPv4).
	for _, l := range [][2]string{{relayName, "rly0"}, {serverName, "srv0"}} {
		for deadline := time.Now().Add(5 * time.Second); ; {
			o, err := exec.CommandContext(ctx, "ip", "-n", l[0], "link", "show", l[1]).CombinedOutput()
			if err == nil && strings.Contains(string(o), "state UP") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s in %s has no carrier after 5 s: %v\n%s", l[1], l[0], err, o)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	client, err := netns.Open(clientName)
	if err != nil {
		t.Fatal(err)
	}
	server, err := netns.Open(serverName)
	if err != nil {
		t.Fatal(err)
	}

	// The server: HTTP (a download of size bytes, an upload answered with
	// its size and SHA-256), an echo on port 7, DNS over UDP on port 53.
	_, wantSHA := writeFile(t, dir, 18, size)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /file", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(size))
		io.Copy(w, payload(18, size))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	for _, a := range []string{serverAddr4, "[" + serverAddr6 + "]"} {
		ln, err := server.Listen("tcp", a+":8080")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: mux}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		echo, err := server.Listen("tcp", a+":7")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { echo.Close() })
		go func() {
			for {
				c, err := echo.Accept()
				if err != nil {
					return
				}
				go func() { io.Copy(c, c); c.Close() }()
			}
		}()
		var pc net.PacketConn
		if err := server.Do(func() error {
			var err error
			pc, err = net.ListenPacket("udp", a+":53")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		go serveDNS(pc)
	}

	// The relay, in its namespace, on the client namespace's TUN.
	mode := []string{"--direct"}
	if socks {
		startDante(ctx, t, dir, relayName)
		mode = []string{"--socks5", "198.19.2.1:1080"}
	}
	relay := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", relayName, bin, "relay", "--tun", relayTUN, "--netns", clientName, "-v"}, mode...)...)
	out := &lineWatcher{want: "synack relay: relaying", seen: make(chan struct{})}
	relay.Stdout, relay.Stderr = out, out
	if err := relay.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			relay.Process.Signal(interruptSignal)
			relay.Wait()
		}
	}
	defer stop()
	select {
	case <-out.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("synack relay did not start: %s", out.text())
	}

	curl := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--max-time", "120"}, args...)...)
		var b strings.Builder
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := client.Start(cmd); err != nil {
			return "", err
		}
		err := cmd.Wait()
		return b.String(), err
	}
	upload := filepath.Join(dir, "payload-18")
	for _, host := range []string{serverAddr4, "[" + serverAddr6 + "]"} {
		got := filepath.Join(dir, "got")
		o, err := curl("-o", got, "-w", "%{speed_download}", "http://"+host+":8080/file")
		if err != nil {
			t.Fatalf("curl GET via %s: %v\n%s\nrelay:\n%s", host, err, o, out.text())
		}
		t.Logf("download of %d bytes from %s through the relay: curl's speed_download %s bytes/s", size, host, o)
		if sha, n := fileSHA(t, got); sha != wantSHA || n != size {
			t.Errorf("download from %s: %d bytes sha256 %s, want %d bytes %s", host, n, sha, size, wantSHA)
		}
		o, err = curl("--data-binary", "@"+upload, "http://"+host+":8080/upload")
		if err != nil {
			t.Fatalf("curl POST via %s: %v\n%s", host, err, o)
		}
		if want := fmt.Sprintf("%d %s", size, wantSHA); o != want {
			t.Errorf("upload to %s: the server got %q, want %q", host, o, want)
		}
	}

	// DNS over UDP, IPv4 and IPv6, from the client namespace.
	for _, a := range []string{serverAddr4, "[" + serverAddr6 + "]"} {
		r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return client.DialContext(ctx, "udp", a+":53")
		}}
		qctx, qcancel := context.WithTimeout(ctx, 10*time.Second)
		addrs, err := r.LookupHost(qctx, "relay.test")
		qcancel()
		if err != nil || len(addrs) != 1 || addrs[0] != "198.19.2.77" {
			t.Errorf("DNS via %s: %v, %v; want 198.19.2.77", a, addrs, err)
		}
	}

	// A refused destination: curl sees "connection refused" (exit 7), as
	// a kernel socket dialling it directly would.
	if o, err := curl("http://" + serverAddr4 + ":8081/"); err == nil || !isExit(err, 7) {
		t.Errorf("curl to a closed port: %v, %s; want exit status 7 (couldn't connect)", err, o)
	}
	for _, a := range []string{serverAddr4, "[" + serverAddr6 + "]"} {
		if _, err := client.DialContext(ctx, "tcp", a+":8081"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial %s:8081 from the client: %v, want connection refused", a, err)
		}
	}

	// Many TCP flows at once, each echoed: every flow is connected (the
	// relay has dialled its destination before it answers the SYN) before
	// any sends, so all of them are open through the relay together.
	var wg, connected sync.WaitGroup
	errs := make(chan error, flows)
	for i := range flows {
		wg.Add(1)
		connected.Add(1)
		go func() {
			defer wg.Done()
			dialled := sync.OnceFunc(connected.Done)
			defer dialled()
			fctx, fcancel := context.WithTimeout(ctx, 60*time.Second)
			defer fcancel()
			a := serverAddr4
			if i%2 == 1 {
				a = "[" + serverAddr6 + "]"
			}
			c, err := client.DialContext(fctx, "tcp", a+":7")
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			dialled()
			connected.Wait()
			c.SetDeadline(time.Now().Add(60 * time.Second))
			msg := make([]byte, 4096)
			for j := range msg {
				msg[j] = byte(i + j)
			}
			go func() { c.Write(msg); c.(*net.TCPConn).CloseWrite() }()
			got, err := io.ReadAll(c)
			if err != nil || string(got) != string(msg) {
				errs <- fmt.Errorf("flow %d: %d bytes back, %v", i, len(got), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	stop()
	text := out.text()
	for _, want := range []string{
		"> " + serverAddr4 + ":8080 open",
		"> " + serverAddr4 + ":8081 refused (RST)",
		"udp 198.18.0.1:",
		"synack relay: tcp ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("relay output lacks %q:\n%s", want, tail(text, 40))
		}
	}
	if socks && !strings.Contains(text, "through socks5 proxy 198.19.2.1:1080") {
		t.Errorf("the relay does not say it goes through the proxy:\n%s", tail(text, 40))
	}
	t.Logf("relay: %s", tail(text, 1))
	if !strings.Contains(text, fmt.Sprintf("tcp %d opened, 3 refused, 0 active", 4+flows)) {
		t.Errorf("relay's counters at exit: want %d TCP flows opened, 3 refused, none active:\n%s", 4+flows, tail(text, 5))
	}
}

func isExit(err error, code int) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.ExitCode() == code
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// serveDNS answers every A query for relay.test. with 198.19.2.77 and
// anything else with NXDOMAIN, until pc is closed.
func serveDNS(pc net.PacketConn) {
	buf := make([]byte, 1500)
	a := netip.MustParseAddr("198.19.2.77").As4()
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true}
		b := dnsmessage.NewBuilder(nil, rh)
		b.EnableCompression()
		b.StartQuestions()
		b.Question(q)
		b.StartAnswers()
		switch {
		case q.Name.String() == "relay.test." && q.Type == dnsmessage.TypeA:
			b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}, dnsmessage.AResource{A: a})
		case q.Name.String() == "relay.test.":
		default:
			rh.RCode = dnsmessage.RCodeNameError
			b = dnsmessage.NewBuilder(nil, rh)
			b.StartQuestions()
			b.Question(q)
		}
		msg, err := b.Finish()
		if err != nil {
			continue
		}
		pc.WriteTo(msg, from)
	}
}

// danteConf is Dante's configuration for TestRelaySOCKS5: no
// authentication, clients on the relay's side of the veth only, CONNECT and
// UDP ASSOCIATE to anywhere, out of rly0 (its IPv4 and IPv6 addresses).
const danteConf = `logoutput: stderr
internal: 198.19.2.1 port = 1080
external: rly0
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass {
	from: 198.19.2.0/24 to: 0/0
}
socks pass {
	from: 0/0 to: 0/0
	command: connect udpassociate udpreply
	log: error
}
`

// startDante runs Dante's SOCKS server (danted, from Debian's dante-server)
// in the relay's namespace on 198.19.2.1:1080 until the test ends, and
// waits until it accepts connections.
func startDante(ctx context.Context, t *testing.T, dir, ns string) {
	t.Helper()
	conf := filepath.Join(dir, "danted.conf")
	if err := os.WriteFile(conf, []byte(danteConf), 0o644); err != nil {
		t.Fatal(err)
	}
	var log lineWatcher
	log.seen = make(chan struct{})
	d := exec.Command("ip", "netns", "exec", ns, "danted", "-f", conf, "-p", filepath.Join(dir, "danted.pid"))
	d.Stdout, d.Stderr = &log, &log
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Process.Signal(syscall.SIGTERM)
		d.Wait()
		if t.Failed() {
			t.Logf("danted:\n%s", tail(log.text(), 40))
		}
	})
	relayNS, err := netns.Open(ns)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := relayNS.DialContext(ctx, "tcp", "198.19.2.1:1080")
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("danted does not accept on 198.19.2.1:1080 after 10 s: %v\n%s", err, log.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
