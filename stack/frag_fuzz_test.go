package stack

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// fuzzData is the data of fuzz datagram id: no byte is zero, so a hole
// left in a reassembled datagram shows.
func fuzzData(id uint32, n int) []byte { return fuzzBase[id%251 : id%251+uint32(n)] }

var fuzzBase = func() []byte {
	b := make([]byte, 70000*2+251)
	for i := range b {
		b[i] = byte(i%251) + 1
	}
	return b
}()

// FuzzReassemble plays a script of fragments at a host with small bounds
// (4 datagrams, 20000 bytes): each 6 bytes of the input are one fragment
// (family, ID and protocol from the first byte, then its offset and
// length, in 8-byte units or not, the M flag, and how far the clock moves),
// and a script byte with the top bits set feeds the rest of the input to
// Input as a packet. No panic; after each step the bookkeeping holds
// (checkFragState); every datagram reassembly returns parses as one
// unfragmented IP packet whose data is exactly its fragments' data, with
// no hole; everything the host sends parses.
func FuzzReassemble(f *testing.F) {
	seed := func(ops ...[6]byte) []byte {
		var b []byte
		for _, o := range ops {
			b = append(b, o[:]...)
		}
		return b
	}
	// Offsets and lengths in 8-byte units: 0..185 with M, then the last.
	f.Add(seed([6]byte{0, 0, 0, 0, 185, 1}, [6]byte{0, 0, 185, 0, 100, 0}))
	f.Add(seed([6]byte{1, 0, 185, 0, 100, 0}, [6]byte{1, 0, 0, 0, 185, 1}))
	f.Add(seed([6]byte{2, 0, 0, 0, 185, 1}, [6]byte{2, 0, 180, 0, 10, 1}))
	f.Add(seed([6]byte{3, 0, 0, 0, 4, 1}, [6]byte{3, 0, 4, 0, 4, 0x21}, [6]byte{3, 0, 8, 0, 1, 0}))
	f.Add(seed([6]byte{0, 0, 0, 0, 1, 0xf1}))
	f.Add(append([]byte{0xc0}, frag4(peerAddr, hostAddr, 1, wire.ProtocolUDP, pattern(100), 0, 16, true)...))
	f.Fuzz(fuzzReassemble)
}

func fuzzReassemble(t *testing.T, script []byte) {
	{
		s, err := New(Config{Name: "h", Addr: hostAddr, Addr6: host6, Rand: rand.New(rand.NewPCG(1, 2)),
			FragQueues: 4, FragMemory: 20000})
		if err != nil {
			t.Fatal(err)
		}
		now := clock.Time(0)
		for len(script) > 0 {
			if script[0]&0xc0 == 0xc0 {
				s.Input(now, script[1:])
				checkFragState(t, s)
				break
			}
			if len(script) < 6 {
				break
			}
			op := script[:6]
			script = script[6:]
			sel := op[0]
			id := uint32(sel & 7)
			v6 := sel&8 != 0
			proto := uint8(wire.ProtocolUDP)
			if sel&0x10 != 0 {
				proto = wire.ProtocolTCP
			}
			off, n := int(binary.BigEndian.Uint16(op[1:])), int(binary.BigEndian.Uint16(op[3:]))
			if sel&0x20 == 0 { // in 8-byte units
				off, n = off*8, n*8
			}
			off, n = min(off, 70000), min(n, 70000)
			more := op[5]&1 != 0
			now = now.Add(time.Duration(op[5]>>1) * time.Second)
			d := fuzzData(id, off+n)
			var pkt []byte
			switch {
			case !v6 && off%8 == 0 && off <= 0xfff8 && n <= 0xffff-20:
				pkt = frag4(peerAddr, hostAddr, uint16(id), proto, d, off, off+n, more)
			case v6 && off%8 == 0 && off <= 0xfff8 && n <= 0xffff-8:
				pkt = frag6(peer6, host6, id, proto, d, off, off+n, more)
			default:
				continue // not a fragment the wire can carry
			}
			s.HandleTimeout(now)
			whole := s.reassemble(now, pkt)
			checkFragState(t, s)
			if whole != nil {
				ip, payload, err := wire.ParseIP(whole)
				if err != nil {
					t.Fatalf("reassembled datagram does not parse: %v", err)
				}
				if ip.Protocol() != proto || ip.Src() != pkt2src(v6) {
					t.Fatalf("reassembled %v, want protocol %d from the peer", ip.String(), proto)
				}
				if want := fuzzData(id, len(payload)); !bytes.Equal(payload, want) {
					t.Fatalf("reassembled datagram %d of %d bytes differs from its fragments' data", id, len(payload))
				}
			}
			s.Output(now, func(p []byte) {
				if _, _, err := wire.ParseIP(p); err != nil {
					t.Fatalf("host sent a packet that does not parse: %v", err)
				}
			})
		}
		// Every datagram left times out, and the memory with it.
		s.HandleTimeout(now.Add(61 * time.Second))
		if len(s.frag.queues) != 0 || s.frag.mem != 0 || s.NextDeadline() != clock.Never {
			t.Fatalf("after every timeout: %d queues, %d bytes, NextDeadline %v", len(s.frag.queues), s.frag.mem, s.NextDeadline())
		}
	}
}

func pkt2src(v6 bool) netip.Addr {
	if v6 {
		return peer6
	}
	return peerAddr
}
