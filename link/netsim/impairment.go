package netsim

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Impairment is what a directed path does to the packets that cross it. The
// zero value is a perfect wire with no delay.
type Impairment struct {
	// Latency is the one-way propagation delay.
	Latency time.Duration
	// Jitter adds a delay drawn uniformly from [0, Jitter). It never
	// reorders: a packet does not arrive before the one sent ahead of it on
	// the same path.
	Jitter time.Duration
	// Loss is the probability that a packet is dropped.
	Loss float64
	// Duplicate is the probability that a packet is delivered twice; the copy
	// has its own PacketID and its own jitter.
	Duplicate float64
	// Reorder is the probability that a packet is held back by ReorderDelay
	// so that later packets overtake it.
	Reorder float64
	// ReorderDelay is how long a reordered packet is held back; 0 means
	// max(Latency/2, 1ms).
	ReorderDelay time.Duration
	// Corrupt is the probability that one bit of a packet is flipped.
	Corrupt float64
	// Bandwidth is the bottleneck's rate in bits per second; 0 is unlimited
	// (no serialization delay and no queue).
	Bandwidth int64
	// QueueLimit is how many packets may wait for the bottleneck (not
	// counting the one being serialized); a packet beyond it is tail-dropped.
	// 0 is unlimited. It has no effect when Bandwidth is 0.
	QueueLimit int
	// MTU is the largest packet, IP header included, the path carries: a
	// router on it drops a larger one and sends the sender an ICMP
	// Fragmentation Needed (IPv4) or Packet Too Big (IPv6) giving MTU. 0 is
	// unlimited; otherwise at least 68 (RFC 791's minimum), and at least
	// 1280 for the IPv6 packets on it to be legal (RFC 8200 §5).
	MTU int
	// ICMPBlackhole makes the router drop too-big packets without a word,
	// as a path whose ICMP is filtered does (RFC 2923 §2.1): only
	// packetization-layer discovery (RFC 4821) gets through it.
	ICMPBlackhole bool
}

// Validate reports every field out of range, each error naming its field.
func (i Impairment) Validate() error {
	var errs []error
	dur := func(name string, d time.Duration) {
		if d < 0 {
			errs = append(errs, fmt.Errorf("sim: Impairment.%s is %v, want >= 0", name, d))
		}
	}
	prob := func(name string, p float64) {
		if !(p >= 0 && p <= 1) { // also rejects NaN
			errs = append(errs, fmt.Errorf("sim: Impairment.%s is %v, want a probability in [0, 1]", name, p))
		}
	}
	dur("Latency", i.Latency)
	dur("Jitter", i.Jitter)
	prob("Loss", i.Loss)
	prob("Duplicate", i.Duplicate)
	prob("Reorder", i.Reorder)
	dur("ReorderDelay", i.ReorderDelay)
	prob("Corrupt", i.Corrupt)
	if i.Bandwidth < 0 {
		errs = append(errs, fmt.Errorf("sim: Impairment.Bandwidth is %d bit/s, want >= 0 (0 is unlimited)", i.Bandwidth))
	}
	if i.MTU != 0 && (i.MTU < 68 || i.MTU > 65535) {
		errs = append(errs, fmt.Errorf("sim: Impairment.MTU is %d, want 0 (unlimited) or 68..65535", i.MTU))
	}
	if i.QueueLimit < 0 {
		errs = append(errs, fmt.Errorf("sim: Impairment.QueueLimit is %d, want >= 0 (0 is unlimited)", i.QueueLimit))
	}
	return errors.Join(errs...)
}

// reorderDelay is ReorderDelay with its default applied.
func (i *Impairment) reorderDelay() time.Duration {
	if i.ReorderDelay > 0 {
		return i.ReorderDelay
	}
	return max(i.Latency/2, time.Millisecond)
}

// String describes the impairment in one line for captions and logs, listing
// only what is set: "20ms+5ms jitter, 1% loss, 12Mbit/s queue 20".
func (i Impairment) String() string {
	var parts []string
	if i.Latency > 0 {
		parts = append(parts, i.Latency.String())
	}
	if i.Jitter > 0 {
		parts = append(parts, "+"+i.Jitter.String()+" jitter")
	}
	pct := func(p float64, what string) {
		if p != 0 {
			parts = append(parts, strconv.FormatFloat(p*100, 'g', 4, 64)+"% "+what)
		}
	}
	pct(i.Loss, "loss")
	pct(i.Duplicate, "duplicate")
	if i.Reorder != 0 {
		pct(i.Reorder, "reorder by "+i.reorderDelay().String())
	}
	pct(i.Corrupt, "corrupt")
	if i.Bandwidth > 0 {
		s := formatRate(i.Bandwidth)
		if i.QueueLimit > 0 {
			s += " queue " + strconv.Itoa(i.QueueLimit)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "perfect"
	}
	// Latency and jitter read as one item: "20ms+5ms jitter".
	s := strings.Join(parts, ", ")
	return strings.Replace(s, ", +", "+", 1)
}

// formatRate prints bits per second with the largest exact SI unit.
func formatRate(bps int64) string {
	for _, u := range []struct {
		div  int64
		name string
	}{{1e9, "Gbit/s"}, {1e6, "Mbit/s"}, {1e3, "kbit/s"}} {
		if bps%u.div == 0 {
			return strconv.FormatInt(bps/u.div, 10) + u.name
		}
	}
	if bps >= 1e6 {
		return strconv.FormatFloat(float64(bps)/1e6, 'f', -1, 64) + "Mbit/s"
	}
	return strconv.FormatInt(bps, 10) + "bit/s"
}

// serialization is how long the bottleneck takes to send n bytes at bps bits
// per second, rounded up to the nanosecond.
func serialization(n int, bps int64) time.Duration {
	// n*8*1e9/bps without overflow for any n that fits in memory.
	hi, lo := bits.Mul64(uint64(n)*8, 1e9)
	if hi >= uint64(bps) {
		return time.Duration(math.MaxInt64)
	}
	q, r := bits.Div64(hi, lo, uint64(bps))
	if r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(q)
}
