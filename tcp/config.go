package tcp

import (
	"fmt"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

// Config holds a connection's policy. The zero value of every field means
// its default, given beside it.
type Config struct {
	// MSS is the largest segment payload we accept, announced in our SYN
	// (RFC 9293 §3.7.1). Default 1460 (a 1500-byte MTU less 40 bytes of
	// IPv4 and TCP headers).
	MSS uint16
	// RecvBuffer bounds the bytes received but not yet read; it is the
	// window we offer. Default 65535 (the largest window without window
	// scaling). Autotuning grows it (RecvBufferMax).
	RecvBuffer int
	// SendBuffer bounds the bytes written but not yet acknowledged.
	// Default 65536. Autotuning grows it (SendBufferMax).
	SendBuffer int
	// MSL is the maximum segment lifetime; TIME-WAIT lasts 2·MSL (RFC 9293
	// §3.4.2). Default 30 s.
	MSL time.Duration
	// SynRetries is how many times a SYN is retransmitted before an active
	// open gives up with ErrTimeout. Default 6 (as Linux: 1+2+4+...+64 s,
	// giving up after 127 s).
	SynRetries int
	// SynAckRetries is how many times a SYN-ACK is retransmitted before a
	// half-open connection is freed. Default 5 (as Linux).
	SynAckRetries int
	// DataRetries is how many RTO retransmissions of the same data (or FIN)
	// are made before the connection is given up with ErrTimeout. Default
	// 15 (as Linux's tcp_retries2).
	DataRetries int
	// FinTimeout is how long an orphan (a connection the application has
	// closed both ways: Close and CloseRead) stays in FIN-WAIT-2 waiting
	// for the peer's FIN before it is freed silently. Default 60 s (Linux's
	// tcp_fin_timeout).
	FinTimeout time.Duration
	// OrphanRetries bounds, for an orphan, the RTO retransmissions of its
	// data or FIN and the zero-window probes the peer answers without
	// opening its window; beyond it the orphan is freed (ErrTimeout).
	// Default 8 (Linux's tcp_orphan_retries of 0 means 8).
	OrphanRetries int
	// InitialRTO is the RTO before any RTT sample (RFC 6298 §2.1: 1 s).
	InitialRTO time.Duration
	// MinRTO floors the variance term of the computed RTO, RTO = SRTT +
	// max(4·RTTVAR, MinRTO), as Linux floors its mdev at rto_min; so the
	// RTO is at least MinRTO, and MinRTO above SRTT. RFC 6298 (2.4) says
	// the RTO "SHOULD be rounded up to 1 second"; like Linux, we default
	// to 200 ms, which recovers from loss faster on short paths and is
	// what peers of a user-space stack expect.
	MinRTO time.Duration
	// MaxRTO caps the RTO after backoff (RFC 6298 (2.5) allows a cap of at
	// least 60 s). Default 120 s (as Linux).
	MaxRTO time.Duration
	// ChallengeACKs and ChallengeACKPeriod limit the challenge ACKs a
	// connection sends (RFC 5961 §7: "in any 5 second window, no more than
	// 10 challenge ACKs should be sent"). Defaults 10 and 5 s. With Rand,
	// each period's budget is drawn between half the limit and the limit,
	// so that an attacker cannot count it exactly (the side channel of
	// CVE-2016-5696).
	ChallengeACKs      int
	ChallengeACKPeriod time.Duration
	// StackChallengeACKs limits the challenge ACKs of all the connections
	// of a Policy (one stack) per second, as Linux's
	// tcp_challenge_ack_limit (1000, the default here): with Rand, each
	// second's budget is half the limit plus a random share of it, as
	// Linux draws it since CVE-2016-5696. Negative: no such limit.
	StackChallengeACKs int
	// InvalidACKInterval is the shortest time between two ACKs a
	// connection sends in reply to unacceptable segments that carry no
	// data (out of the window, failing PAWS) and to SYNs (whose challenge
	// ACKs it limits too), so that
	// spoofed segments draw no stream of reflected ACKs: Linux's
	// tcp_invalid_ratelimit, 500 ms by default. Segments with data or a
	// FIN are always answered (their ACK may carry a D-SACK and end a
	// retransmission). Negative: no limit.
	InvalidACKInterval time.Duration
	// Rand is the randomness of the challenge-ACK limits; nil draws none
	// (the limits are then exact). Drivers hand in a seeded source in
	// simulation and a cryptographic one in a real stack.
	Rand Rand
	// NoDelay turns Nagle's algorithm (RFC 896, RFC 9293 §3.7.4) off:
	// small segments are sent at once even while data is unacknowledged.
	NoDelay bool
	// DelayedACK is the longest an ACK is held back hoping to ride on data
	// or to cover a second segment (RFC 9293 §3.8.6.3: "the delay MUST be
	// less than 0.5 seconds"; RFC 1122 §4.2.3.2). Default
	// 40 ms (Linux's minimum delayed-ACK timeout). A negative value turns
	// delayed ACKs off: every segment is acknowledged at once.
	DelayedACK time.Duration
	// QuickACKs is how many data segments are acknowledged at once at the
	// start of a connection before delayed ACKs begin, so that the peer's
	// slow start is not held back (Linux acknowledges up to 16 this way).
	// Default 0: delayed ACKs from the first segment.
	QuickACKs int
	// NoWindowScale, NoTimestamps and NoSACK turn the RFC 7323 window
	// scale and timestamps options and RFC 2018 SACK off; each is on by
	// default and used when the peer offers it too.
	NoWindowScale, NoTimestamps, NoSACK bool
	// FINClearsSACK drops a pending D-SACK block when the segment that
	// reported the duplicate also carries the peer's FIN, as Linux does
	// (its tcp_fin resets the SACK state). Off by default: synack reports
	// the duplicate as RFC 2883 §4 describes. The RFC leaves the choice
	// open: D-SACK is an extension ("when D-SACK is used"), and an ACK
	// that covers everything received needs no SACK block (RFC 2018 §4).
	FINClearsSACK bool
	// RecvBufferMax is how far receive-buffer autotuning may grow the
	// receive buffer (and so the offered window), from RecvBuffer up.
	// Default 4 MiB (Linux's tcp_rmem maximum is 6 MiB); set it equal to
	// RecvBuffer to turn autotuning off.
	RecvBufferMax int
	// SendBufferMax is how far send-buffer autotuning may grow the send
	// buffer: to twice the congestion window, so that a writer keeps the
	// window full (Linux's tcp_sndbuf_expand), from SendBuffer up.
	// Default 4 MiB (Linux's tcp_wmem maximum); set it equal to SendBuffer
	// to turn autotuning off. SetSendBuffer turns it off for one
	// connection, as SO_SNDBUF does.
	SendBufferMax int
	// MemPressure and MemLimit are a budget for the buffers of all the
	// connections of a Policy (a stack's), in bytes of the arrays they
	// hold, as Linux's tcp_mem (memory.go). From MemPressure on, buffers
	// stop growing (no autotuning) and out-of-order data is pruned and no
	// longer held; from MemLimit on, data that would need a larger array
	// is dropped and Write takes only what fits, except that each
	// connection may always have 4 KiB of each buffer. 0: no budget.
	MemPressure, MemLimit int
	// Congestion names the congestion controller (package tcp/cc):
	// "cubic" (the default) or "newreno".
	Congestion string
	// HyStart turns on HyStart++ (RFC 9406) in the congestion
	// controller's initial slow start: it leaves slow start when the RTT
	// rises, before the queue overflows.
	HyStart bool
	// SlowStartLimit is RFC 3465's L in segments: in slow start an ACK
	// grows the congestion window by at most L*SMSS, so that an ACK of
	// two segments (a delayed or stretch ACK) is not counted as one.
	// Default 2 (RFC 3465 §2.2: "MUST NOT use L > 2*SMSS bytes"), 1 in
	// the slow start after a timeout (§2.3). Negative: no limit, as
	// Linux (every segment acknowledged counts, up to ssthresh). With
	// SegmentOffload, L counts the super-segments the connection sends
	// rather than SMSS (cc.Ack.Unit): the peer takes each whole and
	// acknowledges it as one segment.
	SlowStartLimit int
	// CubicReduceFromWindow makes CUBIC compute ssthresh from cwnd rather
	// than the flight size (RFC 9438 §4.6 allows it when cwnd cannot grow
	// while application-limited, which synack ensures), as Linux does.
	CubicReduceFromWindow bool
	// Pacing spreads each window's data segments over the SRTT at
	// 2*cwnd/SRTT in slow start and 1.2*cwnd/SRTT after (Linux's rates),
	// with a deadline among the connection's timers (see pacing.go).
	Pacing bool
	// SegmentOffload is the largest TCP segment, header included, that
	// the link cuts into MSS-sized segments itself (segmentation
	// offload: a virtio-net GSO packet, an in-memory link whose peer
	// takes it whole; link.GSOer). 0, the default: none, and every
	// segment carries at most one MSS. When set, new data leaves in
	// super-segments of up to this size, a whole number of MSS-sized
	// pieces (the last of the data maybe shorter) with wire.Segment's
	// GSOSize the MSS they were cut for; the retransmission queue keeps
	// one record per piece, so that loss recovery, SACK and RACK see the
	// MSS-sized segments the peer does (see output.go).
	SegmentOffload int
	// KeepAliveIdle turns keepalive on (RFC 9293 §3.8.4, off by default):
	// after this long without receiving anything, probes are sent every
	// KeepAliveInterval (default 75 s, RFC 1122 and Linux), and the
	// connection is dropped with ErrTimeout after KeepAliveCount (default
	// 9) unanswered probes.
	KeepAliveIdle     time.Duration
	KeepAliveInterval time.Duration
	KeepAliveCount    int
	// KeepAliveReset makes a connection that keepalive gives up on send
	// the reset an abort sends (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>),
	// as Linux (tcp_keepalive_timer) and the BSDs (tcp_drop) do, so that a
	// peer that is there after all learns of it; RFC 1122 §4.2.3.6 leaves
	// how the connection is dropped to the stack, and by default it is
	// dropped silently.
	KeepAliveReset bool
	// UserTimeout, when set, aborts the connection with ErrTimeout when
	// transmitted data stays unacknowledged this long (RFC 5482 / RFC 9293
	// §3.8.3's USER TIMEOUT), instead of after DataRetries
	// retransmissions.
	UserTimeout time.Duration
	// Buffers lends the send and receive buffers' backing arrays; nil
	// allocates them and leaves empty ones to the garbage collector.
	Buffers BufferPool
	// Host names this side in trace events.
	Host string
	// Recorder receives trace events; nil records nothing.
	Recorder trace.Recorder

	userMSS bool // SetMaxSegment lowered MSS for one connection
}

// Rand is a source of randomness handed in by the driver.
type Rand interface {
	Uint64() uint64
}

// MaxBuffer is the largest buffer a connection may have: the largest window
// RFC 7323 §2.3 allows (2^30 bytes, a window scale of 14).
const MaxBuffer = 1 << 30

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.MSS == 0 {
		c.MSS = 1460
	}
	defInt(&c.RecvBuffer, 65535)
	defInt(&c.SendBuffer, 65536)
	def(&c.MSL, 30*time.Second)
	defInt(&c.SynRetries, 6)
	defInt(&c.SynAckRetries, 5)
	defInt(&c.DataRetries, 15)
	def(&c.FinTimeout, 60*time.Second)
	defInt(&c.OrphanRetries, 8)
	def(&c.InitialRTO, time.Second)
	def(&c.MinRTO, 200*time.Millisecond)
	def(&c.MaxRTO, 120*time.Second)
	defInt(&c.ChallengeACKs, 10)
	def(&c.DelayedACK, 40*time.Millisecond)
	defInt(&c.RecvBufferMax, max(4<<20, c.RecvBuffer))
	defInt(&c.SendBufferMax, max(4<<20, c.SendBuffer))
	def(&c.KeepAliveInterval, 75*time.Second)
	defInt(&c.KeepAliveCount, 9)
	if c.Congestion == "" {
		c.Congestion = "cubic"
	}
	def(&c.ChallengeACKPeriod, 5*time.Second)
	defInt(&c.StackChallengeACKs, 1000)
	def(&c.InvalidACKInterval, 500*time.Millisecond)
	return c
}

// Validate reports the first impossible setting.
func (c Config) Validate() error {
	switch {
	case c.MSS != 0 && c.MSS < 64:
		return fmt.Errorf("tcp: MSS %d is below the minimum of 64", c.MSS)
	case c.RecvBuffer < 0 || c.SendBuffer < 0:
		return fmt.Errorf("tcp: negative buffer size (recv %d, send %d)", c.RecvBuffer, c.SendBuffer)
	case c.RecvBuffer > MaxBuffer || c.SendBuffer > MaxBuffer || c.RecvBufferMax > MaxBuffer || c.SendBufferMax > MaxBuffer:
		return fmt.Errorf("tcp: buffer size above the maximum of %d (RFC 7323 §2.3: a window is at most 2^30 bytes)", MaxBuffer)
	case c.RecvBufferMax < 0 || c.RecvBufferMax != 0 && c.RecvBufferMax < c.RecvBuffer:
		return fmt.Errorf("tcp: RecvBufferMax %d is below RecvBuffer %d", c.RecvBufferMax, c.RecvBuffer)
	case c.SendBufferMax < 0 || c.SendBufferMax != 0 && c.SendBufferMax < c.SendBuffer:
		return fmt.Errorf("tcp: SendBufferMax %d is below SendBuffer %d", c.SendBufferMax, c.SendBuffer)
	case c.MemPressure < 0 || c.MemLimit < 0 || c.MemLimit > 0 && c.MemPressure > c.MemLimit:
		return fmt.Errorf("tcp: buffer budget MemPressure %d, MemLimit %d: want 0 <= MemPressure <= MemLimit", c.MemPressure, c.MemLimit)
	case c.NoWindowScale && c.RecvBuffer > 65535:
		return fmt.Errorf("tcp: RecvBuffer %d needs window scaling, which NoWindowScale turns off (max 65535)", c.RecvBuffer)
	case c.KeepAliveIdle < 0 || c.KeepAliveInterval < 0 || c.KeepAliveCount < 0 || c.UserTimeout < 0:
		return fmt.Errorf("tcp: negative keepalive or user timeout setting")
	case c.Congestion != "" && c.Congestion != "cubic" && c.Congestion != "newreno":
		return fmt.Errorf("tcp: unknown congestion control %q (want cubic or newreno)", c.Congestion)
	case c.MSL < 0 || c.FinTimeout < 0 || c.InitialRTO < 0 || c.MinRTO < 0 || c.MaxRTO < 0 || c.ChallengeACKPeriod < 0:
		return fmt.Errorf("tcp: negative duration in config")
	case c.SynRetries < 0 || c.SynAckRetries < 0 || c.DataRetries < 0 || c.ChallengeACKs < 0 || c.OrphanRetries < 0:
		return fmt.Errorf("tcp: negative retry count in config")
	case c.SegmentOffload < 0 || c.SegmentOffload > 65535:
		return fmt.Errorf("tcp: SegmentOffload %d out of range (0 for none, else at most 65535 bytes)", c.SegmentOffload)
	case c.MaxRTO != 0 && c.MinRTO > c.MaxRTO:
		return fmt.Errorf("tcp: MinRTO %v exceeds MaxRTO %v", c.MinRTO, c.MaxRTO)
	}
	return nil
}

// Policy is a Config prepared (defaults applied) for the connections of one
// driver to share, with the scratch space they use while they run: an
// idle connection then holds a pointer to its policy rather than a copy.
// Like a BufferPool, a Policy serves its connections one call at a time. A
// socket option that changes a setting of the policy (keepalive, the user
// timeout) gives that connection a copy of its own.
type Policy struct {
	cfg Config
	out wire.Segment // the segment being sent (newSeg): valid during emit only
	// chal is the stack-wide challenge-ACK budget (StackChallengeACKs),
	// shared with the copies socket options make (ownConfig).
	chal *chalBudget
	// mem is the buffer budget (memory.go), shared with those copies too.
	mem *memBudget
	// txFree holds retransmission queues' arrays that connections gave
	// back when everything they sent was acknowledged.
	txFree    [][]txSeg
	txFreeCap int // records in txFree's arrays
}

// maxFreeTx bounds the records a Policy keeps for reuse (3 MiB).
const maxFreeTx = 64 << 10

func (p *Policy) getTx() []txSeg {
	if n := len(p.txFree); n > 0 {
		t := p.txFree[n-1]
		p.txFree[n-1] = nil
		p.txFree = p.txFree[:n-1]
		p.txFreeCap -= cap(t)
		return t
	}
	return nil
}

func (p *Policy) putTx(t []txSeg) {
	if cap(t) > 0 && p.txFreeCap+cap(t) <= maxFreeTx {
		p.txFree = append(p.txFree, t)
		p.txFreeCap += cap(t)
	}
}

// NewPolicy returns the policy of cfg with its defaults applied. Drivers
// check cfg with Validate first; a Conn made from an invalid Config falls
// back to defaults where it can.
func NewPolicy(cfg Config) *Policy {
	return &Policy{cfg: cfg.withDefaults(), chal: &chalBudget{sec: -1}, mem: new(memBudget)}
}

// chalBudget is what is left of one second's challenge ACKs for all the
// connections of a Policy.
type chalBudget struct {
	sec  int64 // the second (of the driver's clock) the budget is for
	left int
}

// stackChallengeOK takes one challenge ACK from the stack-wide budget of
// the current second and reports whether there was one. Linux's
// tcp_send_challenge_ack: "half + get_random_u32_below(ack_limit)".
func (p *Policy) stackChallengeOK(now clock.Time) bool {
	limit := p.cfg.StackChallengeACKs
	if limit < 0 || p.chal == nil {
		return true
	}
	if sec := int64(now) / int64(time.Second); sec != p.chal.sec {
		p.chal.sec, p.chal.left = sec, limit
		if r := p.cfg.Rand; r != nil && limit > 0 {
			p.chal.left = (limit+1)/2 + int(r.Uint64()%uint64(limit))
		}
	}
	if p.chal.left <= 0 {
		return false
	}
	p.chal.left--
	return true
}
