package tun

import (
	"errors"
	"strings"
)

// CheckName says why the kernel would refuse s as an interface name, or
// returns nil: a name has 1 to 15 bytes (IFNAMSIZ less the NUL), none of
// them '/', ':' or white space, and is not '.' or '..' (dev_valid_name in
// Linux's net/core/dev.c).
func CheckName(s string) error {
	if s == "" || len(s) > 15 || s == "." || s == ".." || strings.ContainsAny(s, "/: \t\n\v\f\r\x00") {
		return errors.New("not an interface name (one has 1 to 15 bytes, none of them '/', ':' or white space, and is not '.' or '..')")
	}
	return nil
}
