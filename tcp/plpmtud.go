package tcp

import (
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
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
// Then it searches upward as RFC 4821 §7 does, and Linux's tcp_mtu_probe:
// a probe is one segment of new data of a size between search_low (the
// SendMSS that works, BaseMSS after the fallback) and search_high (the
// largest not known to fail, at first the SendMSS the connection had), the
// middle of the two (a binary search). Delivered (acknowledged), it
// raises search_low and SendMSS to its size; lost, it lowers search_high
// below it and its data is re-cut and resent at SendMSS, and the loss is
// not taken as congestion when the probe is all that was lost (RFC 4821
// §7.6.2). The search ends when the two are less than ProbeThreshold
// apart, and starts again from the connection's first SendMSS
// ProbeInterval later (Linux's tcp_probe_interval), so a path that
// recovers is found. A connection whose MSS an ICMP Fragmentation Needed
// or Packet Too Big lowered (icmp.go) searches upward the same way, first
// after ProbeInterval (RFC 1191 §3 and RFC 8201 §4: an increase is looked
// for no sooner than 5 minutes after a Packet Too Big, 10 recommended).
//
// A probe goes only when nothing is deemed lost or in recovery, and when
// the data queued, the peer's window and the congestion window allow the
// probe and dupThresh full segments after it, whose SACKs or duplicate
// ACKs tell of the probe's loss (as Linux wants reordering+1 segments
// after its probe). The path MTU the stack keeps per destination is not
// raised by a probe: it comes from ICMP only.
const (
	// BlackHoleRTOs is how many consecutive retransmission timeouts of a
	// full-sized segment are taken for a black hole (Linux probes once
	// tcp_retries1 = 3 timeouts have passed).
	BlackHoleRTOs = 3
	// BaseMSS is the MSS a black-holed connection falls back to: "a
	// conservative initial MSS" (Linux's tcp_base_mss, 1024; RFC 4821
	// §7.2 suggests 1024 bytes of MTU for the search's start).
	BaseMSS = 1024
	// ProbeInterval is how long after a search ended (or after an ICMP
	// message lowered the MSS) the next one starts (Linux's
	// tcp_probe_interval, 600 s).
	ProbeInterval = 600 * time.Second
	// ProbeThreshold ends the search: search_high - search_low below it
	// (Linux's tcp_probe_threshold, 8 bytes).
	ProbeThreshold = 8
)

// mtuSearch is RFC 4821 §7.2's search state, in SendMSS units (the MTU less
// the IP and TCP headers).
type mtuSearch struct {
	// next is when a search may send its next probe, or when an ended one
	// starts again.
	next clock.Time
	// probeStart and probeEnd delimit the probe in flight, when probeMSS
	// is not 0, or the last probe.
	probeStart, probeEnd seq.Value
	// lostEnd is probeEnd of the last probe lost: its re-cut data, up to
	// here, goes again whatever the window (probeResend).
	lostEnd   seq.Value
	low, high int32 // search_low, search_high
	top       int32 // the SendMSS a search starts from again
	probeMSS  int32 // the probe's size as a SendMSS; 0: no probe in flight
}

// search returns the connection's path MTU search, nil if it has none.
func (c *Conn) search() *mtuSearch {
	if c.rare == nil || c.rare.mtu.top == 0 {
		return nil
	}
	return &c.rare.mtu
}

// startSearch starts (or restarts) a search from SendMSS low up to the
// connection's first SendMSS, top if it has none yet, with the first probe
// at next. A probe in flight is forgotten: it was made for the old range.
func (c *Conn) startSearch(low, top int32, next clock.Time) {
	if c.rare == nil {
		c.rare = &connRare{}
	}
	m := &c.rare.mtu
	if m.top == 0 {
		m.top = top
	}
	m.low, m.high, m.probeMSS, m.next = low, m.top, 0, next
}

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
	c.startSearch(BaseMSS, old, now)
	n := c.recut()
	if c.tracing() {
		c.note(now, "black hole: "+strconv.Itoa(BlackHoleRTOs)+" timeouts of full-sized segments: send MSS "+
			strconv.Itoa(int(old))+" -> "+strconv.Itoa(BaseMSS)+", "+strconv.Itoa(n)+" segments re-cut")
	}
}

// maybeProbe sends a probe if the search wants one and the windows allow
// (the package comment), and reports whether it did. mss is the payload
// of a full segment at SendMSS, room the congestion window's.
func (c *Conn) maybeProbe(now clock.Time, mss, room int, emit func(seg *wire.Segment, retransmit bool)) bool {
	m := c.search()
	if m == nil || m.probeMSS != 0 || now < m.next || c.inRecovery || c.pendingSegs > 0 {
		return false
	}
	if m.high-m.low < ProbeThreshold {
		// The search ended ProbeInterval ago (searchResult): it starts
		// again from the top, unless SendMSS is there already.
		m.high = m.top
		if m.high-m.low < ProbeThreshold {
			m.next = now.Add(ProbeInterval)
			return false
		}
	}
	size := (m.low + m.high + 1) / 2
	payload := int(max(size-c.optLen, 1))
	need := payload + dupThresh*mss
	usable := 0
	if wndRight := c.sndUna.Add(c.sndWnd); wndRight.GreaterThan(c.sndNxt) {
		usable = int(wndRight.Size(c.sndNxt))
	}
	if c.queuedUnsent() < need || usable < need || room < need {
		return false
	}
	start := c.sndNxt
	if !c.sendNew(now, payload, payload, false, emit) {
		return false
	}
	m.probeStart, m.probeEnd, m.probeMSS = start, c.sndNxt, size
	if c.tracing() {
		c.note(now, "path MTU probe: a segment of "+strconv.Itoa(payload)+" bytes (send MSS "+strconv.Itoa(int(size))+
			", searching "+strconv.Itoa(int(m.low))+".."+strconv.Itoa(int(m.high))+")")
	}
	return true
}

// probeAcked ends the probe in flight once SND.UNA covers it: RFC 4821
// §7.6.1, "When the probe is delivered, it is an indication that the Path
// MTU is at least as large as the probe size. Set search_low to the probe
// size." SendMSS rises to it.
func (c *Conn) probeAcked(now clock.Time) {
	m := c.search()
	if m == nil || m.probeMSS == 0 || c.sndUna.LessThan(m.probeEnd) {
		return
	}
	m.low, m.probeMSS = m.probeMSS, 0
	c.searchResult(now)
	if m.low > c.sndMSS {
		old := c.sndMSS
		c.sndMSS = m.low
		if c.tracing() {
			c.note(now, "path MTU probe delivered: send MSS "+strconv.Itoa(int(old))+" -> "+strconv.Itoa(int(m.low)))
		}
	}
}

// probeLost handles a probe deemed lost (by RACK, duplicate ACKs or the
// retransmission timer): RFC 4821 §7.6.2, the path MTU is smaller than the
// probe, so search_high falls below it, and the probe's data is re-cut to
// SendMSS and resent. It reports whether the probe was all that was lost:
// "When only the probe is lost, it is treated as an indication that the
// Path MTU is smaller than the probe size. In this case alone, the loss
// SHOULD NOT be interpreted as congestion signal."
func (c *Conn) probeLost(now clock.Time) bool {
	m := c.search()
	if m == nil || m.probeMSS == 0 {
		return false
	}
	i := c.firstEndingAfter(m.probeStart)
	q := c.txq()
	if i >= len(q) || q[i].start != m.probeStart || !q[i].lost {
		return false
	}
	only := c.pendingSegs == 1 && q[i].pending()
	size := m.probeMSS
	m.high, m.probeMSS, m.lostEnd = min(m.high, size-1), 0, m.probeEnd
	c.searchResult(now)
	n := c.recut()
	if !only {
		// Other segments were lost too: the probe's data is resent with
		// theirs, within the window.
		m.lostEnd = m.probeStart
	} else {
		// No recovery: what an earlier timeout's recovery left here no
		// longer names the retransmissions.
		c.rtoRecovery = false
	}
	if c.tracing() {
		c.note(now, "path MTU probe of send MSS "+strconv.Itoa(int(size))+" lost: searching "+
			strconv.Itoa(int(m.low))+".."+strconv.Itoa(int(m.high))+", "+strconv.Itoa(n)+" segments re-cut")
	}
	return only
}

// searchResult follows a probe's result: the next probe may go at once,
// or, once the search has ended, ProbeInterval later.
func (c *Conn) searchResult(now clock.Time) {
	m := &c.rare.mtu
	if m.high-m.low < ProbeThreshold {
		m.next = now.Add(ProbeInterval)
		if c.tracing() {
			c.note(now, "path MTU search ended at send MSS "+strconv.Itoa(int(m.low))+"; the next in "+ProbeInterval.String())
		}
	}
}

// probeResend reports whether t, deemed lost, is a piece of a lost probe's
// re-cut data not yet resent, which goes whatever the congestion window
// says: the probe was in the network until it was deemed lost, and its
// pieces replace it, as recut's do (icmp.go). Without SACK nothing else
// would make room for them: the peer holds the segments after the probe
// and can only repeat its ACK.
func (c *Conn) probeResend(t *txSeg) bool {
	m := c.search()
	return m != nil && t.xmits == 1 && t.start.GreaterThanEq(m.probeStart) && t.end.LessThanEq(m.lostEnd) &&
		c.sndUna.LessThan(m.lostEnd)
}
