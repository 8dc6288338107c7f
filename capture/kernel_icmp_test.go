package capture

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gosynack/synack/trace/ladder"
)

// The kernel captures of IPv6 and ICMP, recorded by
// testdata/record-icmp.sh; each ladder is a golden file, and what each
// was recorded to show must be in it.
func TestKernelICMPCaptureGolden(t *testing.T) {
	for _, name := range []string{"ipv6", "pmtu", "icmp-errors"} {
		t.Run(name, func(t *testing.T) {
			out := kernelICMPText(t, "testdata", name)
			golden(t, name, out)
			for _, f := range kernelICMPFacts[name] {
				if !strings.Contains(out, f) {
					t.Errorf("%s: the ladder does not show %q", name, f)
				}
			}
		})
	}
}

// kernelICMPFacts are what each capture of record-icmp.sh was made to
// show.
var kernelICMPFacts = map[string][]string{
	"ipv6": {"[2001:2::2]:", "SYN-SENT", "TIME-WAIT", "ICMPv6 Echo Request", "ICMPv6 Echo Reply",
		"neighbour discovery and multicast listener messages (the link's own) were left out"},
	"pmtu": {"ICMP Fragmentation Needed mtu=1280 from 198.18.1.1", "ICMPv6 Packet Too Big mtu=1280 from 2001:2:0:1::1",
		"└ quotes #", "(seq=1)", "segmentation offload (GSO/TSO) cut them"},
	"icmp-errors": {"ICMP Destination Unreachable (administratively prohibited) from 198.18.1.1",
		"ICMPv6 Destination Unreachable (administratively prohibited) from 2001:2:0:1::1",
		"ICMP Destination Unreachable (port unreachable) ~~", "ICMPv6 Destination Unreachable (port unreachable) ~~",
		"ICMP Time Exceeded (TTL exceeded in transit)", "ICMPv6 Time Exceeded (hop limit exceeded in transit)",
		"ICMP Echo Request", "ICMPv6 Echo Reply"},
}

// The captures can be made again, as record-icmp.sh makes them, and
// show the same: run here (as root, with dumpcap, nft and python3) in
// namespaces the script makes and removes, into a temporary directory.
func TestRecordICMP(t *testing.T) {
	if testing.Short() {
		t.Skip("records captures in network namespaces for a few seconds")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to make network namespaces")
	}
	for _, tool := range []string{"ip", "nft", "dumpcap", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	// The namespaces are named after this process, so that two test
	// binaries running at once (go test ./... -count 2, or two checkouts)
	// do not share them.
	tag := strconv.Itoa(os.Getpid())
	t.Cleanup(func() {
		for _, ns := range []string{"synack-icmp-a-", "synack-icmp-r-", "synack-icmp-b-"} {
			exec.Command("ip", "netns", "del", ns+tag).Run()
		}
	})
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", filepath.Join("testdata", "record-icmp.sh"))
	cmd.Env = append(os.Environ(), "OUT="+dir, "NSTAG="+tag)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // the script's trap cleans up
	cmd.WaitDelay = 10 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("record-icmp.sh: %v\n%s", err, out)
	}
	for _, name := range []string{"ipv6", "pmtu", "icmp-errors"} {
		out := kernelICMPText(t, dir, name)
		for _, f := range kernelICMPFacts[name] {
			if strings.Contains(f, "offload") {
				continue // the offload depends on the kernel's settings
			}
			if !strings.Contains(out, f) {
				t.Errorf("%s, recorded again: the ladder does not show %q:\n%s", name, f, out)
			}
		}
	}
}

// kernelICMPText is the ladder of DIR/NAME.pcapng with AllICMP.
func kernelICMPText(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name+".pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	a := Analyze(f)
	a.AllICMP = true
	var b bytes.Buffer
	if err := a.WriteText(&b, name+".pcapng", a.Conns, ladder.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// The SVG of the IPv6 path-MTU connection and of the IPv4 port
// unreachable, as golden files.
func TestKernelICMPCaptureSVG(t *testing.T) {
	for _, c := range []struct {
		file, golden string
		conn         int
	}{{"pmtu", "pmtu6_svg", 2}, {"icmp-errors", "port_unreachable_svg", 2}} {
		data, err := os.ReadFile(filepath.Join("testdata", c.file+".pcapng"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		a := Analyze(f)
		d, err := a.Diagram(a.Conns[c.conn-1], ladder.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := ladder.WriteSVG(&b, d, ladder.SVGOptions{Title: c.file + ".pcapng, connection " + a.Conns[c.conn-1].String()}); err != nil {
			t.Fatal(err)
		}
		golden(t, c.golden, b.String())
	}
}
