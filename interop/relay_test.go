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
// TestRelaySOCKS5 does the same with --socks5 through a small SOCKS5
// server written here (relaySOCKS5Server), since no SOCKS5 server library
// is in the module proxy this project may use.
func TestRelayDirect(t *testing.T) { testRelay(t, false) }

// TestRelaySOCKS5: as TestRelayDirect, with `synack relay --socks5` through
// a SOCKS5 server in the relay's namespace (CONNECT and UDP ASSOCIATE),
// which dials the server namespace.
func TestRelaySOCKS5(t *testing.T) { testRelay(t, true) }

func testRelay(t *testing.T, socks bool) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "curl", "ip")
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
		relayNS, err := netns.Open(relayName)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := relayNS.Listen("tcp", "198.19.2.1:1080")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		go relaySOCKS5Server(ln, relayNS)
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

	// Many TCP flows at once, each echoed.
	var wg sync.WaitGroup
	errs := make(chan error, flows)
	for i := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
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

// relaySOCKS5Server is a small SOCKS5 server (RFC 1928, no
// authentication) for TestRelaySOCKS5: CONNECT dials the destination from
// ns, answering "connection refused" (X'05') for a refusal and "general
// failure" for other errors; UDP ASSOCIATE relays datagrams between the
// client and the destinations it names. It stops when ln is closed.
func relaySOCKS5Server(ln net.Listener, ns *netns.NS) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			b := make([]byte, 300)
			if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
				return
			}
			if _, err := io.ReadFull(c, b[:b[1]]); err != nil {
				return
			}
			c.Write([]byte{5, 0})
			if _, err := io.ReadFull(c, b[:4]); err != nil || b[0] != 5 {
				return
			}
			cmd, n := b[1], map[byte]int{1: 4, 4: 16}[b[3]]
			if n == 0 {
				c.Write([]byte{5, 8, 0, 1, 0, 0, 0, 0, 0, 0})
				return
			}
			if _, err := io.ReadFull(c, b[:n+2]); err != nil {
				return
			}
			ip, _ := netip.AddrFromSlice(b[:n])
			dst := netip.AddrPortFrom(ip.Unmap(), uint16(b[n])<<8|uint16(b[n+1]))
			reply := func(code byte, bnd netip.AddrPort) {
				m := []byte{5, code, 0}
				if bnd.Addr().Is4() {
					a := bnd.Addr().As4()
					m = append(append(m, 1), a[:]...)
				} else {
					a := bnd.Addr().As16()
					m = append(append(m, 4), a[:]...)
				}
				c.Write(append(m, byte(bnd.Port()>>8), byte(bnd.Port())))
			}
			zero := netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
			switch cmd {
			case 1:
				up, err := ns.DialContext(context.Background(), "tcp", dst.String())
				if err != nil {
					code := byte(1)
					if errors.Is(err, syscall.ECONNREFUSED) {
						code = 5
					}
					reply(code, zero)
					return
				}
				defer up.Close()
				reply(0, up.LocalAddr().(*net.TCPAddr).AddrPort())
				c.SetDeadline(time.Time{})
				go func() { io.Copy(up, c); up.(*net.TCPConn).CloseWrite() }()
				io.Copy(c, up)
			case 3:
				var u *net.UDPConn
				if err := ns.Do(func() error {
					var err error
					u, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv6unspecified})
					return err
				}); err != nil {
					reply(1, zero)
					return
				}
				defer u.Close()
				reply(0, netip.AddrPortFrom(netip.MustParseAddr("198.19.2.1"), uint16(u.LocalAddr().(*net.UDPAddr).Port)))
				c.SetDeadline(time.Time{})
				go udpAssociate(u)
				io.Copy(io.Discard, c) // the association lasts as long as this connection
			default:
				reply(7, zero)
			}
		}()
	}
}

// udpAssociate relays for one association on u, a dual-stack socket: a
// datagram from the client (the first sender) has its header stripped and
// goes to the destination it names; one from anywhere else goes to the
// client with the header naming its source (RFC 1928 §7).
func udpAssociate(u *net.UDPConn) {
	var client netip.AddrPort
	buf := make([]byte, 65536)
	for {
		n, src, err := u.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		if !client.IsValid() {
			client = src
		}
		if src != client {
			h := []byte{0, 0, 0}
			if a := src.Addr(); a.Is4() {
				v := a.As4()
				h = append(append(h, 1), v[:]...)
			} else {
				v := a.As16()
				h = append(append(h, 4), v[:]...)
			}
			h = append(h, byte(src.Port()>>8), byte(src.Port()))
			u.WriteToUDPAddrPort(append(h, buf[:n]...), client)
			continue
		}
		if n < 4 || buf[2] != 0 {
			continue
		}
		l := map[byte]int{1: 4, 4: 16}[buf[3]]
		if l == 0 || n < 4+l+2 {
			continue
		}
		ip, _ := netip.AddrFromSlice(buf[4 : 4+l])
		dst := netip.AddrPortFrom(ip.Unmap(), uint16(buf[4+l])<<8|uint16(buf[5+l]))
		if dst.Addr().Is4() {
			dst = netip.AddrPortFrom(netip.AddrFrom16(dst.Addr().As16()), dst.Port()) // v4-mapped, for the dual-stack socket
		}
		u.WriteToUDPAddrPort(buf[4+l+2:n], dst)
	}
}
