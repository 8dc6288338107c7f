// Package wgtun joins synack to wireguard-go's tun.Device, both ways: New
// makes a link.Link of any tun.Device (a kernel TUN device that
// tun.CreateTUN opened, with its batched reads and writes), and
// CreateNetTUN gives a synack Stack whose device is a tun.Device that a
// wireguard-go device.Device sends through, a drop-in for wireguard-go's
// netstack.CreateNetTUN.
//
// It is a module of its own, so that wireguard-go (and the gVisor it
// brings into the module graph) stays out of synack's main module.
package wgtun

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link"
)

// offset is the headroom before each packet in the buffers handed to the
// device: wireguard-go's own (MessageTransportHeaderSize), which is more
// than the virtio-net header a tun.Device with offloads writes there.
const offset = 16

// maxBatch bounds the buffers a Link reads into at once: wireguard-go's
// own batch (conn.IdealBatchSize), which a kernel TUN device with
// offloads needs to split a coalesced burst of 64 KiB into.
const maxBatch = 128

// Link is a link.Link on a tun.Device.
type Link struct {
	dev    tun.Device
	mtu    atomic.Int64
	closed atomic.Bool

	// The reader's (one goroutine at a time): a batch read and how much
	// of it was handed over.
	bufs    [][]byte
	sizes   []int
	n, next int
	err     error

	wmu  sync.Mutex
	wbuf [][]byte // one buffer of offset+65535 bytes
}

var _ link.Link = (*Link)(nil)

// New makes a Link on dev, which it takes over: the Link reads dev's
// Events (following EventMTUUpdate) and its Close closes dev. Receive reads
// a batch of up to dev.BatchSize() packets (at most 128, each in a buffer
// of 64 KiB, as wireguard-go reads them) and hands them over
// one at a time, the rest through TryReceive, so the stack takes a batch
// under one lock; Send writes one packet. A read that reports
// tun.ErrTooManySegments (the device dropped part of a coalesced burst)
// goes on with what it read. tun.CreateTUN's device asks the kernel for
// its MTU in the network namespace of the calling thread: call New there.
func New(dev tun.Device) (*Link, error) {
	if dev == nil {
		return nil, errors.New("wgtun: New with a nil device")
	}
	mtu, err := dev.MTU()
	if err != nil {
		return nil, fmt.Errorf("wgtun: the device's MTU: %w", err)
	}
	if mtu < 68 || mtu > 65535 {
		return nil, fmt.Errorf("wgtun: the device's MTU %d is out of range (68 to 65535)", mtu)
	}
	batch := min(max(dev.BatchSize(), 1), maxBatch)
	l := &Link{dev: dev, sizes: make([]int, batch), wbuf: [][]byte{make([]byte, offset+65535)}}
	l.mtu.Store(int64(mtu))
	l.bufs = make([][]byte, batch)
	for i := range l.bufs {
		l.bufs[i] = make([]byte, offset+65535)
	}
	if ev := dev.Events(); ev != nil {
		go l.events(ev)
	}
	return l, nil
}

// events follows the device's MTU until it closes its Events channel
// (tun.Device's Close does).
func (l *Link) events(ev <-chan tun.Event) {
	for e := range ev {
		if e&tun.EventMTUUpdate != 0 {
			if mtu, err := l.dev.MTU(); err == nil && mtu >= 68 && mtu <= 65535 {
				l.mtu.Store(int64(mtu))
			}
		}
	}
}

// MTU returns the device's MTU.
func (l *Link) MTU() int { return int(l.mtu.Load()) }

// Send writes pkt to the device.
func (l *Link) Send(pkt []byte) error {
	if l.closed.Load() {
		return link.ErrClosed
	}
	if len(pkt) > 65535 {
		return fmt.Errorf("wgtun: a packet of %d bytes, longer than IP's 65535", len(pkt))
	}
	l.wmu.Lock()
	l.wbuf[0] = l.wbuf[0][:offset+len(pkt)]
	copy(l.wbuf[0][offset:], pkt)
	_, err := l.dev.Write(l.wbuf[:1:1], offset)
	l.wbuf[0] = l.wbuf[0][:cap(l.wbuf[0])]
	l.wmu.Unlock()
	switch {
	case l.closed.Load() || errors.Is(err, os.ErrClosed):
		return link.ErrClosed
	case err != nil:
		return fmt.Errorf("wgtun: write %d bytes: %w", len(pkt), err)
	}
	return nil
}

// Receive hands over the next packet of the last batch read, or reads a
// batch, blocking until the device has one or Close.
func (l *Link) Receive(buf []byte) (int, error) {
	for {
		if l.closed.Load() {
			return 0, link.ErrClosed
		}
		if n, ok := l.TryReceive(buf); ok {
			return n, nil
		}
		if l.err != nil {
			return 0, l.err
		}
		n, err := l.dev.Read(l.bufs, l.sizes, offset)
		if l.closed.Load() || errors.Is(err, os.ErrClosed) {
			return 0, link.ErrClosed
		}
		l.n, l.next = max(min(n, len(l.bufs)), 0), 0
		if err != nil && !errors.Is(err, tun.ErrTooManySegments) {
			// What came with the error is handed over first.
			l.err = fmt.Errorf("wgtun: read: %w", err)
		}
	}
}

// TryReceive hands over the next packet of the last batch read, if there
// is one left, without blocking.
func (l *Link) TryReceive(buf []byte) (int, bool) {
	if l.closed.Load() || l.next >= l.n {
		return 0, false
	}
	size := min(max(l.sizes[l.next], 0), len(l.bufs[l.next])-offset)
	n := copy(buf, l.bufs[l.next][offset:offset+size])
	l.next++
	return n, true
}

// Close closes the device. Closing twice is not an error.
func (l *Link) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	if err := l.dev.Close(); err != nil {
		return fmt.Errorf("wgtun: close: %w", err)
	}
	return nil
}

// CreateNetTUN is synack.CreateNetTUN with the NetTUN made a tun.Device
// (Device): the signature of wireguard-go's netstack.CreateNetTUN, with a
// *synack.Stack where that has a *netstack.Net. Pass the tun.Device to
// device.NewDevice; Dial, Listen and the rest are the Stack's. The limits
// are synack.CreateNetTUN's (one IPv4 address for now).
func CreateNetTUN(localAddresses, dnsServers []netip.Addr, mtu int) (tun.Device, *synack.Stack, error) {
	t, s, err := synack.CreateNetTUN(localAddresses, dnsServers, mtu)
	if err != nil {
		return nil, nil, err
	}
	return Device(t), s, nil
}

// Device makes t a tun.Device: its Events channel has EventUp at once and
// is closed by Close, which closes t (and its Stack).
func Device(t *synack.NetTUN) tun.Device {
	d := &netDevice{NetTUN: t, events: make(chan tun.Event, 1)}
	d.events <- tun.EventUp
	return d
}

type netDevice struct {
	*synack.NetTUN
	events chan tun.Event
	once   sync.Once
}

func (d *netDevice) Events() <-chan tun.Event { return d.events }

func (d *netDevice) Close() error {
	err := d.NetTUN.Close()
	d.once.Do(func() { close(d.events) })
	return err
}
