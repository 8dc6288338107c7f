package pktdrill

import (
	"net/netip"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// Addresses of a --kernel run. packetdrill's defaults (LocalAddr
// 192.168.0.1 for the stack under test, RemoteAddr 192.0.2.1 for the
// scripted peer) are remapped into 198.18.0.0/15 (RFC 2544's benchmarking
// range), the only addresses the project's tools use inside a namespace:
// the kernel is KernelLocalAddr and the scripted peer KernelRemoteAddr,
// the two ends of the namespace's TUN device (internal/netns). Scripts
// never name addresses in their packet lines, so the remapping does not
// change what a script checks.
var (
	KernelLocalAddr  = netip.MustParseAddr("198.18.0.1")
	KernelRemoteAddr = netip.MustParseAddr("198.18.0.2")
)

// kernelMaxWait bounds a wait on the real clock (a packet expected at any
// time, a script's last line).
const kernelMaxWait = 10 * time.Second

// kernelBackend is the kernel's TCP in a private network namespace,
// reached through a TUN device and real sockets (kernel_linux.go).
type kernelBackend interface {
	// elapsed is the real time since begin.
	elapsed() clock.Time
	// begin starts the script's clock.
	begin()
	// recv returns a packet the kernel sent and when, waiting up to wait.
	recv(wait time.Duration) ([]byte, clock.Time, bool)
	// send writes a packet to the kernel.
	send(b []byte) error
	// prepare is the kernel's version of runner.prepare.
	prepare(r *runner, ev *Event) (attemptFn, *Failure)
	// sysctl sets net.ipv4.NAME inside the namespace.
	sysctl(name, value string) error
	// tcpInfo reads a tcp_info field of the socket at script fd.
	tcpInfo(fd int64, name string) (int64, error)
	// enableIPv6 gives the namespace's TUN KernelLocalAddr6 (the
	// namespace is made with IPv6 off).
	enableIPv6() error
	// release closes every socket and removes the namespace.
	release()
}

// KernelAvailable says why --kernel cannot run here, or nil.
func KernelAvailable() error { return kernelAvailable() }

// defaultsSh are the per-namespace sysctls of the scripts' defaults.sh
// (packetdrill's gtests/net/common/defaults.sh and the Linux selftests'
// tools/testing/selftests/net/packetdrill/defaults.sh set the same ones,
// but for tcp_fastopen). Every --kernel run starts with them, as on a
// machine where defaults.sh has run: the environment the corpus README
// says its scripts assume (timestamps and SACK on, the receive buffer
// that makes window scale 8, and so on), scripts that do not run it
// themselves included. tcp_fastopen is set only for a script that runs
// defaults.sh (fastopenOf); a fresh namespace has the kernel's default.
// tcp_fack is gone from recent kernels (skipped with a note). defaults.sh's
// "tc qdisc add dev tun0 root pfifo" (so that FQ does not pace the flows)
// is not run: the device takes the host's default qdisc.
var defaultsSh = [][2]string{
	{"tcp_rmem", "4096 540000 15728640"}, // window scale 8
	{"tcp_wmem", "4096 262144 4194304"},
	{"tcp_timestamps", "1"},
	{"tcp_syn_retries", "5"},
	{"tcp_synack_retries", "5"},
	{"tcp_frto", "2"},
	{"tcp_sack", "1"},
	{"tcp_dsack", "1"},
	{"tcp_fack", "0"},
	{"tcp_reordering", "3"},
	{"tcp_congestion_control", "cubic"},
	{"tcp_slow_start_after_idle", "0"},
	{"tcp_early_retrans", "4"},
	{"tcp_recovery", "1"},
	{"tcp_tso_win_divisor", "3"},
	{"tcp_ecn", "0"},
	{"tcp_pacing_ss_ratio", "200"},
	{"tcp_pacing_ca_ratio", "120"},
	{"tcp_notsent_lowat", "4294967295"},
	{"tcp_fastopen_key", "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4"},
	{"tcp_syncookies", "1"},
}

// fastopenOf is defaults.sh's tcp_fastopen: packetdrill's sets 0x70403,
// the selftests' 0x3.
func fastopenOf(cmd string) string {
	if strings.Contains(cmd, "common/defaults.sh") {
		return "0x70403"
	}
	return "0x3"
}

// runsDefaults reports whether a command runs a defaults.sh.
var runsDefaults = regexp.MustCompile(`(^|[\s/])defaults\.sh\b`)

// kernelSysctlRE finds the sysctls a script's commands set: set_sysctls.py
// /proc/sys/net/ipv4/tcp_x=1, sysctl -q net.ipv4.tcp_x=1 or
// sysctl -w net.ipv4.tcp_x="a b".
var kernelSysctlRE = regexp.MustCompile(`(?:/proc/sys/net/ipv4/|net\.ipv4\.)(tcp_\w+)=("[^"]*"|'[^']*'|\S+)`)

// anySysctlRE finds sysctls of other families, which are never applied.
var anySysctlRE = regexp.MustCompile(`(?:/proc/sys/|\b)(net[./](?:core|ipv6|ipv4)[./][\w./]+)=`)

// applyKernelSysctls sets, inside the namespace, defaults.sh's sysctls,
// then in the order the script's commands come defaults.sh's tcp_fastopen
// where a command runs defaults.sh and the tcp_* sysctls a command names;
// any other sysctl is noted as skipped. The commands themselves are never
// run.
func (r *runner) applyKernelSysctls() error {
	for _, d := range defaultsSh {
		if err := r.k.sysctl(d[0], d[1]); err != nil {
			r.note(0, "defaults.sh's sysctl net.ipv4.%s=%s not set: %v", d[0], d[1], err)
		}
	}
	var cmds []Command
	cmds = append(cmds, r.s.Commands...)
	for _, ev := range r.s.Events {
		if ev.Command != nil {
			cmds = append(cmds, *ev.Command)
		}
	}
	slices.SortStableFunc(cmds, func(a, b Command) int { return a.Line - b.Line })
	for _, c := range cmds {
		if runsDefaults.MatchString(c.Text) {
			v := fastopenOf(c.Text)
			if err := r.k.sysctl("tcp_fastopen", v); err != nil {
				r.note(c.Line, "defaults.sh's sysctl net.ipv4.tcp_fastopen=%s not set: %v", v, err)
			}
		}
		for _, m := range kernelSysctlRE.FindAllStringSubmatch(c.Text, -1) {
			v := strings.Trim(m[2], `"'`)
			if err := r.k.sysctl(m[1], v); err != nil {
				r.note(c.Line, "sysctl net.ipv4.%s=%s skipped: %v", m[1], v, err)
				continue
			}
			r.note(c.Line, "sysctl net.ipv4.%s=%s applied in the namespace", m[1], v)
		}
		for _, m := range anySysctlRE.FindAllStringSubmatch(c.Text, -1) {
			name := strings.ReplaceAll(m[1], "/", ".")
			if !strings.HasPrefix(name, "net.ipv4.tcp_") {
				r.note(c.Line, "sysctl %s skipped: only the per-namespace net.ipv4.tcp_* sysctls are applied", name)
			}
		}
	}
	return nil
}

// kflush takes the packets the kernel sent, waiting up to wait for the
// first.
func (r *runner) kflush(wait time.Duration) {
	for {
		b, at, ok := r.k.recv(wait)
		if !ok {
			return
		}
		wait = 0
		op, err := parseKernelOut(b)
		if err != nil {
			r.logf("kernel sent a packet that is not a TCP segment (%v): ignored", err)
			continue
		}
		op.at = at
		seg := op.seg
		if seg.Flags&wire.SYN != 0 {
			r.localISN, r.haveISN = seg.Seq, true
			if seg.Flags&wire.ACK == 0 {
				r.activePort = seg.SrcPort
			}
		}
		r.out = append(r.out, op)
		r.logf("kernel sent %s", r.formatSeg(&op))
	}
}

// kwait runs the real clock up to until, or until stop reports true,
// collecting the kernel's packets and retrying a pending call every
// millisecond.
func (r *runner) kwait(until clock.Time, stop func() bool) {
	for {
		r.now = r.k.elapsed()
		r.kflush(0)
		r.checkPending()
		if stop != nil && stop() {
			return
		}
		if r.now >= until {
			return
		}
		left := time.Duration(until - r.now)
		if left <= 2*time.Millisecond {
			// The last stretch is spun, not slept: a timer may wake
			// this process late by more than packetdrill's tolerance
			// on a busy machine.
			runtime.Gosched()
			continue
		}
		r.kflush(min(left-2*time.Millisecond, time.Millisecond))
	}
}
