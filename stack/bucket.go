package stack

import (
	"time"

	"github.com/gosynack/synack/clock"
)

// bucket is a token bucket on the virtual clock: burst tokens, refilled at
// rate a second. The echo replies and the ICMP errors the stack sends each
// have one (Config.EchoRate, Config.EchoBurst).
type bucket struct {
	tokens int
	at     clock.Time // when it was last refilled
}

// take takes a token at now, refilling first, and reports whether there
// was one. A rate <= 0 never gives one.
func (b *bucket) take(now clock.Time, rate, burst int) bool {
	if rate <= 0 {
		return false
	}
	per := time.Second / time.Duration(rate)
	if per <= 0 {
		per = 1
	}
	if n := now.Sub(b.at) / per; n > 0 {
		b.tokens = int(min(int64(burst), int64(b.tokens)+int64(n)))
		b.at = b.at.Add(n * per)
		if b.tokens == burst {
			b.at = now
		}
	}
	if b.tokens > 0 {
		b.tokens--
		return true
	}
	return false
}
