package mem

import (
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// packet builds a TCP/IPv4 packet from src to dst with sequence number n.
func packet(src, dst string, n uint32) []byte {
	p := wire.Packet{
		IP:  wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: addrOf(src), Dst: addrOf(dst)},
		TCP: wire.Segment{SrcPort: 1, DstPort: 2, Seq: seq.Value(n), Flags: wire.ACK, Window: 1000},
	}
	return p.Append(nil)
}

func addrOf(name string) netip.Addr {
	return map[string]netip.Addr{"c": ClientAddr, "s": ServerAddr}[name]
}

// seqOf reads the TCP sequence number of a packet with a 20-byte IPv4 header.
func seqOf(b []byte) uint32 {
	return uint32(b[24])<<24 | uint32(b[25])<<16 | uint32(b[26])<<8 | uint32(b[27])
}

func TestDeliveryAndLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, c, s, err := Pair(1, netsim.Impairment{Latency: 30 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer n.Close()
		start := time.Now()
		pkt := packet("c", "s", 7)
		if err := c.Send(pkt); err != nil {
			t.Fatal(err)
		}
		pkt[27] = 99 // Send copied it
		buf := make([]byte, c.MTU())
		k, err := s.Receive(buf)
		if err != nil || seqOf(buf[:k]) != 7 {
			t.Fatalf("received %d bytes seq %d, %v", k, seqOf(buf[:k]), err)
		}
		if d := time.Since(start); d != 30*time.Millisecond {
			t.Errorf("delivered after %v, want 30ms", d)
		}
		if st := n.Stats("client", "server"); st.Sent != 1 || st.Delivered != 1 {
			t.Errorf("stats %v", st)
		}
	})
}

func TestLossIsSeeded(t *testing.T) {
	got := func() []uint32 {
		var out []uint32
		synctest.Test(t, func(t *testing.T) {
			n, c, s, _ := Pair(42, netsim.Impairment{Loss: 0.5})
			defer n.Close()
			for i := range uint32(20) {
				c.Send(packet("c", "s", i))
			}
			time.Sleep(time.Second)
			synctest.Wait()
			buf := make([]byte, 1500)
			for len(s.ch) > 0 {
				k, _ := s.Receive(buf)
				out = append(out, seqOf(buf[:k]))
			}
		})
		return out
	}
	a, b := got(), got()
	if len(a) == 0 || len(a) == 20 || len(a) != len(b) {
		t.Fatalf("runs delivered %v and %v", a, b)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different fates: %v vs %v", a, b)
		}
	}
}

func TestCloseUnblocksReceive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, c, _, _ := Pair(1, netsim.Impairment{})
		done := make(chan error)
		go func() {
			_, err := c.Receive(make([]byte, 1500))
			done <- err
		}()
		synctest.Wait()
		n.Close()
		if err := <-done; !errors.Is(err, link.ErrClosed) {
			t.Errorf("Receive after Close: %v", err)
		}
		if err := c.Send(packet("c", "s", 1)); !errors.Is(err, link.ErrClosed) {
			t.Errorf("Send after Close: %v", err)
		}
		if _, err := n.Attach("x", addrOf2()); err == nil {
			t.Error("Attach after Close succeeded")
		}
	})
}

func TestAttachErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, _, _, _ := Pair(1, netsim.Impairment{})
		defer n.Close()
		if _, err := n.Attach("client", addrOf2()); err == nil {
			t.Error("a second host named client was attached")
		}
		if _, err := n.Port("nobody"); err == nil {
			t.Error("Port found a host that does not exist")
		}
		if err := n.SetPath("client", "server", netsim.Impairment{Loss: 3}); err == nil {
			t.Error("a loss of 300% was accepted")
		}
	})
}

func addrOf2() netip.Addr { return netip.MustParseAddr("198.18.0.9") }

// A perfect path takes the fast path: packets arrive in order, are counted
// in the path's Stats, and can be taken without blocking; a rule sends the
// path back through link/netsim.
func TestFastPath(t *testing.T) {
	n, c, s, err := Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	buf := make([]byte, 100)
	if _, ok := s.TryReceive(buf); ok {
		t.Fatal("TryReceive on an empty queue returned a packet")
	}
	for i := uint32(1); i <= 3; i++ {
		if err := c.Send(packet("c", "s", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := uint32(1); i <= 3; i++ {
		k, ok := s.TryReceive(buf)
		if !ok || seqOf(buf[:k]) != i {
			t.Fatalf("packet %d: ok %v seq %d", i, ok, seqOf(buf[:k]))
		}
	}
	if st := n.Stats("client", "server"); st.Sent != 3 || st.Delivered != 3 {
		t.Fatalf("stats %v, want 3 sent and delivered", st)
	}
	if err := n.AddRule("client", "server", netsim.Rule{Nth: 1, Action: netsim.Drop}); err != nil {
		t.Fatal(err)
	}
	c.Send(packet("c", "s", 4))
	if _, ok := s.TryReceive(buf); ok {
		t.Fatal("a packet a rule drops was delivered")
	}
	if st := n.Stats("client", "server"); st.Sent != 4 || st.RuleDrops != 1 {
		t.Fatalf("stats %v, want 4 sent and 1 dropped by the rule", st)
	}
}

func TestSetMTU(t *testing.T) {
	n, c, _, err := Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := c.SetMTU(65535); err != nil || c.MTU() != 65535 {
		t.Fatalf("SetMTU(65535): %v, MTU %d", err, c.MTU())
	}
	if err := c.SetMTU(67); err == nil {
		t.Fatal("SetMTU(67) succeeded")
	}
}
