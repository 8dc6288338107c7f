package pktdrill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/wire"
)

// The --kernel path runs scripts against this machine's TCP, as
// packetdrill does. It needs root and /dev/net/tun; without them the test
// says so and skips.
func TestKernel(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("skipped: --kernel cannot run here: %v", err)
	}
	dir := corpusDir()
	if _, err := os.Stat(filepath.Join(dir, "INDEX.tsv")); err != nil {
		t.Skipf("public packetdrill corpus not found at %s (set SYNACK_PACKETDRILL_DIR): %v", dir, err)
	}
	for _, rel := range []string{
		// Scripts whose times leave the kernel's timers room (HZ=250
		// kernels fire a 40 ms delayed ACK up to 8 ms late).
		"handshake/torvalds-linux/tools/testing/selftests/net/packetdrill/tcp_basic_client.pkt",
		"rst/shivansh-TCP-IP-Regression-TestSuite/tcp-fsm/reset/rst-non-synchronized.pkt",
		"interpreter_selftest/google-packetdrill/gtests/net/packetdrill/tests/linux/packetdrill/socket_wrong_err.pkt",
	} {
		// 20 ms: a loaded machine wakes this process late.
		r := RunFile(filepath.Join(dir, rel), Options{Kernel: true, Tolerance: 20 * time.Millisecond})
		if !r.Pass {
			t.Errorf("%s against the kernel: %s", rel, r.Summary())
		}
		if r.Profile != "kernel" {
			t.Errorf("%s: profile %q, want kernel", rel, r.Profile)
		}
	}
	// The kernel sends what the script says; a script that expects
	// something else fails at its line, with what the kernel sent.
	s, err := Parse("wrong.pkt", []byte(`0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 2>
`))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(s, Options{Kernel: true})
	if r.Pass || r.Failure.Line != 6 || !strings.Contains(r.Failure.Msg, "TCP options") || !strings.Contains(r.Failure.Actual, "wscale 8") {
		t.Errorf("a wrong wscale passed or failed otherwise: %s", r.Summary())
	}
}

// RFC 7323 §4.3: "If SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent,
// then SEG.TSval is copied to TS.Recent"; RFC 5961 §5.2: a segment whose
// ACK is above SND.NXT MUST be discarded, and so does not count.
func TestTSRecent(t *testing.T) {
	r := &runner{}
	syn := func(f string) wire.Flags { fl, _ := parseFlags(f); return fl }
	r.takeTSRecent(wire.Segment{Flags: syn("S"), Seq: 0}, 100)
	if !r.haveTSRecent || r.tsRecent != 100 {
		t.Fatalf("SYN: TS.Recent %d", r.tsRecent)
	}
	r.haveISN, r.localISN = true, 5000
	r.noteSent([]outPkt{{seg: wire.Segment{Flags: syn("S."), Seq: 5000, Ack: 1}}})
	cases := []struct {
		name      string
		seg       wire.Segment
		tsval     uint32
		wantTSRec uint32
	}{
		{"in order", wire.Segment{Flags: syn("."), Seq: 1, Ack: 5001}, 200, 200},
		{"PAWS: older TSval", wire.Segment{Flags: syn("."), Seq: 1, Ack: 5001}, 150, 200},
		{"ACK above SND.NXT", wire.Segment{Flags: syn("."), Seq: 1, Ack: 5001 + 1000}, 9999, 200},
		{"beyond Last.ACK.sent", wire.Segment{Flags: syn("."), Seq: 1001, Ack: 5001}, 300, 200},
	}
	for _, c := range cases {
		r.takeTSRecent(c.seg, c.tsval)
		if r.tsRecent != c.wantTSRec {
			t.Errorf("%s: TS.Recent %d, want %d", c.name, r.tsRecent, c.wantTSRec)
		}
	}
}
