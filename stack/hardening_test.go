package stack

import (
	"flag"
	"fmt"
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

var (
	update    = flag.Bool("update", false, "rewrite testdata/hardening-small.txt")
	hardening = flag.Bool("hardening", false, "measure and write ../docs/HARDENING.md (slow: about a minute)")
)

// floodRow is one flood of the report.
type floodRow struct {
	mode  SynCookieMode
	any   bool
	rate  int
	d     time.Duration
	legit int
}

func (r floodRow) listener() string {
	if r.any {
		return "ListenAny"
	}
	return "Listen"
}

func (m SynCookieMode) String() string {
	return [...]string{"when full", "always", "off"}[m]
}

// floodTable runs rows and returns a Markdown table; with heap, it samples
// the heap during each flood (runtime.ReadMemStats every 1024 attack SYNs)
// and adds the high-water mark above the heap before the flood.
func floodTable(t testing.TB, rows []floodRow, heap bool) string {
	var b strings.Builder
	b.WriteString("| listener | cookies | spoofed SYN/s | virtual time | spoofed SYNs | legitimate completed | SYN queue max | SyncookiesSent | SyncookiesRecv | ListenDrops |")
	if heap {
		b.WriteString(" heap high-water |")
	}
	b.WriteString("\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	if heap {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		var base, high uint64
		var sample func()
		if heap {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base = ms.HeapAlloc
			sample = func() {
				runtime.ReadMemStats(&ms)
				high = max(high, ms.HeapAlloc)
			}
		}
		res := synFloodMode(t, r.mode, r.any, r.rate, r.d, r.legit, sample)
		spoofed := int64(r.rate) * int64(r.d) / int64(time.Second)
		fmt.Fprintf(&b, "| %s | %v | %d | %v | %d | %d of %d (%.0f%%) | %d | %d | %d | %d |",
			r.listener(), r.mode, r.rate, r.d, spoofed, res.completed, res.legit, 100*float64(res.completed)/float64(res.legit),
			res.maxHalfOpen, res.ctr.SyncookiesSent, res.ctr.SyncookiesRecv, res.ctr.ListenDrops)
		if heap {
			fmt.Fprintf(&b, " %d KiB |", (high-min(base, high))>>10)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestHardeningSmall is a small docs/HARDENING.md flood table, recomputed
// and compared with testdata/hardening-small.txt (go test ./stack -run
// TestHardeningSmall -update rewrites it).
func TestHardeningSmall(t *testing.T) {
	got := floodTable(t, []floodRow{
		{CookiesOff, false, 20, 20 * time.Second, 20},
		{CookiesWhenFull, false, 20, 20 * time.Second, 20},
		{CookiesWhenFull, true, 1000, 2 * time.Second, 20},
	}, false)
	const file = "testdata/hardening-small.txt"
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test ./stack -run TestHardeningSmall -update writes it)", err)
	}
	if got != string(want) {
		t.Fatalf("flood table changed:\n%s\nwant:\n%s", got, want)
	}
}

// TestHardeningDoc writes docs/HARDENING.md: go test ./stack -run
// TestHardeningDoc -hardening.
func TestHardeningDoc(t *testing.T) {
	if !*hardening {
		t.Skip("measures for docs/HARDENING.md: run with -hardening")
	}
	var rows []floodRow
	for _, any := range []bool{false, true} {
		rows = append(rows, floodRow{CookiesOff, any, 20, 20 * time.Second, 100})
		for _, r := range []struct {
			rate int
			d    time.Duration
		}{{20, 20 * time.Second}, {10000, 20 * time.Second}, {100000, 2 * time.Second}, {1000000, 200 * time.Millisecond}} {
			rows = append(rows, floodRow{CookiesWhenFull, any, r.rate, r.d, 100})
		}
	}
	table := floodTable(t, rows, true)
	res := testing.Benchmark(func(b *testing.B) {
		s, _ := New(Config{Name: "server", Addr: hostAddr, Rand: newRand(), SynCookies: CookiesAlways})
		s.Listen(80, 0)
		pkts := spoofedSYNs(1024)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			s.Input(0, pkts[i%len(pkts)])
			if i%64 == 63 {
				s.Output(0, func([]byte) {})
			}
		}
	})
	// 100,000 abandoned half-open connections, cookies off: in a SYN
	// queue twice their number, and in one just theirs (under pressure).
	ho := halfOpenFlood(t, 100_000, 200_000)
	hp := halfOpenFlood(t, 100_000, 100_000)
	// The out-of-order flood, against the yardstick.
	var ooo strings.Builder
	yard := oooCost(t, "in-order", 0, 5)
	fmt.Fprintf(&ooo, "| segment | ranges held | ns per segment | × in-order |\n|---|---:|---:|---:|\n| 1448 bytes in order (yardstick) | 0 | %.0f | 1.0 |\n", yard)
	for _, shape := range []string{"append", "fill"} {
		for _, holes := range []int{1 << 10, 32 << 10, 60 << 10} {
			ns := oooCost(t, shape, holes, 5)
			fmt.Fprintf(&ooo, "| 1 byte, %s | %d | %.0f | %.1f |\n", shape, holes, ns, ns/yard)
		}
	}
	doc := strings.ReplaceAll(hardeningDoc, "{{FLOOD}}", table)
	doc = strings.ReplaceAll(doc, "{{OOO}}", ooo.String())
	doc = strings.ReplaceAll(doc, "{{FRAG}}", strings.TrimSuffix(fragFloodTable(t), "\n"))
	doc = strings.ReplaceAll(doc, "{{HALFOPEN}}", fmt.Sprint(ho.perEntry))
	doc = strings.ReplaceAll(doc, "{{HALFOPENMIB}}", fmt.Sprintf("%.1f", float64(ho.held)/(1<<20)))
	doc = strings.ReplaceAll(doc, "{{HALFOPENFREED}}", fmt.Sprintf("%v", time.Duration(ho.freedAt)))
	doc = strings.ReplaceAll(doc, "{{HALFOPENAFTER}}", fmt.Sprint(ho.after>>10))
	doc = strings.ReplaceAll(doc, "{{HALFOPENSYNACKS}}", fmt.Sprint(ho.synacks))
	doc = strings.ReplaceAll(doc, "{{PRESSFIRST}}", fmt.Sprint(hp.first))
	doc = strings.ReplaceAll(doc, "{{PRESSFIRSTAT}}", fmt.Sprint(time.Duration(hp.firstAt)))
	doc = strings.ReplaceAll(doc, "{{PRESSFREED}}", fmt.Sprint(time.Duration(hp.freedAt)))
	doc = strings.ReplaceAll(doc, "{{PRESSSYNACKS}}", fmt.Sprint(hp.synacks))
	doc = strings.ReplaceAll(doc, "{{CPU}}", fmt.Sprintf("%d ns per spoofed SYN answered with a cookie (Input, and Output every 64 SYNs), %d B and %d allocations per SYN",
		res.NsPerOp(), res.AllocedBytesPerOp(), res.AllocsPerOp()))
	doc = hostileDoc(t, doc)
	if err := os.WriteFile("../docs/HARDENING.md", []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
}

const hardeningDoc = `# Hardening: synack on a hostile network

Made by ` + "`go test ./stack -run TestHardeningDoc -hardening`" + ` (the flood
counts are deterministic; the heap and CPU figures are measurements of the
machine that ran it). A small version of the flood table is snapshot-tested
by ` + "`TestHardeningSmall`" + ` (stack/testdata/hardening-small.txt).

## SYN flood (RFC 4987)

A listener keeps half-open connections in its SYN queue
(` + "`stack.Config.SynBacklog`" + `, default 256; ` + "`synack.Config.SynBacklog`" + `) apart
from its accept queue (the backlog: ` + "`Listen`" + `'s argument or
` + "`Config.DefaultBacklog`" + `, default 128; ` + "`synack.Config.Backlog`" + `). When the SYN
queue is full it answers with a SYN cookie (` + "`Config.SynCookies`" + `: when
full, always, or off; tcp/syncookie.go): the ISS is a 30-bit keyed MAC
(SHA-256 over the ISNKey, the 4-tuple, the peer's ISN, a 64 s counter and
the MSS index) and a 2-bit index into Linux's MSS table 536/1300/1440/1460;
when the SYN had timestamps, the SYN-ACK's TSval carries the peer's window
scale and SACK-permitted in its low 6 bits, as Linux does. An ACK is
accepted with the current or the previous counter (a cookie lives 64 to
128 s). A connection made from a cookie has the MSS (rounded down to the
table), window scale and SACK the client asked for; without timestamps it
has no window scaling and no SACK.

Each row: spoofed SYNs from random sources in 198.19.0.0/16 (to random
addresses in 203.0.113.0/24 for ` + "`ListenAny`" + `) at the stated rate, evenly spaced
over the stated virtual time, and 100 real clients spread over the same
time, each answering its SYN-ACK 10 ms later; the application accepts at
once. "heap high-water" is the most the Go heap grew during the flood over
its size before (sampled every 1024 spoofed SYNs).

{{FLOOD}}
With cookies off, the spoofed half-open connections would hold the 256
places of the SYN queue for the SYN-ACK retries (63 s), and a real client
get in only before the queue fills; while it is more than half full the
oldest are given up sooner (below), which keeps room for new ones at a low
rate. With cookies, the SYN queue stays at its bound and every real client
completes at every rate; memory does not grow with the rate. At 20 SYN/s
the heap is sampled only before and after the flood (400 spoofed SYNs),
and its high-water mark is then mostly garbage the collector has not yet
reclaimed: the connections given up under pressure and the real clients'
aborted ones.

CPU: {{CPU}}.

A half-open connection costs {{HALFOPEN}} bytes of heap: 100,000 abandoned ones
(spoofed SYNs at one instant, cookies off, ` + "`SynBacklog`" + ` 200,000, after a GC)
hold {{HALFOPENMIB}} MiB. Between calls a listener keeps each as a ` + "`tcp.HalfOpen`" + ` of
88 bytes, as Linux keeps a request sock (300–400 bytes) rather than a
socket: the 4-tuple, ISS and IRS, what the SYN offered (MSS, window, window
scale, SACK-permitted, timestamps and TS.Recent) and the SYN-ACK's sends,
retransmission count and deadline, in one allocation of 144 bytes with the
stack's entry; the rest is its place in the connection table, the timer
heap and the creation order. For each segment, timer or call it is made a
whole TCB again (a 768-byte ` + "`tcp.Conn`" + `), which does what it does, and after
its output it is kept small again (stack/halfopen.go): what it sends and
when is the TCB's. It is made whole in the one ` + "`tcp.Conn`" + ` the stack keeps
spare (that of the last one kept small, or of one given up that was never
handed out), not in a new one, and so is a new SYN's: once the tables have
grown, a flood's SYNs and timers allocate only their entries, one
allocation per SYN (` + "`TestHalfOpenFloodAllocs`" + `). ` + "`TestHalfOpenSameAsWhole`" + ` runs a hostile exchange
(SYNs again and with new ISNs, right and wrong final ACKs, RSTs, ICMP
errors, cookies, a full accept queue, Close; IPv4 and IPv6) against a host
that keeps them whole and compares every packet, trace event and counter.
One that got something other than its SYN again (text with the SYN, a
stray segment, an ICMP error) stays whole, bounded by the SYN queue (256
per listener by default). A SYN answered with a cookie costs nothing after
its SYN-ACK has gone. The 100,000 send {{HALFOPENSYNACKS}} SYN-ACKs (the first and 5
retries each) and are all freed at {{HALFOPENFREED}} of virtual time (Linux's 63 s
schedule: 1+2+4+8+16+32 s), after which the heap is {{HALFOPENAFTER}} KiB above where it
began: the connection table (a Go map does not shrink) and the stack's
timer heap and work lists keep their capacity.

Sooner under pressure: while a listener's SYN queue is more than half
full, a half-open connection whose SYN-ACK has been retransmitted
thresh times is given up at its next timeout, thresh falling from
` + "`tcp.Config.SynAckRetries`" + ` (5) by one for each halving of the share of young
connections (not yet retransmitted) below a half, down to 2, as Linux's
reqsk_timer_handler ("we reserve half of room for young embrions"). The same
100,000 in a SYN queue of 100,000: {{PRESSFIRST}} are given up at {{PRESSFIRSTAT}} after 2
retransmissions, which leaves the queue half full, and the others at
{{PRESSFREED}}; {{PRESSSYNACKS}} SYN-ACKs in all (` + "`TestHalfOpenPruned`" + ` checks a small case
segment by segment).

` + "`synack scenario run syn-flood`" + ` shows a small flood (64 spoofed SYNs
against a 16-entry SYN queue) and the cookies that let a real client in, in
English and Chinese.

## Out-of-order floods (CVE-2018-5390, SegmentSmack)

A peer that sends 1-byte segments, each after a 1-byte hole, makes the
receiver hold as many ranges as it has room for (one per 64 bytes of
receive buffer, at most 65536, ` + "`DropOutOfOrderRanges`" + ` beyond; the highest
ranges are let go first to make room for lower ones). The ranges are kept
sorted in blocks of at most 64 with an array of the blocks' starts
(tcp/ooo.go, a B+ tree of two levels): a segment costs two binary searches
and a move of at most 64 ranges, and a segment beyond the highest range is
appended without a search. The AVL tree it replaced (a node per range)
took a cache miss at each of its 17 levels: in the tcp package's
` + "`BenchmarkOutOfOrderFlood`" + ` (the Conn alone, no checksums or demultiplexing) a
hole-filling segment at 60k ranges cost 4 to 9× ` + "`BenchmarkInOrderSegment`" + `'s. ` + "`Conn.PruneOutOfOrder`" + ` lets the
held data go, from the highest sequence numbers down (RFC 2018 §8).

Each row: the least of 5 runs of ` + "`testing.Benchmark`" + ` over the whole stack (Input of
the packet, Output of the ACK with its SACK blocks), a 4 MiB receive
buffer, a queue rebuilt untimed every ranges/8 segments; "fill" fills a
hole between two ranges, in a scattered order, joining them; "append"
puts a range beyond the highest, after a hole (` + "`TestOutOfOrderFloodHeld`" + `
checks the flood's ranges and SACK blocks). The machine is shared, so the
figures vary by tens of percent from run to run.

{{OOO}}
## IP fragments (RFC 791 §3.2, RFC 8200 §4.5, RFC 5722)

Fragments are reassembled (stack/frag.go) under bounds of Linux's kind:
at most ` + "`Config.FragMemory`" + ` bytes (4 MiB, ipfrag_high_thresh) and
` + "`Config.FragQueues`" + ` datagrams (1024) in reassembly, each fragment counted as
its data and 64 bytes (an 8-byte fragment at offset 65000 holds 72 bytes,
not a 64 KiB buffer); beyond either, the oldest datagram is dropped
(` + "`ReasmEvicted`" + `), so a flood cannot shut new datagrams out as it can on
Linux, which refuses fragments while over the threshold. A datagram not
complete 30 s (IPv4) or 60 s (IPv6) after its first fragment came is
dropped (` + "`ReasmTimeout`" + `). An overlap drops the whole datagram in both
families (RFC 5722, as Linux does for IPv4 too), an exact duplicate only
itself; a first fragment without the whole upper-layer header (RFC 7112)
and a fragment with more to follow whose length is not a multiple of 8 are
dropped, with an ICMPv6 Parameter Problem for IPv6. ` + "`FuzzReassemble`" + ` checks
the bookkeeping after every fragment of arbitrary scripts.

Each row (` + "`TestFragFlood`" + `): spoofed fragments from 198.19.0.0/16 at 10000
a second of virtual time (none times out), and after every 1000th a real
client's 4000-byte datagram in three fragments, with the default bounds.
The counts are deterministic.

{{FRAG}}

## Martians and impossible flags (RFC 1122 §4.2.3.10, RFC 1812 §5.3.7)

Dropped before any connection or listener sees them, each counted
(` + "`Counters`" + `) and traced with its cause: sources that are broadcast,
multicast, unspecified, network 0, class E, or loopback on a host whose
address is not loopback (` + "`InMartianSrcs`" + `); multicast and broadcast
destinations (` + "`InMartianDsts`" + `); our own address as source, or a source equal
to the destination (LAND, ` + "`InLands`" + `); SYN+FIN and SYN+RST (` + "`InBadFlags`" + `). A
LAND SYN on a link that routes replies back sends nothing
(` + "`TestLANDNoLoop`" + `).

## Orphans and limits

An orphan is a connection the application closed both ways (` + "`Close`" + ` and
` + "`CloseRead`" + `; the Go API's ` + "`Conn.Close`" + `). With the defaults (tcp/orphan.go,
stack tests in stack/orphan_test.go):

| peer | freed |
|---|---|
| acknowledges our FIN, never sends its own (FIN-WAIT-2) | 60 s after FIN-WAIT-2 began (` + "`tcp.Config.FinTimeout`" + `, Linux's tcp_fin_timeout), silently |
| keeps a zero window and answers every probe | at the 9th persist timer, after 8 probes (` + "`tcp.Config.OrphanRetries`" + `, tcp_orphan_retries): 1 s + RTO·(1+2+…+256); with RTO 200 ms, 102.2 s after Close, ErrTimeout |
| vanishes with data in flight | at the 9th RTO, after 8 retransmissions instead of DataRetries' 15: the same 102.2 s with RTO 200 ms (925.6 s before) |
| trickles bytes to us | at its first byte, with a RST (RFC 1122 §4.2.2.13) |

Caps per stack (stack/limits.go): ` + "`MaxOrphans`" + ` (65536; the oldest orphan is
reset, ` + "`OrphanOverflows`" + `), ` + "`MaxTimeWait`" + ` (262144; the oldest TIME-WAIT
connection is freed, ` + "`TimeWaitOverflows`" + `), ` + "`MaxConns`" + ` (262144; Connect fails
with ` + "`ErrTooManyConns`" + `, SYNs and cookie ACKs for listeners are dropped,
` + "`ConnLimitDrops`" + `).

## TIME-WAIT and servers that close first (RFC 6191)

A SYN for a connection in TIME-WAIT reopens it when its timestamp is newer
than the last one seen (or equal with a higher sequence number), or,
without timestamps, when its sequence number is above RCV.NXT (RFC 1122
§4.2.2.13); the new ISS is above the old SND.NXT. An HTTP/1.0-style loop
of 200 dials from 8 client ports, the server closing first, retransmits no
SYN (` + "`TestHTTP10LoopNoStalls`" + `), with timestamps and without: the
offset of synack's timestamp clock is a keyed hash of the address pair
(` + "`tcp.TSOffset`" + `, as Linux's secure_tcp_ts_off), so a new incarnation's
TSval is above the old one's. (With the offset per connection, from the
ISS, about half of them were below, and RFC 6191 refused them.)

## The buffer budget (tcp_mem)

The send and receive buffers of all of a stack's connections share a
budget, counted in bytes of the arrays they hold as they are borrowed and
given back (tcp/memory.go, stack/limits.go), with Linux's two levels:
from ` + "`tcp.Config.MemPressure`" + ` (default 768 MiB) buffers stop growing (receive
and send autotuning pause) and a connection that gets out-of-order data
lets go of what it holds out of order and drops the segment (RFC 2018 §8:
the data is only SACKed, the peer still has it); from ` + "`MemLimit`" + ` (1 GiB) data
that would need a larger receive array is dropped unacknowledged, and
Write takes only what the send ring holds. Every connection may always
have 4 KiB of each buffer, so none is starved for ever by the others: the
budget is exceeded by at most the one array that crossed it and 8 KiB per
connection. Drops are traced as ` + "`DropMemory`" + ` and counted
(` + "`Stack.Memory`" + `). ` + "`TestMemoryBudget`" + ` (tcp) checks each step on three connections;
` + "`TestMemoryPressurePrunes`" + ` (stack) floods 16 connections with 1-byte
out-of-order segments under a 192 KiB budget: the high-water mark stays
under 192 + 64 + 16 × 4 KiB, and nothing is held once the holes are filled
and the data read.

## A hostile peer, fuzzed

` + "`FuzzHostile`" + ` (stack/hostile_fuzz_test.go) drives a listening host and an
established connection with a hostile peer's segments: near the right
sequence and acknowledgment numbers or anywhere, any flags, timestamps
(near or blind), SACK blocks anywhere, MSS and window scale options,
payloads, spoofed SYN bursts and cookie guesses, the application writing,
reading and closing, timers. After each step it checks that every packet
sent parses, that one Output sends at most 10000, and the bounds:
connections, the SYN and accept queues, every connection's buffers, the
stack's buffer budget, SACKed bytes, and no deadline left in the past.

## Not yet

A half-open connection whose SYN carried text, or that got anything but
its SYN again, stays a whole TCB (bounded by the SYN queue):
` + "`tcp.HalfOpen`" + ` has no room for the text or for what a stray segment
leaves (a challenge ACK's count, an ICMP error's trace).
`

// halfOpenResult is what halfOpenFlood measured.
type halfOpenResult struct {
	perEntry, held, after uint64 // heap bytes: per entry, all, after they were freed
	freedAt               clock.Time
	synacks               int
	// firstAt is when the first were freed, and first how many then.
	firstAt clock.Time
	first   int
}

// halfOpenFlood makes n half-open connections from spoofed SYNs at time 0
// (cookies off) against a SYN queue of synBacklog, measures the heap they
// hold, and runs the timers until the last is freed.
func halfOpenFlood(t testing.TB, n, synBacklog int) halfOpenResult {
	var ms runtime.MemStats
	s, err := New(Config{Name: "server", Addr: hostAddr, Rand: newRand(), SynCookies: CookiesOff, SynBacklog: synBacklog})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := s.Listen(80, 0)
	rng := rand.New(rand.NewPCG(5, 6))
	var buf []byte
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	var res halfOpenResult
	count := func([]byte) { res.synacks++ }
	for i := 0; i < n; i++ {
		// Distinct sources: 198.19.0.0/16, and a port per 65536.
		p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)}), Dst: hostAddr},
			TCP: wire.Segment{SrcPort: uint16(1024 + i>>16), DstPort: 80, Seq: seq.Value(rng.Uint32()), Flags: wire.SYN, Window: 65535,
				Options: wire.Options{HasMSS: true, MSS: 1460}}}
		buf = p.Append(buf[:0])
		s.Input(0, buf)
		if i%1024 == 1023 {
			s.Output(0, count)
		}
	}
	s.Output(0, count)
	if h := l.HalfOpen(); h != n {
		t.Fatalf("%d half-open connections, want %d", h, n)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.held = ms.HeapAlloc - min(before, ms.HeapAlloc)
	res.perEntry = res.held / uint64(n)
	for l.HalfOpen() > 0 {
		now := s.NextDeadline()
		if now == clock.Never || now > clock.Time(10*time.Minute) {
			t.Fatalf("%d half-open connections left, next deadline %v", l.HalfOpen(), now)
		}
		h := l.HalfOpen()
		s.HandleTimeout(now)
		s.Output(now, count)
		if res.first == 0 && l.HalfOpen() < h {
			res.firstAt, res.first = now, h-l.HalfOpen()
		}
		res.freedAt = now
	}
	s.Output(res.freedAt, count) // Changed() keeps the last ones until the next Output
	runtime.GC()
	runtime.ReadMemStats(&ms)
	res.after = ms.HeapAlloc - min(before, ms.HeapAlloc)
	runtime.KeepAlive(s)
	return res
}
