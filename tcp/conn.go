package tcp

import (
	"errors"
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
	// The fields are grouped by size so that the struct has little
	// padding: a connection's TCB is most of what an idle connection
	// costs (TestConnSize bounds it).

	// Policy and identity. pol is usually shared with every connection of
	// the driver; a socket option that changes it gives the connection its
	// own copy (ownPolicy).
	pol *Policy
	// tuple6 holds the addresses when they are not both IPv4; the compact
	// laddr, raddr, lport and rport below hold them otherwise.
	tuple6 *Tuple

	snd    []byte // written, not yet acknowledged (a view into sndMem)
	sndMem []byte // the send buffer's backing array (buffers.go)
	// rcv is the data received and not yet read (a view into rcvMem); data
	// held out of order lies in rcvMem after it, at its offset from RCV.NXT
	// (reasm.go).
	rcv    []byte
	rcvMem []byte
	cc     cc.Controller
	tx     []txSeg    // the retransmission queue and SACK scoreboard (sndq.go)
	ooo    []oooRange // out-of-order ranges held (reasm.go)

	oooCount uint64 // arrival counter of out-of-order segments

	// Times: timers as deadlines (clock.Never when stopped), and the marks
	// of RTT, RACK, keepalive, autotuning and challenge-ACK accounting.
	rtoAt, timeWaitAt, persistAt clock.Time
	delackAt, reoAt, tlpAt       clock.Time
	keepAt                       clock.Time
	lastSendAt, lastRecvAt       clock.Time
	tsRecentAt                   clock.Time
	rackXmit                     clock.Time
	rcvSpaceAt                   clock.Time // autotuning: start of the current measurement
	rttStart                     clock.Time
	chalStart                    clock.Time // RFC 5961 §7 challenge ACK limit

	// RTT estimation, RFC 6298, and RACK's.
	srtt, rttvar, rto time.Duration
	rackRTT, minRTT   time.Duration

	stats Stats

	// Send sequence space (RFC 9293 §3.3.1).
	iss, sndUna, sndNxt    seq.Value
	sndWnd                 seq.Size
	maxSndWnd              seq.Size // MAX.SND.WND, RFC 5961 §5.2
	sndWL1, sndWL2         seq.Value
	sndBufSeq              seq.Value // sequence number of snd[0]
	finSeq                 seq.Value // the FIN's sequence number, when finQueued
	smallEnd               seq.Value // Nagle (Minshall): a short segment ends here, when smallEndSet
	tsRecent               uint32
	lastAckSent            seq.Value
	highSACKed             seq.Value
	recoveryPoint, recover seq.Value
	rackEnd, rackFack      seq.Value
	dsackRound             seq.Value
	tlpEnd                 seq.Value
	rttSeq                 seq.Value

	// Receive sequence space.
	irs, rcvNxt seq.Value
	rcvAdvRight seq.Value // right edge of the window we last advertised
	oooFinSeq   seq.Value // a FIN arrived out of order here, when oooFin
	rcvSpaceSeq seq.Value // RCV.NXT at rcvSpaceAt
	dsack       wire.SACKBlock
	rstSeq      seq.Value // the pending RST's fields (it has no options or data)
	rstAck      seq.Value

	// Addresses, compact (see tuple6).
	laddr, raddr [4]byte
	lport, rport uint16

	// Per-connection sizes and counts (int32: every one is bounded by a
	// buffer size, at most MaxBuffer, or by a small count).
	sndBuf, rcvBuf, rcvBufMax int32 // the buffer sizes (socket options, autotuning)
	sndMSS                    int32
	optLen                    int32 // bytes of options on every segment (timestamps)
	txHead                    int32 // tx[:txHead] is acknowledged and cleared
	tsHead, tsTail            int32 // the time-ordered list of tx (sndq.go)
	sackedBytes, lostBytes    int32
	rexmitBytes               int32
	pendingSegs, sackedSegs   int32
	dupAcks                   int32
	undoRetrans               int32
	episodeRexmits            int32
	reoWndMult, reoWndPersist int32
	oooBytes                  int32
	rcvUnacked                int32 // bytes received since the last ACK we sent (delayed ACK)
	quickAcks                 int32 // segments still to acknowledge at once
	rcvMSS                    int32 // largest segment received: the peer's MSS as we see it
	oooAcks                   int32 // duplicate ACKs owed, one per out-of-order segment
	synSends                  int32 // SYNs (or SYN-ACKs) sent in the current state
	retries                   int32 // consecutive RTO expirations
	persistBackoff            int32
	keepProbes                int32
	chalCount                 int32

	state    State
	errCode  uint8 // why the connection ended: an index into connErrors
	rstFlags wire.Flags
	sndShift uint8
	rcvShift uint8

	ownPolicy        bool
	passive          bool // opened from LISTEN (RFC 9293: "initiated with a passive OPEN")
	done             bool // the TCB may be deleted
	noDelay          bool // Nagle's algorithm is off
	finQueued        bool // the user called CLOSE
	synSent          bool // our SYN (or SYN-ACK) is out in the current state
	smallEndSet      bool
	wsOK, tsOK       bool // negotiated options (RFC 7323, RFC 2018)
	sackOK           bool
	inRecovery       bool // loss recovery (recovery.go)
	rtoRecovery      bool
	fastRexmitDue    bool
	undoPossible     bool
	reorderingSeen   bool
	dsackRoundSet    bool
	tlpDue           bool
	tlpEndSet        bool
	tlpRetrans       bool
	finRcvd          bool
	oooFin           bool
	dsackPending     bool
	ackNow           bool // pending output
	probeDue         bool // a zero-window probe is due
	rstPending       bool
	hasRTT           bool
	rttTiming        bool
	synRetransmitted bool
	sndBufLocked     bool // SetSendBuffer: no send-buffer autotuning
}

// connErrors are the errors a connection ends with; Conn.errCode indexes
// them (0: none).
var connErrors = [...]error{nil, ErrConnRefused, ErrConnReset, ErrTimeout, ErrAborted}

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
	c := p.newConn(t, iss)
	c.state = Listen
	c.passive = true
	return c
}

func (p *Policy) newConn(t Tuple, iss seq.Value) *Conn {
	cfg := &p.cfg
	c := &Conn{
		pol:        p,
		iss:        iss,
		sndUna:     iss,
		sndNxt:     iss,
		sndBufSeq:  iss.Add(1),
		sndMSS:     536,
		rto:        cfg.InitialRTO,
		rtoAt:      clock.Never,
		timeWaitAt: clock.Never,
		persistAt:  clock.Never,
		delackAt:   clock.Never,
		reoAt:      clock.Never,
		tlpAt:      clock.Never,
		keepAt:     clock.Never,
		rackXmit:   -1,
		// Sequence-space marks start at the ISS: a zero would compare as
		// "after" or "before" it depending on the half of the space the
		// ISS lies in.
		rackEnd:       iss,
		rackFack:      iss,
		highSACKed:    iss,
		recover:       iss,
		recoveryPoint: iss,
		dsackRound:    iss,
		smallEnd:      iss,
		reoWndMult:    1,
		rcvMSS:        536,
		noDelay:       cfg.NoDelay,
		sndBuf:        int32(cfg.SendBuffer),
		rcvBuf:        int32(cfg.RecvBuffer),
		rcvBufMax:     int32(cfg.RecvBufferMax),
		lport:         t.Local.Port(),
		rport:         t.Remote.Port(),
	}
	if k, ok := t.Key(); ok {
		c.laddr, c.raddr = k.LocalAddr, k.RemoteAddr
	} else {
		c.tuple6 = &t
	}
	if !cfg.NoWindowScale {
		c.rcvShift = c.wantShift()
	}
	return c
}

// State returns the connection's state.
func (c *Conn) State() State { return c.state }

// Tuple returns the connection's addresses.
func (c *Conn) Tuple() Tuple {
	if c.tuple6 != nil {
		return *c.tuple6
	}
	return c.Key().tuple()
}

// Key returns the connection's tuple in compact form (the zero Key if an
// address is not IPv4).
func (c *Conn) Key() Key {
	if c.tuple6 != nil {
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
func (c *Conn) Err() error { return connErrors[c.errCode] }

// Stats returns the connection's counters.
func (c *Conn) Stats() Stats { return c.stats }

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
		Cwnd: cwnd, Ssthresh: ssthresh, Congestion: name, InRecovery: c.inRecovery,
		SRTT: c.srtt, RTTVar: c.rttvar, RTO: c.rto, MinRTT: c.minRTT,
		RcvWScale: int(c.rcvShift), SndWScale: int(c.sndShift), WScale: c.wsOK, Timestamps: c.tsOK, SACK: c.sackOK,
		SackedBytes: int(c.sackedBytes), LostBytes: int(c.lostBytes), Pipe: c.pipe(), OutOfOrder: int(c.oooBytes), RecvBuffer: int(c.rcvBuf),
		Unacked: c.unackedData(), Unsent: len(c.snd) - c.unackedData(), Unread: len(c.rcv),
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
		c.record(&trace.Event{At: now, Kind: trace.State, From: c.state.String(), To: s.String(), Reason: why})
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
	c.snd = nil
	c.release(&c.sndMem)
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
	n := min(len(p), c.sendBufSize()-len(c.snd))
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
	if !c.sndBufLocked && c.cc != nil {
		n = max(n, min(2*c.cc.Window(), c.pol.cfg.SendBufferMax))
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
			return max(c.sendBufSize()-len(c.snd), 0)
		}
	}
	return 0
}

// Read moves received data into p (RFC 9293 §3.10.3 RECEIVE) and returns
// how many bytes it moved: 0 when nothing is there yet, and from then on
// once the peer's FIN has been read past, which ReadClosed reports (a
// reader's io.EOF).
func (c *Conn) Read(now clock.Time, p []byte) int {
	n := copy(p, c.rcv)
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
func (c *Conn) Readable() int { return len(c.rcv) }

// ReadClosed reports whether no more data will arrive: the peer's FIN has
// been received (and everything before it is in the buffer), or the
// connection ended.
func (c *Conn) ReadClosed() bool { return c.finRcvd || c.state == Closed }

// Close is RFC 9293's CLOSE (§3.10.4): no more data will be sent; a FIN
// follows the queued data. Receiving continues (half-close).
func (c *Conn) Close(now clock.Time) error {
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

func (c *Conn) queueFIN() {
	if !c.finQueued {
		c.finQueued = true
		c.finSeq = c.sndBufSeq.Add(seq.Size(len(c.snd)))
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
	}
	if c.state != Closed {
		c.close(now, ErrAborted, "abort")
	}
}

func (c *Conn) queueRST(s wire.Segment) {
	c.rstPending = true
	c.rstSeq, c.rstAck, c.rstFlags = s.Seq, s.Ack, s.Flags
}

// ---- windows and buffers ----

func (c *Conn) rcvWnd() seq.Size {
	free := int(c.rcvBuf) - len(c.rcv)
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
		if right.GreaterThan(cur) && len(c.ooo) > 0 && !c.sackOK {
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
			// Rounding down would pull the advertised edge back: round up.
			field = (uint32(w) + 1<<c.rcvShift - 1) >> c.rcvShift
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
	return min(int(c.sndNxt.Size(c.sndBufSeq)), len(c.snd))
}
