package sim

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gosynack/synack/stack"
)

// The checker of the soak's datagrams passes exactly the datagrams sent and
// fails a damaged one: a flipped bit, a truncation, two merged, an unknown
// number, and one whose bytes and SHA-256 agree but differ from what was
// sent under its number.
func TestCheckSoakDatagram(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sent := [][]byte{soakDatagram(0, 1472, rng), soakDatagram(1, udpMinLen, rng), soakDatagram(2, 300, rng)}
	for i, p := range sent {
		if got, bad := checkSoakDatagram(append([]byte(nil), p...), sent); got != i || bad != "" {
			t.Errorf("datagram %d as sent: checkSoakDatagram = %d, %q; want %d, \"\"", i, got, bad, i)
		}
	}
	flipped := append([]byte(nil), sent[2]...)
	flipped[100] ^= 0x10
	other := soakDatagram(2, 300, rand.New(rand.NewPCG(9, 9))) // number 2, other bytes, its own hash
	unknown := soakDatagram(7, 100, rng)
	damaged := []struct {
		name string
		p    []byte
		want string
	}{
		{"a flipped bit", flipped, "SHA-256 does not match"},
		{"truncated", sent[0][:1000], "SHA-256 does not match"},
		{"too short for a number and a hash", sent[1][:udpMinLen-1], "shorter than any sent"},
		{"empty", nil, "shorter than any sent"},
		{"two merged", append(append([]byte(nil), sent[1]...), sent[2]...), "SHA-256 does not match"},
		{"an unknown number", unknown, "only 3 were sent"},
		{"not the bytes sent", other, "datagram 2 delivered with 300 bytes not as sent"},
	}
	for _, d := range damaged {
		if got, bad := checkSoakDatagram(d.p, sent); got != -1 || !strings.Contains(bad, d.want) {
			t.Errorf("%s: checkSoakDatagram = %d, %q; want -1 and a reason containing %q", d.name, got, bad, d.want)
		}
	}
}

// A damaged datagram fails the run it is read in: the result is not OK and
// its problems say what was delivered.
func TestSoakUDPDamageFailsRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	u := &udpSoak{sent: [][]byte{soakDatagram(0, 200, rng), soakDatagram(1, 200, rng)}, copies: make([]int, 2), highest: -1}
	u.res.Sent = 2
	u.read(u.sent[1])
	u.read(u.sent[0])
	u.read(u.sent[0])
	bad := append([]byte(nil), u.sent[1]...)
	bad[50] ^= 1
	u.read(bad)
	r := SoakResult{HashOK: true, Closed: true, UDP: u.result(stack.UDPCounters{InCsumErrors: 7})}
	want := SoakUDP{Sent: 2, Delivered: 2, Duplicated: 1, Reordered: 1, Lost: 0, CsumDrops: 7}
	got := r.UDP
	if len(got.Bad) != 1 {
		t.Errorf("%d datagrams found bad, want 1: %q", len(got.Bad), got.Bad)
	}
	got.Bad = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UDP half %+v, want %+v", got, want)
	}
	if r.OK() {
		t.Fatal("a run that delivered a corrupted datagram is OK")
	}
	if p := strings.Join(r.Problems(), "; "); !strings.Contains(p, "udp: a 200-byte datagram numbered 1 whose SHA-256 does not match") {
		t.Errorf("problems %q do not name the corrupted datagram", p)
	}
	r.UDP.Bad = nil
	if !r.OK() {
		t.Errorf("the same run without the damaged datagram fails: %v", r.Problems())
	}
}

// The udp cases carry datagrams through every impairment they have and
// none arrives damaged; losses, duplicates and reordering happen, and the
// server's UDP drops the corrupted ones for their checksum (seed 1 of
// each case shows every one of these at least once, so the counters are
// seen to count), the same way every time.
func TestSoakUDPCases(t *testing.T) {
	for _, name := range []string{"udp-storm", "udp-storm-v6", "udp-corrupt"} {
		c, ok := LookupSoakCase(name)
		if !ok {
			t.Fatalf("no case %s", name)
		}
		r, err := RunSoak(c, 1)
		if err != nil {
			t.Fatal(err)
		}
		u := r.UDP
		if !r.OK() || u.Sent != c.Datagrams || u.Delivered+u.Lost != u.Sent {
			t.Fatalf("%s seed 1: %v\n%s", name, r.Problems(), r.String())
		}
		if u.Lost == 0 || u.Duplicated == 0 || u.Reordered == 0 || u.CsumDrops == 0 {
			t.Errorf("%s seed 1: want some loss, duplicates, reordering and checksum drops:\n%s", name, r.String())
		}
		if again, _ := RunSoak(c, 1); again.String() != r.String() {
			t.Errorf("%s seed 1: two runs differ:\n%s\n%s", name, r.String(), again.String())
		}
	}
}
