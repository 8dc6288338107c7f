package capture

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosynack/synack/trace/ladder"
)

// The kernel captures of IPv6 and ICMP, recorded by
// testdata/record-icmp.sh; each ladder is a golden file, and what each
// was recorded to show must be in it.
func TestKernelICMPCaptureGolden(t *testing.T) {
	facts := map[string][]string{
		"ipv6": {"[2001:2::2]:", "SYN-SENT", "TIME-WAIT", "ICMPv6 Echo Request", "ICMPv6 Echo Reply",
			"neighbour discovery and multicast listener messages (the link's own) were left out"},
		"pmtu": {"ICMP Fragmentation Needed mtu=1280 from 198.18.1.1", "ICMPv6 Packet Too Big mtu=1280 from 2001:2:0:1::1",
			"└ quotes #10 (seq=1)", "segmentation offload (GSO/TSO) cut them"},
		"icmp-errors": {"ICMP Destination Unreachable (administratively prohibited) from 198.18.1.1",
			"ICMPv6 Destination Unreachable (administratively prohibited) from 2001:2:0:1::1",
			"ICMP Destination Unreachable (port unreachable) ~~", "ICMPv6 Destination Unreachable (port unreachable) ~~",
			"ICMP Time Exceeded (TTL exceeded in transit)", "ICMPv6 Time Exceeded (hop limit exceeded in transit)",
			"ICMP Echo Request", "ICMPv6 Echo Reply"},
	}
	for _, name := range []string{"ipv6", "pmtu", "icmp-errors"} {
		t.Run(name, func(t *testing.T) {
			out := kernelICMPText(t, name)
			golden(t, name, out)
			for _, f := range facts[name] {
				if !strings.Contains(out, f) {
					t.Errorf("%s: the ladder does not show %q", name, f)
				}
			}
		})
	}
}

// kernelICMPText is the ladder of testdata/NAME.pcapng with AllICMP.
func kernelICMPText(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".pcapng"))
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
