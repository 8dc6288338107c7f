package sim

import "testing"

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
