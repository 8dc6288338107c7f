package interop

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	synack "github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/impair"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/trace"
)

// debianPackage names where each tool comes from, for skip messages.
var debianPackage = map[string]string{
	"curl": "curl", "ss": "iproute2", "nft": "nftables", "tshark": "tshark", "ping": "iputils-ping", "ip": "iproute2",
}

// needTools skips t unless every tool is in PATH.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("skipped: %s not found in PATH (Debian package %s)", tool, debianPackage[tool])
		}
	}
}

// size reads a size from the environment: bytes, or a number with KiB/MiB.
func size(t *testing.T, env string, def int64) int64 {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		return def
	}
	mul := int64(1)
	switch {
	case strings.HasSuffix(v, "MiB"):
		mul, v = 1<<20, strings.TrimSuffix(v, "MiB")
	case strings.HasSuffix(v, "KiB"):
		mul, v = 1<<10, strings.TrimSuffix(v, "KiB")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive number of bytes, KiB or MiB", env, os.Getenv(env))
	}
	return n * mul
}

// payload is size bytes of seeded pseudo-random data.
func payload(seed uint64, size int64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return io.LimitReader(rand.NewChaCha8(key), size)
}

// writeFile writes payload(seed, size) to a file in dir and returns its
// path and SHA-256.
func writeFile(t *testing.T, dir string, seed uint64, size int64) (string, string) {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("payload-%d", seed))
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), payload(seed, size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, hex.EncodeToString(h.Sum(nil))
}

func fileSHA(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// events is a Recorder safe for concurrent use.
type events struct {
	mu  sync.Mutex
	log []trace.Event
}

func (e *events) Record(ev *trace.Event) {
	e.mu.Lock()
	e.log = append(e.log, *ev)
	e.mu.Unlock()
}

func (e *events) snapshot() []trace.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]trace.Event(nil), e.log...)
}

// impaired is the path of the issue: each way 20 ms, 2% loss, 5%
// reordering, 1% duplication.
var impaired = netsim.Impairment{Latency: 20 * time.Millisecond, Loss: 0.02, Reorder: 0.05, Duplicate: 0.01}

// env is a namespace with synack running on its TUN device.
type env struct {
	ns  *netns.NS
	st  *synack.Stack
	imp *impair.Link // nil on a clean path
	rec *events
}

type envOptions struct {
	impair  *impair.Config
	anyDest bool
	// plain opens the TUN without offloads, so that a capture on it shows
	// complete checksums on the kernel's packets too.
	plain bool
}

func newEnv(t *testing.T, o envOptions) *env {
	t.Helper()
	ns := netns.ForTest(t, netns.Options{NoOffload: o.plain})
	var l link.Link = ns.TUN()
	e := &env{ns: ns, rec: &events{}}
	if o.impair != nil {
		il, err := impair.New(l, *o.impair)
		if err != nil {
			t.Fatal(err)
		}
		e.imp, l = il, il
	}
	st, err := synack.New(l, synack.Config{Addr: netns.StackAddr, Addr6: netns.StackAddr6, Recorder: e.rec, AnyDestination: o.anyDest})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	t.Cleanup(func() {
		// Every packet the kernel sent parsed, checksums included.
		if c := st.Counters(); c.InErrs != 0 {
			t.Errorf("synack counted %d segments in error from the kernel (bad checksum or malformed)", c.InErrs)
		}
		st.Close()
	})
	return e
}

// command runs a tool inside the namespace and returns its standard output;
// a failure fails t with the tool's standard error.
func (e *env) command(t *testing.T, ctx context.Context, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := e.ns.Start(cmd); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// ssLine is one socket of `ss -tan`.
type ssLine struct {
	state       string
	local, peer netip.AddrPort
}

// ss lists the kernel's TCP sockets in the namespace.
func (e *env) ss(t *testing.T) []ssLine {
	t.Helper()
	out := e.command(t, context.Background(), "ss", "-tanH")
	var lines []ssLine
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		l, err1 := netip.ParseAddrPort(f[3])
		p, err2 := netip.ParseAddrPort(f[4])
		if err1 != nil || err2 != nil {
			continue // listeners (*:port) and the like
		}
		lines = append(lines, ssLine{f[0], l, p})
	}
	return lines
}

// kernelState is the kernel's state of the socket peer -> synack, or "".
func (e *env) kernelState(t *testing.T, synackEnd netip.AddrPort) string {
	t.Helper()
	for _, l := range e.ss(t) {
		if l.peer == synackEnd {
			return l.state
		}
	}
	return ""
}

// kernelRetrans reads the namespace's Tcp RetransSegs counter.
func (e *env) kernelRetrans(t *testing.T) int64 {
	t.Helper()
	var v int64 = -1
	err := e.ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/snmp")
		if err != nil {
			return err
		}
		var names []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "Tcp: ") {
				continue
			}
			f := strings.Fields(line)[1:]
			if names == nil {
				names = f
				continue
			}
			for i, n := range names {
				if n == "RetransSegs" && i < len(f) {
					v, err = strconv.ParseInt(f[i], 10, 64)
					return err
				}
			}
		}
		return fmt.Errorf("no Tcp RetransSegs in /proc/net/snmp")
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
