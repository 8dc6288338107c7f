package main

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/trace"
)

// livePcap is serve's and get's --pcap: a link around the TUN device and a
// recorder of the stack's events, feeding one capture.Writer, so that each
// packet is commented with what synack decided as in the simulated runs'
// captures.
//
// The Writer joins a packet to the events of the same instant, so each
// packet is tapped at the time of the stack's step that handled it: a
// packet sent at the time of the latest event (the step's SegmentOut
// precedes its Send, under the stack's lock); a packet received, which
// arrives before its step begins, when that step records its first event
// (SegmentIn, or a Drop for a packet the stack refuses: exactly one of
// them starts each input).
type livePcap struct {
	link.Link
	file string
	f    *os.File
	host string

	mu     sync.Mutex
	w      *capture.Writer
	at     clock.Time // the time of the latest event
	in     [][]byte   // received and not yet input
	closed bool
}

// withCapture returns the link and recorder the stack runs with: dev and
// rec themselves without --pcap file, or the capture's.
func withCapture(file string, dev link.Link, addr netip.Addr, rec trace.Recorder) (link.Link, trace.Recorder, error) {
	if file == "" {
		return dev, rec, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, nil, usageError{fmt.Errorf("--pcap: %w", err)}
	}
	// The stack's clock starts as synack.New runs, just after this: its
	// times are written at most that much early.
	w, err := capture.NewLiveWriter(f, addr.String(), time.Now())
	if err != nil {
		f.Close()
		os.Remove(file)
		return nil, nil, failure{fmt.Errorf("--pcap %s: %w", file, err)}
	}
	c := &livePcap{Link: dev, file: file, f: f, host: addr.String(), w: w}
	return c, trace.Tee(rec, c), nil
}

// Record passes e on to the Writer, after the packet whose input e starts.
func (c *livePcap) Record(e *trace.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if (e.Kind == trace.SegmentIn || e.Kind == trace.Drop) && len(c.in) > 0 {
		c.w.Tap(e.At, c.host, false, c.in[0])
		c.in = c.in[1:]
	}
	c.at = e.At
	c.w.Record(e)
}

// Send writes pkt to the capture and to the device.
func (c *livePcap) Send(pkt []byte) error {
	c.mu.Lock()
	if !c.closed {
		c.w.Tap(c.at, c.host, true, pkt)
	}
	c.mu.Unlock()
	return c.Link.Send(pkt)
}

// Receive reads a packet from the device and keeps a copy for the capture.
func (c *livePcap) Receive(buf []byte) (int, error) {
	n, err := c.Link.Receive(buf)
	if err == nil {
		c.mu.Lock()
		if !c.closed {
			c.in = append(c.in, append([]byte(nil), buf[:n]...))
		}
		c.mu.Unlock()
	}
	return n, err
}

// Close closes the device and finishes the file: the Stack closes its
// link last, after its final segments have gone out. A packet received
// that the stack never took is written at the latest event's time.
func (c *livePcap) Close() error {
	err := c.Link.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return err
	}
	c.closed = true
	for _, p := range c.in {
		c.w.Tap(c.at, c.host, false, p)
	}
	c.in = nil
	werr := c.w.Flush()
	if cerr := c.f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		werr = fmt.Errorf("--pcap %s: %w", c.file, werr)
	}
	return errors.Join(err, werr)
}
