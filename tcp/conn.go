package tcp

import (
	"errors"
	"strconv"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp/cc"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Errors a connection ends with, or user calls return. The Go API (package
// synack) reports them as a kernel socket would: the matching syscall error
// (ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...) in a *net.OpError.
var (
	// ErrConnRefused: an active open was answered with a RST. RFC 9293
	// §3.10.7.3 has the user told "error: connection reset" when the RST
	// arrives in SYN-SENT, and §3.10.7.4 "connection refused" when it
	// arrives in SYN-RECEIVED reached from SYN-SENT; either way the peer
	// refused the connection, and the words are those of the socket API's
	// ECONNREFUSED, which the Go API maps this error onto.
	ErrConnRefused = errors.New("connection refused")
	// ErrConnReset: the peer reset the connection in ESTABLISHED,
	// FIN-WAIT-1, FIN-WAIT-2 or CLOSE-WAIT (RFC 9293 §3.10.7.4: "Users
	// should also receive an unsolicited general "connection reset"
	// signal"). A RST in CLOSING, LAST-ACK or TIME-WAIT ends the
	// connection without an error.
	ErrConnReset = errors.New("connection reset by peer")
	// ErrTimeout: a SYN (or the SYN-ACK of a simultaneous open), data or a
	// FIN went unacknowledged through every retransmission, the user
	// timeout expired (Config.UserTimeout), or keepalive probes went
	// unanswered (Config.KeepAliveCount). A passive connection whose
	// SYN-ACK is never acknowledged is freed without one (Done).
	ErrTimeout = errors.New("connection timed out")
	// ErrAborted: the local user aborted the connection.
	ErrAborted = errors.New("connection aborted")
	// ErrClosing: a SEND or CLOSE after CLOSE (RFC 9293 §3.10.2 and
	// §3.10.4: "error: connection closing").
	ErrClosing = errors.New("connection closing")
	// ErrClosed: the connection does not exist any more (RFC 9293
	// §3.10.2, §3.10.4: "error: connection does not exist").
	ErrClosed = errors.New("connection does not exist")
	// ErrNotConnected: a SEND on a connection in LISTEN, which has no peer
	// to send to (RFC 9293 §3.10.2 turns it into an active open when the
	// remote socket is given; a Conn in LISTEN exists only for one SYN).
	ErrNotConnected = errors.New("connection not established")
)

// Stats are a connection's own counters.
type Stats struct {
	SegsIn, SegsOut      uint64
	BytesIn, BytesOut    uint64 // payload bytes, first transmissions only for out
	Retransmits          uint64 // segments sent again
	ChallengeACKs        uint64 // RFC 5961 challenge ACKs sent
	ChallengeACKsLimited uint64 // challenge ACKs suppressed by the rate limit
	Dropped              uint64 // segments discarded as unacceptable
	PAWSDrops            uint64 // segments dropped by PAWS (RFC 7323 §5)
	OutOfOrderIn         uint64 // data segments that arrived beyond RCV.NXT
	OutOfOrderPruned     uint64 // ranges held out of order let go (PruneOutOfOrder, or to make room)
	DupBytesIn           uint64 // payload bytes that had already arrived (spurious retransmissions, duplicates)
	DSACKsIn             uint64 // D-SACK blocks received (RFC 2883)
	FastRecoveries       uint64 // recovery episodes started by SACK/RACK or three duplicate ACKs
	Timeouts             uint64 // RTO expirations with data outstanding
	TLPs                 uint64 // tail loss probes sent (RFC 8985 §7)
	Undos                uint64 // window reductions undone as spurious
	NagleDelays          uint64 // times Nagle's algorithm held back a short segment
	DelayedACKs          uint64 // ACKs sent by the delayed-ACK timer
	KeepAlives           uint64 // keepalive probes sent
}

// Conn is one connection: the transmission control block of RFC 9293 §3.3.1
// and the state machine around it. Its methods are called by one driver;
// Input, user calls and HandleTimeout change state, Output emits what is due,
// NextDeadline says when to call HandleTimeout.
type Conn struct {
	// The TCB's variables are grouped by concern in the structs embedded
	// below: each group's doc names the RFC sections that define its
	// variables, and each field's comment the RFC's name for it. Embedded,
	// a group's fields are the Conn's own, so that c.sndUna is SND.UNA
	// wherever it is used. The TCB is most of what an idle connection
	// costs (TestConnSize bounds it): each group orders its fields by size,
	// and Conn orders the groups by alignment, so that padding is only
	// what a group's booleans leave at its end.

	// Policy and identity. pol is usually shared with every connection of
	// the driver; a socket option that changes it gives the connection its
	// own copy (ownPolicy).
	pol *Policy
	// rare holds what few connections need (connRare), nil until one
	// does.
	rare  *connRare
	cc    cc.Controller
	stats Stats

	sendVars
	recvVars
	rttVars
	rackVars
	retransQueue
	timers
	optionVars
	tlpVars
	recoveryVars
	probeVars

	// The handshake (RFC 9293 §3.5) and the retransmission count (§3.8.3).
	synSends int16  // SYNs (or SYN-ACKs) sent in the current state
	retries  int16  // consecutive RTO expirations, against the limits of §3.8.3 (R2)
	tsOff    uint32 // Snd.TSoffset (RFC 7323 §5.4): tsNow, TSOffset

	// The pending RST's fields (it has no options or data).
	rstSeq, rstAck seq.Value

	// Addresses, compact (see connRare.tuple6).
	laddr, raddr [4]byte
	lport, rport uint16

	state     State
	errCode   uint8 // why the connection ended: an index into connErrors
	rstFlags  wire.Flags
	ownPolicy bool
	rcvShut   bool // the user will read no more (CloseRead)
	passive   bool // opened from LISTEN (RFC 9293: "initiated with a passive OPEN")
	done      bool // the TCB may be deleted
	synSent   bool // our SYN (or SYN-ACK) is out in the current state
	// The log2 of the size of the receive and send rings when they were
	// last given back empty (0: never): a ring taken again for a burst is
	// taken at that size, not grown to it by doubling (buffers.go).
	rcvLast, sndLast uint8
}

// sendVars are the send sequence variables of RFC 9293 §3.3.1 and the send
// buffer they number: the bytes from SND.UNA on that the user wrote, then
// the FIN of the user's CLOSE.
type sendVars struct {
	snd        sendBuffer // written, not yet acknowledged (a ring: buffers.go)
	lastSendAt clock.Time // when data was last sent (RFC 5681 §4.1: restart after idle)
	iss        seq.Value  // ISS
	sndUna     seq.Value  // SND.UNA
	sndNxt     seq.Value  // SND.NXT
	sndWnd     seq.Size   // SND.WND
	sndWL1     seq.Value  // SND.WL1
	sndWL2     seq.Value  // SND.WL2
	maxSndWnd  seq.Size   // MAX.SND.WND (RFC 5961 §5.2)
	sndBufSeq  seq.Value  // sequence number of snd[0]
	finSeq     seq.Value  // the FIN's sequence number, when finQueued
	// smallEnd is where the last short segment ends, when smallEndSet:
	// Nagle's algorithm (RFC 9293 §3.7.4) in Minshall's form.
	smallEnd     seq.Value
	sndBuf       int32 // the send buffer's size (SO_SNDBUF; autotuning may exceed it)
	finQueued    bool  // the user called CLOSE
	smallEndSet  bool
	sndBufLocked bool // SetSendBuffer: no send-buffer autotuning
	noDelay      bool // Nagle's algorithm is off
}

// recvVars are the receive sequence variables of RFC 9293 §3.3.1, the
// receive buffer (RCV.BUFF, §3.8.6.2.2) and its autotuning, the data held
// out of order for reassembly (§3.10.7.4, reasm.go), and the ACKs owed for
// what arrived: delayed and immediate ACKs (§3.8.6.3, RFC 5681 §4.2),
// D-SACKs (RFC 2883) and challenge ACKs (RFC 5961 §7).
type recvVars struct {
	// rcv is the data received and not yet read (a ring: buffers.go); data
	// held out of order lies in the ring after it, at its offset from
	// RCV.NXT (reasm.go).
	rcv        recvBuffer
	ooo        *oooQueue  // out-of-order ranges held (reasm.go, ooo.go)
	lastRecvAt clock.Time // when an acceptable segment last arrived (keepalive idles from it)
	rcvSpaceAt clock.Time // autotuning: start of the current measurement
	irs        seq.Value  // IRS
	rcvNxt     seq.Value  // RCV.NXT
	// rcvAdvRight is RCV.NXT + RCV.WND as last advertised: the right edge
	// of the window we offered.
	rcvAdvRight seq.Value
	oooFinSeq   seq.Value      // a FIN arrived out of order here, when oooFin
	rcvSpaceSeq seq.Value      // RCV.NXT at rcvSpaceAt
	dsack       wire.SACKBlock // the duplicate to report, when dsackPending
	rcvBuf      int32          // RCV.BUFF: the receive buffer's size (SO_RCVBUF, autotuning)
	rcvBufMax   int32          // how far autotuning may grow rcvBuf
	oooBytes    int32          // bytes held out of order
	rcvMSS      int32          // largest segment received: the peer's MSS as we see it
	rcvUnacked  int32          // bytes received since the last ACK we sent (delayed ACK)
	quickAcks   int32          // segments still to acknowledge at once
	quickOff    bool           // SetQuickACK(false): quickAcks paused
	oooAcks     int32          // duplicate ACKs owed, one per out-of-order segment
	chalCount   int32          // challenge ACKs sent in the period (RFC 5961 §7)
	// chalStart is when the challenge-ACK period began, and oowAt when the
	// last ACK to an unacceptable segment without data went (0: none),
	// both in milliseconds of the driver's clock modulo 2^32 (msStamp), as
	// Linux keeps them in jiffies: a TCB holds no 8-byte time for them.
	chalStart    uint32
	oowAt        uint32
	finRcvd      bool // the peer's FIN has been taken in order
	oooFin       bool
	ackNow       bool // an ACK is owed and goes at the next Output
	dsackPending bool
}

// rttVars are the RTT estimator of RFC 6298 §2, and the timing of one
// segment at a time that feeds it (§3, Karn's rule), with RACK.min_RTT (RFC
// 8985 §5.3), which autotuning and the congestion controller use too.
type rttVars struct {
	srtt             time.Duration // SRTT
	rttvar           time.Duration // RTTVAR
	rto              time.Duration // RTO
	minRTT           time.Duration // RACK.min_RTT
	rttStart         clock.Time    // when the timed segment (or SYN) was sent, when rttTiming
	rttSeq           seq.Value     // its acknowledgment ends the timing
	hasRTT           bool          // SRTT and RTTVAR hold a sample (2.2)
	rttTiming        bool
	synRetransmitted bool // the SYN timed out: RTO falls back to 3 s (5.7)
}

// rackVars are RACK's per-connection variables (RFC 8985 §5.3, §6).
type rackVars struct {
	rackXmit       clock.Time    // RACK.xmit_ts (-1: no segment delivered yet)
	rackRTT        time.Duration // RACK.rtt
	rackEnd        seq.Value     // RACK.end_seq
	rackFack       seq.Value     // RACK.fack
	dsackRound     seq.Value     // RACK.dsack_round, when dsackRoundSet
	reoWndMult     int32         // RACK.reo_wnd_mult
	reoWndPersist  int32         // RACK.reo_wnd_persist
	reorderingSeen bool          // RACK.reordering_seen
	dsackRoundSet  bool
}

// tlpVars are the tail loss probe's variables (RFC 8985 §5.3, §7).
type tlpVars struct {
	tlpEnd     seq.Value // TLP.end_seq, when tlpEndSet
	tlpDue     bool      // the PTO fired: Output sends the probe
	tlpEndSet  bool
	tlpRetrans bool // TLP.is_retrans
	// tlpNoSample: no RTT sample since the last probe, which keeps the
	// next one back (RFC 8985 §7.3, the second condition).
	tlpNoSample bool
}

// recoveryVars are the state of loss recovery: fast recovery by RFC 6675
// §5 (with SACK) or RFC 6582 §3.2 (NewReno, without), recovery after an
// RTO, and the undo of an episode that D-SACK shows was spurious (as Linux
// does, after RFC 3708).
type recoveryVars struct {
	recoveryPoint  seq.Value // RecoveryPoint (RFC 6675 §5)
	recover        seq.Value // recover (RFC 6582 §3.2)
	dupAcks        int32     // DupAcks (RFC 6675 §2)
	undoRetrans    int32     // the episode's retransmissions not reported by D-SACK as arrived twice
	episodeRexmits int32     // retransmissions in the episode
	inRecovery     bool
	rtoRecovery    bool // the episode began with an RTO
	fastRexmitDue  bool // the first retransmission goes whatever pipe says (RFC 6675 §5 (4.3))
	undoPossible   bool
}

// retransQueue is the retransmission queue (RFC 9293 §3.4) and SACK
// scoreboard (RFC 6675 §3) of sndq.go: a record per segment sent and not
// yet cumulatively acknowledged, and counts over them.
type retransQueue struct {
	tx             []txSeg
	txHead         int32 // tx[:txHead] is acknowledged and cleared
	tsHead, tsTail int32 // the time-ordered list of tx (sndq.go)
	sackedBytes    int32
	lostBytes      int32
	rexmitBytes    int32
	pendingSegs    int32 // deemed lost, not yet retransmitted
	sackedSegs     int32 // RACK.segs_sacked (RFC 8985 §5.3)
}

// timers are the connection's timers as deadlines (clock.Never when
// stopped): NextDeadline is the earliest, HandleTimeout runs those due.
type timers struct {
	rtoAt      clock.Time // retransmission timer (RFC 6298 §5)
	timeWaitAt clock.Time // TIME-WAIT's 2·MSL (RFC 9293 §3.10.8)
	persistAt  clock.Time // zero-window probe (RFC 9293 §3.8.6.1)
	delackAt   clock.Time // delayed ACK (RFC 9293 §3.8.6.3)
	reoAt      clock.Time // RACK reordering timer (RFC 8985 §5.4)
	tlpAt      clock.Time // TLP PTO (RFC 8985 §5.4)
	keepAt     clock.Time // keepalive (RFC 9293 §3.8.4)
	paceAt     clock.Time // pacing: when the next data segment may leave (pacing.go)
}

// probeVars are the probes that ask an idle or closed-window peer for an
// ACK: keepalives (RFC 9293 §3.8.4) and zero-window probes (§3.8.6.1).
type probeVars struct {
	keepProbes     int32 // keepalive probes unanswered
	persistBackoff int32 // zero-window probes unanswered (the persist timer's backoff)
	probeDue       bool  // Output sends a probe
	// softErr is the last ICMP soft error (an index into connErrors),
	// reported if the connection times out (icmp.go). It lives here, in
	// padding, since it is rare.
	softErr uint8
	// rstPending: a RST (rstSeq, rstAck, rstFlags) goes at the next
	// Output, with the Timestamps option if rstTS (RFC 7323 §5.2). Kept
	// here, where the group's padding holds them (TestConnSize).
	rstPending bool
	rstTS      bool
}

// optionVars are what the handshake negotiated and what the options carry
// from then on: the send MSS (RFC 9293 §3.7.1), window scaling and
// timestamps (RFC 7323) and SACK (RFC 2018).
type optionVars struct {
	tsRecentAt  clock.Time // when TS.Recent was set (RFC 7323 §5.5)
	tsRecent    uint32     // TS.Recent (RFC 7323 §4.3)
	lastAckSent seq.Value  // Last.ACK.sent (RFC 7323 §4.3)
	sndMSS      int32      // SendMSS (RFC 9293 §3.7.1), at most our own MSS
	optLen      int32      // bytes of options on every segment (timestamps)
	// mssCap, when not 0, bounds our MSS and SendMSS below the policy's:
	// the link's MTU for the connection's family, or the path MTU (icmp.go).
	mssCap   uint16
	sndShift uint8 // Snd.Wind.Shift (RFC 7323 §2.3)
	rcvShift uint8 // Rcv.Wind.Shift (RFC 7323 §2.3)
	wsOK     bool  // both SYNs carried Window Scale (RFC 7323 §2.2)
	tsOK     bool  // both SYNs carried Timestamps (RFC 7323 §3.2)
	sackOK   bool  // both SYNs carried SACK-permitted (RFC 2018 §2)
}

// connRare is what few connections need, behind one pointer so that the
// others do not carry it: the addresses of a connection whose addresses
// are not both IPv4 (the compact laddr, raddr, lport and rport hold them
// otherwise), and the path MTU search of a connection that found a black
// hole or had its MSS lowered by ICMP, and what it shares with the
// stack's path MTU cache (plpmtud.go).
type connRare struct {
	tuple  Tuple
	mtu    mtuSearch
	path   pathVars // what it shares with the stack's path MTU cache (plpmtud.go)
	tuple6 bool     // tuple holds the addresses
}

// connErrors are the errors a connection ends with; Conn.errCode indexes
// them (0: none).
var connErrors = [...]error{nil, ErrConnRefused, ErrConnReset, ErrTimeout, ErrAborted, ErrHostUnreachable, ErrNetUnreachable}

// NewActive creates a connection for an active OPEN (RFC 9293 §3.10.1): it is
// in SYN-SENT and its SYN is due on the next Output. It has a Policy of its
// own; a driver of many connections shares one (Policy.NewActive).
func NewActive(cfg Config, t Tuple, iss seq.Value, now clock.Time) *Conn {
	return NewPolicy(cfg).NewActive(t, iss, now)
}

// NewPassive creates a connection in LISTEN for one incoming SYN; the stack
// hands that SYN to Input next. A listener that has no SYN yet is the
// stack's, not a Conn.
func NewPassive(cfg Config, t Tuple, iss seq.Value) *Conn {
	return NewPolicy(cfg).NewPassive(t, iss)
}

// NewActive is the package's NewActive for a connection of p.
func (p *Policy) NewActive(t Tuple, iss seq.Value, now clock.Time) *Conn {
	c := p.newConn(t, iss)
	c.setState(now, SynSent, "active open")
	return c
}

// NewPassive is the package's NewPassive for a connection of p.
func (p *Policy) NewPassive(t Tuple, iss seq.Value) *Conn {
	return p.NewPassiveIn(nil, t, iss)
}

// NewPassiveIn is NewPassive making the connection in c, a Conn nothing
// holds any more (one a driver kept as a HalfOpen, or that is done and
// was never handed out), or in a new one if c is nil.
func (p *Policy) NewPassiveIn(c *Conn, t Tuple, iss seq.Value) *Conn {
	if c == nil {
		c = new(Conn)
	}
	p.initConn(c, t, iss, nil)
	c.state = Listen
	c.passive = true
	return c
}

func (p *Policy) newConn(t Tuple, iss seq.Value) *Conn {
	c := new(Conn)
	p.initConn(c, t, iss, nil)
	return c
}

// initConn makes *c a new connection of p; an IPv6 connection takes rare
// for its addresses if it is not nil.
func (p *Policy) initConn(c *Conn, t Tuple, iss seq.Value, rare *connRare) {
	cfg := &p.cfg
	// Sequence-space marks start at the ISS: a zero would compare as
	// "after" or "before" it depending on the half of the space the ISS
	// lies in.
	*c = Conn{
		pol:   p,
		tsOff: uint32(iss) * 2654435761,
		sendVars: sendVars{
			iss:       iss,
			sndUna:    iss,
			sndNxt:    iss,
			sndBufSeq: iss.Add(1),
			smallEnd:  iss,
			sndBuf:    int32(cfg.SendBuffer),
			noDelay:   cfg.NoDelay,
		},
		recvVars: recvVars{
			rcvBuf:    int32(cfg.RecvBuffer),
			rcvBufMax: int32(cfg.RecvBufferMax),
			rcvMSS:    536,
		},
		rttVars:      rttVars{rto: cfg.InitialRTO},
		rackVars:     rackVars{rackXmit: -1, rackEnd: iss, rackFack: iss, dsackRound: iss, reoWndMult: 1},
		recoveryVars: recoveryVars{recoveryPoint: iss, recover: iss},
		timers: timers{
			rtoAt:      clock.Never,
			timeWaitAt: clock.Never,
			persistAt:  clock.Never,
			delackAt:   clock.Never,
			reoAt:      clock.Never,
			tlpAt:      clock.Never,
			keepAt:     clock.Never,
			paceAt:     clock.Never,
		},
		optionVars: optionVars{sndMSS: 536},
		lport:      t.Local.Port(),
		rport:      t.Remote.Port(),
	}
	switch k, ok := t.Key(); {
	case ok:
		c.laddr, c.raddr = k.LocalAddr, k.RemoteAddr
	case rare != nil:
		c.rare = rare
	default:
		c.rare = &connRare{tuple: t, tuple6: true}
	}
	if !cfg.NoWindowScale {
		c.rcvShift = c.wantShift()
	}
}

// State returns the connection's state.
func (c *Conn) State() State { return c.state }

// Tuple returns the connection's addresses.
func (c *Conn) Tuple() Tuple {
	if c.rare != nil && c.rare.tuple6 {
		return c.rare.tuple
	}
	return c.Key().tuple()
}

// Key returns the connection's tuple in compact form (the zero Key if an
// address is not IPv4).
func (c *Conn) Key() Key {
	if c.rare != nil && c.rare.tuple6 {
		return Key{}
	}
	return Key{LocalAddr: c.laddr, RemoteAddr: c.raddr, LocalPort: c.lport, RemotePort: c.rport}
}

// Done reports whether the TCB can be deleted: the connection reached
// CLOSED, or a half-open passive connection went back to LISTEN. Output may
// still have a final RST to emit; drivers call Output before deleting.
func (c *Conn) Done() bool { return c.done }

// Err returns why the connection ended, or nil while it lives or if it ended
// normally.
func (c *Conn) Err() error {
	if c.softErr != 0 && connErrors[c.errCode] == ErrTimeout {
		return softTimeouts[c.softErr]
	}
	return connErrors[c.errCode]
}

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats { return c.stats }

// CAState is the sender's loss-recovery state, as Linux's tcpi_ca_state
// names it (there is no CWR state: synack does not negotiate ECN).
type CAState uint8

// The loss-recovery states.
const (
	// CAOpen: no loss suspected.
	CAOpen CAState = iota
	// CADisorder: duplicate ACKs or SACKed data have been seen, fewer
	// than loss recovery needs (RFC 6675 §5: DupThresh; RFC 3042's
	// limited transmit is sent in this state).
	CADisorder
	// CARecovery: fast recovery after loss detected by duplicate ACKs,
	// SACK or RACK (RFC 5681 §3.2, RFC 6675 §5, RFC 8985).
	CARecovery
	// CALoss: recovery after a retransmission timeout (RFC 5681 §3.1,
	// RFC 6298 §5).
	CALoss
)

func (s CAState) String() string {
	switch s {
	case CAOpen:
		return "open"
	case CADisorder:
		return "disorder"
	case CARecovery:
		return "recovery"
	case CALoss:
		return "loss"
	}
	return "CAState(" + strconv.Itoa(int(s)) + ")"
}

// caState is the connection's loss-recovery state.
func (c *Conn) caState() CAState {
	switch {
	case c.inRecovery && c.rtoRecovery:
		return CALoss
	case c.inRecovery:
		return CARecovery
	case c.dupAcks > 0 || c.sackedSegs > 0:
		return CADisorder
	}
	return CAOpen
}

// Info is a snapshot of the TCB for display (like `ss -ti`).
type Info struct {
	State             State
	ISS, IRS          seq.Value
	SndUna, SndNxt    seq.Value
	SndWnd            seq.Size
	RcvNxt            seq.Value
	RcvWnd            seq.Size
	MSS               int
	Cwnd, Ssthresh    int
	Congestion        string
	InRecovery        bool
	CAState           CAState
	SRTT, RTTVar, RTO time.Duration
	MinRTT            time.Duration
	// Negotiated options: window scales (ours, the peer's), timestamps,
	// SACK.
	RcvWScale, SndWScale   int
	WScale, Timestamps     bool
	SACK                   bool
	SackedBytes, LostBytes int
	Pipe                   int // RFC 6675's estimate of the data in the network
	OutOfOrder             int // bytes held out of order
	RecvBuffer             int // current size (autotuned)
	Unacked, Unsent        int
	Unread                 int
	Retries                int
	NextDeadline           clock.Time
	Stats                  Stats
}

// Info returns a snapshot of the connection's variables.
func (c *Conn) Info() Info {
	cwnd, ssthresh, name := 0, 0, c.pol.cfg.Congestion
	if c.cc != nil {
		cwnd, ssthresh, name = c.cc.Window(), c.cc.Threshold(), c.cc.Name()
	}
	return Info{
		State: c.state, ISS: c.iss, IRS: c.irs, SndUna: c.sndUna, SndNxt: c.sndNxt,
		SndWnd: c.sndWnd, RcvNxt: c.rcvNxt, RcvWnd: c.rcvWnd(), MSS: int(c.sndMSS),
		Cwnd: cwnd, Ssthresh: ssthresh, Congestion: name, InRecovery: c.inRecovery, CAState: c.caState(),
		SRTT: c.srtt, RTTVar: c.rttvar, RTO: c.rto, MinRTT: c.minRTT,
		RcvWScale: int(c.rcvShift), SndWScale: int(c.sndShift), WScale: c.wsOK, Timestamps: c.tsOK, SACK: c.sackOK,
		SackedBytes: int(c.sackedBytes), LostBytes: int(c.lostBytes), Pipe: c.pipe(), OutOfOrder: int(c.oooBytes), RecvBuffer: int(c.rcvBuf),
		Unacked: c.unackedData(), Unsent: c.sndLen() - c.unackedData(), Unread: c.rcvLen(),
		Retries: int(c.retries), NextDeadline: c.NextDeadline(), Stats: c.stats,
	}
}

// ISS returns our initial sequence number.
func (c *Conn) ISS() seq.Value { return c.iss }

func (c *Conn) record(e *trace.Event) {
	if c.pol.cfg.Recorder == nil {
		return
	}
	e.Host = c.pol.cfg.Host
	t := c.Tuple()
	e.Local, e.Remote = t.Local, t.Remote
	c.pol.cfg.Recorder.Record(e)
}

func (c *Conn) setState(now clock.Time, s State, why string) {
	if s == c.state {
		return
	}
	if c.pol.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.State, From: c.state, To: s, Reason: why})
	}
	c.state = s
}

// tracing reports whether events are recorded: a note whose text must be
// built (and allocated) is built only then.
func (c *Conn) tracing() bool { return c.pol.cfg.Recorder != nil }

func (c *Conn) note(now clock.Time, what string) {
	if c.pol.cfg.Recorder != nil {
		c.record(&trace.Event{At: now, Kind: trace.Note, Reason: what})
	}
}

// close ends the connection (RFC 9293: "enter the CLOSED state, delete the
// TCB") with err (nil for a normal end).
func (c *Conn) close(now clock.Time, err error, why string) {
	if c.errCode == 0 {
		for i, e := range connErrors {
			if e == err {
				c.errCode = uint8(i)
			}
		}
	}
	c.setState(now, Closed, why)
	c.done = true
	c.stopTimer(now, &c.rtoAt, "retransmit")
	c.stopTimer(now, &c.timeWaitAt, "time-wait")
	c.stopTimer(now, &c.persistAt, "persist")
	c.stopTimer(now, &c.delackAt, "delayed-ack")
	c.stopTimer(now, &c.reoAt, "reorder")
	c.stopTimer(now, &c.tlpAt, "tlp")
	c.stopTimer(now, &c.keepAt, "keepalive")
	c.ackNow = false
	c.dropSnd()
	c.tx, c.txHead, c.tsHead, c.tsTail = nil, 0, 0, 0
	c.dropOOO()
}

// ---- user calls (RFC 9293 §3.10) ----

// Write queues p for sending (RFC 9293 §3.10.2 SEND) and returns how many
// bytes fit in the send buffer. Data written in SYN-SENT or SYN-RECEIVED is
// sent once the connection is established.
func (c *Conn) Write(now clock.Time, p []byte) (int, error) {
	switch c.state {
	case Closed:
		if err := c.Err(); err != nil {
			return 0, err
		}
		return 0, ErrClosed
	case Listen:
		return 0, ErrNotConnected
	case FinWait1, FinWait2, Closing, LastAck, TimeWait:
		return 0, ErrClosing
	}
	if c.finQueued {
		return 0, ErrClosing
	}
	n := min(len(p), c.sendBufSize()-c.sndLen())
	if n <= 0 {
		return 0, nil
	}
	c.appendSnd(p[:n])
	return n, nil
}

// sendBufSize is the send buffer's size now: SendBuffer, or with
// autotuning twice the congestion window up to SendBufferMax, so that the
// writer can keep a growing window full.
func (c *Conn) sendBufSize() int {
	n := int(c.sndBuf)
	if !c.sndBufLocked && c.cc != nil && !c.pol.mem.pressure(&c.pol.cfg) {
		n = max(n, min(2*c.cc.Window(), c.pol.cfg.SendBufferMax))
	}
	if c.pol.mem.overLimit(&c.pol.cfg) {
		// Only what the ring holds now, or the 4 KiB every connection
		// may have.
		n = min(n, max(len(c.snd.mem), minBuffer))
	}
	return n
}

// SendSpace returns how many bytes Write would accept now: none once the
// user has closed, and none where SEND is an error (RFC 9293 §3.10.2). In
// CLOSE-WAIT the peer has closed but we may still send (half-close), and
// LISTEN has nowhere to send to.
func (c *Conn) SendSpace() int {
	switch c.state {
	case SynSent, SynReceived, Established, CloseWait:
		if !c.finQueued {
			return max(c.sendBufSize()-c.sndLen(), 0)
		}
	}
	return 0
}

// Read moves received data into p (RFC 9293 §3.10.3 RECEIVE) and returns
// how many bytes it moved: 0 when nothing is there yet, and from then on
// once the peer's FIN has been read past, which ReadClosed reports (a
// reader's io.EOF).
func (c *Conn) Read(now clock.Time, p []byte) int {
	n := c.readRcv(p)
	if n == 0 {
		return 0
	}
	c.consumeRcv(n)
	// RFC 9293 §3.8.6.2.2: the window moves right only in steps of at
	// least min(RCV.BUFF/2, MSS) (receiver's SWS avoidance). A pure window
	// update is sent for such a step only when the window offered had
	// fallen to half the buffer or less and at least doubles (as Linux's
	// tcp_cleanup_rbuf): otherwise the next ACK carries it.
	if c.state.Synchronized() && !c.finRcvd {
		cur := 0
		if c.rcvAdvRight.GreaterThan(c.rcvNxt) {
			cur = int(c.rcvAdvRight.Size(c.rcvNxt))
		}
		next := int(c.rcvWnd())
		if 2*cur <= int(c.rcvBuf) && next >= 2*cur && next-cur >= c.swsThreshold() {
			c.ackNow = true
		}
	}
	return n
}

// Readable returns how many received bytes wait to be read.
func (c *Conn) Readable() int { return c.rcvLen() }

// ReadClosed reports whether no more data will arrive: the peer's FIN has
// been received (and everything before it is in the buffer), or the
// connection ended.
func (c *Conn) ReadClosed() bool { return c.finRcvd || c.state == Closed }

// Close is RFC 9293's CLOSE (§3.10.4): no more data will be sent; a FIN
// follows the queued data. Receiving continues (half-close), unless
// CloseRead was called too: then Close is the full close of RFC 1122
// §4.2.2.13, and unread data makes it reset the connection instead (see
// CloseRead).
func (c *Conn) Close(now clock.Time) error {
	if c.rcvShut && c.resetUnread(now) {
		return nil
	}
	switch c.state {
	case Closed:
		return ErrClosed
	case Listen, SynSent:
		// "Delete the TCB, enter CLOSED state, and return."
		c.close(now, nil, "close before established")
		return nil
	case SynReceived:
		// "If no SENDs have been issued and there is no pending data to
		// send, then form a FIN segment and send it, and enter FIN-WAIT-1
		// state; otherwise, queue for processing after entering ESTABLISHED
		// state." We always take the second branch: the FIN is queued and
		// FIN-WAIT-1 entered when the handshake completes, so that a FIN
		// never precedes the ACK of our SYN.
		c.queueFIN()
		return nil
	case Established:
		// "Queue this until all preceding SENDs have been segmentized, then
		// form a FIN segment and send it. In any case, enter FIN-WAIT-1
		// state."
		c.queueFIN()
		c.setState(now, FinWait1, "close")
		return nil
	case CloseWait:
		// "Queue this request until all preceding SENDs have been
		// segmentized; then send a FIN segment, enter LAST-ACK state."
		// Like Linux we enter LAST-ACK at once; the FIN follows the data.
		c.queueFIN()
		c.setState(now, LastAck, "close")
		return nil
	default:
		return ErrClosing
	}
}

// CloseRead says that the user will read no more from the connection
// (shutdown SHUT_RD). Data already received stays readable, as on Linux;
// a driver that discards it reads it. With Close, it is the
// "half-duplex" close of RFC 1122 §4.2.2.13, after which the application
// "cannot continue to read data from the connection": "If such a host
// issues a CLOSE call while received data is still pending in TCP, or if
// new data is received after CLOSE is called, its TCP SHOULD send a RST
// to show that data was lost" (RFC 9293 §3.6, SHLD-3). Both halves
// closed, with data unread (whichever call came second), the connection
// is reset as by Abort; new data arriving in FIN-WAIT-1 or FIN-WAIT-2 is
// answered with a RST and the connection ends (as Linux does).
func (c *Conn) CloseRead(now clock.Time) {
	if c.rcvShut {
		return
	}
	c.rcvShut = true
	if c.finQueued && !c.resetUnread(now) {
		c.orphanFinWait2(now)
	}
}

// resetUnread resets the connection, as ABORT does, when received data is
// unread; it reports whether it did.
func (c *Conn) resetUnread(now clock.Time) bool {
	if c.rcvLen() == 0 {
		return false
	}
	switch c.state {
	case SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck:
		if c.tracing() {
			c.note(now, "closed with "+strconv.Itoa(c.rcvLen())+" bytes unread: reset (RFC 1122 §4.2.2.13)")
		}
		// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, the form of Abort's
		// reset, in every state where the peer may still be listening.
		c.queueRST(wire.Segment{Seq: c.sndNxt, Ack: c.rcvNxt, Flags: wire.RST | wire.ACK})
		c.rstTS = c.tsOK
		c.close(now, ErrAborted, "close with unread data")
		return true
	}
	return false
}

func (c *Conn) queueFIN() {
	if !c.finQueued {
		c.finQueued = true
		c.finSeq = c.sndBufSeq.Add(seq.Size(c.sndLen()))
	}
}

// Abort is RFC 9293's ABORT (§3.10.5): in SYN-RECEIVED, ESTABLISHED,
// FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT "send a reset segment:
// <SEQ=SND.NXT><CTL=RST>" (with the ACK bit and RCV.NXT added); in every
// state, delete the TCB.
func (c *Conn) Abort(now clock.Time) {
	switch c.state {
	case SynReceived, Established, FinWait1, FinWait2, CloseWait:
		// The RST also carries <ACK=RCV.NXT>, as Linux and the BSDs send
		// it: the receiver checks only its sequence number (RFC 5961
		// §3.2), and the ACK tells a capture's reader how far we got.
		c.queueRST(wire.Segment{Seq: c.sndNxt, Ack: c.rcvNxt, Flags: wire.RST | wire.ACK})
		// RFC 7323 §5.2: "If an <RST> is being generated because of a user
		// abort, and Snd.TS.OK is set, then a Timestamps option SHOULD be
		// included in the <RST>."
		c.rstTS = c.tsOK
	}
	if c.state != Closed {
		c.close(now, ErrAborted, "abort")
	}
}

func (c *Conn) queueRST(s wire.Segment) {
	c.rstPending, c.rstTS = true, false
	c.rstSeq, c.rstAck, c.rstFlags = s.Seq, s.Ack, s.Flags
}

// ---- windows and buffers ----

func (c *Conn) rcvWnd() seq.Size {
	free := int(c.rcvBuf) - c.rcvLen()
	if free < 0 {
		free = 0
	}
	return seq.Size(min(free, 65535<<c.rcvShift))
}

func (c *Conn) swsThreshold() int {
	return min(int(c.rcvBuf)/2, int(c.pol.cfg.MSS))
}

// advertise returns the window field of an outgoing segment. It never moves
// the right edge left (RFC 9293 §3.8.6.2.2: "the window should not be
// shrunk"; RFC 7323 §2.4 on rounding a scaled window), and moves it right
// only in steps of at least min(RCV.BUFF/2, MSS) so that we do not invite
// silly windows. A SYN's window is never scaled (RFC 7323 §2.2).
func (c *Conn) advertise(syn bool) uint16 {
	w := c.rcvWnd()
	right := c.rcvNxt.Add(w)
	cur := c.rcvAdvRight
	sync := c.state.Synchronized()
	if sync && cur.GreaterThanEq(c.rcvNxt) {
		if right.GreaterThan(cur) && c.ooo.len() > 0 && !c.sackOK {
			// While a hole waits to be filled the edge stays put, so that
			// our duplicate ACKs carry the same window: RFC 5681 §2 (e)
			// counts an ACK that changes the window as no duplicate, and a
			// sender without SACK would miss its fast retransmit. (With SACK
			// the window may move: the sender reads the blocks instead.)
			w, right = cur.Size(c.rcvNxt), cur
		} else if right.GreaterThan(cur) && right.Sub(cur) < int32(c.swsThreshold()) && w > 0 {
			w, right = cur.Size(c.rcvNxt), cur
		} else if right.LessThan(cur) {
			w, right = cur.Size(c.rcvNxt), cur
		}
	}
	var field uint32
	if syn {
		field = min(uint32(w), 65535)
	} else {
		field = uint32(w) >> c.rcvShift
		if sync && c.rcvNxt.Add(seq.Size(field<<c.rcvShift)).LessThan(right) && w > 0 && right == cur {
			// Rounding down would pull the advertised edge back: round up,
			// unless that takes the edge more than the scale's unit
			// beyond the buffer and beyond what the ring of the largest
			// buffer holds (RFC 7323 §2.4: the TCP "will have to either
			// advertise a new window that is beyond what it previously
			// advertised (and perhaps beyond the buffer) or will have to
			// advertise a smaller window"). Rounded up at every ACK while
			// nothing was read, the edge crept further each time, and a
			// full window took a ring twice the size (8 MiB for 4). The
			// window field then shrinks by less than the unit; segments
			// up to the edge advertised before are still taken
			// (rcvWndForCheck, §2.4 rule 1).
			up := (uint32(w) + 1<<c.rcvShift - 1) >> c.rcvShift
			head := c.rcvNxt.Add(-seq.Size(c.rcvLen()))
			limit := max(c.rcvRingMax(), int(c.rcvBuf)+1<<c.rcvShift-1)
			if int(c.rcvNxt.Add(seq.Size(up<<c.rcvShift)).Size(head)) <= limit {
				field = up
			}
		}
		field = min(field, 65535)
	}
	edge := c.rcvNxt.Add(seq.Size(field))
	if !syn {
		edge = c.rcvNxt.Add(seq.Size(field << c.rcvShift))
	}
	if edge.GreaterThan(c.rcvAdvRight) || !sync {
		c.rcvAdvRight = edge
	}
	return uint16(field)
}

// unackedData is how many buffered bytes have been sent and not acked.
func (c *Conn) unackedData() int {
	if c.sndNxt.LessThanEq(c.sndBufSeq) {
		return 0
	}
	return min(int(c.sndNxt.Size(c.sndBufSeq)), c.sndLen())
}
