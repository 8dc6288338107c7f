//go:build linux

package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	gtun "gvisor.dev/gvisor/pkg/tcpip/link/tun"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/tun"
	"github.com/gosynack/synack/relay"
)

// BenchmarkRelay compares synack's relay (relay.Start with relay.Direct, what
// `synack relay --direct` runs) with a forwarder built the way tun2socks
// builds its engine on gVisor (gvisorRelay), in the same three namespaces,
// in alternating rounds (synack first in odd rounds, gVisor first in even
// ones):
//
//   - relaybench-PID-c, the client's: a TUN device whose routes lead
//     198.19.2.0/24 into it; the benchmark's clients dial from here;
//   - relaybench-PID-r, the relay's: the relay runs here as a process of
//     its own (this test binary again, TestRelayBenchNode), holding the
//     client namespace's TUN and dialling with this namespace's sockets;
//   - relaybench-PID-s, the server's, joined to the relay's by a veth pair
//     (198.19.2.1 and 198.19.2.2).
//
// Each round and relay, in a fresh relay process: one datagram echoed over
// UDP (a check, not a measurement); SYNACK_RELAYBENCH_FLOWS (default 200)
// TCP connections opened, each echoing one byte, and held idle while the
// relay process's memory is read again: heap-B/flow is the growth of its
// Go heap and goroutine stacks after a GC, rss-B/flow of its resident set
// (after debug.FreeOSMemory), each divided by the flows; the flows closed
// and 2 s for their teardown; then a bulk TCP download and upload of
// SYNACK_RELAYBENCH_MIB MiB (default 32) each, timed (MiB/s) and costed in
// the relay process's CPU (user+system, its own getrusage: cpu-s/GiB).
// Sub-benchmarks down, up and idle report each relay's median and the
// median of the per-round ratios synack/gVisor with their range.
//
// b.N is not used: every run does SYNACK_RELAYBENCH_ROUNDS rounds (default
// 1), so run it with -benchtime 1x. The defaults make a smoke run of about
// 10 s; BENCHMARKS.md's figures are of 7 rounds, 256 MiB and 1000 flows.
// Bounded: at most 21 rounds, 4096 MiB, 4000 flows, a deadline on every
// connection and 8 minutes in all. The namespaces are removed at the end,
// on failure, and on SIGINT or SIGTERM.
// Needs root, /dev/net/tun and ip(8); skipped otherwise.
func BenchmarkRelay(b *testing.B) {
	if err := netns.Available(); err != nil {
		b.Skipf("skipped: %v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		b.Skipf("skipped: no ip(8): %v", err)
	}
	// Small by default, for CI's smoke run of every benchmark; BENCHMARKS.md
	// has the command for the figures there.
	rounds := envInt(b, "SYNACK_RELAYBENCH_ROUNDS", 1, 21)
	mib := envInt(b, "SYNACK_RELAYBENCH_MIB", 32, 4096)
	flows := envInt(b, "SYNACK_RELAYBENCH_FLOWS", 200, 4000)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	rn := newRelayNet()
	defer rn.remove(b)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "BenchmarkRelay: %v: removing the namespaces\n", s)
			rn.remove(nil)
			os.Exit(2)
		case <-done:
		}
	}()
	if err := rn.setup(ctx); err != nil {
		b.Fatal(err)
	}
	if err := rn.serve(); err != nil {
		b.Fatal(err)
	}

	kinds := []string{"synack", "synack-plain", "gvisor"}
	res := map[string][]relayResult{}
	for r := range rounds {
		// Each round starts with the next relay, so none always goes first.
		for k := range kinds {
			kind := kinds[(r+k)%len(kinds)]
			x, err := rn.round(ctx, kind, int64(mib)<<20, flows)
			if err != nil {
				b.Fatalf("round %d, %s: %v", r+1, kind, err)
			}
			b.Logf("round %d %-12s: down %7.1f MiB/s %5.2f cpu-s/GiB, up %7.1f MiB/s %5.2f cpu-s/GiB, idle %6.0f heap-B/flow %6.0f rss-B/flow",
				r+1, kind, x.downMiBs, x.downCPU, x.upMiBs, x.upCPU, x.heapPerFlow, x.rssPerFlow)
			res[kind] = append(res[kind], x)
		}
	}
	metrics := []struct {
		name string
		ms   []relayMetric
	}{
		{"down", []relayMetric{{"MiB/s", "MiB/s", func(x relayResult) float64 { return x.downMiBs }},
			{"cpu-s/GiB", "cpu", func(x relayResult) float64 { return x.downCPU }}}},
		{"up", []relayMetric{{"MiB/s", "MiB/s", func(x relayResult) float64 { return x.upMiBs }},
			{"cpu-s/GiB", "cpu", func(x relayResult) float64 { return x.upCPU }}}},
		{"idle", []relayMetric{{"heap-B/flow", "heap", func(x relayResult) float64 { return x.heapPerFlow }},
			{"rss-B/flow", "rss", func(x relayResult) float64 { return x.rssPerFlow }}}},
	}
	// BenchmarkRelay/KIND/WHAT: KIND's median, gVisor's, and the median of
	// the per-round ratios KIND/gVisor with their range.
	for _, kind := range kinds[:2] {
		for _, m := range metrics {
			b.Run(kind+"/"+m.name, func(b *testing.B) {
				for _, m := range m.ms {
					s, g := m.get(res[kind]), m.get(res["gvisor"])
					ratios := make([]float64, len(s))
					for i := range s {
						ratios[i] = s[i] / g[i]
					}
					b.ReportMetric(median(s), "self-"+m.unit)
					b.ReportMetric(median(g), "gvisor-"+m.unit)
					b.ReportMetric(median(ratios), "ratio-"+m.short)
					b.ReportMetric(slices.Min(ratios), "ratio-"+m.short+"-min")
					b.ReportMetric(slices.Max(ratios), "ratio-"+m.short+"-max")
				}
			})
		}
	}
}

type relayResult struct {
	downMiBs, downCPU, upMiBs, upCPU float64
	heapPerFlow, rssPerFlow          float64
}

type relayMetric struct {
	unit, short string
	of          func(relayResult) float64
}

func (m relayMetric) get(xs []relayResult) []float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = m.of(x)
	}
	return v
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func envInt(b *testing.B, name string, def, max int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		b.Fatalf("%s=%q: want a number from 1 to %d", name, v, max)
	}
	return n
}

// The benchmark's network.
const (
	rbTUN        = "rbtun0"
	rbClientAddr = "198.18.0.1"
	rbRelayAddr  = "198.19.2.1"
	rbServerAddr = "198.19.2.2"
	rbMTU        = 1500
)

type relayNet struct {
	client, relay, server string // namespace names
	clientNS, relayNS     *netns.NS
	serverNS              *netns.NS

	mu      sync.Mutex
	removed bool
	made    []string    // namespaces made, to delete
	closers []io.Closer // the servers' sockets
	node    *exec.Cmd   // the relay process running, if any
}

func newRelayNet() *relayNet {
	pid := os.Getpid()
	return &relayNet{
		client: fmt.Sprintf("relaybench-%d-c", pid),
		relay:  fmt.Sprintf("relaybench-%d-r", pid),
		server: fmt.Sprintf("relaybench-%d-s", pid),
	}
}

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setup makes the three namespaces (with ip netns add, so that /run/netns
// is set up as iproute2 does it), the client's TUN and the veth pair.
func (rn *relayNet) setup(ctx context.Context) error {
	for _, ns := range []string{rn.client, rn.relay, rn.server} {
		if err := ip(ctx, "netns", "add", ns); err != nil {
			return err
		}
		rn.mu.Lock()
		rn.made = append(rn.made, ns)
		rn.mu.Unlock()
	}
	c, r, s := rn.client, rn.relay, rn.server
	for _, args := range [][]string{
		{"netns", "exec", c, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"},
		{"-n", c, "link", "set", "lo", "up"},
		{"-n", c, "tuntap", "add", "dev", rbTUN, "mode", "tun"},
		{"-n", c, "link", "set", rbTUN, "mtu", strconv.Itoa(rbMTU), "up"},
		{"-n", c, "addr", "add", rbClientAddr + "/32", "dev", rbTUN},
		{"-n", c, "route", "add", "198.19.2.0/24", "dev", rbTUN, "src", rbClientAddr},
		{"-n", r, "link", "add", "rly0", "type", "veth", "peer", "name", "srv0", "netns", s},
		{"-n", r, "link", "set", "lo", "up"},
		{"-n", r, "addr", "add", rbRelayAddr + "/24", "dev", "rly0"},
		{"-n", r, "link", "set", "rly0", "up"},
		{"-n", s, "link", "set", "lo", "up"},
		{"-n", s, "addr", "add", rbServerAddr + "/24", "dev", "srv0"},
		{"-n", s, "link", "set", "srv0", "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			return err
		}
	}
	var err error
	if rn.clientNS, err = netns.Open(c); err != nil {
		return err
	}
	if rn.relayNS, err = netns.Open(r); err != nil {
		return err
	}
	rn.serverNS, err = netns.Open(s)
	return err
}

// remove stops the relay process and deletes the namespaces (the TUN with
// the client's). It is safe to call twice and from the signal handler; b
// nil only logs to stderr.
func (rn *relayNet) remove(b *testing.B) {
	rn.mu.Lock()
	defer rn.mu.Unlock()
	if rn.removed {
		return
	}
	rn.removed = true
	for _, c := range rn.closers {
		c.Close()
	}
	if rn.node != nil && rn.node.Process != nil {
		rn.node.Process.Kill()
		rn.node.Wait()
	}
	var errs []error
	for _, ns := range rn.made {
		if ns == rn.client {
			// The TUN is persistent: delete it first.
			if err := ip(context.Background(), "-n", ns, "link", "del", rbTUN); err != nil {
				errs = append(errs, err)
			}
		}
		if err := ip(context.Background(), "netns", "del", ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		if b != nil {
			b.Errorf("removing the namespaces: %v", err)
		} else {
			fmt.Fprintf(os.Stderr, "removing the namespaces: %v\n", err)
		}
	}
}

// serve starts the server namespace's servers: 5001 sends the number of
// bytes the client asks for (8 bytes, big-endian), 5002 reads to EOF and
// answers with the count, 5003 echoes one byte and then holds the
// connection until the client closes it, UDP 5004 echoes datagrams.
func (rn *relayNet) serve() error {
	handlers := map[string]func(net.Conn){
		"5001": func(c net.Conn) {
			var n [8]byte
			if _, err := io.ReadFull(c, n[:]); err != nil {
				return
			}
			io.CopyN(c, zeros{}, int64(binary.BigEndian.Uint64(n[:])))
			c.(*net.TCPConn).CloseWrite()
			io.Copy(io.Discard, c)
		},
		"5002": func(c net.Conn) {
			n, _ := io.Copy(io.Discard, c)
			c.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
		},
		"5003": func(c net.Conn) {
			var b [1]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return
			}
			c.Write(b[:])
			io.Copy(io.Discard, c)
		},
	}
	for port, h := range handlers {
		ln, err := rn.serverNS.Listen("tcp", rbServerAddr+":"+port)
		if err != nil {
			return err
		}
		rn.closers = append(rn.closers, ln)
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					c.SetDeadline(time.Now().Add(5 * time.Minute))
					h(c)
				}()
			}
		}()
	}
	var pc net.PacketConn
	if err := rn.serverNS.Do(func() error {
		var err error
		pc, err = net.ListenPacket("udp", rbServerAddr+":5004")
		return err
	}); err != nil {
		return err
	}
	rn.closers = append(rn.closers, pc)
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(buf[:n], from)
		}
	}()
	return nil
}

// startNode starts the relay process of one round (kind synack,
// synack-plain or gvisor) in the relay's namespace.
func (rn *relayNet) startNode(ctx context.Context, kind string) (*benchNode, error) {
	n, err := newBenchNode(ctx, "TestRelayBenchNode", "the relay process",
		"SYNACK_RELAYBENCH_NODE="+kind, "SYNACK_RELAYBENCH_CLIENTNS="+rn.client)
	if err != nil {
		return nil, err
	}
	rn.mu.Lock()
	if rn.removed {
		rn.mu.Unlock()
		return nil, errors.New("the namespaces are removed")
	}
	err = rn.relayNS.Start(n.cmd)
	if err == nil {
		rn.node = n.cmd
	}
	rn.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := n.begin("relaybench: ", func() {
		rn.mu.Lock()
		rn.node = nil
		rn.mu.Unlock()
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// round runs one relay (kind synack or gvisor) through the measurements.
func (rn *relayNet) round(ctx context.Context, kind string, total int64, flows int) (x relayResult, err error) {
	n, err := rn.startNode(ctx, kind)
	if err != nil {
		return x, err
	}
	defer func() {
		if serr := n.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	if err := rn.udpEcho(ctx); err != nil {
		return x, err
	}
	m0, err := n.ask("mem")
	if err != nil {
		return x, err
	}
	conns, err := rn.idle(ctx, flows)
	closeAll := func() {
		for _, c := range conns {
			c.Close()
		}
		conns = nil
	}
	defer closeAll()
	if err != nil {
		return x, err
	}
	m1, err := n.ask("mem")
	if err != nil {
		return x, err
	}
	x.heapPerFlow = (m1[0] - m0[0]) / float64(flows)
	x.rssPerFlow = (m1[1] - m0[1]) / float64(flows)
	// The flows' teardown is not the bulk transfers' cost: let it end.
	closeAll()
	time.Sleep(2 * time.Second)
	gib := float64(total) / (1 << 30)
	for _, dir := range []string{"down", "up"} {
		c0, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		t0 := time.Now()
		if err := rn.bulk(ctx, dir, total); err != nil {
			return x, fmt.Errorf("%s: %w", dir, err)
		}
		el := time.Since(t0)
		c1, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		mibs, cpu := float64(total)/(1<<20)/el.Seconds(), (c1[0]-c0[0])/1e9/gib
		if dir == "down" {
			x.downMiBs, x.downCPU = mibs, cpu
		} else {
			x.upMiBs, x.upCPU = mibs, cpu
		}
	}
	return x, nil
}

// udpEcho checks that a datagram goes through the relay and back.
func (rn *relayNet) udpEcho(ctx context.Context) error {
	c, err := rn.clientNS.DialContext(ctx, "udp", rbServerAddr+":5004")
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 64)
	for try := range 5 {
		c.SetDeadline(time.Now().Add(time.Second))
		c.Write([]byte("relaybench"))
		n, err := c.Read(buf)
		if err == nil && string(buf[:n]) == "relaybench" {
			return nil
		}
		if try == 4 {
			return fmt.Errorf("udp echo through the relay: %q, %v", buf[:n], err)
		}
	}
	return nil
}

// bulk moves total bytes through the relay: dir down from the server to
// the client, up the other way.
func (rn *relayNet) bulk(ctx context.Context, dir string, total int64) error {
	port := map[string]string{"down": "5001", "up": "5002"}[dir]
	c, err := rn.clientNS.DialContext(ctx, "tcp", rbServerAddr+":"+port)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Minute))
	if dir == "down" {
		if _, err := c.Write(binary.BigEndian.AppendUint64(nil, uint64(total))); err != nil {
			return err
		}
		n, err := io.Copy(io.Discard, c)
		if err != nil || n != total {
			return fmt.Errorf("received %d of %d bytes: %v", n, total, err)
		}
		return nil
	}
	if n, err := io.CopyN(c, zeros{}, total); err != nil {
		return fmt.Errorf("sent %d of %d bytes: %v", n, total, err)
	}
	c.(*net.TCPConn).CloseWrite()
	var got [8]byte
	if _, err := io.ReadFull(c, got[:]); err != nil {
		return fmt.Errorf("the server's count: %v", err)
	}
	if n := int64(binary.BigEndian.Uint64(got[:])); n != total {
		return fmt.Errorf("the server received %d of %d bytes", n, total)
	}
	return nil
}

// idle opens flows connections through the relay (64 at a time), each
// echoing one byte, and returns them open.
func (rn *relayNet) idle(ctx context.Context, flows int) ([]net.Conn, error) {
	conns := make([]net.Conn, flows)
	errs := make([]error, flows)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range flows {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			c, err := rn.clientNS.DialContext(dctx, "tcp", rbServerAddr+":5003")
			if err != nil {
				errs[i] = err
				return
			}
			conns[i] = c
			c.SetDeadline(time.Now().Add(30 * time.Second))
			b := []byte{byte(i)}
			if _, err := c.Write(b); err != nil {
				errs[i] = err
				return
			}
			if _, err := io.ReadFull(c, b); err != nil || b[0] != byte(i) {
				errs[i] = fmt.Errorf("flow %d: echo %v, %v", i, b, err)
				return
			}
			c.SetDeadline(time.Time{})
		}()
	}
	wg.Wait()
	var open []net.Conn
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, errors.Join(errs...)
}

// TestRelayBenchNode is BenchmarkRelay's relay process, started by it in
// the relay's namespace; it does nothing otherwise. It runs the relay named
// by $SYNACK_RELAYBENCH_NODE on the TUN in $SYNACK_RELAYBENCH_CLIENTNS, says
// "relaybench: ready", then answers each line of its stdin: "cpu" with its
// CPU time (ns, user+system), "mem" with its Go heap and stacks after a GC
// and its resident set (bytes). It ends when its stdin does.
func TestRelayBenchNode(t *testing.T) {
	kind := os.Getenv("SYNACK_RELAYBENCH_NODE")
	if kind == "" {
		t.Skip("skipped: BenchmarkRelay's relay process, run by it")
	}
	cns, err := netns.Open(os.Getenv("SYNACK_RELAYBENCH_CLIENTNS"))
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "synack":
		dev, err := cns.OpenTUN(rbTUN)
		if err != nil {
			t.Fatal(err)
		}
		st, err := synack.New(dev, synack.Config{Addr: netns.StackAddr, AnyDestination: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		r, err := relay.Start(st, relay.Config{Dialer: relay.Direct{}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
	case "synack-plain":
		// Plain mode (no virtio header, no offloads), as the gVisor
		// forwarder has it: what is synack's and what the offloads'.
		var dev *tun.Device
		if err := cns.Do(func() error {
			var err error
			dev, err = tun.OpenOptions(rbTUN, tun.Options{NoOffload: true})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		st, err := synack.New(dev, synack.Config{Addr: netns.StackAddr, AnyDestination: true})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		r, err := relay.Start(st, relay.Config{Dialer: relay.Direct{}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
	case "gvisor":
		var fd int
		if err := cns.Do(func() error {
			var err error
			if err := noOffloads(rbTUN); err != nil {
				return err
			}
			fd, err = gtun.Open(rbTUN)
			return err
		}); err != nil {
			t.Fatalf("open %s: %v", rbTUN, err)
		}
		g, err := startGVisorRelay(fd, rbMTU)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Close()
	default:
		t.Fatalf("SYNACK_RELAYBENCH_NODE=%q: want synack or gvisor", kind)
	}
	fmt.Println("relaybench: ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case "cpu":
			fmt.Printf("relaybench: cpu %d\n", rusage().Nanoseconds())
		case "mem":
			runtime.GC()
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Printf("relaybench: mem %d %d\n", ms.HeapAlloc+ms.StackInuse, rss())
		}
	}
}

// noOffloads turns the offloads of the persistent TUN device name off, as
// on a device just made (and as synack's plain mode does): synack's rounds
// leave TUNSETOFFLOAD's checksum and TSO offloads on it after they detach,
// and a reader without the virtio header cannot take the packets the
// kernel then sends (partial checksums, GSO).
func noOffloads(name string) error {
	fd, err := gtun.Open(name)
	if err != nil {
		return fmt.Errorf("open %s: %w", name, err)
	}
	defer unix.Close(fd)
	if err := unix.IoctlSetInt(fd, unix.TUNSETOFFLOAD, 0); err != nil {
		return fmt.Errorf("%s: TUNSETOFFLOAD 0: %w", name, err)
	}
	return nil
}

// rss is the process's resident set size in bytes (VmRSS), or 0.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
