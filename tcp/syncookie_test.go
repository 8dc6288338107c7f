package tcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

var cookieTuple = Tuple{Local: netip.MustParseAddrPort("198.18.0.1:80"), Remote: netip.MustParseAddrPort("198.18.0.2:40000")}

// The MSS index is the largest of Linux's table not above the peer's MSS
// (RFC 9293 §3.7.1's 536 without the option).
func TestCookieMSSIndex(t *testing.T) {
	for _, tc := range []struct {
		has  bool
		mss  uint16
		want uint32
	}{{false, 0, 0}, {true, 100, 0}, {true, 536, 0}, {true, 1299, 0}, {true, 1300, 1}, {true, 1440, 2}, {true, 1459, 2}, {true, 1460, 3}, {true, 9000, 3}} {
		if got := cookieMSSIndex(&wire.Options{HasMSS: tc.has, MSS: tc.mss}); got != tc.want {
			t.Errorf("MSS %d (option %v): index %d, want %d", tc.mss, tc.has, got, tc.want)
		}
	}
}

// The cookie SYN-ACK's TSval is never ahead of the connection's timestamp
// clock (RFC 7323 §5.4: timestamps "monotone non-decreasing"), whatever
// the option bits.
func TestCookieTSvalNotAhead(t *testing.T) {
	p := NewPolicy(Config{})
	for ms := 0; ms < 200; ms++ {
		now := clock.Time(time.Duration(ms) * time.Millisecond)
		syn := wire.Segment{Seq: 7000, Flags: wire.SYN, Options: wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 14, SACKPermitted: true, HasTimestamps: true, TSVal: 1}}
		sa := p.CookieSYNACK(ISNKey{}, cookieTuple, &syn, 0, now)
		// The clock of the connection the cookie's ACK makes.
		ack := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: 7001, Ack: sa.Seq.Add(1), Flags: wire.ACK, Window: 1000,
			Options: wire.Options{HasTimestamps: true, TSVal: 2, TSEcr: sa.Options.TSVal}}
		c, err := p.CookieConn(ISNKey{}, cookieTuple, &ack, 0, now)
		if err != nil {
			t.Fatalf("at %d ms: %v", ms, err)
		}
		ts := c.tsNow(now)
		if d := int32(sa.Options.TSVal - ts); d > 0 || d <= -64 {
			t.Fatalf("at %d ms: TSval %d is %d from the clock %d", ms, sa.Options.TSVal, d, ts)
		}
	}
}

// FuzzCookieConn: an arbitrary ACK never makes a connection unless it
// carries a cookie CookieSYNACK made, and never panics.
func FuzzCookieConn(f *testing.F) {
	f.Add(uint32(7001), uint32(12345), uint16(1000), true, uint32(5), uint32(23), uint32(1))
	f.Fuzz(func(t *testing.T, sq, ack uint32, win uint16, ts bool, tsval, tsecr uint32, nowSec uint32) {
		p := NewPolicy(Config{})
		now := clock.Time(time.Duration(nowSec%1000) * time.Second)
		seg := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(sq), Ack: seq.Value(ack), Flags: wire.ACK, Window: win,
			Options: wire.Options{HasTimestamps: ts, TSVal: tsval, TSEcr: tsecr}}
		c, err := p.CookieConn(ISNKey{7}, cookieTuple, &seg, 0, now)
		if err == nil {
			// Only a MAC match can get here: check it is one.
			iss := seg.Ack - 1
			count := cookieCounter(now)
			mac := uint32(iss) >> 2
			if cookieMAC(ISNKey{7}, cookieTuple, seg.Seq-1, count, uint32(iss)&3) != mac &&
				cookieMAC(ISNKey{7}, cookieTuple, seg.Seq-1, count-1, uint32(iss)&3) != mac {
				t.Fatalf("a connection from a cookie that does not validate: %v", c.Info())
			}
		}
		// The round trip: a SYN, its cookie, the ACK.
		syn := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: seq.Value(sq), Flags: wire.SYN, Window: win,
			Options: wire.Options{HasMSS: true, MSS: win, HasWScale: win&1 != 0, WScale: uint8(win % 16), SACKPermitted: win&2 != 0, HasTimestamps: ts, TSVal: tsval}}
		sa := p.CookieSYNACK(ISNKey{7}, cookieTuple, &syn, 0, now)
		back := wire.Segment{SrcPort: 40000, DstPort: 80, Seq: syn.Seq + 1, Ack: sa.Seq + 1, Flags: wire.ACK, Window: win,
			Options: wire.Options{HasTimestamps: ts, TSVal: tsval, TSEcr: sa.Options.TSVal}}
		// Validated in the next counter period (the previous counter); two
		// periods on it must fail.
		next := clock.Time(int64(cookieCounter(now)+1) * int64(CookiePeriod))
		if _, err := p.CookieConn(ISNKey{7}, cookieTuple, &back, 0, next.Add(CookiePeriod)); err == nil {
			t.Fatalf("the cookie of %v validated two periods on", &syn)
		}
		c, err = p.CookieConn(ISNKey{7}, cookieTuple, &back, 0, next)
		if err != nil {
			t.Fatalf("the cookie of %v did not validate in the next period: %v", &syn, err)
		}
		if in := c.Info(); in.State != Established || in.SACK != (ts && syn.Options.SACKPermitted) || in.WScale != (ts && syn.Options.HasWScale) {
			t.Fatalf("connection %+v from SYN %v", in, &syn)
		}
	})
}
