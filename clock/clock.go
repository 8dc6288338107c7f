// Package clock holds synack's notion of time. The protocol core never reads a
// clock: it is handed a Time by its driver. Time is a count of nanoseconds
// since the driver's epoch (the start of a simulation, or the moment a real
// stack was created), so virtual and real time print the same way.
package clock

import (
	"fmt"
	"math"
	"time"
)

// Time is an instant, in nanoseconds since the driver's epoch.
type Time int64

// Never is a deadline that does not expire.
const Never Time = math.MaxInt64

// Add returns t+d, saturating at Never.
func (t Time) Add(d time.Duration) Time {
	if t == Never || (d > 0 && int64(t) > math.MaxInt64-int64(d)) {
		return Never
	}
	return t + Time(d)
}

// Sub returns the duration t-u.
func (t Time) Sub(u Time) time.Duration { return time.Duration(t - u) }

// Before reports t < u.
func (t Time) Before(u Time) bool { return t < u }

// After reports t > u.
func (t Time) After(u Time) bool { return t > u }

// Duration returns the time since the epoch.
func (t Time) Duration() time.Duration { return time.Duration(t) }

// Min returns the earlier of two instants.
func Min(a, b Time) Time {
	if a < b {
		return a
	}
	return b
}

// String prints seconds since the epoch with microsecond precision
// ("1.250000s"), or "never".
func (t Time) String() string {
	if t == Never {
		return "never"
	}
	sign := ""
	v := int64(t)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%06ds", sign, v/1e9, (v%1e9)/1e3)
}

// Clock is what drivers use to read the time. The real clock measures from
// its creation; the virtual clock only moves when its owner moves it.
type Clock interface {
	Now() Time
}

// Real is a Clock backed by the system's monotonic clock.
type Real struct{ start time.Time }

// NewReal returns a real clock whose epoch is now.
func NewReal() *Real { return &Real{start: time.Now()} }

// Now returns the time since the clock was created.
func (r *Real) Now() Time { return Time(time.Since(r.start)) }

// Virtual is a Clock that moves only when Set or Advance is called.
type Virtual struct{ now Time }

// Now returns the virtual time.
func (v *Virtual) Now() Time { return v.now }

// Set moves the clock to t. Time never goes backwards: an earlier t is an
// error in the driver, reported rather than obeyed.
func (v *Virtual) Set(t Time) error {
	if t < v.now {
		return fmt.Errorf("clock: cannot move virtual time back from %v to %v", v.now, t)
	}
	v.now = t
	return nil
}

// Advance moves the clock forward by d (negative d is ignored).
func (v *Virtual) Advance(d time.Duration) {
	if d > 0 {
		v.now = v.now.Add(d)
	}
}
