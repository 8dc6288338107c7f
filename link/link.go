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
//     the link.
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
