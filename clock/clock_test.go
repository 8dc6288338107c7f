package clock

import (
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	var v Virtual
	v.Advance(1250 * time.Millisecond)
	if got := v.Now().String(); got != "1.250000s" {
		t.Fatalf("String = %q", got)
	}
	if err := v.Set(Time(time.Second)); err == nil {
		t.Fatal("moving virtual time back was accepted")
	}
	if Never.Add(time.Second) != Never || Time(1).Add(Never.Duration()) != Never {
		t.Fatal("Add does not saturate at Never")
	}
	if Never.String() != "never" || Time(-1500).String() != "-0.000001s" {
		t.Fatalf("odd strings: %v %v", Never, Time(-1500))
	}
	if Min(3, 2) != 2 || !Time(1).Before(2) || !Time(2).After(1) || Time(5).Sub(2) != 3 {
		t.Fatal("comparisons")
	}
}
