package state

import "testing"

func TestNames(t *testing.T) {
	for s := Closed; s <= TimeWait; s++ {
		got, ok := Parse(s.String())
		if !ok || got != s {
			t.Fatalf("Parse(%q) = %v, %v", s.String(), got, ok)
		}
		if s.Synchronized() != (s >= Established) {
			t.Fatalf("%v.Synchronized() = %v", s, s.Synchronized())
		}
	}
	if SynReceived.String() != "SYN-RECEIVED" || TimeWait.String() != "TIME-WAIT" {
		t.Fatal("names are not RFC 9293's")
	}
	if _, ok := Parse("SYN_RECEIVED"); ok {
		t.Fatal("Parse accepted a non-RFC spelling")
	}
}

// A value past TIME-WAIT is no state, and says so with its number.
func TestOutOfRange(t *testing.T) {
	for _, c := range []struct {
		s    State
		want string
	}{{11, "State(11)"}, {255, "State(255)"}} {
		if got := c.s.String(); got != c.want {
			t.Errorf("State(%d).String() = %q, want %q", uint8(c.s), got, c.want)
		}
		if _, ok := Parse(c.want); ok {
			t.Errorf("Parse(%q) accepted it", c.want)
		}
	}
}
