package sim

import (
	"encoding/binary"
	"net/netip"
	"runtime"
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

	// attack holds each attack packet's cost in order of arrival;
	// normalNs and normalN sum the yardstick's.
	attack   []time.Duration
	normalNs time.Duration
	normalN  int

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
			m.normalNs += p.in + share
			m.normalN++
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
type CPUFigures struct {
	// AttackNs is the mean cost of an attack packet, NormalNs of a
	// legitimate data segment, in the same run; Ratio is their quotient.
	AttackNs, NormalNs, Ratio float64
	// WorstQuarterNs is the mean of the costliest quarter of the attack
	// packets taken in order of arrival (the attack's queues grow as it
	// goes: the last quarter is the largest queue), and WorstRatio its
	// quotient by NormalNs.
	WorstQuarterNs, WorstRatio float64
	// HeapHigh is the Go heap's high-water mark above its size at the
	// start of the run (the whole world's: every stack and the network),
	// sampled every 1024 attack packets and at the end.
	HeapHigh uint64
}

func (m *cpuMeter) figures() CPUFigures {
	m.sampleHeap()
	f := CPUFigures{HeapHigh: m.heapHigh}
	if m.normalN > 0 {
		f.NormalNs = float64(m.normalNs.Nanoseconds()) / float64(m.normalN)
	}
	if n := len(m.attack); n > 0 {
		var sum time.Duration
		for _, d := range m.attack {
			sum += d
		}
		f.AttackNs = float64(sum.Nanoseconds()) / float64(n)
		f.WorstQuarterNs = f.AttackNs
		if n >= 4 {
			f.WorstQuarterNs = 0
			for q := 0; q < 4; q++ {
				var s time.Duration
				part := m.attack[q*n/4 : (q+1)*n/4]
				for _, d := range part {
					s += d
				}
				f.WorstQuarterNs = max(f.WorstQuarterNs, float64(s.Nanoseconds())/float64(len(part)))
			}
		}
	}
	if f.NormalNs > 0 {
		f.Ratio = f.AttackNs / f.NormalNs
		f.WorstRatio = f.WorstQuarterNs / f.NormalNs
	}
	return f
}
