//go:build !linux

package netns

import (
	"context"
	"errors"
	"net"
	"os/exec"
	"runtime"
	"testing"

	"github.com/gosynack/synack/link/tun"
)

var errUnsupported = errors.New("netns: network namespaces are Linux only (this is " + runtime.GOOS + ")")

func available() error { return errUnsupported }

// NS is a network namespace; none can be made on this system.
type NS struct{}

// New returns an error: namespaces are Linux only.
func New(opts Options) (*NS, error) { return nil, errUnsupported }

// Open returns an error: namespaces are Linux only.
func Open(name string) (*NS, error) { return nil, errUnsupported }

// RemoveNamed returns an error: namespaces are Linux only.
func RemoveNamed(name string) error { return errUnsupported }

// Name returns "".
func (n *NS) Name() string { return "" }

// TUN returns nil.
func (n *NS) TUN() *tun.Device { return nil }

// TUNName returns "".
func (n *NS) TUNName() string { return "" }

// Do returns an error.
func (n *NS) Do(f func() error) error { return errUnsupported }

// Start returns an error.
func (n *NS) Start(cmd *exec.Cmd) error { return errUnsupported }

// Listen returns an error.
func (n *NS) Listen(network, address string) (net.Listener, error) { return nil, errUnsupported }

// DialContext returns an error.
func (n *NS) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return nil, errUnsupported
}

// OpenTUN returns an error.
func (n *NS) OpenTUN(name string) (*tun.Device, error) { return nil, errUnsupported }

// Remove does nothing.
func (n *NS) Remove() error { return nil }

// ForTest skips t: namespaces are Linux only.
func ForTest(t testing.TB, opts Options) *NS {
	t.Helper()
	t.Skipf("skipped: %v", errUnsupported)
	return nil
}
