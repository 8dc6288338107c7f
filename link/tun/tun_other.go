//go:build !linux

package tun

import (
	"errors"
	"net/netip"
	"runtime"

	"github.com/gosynack/synack/link"
)

// ErrUnsupported is returned by Open on systems other than Linux.
var ErrUnsupported = errors.New("tun: TUN devices are only supported on Linux (this is " + runtime.GOOS + ")")

// Device is a TUN device; on this system none can be opened.
type Device struct{}

var _ link.Link = (*Device)(nil)

// Open returns ErrUnsupported.
func Open(name string, mtu int) (*Device, error) { return nil, ErrUnsupported }

// OpenOptions returns ErrUnsupported.
func OpenOptions(name string, o Options) (*Device, error) { return nil, ErrUnsupported }

// Attach returns ErrUnsupported.
func Attach(name string) (*Device, error) { return nil, ErrUnsupported }

// Name returns "".
func (d *Device) Name() string { return "" }

// Send returns ErrUnsupported.
func (d *Device) Send(pkt []byte) error { return ErrUnsupported }

// Receive returns ErrUnsupported.
func (d *Device) Receive(buf []byte) (int, error) { return 0, ErrUnsupported }

// MTU returns 0.
func (d *Device) MTU() int { return 0 }

// Close does nothing.
func (d *Device) Close() error { return nil }

// SetPersist returns ErrUnsupported.
func (d *Device) SetPersist(on bool) error { return ErrUnsupported }

// Configure returns ErrUnsupported.
func Configure(name string, addr netip.Prefix) error { return ErrUnsupported }

// TryReceive reports false.
func (d *Device) TryReceive(buf []byte) (int, bool) { return 0, false }

// ReceiveBursts returns ErrUnsupported.
func (d *Device) ReceiveBursts(bufs [][]byte, handle func(pkts [][]byte) bool) error {
	return ErrUnsupported
}

// BeginBurst does nothing.
func (d *Device) BeginBurst() {}

// EndBurst does nothing.
func (d *Device) EndBurst() {}

// Flush does nothing.
func (d *Device) Flush() {}

// Offloads reports none.
func (d *Device) Offloads() Offloads { return Offloads{} }

// WriteErrors reports none.
func (d *Device) WriteErrors() (uint64, error) { return 0, nil }

// Stats reports none.
func (d *Device) Stats() Stats { return Stats{} }

// OffloadChecksums reports false.
func (d *Device) OffloadChecksums() bool { return false }

// VerifyChecksums reports false.
func (d *Device) VerifyChecksums() bool { return false }
