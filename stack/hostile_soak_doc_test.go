package stack_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/sim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/trace/i18n"
)

// The hostile soak's section of docs/HARDENING.md: package sim imports
// stack, so this external test file runs it and hands the Markdown to
// TestHardeningDoc (hardening_hostile_test.go).
func init() { stack.HostileSoakMarkdown = hostileSoakMarkdown }

func hostileSoakMarkdown(t testing.TB) string {
	var b strings.Builder
	b.WriteString(`Made by the same runs as ` + "`synack soak --hostile`" + ` (seed 1; sim/hostile.go;
` + "`--quick`" + ` is the small version CI runs, snapshot-tested without its timings by
` + "`TestSoakHostileGolden`" + `). One server; 20 legitimate clients started over 3 s,
each sending a request of 20–39 kB and reading a response of 10–23 kB, both
checked byte for byte; beside them one attacker per row, all on one
simulated network with 10 ms each way. "buffers" is the high-water mark of
the server stack's own buffer accounting (` + "`stack.Memory`" + `, deterministic);
"heap" the Go heap's above its size at the start (the whole simulated
world: every stack and the network's queues), sampled every 1024 attack
packets. CPU is the wall time of the server stack's Input of each packet
and its share of the Output that answered (the network's own work left
out), per attack packet and per legitimate data segment in the same run;
packets above 50× their class's median (preempted, or stopped by the
garbage collector) are left out of the means; "worst eighth" is the
costliest eighth of the attack in order of arrival, after its first 1%,
so the largest queue it built; "costliest" the single costliest packet
(on a shared machine often one that was preempted).

| attack | legitimate completed | bytes intact | attack packets | buffers | heap | ns per attack packet | ns per normal segment | × normal | worst eighth × normal | costliest |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
`)
	var notes strings.Builder
	for _, c := range sim.HostileCases() {
		t0 := time.Now()
		r, err := sim.RunHostile(c, 1, false)
		if err != nil {
			t.Fatal(err)
		}
		cpu := r.CPU
		fmt.Fprintf(&b, "| %s | %d of %d | %d of %d | %d | %d KiB | %d KiB | %.0f | %.0f | %.1f | %.1f | %.0f µs |\n",
			r.Case, r.Completed, r.Legit, r.BytesIntact, r.BytesSent, r.AttackPackets, r.BufferHigh>>10, cpu.HeapHigh>>10,
			cpu.AttackNs, cpu.NormalNs, cpu.Ratio, cpu.WorstRatio, cpu.MaxNs/1000)
		fmt.Fprintf(&notes, "- %s (%s): %s.", r.Case, c.About, strings.Join(r.Notes(i18n.English), "; "))
		if !r.OK() {
			fmt.Fprintf(&notes, " FAILED: %s.", strings.Join(r.Problems, "; "))
		}
		fmt.Fprintf(&notes, " (%v of wall time.)\n", time.Since(t0).Round(time.Millisecond))
	}
	b.WriteString("\n" + notes.String())
	b.WriteString(`
The 4× bound of issue 15 is for the floods, whose queues grow with the
attack: the out-of-order flood's 60k ranges (tcp/ooo.go's blocks:
CVE-2018-5390's analogue) and the SACK abuse's 100k-segment queue
(tcp/sndq.go's SACKed runs skipped, the queue never split at a block's
edge, the peer's MSS raised to 48: CVE-2019-11477/11478/11479's). Their
worst eighth stays within 1.5× a normal segment. This soak found one
more: RACK's loss detection (tcp/recovery.go, RFC 8985 §6.2) walked, on
every ACK, every segment sent at the same instant as the one delivered
and every hole not yet old enough to be lost, so an ACK's cost grew with
the queue (the sack-abuse runs took 7.3 s of CPU, 0.5 s since); it now
looks at no more than 32 segments it keeps (TestRACKScanBurstInOrderACK,
TestRACKScanManyHoles). The SACK abuse's costliest packet is its first
abusive ACK, whose blocks SACK most of the queue at once: the window it
frees lets the server send about 70,000 segments (the holes again, and new
data) in the Output that answers it, about 1 µs a segment sent; every
ACK after it costs what a normal segment does. The zero-window and
vanish rows have a few packets only (handshakes, requests, and ACKs that
let the server send more data), where one costly packet moves the mean.
`)
	return b.String()
}
