// Package linktest checks that a link.Link keeps the contract of package
// link: Send copies the packet, Receive hands over whole packets and
// truncates one longer than its buffer, MTU-sized packets pass, Close
// unblocks a pending Receive, Send and Receive after Close fail with
// link.ErrClosed, Close twice is not an error, Send is safe from several
// goroutines at once (run it under -race), a TryReceive, where the
// link has one, hands over what has arrived without blocking, and, where
// the links are link.ZeroCopy, that lent buffers carry packets both ways,
// mixed with Send and Receive, and are refused after Close.
//
// Each link package runs Run on a pair of its links joined back to back
// (a socketpair, a pipe, a fake device):
//
//	func TestConformance(t *testing.T) {
//		linktest.Run(t, func(t *testing.T) (a, b link.Link) { ... })
//	}
package linktest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/gosynack/synack/link"
)

// Pair returns two links joined back to back: what one sends, the other
// receives, in order and without loss while up to 100 packets of 64 bytes
// are in flight (a link with a Drops() uint64 method that counts a loss
// fails the test saying so). Run closes both links; the pair should
// release anything else it made with t.Cleanup.
type Pair func(t *testing.T) (a, b link.Link)

// tryReceiver is the optional burst method the real-time driver uses.
type tryReceiver interface {
	TryReceive(buf []byte) (int, bool)
}

// Run runs the conformance checks, each as a subtest on a new pair.
func Run(t *testing.T, newPair Pair) {
	tests := []struct {
		name string
		f    func(t *testing.T, a, b link.Link)
	}{
		{"RoundTrip", roundTrip},
		{"SendCopies", sendCopies},
		{"Truncation", truncation},
		{"CloseUnblocksReceive", closeUnblocksReceive},
		{"AfterClose", afterClose},
		{"ConcurrentSend", concurrentSend},
		{"TryReceive", tryReceive},
		{"ZeroCopy", zeroCopy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := newPair(t)
			t.Cleanup(func() {
				a.Close()
				b.Close()
			})
			tc.f(t, a, b)
		})
	}
}

// Packet returns an n-byte packet that looks like IPv4 (version 4, header
// length 5 words) so that links which look at the version accept it, with
// id in bytes 4 to 7 (the identification and fragment fields) and the
// rest a pattern that depends on id and the offset. An n under 20 is
// taken as 20.
func Packet(id uint32, n int) []byte {
	n = max(n, 20)
	p := make([]byte, n)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], uint16(n))
	binary.BigEndian.PutUint32(p[4:], id)
	for i := 8; i < n; i++ {
		p[i] = byte(uint32(i)*7 + id*13)
	}
	return p
}

func receive(t *testing.T, l link.Link, size int) []byte {
	t.Helper()
	buf := make([]byte, size)
	n, err := l.Receive(buf)
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return buf[:n]
}

func send(t *testing.T, l link.Link, pkt []byte) {
	t.Helper()
	if err := l.Send(pkt); err != nil {
		t.Fatalf("Send of %d bytes: %v", len(pkt), err)
	}
}

// roundTrip: packets of several sizes, an MTU-sized one included, cross
// both ways whole and in order.
func roundTrip(t *testing.T, a, b link.Link) {
	if a.MTU() < 68 || b.MTU() < 68 {
		t.Fatalf("MTUs %d and %d, want at least 68 (RFC 791's minimum)", a.MTU(), b.MTU())
	}
	for _, dir := range []struct {
		name     string
		from, to link.Link
	}{{"a to b", a, b}, {"b to a", b, a}} {
		mtu := min(dir.from.MTU(), dir.to.MTU())
		sizes := []int{20, 40, 576, mtu - 1, mtu}
		for i, n := range sizes {
			send(t, dir.from, Packet(uint32(i), n))
		}
		for i, n := range sizes {
			got := receive(t, dir.to, dir.to.MTU())
			if want := Packet(uint32(i), n); !bytes.Equal(got, want) {
				t.Fatalf("%s: packet %d: got %d bytes %x..., want %d bytes %x...", dir.name, i, len(got), head(got), len(want), head(want))
			}
		}
	}
}

func head(p []byte) []byte { return p[:min(len(p), 12)] }

// sendCopies: "Send copies pkt before returning": the caller may reuse
// its buffer at once.
func sendCopies(t *testing.T, a, b link.Link) {
	p := Packet(1, 100)
	send(t, a, p)
	for i := range p {
		p[i] = 0xff
	}
	if got, want := receive(t, b, b.MTU()), Packet(1, 100); !bytes.Equal(got, want) {
		t.Fatalf("received %x..., want %x...: Send kept the caller's buffer", head(got), head(want))
	}
}

// truncation: "A packet longer than buf is truncated"; the rest of it is
// dropped, and the next Receive has the next packet.
func truncation(t *testing.T, a, b link.Link) {
	send(t, a, Packet(1, 200))
	send(t, a, Packet(2, 60))
	got := receive(t, b, 50)
	if want := Packet(1, 200)[:50]; !bytes.Equal(got, want) {
		t.Fatalf("Receive into 50 bytes of a 200-byte packet: got %d bytes %x..., want its first 50", len(got), head(got))
	}
	if got, want := receive(t, b, b.MTU()), Packet(2, 60); !bytes.Equal(got, want) {
		t.Fatalf("after a truncated packet: got %d bytes %x..., want the next packet, 60 bytes %x...", len(got), head(got), head(want))
	}
}

// closeUnblocksReceive: "Close releases the link and unblocks a pending
// Receive", which then returns ErrClosed.
func closeUnblocksReceive(t *testing.T, a, b link.Link) {
	done := make(chan error, 1)
	go func() {
		_, err := b.Receive(make([]byte, b.MTU()))
		done <- err
	}()
	// Nothing is sent, so Receive is blocked (or about to be): Close must
	// end it either way.
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Receive blocked when Close was called returned %v, want link.ErrClosed", err)
	}
}

// afterClose: "ErrClosed is returned by Send and Receive on a closed
// link"; "Closing twice is not an error".
func afterClose(t *testing.T, a, b link.Link) {
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := a.Send(Packet(1, 40)); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Send after Close: %v, want link.ErrClosed", err)
	}
	if _, err := a.Receive(make([]byte, 100)); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("Receive after Close: %v, want link.ErrClosed", err)
	}
	if tr, ok := a.(tryReceiver); ok {
		if n, ok := tr.TryReceive(make([]byte, 100)); ok {
			t.Fatalf("TryReceive after Close returned a packet of %d bytes", n)
		}
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// concurrentSend: "Send is safe to call from several goroutines": every
// packet arrives once and whole, none mixed with another.
func concurrentSend(t *testing.T, a, b link.Link) {
	const senders, each, size = 4, 25, 64
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := a.Send(Packet(uint32(s*each+i), size)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// The packets are received in another goroutine, so that a link that
	// dropped some fails the test rather than leaving Receive blocked.
	recvErr := make(chan error, 1)
	go func() { recvErr <- receiveAll(b, senders*each, size) }()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent Send: %v", err)
	}
	if d, ok := a.(interface{ Drops() uint64 }); ok && d.Drops() > 0 {
		t.Fatalf("the link dropped %d of %d packets: the pair has too little room for this test", d.Drops(), senders*each)
	}
	if err := <-recvErr; err != nil {
		t.Fatal(err)
	}
}

// receiveAll receives count packets of size bytes made by Packet, and
// checks that each is whole and arrives once.
func receiveAll(b link.Link, count, size int) error {
	seen := make(map[uint32]bool)
	buf := make([]byte, b.MTU())
	for range count {
		n, err := b.Receive(buf)
		if err != nil {
			return fmt.Errorf("receive after %d packets: %w", len(seen), err)
		}
		if n < 8 {
			return fmt.Errorf("received a packet of %d bytes, want %d", n, size)
		}
		id := binary.BigEndian.Uint32(buf[4:])
		if want := Packet(id, size); !bytes.Equal(buf[:n], want) {
			return fmt.Errorf("packet %d arrived as %d bytes %x (first bytes), want %d bytes %x", id, n, head(buf[:n]), size, head(want))
		}
		if seen[id] {
			return fmt.Errorf("packet %d arrived twice", id)
		}
		seen[id] = true
	}
	return nil
}

// tryReceive: a TryReceive hands over a packet that has arrived, and
// returns at once with none when nothing is there. Links without one
// skip.
func tryReceive(t *testing.T, a, b link.Link) {
	tr, ok := b.(tryReceiver)
	if !ok {
		t.Skip("the link has no TryReceive")
	}
	buf := make([]byte, b.MTU())
	if n, ok := tr.TryReceive(buf); ok {
		t.Fatalf("TryReceive on an idle link returned a packet of %d bytes", n)
	}
	for i := range 3 {
		send(t, a, Packet(uint32(i), 100))
	}
	// Receive blocks until the first has arrived; the other two may still
	// be on their way, so TryReceive is asked until they are there.
	if got := receive(t, b, b.MTU()); !bytes.Equal(got, Packet(0, 100)) {
		t.Fatalf("Receive: got %x..., want packet 0", head(got))
	}
	for i := 1; i < 3; {
		n, ok := tr.TryReceive(buf)
		if !ok {
			runtime.Gosched()
			continue
		}
		if !bytes.Equal(buf[:n], Packet(uint32(i), 100)) {
			t.Fatalf("TryReceive: got %d bytes %x..., want packet %d", n, head(buf[:n]), i)
		}
		i++
	}
	if n, ok := tr.TryReceive(buf); ok {
		t.Fatalf("TryReceive after the burst returned a packet of %d bytes", n)
	}
}

// zeroCopy: a link.ZeroCopy lends an empty buffer with room for an MTU's
// packet; a packet built in it and handed over with SendBuffer arrives
// whole, through ReceiveBuffer or through Receive (which copies), as one
// sent with Send arrives through ReceiveBuffer; TryReceiveBuffer returns
// at once on an idle link; after Close, ReceiveBuffer and SendBuffer fail
// with link.ErrClosed. Links that are not ZeroCopy skip.
func zeroCopy(t *testing.T, a, b link.Link) {
	za, okA := a.(link.ZeroCopy)
	zb, okB := b.(link.ZeroCopy)
	if !okA || !okB {
		t.Skip("the links are not link.ZeroCopy")
	}
	if got, ok := zb.TryReceiveBuffer(); ok {
		t.Fatalf("TryReceiveBuffer on an idle link returned a packet of %d bytes", len(got.B))
	}
	mtu := min(a.MTU(), b.MTU())
	buf := za.NewBuffer()
	if buf == nil {
		t.Fatal("NewBuffer on a fresh link returned nil")
	}
	if len(buf.B) != 0 || cap(buf.B) < a.MTU() {
		t.Fatalf("NewBuffer lent len %d, cap %d; want len 0, cap at least the MTU %d", len(buf.B), cap(buf.B), a.MTU())
	}
	buf.B = append(buf.B, Packet(1, mtu)...)
	if err := za.SendBuffer(buf); err != nil {
		t.Fatalf("SendBuffer: %v", err)
	}
	got, err := zb.ReceiveBuffer()
	if err != nil {
		t.Fatalf("ReceiveBuffer: %v", err)
	}
	if !bytes.Equal(got.B, Packet(1, mtu)) {
		t.Fatalf("ReceiveBuffer: got %d bytes %x..., want the %d sent with SendBuffer", len(got.B), head(got.B), mtu)
	}
	zb.Release(got)
	// Mixed with the copying calls, both ways round.
	send(t, a, Packet(2, 100))
	if got, err = zb.ReceiveBuffer(); err != nil || !bytes.Equal(got.B, Packet(2, 100)) {
		t.Fatalf("ReceiveBuffer of a packet sent with Send: %v, %d bytes", err, len(got.B))
	}
	zb.Release(got)
	buf = za.NewBuffer()
	buf.B = append(buf.B, Packet(3, 100)...)
	if err := za.SendBuffer(buf); err != nil {
		t.Fatalf("SendBuffer: %v", err)
	}
	if p := receive(t, b, b.MTU()); !bytes.Equal(p, Packet(3, 100)) {
		t.Fatalf("Receive of a packet sent with SendBuffer: got %d bytes %x...", len(p), head(p))
	}
	// A buffer lent and given back unsent.
	if buf = za.NewBuffer(); buf != nil {
		za.Release(buf)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, err := zb.ReceiveBuffer(); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("ReceiveBuffer after Close: %v (%v), want link.ErrClosed", got, err)
	}
	if buf = zb.NewBuffer(); buf != nil {
		buf.B = append(buf.B, Packet(4, 40)...)
		if err := zb.SendBuffer(buf); !errors.Is(err, link.ErrClosed) {
			t.Fatalf("SendBuffer after Close: %v, want link.ErrClosed", err)
		}
	}
}
