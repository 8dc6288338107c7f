package pktdrill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
)

// ownKnownFailures lists the own scripts synack fails, each with the
// RFC text it fails: the script stays as written (the library is to be
// fixed), and a listed script that passes in any mode or profile fails
// the test, so the list stays true.
var ownKnownFailures = map[string]string{}

// ownProfileOnly names the own scripts that check a choice the RFCs leave
// to the stack and so run under one profile only (in both modes), with
// why.
var ownProfileOnly = map[string]struct{ profile, why string }{
	"keepalive-sysctls.pkt":             {"linux", "it ends with the reset Linux sends when keepalive gives up (KeepAliveReset, the linux profile's)"},
	"keepalive-timeout-rst.pkt":         {"linux", "Linux resets a connection keepalive gives up on (KeepAliveReset); synack by default drops it silently, which RFC 1122 §4.2.3.6 allows as well"},
	"data-ack-every-second-segment.pkt": {"synack", "the linux profile acknowledges the first 16 segments at once (Linux's quick-ACK mode), so its first ACK covers one segment; RFC 5681 §4.2 allows both"},
}

// TestOwnScripts runs synack's own scripts (testdata/*.pkt): every one in
// both modes (tolerant and strict) and both profiles (but those
// ownProfileOnly names). Each must pass,
// unless ownKnownFailures lists it; then it must fail in every run.
func TestOwnScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	if len(files) < 132 {
		t.Errorf("%d own scripts, fewer than the 132 there were", len(files))
	}
	for _, f := range files {
		reason, known := ownKnownFailures[filepath.Base(f)]
		for _, strict := range []bool{false, true} {
			for _, prof := range Profiles {
				if only, ok := ownProfileOnly[filepath.Base(f)]; ok && only.profile != prof {
					continue
				}
				r := RunFile(f, Options{Strict: strict, Profile: prof})
				switch {
				case known && r.Pass:
					t.Errorf("strict=%v profile=%s: %s passes but is listed as a known failure (%s): remove it from ownKnownFailures", strict, prof, f, reason)
				case !known && !r.Pass:
					t.Errorf("strict=%v profile=%s: %s", strict, prof, r.Summary())
				case known && r.Failure.KindOf() != Failed:
					t.Errorf("strict=%v profile=%s: known failure %s fails as %s, not as a stack failure: %s", strict, prof, f, r.Failure.KindOf(), r.Summary())
				}
			}
		}
	}
	for name := range ownKnownFailures {
		if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
			t.Errorf("ownKnownFailures names %s, which does not exist", name)
		}
	}
}

// TestMismatchesAreCaught changes one line of an own script and checks
// that the run fails at that line with the message given.
func TestMismatchesAreCaught(t *testing.T) {
	cases := []struct {
		file, from, to string
		strict         bool
		line           int
		msg            string
	}{
		{"syn-backoff.pkt", "  7.000 > S", "  6.000 > S", true, 17, "timed out waiting for packet (expected at 6.000000s)"},
		{"syn-backoff.pkt", "  7.000 > S", "  8.000 > S", true, 17, "timing error: expected outbound packet at 8.000000s but it was sent at 7.000000s"},
		{"time-wait.pkt", "  +.2 < . 2:2(0) ack 2 win 65535", "   +0 < . 2:2(0) ack 2 win 65535", true, 33, "timed out waiting for packet"},
		{"closing.pkt", "0.400 > F. 1:1(0) ack 2", "0.400 > F. 1:1(0) ack 1", false, 24, "bad outbound packet: ack: expected 1, got 2"},
		{"rfc5961.pkt", "  +.1 < R 100:100(0) win 65535", "  +.1 < R 1:1(0) win 65535", false, 18, "timed out waiting for packet (expected at 0.200000s)"},
		{"rfc5961.pkt", "= -1 ECONNRESET", "= -1 EPIPE", false, 39, "Expected errno EPIPE but got -1 with errno 104"},
		{"simultaneous-open.pkt", "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>", "+0 > S. 0:0(0) ack 1 win 65535 <mss 1000>", true, 20, "TCP options: expected <mss 1000>, got <mss 1460>"},
		{"keepalive.pkt", "10.100 > .", "10.000 > .", true, 25, "timed out waiting for packet (expected at 10.000000s)"},
		{"keepalive.pkt", "TCP_KEEPCNT, [3]", "TCP_KEEPCNT, [4]", false, 31, "blocking read did not return by 35.204000s"},
		{"keepalive.pkt", "SO_KEEPALIVE, [1]", "SO_KEEPALIVE, [0]", false, 25, "timed out waiting for packet (expected at 10.100000s)"},
		// A keepalive the script set is the application's timer: its
		// time is checked in tolerant mode too.
		{"keepalive.pkt", "10.100 > .", "10.300 > .", false, 25, "timing error: expected outbound packet at 10.300000s but it was sent at 10.100000s"},
		{"linger-abort.pkt", "{onoff=1, linger=0}, 8", "{onoff=0, linger=0}, 8", false, 20, "SO_LINGER: expected {onoff=1, linger=0}, got {onoff=0, linger=0}"},
		{"linger-abort.pkt", "TCP_NODELAY, [1], [4]", "TCP_NODELAY, [0], [4]", false, 17, "TCP_NODELAY: expected value [0], got [1]"},
		// synack cannot take the urgent octet out of the stream.
		{"urgent-oobinline.pkt", "SO_OOBINLINE, [1]", "SO_OOBINLINE, [0]", false, 18, "setsockopt SO_OOBINLINE 0: synack has no out-of-band delivery"},
		{"zero-window.pkt", "0.400 > . 0:0(0) ack 1", "0.400 > . 1:1(0) ack 1", false, 18, "sequence number: expected 1, got 0"},
		// ICMP lines: the quote's sequence number and the MTU reach the
		// stack as written.
		{"icmp-pmtu-lowers-mss.pkt", "mtu 1200 [1:1461(1460)]", "mtu 1200 [1461:2921(1460)]", false, 18, "timed out waiting for packet"},
		{"icmp-pmtu-lowers-mss.pkt", "mtu 1200 [1:1461(1460)]", "mtu 1300 [1:1461(1460)]", false, 18, "payload length: expected 1160, got 1260"},
		{"icmp-synsent-port-unreachable.pkt", "port_unreachable [0:0(0)]", "port_unreachable [1:1(0)]", false, 8, "blocking connect did not return"},
		{"ipv6-packet-too-big.pkt", "mtu 1280 [1:1441(1440)]", "mtu 1400 [1:1441(1440)]", false, 19, "payload length: expected 1220, got 1340"},
		// --ip_version=ipv6 puts the stack on IPv6: it announces the
		// IPv6 MSS (1500 - 60).
		{"ipv6-passive-open.pkt", "0.000 > S. 0:0(0) ack 1 <...>", "0.000 > S. 0:0(0) ack 1 <mss 1460>", true, 10, "TCP options: expected <mss 1460>, got <mss 1440"},
	}
	for _, c := range cases {
		b, err := os.ReadFile(filepath.Join("testdata", c.file))
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		if !strings.Contains(src, c.from) {
			t.Fatalf("%s: no line %q", c.file, c.from)
		}
		src = strings.Replace(src, c.from, c.to, 1)
		s, err := Parse(c.file, []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		r := Run(s, Options{Strict: c.strict})
		if r.Pass || r.Failure == nil {
			t.Errorf("%s with %q: passed, want a failure at line %d", c.file, c.to, c.line)
			continue
		}
		if r.Failure.Line != c.line || !strings.Contains(r.Failure.Error(), c.msg) {
			t.Errorf("%s with %q: got\n%s\nwant line %d with %q", c.file, c.to, r.Failure.Error(), c.line, c.msg)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0)\n", "x.pkt:2: expected 'win N' on an inbound packet, found none"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\n+0 > S 0:5(0)\n", "x.pkt:3: expected a payload length equal to end-start (5), found 0"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <mss>\n", "x.pkt:2: expected an MSS value after 'mss', found \">\""},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n* write(3, ..., 1) = 1\n", "x.pkt:2: expected an outbound packet ('>') after a '*' time"},
		{"0.5 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "x.pkt:1: expected the first event at time 0, found 0.5"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > Q 0:0(0)\n", "x.pkt:2: expected TCP flag letters"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 1 <...>\n", "x.pkt:2: expected a list of TCP options on an inbound packet, found <...>"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP = 3\n", "x.pkt:2: expected ',' or \")\" in an argument list, found end of file"},
		{"/* open\n0 socket()\n", "x.pkt:1: expected the end of a /* comment"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0.1~+0.2 < S 0:0(0) win 1\n", "x.pkt:2: expected an outbound packet ('>') after a '*' time or a time range"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <mss 1460\n", "x.pkt:3: expected \">\" or ',' after a TCP option, found end of file"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S. 0:0(0) ack 99999999999\n", "x.pkt:2: expected an acknowledgment number after 'ack' (0 to 4294967295)"},
		{"", "x.pkt:1: expected at least one event, found none"},
		{"0 socket\x00", "x.pkt:1: expected script text, found a NUL byte"},
	}
	for _, c := range cases {
		_, err := Parse("x.pkt", []byte(c.src))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Parse(%q):\n got %v\nwant %s...", c.src, err, c.want)
		}
	}
}

// TestBadScriptIsAFailure: a malformed or unreadable script fails, naming
// its line.
func TestBadScriptIsAFailure(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pkt")
	if err := os.WriteFile(bad, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < S 0:0(0) win 70000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := RunFile(bad, Options{})
	if r.Pass || r.Failure == nil || r.Failure.Line != 2 || !strings.Contains(r.Summary(), "bad.pkt:2: parse error: expected a window after 'win' (0 to 65535), found number 70000") {
		t.Errorf("got %s", r.Summary())
	}
	r = RunFile(filepath.Join(dir, "missing.pkt"), Options{})
	if r.Pass || !strings.Contains(r.Summary(), "missing.pkt: cannot read script") {
		t.Errorf("got %s", r.Summary())
	}
}

func TestParseRoundTrip(t *testing.T) {
	src := `--tolerance_usecs=10000
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0...0.2 connect(3, ..., ...) = 0
*  > S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>
+.1 < S. 0:0(0) ack 1 win 5792 <mss 1460,nop,nop,sack 1:2 3:4>
+0~+.04 > . 1:1(0) ack 1 <...>
+0 poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1
+0 writev(3, [{..., 10}, {..., 20}], 2) = 30
+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]
+0 %{ print(tcpi_rto) }%
`
	s, err := Parse("rt.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range s.Events {
		switch {
		case ev.Packet != nil:
			got = append(got, ev.Packet.String())
		case ev.Syscall != nil:
			got = append(got, ev.Syscall.Name+"("+joinExprs(ev.Syscall.Args, ", ")+") = "+ev.Syscall.Result.String())
		case ev.Code != nil:
			got = append(got, "code")
		}
	}
	want := []string{
		"socket(..., SOCK_STREAM, IPPROTO_TCP) = 3",
		"connect(3, ..., ...) = 0",
		"> S 0:0(0) <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 8>",
		"< S. 0:0(0) ack 1 win 5792 <mss 1460,nop,nop,sack 1:2 3:4>",
		"> . 1:1(0) ack 1 <...>",
		"poll([{fd=3, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 0) = 1",
		"writev(3, [{..., 10}, {..., 20}], 2) = 30",
		"< icmp unreachable frag_needed",
		"code",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Options[0].Name != "tolerance_usecs" || s.Options[0].Value != "10000" {
		t.Errorf("options %+v", s.Options)
	}
	if ev := s.Events[1]; !ev.Syscall.Blocking || ev.Syscall.EndTime.Seconds() != 0.2 {
		t.Errorf("blocking call %+v", ev.Syscall)
	}
	if ev := s.Events[4]; ev.Kind != RelativeRange || ev.End.Seconds() != 0.04 {
		t.Errorf("range %+v", ev)
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.pkt")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0...0.1 read(3, ..., 1) = -1 EAGAIN (x)\n* > S. 0:0(0) ack 1 <...>\n"))
	f.Add([]byte("--mss=1000\n--tolerance_percent=12.5\n--tcp_ts_ecr_scaled\n--frob=1\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse("fuzz.pkt", b)
		if err != nil {
			var se *SyntaxError
			if !asSyntax(err, &se) || se.Line < 1 || !strings.HasPrefix(err.Error(), "fuzz.pkt:") || !strings.Contains(se.Msg, "expected") {
				t.Fatalf("error without file:line and 'expected': %v", err)
			}
			return
		}
		// A parsed script runs without panicking (bounded: tiny scripts
		// only, times are virtual).
		if len(s.Events) < 20 {
			if r := Run(s, Options{}); r.Failure != nil && r.Failure.KindOf() == Malformed && r.Failure.Line < 1 && len(s.Options) > 0 {
				t.Fatalf("a malformed script without its line: %s", r.Summary())
			}
		}
	})
}

// Every backquoted shell line is reported as not run, at its line, with
// the command, whether it is an init line outside the events or an event
// of its own; and the result names the profile the script ran with.
func TestSkippedCommandsAreNoted(t *testing.T) {
	src := "`../common/defaults.sh`\n" +
		"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" +
		"+0 `sysctl -q net.ipv4.tcp_syn_retries=1`\n" +
		"+0 close(3) = 0\n" +
		"`echo done`\n"
	s, err := Parse("cmds.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r := Run(s, Options{})
	if !r.Pass {
		t.Fatalf("%s", r.Summary())
	}
	notes := strings.Join(r.Notes, "\n")
	for _, want := range []string{
		"cmds.pkt:1: command not run: `../common/defaults.sh`",
		"cmds.pkt:3: command not run: `sysctl -q net.ipv4.tcp_syn_retries=1`",
		"cmds.pkt:5: command not run: `echo done`",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if r.Profile != "synack" || r.SkippedCommands != 3 {
		t.Errorf("profile %q, %d commands skipped; want synack, 3", r.Profile, r.SkippedCommands)
	}
	if r := Run(s, Options{Profile: "linux"}); r.Profile != "linux" {
		t.Errorf("profile %q, want linux", r.Profile)
	}
}

// tcpInfoScript checks a connection with %{ }% blocks over tcp_info.
const tcpInfoScript = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <...>
+.1 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4
+0 %{ assert tcpi_state == TCP_ESTABLISHED, tcpi_state }%
+0 %{ assert tcpi_snd_mss == 1460 and tcpi_retransmits == 0 }%
`

func TestTCPInfoBlocks(t *testing.T) {
	run := func(src string, opts Options) *Result {
		s, err := Parse("info.pkt", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return Run(s, opts)
	}
	if r := run(tcpInfoScript, Options{}); !r.Pass {
		t.Errorf("tcp_info blocks: %s", r.Summary())
	}
	cases := []struct{ from, to, kind, msg string }{
		{"tcpi_snd_mss == 1460", "tcpi_snd_mss == 1000", Failed, "assertion failed: tcpi_snd_mss == 1000 (tcpi_snd_mss is 1460, 1000 is 1000)"},
		{"tcpi_snd_mss == 1460", "tcpi_unacked == 0", Unsupported, "tcpi_unacked is not supported: tcp.Info reports unacknowledged bytes, not segments"},
		{"assert tcpi_state", "print tcpi_state", Unsupported, "only assert statements over tcp_info are supported"},
	}
	for _, c := range cases {
		r := run(strings.Replace(tcpInfoScript, c.from, c.to, 1), Options{})
		if r.Pass || r.Failure.KindOf() != c.kind || !strings.Contains(r.Failure.Msg, c.msg) {
			t.Errorf("%s: want %s %q, got %s", c.to, c.kind, c.msg, r.Summary())
		}
	}
	if KernelAvailable() == nil {
		if r := run(tcpInfoScript, Options{Kernel: true, Tolerance: 20 * time.Millisecond}); !r.Pass {
			t.Errorf("tcp_info blocks against the kernel: %s", r.Summary())
		}
	}
}

// A retransmission series whose first interval the stack chose (RFC 6298
// leaves the initial RTO to it, "1 second" being a SHOULD) passes in
// tolerant mode when each next interval doubles (§5.5: "The host MUST set
// RTO <- RTO * 2"), though the script's own intervals (Linux's 200 ms
// SYN-ACK-like series here) are shorter: the stack's first copy comes
// after the script's second, which a bound at the next line's time
// rejected.
func TestBackoffSeries(t *testing.T) {
	src := "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" +
		"+0...127 connect(3, ..., ...) = -1 ETIMEDOUT (Connection timed out)\n" +
		"+0 > S 0:0(0) win 65535 <...>\n+.2 > S 0:0(0) win 65535 <...>\n+.4 > S 0:0(0) win 65535 <...>\n" +
		"+.8 > S 0:0(0) win 65535 <...>\n+1.6 > S 0:0(0) win 65535 <...>\n+3.2 > S 0:0(0) win 65535 <...>\n+6.4 > S 0:0(0) win 65535 <...>\n"
	s, err := Parse("series.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if r := Run(s, Options{}); !r.Pass {
		t.Errorf("tolerant: %s", r.Summary())
	}
	if r := Run(s, Options{Strict: true}); r.Pass {
		t.Errorf("strict mode passed a series at other times than written")
	}

	// Copy to copy: at least the previous interval, at most double it.
	p := &Packet{Dir: Outbound, Flags: "S"}
	ev := &Event{Packet: p, Line: 9}
	r := &runner{tol: DefaultTolerance, prevTimer: true, prevTimerLine: p,
		prevTimerAt: clock.Time(3 * time.Second), prevTimerGap: 2 * time.Second}
	far := clock.Time(100 * time.Second)
	for _, c := range []struct {
		gap  time.Duration
		want bool
	}{{4 * time.Second, true}, {2 * time.Second, true}, {5 * time.Second, false}, {time.Second, false}} {
		sp := outPkt{at: r.prevTimerAt.Add(c.gap), timer: true}
		if got := r.timeOK(ev, sp, far, far, far); got != c.want {
			t.Errorf("interval %v after one of 2s: timeOK %v, want %v", c.gap, got, c.want)
		}
	}
}

// A bad --ip_version is the script's fault, at its line; so is an ICMP
// type the runner does not know.
func TestIPVersionAndICMPErrors(t *testing.T) {
	cases := []struct{ src, kind, msg string }{
		{"--ip_version=ipv5\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", Malformed, "x.pkt:1: bad --ip_version=ipv5: expected ipv4, ipv6 or ipv4-mapped-ipv6"},
		{"0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < icmp bogus\n", Malformed, "x.pkt:2: at 0.000000s: unknown ICMP type \"bogus\""},
		{"--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 < icmp unreachable bogus_code\n", Malformed, "x.pkt:3: at 0.000000s: unknown ICMPv6 code \"bogus_code\" for type unreachable"},
	}
	for _, c := range cases {
		s, err := Parse("x.pkt", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		r := Run(s, Options{})
		if r.Pass || r.Failure.KindOf() != c.kind || !strings.HasPrefix(r.Summary(), "FAIL "+c.msg) {
			t.Errorf("%q: got %s (%s), want %s %q", c.src, r.Summary(), r.Failure.KindOf(), c.kind, c.msg)
		}
	}
}

// An option packetdrill does not know stops a run at its line, as
// packetdrill's getopt does ("unrecognized option"); one it knows that the
// runner does not interpret is noted; a bad value of one the runner reads
// names the option, the line and what was expected.
func TestScriptOptions(t *testing.T) {
	for _, c := range []struct {
		src, kind, msg string
		line           int
	}{
		{"--frob=1\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", Malformed, "unknown option --frob", 1},
		{"--tolerance_usecs=10000\n--mss=abc\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", Malformed, `bad --mss "abc"`, 2},
		{"--tolerance_percent=200\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", Malformed, `bad --tolerance_percent "200"`, 1},
		{"--tcp_ts_tick_usecs=1000\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n", "", "", 0},
	} {
		s, err := Parse("opt.pkt", []byte(c.src))
		if err != nil {
			t.Fatal(err)
		}
		r := Run(s, Options{})
		if c.kind == "" {
			if !r.Pass || len(r.Notes) == 0 || !strings.Contains(strings.Join(r.Notes, "\n"), "opt.pkt:1: option --tcp_ts_tick_usecs ignored") {
				t.Errorf("%q: %s, notes %q", c.src, r.Summary(), r.Notes)
			}
			continue
		}
		if r.Pass || r.Failure.KindOf() != c.kind || r.Failure.Line != c.line || !strings.Contains(r.Failure.Msg, c.msg) {
			t.Errorf("%q: %s (kind %s), want %s at line %d saying %q", c.src, r.Summary(), r.Failure.KindOf(), c.kind, c.line, c.msg)
		}
	}
}
