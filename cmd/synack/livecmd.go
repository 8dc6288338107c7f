package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/trace/ladder"
)

// liveFlags are ladder's flags for a live capture.
type liveFlags struct {
	iface    string
	count    int
	duration time.Duration
	pcap     string
	// render and plot are the pictures to write as the capture goes.
	render renderFlags
	plot   string
}

// liveTick is how often a live ladder draws the rows that have settled.
const liveTick = 50 * time.Millisecond

// runLive is synack ladder -i: it captures on the interface until --count
// packets, --duration, SIGINT or SIGTERM, drawing the ladders as it goes.
func runLive(cmd *cobra.Command, lf liveFlags, conn string, port int, opt ladder.Options) error {
	l := opt.Lang
	if err := needRoot("synack ladder -i", "to open a packet socket (AF_PACKET) on "+lf.iface); err != nil {
		return err
	}
	stream, err := capture.NewStream(cmd.OutOrStdout(), conn, port, opt)
	if err != nil {
		return usageError{err}
	}
	src, err := capture.OpenLive(lf.iface)
	switch {
	case errors.Is(err, capture.ErrNoInterface):
		return usageError{fmt.Errorf("-i %s: %w", lf.iface, err)}
	case errors.Is(err, capture.ErrNotPermitted):
		return failure{fmt.Errorf("-i %s: %w: run it with sudo", lf.iface, err)}
	case err != nil:
		return failure{fmt.Errorf("-i %s: %w", lf.iface, err)}
	}
	defer src.Close()
	var pf *os.File
	var pw *capture.LiveFile
	if lf.pcap != "" {
		pf, err = os.Create(lf.pcap)
		if err != nil {
			return usageError{fmt.Errorf("--pcap: %w", err)}
		}
		defer pf.Close()
		if pw, err = capture.NewLiveFile(pf, src.Name, src.LinkType); err != nil {
			return failure{fmt.Errorf("--pcap %s: %w", lf.pcap, err)}
		}
	}
	// The pictures are drawn from the --pcap file if it can be read back
	// as it grows, else from the same pcapng kept in memory.
	var readBack string
	var flush func() error
	if pf != nil && regularFile(pf) {
		readBack, flush = lf.pcap, pw.Flush
	}
	pics, err := newLivePictures(lf, conn, port, opt, src, readBack, flush)
	if err != nil {
		return failure{err}
	}

	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if lf.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lf.duration)
		defer cancel()
	}
	out := cmd.OutOrStdout()
	fmt.Fprintln(out, l.Trf("capturing on %s (%s): the ladder of each TCP connection is drawn as its packets come; Ctrl-C stops", src.Name, l.Tr(capture.LinkName(src.LinkType))))

	type read struct {
		p   capture.Packet
		err error
	}
	packets := make(chan read, 4096)
	go func() {
		for {
			p, err := src.Read()
			packets <- read{p, err}
			if err != nil {
				close(packets)
				return
			}
		}
	}()
	start := time.Now()
	var nextDraw time.Time
	tick := time.NewTicker(liveTick)
	defer tick.Stop()
	var readErr, writeErr error
	why := l.Tr("stopped by a signal")
	full := false // --count reached
loop:
	for {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				why = l.Trf("--duration %s reached", lf.duration)
			}
			break loop
		case <-tick.C:
			// Each Draw analyses the open connections again: on a busy
			// interface it gets at most a fifth of the time.
			if now := time.Now(); !now.Before(nextDraw) {
				if err := stream.Draw(now); err != nil {
					return err
				}
				nextDraw = now.Add(4 * time.Since(now))
			}
			if pics != nil {
				pics.tick(time.Now(), cmd.ErrOrStderr())
			}
		case r := <-packets:
			if r.err != nil {
				readErr = r.err
				break loop
			}
			if pw != nil && writeErr == nil {
				writeErr = pw.Write(r.p)
			}
			stream.Add(r.p)
			if pics != nil {
				pics.add(r.p, stream.Seen())
			}
			if lf.count > 0 && stream.Seen() >= lf.count {
				why, full = l.Trf("--count %d reached", lf.count), true
				break loop
			}
		}
	}
	stop() // a second Ctrl-C ends the program at once
	drops, dropErr := src.Drops()
	src.Close()
	for r := range packets { // the reader ends with Close; what it read before is kept
		if r.err == nil && !full {
			if pw != nil && writeErr == nil {
				writeErr = pw.Write(r.p)
			}
			stream.Add(r.p)
			if pics != nil {
				pics.add(r.p, stream.Seen())
			}
		}
	}
	elapsed := time.Since(start).Round(time.Millisecond)
	if err := stream.Close(time.Now()); err != nil {
		return err
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, l.Trf("%d packets captured on %s in %s: %s", stream.Seen(), src.Name, elapsed, why))
	if dropErr == nil && drops > 0 {
		fmt.Fprintln(out, l.Tr("note: ")+l.Trf("the kernel dropped %d packets the capture did not read in time: they are in neither the ladder nor the --pcap file", drops))
	}
	if pw != nil {
		if writeErr == nil {
			writeErr = pw.Flush()
		}
		if cerr := pf.Close(); writeErr == nil {
			writeErr = cerr
		}
		if writeErr != nil {
			return failure{fmt.Errorf("--pcap %s: %w", lf.pcap, writeErr)}
		}
		fmt.Fprintln(out, l.Trf("--pcap %s: %d packets written (pcapng); synack ladder %s draws them again, Wireshark opens them", lf.pcap, stream.Seen(), lf.pcap))
	}
	if pics != nil {
		if err := pics.close(out); err != nil {
			return err
		}
	}
	if readErr != nil {
		return failure{fmt.Errorf("-i %s: %w", lf.iface, readErr)}
	}
	return nil
}
