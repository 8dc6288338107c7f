package pktdrill

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/CONFORMANCE.md from the corpus run")

// CorpusDir is where the public packetdrill corpus is looked for:
// $SYNACK_PACKETDRILL_DIR, or ../shared/conformance/packetdrill relative to
// the module root.
func corpusDir() string {
	if d := os.Getenv("SYNACK_PACKETDRILL_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "conformance", "packetdrill")
}

// tolerantBaseline is the number of public scripts that pass in tolerant
// mode today; the test fails if fewer pass, so regressions show. Raise it
// when more pass.
// (28 since close() stopped standing in for the library: close with unread
// data is the library's to answer with a RST, RFC 1122 §4.2.2.13; 31 since
// tolerant matching takes the ACK the RFCs require for a segment they say
// to drop, either zero-window probe form RFC 9293 §3.8.6.1 allows, and
// moves absolute times with the stack's own timers.)
const tolerantBaseline = 31

// reasons explains every public script that fails in tolerant mode (the
// first mismatch is what the table shows next to it).
var reasons = map[string]string{
	"options/shivansh-TCP-IP-Regression-TestSuite/tcp-mechanisms/paws/paws-old-timestamp.pkt": "the script is wrong for any stack: written for FreeBSD, it expects our SYN-ACK to announce MSS 1000, the peer's; RFC 9293 §3.7.1 says the MSS option announces what we can receive, 1460 on a 1500-byte MTU, which Linux 6.18 announces too (and FreeBSD, whose syncache_respond takes tcp_mssopt, its own). With that line reading mss 1460 synack passes the rest of the script, the PAWS checks it is about; Linux still fails it, acknowledging the first segment at once (quick-ACK mode) where the script has the ACK 100 ms later",
}

type corpusRow struct {
	path             string
	tolerant, strict *Result
}

func runCorpus(t *testing.T, dir string) []corpusRow {
	var rows []corpusRow
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || filepath.Ext(p) != ".pkt" {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		row := corpusRow{path: rel}
		for _, strict := range []bool{false, true} {
			var res *Result
			s, err := Parse(rel, b)
			if err != nil {
				t.Errorf("public script does not parse: %v", err)
				res = &Result{File: rel, Failure: &Failure{File: rel, Msg: err.Error()}}
			} else {
				res = Run(s, Options{Strict: strict, Profile: "linux"})
			}
			if strict {
				row.strict = res
			} else {
				row.tolerant = res
			}
		}
		rows = append(rows, row)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	return rows
}

// TestPublicCorpus runs the public corpus in both modes with the linux
// profile, checks the pass count against the baseline and that every
// failure has a recorded reason, and keeps docs/CONFORMANCE.md in step
// (go test ./pktdrill -run TestPublicCorpus -update rewrites it).
func TestPublicCorpus(t *testing.T) {
	dir := corpusDir()
	if _, err := os.Stat(filepath.Join(dir, "INDEX.tsv")); err != nil {
		t.Skipf("public packetdrill corpus not found at %s (set SYNACK_PACKETDRILL_DIR): %v", dir, err)
	}
	rows := runCorpus(t, dir)
	if len(rows) == 0 {
		t.Fatalf("no scripts under %s", dir)
	}
	passT, passS := 0, 0
	for _, r := range rows {
		if r.tolerant.Pass {
			passT++
		} else if reasons[r.path] == "" {
			t.Errorf("%s fails in tolerant mode without a recorded reason (add one to reasons): %s", r.path, r.tolerant.Summary())
		}
		if r.strict.Pass {
			passS++
		}
	}
	for p := range reasons {
		found := false
		for _, r := range rows {
			if r.path == p && !r.tolerant.Pass {
				found = true
			}
		}
		if !found {
			t.Errorf("reasons has an entry for %s, which passes or does not exist: remove it (and raise tolerantBaseline)", p)
		}
	}
	t.Logf("tolerant: %d/%d pass; strict: %d/%d pass", passT, len(rows), passS, len(rows))
	if passT < tolerantBaseline {
		t.Errorf("tolerant mode passes %d scripts, fewer than the baseline %d", passT, tolerantBaseline)
	}
	doc := conformanceDoc(rows, passT, passS)
	path := filepath.Join("..", "docs", "CONFORMANCE.md")
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(path)
	if err != nil || string(old) != doc {
		t.Errorf("%s is out of date (run: SYNACK_PACKETDRILL_DIR=... go test ./pktdrill -run TestPublicCorpus -update)", path)
	}
}

func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	s = strings.ReplaceAll(s, "\n", " ")
	return strings.Join(strings.Fields(s), " ")
}

func verdict(r *Result) string {
	switch {
	case r.Pass && r.ExpectedFailure:
		return "pass (fails as annotated)"
	case r.Pass:
		return "pass"
	}
	return "FAIL"
}

func conformanceDoc(rows []corpusRow, passT, passS int) string {
	var b strings.Builder
	b.WriteString(`# packetdrill conformance

Generated by ` + "`go test ./pktdrill -run TestPublicCorpus -update`" + ` from a run of the
public packetdrill corpus (` + "`../shared/conformance/packetdrill`" + `, GPL test data, not
part of this repository) with ` + "`synack packetdrill --profile linux`" + `. The test
fails when this file is out of date, when a failing script has no reason
below, or when fewer scripts pass in tolerant mode than the recorded
baseline.

Tolerant mode is the corpus README's definition (SYN options as a set,
PSH and RST windows ignored, timer-driven segments allowed between the
previous and the next event, early pure ACKs accepted, TSO-sized lines
matched by consecutive segments), and, where a script encodes another
stack's policy rather than TCP, the RFCs' own latitude (below: the ACK
the RFCs require for a segment they say to drop, either zero-window
probe form, the script's clock following the stack's own timers); strict
mode is packetdrill's own matching. Scripts under interpreter_selftest are meant to fail: they
pass when the run fails at the line their "// Failure:" comment names.

## The runner

- **TSecr** (tolerant) is compared with TS.Recent as RFC 7323 §4.3
  defines it, kept from the segments the script injects: "If SEG.TSval >=
  TS.Recent and SEG.SEQ <= Last.ACK.sent, then SEG.TSval is copied to
  TS.Recent"; a segment PAWS drops, or one whose ACK is above SND.NXT
  (RFC 5961 §5.2: "MUST be discarded"), does not count. The script's own
  ecr is accepted too.
- **Timers.** A segment a timer sent may come any time between the
  previous and the next event where the RFCs leave the timer to the stack;
  a series of copies (the same flags, sequence number and length on
  consecutive lines: retransmissions, probes) is checked copy to copy, each
  interval at least the previous one and at most double it (RFC 6298
  §5.5). Keepalive probes on a connection whose keepalive the script set,
  and RSTs where it set TCP_USER_TIMEOUT, are the application's timers:
  they are timed as written. When the stack's own timer sent a segment
  at another time than the script's, the script's later absolute times
  move by the difference, so that what the script does next (the peer's
  answer to a probe, say) follows the stack's timer, as a relative time
  (` + "`+0.1`" + `) already counts from when the previous segment came.
- **Owed ACKs** (tolerant). A segment the RFCs say to drop with an ACK in
  reply, one acknowledging data never sent (RFC 9293 §3.10.7.4: "If the
  ACK acks something not yet sent (SEG.ACK > SND.NXT), then send an ACK,
  drop the segment, and return"; RFC 5961 §5.2) or one PAWS rejects (RFC
  7323 §5.3 R1: "Send an acknowledgment in reply"), may get that ACK
  where the script, written for a stack that dropped it silently, has
  none: a pure ACK at SND.NXT repeating the last acknowledgment, one per
  such segment, before the script's next line; the run notes it.
- **Zero-window probes** (tolerant). RFC 9293 §3.8.6.1 allows two forms:
  "transmit at least one octet of new data (if available), or
  retransmit". A script's probe of one new octet into the peer's zero
  window is matched by the stack's timer-sent ACK with SEQ=SND.UNA-1 and
  no data (the form Linux and synack send).
- **Calls map onto the library.** close() is Conn.Close: a FIN, or with
  SO_LINGER {onoff=1, linger=0} an abort (SetLinger(0)); what happens to
  unread data is the stack's business. Socket options: SO_LINGER,
  TCP_NODELAY, TCP_USER_TIMEOUT, SO_KEEPALIVE with TCP_KEEPIDLE,
  TCP_KEEPINTVL and TCP_KEEPCNT, SO_RCVBUF and SO_SNDBUF (set and get),
  TCP_MAXSEG (get; under the linux profile less the 12 bytes of the
  Timestamps option when it is in use, as Linux reports it),
  TCP_CONGESTION (get; set only to the algorithm in use), TCP_QUICKACK
  (set: 0 delays ACKs, 1 sends a due one at once; tcp.Conn.SetQuickACK), SO_ERROR,
  SO_REUSEADDR/SO_REUSEPORT (no effect), SO_OOBINLINE on (synack always
  delivers urgent data in-line; off is unsupported). Options set before
  connect apply from the SYN on; options set on a listening socket, before
  listen or after, are inherited by each connection it makes from the SYN
  on (stack.Listener.SetConnInit), as a Linux listener's are: TCP_MAXSEG
  the SYN-ACK's MSS, SO_RCVBUF its window, the rest the accepted socket.
  The sysctls tcp_syn_retries, tcp_synack_retries, tcp_retries2,
  tcp_rto_max_ms, tcp_rto_min_us, tcp_fin_timeout, tcp_keepalive_intvl
  and tcp_keepalive_probes a script's command names map onto tcp.Config,
  tcp_keepalive_time onto the idle time of a socket with SO_KEEPALIVE and
  no TCP_KEEPIDLE (the command is not run). Unsupported, each failing at its
  line with a message naming it: TCP_CORK, SO_OOBINLINE off, getsockopt of the TCP_KEEP* values, outbound ICMP (synack sends no
  ICMP error of its own), send/recv flags. ioctl
  FIONREAD/SIOCINQ and SIOCOUTQ/TIOCOUTQ and poll are supported.
- **--ip_version** ipv4, ipv6 and ipv4-mapped-ipv6 as packetdrill has
  them: for ipv6 the stack is fd3d:fa7b:d17d::1 and the peer
  fd3d:fa7b:d17d:8888::1 (2001:2::1 and 2001:2::2 under --kernel), and
  packets are IPv6 with its pseudo-header; ipv4-mapped-ipv6 is AF_INET6
  sockets with ::ffff: addresses over IPv4 packets.
- **Inbound ICMP lines** (` + "`< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]`" + `,
  ` + "`< icmp unreachable port_unreachable`" + `, time_exceeded, source_quench,
  packet_too_big, with packetdrill's type and code names or numbers) are
  built from the connection as packetdrill builds them: from the peer's
  address, quoting the stack's own IP header and the first 8 bytes of its
  TCP header, with the connection's ports and the sequence number the
  brackets give relative to the stack's ISN (the ISN if none). Under ipv6,
  unreachable frag_needed is sent as a Packet Too Big.
- **%{ }% blocks** are evaluated where they are asserts over tcp_info
  (` + "`assert tcpi_snd_cwnd == 10`" + `, comparisons joined by "and", TCP_* state
  names) on the connection the latest call named: tcpi_state, tcpi_rto,
  tcpi_rtt, tcpi_rttvar, tcpi_snd_cwnd and tcpi_snd_ssthresh (tcp.Info's
  bytes over the MSS), tcpi_snd_mss, tcpi_retransmits, tcpi_total_retrans;
  against the kernel from getsockopt(TCP_INFO), tcpi_unacked too. Other
  Python, and tcpi_unacked under synack (tcp.Info counts bytes, not
  segments), are unsupported. None of the 32 public scripts has one.
- **The summary** counts passed, failed (the stack did something else),
  unsupported (the runner cannot express the line) and malformed (the
  script is wrong); each failure names the file and the line.

## Against the kernel: --kernel and --diff

` + "`synack packetdrill --kernel`" + ` (Linux, root, /dev/net/tun) runs a script against
the machine's own TCP as packetdrill does (its netdev.c, run.c and
run_packet.c are the model):

- **The device.** An anonymous network namespace (internal/netns; it dies
  with the process, even one killed with SIGKILL) holding a device made as
  packetdrill makes its tun0: IFF_TUN, IFF_NO_PI, IFF_VNET_HDR, and
  TUNSETOFFLOAD's checksum and TSO offloads, so that the kernel sends TSO
  packets of up to 64 KiB and the capture sees each whole (a script's
  "> P. 1:10001(10000)" is one packet or a few, as under packetdrill).
  Injected packets carry whole checksums and a virtio_net_hdr, with a
  gso_size when the script sets --mss (tcp_close_no_rst). What the kernel
  queues on the device is read and dropped, as packetdrill does, so that
  its small-queue limits see the packets leave.
- **Reading.** The kernel's packets are taken from a packet socket on the
  device when the runner looks for them, stamped with the kernel's clock
  (SO_TIMESTAMPNS, as packetdrill's pcap): a packet the kernel sent in
  time counts as in time even when this process ran late. Live packets
  smaller than a line are joined until its length, as packetdrill's
  aggregation does; the TCP checksum is not checked (the device has the
  offload), the IP header's is.
- **Timing.** The clock starts 250 µs after a tick of the kernel's
  jiffies, as packetdrill's schedule_start_time_usecs, so that events at
  whole milliseconds do not fall on a jiffy's edge (a delayed ACK the
  kernel schedules for "now" fires at the next tick, up to 4 ms later at
  HZ=250). An event is in time within --tolerance_usecs (default 4000)
  or --tolerance_percent (default 12.5) of the time since the previous
  event, whichever is more: packetdrill's verify_time.
- **Timestamps.** TS val is not checked (packetdrill checks it only with
  --tcp_ts_tick_usecs); an injected TS ecr that is the script's TS val of
  an outbound line becomes that packet's live TS val, any other is
  interpolated from the first (packetdrill's map_inbound_packet).
- **Sysctls.** Every run starts with the sysctls of the scripts'
  defaults.sh (google/packetdrill's gtests/net/common and the Linux
  selftests' set the same ones but tcp_fastopen, which is set for a script
  that runs one): tcp_rmem 4096 540000 15728640 (window scale 8), tcp_wmem
  4096 262144 4194304, timestamps, SACK, D-SACK, F-RTO 2, reordering 3,
  early retransmit 4 with RACK, slow start after idle off, ECN off, pacing
  ratios 200/120, SYN and SYN-ACK retries 5, SYN cookies; CUBIC, which a
  namespace may not make its default when the host's
  tcp_allowed_congestion_control does not list it, is set on each socket
  (TCP_CONGESTION) instead. Then the net.ipv4.tcp_* sysctls the script's
  commands name. Only per-namespace sysctls exist there; others are
  skipped with a note.
- **Addresses.** The network-safety rule allows only 198.18.0.0/15 inside
  namespaces, so packetdrill's 192.168.0.1 (the stack under test) becomes
  198.18.0.1 and 192.0.2.1 (the peer) 198.18.0.2; under
  --ip_version=ipv6 the kernel is 2001:2::1 and the peer 2001:2::2
  (2001:2::/48; IPv6 on the device only, no router solicitations, no
  duplicate address detection). Scripts do not name addresses, so nothing
  they check changes.

` + "`--diff`" + ` runs each script against synack and the kernel and prints the lines
one got past and the other did not, and each one's first failure.

` + kernelCorpusMeasured + `
` + heldOutMeasured + `
## The public corpus with synack

Only the first mismatch of a script is shown; later lines may fail for
other reasons once it is fixed.
`)
	fmt.Fprintf(&b, "Tolerant: **%d of %d** pass. Strict: **%d of %d** pass.\n\n", passT, len(rows), passS, len(rows))
	b.WriteString("| script | tolerant | strict | first mismatch (tolerant) | reason |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		mismatch := ""
		if !r.tolerant.Pass && r.tolerant.Failure != nil {
			f := r.tolerant.Failure
			mismatch = fmt.Sprintf("line %d: %s", f.Line, f.Msg)
			if f.Expected != "" {
				mismatch += fmt.Sprintf(" (script `%s`, actual `%s`)", f.Expected, f.Actual)
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(r.path), verdict(r.tolerant), verdict(r.strict), cell(mismatch), cell(reasons[r.path]))
	}
	b.WriteString(ownScriptsSection())
	return b.String()
}

// heldOutMeasured describes how generalisation is measured, with scripts
// the project never sees, and the figures of the latest review (measured
// by hand: the scripts are not in the repository).
const heldOutMeasured = `## Generalisation: held-out scripts

A corpus one tunes to says little about TCP in general, so conformance is
also measured on scripts the project has never seen. At a review the
reviewer writes a fresh set of scripts, kept outside the repository and
never committed, over areas the own scripts cover thinly (SACK and its
reneging, urgent data, RTO backoff and its cap, keepalive and
TCP_USER_TIMEOUT, zero-window probing, window-scale edges, SO_LINGER 0,
half-close, simultaneous open and close, RST in each state and RFC 5961's
challenge ACKs, TIME-WAIT, Nagle, limited transmit, PAWS, options set on a
listening socket). Each is written from the RFC or Linux's documented
behaviour and first run against this machine's Linux with ` + "`--kernel`" + `: a
script the kernel fails is wrong or version-specific and is fixed or
dropped before synack sees it. Then synack runs them, tolerant with the
linux profile (` + "`synack packetdrill --profile linux DIR/*.pkt`" + `). A failure
leads to a fix of its general cause, in the library or the runner, never
to a rule for the script; a script that found a real bug may join the own
scripts, and then it no longer counts as held out.

The review of 4 December 2026 (Linux 6.18.44; load average 1 to 10 from
other jobs, which only the --kernel runs feel):

| set | scripts | before (main at 32a2e2b) | after |
|---|---|---|---|
| first set, written before any fix and used to find causes | 34 (4 then joined the own scripts) | 26 of 34 (76%) | 34 of 34 (the 30 still held out: 30 of 30) |
| second set, written after the fixes and never used for one | 15 | 13 of 15 (87%) | 15 of 15 (100%) |
| third set, written later (shutdown, poll, non-blocking accept, FIN-WAIT-2, SACK after reordering, Nagle with TCP_NODELAY), never used for a fix | 10 | 10 of 10 | 10 of 10 |

Held out now: 55 scripts, all passing (` + "`synack packetdrill --profile linux`" + ` at
6310e03). Writing them also showed the runner ignoring more of Linux's
knobs than the four causes below: TCP_QUICKACK, and the sysctls
tcp_fin_timeout and tcp_keepalive_time, _intvl and _probes; those were
mapped onto the library with own scripts of their own (data-quickack.pkt,
close-fin-timeout.pkt, keepalive-sysctls.pkt), not counted in the sets.

The first set's eight failures had four general causes, each now fixed
with a test and an own script: socket options set on a listening socket
were not inherited by the accepted socket (four scripts;
stack.Listener.SetConnInit, listen-maxseg-inherited.pkt); SO_OOBINLINE was
unknown to the runner (two; urgent-oobinline.pkt); a connection keepalive
gives up on was dropped silently where Linux and the BSDs reset it (one;
tcp.Config.KeepAliveReset, set by the linux profile;
keepalive-timeout-rst.pkt); the sysctl net.ipv4.tcp_rto_max_ms was ignored
(one; retrans-rto-max-capped.pkt). The second set's two failures before
were two of those causes again (TCP_USER_TIMEOUT on a listener,
SO_OOBINLINE). Of the scripts written, six were corrected after the
kernel failed them (two urgent-data scripts read across the urgent mark,
where Linux's read stops; a user timeout Linux counts from the first
retransmission; Linux's segment sizes after a small window; the time of
a reneging retransmission and of an ACK Linux delays) and one was dropped
(a RST outside the window in LAST-ACK, whose kernel runs disagreed).
`

// kernelCorpusMeasured is the --kernel run of the public corpus, measured
// by hand (the real clock on a shared machine is not a test's business):
// the figures, and why each script that never passes fails.
const kernelCorpusMeasured = `Measured on Linux 6.18.44 (CONFIG_HZ=250) on the project's 2-core
machine, with
` + "`go run ./cmd/synack packetdrill --kernel $(find ../shared/conformance/packetdrill -name '*.pkt' | sort)`" + `:
on a quiet machine (load average below 0.2) **21 of 32** pass on each of
three runs at the default tolerance, and with --tolerance_usecs=20000;
the same eleven fail every time. Under other jobs' load (load average 10
to 14) three runs passed 19, 21 and 20: the extra failures were timing
(tcp_close_no_rst's delayed ACK, allowed 0 to 40 ms, at 45 to 47 ms; once
fr-4pkt-sack-linux, the runner late for a call).
Every script but the eleven below passes on at least one run; the eleven
fail on every run, each because its expectation is another kernel's or
another system's:

| scripts | why they fail against Linux 6.18 |
|---|---|
| the six google-packetdrill@24354fe scripts with a SYN or SYN-ACK (close-unread-data-rst, http-get-nonblocking-ts, iw10-base-case, listen-incoming-ack, listen-incoming-rst, mss-getsockopt-tcp_maxseg-client) | kernel version and environment: written for Linux 3.11 with 2013's buffer sizes, whose window scale was 6; Linux 6.18 takes the shift from the larger of tcp_rmem[2] and net.core.rmem_max (ilog2 − 15), 8 with defaults.sh's 15 MiB, and no setting here gives 6 (rmem_max, the host's, is 4 MiB: at least 7). With "wscale 6" read as 8 all six pass (two of them with --tolerance_usecs=20000, on a busy run) |
| invalid_ack (ts_recent) | kernel version: Linux 6.18 answers the FIN whose ACK is above SND.NXT with an ACK (RFC 5961 §5.2; what the corpus's tcp_rfc5961_ack-beyond-snd-nxt checks, and it passes), ack 1 and ecr 200, before the ACK of the data the script expects next; ecr 200 shows TS.Recent was not taken from that segment, which is what the script checks |
| shutdown-rdwr-write-queue-close | kernel version: with ten segments in flight filling the initial window, Linux 6.18 does not send the FIN that shutdown() queues until the tail-loss probe, 2·RTT later (measured: the FIN at +17 ms instead of at once); the script expects older kernels, which exempted the final FIN from the congestion window. Without the line for the immediate FIN the script passes (with --tolerance_usecs=20000) |
| paws-old-timestamp, slow-read (shivansh-TCP-IP-Regression-TestSuite) | written on FreeBSD: the SYN-ACK announcing the peer's MSS 1000 (Linux announces 1460, as RFC 9293 §3.7.1 asks); a delayed ACK 50 ms after data (Linux acknowledges the first segments at once, its quick-ACK mode) |
| fr-4pkt-sack-bsd | written for BSD: one line per segment, no PSH; Linux sends TSO packets of two segments (at this RTT its TSO autosizing gives tcp_min_tso_segs, 2) with PSH, which packetdrill too would not match to a one-segment line |
`
