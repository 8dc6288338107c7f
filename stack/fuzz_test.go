package stack

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// FuzzStackInput feeds a host with a listener and an established
// connection a sequence of packets: some raw bytes, most well-formed
// segments whose fields come from the fuzzer. The host must never panic,
// never answer an RST with an RST, and only ever send packets that parse.
func FuzzStackInput(f *testing.F) {
	f.Add([]byte{0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, []byte{0xff})
	f.Add([]byte{0x10, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0x12, 0x34, 9}, []byte{0x45, 0, 0, 20})
	f.Fuzz(func(t *testing.T, ops []byte, raw []byte) {
		s := newHost(t, hostAddr, nil)
		s.Listen(80, 2)
		s.Input(0, packet(40000, 80, wire.SYN, 7000, 0, ""))
		check := func(now clock.Time, in wire.Flags) {
			n := 0
			s.Output(now, func(b []byte) {
				if n++; n > 10000 {
					t.Fatalf("one Output call sent more than 10000 packets: a runaway loop")
				}
				p, err := wire.ParsePacket(b)
				if err != nil {
					t.Fatalf("sent an unparseable packet: %v", err)
				}
				if in&wire.RST != 0 && p.TCP.Flags&wire.RST != 0 && p.TCP.DstPort == 40000 && p.TCP.Window == 0 && p.TCP.Flags&wire.SYN == 0 && len(s.Conns()) == 0 {
					t.Fatalf("answered an RST with an RST: %v", p.String())
				}
			})
		}
		check(0, 0)
		if c := s.Conns(); len(c) == 1 {
			s.Input(0, packet(40000, 80, wire.ACK, 7001, c[0].ISS().Add(1), ""))
		}
		now := clock.Time(0)
		s.Input(now, raw)
		check(now, 0)
		for len(ops) >= 14 {
			op := ops[:14]
			ops = ops[14:]
			flags := wire.Flags(op[0])
			port := []uint16{80, 81, 40000}[int(op[1])%3]
			src := uint16(40000 + int(op[2])%3)
			base := seq.Value(7001)
			if c := s.Conns(); len(c) > 0 {
				base = c[0].Info().RcvNxt
			}
			sq := base.Add(seq.Size(int32(binary.BigEndian.Uint16(op[3:5])) - 1000))
			ack := seq.Value(binary.BigEndian.Uint32(op[5:9]))
			if op[9]&1 == 0 && len(s.Conns()) > 0 {
				ack = s.Conns()[0].Info().SndNxt.Add(seq.Size(int32(int8(op[10]))))
			}
			payload := make([]byte, int(op[11])%64)
			s.Input(now, packet(src, port, flags, sq, ack, string(payload)))
			check(now, flags)
			now = now.Add(time.Duration(op[12]) * 10 * time.Millisecond)
			if op[13]&1 == 1 {
				s.HandleTimeout(now)
				check(now, 0)
			}
			if d := s.NextDeadline(); d < now && d != clock.Never {
				s.HandleTimeout(now)
				check(now, 0)
				if d2 := s.NextDeadline(); d2 < now {
					t.Fatalf("deadline %v still in the past at %v after HandleTimeout", d2, now)
				}
			}
		}
	})
}
