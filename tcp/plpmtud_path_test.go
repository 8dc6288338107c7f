package tcp

import (
	"testing"

	"github.com/gosynack/synack/wire"
)

// PathNews hands the stack, once, what the connection learnt for its
// destination's path MTU (RFC 4821 §5.2, stack/pmtu.go): the black hole's
// fallback to BaseMSS, then the acknowledged probe's size (RFC 4821
// §7.6.1: "When the probe is delivered, it is an indication that the Path
// MTU is at least as large as the probe size").
func TestPathNews(t *testing.T) {
	f, _ := blackHoled(t)
	if n, mss := f.c.PathNews(); n != PathBlackHole || mss != BaseMSS {
		t.Fatalf("after the black hole: %v %d, want PathBlackHole %d", n, mss, BaseMSS)
	}
	if n, mss := f.c.PathNews(); n != NoPathNews || mss != 0 {
		t.Fatalf("asked again: %v %d, want nothing", n, mss)
	}
	f, _ = toFirstProbe(t)
	f.c.PathNews()
	f.send(t, ms(2900), seg{Flags: wire.ACK, Seq: 1, Ack: 16531})
	if n, mss := f.c.PathNews(); n != PathProbed || mss != 1242 {
		t.Fatalf("after the probe's ACK: %v %d, want PathProbed 1242", n, mss)
	}
	if n, _ := newEstablished(t).c.PathNews(); n != NoPathNews {
		t.Fatalf("a connection that learnt nothing: %v", n)
	}
}

// SetPathMSS bounds the handshake's SendMSS by the stack's cached path MTU
// (RFC 9293 §3.7.1: the effective send MSS "MUST be the smaller ... of
// the send MSS ... and the largest transmission size permitted by the IP
// layer"), not the MSS option of the SYN, which went with the link's 1460
// (RFC 1191 §6.4: "PMTU Discovery does not affect the value sent in the
// TCP MSS option"). From the cache entry's deadline, 600 s here, the
// connection searches upward: its first flight then is a probe of 1330
// bytes, the middle of 1200..1460.
func TestSetPathMSS(t *testing.T) {
	f := newSynSent(t)
	f.c.SetPathMSS(ms(50), 1200, sec(600))
	f.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1460})
	f.want(t, "the SYN-ACK is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: f.recvWin()})
	if in := f.c.Info(); in.MSS != 1200 {
		t.Fatalf("SendMSS %d, want the cached 1200", in.MSS)
	}
	all := data('s', 21000)
	f.write(t, ms(200), all[:3000])
	f.want(t, "segments of the cached MSS",
		append(run(all, 1, 2, 1200), seg{Flags: wire.PSH | wire.ACK, Seq: 2401, Ack: 1, Data: all[2400:3000]})...)
	f.send(t, ms(300), seg{Flags: wire.ACK, Seq: 1, Ack: 3001})
	f.write(t, sec(600)-1, all[3000:11000])
	f.want(t, "before the deadline: no probe",
		append(run(all, 3001, 6, 1200), seg{Flags: wire.PSH | wire.ACK, Seq: 10201, Ack: 1, Data: all[10200:11000]})...)
	f.send(t, sec(600), seg{Flags: wire.ACK, Seq: 1, Ack: 11001})
	f.write(t, sec(600), all[11000:])
	want := append(run(all, 11001, 1, 1330), run(all, 12331, 7, 1200)...)
	f.want(t, "at the deadline: a probe of 1330 bytes first, then 1200-byte segments",
		append(want, seg{Flags: wire.PSH | wire.ACK, Seq: 20731, Ack: 1, Data: all[20730:]})...)
	// A path MSS no smaller than the handshake's changes nothing.
	g := newSynSent(t)
	g.c.SetPathMSS(ms(50), 1460, sec(600))
	g.send(t, ms(100), seg{Flags: wire.SYN | wire.ACK, Ack: 1, MSS: 1400})
	g.want(t, "the SYN-ACK is acknowledged", seg{Flags: wire.ACK, Seq: 1, Ack: 1, Win: g.recvWin()})
	if in := g.c.Info(); in.MSS != 1400 || g.c.search() != nil {
		t.Fatalf("SendMSS %d, search %v: want the peer's 1400 and no search", in.MSS, g.c.search())
	}
}
