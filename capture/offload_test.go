package capture

import (
	"strings"
	"testing"

	"github.com/gopacket/gopacket/layers"

	"github.com/gosynack/synack/trace/ladder"
)

// Segments larger than the MSS their receiver announced are what a NIC's
// or kernel's segmentation offload hands the capture (TSO/GSO on send,
// GRO/LRO on receive): a note says so; segments within the MSS get none.
func TestOffloadNote(t *testing.T) {
	tso := pcapOf(t, layers.LinkTypeEthernet, 65535, linuxConn(100, 30000, 14480)...)
	out := ladderText(t, "tso", tso, ladder.Options{})
	want := "note: 2 segments from 192.0.2.20:80 carry more than the 1460-byte MSS 192.0.2.10:51000 announced (the largest 14480 bytes): " +
		"the capturing host's NIC or kernel offload (TSO/GSO when sending, GRO/LRO when receiving) had yet to cut them or had merged them, so the capture shows them as the host handed them over, not as they crossed the wire"
	if !strings.Contains(out, want+"\n") {
		t.Errorf("no note on the offloaded segments:\n%s", out)
	}
	if !strings.Contains(out, "len=14480") {
		t.Errorf("the segments are not drawn whole:\n%s", out)
	}
	plain := ladderText(t, "plain", pcapOf(t, layers.LinkTypeEthernet, 65535, linuxConn(100, 30000, 1448)...), ladder.Options{})
	if strings.Contains(plain, "offload") {
		t.Errorf("a note on offload with segments within the MSS:\n%s", plain)
	}
}
