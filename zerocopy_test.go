package synack

import (
	"bytes"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/wire"
)

// zcEnd is one end of a minimal zero-copy pipe that counts what goes
// through it: buffers lent and given back, packets sent with a copy
// (Send) and without (SendBuffer), and TCP checksum fields that are zero.
type zcEnd struct {
	addr    netip.Addr
	in, out chan *link.Buffer
	done    chan struct{}
	once    sync.Once
	lend    bool // NewBuffer lends (else it returns nil)
	offload bool

	lent, back, copied, zeroCopy, zeroSums, goodSums *atomic.Int64
}

func zcPipe(lend, offload bool) (a, b *zcEnd) {
	ab, ba := make(chan *link.Buffer, 1024), make(chan *link.Buffer, 1024)
	var lent, back, copied, zeroCopy, zeroSums, goodSums atomic.Int64
	mk := func(addr string, in, out chan *link.Buffer) *zcEnd {
		return &zcEnd{addr: netip.MustParseAddr(addr), in: in, out: out, done: make(chan struct{}), lend: lend, offload: offload,
			lent: &lent, back: &back, copied: &copied, zeroCopy: &zeroCopy, zeroSums: &zeroSums, goodSums: &goodSums}
	}
	return mk("198.18.0.2", ba, ab), mk("198.18.0.1", ab, ba)
}

func (e *zcEnd) Addr() netip.Addr       { return e.addr }
func (e *zcEnd) MTU() int               { return 1500 }
func (e *zcEnd) OffloadChecksums() bool { return e.offload }
func (e *zcEnd) Close() error           { e.once.Do(func() { close(e.done) }); return nil }

func (e *zcEnd) NewBuffer() *link.Buffer {
	if !e.lend {
		return nil
	}
	e.lent.Add(1)
	return &link.Buffer{B: make([]byte, 0, 1500)}
}

func (e *zcEnd) Release(b *link.Buffer) { e.back.Add(1) }

func (e *zcEnd) Send(pkt []byte) error {
	e.copied.Add(1)
	e.lent.Add(1)
	return e.SendBuffer(&link.Buffer{B: bytes.Clone(pkt)})
}

func (e *zcEnd) SendBuffer(b *link.Buffer) error {
	e.zeroCopy.Add(1)
	if len(b.B) >= 40 && b.B[9] == 6 && b.B[36] == 0 && b.B[37] == 0 {
		e.zeroSums.Add(1)
	}
	if _, err := wire.ParsePacket(b.B); err == nil {
		e.goodSums.Add(1)
	}
	select {
	case e.out <- b:
	default:
		e.back.Add(1) // dropped: the link takes it back
	}
	return nil
}

func (e *zcEnd) ReceiveBuffer() (*link.Buffer, error) {
	select {
	case b := <-e.in:
		return b, nil
	case <-e.done:
		return nil, link.ErrClosed
	}
}

func (e *zcEnd) TryReceiveBuffer() (*link.Buffer, bool) {
	select {
	case b := <-e.in:
		return b, true
	default:
		return nil, false
	}
}

func (e *zcEnd) Receive(buf []byte) (int, error) {
	b, err := e.ReceiveBuffer()
	if err != nil {
		return 0, err
	}
	defer e.Release(b)
	return copy(buf, b.B), nil
}

// On a link.ZeroCopy the Stack builds every packet in a buffer the link
// lends and gives back every buffer it takes (none is lost, none given
// back twice); when the link lends none, it sends with Send (a copy)
// instead. On a link.ChecksumOffloader that says so, every TCP segment
// leaves with its checksum field zero; otherwise none does. Either way
// the bytes arrive intact.
func TestZeroCopyLink(t *testing.T) {
	for _, tc := range []struct {
		name          string
		lend, offload bool
	}{{"lend", true, false}, {"lend+offload", true, true}, {"nolend", false, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cl, sv := zcPipe(tc.lend, tc.offload)
			server, err := New(sv, Config{Seed: 2})
			if err != nil {
				t.Fatal(err)
			}
			client, err := New(cl, Config{Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			ln, err := server.Listen("tcp", ":80")
			if err != nil {
				t.Fatal(err)
			}
			data := bytes.Repeat([]byte("synack zero copy "), 64<<10) // about 1 MiB
			got := make(chan []byte, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					got <- nil
					return
				}
				b, _ := io.ReadAll(c)
				c.Close()
				got <- b
			}()
			c, err := client.Dial("tcp", "198.18.0.1:80")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Write(data); err != nil {
				t.Fatal(err)
			}
			c.(*Conn).CloseWrite()
			if b := <-got; !bytes.Equal(b, data) {
				t.Fatalf("server read %d bytes, want the %d written", len(b), len(data))
			}
			c.Close()
			client.Close()
			server.Close()
			// Drain what is still queued: the link owns it.
			for _, e := range []*zcEnd{cl, sv} {
				for {
					select {
					case <-e.in:
						e.back.Add(1)
						continue
					default:
					}
					break
				}
			}
			lent, back, copied, zc, zs, good := cl.lent.Load(), cl.back.Load(), cl.copied.Load(), cl.zeroCopy.Load(), cl.zeroSums.Load(), cl.goodSums.Load()
			if lent != back {
				t.Errorf("buffers lent %d, given back %d", lent, back)
			}
			if tc.lend && copied != 0 || !tc.lend && copied != zc {
				t.Errorf("lend %v: %d packets sent with a copy of %d", tc.lend, copied, zc)
			}
			if tc.offload && zs != zc {
				t.Errorf("offload: %d of %d TCP packets with a zero checksum field, want all", zs, zc)
			}
			if !tc.offload && good != zc {
				t.Errorf("checksums on: %d of %d TCP packets parse with a valid checksum, want all", good, zc)
			}
		})
	}
}
