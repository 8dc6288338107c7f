//go:build linux

package tun_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link"
)

// TestReceiveBursts: ReceiveBursts hands over the kernel's packets intact
// and in order; a lone packet costs one read that finds the queue empty
// (Stats.EmptyReads), not two as Receive then TryReceive take, since the
// wait after a burst follows the read that found nothing; handle returning
// false ends it with nil, and Close ends it with link.ErrClosed.
func TestReceiveBursts(t *testing.T) {
	for _, plain := range []bool{true, false} {
		t.Run(map[bool]string{true: "plain", false: "offload"}[plain], func(t *testing.T) { receiveBursts(t, plain) })
	}
}

func receiveBursts(t *testing.T, plain bool) {
	ns := netns.ForTest(t, netns.Options{NoOffload: plain})
	dev := ns.TUN()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ns.DialContext(ctx, "udp", netns.StackAddr.String()+":9")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))

	const lone = 20
	got := make(chan string, lone)
	bufs := make([][]byte, 4)
	for i := range bufs {
		bufs[i] = make([]byte, 65535)
	}
	done := make(chan error, 1)
	var empty0 uint64
	go func() {
		n := 0
		done <- dev.ReceiveBursts(bufs, func(pkts [][]byte) bool {
			for _, p := range pkts {
				if d, ok := udpTo9(p); ok {
					got <- d
					n++
				}
			}
			return n < lone
		})
	}()
	// One datagram at a time, each sent once the last was handed over:
	// the reader waits before each.
	for i := range lone {
		want := fmt.Sprintf("lone %d", i)
		if i == 0 {
			// The reader may not have made its first read yet.
			time.Sleep(10 * time.Millisecond)
			empty0 = dev.Stats().EmptyReads
		}
		if _, err := c.Write([]byte(want)); err != nil {
			t.Fatal(err)
		}
		select {
		case d := <-got:
			if d != want {
				t.Fatalf("datagram %d: %q, want %q", i, d, want)
			}
		case <-ctx.Done():
			t.Fatalf("datagram %d not handed over", i)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("ReceiveBursts after handle said stop: %v, want nil", err)
	}
	// Each lone packet's burst ends with one read that finds nothing;
	// one more is allowed for a spurious wake-up (another packet of the
	// kernel's). Receive then TryReceive would make two per packet.
	e := dev.Stats().EmptyReads - empty0
	t.Logf("%d reads found the queue empty for %d lone packets", e, lone)
	if e > lone+1 {
		t.Errorf("%d reads found the queue empty for %d lone packets, want at most %d", e, lone, lone+1)
	}

	go func() { done <- dev.ReceiveBursts(bufs, func([][]byte) bool { return true }) }()
	time.Sleep(10 * time.Millisecond) // blocked, or about to be: Close ends it either way
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, link.ErrClosed) {
		t.Fatalf("ReceiveBursts after Close: %v, want link.ErrClosed", err)
	}
}

// udpTo9 returns the payload of a UDP/IPv4 datagram to port 9.
func udpTo9(p []byte) (string, bool) {
	if len(p) < 28 || p[0]>>4 != 4 || p[9] != 17 {
		return "", false
	}
	ihl := int(p[0]&15) * 4
	if len(p) < ihl+8 || binary.BigEndian.Uint16(p[ihl+2:]) != 9 {
		return "", false
	}
	return string(p[ihl+8:]), true
}
