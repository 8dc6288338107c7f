package tcp

import (
	"strconv"

	"github.com/gosynack/synack/clock"
)

// Black-hole detection (RFC 4821 §7.7 and §10.4 "Full-size segment
// loss", RFC 8899 §4.3): a path whose router drops packets too big for it
// without sending Fragmentation Needed or Packet Too Big (or whose ICMP is
// filtered) loses every full-sized segment, and path MTU discovery from
// ICMP (icmp.go) never learns why. synack does what Linux does with
// net.ipv4.tcp_mtu_probing=1 (its "enable when an ICMP black hole is
// detected" mode): after BlackHoleRTOs consecutive retransmission
// timeouts of a full-sized segment it lowers SendMSS to BaseMSS
// (Linux's tcp_base_mss), re-cuts what is in flight and carries on.
//
// It is on for every connection (Linux's default, tcp_mtu_probing=0, never
// falls back, and a black-holed connection then times out): it only acts
// after repeated timeouts of segments larger than BaseMSS, which a path
// that delivers them never has, and it costs one smaller MSS for the rest
// of the connection on a path that was lossy rather than black-holed.
//
// Not done: probing upward from BaseMSS with probe segments (RFC 4821 §7.3,
// Linux's tcp_mtu_probe), so a black-holed connection stays at BaseMSS.
const (
	// BlackHoleRTOs is how many consecutive retransmission timeouts of a
	// full-sized segment are taken for a black hole (Linux probes once
	// tcp_retries1 = 3 timeouts have passed).
	BlackHoleRTOs = 3
	// BaseMSS is the MSS a black-holed connection falls back to: "a
	// conservative initial MSS" (Linux's tcp_base_mss, 1024; RFC 4821
	// §7.2 suggests 1024 bytes of MTU for the search's start).
	BaseMSS = 1024
)

// blackHole runs on each retransmission timeout of a synchronized
// connection, before the timeout's loss recovery: on the BlackHoleRTOs-th
// consecutive one, if the earliest unacknowledged segment is full-sized
// and larger than BaseMSS, SendMSS falls to BaseMSS and what is in flight
// is re-cut to it.
func (c *Conn) blackHole(now clock.Time) {
	if c.retries != BlackHoleRTOs || int(c.sndMSS) <= BaseMSS {
		return
	}
	q := c.txq()
	if len(q) == 0 || c.dataLen(&q[0]) < c.effMSS() {
		return
	}
	old := c.sndMSS
	c.sndMSS = BaseMSS
	n := c.recut()
	if c.tracing() {
		c.note(now, "black hole: "+strconv.Itoa(BlackHoleRTOs)+" timeouts of full-sized segments: send MSS "+
			strconv.Itoa(int(old))+" -> "+strconv.Itoa(BaseMSS)+", "+strconv.Itoa(n)+" segments re-cut")
	}
}
