package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
)

// TestIPv6CLI: over IPv6 in a namespace `synack netns up` makes, curl -6
// fetches a file from and posts it to `synack serve --http DIR`
// (SYNACK_INTEROP_SIZE each way, sha256 equal), and `synack get
// http://[2001:2::1]:8080/...` fetches it from a kernel net/http server.
func TestIPv6CLI(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "curl")
	size := size(t, "SYNACK_INTEROP_SIZE", 100<<20)
	dir := t.TempDir()
	bin := filepath.Join(dir, "synack")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gosynack/synack/cmd/synack").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	name := fmt.Sprintf("synack-%d-cli6", os.Getpid())
	if out, err := exec.CommandContext(ctx, bin, "netns", "up", "--name", name).CombinedOutput(); err != nil {
		t.Fatalf("synack netns up: %v\n%s", err, out)
	} else if !strings.Contains(string(out), "2001:2::1/64") {
		t.Fatalf("synack netns up does not give the kernel 2001:2::1/64:\n%s", out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command(bin, "netns", "down", "--name", name).CombinedOutput(); err != nil {
			t.Errorf("synack netns down: %v\n%s", err, out)
			netns.RemoveNamed(name)
		}
	})
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ns: ns}

	www := filepath.Join(dir, "www")
	os.Mkdir(www, 0o755)
	file, want := writeFile(t, www, 6, size)
	serve := exec.CommandContext(ctx, bin, "serve", "--tun", netns.DefaultTUN, "--netns", name, "--http", www)
	out := &lineWatcher{want: "listening on [::]:80", seen: make(chan struct{})}
	serve.Stdout, serve.Stderr = out, out
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(interruptSignal)
		serve.Wait()
	}()
	select {
	case <-out.seen:
	case <-time.After(30 * time.Second):
		t.Fatalf("synack serve did not start on both families: %s", out.text())
	}
	base := "http://" + net.JoinHostPort(netns.StackAddr6.String(), "80")
	got := filepath.Join(dir, "got")
	start := time.Now()
	e.command(t, ctx, "curl", "-6", "-sS", "--fail", "-o", got, base+"/"+filepath.Base(file))
	t.Logf("curl -6 GET from synack serve: %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
	if sha, n := fileSHA(t, got); sha != want || n != size {
		t.Fatalf("curl -6 got %d bytes, sha256 %s; want %d, %s", n, sha, size, want)
	}
	start = time.Now()
	resp := e.command(t, ctx, "curl", "-6", "-sS", "--fail", "--data-binary", "@"+file, base+"/upload")
	t.Logf("curl -6 POST to synack serve: %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
	if resp != fmt.Sprintf("%d bytes, sha256 %s\n", size, want) {
		t.Fatalf("synack serve answered %q; want %d bytes, sha256 %s", resp, size, want)
	}
	serve.Process.Signal(interruptSignal)
	if err := serve.Wait(); err != nil {
		t.Fatalf("synack serve after an interrupt: %v\n%s", err, out.text())
	}

	ln, err := ns.Listen("tcp6", net.JoinHostPort(netns.KernelAddr6.String(), "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(www))}
	go srv.Serve(ln)
	defer srv.Close()
	got2 := filepath.Join(dir, "got2")
	url := "http://" + net.JoinHostPort(netns.KernelAddr6.String(), "8080") + "/" + filepath.Base(file)
	cmd := exec.CommandContext(ctx, bin, "get", url, "--tun", netns.DefaultTUN, "--netns", name, "-o", got2, "-v")
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("synack get: %v\n%s", err, stderr.String())
	}
	t.Logf("synack get: %s", strings.TrimSpace(stderr.String()))
	if sha, n := fileSHA(t, got2); sha != want || n != size {
		t.Fatalf("synack get wrote %d bytes, sha256 %s; want %d, %s", n, sha, size, want)
	}
	if !strings.Contains(stdout.String(), "[2001:2::2]:") || !strings.Contains(stdout.String(), "SYN-SENT -> ESTABLISHED") {
		t.Fatalf("synack get -v did not print an IPv6 connection's states:\n%s", stdout.String())
	}
}

// TestPing: ping and ping -6 from the namespace are answered by synack
// (RFC 792 and RFC 4443 §4.2 echo replies).
func TestPing(t *testing.T) {
	needTools(t, "ping")
	e := newEnv(t, envOptions{})
	for _, c := range []struct{ flag, addr string }{{"-4", netns.StackAddr.String()}, {"-6", netns.StackAddr6.String()}} {
		out := e.command(t, context.Background(), "ping", c.flag, "-c", "3", "-i", "0.2", "-W", "2", c.addr)
		if !strings.Contains(out, "3 packets transmitted, 3 received") {
			t.Errorf("ping %s %s:\n%s", c.flag, c.addr, out)
		}
	}
}

// TestIPv6KernelStates: `ss -tan` shows the kernel's states of an IPv6
// connection to synack: ESTAB; CLOSE-WAIT once synack has closed (its FIN
// acknowledged); and nothing once the kernel has closed too (RFC 9293
// §3.3.2: CLOSE-WAIT -> LAST-ACK -> CLOSED).
func TestIPv6KernelStates(t *testing.T) {
	needTools(t, "ss")
	e := newEnv(t, envOptions{})
	ln, err := e.st.Listen("tcp6", net.JoinHostPort(netns.StackAddr6.String(), "7006"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	kc, err := e.ns.DialContext(ctx, "tcp6", net.JoinHostPort(netns.StackAddr6.String(), "7006"))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	end := netip.AddrPortFrom(netns.StackAddr6, 7006)
	waitState := func(want string) {
		t.Helper()
		// Bounded: 200 polls of ss, 10 ms apart.
		var got string
		for i := 0; i < 200; i++ {
			if got = e.kernelState(t, end); got == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("the kernel's socket to %v is %q, want %q\n%v", end, got, want, e.ss(t))
	}
	waitState("ESTAB")
	if la := kc.LocalAddr().(*net.TCPAddr).AddrPort(); la.Addr() != netns.KernelAddr6 {
		t.Fatalf("the kernel's end is %v, want %v", la, netns.KernelAddr6)
	}
	sc.Close()
	waitState("CLOSE-WAIT")
	kc.Close()
	waitState("")
}
