// Package device makes a link.Link from a packet device that is an
// io.ReadWriteCloser: each Read gives one IP packet and each Write takes
// one, as an *os.File on a TUN device does, or the device types of
// packages that open TUN devices on other systems (a utun on macOS, say)
// or hand packets over in memory.
//
// Receive reads into its caller's buffer when it holds an MTU-sized
// packet, and otherwise into a buffer of the Link's own and truncates the
// copy, so that a device that fails a short read still keeps link.Link's
// contract. Send writes the packet as it is (io.Writer's contract forbids a
// device to keep it) with one Write, one Send at a time; it takes as long
// as the device's Write, which must not wait for long (link.Link's Send
// must not): a device whose Write waits for its reader, as net.Pipe's
// does, can stall two stacks joined by it, each sending under its lock. Close closes the
// device; a Receive blocked in Read returns link.ErrClosed when that Read
// returns, which is at once for a device whose Close unblocks its Read (an
// *os.File on a non-blocking descriptor, a net.Conn, net.Pipe), and not
// before its next packet otherwise.
//
// For a file descriptor, package fd gives more: a non-blocking Send that
// drops on a full queue, and TryReceive for bursts.
package device

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/gosynack/synack/link"
)

// Link is a link.Link on a packet device.
type Link struct {
	dev     io.ReadWriteCloser
	mtu     int
	closed  atomic.Bool
	wmu     sync.Mutex // one Write at a time
	scratch []byte     // for a Receive whose buffer is shorter than the MTU
	err     error      // a Read error that came with a packet, for the next Receive
}

var _ link.Link = (*Link)(nil)

// maxEmptyReads bounds the Reads in a row that give nothing, as bufio's
// does: a device that keeps returning 0, nil is broken.
const maxEmptyReads = 100

// New makes a Link on dev, whose packets are at most mtu bytes (68 to
// 65535). The Link owns dev: Close closes it.
func New(dev io.ReadWriteCloser, mtu int) (*Link, error) {
	if dev == nil {
		return nil, errors.New("device: New with a nil device")
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("device: MTU %d out of range (68 to 65535)", mtu)
	}
	return &Link{dev: dev, mtu: mtu}, nil
}

// MTU returns the MTU given to New.
func (l *Link) MTU() int { return l.mtu }

// Send writes pkt to the device with one Write.
func (l *Link) Send(pkt []byte) error {
	if l.closed.Load() {
		return link.ErrClosed
	}
	l.wmu.Lock()
	n, err := l.dev.Write(pkt)
	l.wmu.Unlock()
	switch {
	case l.closed.Load():
		return link.ErrClosed
	case err != nil:
		return fmt.Errorf("device: write %d bytes: %w", len(pkt), err)
	case n != len(pkt):
		return fmt.Errorf("device: wrote %d of %d bytes: %w", n, len(pkt), io.ErrShortWrite)
	}
	return nil
}

// Receive blocks in the device's Read until a packet arrives or Close.
// A Read error ends the link (the driver stops reading): io.EOF from a
// device that has ended is returned wrapped.
func (l *Link) Receive(buf []byte) (int, error) {
	for empty := 0; ; empty++ {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		if err := l.err; err != nil {
			return 0, err
		}
		if empty == maxEmptyReads {
			return 0, fmt.Errorf("device: %d reads in a row gave nothing: %w", empty, io.ErrNoProgress)
		}
		into := buf
		if len(buf) < l.mtu {
			if l.scratch == nil {
				l.scratch = make([]byte, l.mtu)
			}
			into = l.scratch
		}
		n, err := l.dev.Read(into)
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		if err != nil {
			// A packet that came with the error is handed over first.
			l.err = fmt.Errorf("device: read: %w", err)
			if n == 0 {
				return 0, l.err
			}
		}
		if n == 0 {
			continue
		}
		if len(buf) < l.mtu {
			n = copy(buf, l.scratch[:n])
		}
		return n, nil
	}
}

// Close closes the device. Closing twice is not an error.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	if err := l.dev.Close(); err != nil {
		return fmt.Errorf("device: close: %w", err)
	}
	return nil
}
