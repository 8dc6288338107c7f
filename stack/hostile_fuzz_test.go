package stack

import (
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// The limits of the hostile fuzz target's host, small so that a short
// input reaches them.
const (
	hostileSynBacklog = 8
	hostileBacklog    = 4
	hostileMaxConns   = 24
	hostileRecvMax    = 16 << 10
	hostileSendMax    = 16 << 10
	hostileMemLimit   = 48 << 10
)

// FuzzHostile drives a listening host and an established connection (the
// application writing, reading and closing) with segments from a hostile
// peer: on the connection's 4-tuple, with sequence and acknowledgment
// numbers near the right ones (or anywhere), any flags, timestamps, SACK
// blocks anywhere, MSS and window scale options, payloads up to 1530
// bytes; and from spoofed sources (SYN floods, guessed cookie ACKs, RSTs),
// with time passing and the timers run. After each step it checks that the
// host never panics, only sends packets that parse, at most 10000 per
// Output, and stays within its bounds: connections (MaxConns), the SYN and
// accept queues, every connection's buffers (the receive buffer's unread
// and out-of-order bytes within RecvBufferMax, the send buffer within
// SendBufferMax, all within the stack's buffer budget), and no deadline left in the past by HandleTimeout.
//
// Input: ops of 16 bytes: kind (low 3 bits: 0-3 a segment on the
// connection, 4 from a spoofed source to port 80, 5 an application call,
// 6 time passing, 7 a raw SYN flood burst), flags, sequence offset (int16
// from RCV.NXT), ACK offset (int16 from SND.UNA), payload length (n·6),
// option bits (1 timestamps, 2 SACK, 4 MSS, 8 window scale, 16 sequence
// and ACK taken raw), TSval (4 bytes), and two SACK edges (uint16 from
// SND.UNA).
func FuzzHostile(f *testing.F) {
	f.Add(hostileOp(0, byte(wire.ACK), 0, 0, 10, 1, 0, 0))
	f.Add(append(hostileOp(0, byte(wire.ACK), 100, 0, 1, 3, 1000, 2000), hostileOp(0, byte(wire.ACK), 300, 0, 1, 3, 0, 100)...))
	f.Add(append(hostileOp(7, 0, 0, 0, 0, 0, 0, 0), hostileOp(4, byte(wire.ACK), 0, 0, 0, 16, 0, 0)...))
	f.Add(append(hostileOp(5, 1, 0, 0, 0, 0, 0, 0), hostileOp(6, 200, 0, 0, 0, 0, 0, 0)...))
	f.Add(append(hostileOp(0, byte(wire.RST), 0, 0, 0, 0, 0, 0), hostileOp(0, byte(wire.SYN), 0, 0, 0, 1, 0, 0)...))
	f.Fuzz(func(t *testing.T, ops []byte) {
		s, err := New(Config{Name: "host", Addr: hostAddr, Rand: rand.New(rand.NewPCG(1, 2)), ISNKey: tcp.ISNKey{9},
			SynBacklog: hostileSynBacklog, MaxConns: hostileMaxConns, MaxOrphans: 4, MaxTimeWait: 4,
			TCP: tcp.Config{RecvBuffer: 4 << 10, RecvBufferMax: hostileRecvMax, SendBuffer: 4 << 10, SendBufferMax: hostileSendMax,
				MemPressure: 24 << 10, MemLimit: hostileMemLimit}})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := s.Listen(80, hostileBacklog)
		now := clock.Time(0)
		var lastOut []wire.Packet
		output := func() {
			n := 0
			lastOut = lastOut[:0]
			s.Output(now, func(b []byte) {
				if n++; n > 10000 {
					t.Fatalf("one Output call sent more than 10000 packets: a runaway loop")
				}
				p, err := wire.ParsePacket(b)
				if err != nil {
					t.Fatalf("sent an unparseable packet: %v", err)
				}
				lastOut = append(lastOut, p)
			})
		}
		// The connection: a handshake from peerAddr:40000 with every option.
		s.Input(now, hostileSeg(40000, wire.SYN, 7000, 0, wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7,
			SACKPermitted: true, HasTimestamps: true, TSVal: 1}, nil))
		output()
		if len(lastOut) != 1 {
			t.Fatalf("%d answers to the SYN", len(lastOut))
		}
		iss := lastOut[0].TCP.Seq
		s.Input(now, hostileSeg(40000, wire.ACK, 7001, iss.Add(1), wire.Options{HasTimestamps: true, TSVal: 2, TSEcr: lastOut[0].TCP.Options.TSVal}, nil))
		output()
		c := l.Accept()
		if c == nil {
			t.Fatal("handshake not accepted")
		}
		s.Write(now, c, make([]byte, 6000))
		output()
		buf := make([]byte, 32<<10)
		tsval := uint32(3)
		for k := 0; k+16 <= len(ops) && k < 16*200; k += 16 {
			op := ops[k : k+16]
			flags := wire.Flags(op[1])
			dseq := int32(int16(binary.BigEndian.Uint16(op[2:4])))
			dack := int32(int16(binary.BigEndian.Uint16(op[4:6])))
			payload := make([]byte, int(op[6])*6)
			bits := op[7]
			ts := binary.BigEndian.Uint32(op[8:12])
			e1, e2 := binary.BigEndian.Uint16(op[12:14]), binary.BigEndian.Uint16(op[14:16])
			info := c.Info()
			var o wire.Options
			if bits&1 != 0 {
				o.HasTimestamps, o.TSVal = true, tsval+ts%4096
				if ts&1<<31 != 0 {
					o.TSVal = ts // anywhere: a blind guess
				}
			}
			if bits&2 != 0 {
				o.SACK[0] = wire.SACKBlock{Left: info.SndUna.Add(seq.Size(e1)), Right: info.SndUna.Add(seq.Size(e2))}
				o.NumSACK = 1
			}
			if bits&4 != 0 {
				o.HasMSS, o.MSS = true, uint16(ts)
			}
			if bits&8 != 0 {
				o.HasWScale, o.WScale = true, uint8(ts>>16)
			}
			sq, ack := info.RcvNxt.Add(seq.Size(dseq)), info.SndUna.Add(seq.Size(dack))
			if bits&16 != 0 {
				sq, ack = seq.Value(ts), seq.Value(ts*2654435761)
			}
			switch op[0] & 7 {
			case 0, 1, 2, 3:
				s.Input(now, hostileSeg(40000, flags, sq, ack, o, payload))
			case 4:
				src := netip.AddrFrom4([4]byte{198, 19, op[2], op[3]})
				p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: hostAddr},
					TCP: wire.Segment{SrcPort: binary.BigEndian.Uint16(op[4:6]), DstPort: 80, Seq: seq.Value(ts), Ack: seq.Value(ts * 3),
						Flags: flags, Window: 1000, Options: o, Payload: payload}}
				s.Input(now, p.Append(nil))
			case 5:
				switch op[1] % 5 {
				case 0:
					s.Read(now, c, buf)
				case 1:
					s.Write(now, c, make([]byte, int(dseq&0x3fff)))
				case 2:
					s.Close(now, c)
				case 3:
					for a := l.Accept(); a != nil; a = l.Accept() {
						s.Write(now, a, make([]byte, 100))
						s.Close(now, a)
					}
				case 4:
					c.CloseRead(now)
				}
			case 6:
				now = now.Add(time.Duration(op[1]) * 20 * time.Millisecond)
				if d := s.NextDeadline(); d != clock.Never && d <= now {
					s.HandleTimeout(now)
					if d2 := s.NextDeadline(); d2 < now {
						t.Fatalf("deadline %v still in the past at %v after HandleTimeout", d2, now)
					}
				}
			case 7:
				for j := 0; j < 32; j++ {
					src := netip.AddrFrom4([4]byte{198, 19, op[2], byte(j)})
					p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: hostAddr},
						TCP: wire.Segment{SrcPort: 1024 + uint16(j), DstPort: 80, Seq: seq.Value(ts + uint32(j)), Flags: wire.SYN, Window: 1000, Options: o}}
					s.Input(now, p.Append(nil))
				}
			}
			output()
			tsval += 1
			checkHostileBounds(t, s, l)
		}
	})
}

// hostileOp builds one op of FuzzHostile's input.
func hostileOp(kind, flags byte, dseq, dack int16, n, bits byte, e1, e2 uint16) []byte {
	op := make([]byte, 16)
	op[0], op[1] = kind, flags
	binary.BigEndian.PutUint16(op[2:], uint16(dseq))
	binary.BigEndian.PutUint16(op[4:], uint16(dack))
	op[6], op[7] = n, bits
	binary.BigEndian.PutUint16(op[12:], e1)
	binary.BigEndian.PutUint16(op[14:], e2)
	return op
}

// hostileSeg is a segment from peerAddr:port to the host's port 80.
func hostileSeg(port uint16, flags wire.Flags, sq, ack seq.Value, o wire.Options, payload []byte) []byte {
	p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: peerAddr, Dst: hostAddr},
		TCP: wire.Segment{SrcPort: port, DstPort: 80, Seq: sq, Ack: ack, Flags: flags, Window: 4000, Options: o, Payload: payload}}
	return p.Append(nil)
}

// checkHostileBounds checks the host's bounds after a step of FuzzHostile.
func checkHostileBounds(t *testing.T, s *Stack, l *Listener) {
	t.Helper()
	// The whole connections, without making the half-open ones kept small
	// whole (as Conns would): those hold no buffers.
	var conns []*tcp.Conn
	frozen := 0
	for _, e := range s.order {
		switch {
		case e.removed:
		case e.frozen:
			frozen++
		default:
			conns = append(conns, e.conn)
		}
	}
	if len(conns)+frozen > hostileMaxConns {
		t.Fatalf("%d connections (%d half-open kept small), above MaxConns %d", len(conns)+frozen, frozen, hostileMaxConns)
	}
	if h := l.HalfOpen(); h > hostileSynBacklog || h < 0 {
		t.Fatalf("%d half-open connections, SynBacklog %d", h, hostileSynBacklog)
	}
	if p := l.Pending(); p > hostileBacklog {
		t.Fatalf("%d connections waiting for Accept, backlog %d", p, hostileBacklog)
	}
	// The buffer budget: exceeded by at most the one array that crossed
	// it (twice the largest buffer, rounded up to a power of two) and the
	// 4 KiB of each buffer every connection may have, and a wrapping
	// segment's scratch array.
	if m := s.Memory(); m.BufferBytes < 0 || m.BufferBytes > hostileMemLimit+4*hostileRecvMax+len(conns)*(8<<10+2048) {
		t.Fatalf("%d bytes of buffers for %d connections, budget %d", m.BufferBytes, len(conns), hostileMemLimit)
	}
	for _, c := range conns {
		in := c.Info()
		if in.OutOfOrder < 0 || in.Unread < 0 || in.Unread+in.OutOfOrder > hostileRecvMax {
			t.Fatalf("%v: %d bytes unread and %d out of order, above RecvBufferMax %d", c.Tuple(), in.Unread, in.OutOfOrder, hostileRecvMax)
		}
		if in.RecvBuffer > hostileRecvMax {
			t.Fatalf("%v: receive buffer %d, above RecvBufferMax %d", c.Tuple(), in.RecvBuffer, hostileRecvMax)
		}
		if in.Unacked < 0 || in.Unsent < 0 || in.Unacked+in.Unsent > hostileSendMax {
			t.Fatalf("%v: %d bytes unacknowledged and %d unsent, above SendBufferMax %d", c.Tuple(), in.Unacked, in.Unsent, hostileSendMax)
		}
		if in.SackedBytes < 0 || in.SackedBytes > in.Unacked+1 || in.LostBytes < 0 {
			t.Fatalf("%v: %d bytes SACKed, %d lost, %d unacknowledged", c.Tuple(), in.SackedBytes, in.LostBytes, in.Unacked)
		}
	}
}
