package interop

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
)

// TestCLI: `synack netns up` makes a namespace; curl in it fetches a file
// from and posts one to `synack serve --http DIR -v`, which prints the state
// changes; `synack get` fetches from a kernel net/http server in it; `synack
// netns down` removes it.
func TestCLI(t *testing.T) {
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
	name := fmt.Sprintf("synack-%d-cli", os.Getpid())
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("synack %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("netns", "up", "--name", name)
	t.Cleanup(func() {
		out, err := exec.Command(bin, "netns", "down", "--name", name).CombinedOutput()
		if err != nil {
			t.Errorf("synack netns down: %v\n%s", err, out)
			netns.RemoveNamed(name)
		}
		if _, err := os.Stat("/var/run/netns/" + name); err == nil {
			t.Errorf("namespace %s still exists after synack netns down", name)
		}
	})
	ns, err := netns.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ns: ns}

	www := filepath.Join(dir, "www")
	os.Mkdir(www, 0o755)
	file, want := writeFile(t, www, 4, size)
	serve := exec.CommandContext(ctx, bin, "serve", "--tun", netns.DefaultTUN, "--netns", name, "--http", www, "-v")
	out := &lineWatcher{want: "listening on", seen: make(chan struct{})}
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
		t.Fatalf("synack serve did not start: %s", out.text())
	}
	got := filepath.Join(dir, "got")
	url := "http://" + netns.StackAddr.String() + "/" + filepath.Base(file)
	start := time.Now()
	e.command(t, ctx, "curl", "-sS", "--fail", "-o", got, url)
	t.Logf("curl GET from synack serve: %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
	if sha, n := fileSHA(t, got); sha != want || n != size {
		t.Fatalf("curl got %d bytes, sha256 %s; want %d, %s", n, sha, size, want)
	}
	start = time.Now()
	resp := e.command(t, ctx, "curl", "-sS", "--fail", "--data-binary", "@"+file, "http://"+netns.StackAddr.String()+"/upload")
	t.Logf("curl POST to synack serve: %d bytes in %v", size, time.Since(start).Round(time.Millisecond))
	if resp != fmt.Sprintf("%d bytes, sha256 %s\n", size, want) {
		t.Fatalf("synack serve answered %q; want %d bytes, sha256 %s", resp, size, want)
	}
	// -v printed the server side's states as they happened.
	for _, s := range []string{"LISTEN -> SYN-RECEIVED", "SYN-RECEIVED -> ESTABLISHED", "ESTABLISHED -> CLOSE-WAIT", "LAST-ACK -> CLOSED"} {
		if !strings.Contains(out.text(), s) {
			t.Errorf("synack serve -v did not print %q:\n%s", s, out.text())
		}
	}
	serve.Process.Signal(interruptSignal)
	if err := serve.Wait(); err != nil {
		t.Fatalf("synack serve after an interrupt: %v\n%s", err, out.text())
	}

	// synack get from a kernel server in the namespace.
	ln, err := ns.Listen("tcp", net.JoinHostPort(netns.KernelAddr.String(), "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(www))}
	go srv.Serve(ln)
	defer srv.Close()
	got2 := filepath.Join(dir, "got2")
	cmd := exec.CommandContext(ctx, bin, "get", "http://"+netns.KernelAddr.String()+":8080/"+filepath.Base(file), "--tun", netns.DefaultTUN, "--netns", name, "-o", got2, "-v")
	var stderr, stdout bytes.Buffer
	cmd.Stderr, cmd.Stdout = &stderr, &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("synack get: %v\n%s", err, stderr.String())
	}
	t.Logf("synack get: %s", strings.TrimSpace(stderr.String()))
	if sha, n := fileSHA(t, got2); sha != want || n != size {
		t.Fatalf("synack get wrote %d bytes, sha256 %s; want %d, %s", n, sha, size, want)
	}
	if !strings.Contains(stderr.String(), "sha256 "+want) || !strings.Contains(stdout.String(), "SYN-SENT -> ESTABLISHED") {
		t.Fatalf("synack get printed:\n%s\n%s", stdout.String(), stderr.String())
	}
}
