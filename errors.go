package synack

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"

	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
)

// mapErr turns an error of package tcp or stack into what a kernel socket
// call named call would have failed with, wrapped as the net package wraps
// it (*os.SyscallError), so that errors.Is(err, syscall.ECONNRESET) holds.
func mapErr(call string, err error) error {
	var errno syscall.Errno
	switch {
	case errors.Is(err, tcp.ErrConnRefused):
		errno = syscall.ECONNREFUSED
	case errors.Is(err, tcp.ErrConnReset):
		errno = syscall.ECONNRESET
	case errors.Is(err, tcp.ErrHostUnreachable):
		// Before ErrTimeout: a timeout after an ICMP soft error reports the
		// soft error, as Linux reports sk_err_soft.
		errno = syscall.EHOSTUNREACH
	case errors.Is(err, tcp.ErrNetUnreachable), errors.Is(err, stack.ErrNoAddress):
		errno = syscall.ENETUNREACH
	case errors.Is(err, tcp.ErrTimeout):
		errno = syscall.ETIMEDOUT
	case errors.Is(err, tcp.ErrAborted):
		errno = syscall.ECONNABORTED
	case errors.Is(err, tcp.ErrClosing), errors.Is(err, tcp.ErrClosed):
		errno = syscall.EPIPE
	case errors.Is(err, tcp.ErrNotConnected):
		errno = syscall.ENOTCONN
	case errors.Is(err, stack.ErrAddrInUse):
		errno = syscall.EADDRINUSE
	case errors.Is(err, stack.ErrNoPorts):
		errno = syscall.EADDRNOTAVAIL
	case errors.Is(err, stack.ErrInvalidTarget):
		errno = syscall.EINVAL
	default:
		return err
	}
	return os.NewSyscallError(call, errno)
}

// errDeadline is what a call that ran past its deadline wraps: Timeout()
// is true and errors.Is(err, os.ErrDeadlineExceeded) holds, as with net.
var errDeadline = os.ErrDeadlineExceeded

func tcpAddr(ap netip.AddrPort) *net.TCPAddr {
	return net.TCPAddrFromAddrPort(ap)
}
