// Package link is the boundary between a running synack stack and whatever
// carries its IPv4 packets. A Link moves whole packets; it knows nothing of
// TCP.
//
// Which link to use:
//
//   - link/mem: an in-process network of Ports in real time, with
//     link/netsim's seeded impairments; for tests (under testing/synctest
//     too) and examples.
//   - link/impair: wraps any Link with delay, jitter, loss, reordering,
//     duplication, corruption and a bottleneck, both ways (netem for a TUN
//     device, say).
//   - link/tun: a Linux TUN device, to talk to the kernel's TCP and real
//     tools.
//   - link/netsim is not a Link: it is the virtual-time network model that
//     the sim package drives, and that link/mem and link/impair drive in
//     real time.
//   - The benchmark module's pipe (bench/pipe.go) is two Links back to back
//     with preallocated buffers and no impairment engine, so that the
//     benchmarks against gVisor's channel endpoints measure the stacks, not
//     the link; it is a ZeroCopy and a ChecksumOffloader (below), the one
//     link that is so far.
//
// The interface is small on purpose: Send copies a packet out, Receive
// blocks until a packet comes in, and Close unblocks Receive. A driver (the
// synack.Stack) owns one goroutine that calls Receive in a loop and calls
// Send from wherever the stack produces output; a link that also has a
// TryReceive(buf []byte) (int, bool) method that does not block (mem.Port
// has, and link/tun's Device) is read a burst at a time; a link that is a
// Burster (link/tun's Device) writes from a goroutine of its own, and the
// driver marks the packets of one step as a burst. A wrapper (link/impair) implements Link by
// delegating to another Link.
//
// # Zero copy
//
// A link that is a ZeroCopy lends its packet buffers instead of copying
// packets in and out: the driver builds each outgoing packet directly in
// a buffer the link lent (NewBuffer) and hands it over (SendBuffer), and
// takes incoming packets in the link's own buffers (ReceiveBuffer,
// TryReceiveBuffer) and gives them back (Release). The ownership rules:
//
//   - A *Buffer has one owner at a time: the link, or the caller it lent
//     the buffer to. NewBuffer, ReceiveBuffer and TryReceiveBuffer lend;
//     SendBuffer and Release give back.
//   - Only the owner reads or writes the buffer and its array, and the
//     owner must give every buffer back, once (a buffer given back twice,
//     or touched after, is a bug in the caller, as a use after free is).
//   - SendBuffer takes the buffer back whatever it returns, even on an
//     error or a drop: the caller never releases a buffer it sent.
//   - b.B must stay within the array the link lent: the caller may set its
//     length up to its capacity (the packet's length), never swap the
//     array for another.
//   - A link lends a bounded number of buffers (a NIC's ring): NewBuffer
//     returns nil when it has none free, and the driver then falls back to
//     Send, which copies. A received buffer held long keeps the link from
//     receiving into it: the driver releases each once its stack has
//     handled the packet (Input only reads it during the call).
//
// Send and Receive keep working on a ZeroCopy link (with a copy), so that
// a wrapper or a test may use either.
//
// # Checksums
//
// A link that is a ChecksumOffloader and says so cannot corrupt a packet,
// and delivers only to receivers that do not verify TCP checksums either
// (both ends of bench.Pipe, two stacks of one process): the driver then
// has its stack neither compute nor verify them, as gVisor's checksum
// offload capabilities do. link/tun with virtio-net offloads says so too,
// as a NIC with checksum offload would: what it sends goes to the kernel
// with the checksum left for it to complete (NEEDS_CSUM), and what it
// hands over it has verified itself unless the kernel had. No other link
// to a device or to another stack's code says so (link/tun without
// offloads, link/mem with its corruption impairment, link/impair, a
// capture): checksums stay on there, and a corrupted packet is dropped as
// RFC 9293 §3.1 requires.
package link

import "errors"

// Link carries IPv4 packets for one host.
type Link interface {
	// Send transmits one IPv4 packet. It copies pkt before returning and
	// must not block for long (a full queue drops, as a NIC would). Send
	// is safe to call from several goroutines.
	Send(pkt []byte) error
	// Receive blocks until a packet arrives, copies it into buf and
	// returns its length. A packet longer than buf is truncated (buf of
	// MTU() bytes is always enough, except on a link that hands over
	// GSO packets, link/tun's Device with offloads, which needs 65535, as
	// internal/rt's Pump gives). After Close it returns ErrClosed.
	// Only one goroutine calls Receive at a time.
	Receive(buf []byte) (int, error)
	// MTU is the largest packet, IPv4 header included, the link carries.
	MTU() int
	// Close releases the link and unblocks a pending Receive. Closing twice
	// is not an error.
	Close() error
}

// ErrClosed is returned by Send and Receive on a closed link.
var ErrClosed = errors.New("link: closed")

// Burster is a Link whose Send queues packets for a writer of its own, so
// that they are written outside the caller's lock, in the order sent. A
// driver calls BeginBurst before it sends what one step produced and
// EndBurst after: the writer waits for EndBurst, so the burst is written
// together (link/tun merges the consecutive TCP segments in it into GSO
// packets). Without BeginBurst, each Send wakes the writer. Calls nest.
type Burster interface {
	BeginBurst()
	EndBurst()
}

// ChecksumVerifier is a Link that can take over verifying the TCP
// checksums of the packets it hands over (link/tun with virtio-net
// offloads: the kernel says which it has verified, and leaves the
// checksum of its own packets partial, which nothing between it and
// synack can corrupt). A driver calls VerifyChecksums once, before the
// first Receive; if it reports true, the link hands over only packets
// whose checksum it verified or knows good, some with the checksum field
// not filled in, and the driver's stack must not verify them again. A
// link that is never asked (a wrapper in between does not pass the call
// on) hands over packets with complete checksums, as any Link.
type ChecksumVerifier interface {
	VerifyChecksums() bool
}

// ChecksumOffloader is a Link that can take over the TCP checksum both
// ways: it cannot corrupt a packet, and its receivers do not verify. A
// driver calls OffloadChecksums once, before the first Send and Receive;
// if it reports true, the driver's stack leaves the checksum field of the
// TCP segments it sends zero and does not verify those it receives
// (stack.Config.LinkOffloadsChecksums). A link that is never asked (a
// wrapper in between does not pass the call on) carries packets with
// complete checksums, as any Link.
type ChecksumOffloader interface {
	OffloadChecksums() bool
}

// GSOer is a Link that takes TCP super-segments (segmentation offload,
// as a NIC's TSO or virtio-net's GSO): packets larger than MTU() holding
// one TCP segment whose payload is a whole number of MSS-sized pieces
// (the last maybe shorter), which the link cuts into MSS-sized segments
// on the way out, or whose receiver takes whole, as a GRO packet
// (bench.Pipe, link/mem: both ends are synack stacks, which accept a
// segment larger than their MSS). A driver calls MaxSegmentOffload once,
// before the first Send; if it reports more than MTU(), its stack's
// connections send new data in super-segments of up to that many bytes,
// IP header included (stack.Config.LinkSegmentOffload); 0 is none. A
// ZeroCopy GSOer lends buffers of that size. A link that is never asked
// (a wrapper in between does not pass the call on, a simulator, a
// capture) sees only MSS-sized segments, as any Link.
type GSOer interface {
	MaxSegmentOffload() int
}

// Buffer is a packet buffer a ZeroCopy link lends: B is the packet, in an
// array the link owns (see the package doc for the ownership rules).
type Buffer struct {
	B []byte
}

// ZeroCopy is a Link that lends its packet buffers, so that a packet is
// neither copied in on Send nor out on Receive (the package doc has the
// ownership rules).
type ZeroCopy interface {
	Link
	// NewBuffer lends an empty buffer (len(B) 0) with room for a packet
	// of MTU() bytes, or returns nil when the link has none free.
	NewBuffer() *Buffer
	// SendBuffer transmits the packet b.B and takes b back, whatever it
	// returns; it never blocks for long (a full queue drops, as Send
	// does). Safe to call from several goroutines.
	SendBuffer(b *Buffer) error
	// ReceiveBuffer blocks until a packet arrives and lends the buffer it
	// is in; after Close it returns ErrClosed. Only one goroutine calls
	// ReceiveBuffer or TryReceiveBuffer at a time.
	ReceiveBuffer() (*Buffer, error)
	// TryReceiveBuffer is ReceiveBuffer without waiting: ok is false when
	// no packet is queued.
	TryReceiveBuffer() (b *Buffer, ok bool)
	// Release takes back a buffer that was lent and not sent.
	Release(b *Buffer)
}
