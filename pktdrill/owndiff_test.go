package pktdrill

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// kernelDiffFile records how each own script fares against this
// machine's Linux (go test ./pktdrill -run TestOwnKernelDiff -update, as
// root; the test skips otherwise). docs/CONFORMANCE.md's table of
// differences is made from it and kernelReasons.
const kernelDiffFile = "testdata/kernel-diff.tsv"

// kernelDiffTolerance is the timing tolerance of the kernel runs: the
// kernel's timers run on its timer wheel (a 1 s timer may fire tens of
// milliseconds late) on a machine the tests share, and the table is
// about behaviour, not milliseconds.
const kernelDiffTolerance = 60 * time.Millisecond

// kernelDiffTries: a script the kernel fails is run again, up to this
// many times in all, before the failure is recorded (timing noise).
const kernelDiffTries = 2

// kernelReasons explains every own script that the kernel fails: who the
// RFC says is right, and why (synack passes every own script but those
// ownKnownFailures lists, which Linux fails too).
var kernelReasons = map[string]string{
	"sack-reneging-rto.pkt":                     "both allowed: Linux takes an ACK that ends at a SACKed segment as reneging (tcp_check_sack_reneging) and resends after a short timer; synack resends at the retransmission timeout, as RFC 2018 §3 requires (\"MUST retransmit the segment at the left edge of the window after a retransmit timeout, whether or not the SACKed bit is on\")",
	"data-ack-every-second-segment.pkt":         "both allowed: Linux acknowledges each of the first segments at once (quick-ACK mode), so its first ACK covers one segment; RFC 5681 §4.2 asks for an ACK for at least every second full-sized segment, which both give",
	"handshake-syn-ack-carries-no-data-ack.pkt": "synack is right: Linux acknowledges only the SYN of a SYN-ACK that carries data (it drops the text unless TCP Fast Open is in use); RFC 9293 §3.10.7.3 (SYN-SENT): \"If there are other controls or text in the segment, continue processing at the sixth step\"",
	"handshake-syn-data-queued.pkt":             "synack is right: RFC 9293 §3.10.7.2 (LISTEN, the SYN bit): the SYN's text \"should be queued for processing later\"; synack takes it once ESTABLISHED and acknowledges it (ack 11), Linux drops it unless TCP Fast Open is in use",
	"handshake-syn-retransmit.pkt":              "synack is right: Linux 6.x retransmits its first SYNs at linear 1 s intervals (net.ipv4.tcp_syn_linear_timeouts, default 4) before backing off; RFC 6298 §5.5: \"The host MUST set RTO <- RTO * 2\"",
	"handshake-syn-sent-bad-ack.pkt":            "both allowed: after answering the bad SYN-ACK with RST <SEQ=SEG.ACK> (as RFC 9293 §3.10.7.3 says), Linux retransmits its SYN at once; the RFC says only \"drop the segment and return\" and forbids neither",
	"handshake-syn-sent-rst-bad-ack.pkt":        "both allowed: Linux drops the RST with a bad ACK (RFC 9293 §3.10.7.3) and then retransmits its SYN at once; the RFC forbids neither",
	"icmp-synsent-host-unreachable-soft.pkt":    "synack is right: Linux aborts a connection in SYN-SENT on any ICMP Destination Unreachable (EHOSTUNREACH here); RFC 9293 §3.9.2.1 (MUST-56): for codes 0, 1 and 5 \"a TCP implementation MUST NOT abort the connection\" (RFC 5461 §4.1 describes Linux's practice)",
	"icmp-synsent-protocol-unreachable.pkt":     "both abort the open (RFC 9293 §3.9.2.1, SHLD-26: codes 2-4 are hard errors); the errno differs: Linux ENOPROTOOPT (its icmp_err_convert for code 2), synack ECONNREFUSED; the RFC names none",
	"icmp-time-exceeded-soft.pkt":               "synack is right: Linux aborts SYN-SENT on a Time Exceeded (EHOSTUNREACH); RFC 9293 §3.9.2.1 (MUST-56): Time Exceeded is a soft error, \"MUST NOT abort the connection\"",
	"ipv6-ptb-below-minimum.pkt":                "both allowed by RFC 8201 §4 (\"MUST NOT reduce its estimate of the Path MTU below the IPv6 minimum link MTU\"): Linux ignores a Packet Too Big below 1280 altogether (RFC 8021 retired the atomic-fragment answer) and resends only at the RTO; synack lowers to 1280 and resends at once",
	"ipv6-time-exceeded-soft.pkt":               "synack is right: as icmp-time-exceeded-soft.pkt, over ICMPv6 (RFC 9293 §3.9.2.1, MUST-56)",
	"keepalive-timeout.pkt":                     "timing: Linux drops the connection on its keepalive timer wheel, after the script's tolerance, so read() still blocks at 3.1 s",
	"keepalive.pkt":                             "timing: Linux's keepalive timer (10 s here) runs on its timer wheel, whose granularity at that range is tens to hundreds of milliseconds; the script times the probe to the millisecond",
	"options-no-wscale-without-peer.pkt":        "both allowed: Linux bounds its segments to half the largest window the peer has offered (tcp_bound_to_half_wnd), so a window of 1000 gets two 500-byte segments; RFC 9293 §3.8.6.2.1 leaves the sender's segmenting to it",
	"options-ts-missing-dropped.pkt":            "synack is right: Linux accepts a segment without the Timestamps option once they are negotiated; RFC 7323 §3.2: \"a TCP SHOULD silently drop the segment\"",
	"retrans-syn-sent-timeout.pkt":              "synack is right: Linux 6.x's linear SYN timeouts (tcp_syn_linear_timeouts=4) put its retransmissions at 1, 2 s, not 1, 3 s (RFC 6298 §5.5: \"RTO <- RTO * 2\")",
	"rfc5961.pkt":                               "both allowed: Linux rate-limits challenge ACKs per socket (net.ipv4.tcp_invalid_ratelimit, 500 ms), so the SYN 100 ms after the RST's challenge ACK gets none; RFC 5961 §7: \"An implementation SHOULD include an ACK throttling mechanism\"; synack's limit is looser",
	"rst-in-close-wait.pkt":                     "synack follows the RFC's word: after a RST in CLOSE-WAIT, Linux fails the write with EPIPE (tcp_reset sets EPIPE in CLOSE-WAIT), synack with ECONNRESET; RFC 9293 §3.10.7.4: the SENDs \"should receive 'reset' responses\"",
	"simultaneous-open.pkt":                     "synack is right: Linux's SYN-ACK in a simultaneous open repeats its own SYN's options (SACK-permitted, Timestamps, Window Scale) that the peer's SYN did not carry; RFC 7323 §1.3 and §2.2: \"MUST NOT\" send Window Scale in a <SYN,ACK> without one in the <SYN>",
	"syn-backoff.pkt":                           "synack is right: Linux 6.x's linear SYN timeouts (tcp_syn_linear_timeouts=4), against RFC 6298 §5.5's doubling",
	"time-wait.pkt":                             "timing: Linux's TIME-WAIT (60 s, restarted by the retransmitted FIN, RFC 9293 §3.10.7.4) runs on its timer wheel, whose granularity for a 60 s timer is seconds: at 90.4 s the connection is still in TIME-WAIT and the ACK gets no RST",
	"urgent-inline.pkt":                         "both allowed: Linux takes the last urgent octet out of the stream (SO_OOBINLINE is off by default) and read() returns 9; synack has no out-of-band delivery and keeps it in-line, as RFC 6093 §6 advises applications to receive it",
	"window-peer-limit.pkt":                     "both allowed: Linux bounds its segments to half the largest window the peer offered (tcp_bound_to_half_wnd), 500 bytes for a window of 1000, as options-no-wscale-without-peer.pkt",
	"data-initial-window.pkt":                   "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"data-segmentation.pkt":                     "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"ipv6-segmentation.pkt":                     "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"options-wscale-applied.pkt":                "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"data-psh-last-segment.pkt":                 "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"handshake-default-mss.pkt":                 "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"handshake-peer-mss.pkt":                    "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"icmp-pmtu-lowers-mss.pkt":                  "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"icmp-pmtu-no-increase.pkt":                 "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"ipv6-packet-too-big.pkt":                   "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender",
	"retrans-fast-retransmit.pkt":               "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender (the retransmission behaviour the script checks is not reached)",
	"retrans-newreno-partial-ack.pkt":           "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender (the retransmission behaviour the script checks is not reached)",
	"retrans-rto-cwnd-one.pkt":                  "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender (the retransmission behaviour the script checks is not reached)",
	"icmp-pmtu-zero-mtu-plateau.pkt":            "both allowed: segmenting. Linux sends TSO packets (the runner's device has TSO, as packetdrill's has: two segments each at this RTT, its tcp_min_tso_segs) with PSH, which the device cuts on the wire; the script, written one line per segment as synack sends them, does not match a packet longer than its line (packetdrill would not either). RFC 9293 §3.9.1.2 leaves PSH, and §3.8.6.2.1 the segmenting, to the sender. Past that line they differ too: RFC 1191 §5 recommends the greatest plateau below the quoted Total Length for a Next-Hop MTU of 0 (1006 here), as synack does; Linux falls to its 552-byte floor (ip_rt_min_pmtu)",
	"window-probe-partial-open.pkt":             "both allowed: RFC 9293 §3.8.6.2.1 (sender SWS avoidance) lets a segment shorter than the MSS and than what is queued go \"if the override timeout occurs\"; synack takes that timeout at once when nothing is in flight, Linux sends the 40 bytes at its next persist timeout (0.6 s later here, with PSH)",
}

type kernelDiffRow struct {
	script, kernel, where string
}

func readKernelDiff() ([]kernelDiffRow, error) {
	b, err := os.ReadFile(kernelDiffFile)
	if err != nil {
		return nil, err
	}
	var rows []kernelDiffRow
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if i == 0 || line == "" {
			continue // the header
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("%s:%d: expected 3 tab-separated fields, found %d", kernelDiffFile, i+1, len(f))
		}
		rows = append(rows, kernelDiffRow{f[0], f[1], f[2]})
	}
	return rows, nil
}

// TestOwnKernelDiff runs every own script against the kernel and rewrites
// kernelDiffFile (with -update, as root).
func TestOwnKernelDiff(t *testing.T) {
	if !*update {
		t.Skip("regenerate with: go test ./pktdrill -run TestOwnKernelDiff -update (as root)")
	}
	if err := KernelAvailable(); err != nil {
		t.Skipf("--kernel is not available here: %v", err)
	}
	files, err := filepath.Glob("testdata/*.pkt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("script\tkernel\tfirst difference (the kernel's first mismatch)\n")
	for _, f := range files {
		var r *Result
		for try := 0; try < kernelDiffTries || (lateRunner(r) && try < kernelLateTries); try++ {
			r = RunFile(f, Options{Kernel: true, Tolerance: kernelDiffTolerance})
			if r.Pass {
				break
			}
		}
		where := ""
		verdict := "pass"
		switch {
		case lateRunner(r):
			// Not the kernel's doing: this process could not keep
			// the script's time.
			verdict = "late"
			where = r.Failure.Msg
		case !r.Pass:
			verdict = "FAIL"
			fl := r.Failure
			where = fmt.Sprintf("line %d: %s", fl.Line, fl.Msg)
			if fl.Expected != "" {
				where += fmt.Sprintf(" (script `%s`, kernel `%s`)", fl.Expected, stripAt(fl.Actual))
			}
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\n", filepath.Base(f), verdict, cell(where))
		t.Logf("%s %s %s", verdict, filepath.Base(f), where)
	}
	if err := os.WriteFile(kernelDiffFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kernelLateTries bounds the runs of a script the runner itself could not
// keep time for.
const kernelLateTries = 6

// lateRunner says whether r failed because the runner was late (it could
// not inject a packet or start a call within the tolerance, on a loaded
// machine), which says nothing about the kernel.
func lateRunner(r *Result) bool {
	if r == nil || r.Pass || r.Failure == nil {
		return false
	}
	m := r.Failure.Msg
	return strings.HasPrefix(m, "timing error: expected inbound packet") || strings.HasPrefix(m, "timing error: expected system call start")
}

// stripAt drops the " at 1.234567s" time of an actual packet, which
// changes from run to run on the real clock.
func stripAt(s string) string {
	if i := strings.LastIndex(s, " at "); i > 0 && strings.HasSuffix(s, "s") {
		return s[:i]
	}
	return s
}

// TestKernelDiffReasons: kernelDiffFile lists every own script, and every
// script the kernel fails has a reason (and only those).
func TestKernelDiffReasons(t *testing.T) {
	rows, err := readKernelDiff()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.pkt")
	listed := map[string]bool{}
	for _, r := range rows {
		listed[r.script] = true
		if r.kernel == "FAIL" && kernelReasons[r.script] == "" {
			t.Errorf("%s: the kernel fails it (%s) and kernelReasons has no reason", r.script, r.where)
		}
		if r.kernel == "late" {
			t.Errorf("%s: the runner was late for the kernel on every try (%s): regenerate %s on a quieter machine", r.script, r.where, kernelDiffFile)
		}
		if r.kernel == "pass" && kernelReasons[r.script] != "" {
			t.Errorf("%s: the kernel passes it but kernelReasons has a reason: remove it", r.script)
		}
	}
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			t.Errorf("%s is not in %s: regenerate it (go test ./pktdrill -run TestOwnKernelDiff -update, as root)", f, kernelDiffFile)
		}
	}
	for s := range kernelReasons {
		if !listed[s] {
			t.Errorf("kernelReasons names %s, which %s does not list", s, kernelDiffFile)
		}
	}
}

// ownScriptsSection is docs/CONFORMANCE.md's section on the own scripts.
func ownScriptsSection() string {
	rows, err := readKernelDiff()
	if err != nil {
		return "\n## The project's own scripts against Linux\n\n(" + err.Error() + ")\n"
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].script < rows[j].script })
	pass := 0
	var diff []kernelDiffRow
	for _, r := range rows {
		if r.kernel == "pass" {
			pass++
		} else {
			diff = append(diff, r)
		}
	}
	var b strings.Builder
	b.WriteString(`
## The project's own scripts against Linux

pktdrill/testdata holds the project's own scripts, each written from the
RFCs (its comment names the section) to check one behaviour. synack must
pass every one in both modes and both profiles (TestOwnScripts; a script
synack fails is listed with its RFC reason in ownKnownFailures, and must
keep failing). Each was also run against this machine's Linux with
` + "`--kernel`" + ` (` + "`go test ./pktdrill -run TestOwnKernelDiff -update`" + ` as root
rewrites ` + "`pktdrill/testdata/kernel-diff.tsv`" + `, running each script up to
twice with --tolerance_usecs=60000: the table is about behaviour,
and the kernel's timer wheel and a shared machine move its timers by
tens of milliseconds; a run the runner itself was late for, unable to
inject a packet or start a call in time, is run again, up to six times).
The table lists every script the kernel fails:
each is a difference between synack and Linux, with who the RFC says is
right.

`)
	fmt.Fprintf(&b, "Linux passes **%d of %d**; synack passes **%d of %d**, in both modes and both profiles (the %d that check one profile's choice, ownProfileOnly, in that profile).", pass, len(rows), len(rows)-len(ownKnownFailures), len(rows), len(ownProfileOnly))
	if len(ownKnownFailures) > 0 {
		b.WriteString(" The scripts synack fails (ownKnownFailures), each a behaviour the library is to fix:\n\n")
	} else {
		b.WriteString("\n")
	}
	var known []string
	for k := range ownKnownFailures {
		known = append(known, k)
	}
	sort.Strings(known)
	for _, k := range known {
		fmt.Fprintf(&b, "- %s: %s\n", k, ownKnownFailures[k])
	}
	b.WriteString("\nThe scripts Linux fails:\n\n")
	b.WriteString("| script | where Linux differs | reason |\n|---|---|---|\n")
	for _, r := range diff {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", r.script, cell(r.where), cell(kernelReasons[r.script]))
	}
	return b.String()
}
