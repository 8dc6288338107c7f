package interop

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/tcp"
)

// Addresses of the far side of the router: the TUN's namespace forwards
// to a second namespace over a veth pair with MTU 1280.
const (
	routerVeth4 = "198.19.1.1/24"
	farVeth4    = "198.19.1.2/24"
	routerVeth6 = "2001:2:1::1/64"
	farVeth6    = "2001:2:1::2/64"
	// routerLinkLocal6 is on the router's veth only: link-local
	// addresses never leave the link.
	routerLinkLocal6 = "fe80::1/64"
)

// farNS makes a second, named namespace joined to e's by a veth pair of
// MTU mtu, with e's namespace forwarding between the TUN and the veth; it
// is removed when t ends, whether t passed or not. It returns the name.
func farNS(t *testing.T, e *env, mtu int) string {
	t.Helper()
	name := fmt.Sprintf("synack-%d-far", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v\n%s", name, err, out)
		}
	})
	m := strconv.Itoa(mtu)
	router := [][]string{
		{"sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{"sysctl", "-qw", "net.ipv6.conf.all.forwarding=1"},
		{"ip", "link", "add", "rtr0", "mtu", m, "type", "veth", "peer", "name", "far0", "mtu", m, "netns", name},
		{"ip", "addr", "add", routerVeth4, "dev", "rtr0"},
		{"ip", "addr", "add", routerVeth6, "dev", "rtr0", "nodad"},
		// The TUN's namespace makes no link-local addresses by itself
		// (netns.setup), but a router needs one on the veth to solicit
		// its neighbours for forwarded packets (routerForwards6).
		{"ip", "addr", "add", routerLinkLocal6, "dev", "rtr0", "nodad"},
		{"ip", "link", "set", "rtr0", "up"},
	}
	for _, args := range router {
		e.command(t, context.Background(), args[0], args[1:]...)
	}
	far := [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"sysctl", "-qw", "net.ipv6.conf.far0.accept_dad=0"},
		{"ip", "addr", "add", farVeth4, "dev", "far0"},
		{"ip", "addr", "add", farVeth6, "dev", "far0", "nodad"},
		{"ip", "link", "set", "far0", "up"},
		// Routes whose advmss makes the far kernel's SYNs say 1460
		// and 1440 (nftables' "maxseg size set" only lowers an MSS).
		{"ip", "route", "add", "default", "via", "198.19.1.1", "advmss", "1460"},
		{"ip", "-6", "route", "add", "default", "via", "2001:2:1::1", "advmss", "1440"},
	}
	for _, args := range far {
		if out, err := exec.Command("ip", append([]string{"netns", "exec", name}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip netns exec %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	routerForwards6(t, e)
	return name
}

// routerForwards6 checks that the router resolves the far namespace's
// IPv6 address for a packet it forwards: synack dials a closed port there,
// before the far side has sent anything (so the router has no neighbour
// entry from it), and must get the far kernel's RST. A router whose veth
// has no link-local address sends no Neighbor Solicitation for forwarded
// packets (Linux's ndisc_send_ns needs one as the source when the packet's
// own source is not the router's; RFC 4861 §7.2.2), so the far address
// stays unresolved: the SYN is dropped with an ICMPv6 Address Unreachable.
// During a transfer the same happens once the router's entry, learnt from
// the far side's own solicitation, goes stale and its probes cannot be
// sent, which is how TestBlackHoleKernelRouter used to stall under -race,
// whose slower transfer outlives the entry.
func routerForwards6(t *testing.T, e *env) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.st.DialContext(ctx, "tcp6", "["+strings.TrimSuffix(farVeth6, "/64")+"]:9")
	if err == nil {
		c.Close()
		t.Fatal("the far namespace accepted a connection to port 9, which nothing listens on")
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("synack's SYN to the far namespace over IPv6: %v; want the far kernel's RST (connection refused): the router does not resolve the far address for forwarded packets", err)
	}
}

// inFar runs a tool in the far namespace and returns its output.
func inFar(t *testing.T, ctx context.Context, far string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", far}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns exec %s %s: %v\n%s", far, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// nft loads rules into e's namespace.
func nft(t *testing.T, e *env, rules string) {
	t.Helper()
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := e.ns.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nft: %v: %s", err, stderr.String())
	}
}

// nftCounter reads the packets of the named counter of table inet t.
func nftCounter(t *testing.T, e *env, table, name string) int64 {
	t.Helper()
	out := e.command(t, context.Background(), "nft", "list", "counter", "inet", table, name)
	m := regexp.MustCompile(`packets (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("nft counter %s: %s", name, out)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n
}

// snmp reads one counter of the namespace's /proc/net/snmp or snmp6.
func snmp(t *testing.T, e *env, file, group, name string) int64 {
	t.Helper()
	out := e.command(t, context.Background(), "cat", "/proc/net/"+file)
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		f := strings.Fields(line)
		if file == "snmp6" {
			if len(f) == 2 && f[0] == name {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
			continue
		}
		if len(f) > 0 && f[0] == group+":" && i+1 < len(lines) {
			vals := strings.Fields(lines[i+1])
			for j, n := range f {
				if n == name && j < len(vals) {
					v, _ := strconv.ParseInt(vals[j], 10, 64)
					return v
				}
			}
			return -1
		}
	}
	t.Fatalf("no %s %s in /proc/net/%s", group, name, file)
	return -1
}

// TestPathMTUKernelRouter: the kernel forwards between the TUN's namespace
// and a second one over a veth pair with MTU 1280. curl in the far
// namespace downloads SYNACK_INTEROP_SIZE from an http.Server on synack's
// Go API, over IPv4 and IPv6; its SYN's MSS option says 1460 and 1440 (the
// far namespace's routes have advmss), so synack starts with 1500-byte
// packets. The router answers them with Fragmentation Needed (RFC 1191)
// and Packet Too Big (RFC 8201); synack lowers its MSS, and nftables in the
// router counts how many of synack's packets were too big for the veth:
// only the first flight's, against the ~80000 that a 100 MiB transfer
// takes.
func TestPathMTUKernelRouter(t *testing.T) { pmtuThroughRouter(t, false) }

// TestBlackHoleKernelRouter: the same, with nftables in the router
// dropping its Fragmentation Needed and Packet Too Big (a black hole).
// synack's full-sized segments time out until it falls back to tcp.BaseMSS
// (tcp/plpmtud.go), then probes upward (RFC 4821); the transfer completes
// with no path MTU change from ICMP, with only the packets sent before the
// fallback and a few lost probes too big, and in fewer packets than
// segments of tcp.BaseMSS would take: the probes found a larger MSS.
func TestBlackHoleKernelRouter(t *testing.T) {
	pmtuThroughRouter(t, true)
}

func pmtuThroughRouter(t *testing.T, blackhole bool) {
	needTools(t, "curl", "nft", "ip")
	// A plain device: with TSO the kernel forwards synack's merged
	// segments as one large packet and cuts it only on the way out, so
	// the router's counters would see sizes no segment on the wire has.
	e := newEnv(t, envOptions{plain: true})
	far := farNS(t, e, 1280)
	nft(t, e, `table inet synack_pmtu {
	counter big4 {}
	counter big6 {}
	counter all4 {}
	counter all6 {}
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		iifname "synack0" meta nfproto ipv4 meta l4proto tcp counter name all4
		iifname "synack0" meta nfproto ipv6 meta l4proto tcp counter name all6
		iifname "synack0" meta nfproto ipv4 meta length > 1280 counter name big4
		iifname "synack0" meta nfproto ipv6 meta length > 1280 counter name big6
	}
}
`)
	if blackhole {
		nft(t, e, `table inet synack_blackhole {
	chain out {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable icmp code frag-needed counter drop
		icmpv6 type packet-too-big counter drop
	}
}
`)
	}
	size := size(t, "SYNACK_INTEROP_SIZE", 100<<20)
	ln, err := e.st.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler(size)}
	go srv.Serve(ln)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir := t.TempDir()
	for _, c := range []struct {
		fam, addr, big, all, file, group, icmp string
	}{
		{"-4", netns.StackAddr.String(), "big4", "all4", "snmp", "Icmp", "OutDestUnreachs"},
		{"-6", "[" + netns.StackAddr6.String() + "]", "big6", "all6", "snmp6", "", "Icmp6OutPktTooBigs"},
	} {
		icmp0, pm0 := snmp(t, e, c.file, c.group, c.icmp), e.st.Counters().PathMTUChanges
		out := filepath.Join(dir, "got"+c.fam)
		start := time.Now()
		inFar(t, ctx, far, "curl", c.fam, "-sS", "--fail", "-o", out, "http://"+c.addr+"/payload")
		el := time.Since(start)
		if got, n := fileSHA(t, out); got != payloadSHA(1, size) || n != size {
			t.Fatalf("curl %s downloaded %d bytes, sha256 %s; want %d bytes, sha256 %s", c.fam, n, got, size, payloadSHA(1, size))
		}
		big, all := nftCounter(t, e, "synack_pmtu", c.big), nftCounter(t, e, "synack_pmtu", c.all)
		icmp := snmp(t, e, c.file, c.group, c.icmp) - icmp0
		pm := e.st.Counters().PathMTUChanges - pm0
		t.Logf("curl %s through a 1280-byte hop: %d bytes in %v; synack's TCP packets into the router %d, of them larger than 1280 bytes %d; the router's %s %d; synack's path MTU changes %d",
			c.fam, size, el.Round(time.Millisecond), all, big, c.icmp, icmp, pm)
		if blackhole {
			dropped := e.command(t, context.Background(), "nft", "list", "chain", "inet", "synack_blackhole", "out")
			t.Logf("the router's ICMP dropped by nftables: %s", strings.Join(strings.Fields(dropped), " "))
			if big == 0 || pm != 0 {
				t.Errorf("curl %s: synack sent %d packets too big for the hop and changed its path MTU %d times: the black hole was not tested", c.fam, big, pm)
			}
			if all >= size/tcp.BaseMSS {
				t.Errorf("curl %s: %d TCP packets for %d bytes, at least the %d of tcp.BaseMSS-sized segments: probing never raised the MSS", c.fam, all, size, size/tcp.BaseMSS)
			}
		} else if big == 0 || icmp == 0 || pm == 0 {
			t.Errorf("curl %s: synack sent %d packets too big for the hop and the router %d ICMP errors: the path MTU was never tested", c.fam, big, icmp)
		}
		// The first flight (initial window 10 segments, and whatever was
		// sent before the first error arrived): nothing after it.
		if big > 64 {
			t.Errorf("curl %s: %d of synack's packets were larger than the hop's 1280 bytes after the router's errors", c.fam, big)
		}
	}
}
