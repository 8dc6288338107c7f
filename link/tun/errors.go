package tun

import (
	"errors"
	"strings"
)

// Errors of Open and Attach, for errors.Is; the errors returned say more.
var (
	// ErrNotTUN: the name is an interface of another kind (lo, an
	// Ethernet device, a TAP device).
	ErrNotTUN = errors.New("tun: not a TUN device")
	// ErrBusy: the TUN device is open on another descriptor.
	ErrBusy = errors.New("tun: device in use")
	// ErrNoDevice: Attach found no interface of that name.
	ErrNoDevice = errors.New("tun: no such device")
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

// openError is an error of Open with a message of its own that is also
// one of the errors above and the system's error.
type openError struct {
	msg  string
	errs []error
}

func (e *openError) Error() string   { return e.msg }
func (e *openError) Unwrap() []error { return e.errs }
