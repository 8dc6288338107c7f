package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/stack"
)

// The UDP half of a soak run (SoakCase.Datagrams): beside the TCP transfer
// the client sends numbered datagrams to a UDP endpoint of the server over
// the same impaired link. RFC 768 promises neither delivery, nor once, nor
// order, so loss, duplicates and reordering are counted, not failures; a
// datagram delivered that is not exactly one that was sent (corrupted,
// truncated, merged) is a failure.

// SoakUDPPort is the server's UDP port in soak runs: 9, UDP's discard
// service (RFC 863), as SoakPort is TCP's.
const SoakUDPPort = 9

// udpGap is the virtual time between two of the client's datagrams.
const udpGap = 2 * time.Millisecond

// A soak datagram is its number (4 bytes, big-endian), seeded random
// bytes, and the SHA-256 of the two: at least udpMinLen bytes.
const udpMinLen = 4 + sha256.Size

// SoakUDP is the UDP half of a run's result.
type SoakUDP struct {
	// Sent is how many datagrams the client sent; Delivered how many of
	// them the server read at least once, Duplicated the extra copies it
	// read, Reordered those it read first after a higher-numbered one, and
	// Lost those it never read (Sent - Delivered).
	Sent, Delivered, Duplicated, Reordered, Lost int
	// CsumDrops is the server's UDPCounters.InCsumErrors: datagrams its
	// UDP dropped for a bad checksum (the link's corruption caught).
	CsumDrops uint64
	// Bad lists the datagrams delivered that are not exactly one that was
	// sent: the broken promise.
	Bad []string
}

// udpSoak is the actor that sends the client's datagrams on schedule and
// reads and checks the server's.
type udpSoak struct {
	client, server *stack.UDPEndpoint
	to             netip.AddrPort
	sent           [][]byte
	start          clock.Time
	copies         []int // per datagram, how many times the server read it
	highest        int   // the highest number read, -1 before any
	res            SoakUDP
}

// newUDPSoak binds the two endpoints and makes the n datagrams: their
// lengths vary from udpMinLen to the most the path carries (the first is
// the longest, the second the shortest), their bytes come from the seed.
func newUDPSoak(w *World, n int, client, server *Host, saddr netip.Addr) (*udpSoak, error) {
	sep, err := server.Stack.BindUDP(stack.AnyFamily, netip.AddrPortFrom(netip.Addr{}, SoakUDPPort))
	if err != nil {
		return nil, fmt.Errorf("sim: soak udp: %w", err)
	}
	cep, err := client.Stack.BindUDP(stack.AnyFamily, netip.AddrPort{})
	if err != nil {
		return nil, fmt.Errorf("sim: soak udp: %w", err)
	}
	hl := 20
	if saddr.Is6() {
		hl = 40
	}
	most := client.Stack.PathMTU(w.Now(), saddr) - hl - 8
	if most < udpMinLen {
		return nil, fmt.Errorf("sim: soak udp: the path carries %d bytes of UDP data, want at least %d", most, udpMinLen)
	}
	s := w.streamSeed("udp")
	rng := rand.New(rand.NewPCG(s, 0x0d9))
	u := &udpSoak{client: cep, server: sep, to: netip.AddrPortFrom(saddr, SoakUDPPort), start: w.Now(),
		copies: make([]int, n), highest: -1}
	for i := range n {
		size := udpMinLen + rng.IntN(most-udpMinLen+1)
		switch i {
		case 0:
			size = most
		case 1:
			size = udpMinLen
		}
		u.sent = append(u.sent, soakDatagram(i, size, rng))
	}
	return u, nil
}

// soakDatagram is datagram i, size bytes long.
func soakDatagram(i, size int, rng *rand.Rand) []byte {
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, uint32(i))
	for j := 4; j < size-sha256.Size; j++ {
		p[j] = byte(rng.Uint32())
	}
	h := sha256.Sum256(p[:size-sha256.Size])
	copy(p[size-sha256.Size:], h[:])
	return p
}

// checkSoakDatagram returns the number of p, a datagram the server read,
// and what is wrong with it ("" if it is exactly datagram i as sent).
func checkSoakDatagram(p []byte, sent [][]byte) (int, string) {
	if len(p) < udpMinLen {
		return -1, fmt.Sprintf("a %d-byte datagram, shorter than any sent (%d bytes at least)", len(p), udpMinLen)
	}
	i := int(binary.BigEndian.Uint32(p))
	body := len(p) - sha256.Size
	if h := sha256.Sum256(p[:body]); !bytes.Equal(h[:], p[body:]) {
		return -1, fmt.Sprintf("a %d-byte datagram numbered %d whose SHA-256 does not match its content (corrupted, truncated or merged)", len(p), i)
	}
	if i >= len(sent) {
		return -1, fmt.Sprintf("a %d-byte datagram numbered %d; only %d were sent", len(p), i, len(sent))
	}
	if !bytes.Equal(p, sent[i]) {
		return -1, fmt.Sprintf("datagram %d delivered with %d bytes not as sent (%d bytes)", i, len(p), len(sent[i]))
	}
	return i, ""
}

// due is the virtual time datagram i leaves.
func (u *udpSoak) due(i int) clock.Time { return u.start.Add(time.Duration(i) * udpGap) }

func (u *udpSoak) advance(now clock.Time) bool {
	acted := false
	for u.res.Sent < len(u.sent) && u.due(u.res.Sent) <= now {
		if err := u.client.Send(now, u.to, u.sent[u.res.Sent]); err != nil {
			u.res.Bad = append(u.res.Bad, fmt.Sprintf("datagram %d not sent: %v", u.res.Sent, err))
		}
		u.res.Sent++
		acted = true
	}
	for {
		d, ok, err := u.server.Recv()
		if err != nil {
			u.res.Bad = append(u.res.Bad, fmt.Sprintf("server's udp endpoint: %v", err))
			if errors.Is(err, stack.ErrEndpointClosed) {
				break
			}
			continue
		}
		if !ok {
			break
		}
		u.read(d.Payload)
	}
	return acted
}

// read counts and checks one datagram the server read.
func (u *udpSoak) read(p []byte) {
	i, bad := checkSoakDatagram(p, u.sent)
	if bad != "" {
		u.res.Bad = append(u.res.Bad, bad)
		return
	}
	u.copies[i]++
	switch {
	case u.copies[i] > 1:
		u.res.Duplicated++
	case i < u.highest:
		u.res.Delivered++
		u.res.Reordered++
	default:
		u.res.Delivered++
		u.highest = i
	}
}

func (u *udpSoak) next() clock.Time {
	if u.res.Sent < len(u.sent) {
		return u.due(u.res.Sent)
	}
	return clock.Never
}

func (u *udpSoak) input(clock.Time, []byte) {}

// result is the UDP half's outcome, with the server's counters.
func (u *udpSoak) result(c stack.UDPCounters) SoakUDP {
	r := u.res
	r.Lost = r.Sent - r.Delivered
	r.CsumDrops = c.InCsumErrors
	return r
}
