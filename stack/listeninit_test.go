package stack

import (
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// A listener's SetConnInit shapes each connection it makes before the SYN
// is answered, as the socket options of a Linux listening socket are
// inherited by the sockets it accepts: TCP_MAXSEG lowers the MSS the
// SYN-ACK announces (RFC 9293 §3.7.1: the MSS option "MUST NOT" be larger
// than what the receiver can accept, and may be smaller), and TCP_NODELAY
// reaches the accepted connection.
func TestListenerConnInit(t *testing.T) {
	for _, cookies := range []bool{false, true} {
		mode, name := CookiesOff, "SYN queue"
		if cookies {
			mode, name = CookiesAlways, "SYN cookie"
		}
		t.Run(name, func(t *testing.T) {
			s := cookieHost(t, mode, 0)
			l, _ := s.Listen(80, 0)
			calls := 0
			l.SetConnInit(func(c *tcp.Conn) {
				calls++
				c.SetNoDelay(true)
				if err := c.SetMaxSegment(1000); err != nil {
					t.Fatal(err)
				}
			})
			at := clock.Time(time.Second)
			s.Input(at, optPacket(40000, wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460}))
			sa := sent(t, s, at)
			wantMSS := uint16(1000)
			if cookies {
				// A cookie's SYN-ACK is sent with no connection to
				// shape: the stack's MSS. The connection the ACK
				// makes gets the options.
				wantMSS = 1460
			}
			if sa.Flags != wire.SYN|wire.ACK || sa.Ack != 7001 || !sa.Options.HasMSS || sa.Options.MSS != wantMSS {
				t.Fatalf("SYN-ACK %v: want <mss %d> ack 7001", &sa, wantMSS)
			}
			s.Input(at, optPacket(40000, wire.ACK, 7001, sa.Seq.Add(1), wire.Options{}))
			c := l.Accept()
			if c == nil {
				t.Fatalf("no connection; counters %+v", s.Counters())
			}
			if calls != 1 || !c.NoDelay() {
				t.Fatalf("init called %d times, NoDelay %v: want once, true", calls, c.NoDelay())
			}
			if !cookies && c.MaxSegment() != 1000 {
				t.Fatalf("MaxSegment %d, want 1000", c.MaxSegment())
			}
		})
	}
}
