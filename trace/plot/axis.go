package plot

import (
	"math"
	"strconv"
	"strings"
)

// piece is a stretch of the time axis drawn to scale: times t0..t1
// (nanoseconds) at x0..x1 (pixels from the plot area's left edge).
type piece struct {
	t0, t1 int64
	x0, x1 float64
}

// timeAxis maps time to x. It is one piece, or two with a break between
// them where the connection was silent for more than half its time (a SYN
// retransmitted after a second, then a transfer of a millisecond): drawn to
// scale, the transfer would be a line. Each of two pieces is drawn to a
// scale of its own, its width in proportion to the instants it holds.
type timeAxis struct {
	pieces []piece
	width  float64
}

const (
	breakW    = 36.0 // the break between two pieces
	minPieceW = 28.0 // the least width of a piece
)

// newAxis lays out from..to over width pixels; times are the instants
// something happened, sorted.
func newAxis(from, to int64, times []int64, width float64) timeAxis {
	a := timeAxis{width: width}
	if to <= from {
		// One instant: give it a millisecond, centred.
		a.pieces = []piece{{t0: from - 500_000, t1: from + 500_000, x0: 0, x1: width}}
		return a
	}
	gapAt, gap := -1, int64(0)
	for i := 1; i < len(times); i++ {
		if g := times[i] - times[i-1]; g > gap {
			gapAt, gap = i, g
		}
	}
	if gapAt < 0 || 2*gap <= to-from {
		a.pieces = []piece{{t0: from, t1: to, x0: 0, x1: width}}
		return a
	}
	p0 := piece{t0: from, t1: times[gapAt-1]}
	p1 := piece{t0: times[gapAt], t1: to}
	avail := width - breakW
	w0 := avail * float64(gapAt) / float64(len(times))
	if p0.t1 == p0.t0 {
		w0 = minPieceW // one instant needs no room
	}
	if p1.t1 == p1.t0 {
		w0 = avail - minPieceW
	}
	w0 = min(max(w0, minPieceW), avail-minPieceW)
	p0.x0, p0.x1 = 0, w0
	p1.x0, p1.x1 = w0+breakW, width
	a.pieces = []piece{p0, p1}
	return a
}

// broken reports whether the axis has a break.
func (a *timeAxis) broken() bool { return len(a.pieces) > 1 }

// x is where time t is drawn. A piece of no duration draws its instant at
// its middle; a time in the break is drawn in the break.
func (a *timeAxis) x(t int64) float64 {
	for i, p := range a.pieces {
		if t <= p.t1 || i == len(a.pieces)-1 {
			if i > 0 && t < p.t0 {
				q := a.pieces[i-1]
				return q.x1 + (p.x0-q.x1)*float64(t-q.t1)/float64(p.t0-q.t1)
			}
			if p.t1 == p.t0 {
				return (p.x0 + p.x1) / 2
			}
			t = min(max(t, p.t0), p.t1)
			return p.x0 + (p.x1-p.x0)*float64(t-p.t0)/float64(p.t1-p.t0)
		}
	}
	return 0
}

// tick is a labelled place on an axis.
type tick struct {
	at    float64 // pixels
	label string
}

// timeTicks are the time axis's ticks: in each piece, multiples of a step
// at least minTickPx apart on its scale, or its instant if it has no
// duration; a tick whose label would touch the one before is left out.
func (a *timeAxis) timeTicks() []tick {
	var out []tick
	right := math.Inf(-1) // where the last label ends
	add := func(t int64, label string) {
		x := a.x(t)
		half := float64(len(label)) * charW / 2
		if x-half < right+6 {
			return
		}
		out = append(out, tick{x, label})
		right = x + half
	}
	for _, p := range a.pieces {
		if p.t1 == p.t0 {
			s := formatFixed(float64(p.t0)/1e9, 6)
			if strings.Contains(s, ".") {
				s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
			}
			add(p.t0, s)
			continue
		}
		step := niceStep(minTickPx * float64(p.t1-p.t0) / (p.x1 - p.x0))
		dec := decimals(float64(step) / 1e9)
		for t := ceilTo(p.t0, step); t <= p.t1; t += step {
			add(t, formatFixed(float64(t)/1e9, dec))
		}
	}
	return out
}

const minTickPx = 72.0

// ceilTo is the least multiple of step at or above t.
func ceilTo(t, step int64) int64 {
	q := t / step
	if q*step < t {
		q++
	}
	return q * step
}

// niceStep is the least 1, 2 or 5 times a power of ten at or above v (at
// least 1).
func niceStep(v float64) int64 {
	if v <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return int64(math.Round(m * p))
		}
	}
	return int64(10 * p)
}

// niceFloor is the greatest 1, 2 or 5 times a power of ten at or below v
// (at least 1).
func niceFloor(v float64) int64 {
	if v < 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{5, 2} {
		if m*p <= v {
			return int64(math.Round(m * p))
		}
	}
	return int64(math.Round(p))
}

// decimals is how many decimals print multiples of step apart.
func decimals(step float64) int {
	if step >= 1 {
		return 0
	}
	return int(math.Ceil(-math.Log10(step) - 1e-9))
}

func formatFixed(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if s == "-0" || strings.Trim(s, "-0.") == "" {
		return "0"
	}
	return s
}

// valueAxis maps values lo..hi to a height.
type valueAxis struct {
	lo, hi int64
	step   int64
	h      float64
}

// newValueAxis covers lo..hi (and 0) with about five ticks.
func newValueAxis(lo, hi int64, h float64) valueAxis {
	lo, hi = min(lo, 0), max(hi, 0)
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep(float64(hi-lo) / 5)
	lo = -ceilTo(-lo, step)
	hi = ceilTo(hi, step)
	return valueAxis{lo: lo, hi: hi, step: step, h: h}
}

// y is the offset of v from the plot area's top.
func (v *valueAxis) y(x int64) float64 {
	return v.h - v.h*float64(x-v.lo)/float64(v.hi-v.lo)
}

// ticks labels the axis with format.
func (v *valueAxis) ticks(format func(int64) string) []tick {
	var out []tick
	for x := v.lo; x <= v.hi; x += v.step {
		out = append(out, tick{v.y(x), format(x)})
	}
	return out
}

// si prints v with a k, M or G suffix (powers of 1000).
func si(v int64) string {
	a := math.Abs(float64(v))
	switch {
	case a >= 1e9:
		return trimFloat(float64(v)/1e9) + "G"
	case a >= 1e6:
		return trimFloat(float64(v)/1e6) + "M"
	case a >= 1e3:
		return trimFloat(float64(v)/1e3) + "k"
	}
	return strconv.FormatInt(v, 10)
}

// rate prints a rate in bits per second: 7.34 Mbit/s.
func rate(v int64) string {
	s := si(v)
	if n := len(s); n > 0 && (s[n-1] < '0' || s[n-1] > '9') {
		return s[:n-1] + " " + s[n-1:] + "bit/s"
	}
	return s + " bit/s"
}

func trimFloat(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// durUnit is the unit a duration axis up to hi nanoseconds is labelled in.
func durUnit(hi int64) (string, float64) {
	switch {
	case hi < 2e6:
		return "µs", 1e3
	case hi < 20e9:
		return "ms", 1e6
	}
	return "s", 1e9
}

// fmtDur prints a duration of d nanoseconds briefly: 1.02 s, 40 ms.
func fmtDur(d int64) string {
	switch {
	case d >= 1e9:
		return trimFloat(float64(d)/1e9) + " s"
	case d >= 1e6:
		return trimFloat(float64(d)/1e6) + " ms"
	}
	return trimFloat(float64(d)/1e3) + " µs"
}
