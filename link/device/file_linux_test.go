//go:build linux

package device_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/linktest"
)

// filePair returns *os.Files on the two ends of a non-blocking
// socketpair(AF_UNIX, SOCK_SEQPACKET), which the runtime poller watches.
func filePair(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(p[0]), "a"), os.NewFile(uintptr(p[1]), "b")
}

// An *os.File on each end of a packet socketpair is what a TUN device's
// file is to the adapter (os.File's Close unblocks its Read).
func TestConformanceFile(t *testing.T) {
	linktest.Run(t, func(t *testing.T) (link.Link, link.Link) {
		x, y := filePair(t)
		return newLink(t, x, 1500), newLink(t, y, 1500)
	})
}
