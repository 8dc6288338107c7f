package sim

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
)

// EfficiencyConfig says which efficiency tables to compute: goodput of a
// long bulk transfer against random loss and RTT, beside the Mathis et al.
// bound, and spurious retransmissions under reordering without loss.
type EfficiencyConfig struct {
	// Losses are the data path's loss probabilities; RTTs the round-trip
	// times (split evenly between the directions). The ACK path never
	// loses, as the Mathis model assumes.
	Losses []float64
	RTTs   []time.Duration
	// Congestion names the controllers to measure ("cubic", "newreno").
	Congestion []string
	// Size is the bytes moved per goodput run.
	Size int
	// Bandwidth and QueueLimit shape the bottleneck (ample: the loss, not
	// the link, should limit).
	Bandwidth  int64
	QueueLimit int
	// Reorders are the probabilities that a packet is held back, Delays
	// how long; ReorderRTT is the path's RTT and ReorderSize the bytes per
	// run.
	Reorders    []float64
	Delays      []time.Duration
	ReorderRTT  time.Duration
	ReorderSize int
	// Seed seeds every run.
	Seed uint64
}

// DefaultEfficiency is the configuration of docs/EFFICIENCY.md.
func DefaultEfficiency() EfficiencyConfig {
	ms := time.Millisecond
	return EfficiencyConfig{
		Losses:      []float64{0.001, 0.005, 0.01, 0.02, 0.05},
		RTTs:        []time.Duration{10 * ms, 50 * ms, 100 * ms, 200 * ms},
		Congestion:  []string{"cubic", "newreno"},
		Size:        50_000_000,
		Bandwidth:   100_000_000,
		QueueLimit:  10_000,
		Reorders:    []float64{0.01, 0.05, 0.10},
		Delays:      []time.Duration{1 * ms, 5 * ms, 20 * ms},
		ReorderRTT:  50 * ms,
		ReorderSize: 5_000_000,
		Seed:        1,
	}
}

// SmallEfficiency is a quick version for the snapshot test.
func SmallEfficiency() EfficiencyConfig {
	ms := time.Millisecond
	return EfficiencyConfig{
		Losses:      []float64{0.01, 0.05},
		RTTs:        []time.Duration{20 * ms, 100 * ms},
		Congestion:  []string{"cubic", "newreno"},
		Size:        2_000_000,
		Bandwidth:   100_000_000,
		QueueLimit:  10_000,
		Reorders:    []float64{0.05},
		Delays:      []time.Duration{5 * ms},
		ReorderRTT:  50 * ms,
		ReorderSize: 1_000_000,
		Seed:        1,
	}
}

// MathisMSS is the segment payload the Mathis bound is computed with: the
// 1460-byte MSS less the 12 bytes of the timestamps option.
const MathisMSS = 1448

// Mathis is the Mathis et al. (1997) bound on the throughput of a
// congestion-avoidance TCP: MSS/RTT · C/sqrt(p), C = sqrt(3/2), in bit/s.
func Mathis(mss int, rtt time.Duration, p float64) float64 {
	return float64(mss) * 8 / rtt.Seconds() * math.Sqrt(1.5) / math.Sqrt(p)
}

// bulkConfig is a TCP whose buffers never limit the transfer.
func bulkConfig(congestion string, noSACK bool) tcp.Config {
	return tcp.Config{RecvBuffer: 16 << 20, RecvBufferMax: 16 << 20, SendBuffer: 16 << 20, Congestion: congestion, NoSACK: noSACK}
}

// GoodputRow is one cell of the goodput table.
type GoodputRow struct {
	Congestion string
	Loss       float64
	RTT        time.Duration
	Result     SoakResult
	Mathis     float64
}

// ReorderRow is one cell of the reordering table.
type ReorderRow struct {
	Reorder float64
	Delay   time.Duration
	SACK    bool
	Result  SoakResult
}

// EfficiencyReport holds the computed tables.
type EfficiencyReport struct {
	Config  EfficiencyConfig
	Goodput []GoodputRow
	Reorder []ReorderRow
}

// RunEfficiency computes the tables; progress, if set, is called after
// each run with the runs done and the total.
func RunEfficiency(cfg EfficiencyConfig, progress func(done, total int)) (*EfficiencyReport, error) {
	rep := &EfficiencyReport{Config: cfg}
	total := len(cfg.Congestion)*len(cfg.RTTs)*len(cfg.Losses) + 2*len(cfg.Reorders)*len(cfg.Delays)
	done := 0
	step := func() {
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	for _, cc := range cfg.Congestion {
		for _, rtt := range cfg.RTTs {
			for _, p := range cfg.Losses {
				fwd := netsim.Impairment{Latency: rtt / 2, Loss: p, Bandwidth: cfg.Bandwidth, QueueLimit: cfg.QueueLimit}
				rev := netsim.Impairment{Latency: rtt / 2}
				c := SoakCase{
					Name: fmt.Sprintf("goodput-%s-%v-%g", cc, rtt, p), Link: fwd, Reverse: &rev,
					Client: bulkConfig(cc, false), Server: bulkConfig(cc, false),
					Size: cfg.Size, Budget: timeWait + 6*time.Hour,
				}
				r, err := RunSoak(c, cfg.Seed)
				if err != nil {
					return nil, err
				}
				rep.Goodput = append(rep.Goodput, GoodputRow{Congestion: cc, Loss: p, RTT: rtt, Result: r, Mathis: Mathis(MathisMSS, rtt, p)})
				step()
			}
		}
	}
	for _, sack := range []bool{true, false} {
		for _, p := range cfg.Reorders {
			for _, d := range cfg.Delays {
				imp := netsim.Impairment{Latency: cfg.ReorderRTT / 2, Reorder: p, ReorderDelay: d, Bandwidth: cfg.Bandwidth, QueueLimit: cfg.QueueLimit}
				rev := netsim.Impairment{Latency: cfg.ReorderRTT / 2}
				c := SoakCase{
					Name: fmt.Sprintf("reorder-%g-%v-sack=%v", p, d, sack), Link: imp, Reverse: &rev,
					Client: bulkConfig("cubic", !sack), Server: bulkConfig("cubic", !sack),
					Size: cfg.ReorderSize, Budget: timeWait + time.Hour,
				}
				r, err := RunSoak(c, cfg.Seed)
				if err != nil {
					return nil, err
				}
				rep.Reorder = append(rep.Reorder, ReorderRow{Reorder: p, Delay: d, SACK: sack, Result: r})
				step()
			}
		}
	}
	return rep, nil
}

// OK reports whether every run delivered its bytes intact and closed.
func (rep *EfficiencyReport) OK() bool {
	for i := range rep.Goodput {
		if !rep.Goodput[i].Result.OK() {
			return false
		}
	}
	for i := range rep.Reorder {
		if !rep.Reorder[i].Result.OK() {
			return false
		}
	}
	return true
}

func pct(p float64) string { return strconv.FormatFloat(p*100, 'g', 3, 64) + "%" }

func mbit(bps float64) string { return fmt.Sprintf("%.2f", bps/1e6) }

// WriteMarkdown writes the tables as Markdown, headed by command (the
// command line that made them).
func (rep *EfficiencyReport) WriteMarkdown(w io.Writer, command string) error {
	cfg := rep.Config
	var b strings.Builder
	fmt.Fprintf(&b, "# Efficiency of synack's TCP on the simulated link\n\n")
	fmt.Fprintf(&b, "Made by `%s` (deterministic: the same command gives the same file).\n\n", command)
	fmt.Fprintf(&b, "## Goodput against loss and RTT, beside the Mathis et al. bound\n\n")
	fmt.Fprintf(&b, "One bulk transfer of %d bytes per cell (seed %d), client to server, over a %s link with a %d-packet queue; "+
		"the data path drops packets at random with probability p, the ACK path never does; buffers of 16 MiB, so the window never limits. "+
		"Goodput is bytes × 8 over the time from the first SYN until the receiver has every byte and the FIN. "+
		"Mathis = MSS/RTT · C/√p with MSS = %d (1460 less timestamps) and C = √(3/2); the bound describes Reno-style congestion avoidance "+
		"in steady state with periodic loss, so CUBIC may beat it and slow start, timeouts and queueing may keep a transfer below it. "+
		"\"loss seen\" is the data path's drops over packets sent (retransmissions included); "+
		"\"spurious\" counts segments whose every byte had already reached the receiver (seen on the wire).\n\n",
		cfg.Size, cfg.Seed, netsim.Impairment{Bandwidth: cfg.Bandwidth}.String(), cfg.QueueLimit, MathisMSS)
	for _, cc := range cfg.Congestion {
		fmt.Fprintf(&b, "### %s\n\n", cc)
		fmt.Fprintf(&b, "| RTT | p | loss seen | goodput (Mbit/s) | Mathis (Mbit/s) | goodput/Mathis | retransmits | spurious | timeouts | fast recoveries | TLPs |\n")
		fmt.Fprintf(&b, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		for _, row := range rep.Goodput {
			if row.Congestion != cc {
				continue
			}
			r := &row.Result
			seen := 0.0
			if r.Link.Sent > 0 {
				seen = float64(r.Link.Lost+r.Link.QueueDrops) / float64(r.Link.Sent)
			}
			good, ratio := "FAILED", "-"
			if r.OK() {
				good, ratio = mbit(r.Goodput), fmt.Sprintf("%.2f", r.Goodput/row.Mathis)
			}
			fmt.Fprintf(&b, "| %v | %s | %s | %s | %s | %s | %d | %d | %d | %d | %d |\n", row.RTT, pct(row.Loss), pct(seen), good,
				mbit(min(row.Mathis, float64(cfg.Bandwidth))), ratio, r.Retransmits, r.DupSegs, r.Timeouts, r.FastRecoveries, r.TLPs)
		}
		fmt.Fprintln(&b)
	}
	fmt.Fprintf(&b, "Mathis values above the link rate are shown capped at it; the ratio uses the uncapped bound.\n\n")
	fmt.Fprintf(&b, "## Spurious retransmissions under reordering, no loss\n\n")
	fmt.Fprintf(&b, "One transfer of %d bytes per cell (seed %d), CUBIC, RTT %v, %s; a fraction of the data packets is held back by the given delay "+
		"so that later ones overtake it; nothing is lost, so every retransmission is spurious. "+
		"\"spurious at receiver\" counts the segments whose every byte had already reached the receiver, seen on the wire; "+
		"\"tcp DupBytesIn\" is what package tcp's receiver counted. SACK on means RACK-TLP loss detection (RFC 8985); "+
		"SACK off leaves NewReno's three duplicate ACKs.\n\n",
		cfg.ReorderSize, cfg.Seed, cfg.ReorderRTT, netsim.Impairment{Bandwidth: cfg.Bandwidth}.String())
	fmt.Fprintf(&b, "| reordered | delay | SACK | segments sent | retransmits | spurious at receiver | spurious/sent | tcp DupBytesIn | D-SACKs in | undos | goodput (Mbit/s) |\n")
	fmt.Fprintf(&b, "|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rep.Reorder {
		r := &row.Result
		sack := "off"
		if row.SACK {
			sack = "on"
		}
		good := "FAILED"
		if r.OK() {
			good = mbit(r.Goodput)
		}
		frac := 0.0
		if r.SegsOut > 0 {
			frac = float64(r.DupSegs) / float64(r.SegsOut)
		}
		fmt.Fprintf(&b, "| %s | %v | %s | %d | %d | %d | %.2f%% | %d | %d | %d | %s |\n", pct(row.Reorder), row.Delay, sack,
			r.SegsOut, r.Retransmits, r.DupSegs, frac*100, r.DupBytesIn, r.DSACKsIn, r.Undos, good)
	}
	fmt.Fprintln(&b)
	var failed []string
	for i := range rep.Goodput {
		if r := &rep.Goodput[i].Result; !r.OK() {
			failed = append(failed, fmt.Sprintf("- %s: %s", r.Case, strings.Join(r.Problems(), "; ")))
		}
	}
	for i := range rep.Reorder {
		if r := &rep.Reorder[i].Result; !r.OK() {
			failed = append(failed, fmt.Sprintf("- %s: %s", r.Case, strings.Join(r.Problems(), "; ")))
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(&b, "## Failed runs\n\n%s\n", strings.Join(failed, "\n"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
