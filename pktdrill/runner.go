package pktdrill

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// packetdrill's defaults.
var (
	LocalAddr  = netip.MustParseAddr("192.168.0.1") // the stack under test
	RemoteAddr = netip.MustParseAddr("192.0.2.1")   // the scripted peer
)

const (
	// ServerPort is the port the stack binds and connects to.
	ServerPort = 8080
	// PeerPort is the scripted peer's (ephemeral) port for connections
	// the stack accepts.
	PeerPort = 48888
	// DefaultTolerance is packetdrill's --tolerance_usecs default.
	DefaultTolerance = 4 * time.Millisecond
	// DefaultTolerancePercent is packetdrill's --tolerance_percent
	// default: on the real clock an event may also be off by this share
	// of the time since the previous event (the kernel's timer wheel is
	// exact to 12.5% since Linux 4.8, packetdrill's config.c says).
	DefaultTolerancePercent = 12.5
	// maxWait bounds how long the runner waits for a packet or a blocking
	// call beyond the times the script gives (virtual time).
	maxWait = 120 * time.Second
)

// Options configure a run.
type Options struct {
	// Strict selects packetdrill's own matching; otherwise tolerant mode,
	// as the corpus README defines it.
	Strict bool
	// Profile is "synack" (default) or "linux"; see ProfileConfig.
	Profile string
	// Log, if set, receives a line per event and per packet.
	Log io.Writer
	// Kernel runs the script against this machine's own TCP instead of
	// synack's, in a private network namespace on the real clock
	// (kernel.go); it needs Linux and root, and implies Strict (the
	// kernel is the TCP packetdrill's own matching was written for).
	Kernel bool
	// Tolerance is the timing tolerance, as packetdrill's
	// --tolerance_usecs (0: DefaultTolerance); a script's own
	// --tolerance_usecs line wins.
	Tolerance time.Duration
	// IPVersion is packetdrill's --ip_version: IPv4 (""), IPv6 or
	// IPv4Mapped; a script's own --ip_version line wins.
	IPVersion string
}

// Kinds of failure, told apart in the summary.
const (
	// Failed: the stack did something else than the script says.
	Failed = "failed"
	// Unsupported: the runner cannot express what the script does.
	Unsupported = "unsupported"
	// Malformed: the script is wrong (a parse error, a bad argument).
	Malformed = "malformed"
)

// Failure is the first mismatch of a run.
type Failure struct {
	File string
	Line int
	// At is the virtual time the mismatch was found.
	At time.Duration
	// Msg says what went wrong; Expected and Actual, when set, are the
	// script's packet or value and what the stack did.
	Msg              string
	Expected, Actual string
	// Kind is Failed, Unsupported or Malformed ("" is Failed).
	Kind string
}

// KindOf is f's kind, Failed if unset.
func (f *Failure) KindOf() string {
	if f == nil || f.Kind == "" {
		return Failed
	}
	return f.Kind
}

func (f *Failure) Error() string {
	var b strings.Builder
	if f.Line > 0 {
		fmt.Fprintf(&b, "%s:%d: ", f.File, f.Line)
	} else {
		fmt.Fprintf(&b, "%s: ", f.File)
	}
	if f.At >= 0 {
		fmt.Fprintf(&b, "at %ss: ", fmtSecs(f.At))
	}
	b.WriteString(f.Msg)
	if f.Expected != "" || f.Actual != "" {
		fmt.Fprintf(&b, "\n    script: %s\n    actual: %s", f.Expected, f.Actual)
	}
	return b.String()
}

// lineError is a run that cannot start, at a line of the script.
type lineError struct {
	line int
	msg  string
	kind string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// Result is the outcome of one script.
type Result struct {
	File string
	// Pass: the script ran as written; or, for a script annotated with
	// "// Failure:", it failed at the annotated line.
	Pass bool
	// ExpectedFailure is set for annotated scripts.
	ExpectedFailure bool
	// Failure is the first mismatch (also set for an expected failure).
	Failure *Failure
	// Notes are things the runner skipped or interpreted (code blocks,
	// commands, options), each "file:line: what".
	Notes []string
	// Profile is the profile the script ran with ("synack" or "linux").
	Profile string
	// SkippedCommands counts the backquoted shell lines, which are never
	// run (each has a note); the corpus's set Linux sysctls, which the
	// linux profile stands for.
	SkippedCommands int
}

// Summary is one line: "PASS file", "FAIL file: reason".
func (r *Result) Summary() string {
	switch {
	case r.Pass && r.ExpectedFailure:
		return fmt.Sprintf("PASS %s (failed as the script expects: %s)", r.File, firstLine(r.Failure.Error()))
	case r.Pass:
		return "PASS " + r.File
	case r.ExpectedFailure && r.Failure == nil:
		return fmt.Sprintf("FAIL %s: the script is annotated to fail but ran to the end", r.File)
	case r.ExpectedFailure:
		return fmt.Sprintf("FAIL %s: failed at another line than the annotated one: %s", r.File, r.Failure.Error())
	}
	return "FAIL " + r.Failure.Error()
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// RunFile parses and runs a script; an unreadable or malformed script is a
// failure naming its line.
func RunFile(path string, opts Options) *Result {
	s, err := ParseFile(path)
	if err != nil {
		f := &Failure{File: path, At: -1, Msg: err.Error(), Kind: Malformed}
		var se *SyntaxError
		if errors.As(err, &se) {
			f.Line, f.Msg = se.Line, "parse error: "+se.Msg
		} else {
			f.Msg = strings.TrimPrefix(err.Error(), path+": ")
		}
		return &Result{File: path, Failure: f}
	}
	return Run(s, opts)
}

// Run executes a parsed script against a fresh synack stack on a virtual
// clock.
func Run(s *Script, opts Options) *Result {
	res := &Result{File: s.Name, ExpectedFailure: len(s.ExpectFailure) > 0, Profile: opts.Profile}
	if res.Profile == "" {
		res.Profile = "synack"
	}
	if opts.Kernel {
		res.Profile = "kernel"
		opts.Strict = true
	}
	r, err := newRunner(s, opts, res)
	if err != nil {
		res.Failure = &Failure{File: s.Name, At: -1, Msg: err.Error(), Kind: Unsupported}
		var le *lineError
		if errors.As(err, &le) {
			res.Failure.Line, res.Failure.Msg, res.Failure.Kind = le.line, le.msg, le.kind
		}
		return res
	}
	if r.k != nil {
		defer r.k.release()
	}
	res.Failure = r.run()
	for i := range s.Commands {
		if c := &s.Commands[i]; len(s.Events) > 0 && c.Line > s.Events[0].Line {
			r.skipCommand(c) // a cleanup command
		}
	}
	if res.ExpectedFailure {
		want := s.ExpectFailure[0].EventLine
		res.Pass = res.Failure != nil && res.Failure.Line == want
	} else {
		res.Pass = res.Failure == nil
	}
	return res
}

type outPkt struct {
	at    clock.Time
	seg   wire.Segment
	opts  []TCPOption // as on the wire, in order
	timer bool        // sent from a timer, not in answer to an input or a call
	src   netip.Addr
	dst   netip.Addr
}

type runner struct {
	s      *Script
	opts   Options
	res    *Result
	tol    time.Duration
	tolPct float64 // --tolerance_percent; DefaultTolerancePercent on the real clock
	mss    int     // --mss: the gso_size of the packets injected into the kernel
	st     *stack.Stack
	k      kernelBackend // set for a --kernel run, st nil

	// localAddr and remoteAddr are the stack's and the peer's addresses
	// on the wire (remapped for the kernel).
	localAddr, remoteAddr netip.Addr
	// ipv is the run's --ip_version (ipver.go).
	ipv string

	now clock.Time
	out []outPkt

	localISN   seq.Value
	haveISN    bool
	activePort uint16 // our port of an active open, 0 if none

	// TS.Recent as RFC 7323 §4.3 defines it, kept from what the script
	// injects and what the stack sends (tolerant matching).
	tsRecent     uint32
	haveTSRecent bool
	lastAckSent  seq.Value // Last.ACK.sent, in the peer's space
	haveLastAck  bool
	sndNxtRel    uint32 // the end of what the stack sent, relative to its ISN
	haveSndNxt   bool
	sndUnaRel    uint32 // the highest acknowledgment injected, relative to the stack's ISN
	haveSndUna   bool
	// owedACKs counts injected segments the RFCs say the stack must
	// answer with an ACK and otherwise drop (owesACK); peerWnd0, that
	// the latest injected segment closed the peer's window (tolerant
	// matching, match.go).
	owedACKs int
	peerWnd0 bool

	// The previous matched outbound line, if its segment came from a
	// timer: a backoff series is checked copy to copy (match.go).
	prevTimerAt   clock.Time
	prevTimerGap  time.Duration
	prevTimer     bool
	prevTimerLine *Packet
	lastOutTSVal  uint32
	haveOutTS     bool
	tsOffset      uint32            // live TSval - script TSval, from the first outbound TS
	tsMap         map[uint32]uint32 // script TSval -> live TSval of each matched outbound line
	peerSYN       []TCPOption       // options of the latest SYN injected
	havePeerSYN   bool
	haveTSOffset  bool

	socks  map[int64]*sock
	nextFD int64
	codeFD int64 // the descriptor the latest call named, for %{ }%

	pending    *pendingCall
	pendingErr *Failure

	// Times of the previous event, for relative times and tolerant
	// timing.
	lastEvent     *Event
	lastEventTime clock.Time
	cur           *Event
	// keepIdle is net.ipv4.tcp_keepalive_time if a command set it: the
	// idle time of a socket with SO_KEEPALIVE and no TCP_KEEPIDLE.
	keepIdle time.Duration
	// shift moves the script's absolute times (tolerant matching): by
	// how much earlier or later than written the stack's own timers sent
	// the segments matched so far (match.go, outbound), as a relative
	// time already counts from when the previous segment came.
	shift     time.Duration
	shiftedAt clock.Time // the time the latest outbound line matched, if it moved the clock
	shifted   bool
}

func newRunner(s *Script, opts Options, res *Result) (*runner, error) {
	cfg, err := ProfileConfig(opts.Profile)
	if err != nil {
		return nil, err
	}
	tol := DefaultTolerance
	if opts.Tolerance > 0 {
		tol = opts.Tolerance
	}
	r := &runner{s: s, opts: opts, res: res, tol: tol, socks: map[int64]*sock{}, nextFD: 3,
		localAddr: LocalAddr, remoteAddr: RemoteAddr, ipv: IPv4, tsMap: map[uint32]uint32{}}
	tolPctSet := false
	if opts.IPVersion != "" {
		v, err := ipVersion(opts.IPVersion)
		if err != nil {
			return nil, &lineError{0, err.Error(), Malformed}
		}
		r.ipv = v
	}
	for _, o := range s.Options {
		switch o.Name {
		case "tolerance_usecs":
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil || n <= 0 {
				return nil, &lineError{o.Line, fmt.Sprintf("bad --tolerance_usecs %q: expected a positive number of microseconds", o.Value), Malformed}
			}
			r.tol = time.Duration(n) * time.Microsecond
		case "tolerance_percent":
			v, err := strconv.ParseFloat(o.Value, 64)
			if err != nil || v < 0 || v > 100 {
				return nil, &lineError{o.Line, fmt.Sprintf("bad --tolerance_percent %q: expected a percentage from 0 to 100", o.Value), Malformed}
			}
			r.tolPct, tolPctSet = v, true
		case "mss":
			n, err := strconv.Atoi(o.Value)
			if err != nil || n <= 0 || n > 65535 {
				return nil, &lineError{o.Line, fmt.Sprintf("bad --mss %q: expected a segment size in bytes", o.Value), Malformed}
			}
			r.mss = n
			if !opts.Kernel {
				r.note(o.Line, "option --mss=%d: the gso_size of injected packets, which only a kernel's device reads; synack takes each packet as one segment", n)
			}
		case "ip_version":
			v, err := ipVersion(o.Value)
			if err != nil {
				return nil, &lineError{o.Line, err.Error(), Malformed}
			}
			r.ipv = v
		case "tcp_ts_ecr_scaled":
			r.note(o.Line, "option --tcp_ts_ecr_scaled: an ecr that is no outbound line's TSval is interpolated from the first, as it asks (the runner always does)")
		default:
			if !packetdrillOptions[o.Name] {
				return nil, &lineError{o.Line, fmt.Sprintf("unknown option --%s: packetdrill has no such option (it would stop with \"unrecognized option\")", o.Name), Malformed}
			}
			r.note(o.Line, "option --%s ignored", o.Name)
		}
	}
	for i := range s.Commands {
		if c := &s.Commands[i]; len(s.Events) == 0 || c.Line < s.Events[0].Line {
			r.skipCommand(c) // an init command
		}
	}
	if opts.Kernel && !tolPctSet {
		r.tolPct = DefaultTolerancePercent
	}
	if opts.Kernel {
		k, err := newKernel(r.mss)
		if err != nil {
			return nil, fmt.Errorf("--kernel: %w", err)
		}
		r.k, r.localAddr, r.remoteAddr = k, KernelLocalAddr, KernelRemoteAddr
		if r.wireV6() {
			r.localAddr, r.remoteAddr = KernelLocalAddr6, KernelRemoteAddr6
			if err := k.enableIPv6(); err != nil {
				k.release()
				return nil, fmt.Errorf("--kernel --ip_version=ipv6: %w", err)
			}
		}
		r.applyKernelSysctls()
		return r, nil
	}
	applySysctls(s, &cfg, r)
	sc := stack.Config{
		Name: "synack",
		Addr: LocalAddr,
		TCP:  cfg,
		Rand: rand.New(rand.NewPCG(1, 2)),
	}
	if r.wireV6() {
		sc.Addr, sc.Addr6 = netip.Addr{}, LocalAddr6
		r.localAddr, r.remoteAddr = LocalAddr6, RemoteAddr6
	}
	st, err := stack.New(sc)
	if err != nil {
		return nil, err
	}
	r.st = st
	return r, nil
}

// packetdrillOptions are packetdrill's command-line options (its
// config.c) that the runner does not interpret: a script's line naming one
// is noted as ignored; one packetdrill does not know is malformed.
var packetdrillOptions = map[string]bool{
	"bind_port": true, "code_command": true, "code_format": true, "code_sockopt": true,
	"connect_port": true, "remote_ip": true, "local_ip": true, "gateway_ip": true,
	"netmask_ip": true, "speed": true, "mtu": true, "init_scripts": true,
	"wire_client": true, "wire_server": true, "wire_server_ip": true, "wire_server_at": true,
	"wire_server_port": true, "wire_client_dev": true, "wire_server_dev": true,
	"so_filename": true, "so_flags": true, "tcp_ts_tick_usecs": true, "strict_segments": true,
	"non_fatal": true, "dry_run": true, "is_anyip": true, "send_omit_free": true,
	"debug": true, "define": true, "verbose": true, "D": true, "v": true,
}

var sysctlRE = regexp.MustCompile(`(?:/proc/sys/net/ipv4/|net\.ipv4\.)(tcp_\w+)=(\d+)`)

// applySysctls reads the sysctls a script's commands set explicitly
// (set_sysctls.py /proc/sys/net/ipv4/tcp_syn_retries=1, or sysctl -q
// net.ipv4.tcp_syn_retries=1, as --kernel reads them) and applies those
// tcp.Config can express. The commands are never run.
func applySysctls(s *Script, cfg *tcp.Config, r *runner) {
	var cmds []Command
	cmds = append(cmds, s.Commands...)
	for _, ev := range s.Events {
		if ev.Command != nil {
			cmds = append(cmds, *ev.Command)
		}
	}
	for _, c := range cmds {
		for _, m := range sysctlRE.FindAllStringSubmatch(c.Text, -1) {
			n, _ := strconv.Atoi(m[2])
			switch m[1] {
			case "tcp_syn_retries":
				cfg.SynRetries = n
			case "tcp_synack_retries":
				cfg.SynAckRetries = n
			case "tcp_retries2":
				cfg.DataRetries = n
			case "tcp_rto_max_ms":
				// Linux 6.15's cap on the backed-off RTO (RFC 6298
				// (2.5): "A maximum value MAY be placed on RTO").
				cfg.MaxRTO = time.Duration(n) * time.Millisecond
			case "tcp_rto_min_us":
				cfg.MinRTO = time.Duration(n) * time.Microsecond
			case "tcp_fin_timeout":
				cfg.FinTimeout = time.Duration(n) * time.Second
			case "tcp_keepalive_time":
				// The idle time of a socket with SO_KEEPALIVE and no
				// TCP_KEEPIDLE (applyKeepalive); tcp.Config's would
				// turn keepalive on for every connection.
				r.keepIdle = time.Duration(n) * time.Second
			case "tcp_keepalive_intvl":
				cfg.KeepAliveInterval = time.Duration(n) * time.Second
			case "tcp_keepalive_probes":
				cfg.KeepAliveCount = n
			default:
				r.note(c.Line, "sysctl %s=%s ignored: synack has no setting for it", m[1], m[2])
				continue
			}
			if n == 0 {
				// tcp.Config reads zero as "default".
				r.note(c.Line, "sysctl %s=0 ignored: synack's setting for it takes 0 for its default", m[1])
				continue
			}
			r.note(c.Line, "sysctl %s=%s applied", m[1], m[2])
		}
	}
}

// skipCommand notes a backquoted shell line, which is never run.
func (r *runner) skipCommand(c *Command) {
	r.res.SkippedCommands++
	r.note(c.Line, "command not run: `%s`", strings.TrimSpace(firstLine(c.Text)))
}

func (r *runner) note(line int, format string, args ...any) {
	n := fmt.Sprintf("%s:%d: ", r.s.Name, line) + fmt.Sprintf(format, args...)
	r.res.Notes = append(r.res.Notes, n)
	r.logf("note: %s", n)
}

func (r *runner) logf(format string, args ...any) {
	if r.opts.Log != nil {
		fmt.Fprintf(r.opts.Log, "%10ss  %s\n", fmtSecs(time.Duration(r.now)), fmt.Sprintf(format, args...))
	}
}

func fmtSecs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 6, 64)
}

func (r *runner) fail(line int, format string, args ...any) *Failure {
	return &Failure{File: r.s.Name, Line: line, At: time.Duration(r.now), Msg: fmt.Sprintf(format, args...)}
}

// unsupported is a failure of the runner: it cannot express the line.
func (r *runner) unsupported(line int, format string, args ...any) *Failure {
	f := r.fail(line, format, args...)
	f.Kind = Unsupported
	return f
}

// malformed is a failure of the script: the line is wrong.
func (r *runner) malformed(line int, format string, args ...any) *Failure {
	f := r.fail(line, format, args...)
	f.Kind = Malformed
	return f
}

// ---- driving the stack ----

func (r *runner) flush(timer bool) {
	if r.k != nil {
		r.kflush(0)
		return
	}
	r.st.Output(r.now, func(b []byte) {
		op, err := parseOut(b)
		if err != nil {
			// The stack sent something that is not TCP or does not
			// parse: keep it as a packet that matches nothing.
			r.logf("stack sent a packet that is not a TCP segment: %v", err)
			return
		}
		op.at, op.timer = r.now, timer
		seg := op.seg
		if seg.Flags&wire.SYN != 0 {
			r.localISN, r.haveISN = seg.Seq, true
		}
		r.out = append(r.out, op)
		r.logf("stack sent %s", r.formatSeg(&op))
	})
}

// advance moves virtual time to t, running the stack's timers on the way.
func (r *runner) advance(t clock.Time) {
	if r.k != nil {
		r.kwait(t, nil)
		return
	}
	for i := 0; i < 1_000_000; i++ {
		d := r.st.NextDeadline()
		if d > t {
			break
		}
		if d > r.now {
			r.now = d
		}
		r.st.HandleTimeout(r.now)
		r.flush(true)
		r.checkPending()
	}
	if t > r.now {
		r.now = t
	}
	r.flush(false)
	r.checkPending()
}

// ---- events ----

func (r *runner) run() (fail *Failure) {
	if r.k != nil {
		r.k.begin()
	}
	r.flush(false)
	for i, ev := range r.s.Events {
		r.cur = ev
		t, tend := r.resolve(ev)
		var f *Failure
		switch {
		case ev.Packet != nil && ev.Packet.Dir == Outbound:
			f = r.outbound(ev, i, t, tend)
		case ev.Packet != nil:
			f = r.waitFor(ev, t, "inbound packet")
			if f == nil {
				f = r.inbound(ev)
			}
		case ev.Syscall != nil:
			if f = r.finishPending(ev.Line); f == nil {
				if f = r.waitFor(ev, t, "system call start"); f == nil {
					f = r.syscall(ev, t, tend)
				}
			}
		case ev.Command != nil:
			f = r.waitFor(ev, t, "command")
			if f == nil {
				r.skipCommand(ev.Command)
			}
		case ev.Code != nil:
			f = r.waitFor(ev, t, "code block")
			if f == nil {
				f = r.runCode(ev)
			}
		}
		if f != nil {
			return f
		}
		if r.pendingErr != nil {
			return r.pendingErr
		}
		if r.shifted {
			t, r.shifted = r.shiftedAt, false
		}
		r.lastEvent, r.lastEventTime = ev, t
	}
	if f := r.finishPending(0); f != nil {
		return f
	}
	return nil
}

func anchored(ev *Event) bool { return ev.Packet != nil && ev.Packet.Dir == Inbound }

// resolve returns an event's start and end times, as packetdrill's
// adjust_relative_event_times does: relative times count from the current
// time, except that consecutive inbound packets count from the previous
// packet's script time.
func (r *runner) resolve(ev *Event) (clock.Time, clock.Time) {
	offset := r.now
	if r.lastEvent != nil && anchored(r.lastEvent) && anchored(ev) {
		offset = r.lastEventTime
	}
	d := func(x time.Duration) clock.Time { return clock.Time(x) }
	switch ev.Kind {
	case Absolute:
		t := d(ev.Time).Add(r.shift)
		if sc := ev.Syscall; sc != nil && sc.Blocking {
			return t, d(sc.EndTime).Add(r.shift)
		}
		return t, t
	case Relative:
		t := offset + d(ev.Time)
		if sc := ev.Syscall; sc != nil && sc.Blocking {
			return t, offset + d(sc.EndTime)
		}
		return t, t
	case AnyTime:
		return r.now, r.now
	case AbsoluteRange:
		return d(ev.Time).Add(r.shift), d(ev.End).Add(r.shift)
	default:
		return offset + d(ev.Time), offset + d(ev.End)
	}
}

// waitFor advances to an event's time; it fails if that time has passed by
// more than the tolerance.
func (r *runner) waitFor(ev *Event, t clock.Time, what string) *Failure {
	if r.k != nil {
		r.now = r.k.elapsed()
	}
	if t > r.now {
		r.advance(t)
	}
	if tol := r.tolAt(t); r.now.Sub(t) > tol {
		return r.fail(ev.Line, "timing error: expected %s at %ss but it could only happen at %ss (tolerance %ss)",
			what, fmtSecs(time.Duration(t)), fmtSecs(time.Duration(r.now)), fmtSecs(tol))
	}
	return nil
}

// tolAt is the timing tolerance of an event at t, as packetdrill's
// verify_time has it: --tolerance_usecs, or --tolerance_percent of the
// time since the previous event if that is more.
func (r *runner) tolAt(t clock.Time) time.Duration {
	tol := r.tol
	if r.lastEvent != nil && t > r.lastEventTime {
		if d := time.Duration(r.tolPct / 100 * float64(t-r.lastEventTime)); d > tol {
			tol = d
		}
	}
	return tol
}

// ---- inbound packets ----

func (r *runner) inbound(ev *Event) *Failure {
	p := ev.Packet
	if p.ICMP != nil {
		return r.inboundICMP(ev)
	}
	flags, _ := parseFlags(p.Flags)
	seg := wire.Segment{
		Seq:    seq.Value(p.Start),
		Flags:  flags,
		Window: p.Win,
		Urgent: p.Urg,
	}
	if p.HasAck {
		seg.Ack = seq.Value(p.Ack)
		if r.haveISN {
			seg.Ack = r.localISN + seq.Value(p.Ack)
		}
	}
	if p.Len > 0 {
		seg.Payload = make([]byte, p.Len)
	}
	for _, o := range p.Options {
		switch o.Kind {
		case OptMSS:
			seg.Options.HasMSS, seg.Options.MSS = true, uint16(o.Value)
		case OptWScale:
			seg.Options.HasWScale, seg.Options.WScale = true, uint8(o.Value)
		case OptSACKOK:
			seg.Options.SACKPermitted = true
		case OptSACK:
			for _, blk := range o.Blocks {
				if int(seg.Options.NumSACK) < wire.MaxSACKBlocks {
					seg.Options.SACK[seg.Options.NumSACK] = wire.SACKBlock{Left: r.localISN + seq.Value(blk[0]), Right: r.localISN + seq.Value(blk[1])}
					seg.Options.NumSACK++
				}
			}
		case OptTS:
			seg.Options.HasTimestamps = true
			seg.Options.TSVal = o.TSVal
			seg.Options.TSEcr = o.TSEcr
			// packetdrill's map_inbound_packet: an ecr that is the
			// script's TSval of an outbound line becomes that
			// segment's live TSval; any other is interpolated from
			// the first outbound TSval (its --tcp_ts_ecr_scaled).
			if live, ok := r.tsMap[o.TSEcr]; ok && flags&wire.ACK != 0 {
				seg.Options.TSEcr = live
			} else if o.TSEcr != 0 && r.haveTSOffset {
				seg.Options.TSEcr = o.TSEcr + r.tsOffset
			}
			r.takeTSRecent(seg, o.TSVal)
		}
	}
	if flags&(wire.SYN|wire.ACK) == wire.SYN {
		r.peerSYN, r.havePeerSYN = p.Options, true
	}
	r.noteInbound(seg, p)
	if r.activePort != 0 {
		seg.SrcPort, seg.DstPort = ServerPort, r.activePort
	} else {
		seg.SrcPort, seg.DstPort = PeerPort, ServerPort
	}
	b := r.buildTCP(&seg)
	r.logf("inject  %s (line %d)", p, ev.Line)
	return r.inject(ev, b)
}

// inject hands a packet the script sends to the stack or the kernel.
func (r *runner) inject(ev *Event, b []byte) *Failure {
	if r.k != nil {
		if err := r.k.send(b); err != nil {
			return r.fail(ev.Line, "writing the packet to the TUN device: %v", err)
		}
		r.kflush(0)
		r.checkPending()
		return nil
	}
	r.st.Input(r.now, b)
	r.flush(false)
	r.checkPending()
	return nil
}

func parseFlags(s string) (wire.Flags, bool) {
	var f wire.Flags
	for _, c := range s {
		switch c {
		case 'S':
			f |= wire.SYN
		case 'F':
			f |= wire.FIN
		case 'R':
			f |= wire.RST
		case 'P':
			f |= wire.PSH
		case '.':
			f |= wire.ACK
		case 'U':
			f |= wire.URG
		case 'E':
			f |= wire.ECE
		case 'W':
			f |= wire.CWR
		default:
			return f, false
		}
	}
	return f, true
}

// flagString prints flags in packetdrill's style: letters, then '.' for ACK.
func flagString(f wire.Flags) string {
	var b strings.Builder
	for _, l := range []struct {
		f wire.Flags
		c byte
	}{{wire.SYN, 'S'}, {wire.FIN, 'F'}, {wire.RST, 'R'}, {wire.PSH, 'P'}, {wire.URG, 'U'}, {wire.ECE, 'E'}, {wire.CWR, 'W'}, {wire.ACK, '.'}} {
		if f&l.f != 0 {
			b.WriteByte(l.c)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// rawOptions lists the TCP options of a TCP header as they are on the
// wire, NOPs included.
func rawOptions(tcpHdr []byte) []TCPOption {
	if len(tcpHdr) < 20 {
		return nil
	}
	doff := int(tcpHdr[12]>>4) * 4
	if doff < 20 || doff > len(tcpHdr) {
		return nil
	}
	o := tcpHdr[20:doff]
	var out []TCPOption
	for len(o) > 0 {
		k := o[0]
		if k == 0 {
			out = append(out, TCPOption{Kind: OptEOL})
			break
		}
		if k == 1 {
			out = append(out, TCPOption{Kind: OptNOP})
			o = o[1:]
			continue
		}
		if len(o) < 2 || int(o[1]) < 2 || int(o[1]) > len(o) {
			break
		}
		body := o[2:o[1]]
		switch {
		case k == 2 && len(body) == 2:
			out = append(out, TCPOption{Kind: OptMSS, Value: uint32(binary.BigEndian.Uint16(body))})
		case k == 3 && len(body) == 1:
			out = append(out, TCPOption{Kind: OptWScale, Value: uint32(body[0])})
		case k == 4:
			out = append(out, TCPOption{Kind: OptSACKOK})
		case k == 5:
			opt := TCPOption{Kind: OptSACK}
			for i := 0; i+8 <= len(body); i += 8 {
				opt.Blocks = append(opt.Blocks, [2]uint32{binary.BigEndian.Uint32(body[i:]), binary.BigEndian.Uint32(body[i+4:])})
			}
			out = append(out, opt)
		case k == 8 && len(body) == 8:
			out = append(out, TCPOption{Kind: OptTS, TSVal: binary.BigEndian.Uint32(body), TSEcr: binary.BigEndian.Uint32(body[4:])})
		}
		o = o[o[1]:]
	}
	return out
}

// formatSeg prints an outgoing segment in script syntax, its sequence
// numbers relative to our ISN and SACK blocks likewise.
func (r *runner) formatSeg(p *outPkt) string {
	pk := r.scriptView(p)
	return pk.String()
}

func (r *runner) scriptView(p *outPkt) *Packet {
	s := &p.seg
	base := seq.Value(0)
	if r.haveISN {
		base = r.localISN
	}
	pk := &Packet{Dir: Outbound, Flags: flagString(s.Flags), Start: uint32(s.Seq - base), Len: len(s.Payload)}
	if pk.Flags == "-" {
		pk.Flags = ""
	}
	pk.End = pk.Start + uint32(pk.Len)
	if s.Flags&wire.ACK != 0 {
		pk.HasAck, pk.Ack = true, uint32(s.Ack)
	}
	pk.HasWin, pk.Win = true, s.Window
	if s.Flags&wire.URG != 0 {
		pk.HasUrg, pk.Urg = true, s.Urgent
	}
	if len(p.opts) > 0 {
		pk.HasOptions = true
		// SACK blocks we send are in the peer's sequence space, which
		// scripts write as absolute numbers.
		pk.Options = append(pk.Options, p.opts...)
	}
	return pk
}
