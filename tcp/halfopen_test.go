package tcp

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// TestHalfOpenSize bounds a SYN-queue entry's TCB part (issue 15: a
// half-open connection is not a whole TCB; Linux's request sock is
// 300–400 bytes).
func TestHalfOpenSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("the bound is for 64-bit platforms")
	}
	if n := unsafe.Sizeof(HalfOpen{}); n > 88 {
		t.Errorf("unsafe.Sizeof(HalfOpen{}) = %d, above 88", n)
	}
}

// TestHalfOpenRoundTrip drives passive connections in SYN-RECEIVED
// through their SYN-ACK's retransmissions, duplicate SYNs and random
// segments from the peer, and after each Output keeps the connection as a
// HalfOpen when Freeze allows it: the Conn Thaw makes is the one frozen,
// field for field, and the test goes on with it. Freeze must allow it
// whenever only the SYN, its retransmissions and the SYN-ACK's timer have
// touched the connection.
func TestHalfOpenRoundTrip(t *testing.T) {
	configs := map[string]func(*Config){
		"default": func(*Config) {},
		"no-ts":   func(c *Config) { c.NoTimestamps = true },
		"no-ws":   func(c *Config) { c.NoWindowScale = true },
		"no-sack": func(c *Config) { c.NoSACK = true },
		"small":   func(c *Config) { c.RecvBuffer, c.RecvBufferMax, c.MSS = 4000, 4000, 536 },
	}
	syns := map[string]wire.Options{
		"bare":   {},
		"mss":    {HasMSS: true, MSS: 1460},
		"all":    {HasMSS: true, MSS: 1400, HasWScale: true, WScale: 7, SACKPermitted: true, HasTimestamps: true, TSVal: 12345},
		"ws15":   {HasMSS: true, MSS: 9000, HasWScale: true, WScale: 15, HasTimestamps: true, TSVal: 1 << 31},
		"ts":     {HasTimestamps: true, TSVal: 7},
		"mss1":   {HasMSS: true, MSS: 1, SACKPermitted: true},
		"wsonly": {HasWScale: true, WScale: 0},
	}
	tuples := map[string]Tuple{
		"ipv4": {Local: serverAddr, Remote: clientAddr},
		"ipv6": {Local: netip.MustParseAddrPort("[2001:2::2]:80"), Remote: netip.MustParseAddrPort("[2001:2::1]:40000")},
	}
	frozen := 0
	for cn, cf := range configs {
		for sn, so := range syns {
			for tn, tu := range tuples {
				for seed := range uint64(8) {
					t.Run(fmt.Sprintf("%s/%s/%s/%d", cn, sn, tn, seed), func(t *testing.T) {
						frozen += halfOpenWalk(t, cf, so, tu, seed)
					})
				}
			}
		}
	}
	if frozen == 0 {
		t.Fatal("nothing was frozen")
	}
}

// halfOpenWalk is one walk of TestHalfOpenRoundTrip; it returns how many
// times the connection was frozen.
func halfOpenWalk(t *testing.T, cf func(*Config), so wire.Options, tu Tuple, seed uint64) int {
	rng := rand.New(rand.NewPCG(seed, 15))
	cfg := Config{}
	cf(&cfg)
	p := NewPolicy(cfg)
	iss, irs := seq.Value(rng.Uint32()), seq.Value(rng.Uint32())
	c := p.NewPassive(tu, iss)
	c.SetTSOffset(rng.Uint32())
	c.SetMSSCap(1400 + int(rng.IntN(100)))
	now := clock.Time(rng.Int64N(int64(time.Hour)))
	syn := wire.Segment{SrcPort: tu.Remote.Port(), DstPort: tu.Local.Port(), Seq: irs, Flags: wire.SYN, Window: uint16(rng.Uint32()), Options: so}
	c.Input(now, &syn)
	var sent []string
	emit := func(s *wire.Segment, _ bool) { sent = append(sent, s.String()) }
	frozen := 0
	// plain: nothing but the SYN, its copies and the timer has come.
	plain := true
	for step := 0; step < 40 && !c.Done(); step++ {
		now = now.Add(time.Duration(rng.Int64N(int64(50 * time.Millisecond))))
		c.Output(now, emit)
		h, ok := c.Freeze()
		if plain && !ok {
			t.Fatalf("step %d: Freeze refused a connection that only got its SYN (%d SYN-ACKs sent)", step, c.synSends)
		}
		if ok {
			frozen++
			var into *Conn
			if step%2 == 1 {
				into = &Conn{state: Closed, tsOff: 77, rare: &connRare{}} // a used one
			}
			c2 := p.Thaw(&h, into)
			if !reflect.DeepEqual(c, c2) {
				t.Fatalf("step %d: Thaw(Freeze(c)) differs from c:\n got %+v\nwant %+v", step, *c2, *c)
			}
			if c2.NextDeadline() != h.NextDeadline() || c2.Tuple() != h.Tuple() || c2.Key() != h.Key() {
				t.Fatalf("step %d: HalfOpen's deadline, tuple or key differ from the Conn's", step)
			}
			c = c2
		}
		switch k := rng.IntN(10); {
		case k < 4:
			// The SYN-ACK's timer.
			if d := c.NextDeadline(); d != clock.Never {
				now = max(now, d)
				c.HandleTimeout(now)
			}
		case k < 7:
			dup := syn
			c.Input(now, &dup)
		default:
			// Anything else from the peer, near the right numbers or not.
			s := wire.Segment{SrcPort: syn.SrcPort, DstPort: syn.DstPort, Seq: irs.Add(seq.Size(rng.IntN(3))),
				Ack: iss.Add(seq.Size(rng.IntN(3))), Flags: wire.Flags(rng.IntN(64)), Window: 1000}
			if rng.IntN(2) == 0 {
				s.Seq = seq.Value(rng.Uint32())
			}
			if so.HasTimestamps && rng.IntN(3) > 0 {
				s.Options.HasTimestamps, s.Options.TSVal = true, so.TSVal+uint32(rng.IntN(3))-1
			}
			if rng.IntN(3) == 0 {
				s.Payload = []byte("x")
			}
			c.Input(now, &s)
			plain = false
		}
	}
	return frozen
}
