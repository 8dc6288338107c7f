package synack

import (
	"strconv"
	"testing"
)

// FuzzParsePort: the port of a Dial or Listen address is a decimal number
// from 0 to 65535, or an error that names it; never a panic or a wrapped
// value.
func FuzzParsePort(f *testing.F) {
	for _, s := range []string{"", "0", "80", "65535", "65536", "http", "-1", "+80", "0080", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePort(s)
		n, aerr := strconv.ParseUint(s, 10, 16)
		switch {
		case s == "":
			if err != nil || p != 0 {
				t.Fatalf("empty port: %d, %v", p, err)
			}
		case aerr == nil:
			if err != nil || uint64(p) != n {
				t.Fatalf("parsePort(%q) = %d, %v; want %d", s, p, err, n)
			}
		case err == nil:
			t.Fatalf("parsePort(%q) = %d, want an error", s, p)
		}
	})
}
