package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
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

// RFC 4821 §7 (tcp/plpmtud.go): after the black-hole fallback to
// tcp.BaseMSS, probes search between it and the first SendMSS of 1460,
// and the soak case blackhole-1400, whose hop carries 1400-byte packets
// (a SendMSS of 1360 over IPv4), ends with the sender's SendMSS above 1024
// and at most 1360: where the binary search stopped, 1357 (less than
// tcp.ProbeThreshold below 1360), or lower when the path's random loss
// took a probe that fitted (the sender cannot tell that from a probe too
// big, RFC 4821 §7.6.2; the search starts again tcp.ProbeInterval later):
// seed 3 ends at 1235.
func TestBlackHoleProbesUp(t *testing.T) {
	c, ok := LookupSoakCase("blackhole-1400")
	if !ok {
		t.Fatal("no soak case blackhole-1400")
	}
	for seed := uint64(1); seed <= 4; seed++ {
		r, err := RunSoak(c, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Fatalf("seed %d: %s", seed, strings.Join(r.Problems(), "; "))
		}
		if r.Link.TooBig == 0 || r.Link.ICMPSent != 0 || r.Timeouts < tcp.BlackHoleRTOs {
			t.Fatalf("seed %d: %d too-big packets, %d ICMP errors, %d timeouts: the black hole was not tested", seed, r.Link.TooBig, r.Link.ICMPSent, r.Timeouts)
		}
		if r.MSS <= tcp.BaseMSS || r.MSS > 1360 {
			t.Errorf("seed %d: send MSS %d at the end, want above %d (probing found more) and at most 1360 (the hop's 1400 less 40)", seed, r.MSS, tcp.BaseMSS)
		}
		t.Logf("seed %d: send MSS %d at the end; %d too-big packets dropped silently, %d timeouts, %d retransmits, data in after %v",
			seed, r.MSS, r.Link.TooBig, r.Timeouts, r.Retransmits, r.DataTime)
	}
}
