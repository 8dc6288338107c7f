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
// after its probe).
//
// What a connection learns is shared with the other connections to its
// destination through the stack's path MTU cache (RFC 4821 §5.2, RFC
// 1191 §6.2; stack/pmtu.go): PathNews hands the stack a
// probe that was acknowledged (the path carries that size) and a black
// hole (full-sized segments vanish: BaseMSS is what is known to work), and
// SetPathMSS starts a new connection from the cache's value, searching
// upward once that value ages out; PathMTUDecreased (icmp.go) lowers an
// open connection when another's message or black hole lowered it.
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
	c.tellPath(PathBlackHole, BaseMSS)
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
	c.tellPath(PathProbed, m.low)
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

// PathNews is what a connection learnt about its path's MTU, for the
// stack's per-destination cache (PathNews).
type PathNews uint8

const (
	// NoPathNews: nothing since the last call.
	NoPathNews PathNews = iota
	// PathProbed: a probe was acknowledged: RFC 4821 §7.6.1, "When the
	// probe is delivered, it is an indication that the Path MTU is at
	// least as large as the probe size." The size is the probe's SendMSS.
	PathProbed
	// PathBlackHole: BlackHoleRTOs timeouts of full-sized segments in a
	// row (RFC 4821 §7.7, RFC 8899 §4.3): SendMSS fell to BaseMSS, the
	// size given.
	PathBlackHole
)

// pathVars are what a connection shares with the stack's path MTU cache.
type pathVars struct {
	// until is when the cached value capMSS came from ages out: the
	// connection searches upward from then on.
	until   clock.Time
	capMSS  int32    // SetPathMSS's, until the handshake applies it
	newsMSS int32    // the SendMSS news is about
	news    PathNews // what PathNews returns next
}

// PathNews returns, once, what the connection learnt about its path's MTU
// since the last call (the later when it learnt twice) and the SendMSS it
// is about; the stack calls it after each call into the connection and
// records it in its per-destination cache. NoPathNews for nearly every
// call: a probe or a black hole is rare.
func (c *Conn) PathNews() (PathNews, int) {
	if c.rare == nil || c.rare.path.news == NoPathNews {
		return NoPathNews, 0
	}
	p := &c.rare.path
	n, m := p.news, p.newsMSS
	p.news, p.newsMSS = NoPathNews, 0
	return n, int(m)
}

// tellPath keeps news for PathNews.
func (c *Conn) tellPath(n PathNews, mss int32) {
	if c.rare == nil {
		c.rare = &connRare{}
	}
	c.rare.path.news, c.rare.path.newsMSS = n, mss
}

// SetPathMSS gives the connection the SendMSS that the stack's cache holds
// for its destination's path MTU (below the link's: from an ICMP message,
// or another connection's probe or black hole) and when that value ages
// out. RFC 9293 §3.7.1's "effective send MSS" is "the smaller ... of the
// send MSS ... and the largest transmission size permitted by the IP
// layer": the handshake's SendMSS is bounded by it, and the MSS option we
// send is not (RFC 1191 §6.4: "PMTU Discovery does not affect the value
// sent in the TCP MSS option, because that value is used by the other end
// of the connection, which may be using an unrelated PMTU value"). A
// connection the cache held below what it could have had searches upward
// (the package comment) from until: RFC 1191 §6.3, "When a PMTU value has
// not been decreased for a while (on the order of 10 minutes), the PMTU
// estimate should be set to the first-hop data-link MTU", which the search
// finds by probing rather than by losing full-sized segments. Called on a
// synchronized connection (one a SYN cookie made), it applies at once.
func (c *Conn) SetPathMSS(now clock.Time, mss int, until clock.Time) {
	if c.rare == nil {
		c.rare = &connRare{}
	}
	c.rare.path.capMSS, c.rare.path.until = int32(min(max(mss, 64), 65535)), until
	if c.state.Synchronized() {
		c.applyPathMSS(now)
	}
}

// applyPathMSS bounds SendMSS, just set by the handshake, by SetPathMSS's.
func (c *Conn) applyPathMSS(now clock.Time) {
	if c.rare == nil || c.rare.path.capMSS == 0 {
		return
	}
	p := &c.rare.path
	mss, until := p.capMSS, p.until
	p.capMSS, p.until = 0, 0
	if mss >= c.sndMSS {
		return
	}
	top := c.sndMSS
	c.sndMSS = mss
	c.startSearch(mss, top, max(until, now))
	if c.tracing() {
		from := "never (the entry does not expire)"
		if until != clock.Never {
			from = "at " + time.Duration(max(until, now)).String()
		}
		c.note(now, "send MSS "+strconv.Itoa(int(top))+" -> "+strconv.Itoa(int(mss))+
			" from the stack's path MTU for the destination; probing upward "+from)
	}
}
