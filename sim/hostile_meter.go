package sim

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"slices"
	"time"

	"github.com/gosynack/synack/clock"
)

// attackTTL is the IPv4 TTL of every packet an attacker builds by hand
// (the stacks send 64): the meter tells attack packets by it, spoofed
// sources and all, as a real attacker's distance would.
const attackTTL = 51

// Packet classes of the meter.
const (
	classOther  = iota // a legitimate peer's packet without payload, ICMP...
	classNormal        // a legitimate peer's data segment: the yardstick
	classAttack
)

// cpuMeter times one host's stack in a hostile run: each packet's Input,
// and the Output that follows it, shared equally among the packets
// delivered since the previous Output (the stack answers them together);
// the time the network takes the packets sent is left out. Outputs with
// no packet before them (the application's writes, timers) and
// HandleTimeout are not counted. The clock is the wall clock
// (time.Now), per packet: the figures are this machine's and vary from
// run to run; the counts beside them do not.
type cpuMeter struct {
	host *Host
	// attackers are the addresses whose packets are attacks although
	// built by a stack (a peer that never reads, one that vanishes).
	attackers map[netip.Addr]bool
	// onAttack runs after each attack packet's Input (untimed): the
	// run's sampling of queues and memory.
	onAttack func(n int)

	pend []pendingPkt

	// attack and normal hold each attack packet's and each yardstick
	// segment's cost, in order of arrival.
	attack, normal []time.Duration

	// Memory: the server stack's buffer accounting's high-water mark
	// (deterministic), and the Go heap's above its size at the start,
	// sampled every heapEvery attack packets (and at the end).
	bufHigh   int
	heapBase  uint64
	heapHigh  uint64
	heapEvery int
}

type pendingPkt struct {
	class int
	in    time.Duration
}

func newCPUMeter(h *Host, attackers []netip.Addr) *cpuMeter {
	m := &cpuMeter{host: h, attackers: map[netip.Addr]bool{}, heapEvery: 1024}
	for _, a := range attackers {
		m.attackers[a] = true
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.heapBase = ms.HeapAlloc
	return m
}

// classify tells the packet's class from its IPv4 header and TCP data
// offset (IPv6 packets are the legitimate hosts' only).
func (m *cpuMeter) classify(pkt []byte) int {
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return classOther
	}
	src, _ := netip.AddrFromSlice(pkt[12:16])
	if pkt[8] == attackTTL || m.attackers[src] {
		return classAttack
	}
	ihl := int(pkt[0]&0xf) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if pkt[9] != 6 || len(pkt) < ihl+20 || total > len(pkt) {
		return classOther
	}
	off := int(pkt[ihl+12]>>4) * 4
	if total-ihl-off > 0 {
		return classNormal
	}
	return classOther
}

func (m *cpuMeter) input(now clock.Time, pkt []byte) {
	cls := m.classify(pkt)
	t0 := time.Now()
	m.host.Stack.Input(now, pkt)
	d := time.Since(t0)
	m.pend = append(m.pend, pendingPkt{cls, d})
	m.bufHigh = max(m.bufHigh, m.host.Stack.Memory().BufferBytes)
}

func (m *cpuMeter) output(now clock.Time, emit func([]byte)) {
	var away time.Duration
	t0 := time.Now()
	m.host.Stack.Output(now, func(pkt []byte) {
		t := time.Now()
		emit(pkt)
		away += time.Since(t)
	})
	d := time.Since(t0) - away
	if len(m.pend) == 0 {
		return
	}
	share := d / time.Duration(len(m.pend))
	for _, p := range m.pend {
		switch p.class {
		case classAttack:
			m.attack = append(m.attack, p.in+share)
			if n := len(m.attack); n%m.heapEvery == 0 {
				m.sampleHeap()
			}
			if m.onAttack != nil {
				m.onAttack(len(m.attack))
			}
		case classNormal:
			m.normal = append(m.normal, p.in+share)
		}
	}
	m.pend = m.pend[:0]
	m.bufHigh = max(m.bufHigh, m.host.Stack.Memory().BufferBytes)
}

func (m *cpuMeter) sampleHeap() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapAlloc > m.heapBase {
		m.heapHigh = max(m.heapHigh, ms.HeapAlloc-m.heapBase)
	}
}

// CPUFigures are a hostile run's timings (wall clock, per packet, of the
// server stack's Input and its share of the Output that answered).
//
// A packet whose wall time is more than outlier times its class's median
// is left out of the means (but not of MaxNs): on a shared machine it
// was preempted, or stopped by the garbage collector, and one such
// microsecond-long pause outweighs a thousand packets.
type CPUFigures struct {
	// AttackNs is the mean cost of an attack packet, NormalNs of a
	// legitimate data segment in the same run; Ratio is their quotient.
	AttackNs, NormalNs, Ratio float64
	// WorstEighthNs is the mean of the costliest eighth of the attack
	// packets taken in order of arrival, leaving out the first 1% (the
	// attack's queues grow as it goes, so the eighths are its queue
	// sizes; the first packets of a SACK attack newly SACK the whole
	// queue, work in proportion to what they deliver, done once);
	// WorstRatio is its quotient by NormalNs. MaxNs is the costliest
	// single attack packet; Outliers counts the packets left out.
	WorstEighthNs, WorstRatio, MaxNs float64
	Outliers                         int
	// HeapHigh is the Go heap's high-water mark above its size at the
	// start of the run (the whole world's: every stack and the network),
	// sampled every 1024 attack packets and at the end.
	HeapHigh uint64
}

const outlier = 50

// trimmedMean is the mean of p without the outliers above limit, and how
// many those were.
func trimmedMean(p []time.Duration, limit time.Duration) (float64, int) {
	var s time.Duration
	n, out := 0, 0
	for _, d := range p {
		if d > limit {
			out++
			continue
		}
		s += d
		n++
	}
	if n == 0 {
		return 0, out
	}
	return float64(s.Nanoseconds()) / float64(n), out
}

func medianDur(p []time.Duration) time.Duration {
	if len(p) == 0 {
		return 0
	}
	q := slices.Clone(p)
	slices.Sort(q)
	return q[len(q)/2]
}

func (m *cpuMeter) figures() CPUFigures {
	m.sampleHeap()
	f := CPUFigures{HeapHigh: m.heapHigh}
	f.NormalNs, _ = trimmedMean(m.normal, outlier*medianDur(m.normal))
	if n := len(m.attack); n > 0 {
		limit := outlier * medianDur(m.attack)
		f.AttackNs, f.Outliers = trimmedMean(m.attack, limit)
		for _, d := range m.attack {
			f.MaxNs = max(f.MaxNs, float64(d.Nanoseconds()))
		}
		steady := m.attack[n/100:]
		f.WorstEighthNs, _ = trimmedMean(steady, limit)
		if k := len(steady); k >= 8 {
			f.WorstEighthNs = 0
			for q := 0; q < 8; q++ {
				e, _ := trimmedMean(steady[q*k/8:(q+1)*k/8], limit)
				f.WorstEighthNs = max(f.WorstEighthNs, e)
			}
		}
	}
	if f.NormalNs > 0 {
		f.Ratio = f.AttackNs / f.NormalNs
		f.WorstRatio = f.WorstEighthNs / f.NormalNs
	}
	return f
}
