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
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	gtun "gvisor.dev/gvisor/pkg/tcpip/link/tun"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
)

// BenchmarkTUNPeers puts synack on a TUN device beside the peers it is
// measured against, the kernel's TCP at the other end each time, in
// alternating rounds (every peer once a round, the first peer rotating):
//
//   - synack: synack.New on the TUN with its offloads (virtio header, TSO,
//     checksum offload), what `synack` runs;
//   - gvisor: gVisor's fdbased endpoint on the TUN opened plainly (no
//     virtio header: no GSO, no checksum offload), the stack built as
//     tun2socks builds it (newGVisorStack);
//   - gvisor-best: the same with what fdbased allows on a TUN here: receive
//     checksums not verified (RXChecksumOffload; a TUN cannot corrupt) and
//     receive-buffer moderation on. fdbased at the gVisor version in go.mod
//     turns GSO on only for a socket descriptor (its HostGSO and GVisorGSO
//     both sit behind IsSocketFD) and GRO only in its recvmmsg dispatcher
//     (sockets again), so on a TUN gVisor has neither;
//   - gvisor-gso: gvisor-best's stack on a link endpoint of its own
//     (vnetEndpoint) with what fdbased lacks: the TUN opened with the
//     virtio header and TSO and checksum offload, gVisor sending 64 KiB
//     GSO segments the kernel cuts and taking the kernel's whole;
//   - kernel: the kernel's TCP at both ends, two namespaces joined by a
//     veth pair (GSO and GRO on, as by default): the ceiling.
//
// The TUN namespace is tunbench-PID (the kernel at 198.18.0.1, the stack
// at 198.18.0.2, 198.18.0.0/15 routed into the TUN tbtun0); the veth's are
// tunbench-PID-a (198.19.0.1, the kernel's client) and tunbench-PID-b
// (198.19.0.2, the server); $SYNACK_TUNBENCH_NSPREFIX, if set, stands for
// tunbench in the three names. The user-space stack (or, for kernel, the
// server's sockets) runs in a process of its own (this test binary again,
// TestTUNPeersNode) serving port 5001; this process is the kernel's side,
// dialling from the namespace. Each round and peer, in a fresh process:
//
//   - down: the kernel sends SYNACK_TUNBENCH_MIB MiB (default 4) and the
//     stack reads; up: the stack sends as much and the kernel reads (256
//     KiB reads and writes at both ends). MiB/s
//     from the first dial to the last byte; cpu-s/GiB is the stack's
//     process (user+system, its getrusage); drops/MiB is the TUN's
//     tx_dropped (packets the kernel meant for the stack and dropped at the
//     TUN's queue) per MiB moved;
//   - conn: SYNACK_TUNBENCH_CONNS (default 50) connections one after
//     another, each dialled, one byte sent and echoed, the server closing
//     first (as a request-response server does) and the client after it:
//     conns/s; for synack, fin-tlp is the share of those connections in
//     which synack sent a tail-loss probe (tcp.Info's TLPs > 0). With no
//     packet dropped (drops are counted) every such probe is spurious: on
//     a one-byte exchange it probes the FIN the kernel's delayed ACK holds;
//   - rr: one connection, SYNACK_TUNBENCH_RTTS (default 200) one-byte
//     round trips: rtt/s;
//   - connpar and rrpar: the same counts shared by SYNACK_TUNBENCH_PAR
//     (default 8) client goroutines at once, each with its own connections
//     (connpar) or its own connection (rrpar). conn and rr measure one
//     client's latency, a Go dialler waiting for each answer on the same
//     two cores as the stack, which bounds every peer alike and squeezes
//     the ratios towards 1; with several at once the stack's own rate
//     shows. For each of the four, cpu-us/conn or cpu-us/rtt is the
//     stack's process's CPU time per connection or round trip (user +
//     system: for kernel, its socket calls only), steadier than the rates
//     on a shared machine;
//
// Sub-benchmarks down, up, conn, rr, connpar, rrpar and fin report each
// peer's median (PEER-UNIT) and the median of the per-round ratios
// synack/PEER with their range (x-PEER, x-PEER-min, x-PEER-max). b.N is
// not used: run it with -benchtime 1x; SYNACK_TUNBENCH_ROUNDS (default 1)
// rounds. The defaults make a smoke run of a few seconds; BENCHMARKS.md
// names the command for its figures. SYNACK_TUNBENCH_PEERS (synack,...)
// runs only some peers; SYNACK_TUNBENCH_OLD=PATH adds synack-old, synack
// run by another build of this test binary (bench/tun.sh peers OLD), so
// that x-synack-old is new/old in alternating rounds;
// SYNACK_TUNBENCH_PROFILE=DIR writes a CPU profile of the stack's process
// per phase (or an execution trace, SYNACK_TUNBENCH_PROFILE_KIND=trace),
// DIR/PEER-PHASE-rROUND.cpu. Bounded: at most 21 rounds, 1024 MiB, 20000
// connections and 100000 round trips, 64 clients at once, a deadline on
// every connection and 10 minutes in all. The namespaces are removed at
// the end, on failure, and on SIGINT or SIGTERM. Needs root, /dev/net/tun
// and ip(8); skipped otherwise.
func BenchmarkTUNPeers(b *testing.B) {
	if err := netns.Available(); err != nil {
		b.Skipf("skipped: %v", err)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		b.Skipf("skipped: no ip(8): %v", err)
	}
	rounds := envInt(b, "SYNACK_TUNBENCH_ROUNDS", 1, 21)
	mib := envInt(b, "SYNACK_TUNBENCH_MIB", 4, 1024)
	conns := envInt(b, "SYNACK_TUNBENCH_CONNS", 50, 20000)
	rtts := envInt(b, "SYNACK_TUNBENCH_RTTS", 200, 100000)
	par := envInt(b, "SYNACK_TUNBENCH_PAR", 8, 64)
	peers, err := tbPeerList()
	if err != nil {
		b.Fatal(err)
	}
	prof := os.Getenv("SYNACK_TUNBENCH_PROFILE")
	if prof != "" && slices.Contains(peers, "synack-old") {
		b.Fatal("SYNACK_TUNBENCH_PROFILE and SYNACK_TUNBENCH_OLD together: the old binary may not know the profile commands")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	tn := newTUNNet()
	defer tn.remove(b)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case s := <-sig:
			fmt.Fprintf(os.Stderr, "BenchmarkTUNPeers: %v: removing the namespaces\n", s)
			tn.remove(nil)
			os.Exit(2)
		case <-done:
		}
	}()
	if err := tn.setup(ctx); err != nil {
		b.Fatal(err)
	}

	res := map[string][]tunResult{}
	for r := range rounds {
		for k := range peers {
			peer := peers[(r+k)%len(peers)]
			x, err := tn.round(ctx, tbRun{peer: peer, round: r + 1, total: int64(mib) << 20, conns: conns, rtts: rtts, par: par, prof: prof})
			if err != nil {
				b.Fatalf("round %d, %s: %v", r+1, peer, err)
			}
			b.Logf("round %d %-11s: down %7.1f MiB/s %5.2f cpu-s/GiB %6.2f drops/MiB, up %7.1f MiB/s %5.2f cpu-s/GiB %6.2f drops/MiB, %6.0f conns/s %5.1f cpu-us (fin-tlp %.3f), %6.0f rtt/s %5.1f cpu-us; %d at once: %6.0f conns/s %5.1f cpu-us, %6.0f rtt/s %5.1f cpu-us",
				r+1, peer, x.down.mibs, x.down.cpu, x.down.drops, x.up.mibs, x.up.cpu, x.up.drops, x.connsPerS, x.connCPU, x.finTLP, x.rttPerS, x.rttCPU,
				par, x.connsParPerS, x.connParCPU, x.rttParPerS, x.rttParCPU)
			res[peer] = append(res[peer], x)
		}
	}
	type metric struct {
		unit string
		of   func(tunResult) float64
		tun  bool // a TUN figure: none for the kernel's veth
	}
	groups := []struct {
		name string
		ms   []metric
	}{
		{"down", []metric{{"MiB/s", func(x tunResult) float64 { return x.down.mibs }, false},
			{"cpu-s/GiB", func(x tunResult) float64 { return x.down.cpu }, false},
			{"drops/MiB", func(x tunResult) float64 { return x.down.drops }, true}}},
		{"up", []metric{{"MiB/s", func(x tunResult) float64 { return x.up.mibs }, false},
			{"cpu-s/GiB", func(x tunResult) float64 { return x.up.cpu }, false},
			{"drops/MiB", func(x tunResult) float64 { return x.up.drops }, true}}},
		{"conn", []metric{{"conns/s", func(x tunResult) float64 { return x.connsPerS }, false},
			{"cpu-us/conn", func(x tunResult) float64 { return x.connCPU }, false}}},
		{"rr", []metric{{"rtt/s", func(x tunResult) float64 { return x.rttPerS }, false},
			{"cpu-us/rtt", func(x tunResult) float64 { return x.rttCPU }, false}}},
		{"connpar", []metric{{"conns/s", func(x tunResult) float64 { return x.connsParPerS }, false},
			{"cpu-us/conn", func(x tunResult) float64 { return x.connParCPU }, false}}},
		{"rrpar", []metric{{"rtt/s", func(x tunResult) float64 { return x.rttParPerS }, false},
			{"cpu-us/rtt", func(x tunResult) float64 { return x.rttParCPU }, false}}},
	}
	for _, g := range groups {
		b.Run(g.name, func(b *testing.B) {
			for _, m := range g.ms {
				s := tunMetric(res["synack"], m.of)
				for _, peer := range peers {
					if m.tun && peer == "kernel" {
						continue
					}
					p := tunMetric(res[peer], m.of)
					b.ReportMetric(median(p), peer+"-"+m.unit)
					if peer == "synack" || m.tun {
						continue // ratios of drop counts (often 0) say nothing
					}
					ratios := make([]float64, len(s))
					for i := range s {
						ratios[i] = s[i] / p[i]
					}
					b.ReportMetric(median(ratios), "x-"+peer+"-"+m.unit)
					b.ReportMetric(slices.Min(ratios), "x-"+peer+"-"+m.unit+"-min")
					b.ReportMetric(slices.Max(ratios), "x-"+peer+"-"+m.unit+"-max")
				}
			}
		})
	}
	b.Run("fin", func(b *testing.B) {
		f := tunMetric(res["synack"], func(x tunResult) float64 { return x.finTLP })
		b.ReportMetric(median(f), "synack-fin-tlp-share")
		b.ReportMetric(slices.Min(f), "synack-fin-tlp-share-min")
		b.ReportMetric(slices.Max(f), "synack-fin-tlp-share-max")
	})
}

// tbPeers are BenchmarkTUNPeers's peers, in the first round's order.
var tbPeers = []string{"synack", "gvisor", "gvisor-best", "gvisor-gso", "kernel"}

// tbPeerList is the peers to run: $SYNACK_TUNBENCH_PEERS (a comma-separated
// list of tbPeers, synack first) or all of them, and synack-old when
// $SYNACK_TUNBENCH_OLD names another build of this test binary (bench/tun.sh
// peers builds one): synack run by that binary, so that the ratios
// x-synack-old are new/old in alternating rounds.
func tbPeerList() ([]string, error) {
	peers := tbPeers
	if v := os.Getenv("SYNACK_TUNBENCH_PEERS"); v != "" {
		peers = strings.Split(v, ",")
		if peers[0] != "synack" {
			return nil, fmt.Errorf("SYNACK_TUNBENCH_PEERS=%q: want synack first (the ratios are synack's over each other peer)", v)
		}
		for _, p := range peers {
			if !slices.Contains(tbPeers, p) {
				return nil, fmt.Errorf("SYNACK_TUNBENCH_PEERS=%q: %q is none of %v", v, p, tbPeers)
			}
		}
	}
	if old := os.Getenv("SYNACK_TUNBENCH_OLD"); old != "" {
		if _, err := os.Stat(old); err != nil {
			return nil, fmt.Errorf("SYNACK_TUNBENCH_OLD: %v", err)
		}
		peers = append(slices.Clone(peers), "synack-old")
	}
	return peers, nil
}

type tunBulk struct{ mibs, cpu, drops float64 }

type tunResult struct {
	down, up           tunBulk
	connsPerS, rttPerS float64
	finTLP             float64 // synack only: over both kinds of connections

	// The same with par connections at once: the stack's rates rather
	// than one client's latency.
	connsParPerS, rttParPerS float64

	// The stack's process's CPU time (µs, user+system) per connection
	// and per round trip, for each of the four.
	connCPU, rttCPU, connParCPU, rttParCPU float64
}

// tbRun is one peer's run in one round.
type tbRun struct {
	peer             string
	round            int
	total            int64
	conns, rtts, par int
	prof             string // a directory for profiles, or ""
}

func tunMetric(xs []tunResult, of func(tunResult) float64) []float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = of(x)
	}
	return v
}

// The benchmark's network.
const (
	tbTUN       = "tbtun0"
	tbVethA     = "tbveth-a"
	tbVethB     = "tbveth-b"
	tbVethAAddr = "198.19.0.1"
	tbVethBAddr = "198.19.0.2"
	tbPort      = "5001"
)

type tunNet struct {
	tunName, aName, bName string
	tunNS, aNS, bNS       *netns.NS

	mu      sync.Mutex
	removed bool
	made    []string  // namespaces made with ip netns add, to delete
	node    *exec.Cmd // the stack's process running, if any
}

func newTUNNet() *tunNet {
	pid := os.Getpid()
	prefix := "tunbench"
	if v := os.Getenv("SYNACK_TUNBENCH_NSPREFIX"); v != "" {
		prefix = v // checked by netns.New and ip(8)
	}
	return &tunNet{
		tunName: fmt.Sprintf("%s-%d", prefix, pid),
		aName:   fmt.Sprintf("%s-%d-a", prefix, pid),
		bName:   fmt.Sprintf("%s-%d-b", prefix, pid),
	}
}

// setup makes the TUN's namespace (netns.New, persistent, so that each
// round's process attaches to the device anew) and the veth's two.
func (tn *tunNet) setup(ctx context.Context) error {
	ns, err := netns.New(netns.Options{Name: tn.tunName, TUN: tbTUN, Persist: true})
	tn.mu.Lock()
	tn.tunNS = ns
	tn.mu.Unlock()
	if err != nil {
		return err
	}
	for _, n := range []string{tn.aName, tn.bName} {
		if err := ip(ctx, "netns", "add", n); err != nil {
			return err
		}
		tn.mu.Lock()
		tn.made = append(tn.made, n)
		tn.mu.Unlock()
	}
	a, bb := tn.aName, tn.bName
	for _, args := range [][]string{
		{"-n", a, "link", "set", "lo", "up"},
		{"-n", bb, "link", "set", "lo", "up"},
		{"-n", a, "link", "add", tbVethA, "type", "veth", "peer", "name", tbVethB, "netns", bb},
		{"-n", a, "addr", "add", tbVethAAddr + "/24", "dev", tbVethA},
		{"-n", a, "link", "set", tbVethA, "up"},
		{"-n", bb, "addr", "add", tbVethBAddr + "/24", "dev", tbVethB},
		{"-n", bb, "link", "set", tbVethB, "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			return err
		}
	}
	an, err := netns.Open(a)
	if err != nil {
		return err
	}
	bn, err := netns.Open(bb)
	tn.mu.Lock()
	tn.aNS, tn.bNS = an, bn
	tn.mu.Unlock()
	return err
}

// remove stops the stack's process and deletes the namespaces (and with
// them the TUN and the veth). It is safe to call twice and from the signal
// handler; b nil only logs to stderr.
func (tn *tunNet) remove(b *testing.B) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.removed {
		return
	}
	tn.removed = true
	if tn.node != nil && tn.node.Process != nil {
		tn.node.Process.Kill()
		tn.node.Wait()
	}
	var errs []error
	if tn.tunNS != nil {
		errs = append(errs, tn.tunNS.Remove())
	}
	opened := map[string]*netns.NS{tn.aName: tn.aNS, tn.bName: tn.bNS}
	for _, name := range tn.made {
		if n := opened[name]; n != nil {
			errs = append(errs, n.Remove()) // deletes the name too
		} else if err := ip(context.Background(), "netns", "del", name); err != nil {
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

// dial connects the kernel's side to the peer's server.
func (tn *tunNet) dial(ctx context.Context, peer string) (net.Conn, error) {
	var c net.Conn
	var err error
	if peer == "kernel" {
		c, err = tn.aNS.DialContext(ctx, "tcp", tbVethBAddr+":"+tbPort)
	} else {
		c, err = tn.tunNS.DialContext(ctx, "tcp", netns.StackAddr.String()+":"+tbPort)
	}
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	return c, nil
}

func (tn *tunNet) drops(peer string) (uint64, error) {
	if peer == "kernel" {
		return 0, nil
	}
	var d uint64
	err := tn.tunNS.Do(func() error {
		l, err := netlink.LinkByName(tbTUN)
		if err != nil {
			return err
		}
		if s := l.Attrs().Statistics; s != nil {
			d = s.TxDropped
		}
		return nil
	})
	return d, err
}

// round runs one peer's process through the measurements.
func (tn *tunNet) round(ctx context.Context, run tbRun) (x tunResult, err error) {
	peer, total, conns, rtts, par := run.peer, run.total, run.conns, run.rtts, run.par
	n, err := tn.startNode(ctx, peer)
	if err != nil {
		return x, err
	}
	// profile runs a phase with the node's CPU profile (or execution
	// trace, SYNACK_TUNBENCH_PROFILE_KIND=trace) on, if asked for.
	profile := func(phase string, f func() error) error {
		if run.prof == "" {
			return f()
		}
		kind := os.Getenv("SYNACK_TUNBENCH_PROFILE_KIND")
		if kind == "" {
			kind = "cpu"
		}
		path := fmt.Sprintf("%s/%s-%s-r%d.%s", run.prof, peer, phase, run.round, kind)
		if _, err := fmt.Fprintln(n.in, kind, path); err != nil {
			return err
		}
		if _, err := n.await(kind); err != nil {
			return err
		}
		ferr := f()
		if _, err := n.ask("stop"); err != nil && ferr == nil {
			ferr = err
		}
		return ferr
	}
	defer func() {
		if serr := n.stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	gib := float64(total) / (1 << 30)
	for _, dir := range []string{"down", "up"} {
		d0, err := tn.drops(peer)
		if err != nil {
			return x, err
		}
		c0, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		t0 := time.Now()
		if err := profile(dir, func() error { return tn.bulk(ctx, peer, dir, total) }); err != nil {
			return x, fmt.Errorf("%s: %w", dir, err)
		}
		el := time.Since(t0)
		c1, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		d1, err := tn.drops(peer)
		if err != nil {
			return x, err
		}
		r := tunBulk{float64(total) / (1 << 20) / el.Seconds(), (c1[0] - c0[0]) / 1e9 / gib, float64(d1-d0) / float64(total>>20)}
		if dir == "down" {
			x.down = r
		} else {
			x.up = r
		}
	}
	// Connections one after another, then round trips on one, from a
	// process of the kernel's side in the namespace (so that no dial
	// pays for entering it, and no read wakes a thread locked to it).
	var probed float64
	tlp := func() error {
		if peer != "synack" && peer != "synack-old" {
			return nil
		}
		// The last connection's final ACK may be on its way yet.
		time.Sleep(50 * time.Millisecond)
		v, err := n.ask("tlp")
		if err != nil {
			return err
		}
		if v[1] != float64(conns) {
			return fmt.Errorf("the stack's process saw %v of %d connections", v[1], conns)
		}
		probed += v[0]
		return nil
	}
	for _, m := range []struct {
		what  string
		count int
		par   int
		rate  *float64
		cpu   *float64
	}{
		{"conn", conns, 1, &x.connsPerS, &x.connCPU},
		{"rr", rtts, 1, &x.rttPerS, &x.rttCPU},
		{"conn", conns, par, &x.connsParPerS, &x.connParCPU},
		{"rr", rtts, par, &x.rttParPerS, &x.rttParCPU},
	} {
		phase := m.what
		if m.par > 1 {
			phase += "par"
		}
		c0, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		if err := profile(phase, func() error {
			var err error
			*m.rate, err = tn.client(ctx, peer, m.what, m.count, m.par)
			return err
		}); err != nil {
			return x, err
		}
		c1, err := n.ask("cpu")
		if err != nil {
			return x, err
		}
		*m.cpu = (c1[0] - c0[0]) / 1e3 / float64(m.count)
		if m.what == "conn" {
			if err := tlp(); err != nil {
				return x, err
			}
		}
	}
	x.finTLP = probed / float64(2*conns)
	return x, nil
}

// client runs TestTUNPeersClient in the kernel's namespace for peer, with
// par connections at once, and returns the rate it says.
func (tn *tunNet) client(ctx context.Context, peer, what string, count, par int) (float64, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	where, addr := tn.tunNS, netns.StackAddr.String()+":"+tbPort
	if peer == "kernel" {
		where, addr = tn.aNS, tbVethBAddr+":"+tbPort
	}
	cmd := exec.CommandContext(ctx, self, "-test.run=^TestTUNPeersClient$")
	cmd.Env = append(os.Environ(), "SYNACK_TUNBENCH_CLIENT="+what, "SYNACK_TUNBENCH_ADDR="+addr,
		"SYNACK_TUNBENCH_COUNT="+strconv.Itoa(count), "SYNACK_TUNBENCH_CLIENTS="+strconv.Itoa(par))
	cmd.Stderr = os.Stderr
	var out strings.Builder
	cmd.Stdout = &out
	if err := where.Start(cmd); err != nil {
		return 0, err
	}
	if err := cmd.Wait(); err != nil {
		return 0, fmt.Errorf("%s client: %v: %s", what, err, out.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(l, "tunbench: rate "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("%s client said no rate: %q", what, out.String())
}

// TestTUNPeersClient is the kernel's side of BenchmarkTUNPeers's
// connections and round trips, run by it in the kernel's namespace; it does
// nothing otherwise. $SYNACK_TUNBENCH_CLIENT conn makes
// $SYNACK_TUNBENCH_COUNT connections to $SYNACK_TUNBENCH_ADDR one after
// another (shortConn), rr that many one-byte round trips on one; with
// $SYNACK_TUNBENCH_CLIENTS P above 1, P goroutines share the count, each
// with its own connections (conn) or its own connection (rr). It says
// "tunbench: rate R", R per second, over all of them.
func TestTUNPeersClient(t *testing.T) {
	what := os.Getenv("SYNACK_TUNBENCH_CLIENT")
	if what == "" {
		t.Skip("skipped: BenchmarkTUNPeers's client process, run by it")
	}
	addr := os.Getenv("SYNACK_TUNBENCH_ADDR")
	count, err := strconv.Atoi(os.Getenv("SYNACK_TUNBENCH_COUNT"))
	if err != nil || count < 1 {
		t.Fatalf("SYNACK_TUNBENCH_COUNT=%q: want a positive number", os.Getenv("SYNACK_TUNBENCH_COUNT"))
	}
	par := 1
	if v := os.Getenv("SYNACK_TUNBENCH_CLIENTS"); v != "" {
		if par, err = strconv.Atoi(v); err != nil || par < 1 || par > 64 {
			t.Fatalf("SYNACK_TUNBENCH_CLIENTS=%q: want a number from 1 to 64", v)
		}
	}
	dial := func() (net.Conn, error) {
		c, err := net.DialTimeout("tcp", addr, 10*time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(2 * time.Minute))
		}
		return c, err
	}
	var run func(n int) error
	switch what {
	case "conn":
		run = func(n int) error {
			for i := range n {
				if err := shortConn(dial); err != nil {
					return fmt.Errorf("connection %d: %v", i+1, err)
				}
			}
			return nil
		}
	case "rr":
		run = func(n int) error {
			c, err := dial()
			if err != nil {
				return err
			}
			defer c.Close()
			buf := []byte{'r'}
			for i := range n {
				if _, err := c.Write(buf); err != nil {
					return fmt.Errorf("round trip %d: %v", i+1, err)
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					return fmt.Errorf("round trip %d: %v", i+1, err)
				}
			}
			return nil
		}
	default:
		t.Fatalf("SYNACK_TUNBENCH_CLIENT=%q: want conn or rr", what)
	}
	t0 := time.Now()
	errs := make([]error, par)
	var wg sync.WaitGroup
	for i := range par {
		n := count / par
		if i < count%par {
			n++
		}
		wg.Go(func() { errs[i] = run(n) })
	}
	wg.Wait()
	el := time.Since(t0)
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("tunbench: rate %g\n", float64(count)/el.Seconds())
}

// bulk moves total bytes: down from the kernel to the stack, up the other
// way, ending when the kernel's side has seen the other's FIN.
func (tn *tunNet) bulk(ctx context.Context, peer, dir string, total int64) error {
	c, err := tn.dial(ctx, peer)
	if err != nil {
		return err
	}
	defer c.Close()
	var n int64
	if dir == "down" {
		if _, err := c.Write([]byte{'d'}); err != nil {
			return err
		}
		if n, err = tbFill(c, total); err != nil {
			return fmt.Errorf("sent %d of %d bytes: %w", n, total, err)
		}
		c.(*net.TCPConn).CloseWrite()
		if _, err := tbDrain(c); err != nil {
			return err
		}
		return nil
	}
	if _, err := c.Write(binary.BigEndian.AppendUint64([]byte{'u'}, uint64(total))); err != nil {
		return err
	}
	if n, err = tbDrain(c); err != nil || n != total {
		return fmt.Errorf("received %d of %d bytes: %v", n, total, err)
	}
	return nil
}

// shortConn dials, sends a byte, reads it back and the server's FIN, and
// closes.
func shortConn(dial func() (net.Conn, error)) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte{'c'}); err != nil {
		return err
	}
	var buf [2]byte
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		return err
	}
	if k, err := c.Read(buf[:]); k != 0 || err != io.EOF {
		return fmt.Errorf("after the echo: %d bytes, %v; want the server's FIN", k, err)
	}
	return nil
}

// startNode starts the stack process of one peer: in the TUN's
// namespace, or for kernel in the veth's server namespace.
func (tn *tunNet) startNode(ctx context.Context, peer string) (*benchNode, error) {
	node := peer
	if peer == "synack-old" {
		node = "synack"
	}
	n, err := newBenchNode(ctx, "TestTUNPeersNode", "the stack's process",
		"SYNACK_TUNBENCH_NODE="+node, "SYNACK_TUNBENCH_NS="+tn.tunName)
	if err != nil {
		return nil, err
	}
	if peer == "synack-old" {
		// The same node test in the other build (tbPeerList checked it).
		n.cmd.Path = os.Getenv("SYNACK_TUNBENCH_OLD")
		n.cmd.Args[0] = n.cmd.Path
	}
	where := tn.tunNS
	if peer == "kernel" {
		where = tn.bNS
	}
	tn.mu.Lock()
	if tn.removed {
		tn.mu.Unlock()
		return nil, errors.New("the namespaces are removed")
	}
	err = where.Start(n.cmd)
	if err == nil {
		tn.node = n.cmd
	}
	tn.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := n.begin("tunbench: ", func() {
		tn.mu.Lock()
		tn.node = nil
		tn.mu.Unlock()
	}); err != nil {
		return nil, err
	}
	return n, nil
}

// TestTUNPeersNode is BenchmarkTUNPeers's stack process, started by it (in
// the TUN's namespace, or for kernel in the veth's server namespace); it
// does nothing otherwise. It serves port 5001 with the stack named by
// $SYNACK_TUNBENCH_NODE, says "tunbench: ready", then answers each line of
// its stdin: "cpu" with its CPU time (ns, user+system), "tlp" (synack) with
// how many of the short connections since the last "tlp" sent a tail-loss
// probe, and how many there were; "cpu PATH" and "trace PATH" start a CPU
// profile or an execution trace written to PATH, "stop" ends it. It ends
// when its stdin does.
func TestTUNPeersNode(t *testing.T) {
	peer := os.Getenv("SYNACK_TUNBENCH_NODE")
	if peer == "" {
		t.Skip("skipped: BenchmarkTUNPeers's stack process, run by it")
	}
	var ln net.Listener
	var mu sync.Mutex
	var short []*synack.Conn
	record := func(net.Conn) {}
	switch peer {
	case "synack":
		tns, err := netns.Open(os.Getenv("SYNACK_TUNBENCH_NS"))
		if err != nil {
			t.Fatal(err)
		}
		dev, err := tns.OpenTUN(tbTUN)
		if err != nil {
			t.Fatal(err)
		}
		st, err := synack.New(dev, synack.Config{Addr: netns.StackAddr})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if ln, err = st.Listen("tcp", ":"+tbPort); err != nil {
			t.Fatal(err)
		}
		record = func(c net.Conn) {
			mu.Lock()
			short = append(short, c.(*synack.Conn))
			mu.Unlock()
		}
	case "gvisor", "gvisor-best":
		tns, err := netns.Open(os.Getenv("SYNACK_TUNBENCH_NS"))
		if err != nil {
			t.Fatal(err)
		}
		var fd int
		if err := tns.Do(func() error {
			var err error
			if err := noOffloads(tbTUN); err != nil {
				return err
			}
			fd, err = gtun.Open(tbTUN)
			return err
		}); err != nil {
			t.Fatalf("open %s: %v", tbTUN, err)
		}
		best := peer == "gvisor-best"
		ep, err := fdbased.New(&fdbased.Options{FDs: []int{fd}, MTU: 1500, RXChecksumOffload: best})
		if err != nil {
			t.Fatalf("gvisor: fdbased endpoint: %v", err)
		}
		s, err := newGVisorStack(ep, gvisorTuning{moderate: best}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { s.Close(); s.Wait() }()
		addr := tcpip.AddrFrom4(netns.StackAddr.As4())
		if e := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: addr.WithPrefix()}, stack.AddressProperties{}); e != nil {
			t.Fatalf("gvisor: add address: %v", e)
		}
		port, _ := strconv.Atoi(tbPort)
		gl, err := gonet.ListenTCP(s, tcpip.FullAddress{NIC: 1, Addr: addr, Port: uint16(port)}, ipv4.ProtocolNumber)
		if err != nil {
			t.Fatalf("gvisor: listen: %v", err)
		}
		ln = gl
	case "gvisor-gso":
		ln = gvisorGSOListener(t)
	case "kernel":
		var err error
		if ln, err = net.Listen("tcp", tbVethBAddr+":"+tbPort); err != nil {
			t.Fatal(err)
		}
	default:
		t.Fatalf("SYNACK_TUNBENCH_NODE=%q: want synack, gvisor, gvisor-best, gvisor-gso or kernel", peer)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go tbServe(c, record)
		}
	}()
	fmt.Println("tunbench: ready")
	sc := bufio.NewScanner(os.Stdin)
	var prof *os.File
	stopProf := func() {
		if prof != nil {
			pprof.StopCPUProfile()
			trace.Stop()
			prof.Close()
			prof = nil
		}
	}
	defer stopProf()
	for sc.Scan() {
		word, arg, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "cpu", "trace":
			if arg == "" {
				if word == "cpu" {
					fmt.Printf("tunbench: cpu %d\n", rusage().Nanoseconds())
				}
				break
			}
			stopProf()
			f, err := os.Create(arg)
			if err != nil {
				t.Fatal(err)
			}
			prof = f
			if word == "cpu" {
				err = pprof.StartCPUProfile(f)
			} else {
				err = trace.Start(f)
			}
			if err != nil {
				t.Fatal(err)
			}
			fmt.Printf("tunbench: %s\n", word)
		case "stop":
			stopProf()
			fmt.Println("tunbench: stop")
		case "tlp":
			mu.Lock()
			probed := 0
			for _, c := range short {
				if c.Info().Stats.TLPs > 0 {
					probed++
				}
			}
			fmt.Printf("tunbench: tlp %d %d\n", probed, len(short))
			short = short[:0]
			mu.Unlock()
		}
	}
}

// tbServe serves one of BenchmarkTUNPeers's connections; its first byte
// says what it is: 'd' read to EOF; 'u' send the number of bytes the next
// 8 give (big-endian), then FIN, then read to EOF; 'c' echo it and close;
// 'r' echo it and every byte after it until EOF.
func tbServe(c net.Conn, record func(net.Conn)) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	var m [1]byte
	if _, err := io.ReadFull(c, m[:]); err != nil {
		return
	}
	switch m[0] {
	case 'd':
		tbDrain(c)
	case 'u':
		var n [8]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		tbFill(c, int64(binary.BigEndian.Uint64(n[:])))
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		tbDrain(c)
	case 'c':
		record(c)
		c.Write(m[:])
	case 'r':
		for {
			if _, err := c.Write(m[:]); err != nil {
				return
			}
			if _, err := io.ReadFull(c, m[:]); err != nil {
				return
			}
		}
	}
}

// tbBuf is the size of the bulk transfers' reads and writes at both ends:
// io.Copy's 32 KiB writes and io.Discard's 8 KiB reads would make the
// system calls, not the stacks, the limit of the kernel's veth figure.
const tbBuf = 256 << 10

// tbDrain reads r to EOF and returns how many bytes it read.
func tbDrain(r io.Reader) (int64, error) {
	buf := make([]byte, tbBuf)
	var n int64
	for {
		k, err := r.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// tbFill writes total zero bytes to w.
func tbFill(w io.Writer, total int64) (int64, error) {
	buf := make([]byte, tbBuf)
	var n int64
	for n < total {
		k, err := w.Write(buf[:min(int64(len(buf)), total-n)])
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
