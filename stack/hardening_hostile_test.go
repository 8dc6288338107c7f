package stack

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// The hostile sections of docs/HARDENING.md (issue 15): the hostile soak's
// table (made by package sim, which imports this package, so an external
// test file hands it in: hostile_soak_doc_test.go) and blind injection
// measured against RFC 5961's bound. TestHardeningDoc calls hostileDoc.

// HostileSoakMarkdown is set by hostile_soak_doc_test.go (package
// stack_test): it runs the full hostile soak and returns its section's
// table and figures.
var HostileSoakMarkdown func(t testing.TB) string

// hostileDoc inserts the hostile sections before doc's "## Not yet" and
// takes the hostile soak off that list.
func hostileDoc(t testing.TB, doc string) string {
	var b strings.Builder
	b.WriteString("## The hostile soak (`synack soak --hostile`)\n\n")
	if HostileSoakMarkdown != nil {
		b.WriteString(HostileSoakMarkdown(t))
	}
	b.WriteString("\n")
	b.WriteString(blindSection(t))
	return strings.Replace(doc, "## Not yet", b.String()+"## Not yet", 1)
}

// rstAimed opens a fresh connection per trial and sends it RSTs whose
// sequence numbers are drawn uniformly from the k values starting at
// RCV.NXT - k/2 (an attacker who knows where the window is, to within k)
// until one resets it; it returns the attempts. RFC 5961 §3.2 lets only
// seq == RCV.NXT reset: success per attempt 1/k. Before RFC 5961 any
// in-window RST did (RFC 9293 §3.10.7.4's older rule): 1 per attempt here.
func rstAimed(t testing.TB, trials, k int) (attempts int) {
	rng := rand.New(rand.NewPCG(15, 5961))
	for trial := 0; trial < trials; trial++ {
		s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(uint64(trial), 2))})
		if err != nil {
			t.Fatal(err)
		}
		c := scaledConn(t, s)
		for c.State() == tcp.Established {
			if attempts > 100*trials*k {
				t.Fatalf("no reset after %d attempts", attempts)
			}
			nxt := c.Info().RcvNxt
			sq := nxt - seq.Value(k/2) + seq.Value(rng.IntN(k))
			p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
				TCP: wire.Segment{SrcPort: 80, DstPort: c.Tuple().Local.Port(), Seq: sq, Flags: wire.RST}}
			s.Input(0, p.Append(nil))
			s.Output(0, func([]byte) {})
			attempts++
		}
	}
	return attempts
}

// dataAimed sends n data segments at exactly RCV.NXT (the attacker knows
// the sequence number) with acknowledgment numbers drawn uniformly from
// all 2^32, and counts those the connection took: RFC 5961 §5.2 accepts
// only SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT, that is
// (MAX.SND.WND + SND.NXT - SND.UNA + 1) / 2^32 per attempt; it returns
// the count and that window.
func dataAimed(t testing.TB, n int) (taken int, window uint64) {
	rng := rand.New(rand.NewPCG(15, 5))
	s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)),
		TCP: tcp.Config{RecvBuffer: 4 << 20, RecvBufferMax: 4 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	c := scaledConn(t, s)
	// One real segment: the peer's window, scaled by 2^7, is now
	// MAX.SND.WND = 65535 << 7.
	s.Input(0, dataPacket(c, 0, []byte("x")))
	s.Output(0, func([]byte) {})
	buf := make([]byte, 64)
	for i := 0; i < n; i++ {
		in := c.Info()
		p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
			TCP: wire.Segment{SrcPort: 80, DstPort: c.Tuple().Local.Port(), Seq: in.RcvNxt, Ack: seq.Value(rng.Uint32()),
				Flags: wire.ACK | wire.PSH, Window: 65535, Payload: []byte("INJECTED")}}
		s.Input(0, p.Append(nil))
		s.Read(0, c, buf)
		s.Output(0, func([]byte) {})
		if c.Info().RcvNxt != in.RcvNxt {
			taken++
		}
	}
	in := c.Info()
	return taken, uint64(65535<<7) + uint64(in.SndNxt.Size(in.SndUna)) + 1
}

// TestBlindInjectionBound checks the measurement the doc reports at a
// small scale: aimed RSTs succeed at about 1/k per attempt (not at once,
// as any in-window RST would), aimed data at about its ACK window.
func TestBlindInjectionBound(t *testing.T) {
	const trials, k = 40, 64
	a := rstAimed(t, trials, k)
	// The attempts to the first success are geometric with mean k: their
	// sum over 40 trials is within [k*trials/2, 2*k*trials] but for a
	// chance far below 1e-6.
	if a < k*trials/2 || a > 2*k*trials {
		t.Errorf("%d trials of RSTs drawn from %d sequence numbers took %d attempts, want about %d", trials, k, a, k*trials)
	}
	taken, w := dataAimed(t, 20000)
	want := 20000 * float64(w) / (1 << 32)
	if float64(taken) < want/2 || float64(taken) > want*2 {
		t.Errorf("%d of 20000 aimed data segments taken, want about %.0f (ACK window %d of 2^32)", taken, want, w)
	}
}

func blindSection(t testing.TB) string {
	const trials, k = 400, 1024
	a := rstAimed(t, trials, k)
	const n = 400_000
	taken, w := dataAimed(t, n)
	var b strings.Builder
	fmt.Fprintf(&b, `## Blind injection (RFC 5961)

A blind attacker who knows the 4-tuple but not the sequence numbers has,
per segment it sends (RFC 5961 §3–5, as synack checks them in
tcp/input.go):

- a RST resets only when SEG.SEQ is exactly RCV.NXT (§3.2; in the window
  otherwise, a rate-limited challenge ACK): success per attempt 1/2^32,
  where the older rule of any RST in the window gave RCV.WND/2^32;
- a SYN never resets a synchronized connection, at any sequence number
  (§4.2: a challenge ACK): success 0;
- data is taken only in the window and with SND.UNA − MAX.SND.WND ≤
  SEG.ACK ≤ SND.NXT (§5.2): success (RCV.WND/2^32) × ((MAX.SND.WND +
  SND.NXT − SND.UNA + 1)/2^32).

A bound of 1/2^32 cannot be met by chance in a test, so it is measured
where it can be: with the attacker's guesses narrowed.
`+"`TestBlindInjectionBound`"+` checks the same at a small scale.

| attack | attempts | successes | measured per attempt | RFC 5961 bound per attempt |
|---|---:|---:|---:|---:|
| RST at a sequence number drawn from %d around RCV.NXT, a fresh connection per success | %d | %d | 1/%.0f | 1/%d |
| data at RCV.NXT exactly, ACK drawn from all 2^32 | %d | %d | 1/%.0f | %d/2^32 = 1/%.0f |

So a RST at a fully random sequence number succeeds at 1/2^32 per
attempt, 2^22 times more rarely than at this narrowed rate of 1/2^10, and data at
(RCV.WND/2^32) × 1/%.0f. In the hostile soak (above), blind RSTs, SYNs and
data at fully random numbers reset nothing and inject nothing; most draw
nothing at all (outside the window, or dropped by PAWS for their random
TSval), and the challenge ACKs they draw are held to the rate limit.

`, k, a, trials, float64(a)/trials, k, n, taken, float64(n)/float64(max(taken, 1)), w, float64(1<<32)/float64(w), float64(1<<32)/float64(w))
	return b.String()
}
