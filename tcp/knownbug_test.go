package tcp

import (
	"flag"
	"testing"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// knownBugs runs the tests of bugs found and not yet fixed; each fails
// until its bug is fixed (go test ./tcp -knownbugs).
var knownBugs = flag.Bool("knownbugs", false, "run the tests of known, unfixed bugs (they fail until fixed)")

func needKnownBugs(t *testing.T, what string) {
	t.Helper()
	if !*knownBugs {
		t.Skip("known bug, not a pass: " + what + " (run with -knownbugs to see it fail)")
	}
}

// RFC 5681 §4.2: "an ACK SHOULD be generated for at least every second
// full-sized segment" (RFC 9293 §3.8.6.3 likewise). Four full-sized
// segments taken in before one Output (a driver that reads a batch of
// packets, or the simulator delivering a flight that arrives at one
// instant) should draw two ACKs, one per two segments. synack sends one
// stretch ACK for all four; with RFC 5681 §3.1's "at most SMSS bytes for
// each ACK" on the sender, slow start then grows cwnd by about one
// segment per round trip instead of doubling it (see the slow-start
// scenario, which needs a bandwidth limit to space the arrivals).
func TestAckEverySecondSegmentBatched(t *testing.T) {
	needKnownBugs(t, "segments taken in between two Outputs share one stretch ACK")
	f := newModern(t, modernCfg(), true)
	for i := range 4 {
		f.send(t, sec(1), seg{Flags: wire.ACK, Seq: uint32(1 + i*mss), Ack: 1, Data: data(byte('a'+i), mss)})
	}
	f.want(t, "an ACK for every second full segment",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 2*mss, Win: (65536 - 4*mss) / 2},
		seg{Flags: wire.ACK, Seq: 1, Ack: 1 + 4*mss, Win: (65536 - 4*mss) / 2})
	f.wantDeadline(t, clock.Never)
}
