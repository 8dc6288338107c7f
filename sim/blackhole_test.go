package sim

import (
	"testing"
	"time"

	"github.com/gosynack/synack/link/netsim"
)

// RFC 4821 §7.7 / Linux's tcp_mtu_probing=1: over a path whose 1280-byte
// hop drops bigger packets without an ICMP error (a black hole), the
// sender's full-sized segments time out; after tcp.BlackHoleRTOs timeouts
// it falls back to tcp.BaseMSS and the transfer completes, every byte once
// and in order. Without the fallback the connection times out.
func TestBlackHoleCompletes(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		c := SoakCase{Name: "blackhole", About: "a 1280-byte hop that drops bigger packets silently",
			Link: netsim.Impairment{Latency: 10 * time.Millisecond, MTU: 1280, ICMPBlackhole: true},
			IPv6: v6, Size: 300 << 10, Budget: 10 * time.Minute}
		r, err := RunSoak(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !r.HashOK || r.Received != c.Size {
			t.Fatalf("IPv6 %v: received %d of %d bytes (hash ok %v), errors %v, stalled %v, over budget %v",
				v6, r.Received, c.Size, r.HashOK, r.Errors, r.Stalled, r.OverBudget)
		}
		if r.Link.TooBig == 0 || r.Link.ICMPSent != 0 {
			t.Fatalf("IPv6 %v: %d too-big packets, %d ICMP errors; want some silently dropped", v6, r.Link.TooBig, r.Link.ICMPSent)
		}
		if r.Timeouts < 3 {
			t.Fatalf("IPv6 %v: %d timeouts: the black hole was found some other way", v6, r.Timeouts)
		}
		t.Logf("IPv6 %v: %d bytes in %v of virtual time (data), %d too-big packets dropped silently, %d timeouts, %d retransmits",
			v6, r.Received, r.DataTime, r.Link.TooBig, r.Timeouts, r.Retransmits)
	}
}
