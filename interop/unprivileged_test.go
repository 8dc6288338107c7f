package interop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
)

// buildCLI builds cmd/synack into a directory anyone may read, so that
// the binary runs as another user too.
func buildCLI(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "synack-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "synack")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/gosynack/synack/cmd/synack").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestCLIUnprivileged: `synack serve` runs as nobody on a TUN device that
// nobody owns (made by `ip tuntap add ... user nobody`) in the namespace
// it is started in (--netns ""), and says what to do when it may not
// attach to a device or enter a namespace.
func TestCLIUnprivileged(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	needTools(t, "ip", "setpriv")
	// A user may open /dev/net/tun only if its mode lets others read and
	// write it (crw-rw-rw-, as udev and most distributions make it); some
	// containers make it root's alone, and then nobody can attach to any
	// device, whoever owns it.
	if fi, err := os.Stat("/dev/net/tun"); err == nil && fi.Mode().Perm()&0o006 != 0o006 {
		t.Skipf("skipped: /dev/net/tun has mode %04o on this machine, so no user but root may open it (it is normally 0666, crw-rw-rw-)", fi.Mode().Perm())
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("skipped: no user nobody to run as: %v", err)
	}
	bin := buildCLI(t)
	name := fmt.Sprintf("synack-%d-unpriv", os.Getpid())
	ns, err := netns.New(netns.Options{Name: name, Persist: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Remove(); err != nil {
			t.Errorf("removing namespace %s: %v", name, err)
		}
	})
	e := &env{ns: ns}
	// A device of nobody's, on a /24 of its own inside the namespace's
	// 198.18.0.0/15 (a longer prefix than the route to synack0).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e.command(t, ctx, "ip", "tuntap", "add", "name", "nobody0", "mode", "tun", "user", "nobody")
	e.command(t, ctx, "ip", "addr", "add", "198.19.0.1/24", "dev", "nobody0")
	e.command(t, ctx, "ip", "link", "set", "nobody0", "up")
	// And one of uid 1's, which nobody may not attach to. (A device with
	// no owner, as synack netns up makes, is anyone's: only entering the
	// namespace needs root.)
	e.command(t, ctx, "ip", "tuntap", "add", "name", "other0", "mode", "tun", "user", "1")
	asNobody := func(args ...string) *exec.Cmd {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		t.Cleanup(cancel)
		return exec.CommandContext(ctx, "setpriv", append([]string{"--reuid=" + nobody.Uid, "--regid=" + nobody.Gid, "--clear-groups", "--", bin}, args...)...)
	}
	// fails runs cmd, which must exit 1 with want in its standard error.
	fails := func(cmd *exec.Cmd, inNS bool, want ...string) {
		t.Helper()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var err error
		if inNS {
			if err = ns.Start(cmd); err == nil {
				err = cmd.Wait()
			}
		} else {
			err = cmd.Run()
		}
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("%s: %v, want exit 1\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
		}
		for _, w := range want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%s printed %q, without %q", strings.Join(cmd.Args, " "), stderr.String(), w)
			}
		}
	}

	serve := asNobody("serve", "--tun", "nobody0", "--netns", "", "--addr", "198.19.0.2", "--echo")
	out := &lineWatcher{want: "listening on", seen: make(chan struct{})}
	serve.Stdout, serve.Stderr = out, out
	if err := ns.Start(serve); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	defer func() {
		serve.Process.Signal(interruptSignal)
		<-exited
	}()
	select {
	case <-out.seen:
	case err := <-exited:
		exited <- err
		t.Fatalf("synack serve as nobody: %v\n%s", err, out.text())
	case <-time.After(30 * time.Second):
		t.Fatalf("synack serve as nobody did not start: %s", out.text())
	}
	c, err := ns.DialContext(ctx, "tcp", "198.19.0.2:7")
	if err != nil {
		t.Fatal(err)
	}
	const msg = "hello from the kernel\n"
	io.WriteString(c, msg)
	got, err := bufio.NewReader(c).ReadString('\n')
	c.Close()
	if got != msg {
		t.Fatalf("echo from synack serve as nobody: %q, %v; want %q", got, err, msg)
	}
	serve.Process.Signal(interruptSignal)
	err = <-exited
	exited <- nil
	if err != nil {
		t.Fatalf("synack serve as nobody after an interrupt: %v\n%s", err, out.text())
	}

	fails(asNobody("serve", "--tun", "other0", "--netns", "", "--echo"), true,
		`attaching to "other0" needs root (CAP_NET_ADMIN) or to be its owner, uid 1; this process is uid `+nobody.Uid, "run it with sudo")
	// Entering a named namespace needs root.
	fails(asNobody("serve", "--tun", "nobody0", "--netns", name, "--echo"), false,
		"entering namespace "+name+" needs root", "--netns ''")
}
