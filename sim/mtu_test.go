package sim

import (
	"strings"
	"testing"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/trace"
)

// RFC 1191 §3 and RFC 8201 §4: a host that learns a smaller path MTU from
// an ICMP message sends smaller packets from then on. In the mtu-drop
// cases the data path's MTU drops mid-transfer (World.At); the router
// answers the first too-big packets, the sender re-cuts its segments, and
// every byte arrives once, in order, without waiting for a timeout.
func TestMTUDropMidTransfer(t *testing.T) {
	for _, name := range []string{"mtu-drop", "mtu-drop-v6"} {
		c, ok := LookupSoakCase(name)
		if !ok {
			t.Fatalf("no soak case %q", name)
		}
		c.Link.Loss = 0 // only the MTU drop: its effect is then exact
		for seed := uint64(1); seed <= 3; seed++ {
			r, err := RunSoak(c, seed)
			if err != nil {
				t.Fatal(err)
			}
			if !r.HashOK || !r.Closed {
				t.Errorf("%s seed %d: %+v", name, seed, r)
			}
			if r.Link.TooBig == 0 || r.Link.ICMPSent != r.Link.TooBig {
				t.Errorf("%s seed %d: the link dropped %d too-big packets and sent %d ICMP errors; want some, one each", name, seed, r.Link.TooBig, r.Link.ICMPSent)
			}
			t.Logf("%s seed %d: too big %d, icmp %d, retransmits %d", name, seed, r.Link.TooBig, r.Link.ICMPSent, r.Retransmits)
			if r.Timeouts != 0 {
				t.Errorf("%s seed %d: %d retransmission timeouts; the ICMP error should make the resend immediate", name, seed, r.Timeouts)
			}
			// Once the sender has the message, nothing more is too big:
			// at most the packets in flight before it arrived.
			if r.Link.TooBig > 64 {
				t.Errorf("%s seed %d: %d packets too big: the sender did not lower its MSS", name, seed, r.Link.TooBig)
			}
		}
	}
}

// The stack records each ICMP error it takes in (trace.ICMPIn) with its
// sender and the quoted sequence number, so that a ladder can draw the
// Packet Too Big arrow: one per too-big packet, from the router, quoting a
// segment the link dropped for its size.
func TestICMPInEvents(t *testing.T) {
	c, _ := LookupSoakCase("mtu-drop-v6")
	c.Link.Loss = 0
	log := &trace.Log{}
	r, err := RunSoakTraced(c, 1, log)
	if err != nil {
		t.Fatal(err)
	}
	tooBig := map[seq.Value]bool{}
	var icmps []*trace.Event
	for i := range log.Events {
		e := &log.Events[i]
		switch {
		case e.Kind == trace.LinkDrop && e.LinkCause == trace.LinkTooBig:
			tooBig[e.Seg.Seq] = true
		case e.Kind == trace.ICMPIn:
			icmps = append(icmps, e)
		}
	}
	if len(icmps) != r.Link.ICMPSent || len(icmps) == 0 {
		t.Fatalf("%d ICMPIn events, the link sent %d ICMP errors", len(icmps), r.Link.ICMPSent)
	}
	for _, e := range icmps {
		if e.Host != "client" || e.ICMPFrom != netsim.DefaultRouter6 || !tooBig[e.Seg.Seq] || !strings.Contains(e.Reason, "mtu=1280") {
			t.Errorf("ICMPIn %s: want the client's, from the router, quoting a too-big segment, mtu=1280", e)
		}
	}
}
