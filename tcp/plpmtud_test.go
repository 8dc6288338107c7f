package tcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/wire"
)

// RFC 4821 §7.7: "If PLPMTUD is enabled ... the Packetization Layer
// SHOULD use the loss of full-sized segments ... to detect a black hole",
// and Linux with tcp_mtu_probing=1 then falls back to tcp_base_mss: the
// first two timeouts resend the 1460-byte segment; the third finds a black
// hole, re-cuts what is in flight to BaseMSS and resends it in segments
// of at most 1024 bytes.
func TestBlackHoleFallsBackToBaseMSS(t *testing.T) {
	f := newEstablished(t)
	d := data('p', 3000)
	f.write(t, ms(200), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	for i, at := range []clock.Time{ms(500), ms(1100)} {
		f.advance(t, at)
		f.want(t, "timeout "+string(rune('1'+i))+": the full-sized segment again",
			seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460], Rtx: true})
		if in := f.c.Info(); in.MSS != 1460 {
			t.Fatalf("MSS %d after %d timeouts, want 1460", in.MSS, i+1)
		}
	}
	f.advance(t, ms(2300))
	// Each 1460-byte segment is re-cut into 1024 and 436 bytes; the loss
	// window, one SMSS of the congestion controller (which still counts
	// 1460 bytes), lets the first two go.
	f.want(t, "timeout 3: a black hole; the first segment re-cut to 1024 + 436 bytes",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1024], Rtx: true},
		seg{Flags: wire.ACK, Seq: 1025, Ack: 1, Data: d[1024:1460], Rtx: true})
	if in := f.c.Info(); in.MSS != BaseMSS {
		t.Fatalf("MSS %d after %d timeouts of full-sized segments, want %d", in.MSS, BlackHoleRTOs, BaseMSS)
	}
	f.send(t, ms(2400), seg{Flags: wire.ACK, Seq: 1, Ack: 1461})
	f.want(t, "the rest, the second segment re-cut likewise",
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2484], Rtx: true},
		seg{Flags: wire.ACK, Seq: 2485, Ack: 1, Data: d[2484:2920], Rtx: true},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:], Rtx: true})
}

// A timeout of a segment shorter than the MSS says nothing about the path
// MTU (RFC 4821 §7.7 counts only full-sized segments): the MSS stays.
func TestBlackHoleNotOnShortSegment(t *testing.T) {
	f := newEstablished(t)
	d := data('q', 500)
	f.write(t, ms(200), d)
	f.want(t, "one short segment", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
	for _, at := range []clock.Time{ms(500), ms(1100), ms(2300), ms(4700)} {
		f.advance(t, at)
		f.want(t, "the short segment again", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d, Rtx: true})
	}
	if in := f.c.Info(); in.MSS != 1460 {
		t.Fatalf("MSS %d after timeouts of a short segment, want 1460", in.MSS)
	}
}

// blackHoled drives a connection through TestBlackHoleFallsBackToBaseMSS's
// fallback: 3000 bytes whose full-sized segments time out three times, the
// re-cut segments acknowledged at 2.4 s and 2.5 s. It returns the fixture
// at 2.5 s with SendMSS at BaseMSS, and the data, whose byte at relative
// sequence number n is all[n-1], 30000 bytes more written at 2.5 s.
func blackHoled(t *testing.T) (*fixture, []byte) {
	t.Helper()
	f := newEstablished(t)
	all := append(data('p', 3000), data('r', 30000)...)
	f.write(t, ms(200), all[:3000])
	f.output(t)
	for _, at := range []clock.Time{ms(500), ms(1100), ms(2300)} {
		f.advance(t, at)
		f.output(t)
	}
	f.send(t, ms(2400), seg{Flags: wire.ACK, Seq: 1, Ack: 1461})
	f.output(t)
	f.send(t, ms(2500), seg{Flags: wire.ACK, Seq: 1, Ack: 3001})
	if in := f.c.Info(); in.MSS != BaseMSS {
		t.Fatalf("MSS %d after the black hole, want %d", in.MSS, BaseMSS)
	}
	f.write(t, ms(2500), all[3000:])
	return f, all
}

// run is n segments of size bytes of all from relative sequence number s.
func run(all []byte, s uint32, n, size int) []seg {
	var out []seg
	for range n {
		out = append(out, seg{Flags: wire.ACK, Seq: s, Ack: 1, Data: all[s-1 : int(s)-1+size]})
		s += uint32(size)
	}
	return out
}

// toFirstProbe takes a blackHoled connection, its peer acknowledging each
// flight 100 ms later, to its first probe at 2.8 s: RFC 4821 §7.2's
// search_low is BaseMSS ("a value of 1024 bytes is probably safe
// enough"), search_high the SendMSS of 1460 the connection had, and the
// probe is the middle, 1242 bytes (a binary search as Linux's
// tcp_mtu_probe), of new data, followed by the dupThresh segments of 1024
// bytes whose ACKs tell of its loss. It goes once the congestion window
// holds the probe and those three.
func toFirstProbe(t *testing.T) (*fixture, []byte) {
	t.Helper()
	f, all := blackHoled(t)
	f.want(t, "slow start from one segment after the timeouts, at SendMSS", run(all, 3001, 2, 1024)...)
	f.send(t, ms(2600), seg{Flags: wire.ACK, Seq: 1, Ack: 5049})
	f.want(t, "the window grows", run(all, 5049, 3, 1024)...)
	f.send(t, ms(2700), seg{Flags: wire.ACK, Seq: 1, Ack: 8121})
	f.want(t, "the window grows, not yet enough for a probe and three segments", run(all, 8121, 4, 1024)...)
	f.send(t, ms(2800), seg{Flags: wire.ACK, Seq: 1, Ack: 12217})
	f.want(t, "the probe of 1242 bytes, then three segments of 1024",
		append(run(all, 12217, 1, 1242), run(all, 13459, 3, 1024)...)...)
	return f, all
}

// RFC 4821 §7.6.1: "When the probe is delivered, it is an indication that
// the Path MTU is at least as large as the probe size. Set search_low to
// the probe size. If the probe size is larger than the eff_pmtu, the
// eff_pmtu SHOULD be raised to the probe size." SendMSS rises to 1242, and
// the next probe is the middle of 1242..1460: 1351 bytes.
func TestProbeDeliveredRaisesMSS(t *testing.T) {
	f, all := toFirstProbe(t)
	f.send(t, ms(2900), seg{Flags: wire.ACK, Seq: 1, Ack: 16531})
	if in := f.c.Info(); in.MSS != 1242 {
		t.Fatalf("MSS %d after the probe of 1242 was acknowledged, want 1242", in.MSS)
	}
	f.want(t, "the next probe, 1351 bytes, then three segments of the new SendMSS",
		append(run(all, 16531, 1, 1351), run(all, 17882, 3, 1242)...)...)
	f.send(t, ms(3000), seg{Flags: wire.ACK, Seq: 1, Ack: 21608})
	f.want(t, "the next probe, 1406 bytes (1351..1460), then three segments of 1351",
		append(run(all, 21608, 1, 1406), run(all, 23014, 3, 1351)...)...)
}

// RFC 4821 §7.6.2: "When only the probe is lost, it is treated as an
// indication that the Path MTU is smaller than the probe size. In this
// case alone, the loss SHOULD NOT be interpreted as congestion signal."
// The probe's 1242 bytes are lost, the three segments after it arrive and
// are answered by duplicate ACKs (no SACK here): the third marks the probe
// lost, its data is re-cut to SendMSS and resent at once; the congestion
// window stays, no recovery starts, search_high falls to 1241 and the
// next probe, once the data is acknowledged, is the middle of 1024..1241.
func TestProbeLostIsNoCongestion(t *testing.T) {
	f, all := toFirstProbe(t)
	cwnd := f.c.cc.Window()
	f.send(t, ms(2900), seg{Flags: wire.ACK, Seq: 1, Ack: 12217})
	f.want(t, "limited transmit (RFC 3042) on the first duplicate ACK", run(all, 16531, 1, 1024)...)
	f.send(t, ms(2910), seg{Flags: wire.ACK, Seq: 1, Ack: 12217})
	f.want(t, "limited transmit on the second", run(all, 17555, 1, 1024)...)
	f.send(t, ms(2920), seg{Flags: wire.ACK, Seq: 1, Ack: 12217})
	f.want(t, "the third: the probe's data again, re-cut to 1024 + 218 bytes, both at once (they replace the probe)",
		seg{Flags: wire.ACK, Seq: 12217, Ack: 1, Data: all[12216 : 12216+1024], Rtx: true},
		seg{Flags: wire.ACK, Seq: 13241, Ack: 1, Data: all[13240 : 13240+218], Rtx: true})
	if got := f.c.cc.Window(); got != cwnd {
		t.Errorf("congestion window %d after the probe's loss, want %d unchanged", got, cwnd)
	}
	if st := f.c.Stats(); st.FastRecoveries != 0 {
		t.Errorf("%d fast recoveries after the loss of the probe alone, want 0", st.FastRecoveries)
	}
	if in := f.c.Info(); in.MSS != BaseMSS {
		t.Errorf("MSS %d after the probe's loss, want %d", in.MSS, BaseMSS)
	}
	f.send(t, ms(3100), seg{Flags: wire.ACK, Seq: 1, Ack: 18579})
	f.want(t, "the next probe: the middle of 1024..1241, 1133 bytes, then segments of 1024 as the window allows",
		append(run(all, 18579, 1, 1133), run(all, 19712, 4, 1024)...)...)
}

// After an ICMP Packet Too Big lowered SendMSS to 1200, the search upward
// waits: RFC 1191 §3, "An attempt to detect an increase (by sending a
// datagram larger than the current estimate) MUST NOT be done less than
// 5 minutes after a Datagram Too Big message has been received ... We
// recommend setting these timers at twice their minimum values" (RFC 8201
// §4 likewise), and Linux re-probes after tcp_probe_interval, 600 s. Data
// written before ProbeInterval has passed goes in 1200-byte segments;
// after it, the first segment is a probe of the middle of 1200..1460.
func TestProbeUpwardAfterICMP(t *testing.T) {
	f := newEstablished(t)
	d := data('i', 1000)
	f.write(t, ms(200), d)
	f.want(t, "one segment", seg{Flags: wire.PSH | wire.ACK, Seq: 1, Ack: 1, Data: d})
	f.setTime(t, ms(250))
	m := ICMPError{MSS: 1200, Seq: f.c.ISS().Add(1), What: "ICMP frag-needed mtu=1240"}
	if r := f.c.HandleICMP(f.now, &m); r != ICMPMSSLowered {
		t.Fatalf("valid Fragmentation Needed: %v, want ICMPMSSLowered", r)
	}
	f.send(t, ms(300), seg{Flags: wire.ACK, Seq: 1, Ack: 1001})
	all := append(d, data('j', 20000)...)
	f.write(t, sec(600), all[1000:11000])
	f.want(t, "599.75 s after the message: no probe, 1200-byte segments",
		append(run(all, 1001, 8, 1200), seg{Flags: wire.PSH | wire.ACK, Seq: 10601, Ack: 1, Data: all[10600:11000]})...)
	f.send(t, ms(600100), seg{Flags: wire.ACK, Seq: 1, Ack: 11001})
	f.write(t, ms(600250), all[11000:])
	want := append(run(all, 11001, 1, 1330), run(all, 12331, 7, 1200)...)
	f.want(t, "600 s after: a probe of 1330 bytes first, then the rest in 1200-byte segments",
		append(want, seg{Flags: wire.PSH | wire.ACK, Seq: 20731, Ack: 1, Data: all[20730:]})...)
	f.send(t, ms(600350), seg{Flags: wire.ACK, Seq: 1, Ack: 21001})
	if in := f.c.Info(); in.MSS != 1330 {
		t.Fatalf("MSS %d after the probe was acknowledged, want 1330", in.MSS)
	}
}

// A search whose probes are all lost ends when search_high - search_low
// is below ProbeThreshold, and starts again ProbeInterval later from the
// connection's first SendMSS (Linux's tcp_mtu_check_reprobe after
// tcp_probe_interval), so that a path whose MTU grew is found. Here the
// path takes 1400 (an ICMP message said so) and loses the probes of 1430,
// 1415 and 1407 (the middles of 1400..1460, 1400..1429, 1400..1414):
// search_high is 1406 and the search ends; 600 s after, a probe of 1430
// goes again.
func TestProbeSearchRestartsAfterInterval(t *testing.T) {
	f := newEstablished(t)
	d := data('k', 1000)
	f.write(t, ms(200), d)
	f.output(t)
	f.setTime(t, ms(250))
	m := ICMPError{MSS: 1400, Seq: f.c.ISS().Add(1), What: "ICMP frag-needed mtu=1440"}
	if r := f.c.HandleICMP(f.now, &m); r != ICMPMSSLowered {
		t.Fatalf("valid Fragmentation Needed: %v, want ICMPMSSLowered", r)
	}
	f.send(t, ms(300), seg{Flags: wire.ACK, Seq: 1, Ack: 1001})
	all := append(d, data('l', 200000)...)
	f.write(t, ms(600250), all[1000:61000])
	var probes []int
	at := ms(600250)
	for i := 0; i < 40 && f.c.search().high-f.c.search().low >= ProbeThreshold; i++ {
		for _, e := range f.output(t) {
			if n := len(e.seg.Payload); n > 1400 && !e.rtx {
				probes = append(probes, n)
			}
		}
		at += ms(100)
		if s := f.c.search(); s.probeMSS != 0 {
			// The probe is lost: the peer repeats its ACK for what came
			// after it.
			ack := uint32(s.probeStart.Size(f.c.ISS()))
			for j := range 3 {
				f.send(t, at+clock.Time(j)*ms(1), seg{Flags: wire.ACK, Seq: 1, Ack: ack})
				f.output(t)
			}
			at += ms(10)
		}
		f.send(t, at, seg{Flags: wire.ACK, Seq: 1, Ack: uint32(f.c.sndNxt.Size(f.c.ISS()))})
	}
	if fmt.Sprint(probes) != "[1430 1415 1407]" {
		t.Fatalf("probes of %v, want [1430 1415 1407]", probes)
	}
	if s := f.c.search(); s.low != 1400 || s.high != 1406 || f.c.Info().MSS != 1400 {
		t.Fatalf("search %d..%d, MSS %d after the lost probes, want 1400..1406 and 1400", s.low, s.high, f.c.Info().MSS)
	}
	// The search ended at the third duplicate ACK of the last probe.
	ended := at - ms(8)
	for i := 0; i < 10 && f.c.sndUna != f.c.ISS().Add(61001); i++ {
		f.output(t)
		at += ms(100)
		f.send(t, at, seg{Flags: wire.ACK, Seq: 1, Ack: uint32(f.c.sndNxt.Size(f.c.ISS()))})
	}
	if f.c.sndUna != f.c.ISS().Add(61001) || f.c.search().next != ended.Add(ProbeInterval) {
		t.Fatalf("SND.UNA %v, the next search at %v; want all 61000 bytes acknowledged and %v", f.c.sndUna.Size(f.c.ISS()), f.c.search().next, ended.Add(ProbeInterval))
	}
	f.write(t, ended.Add(ProbeInterval-time.Second), all[61000:65200])
	f.want(t, "599 s after the search ended: 1400-byte segments",
		append(run(all, 61001, 2, 1400), seg{Flags: wire.PSH | wire.ACK, Seq: 63801, Ack: 1, Data: all[63800:65200]})...)
	f.send(t, ended.Add(ProbeInterval-time.Second+100*time.Millisecond), seg{Flags: wire.ACK, Seq: 1, Ack: 65201})
	f.write(t, ended.Add(ProbeInterval), all[65200:75200])
	f.want(t, "600 s after: the search again from 1400..1460, a probe of 1430 first",
		append(append(run(all, 65201, 1, 1430), run(all, 66631, 6, 1400)...),
			seg{Flags: wire.PSH | wire.ACK, Seq: 75031, Ack: 1, Data: all[75030:75200]})...)
}

// A probe that times out is resent at SendMSS, not at its own size, which
// the path just showed it may not carry: RFC 4821 §7.6.2 takes the probe
// as lost like any other segment ("search_high" falls below it), and RFC
// 6298 (5.4), "Retransmit the earliest segment that has not been
// acknowledged", resends its first 1024 bytes; the timeout's response to
// congestion stands (the probe was not all that was lost).
func TestProbeTimeoutResendsAtSendMSS(t *testing.T) {
	f, all := toFirstProbe(t)
	f.advance(t, f.c.rtoAt)
	f.want(t, "the timeout: the probe's data re-cut, 1024 + 218 bytes, within the one-segment window",
		seg{Flags: wire.ACK, Seq: 12217, Ack: 1, Data: all[12216 : 12216+1024], Rtx: true},
		seg{Flags: wire.ACK, Seq: 13241, Ack: 1, Data: all[13240 : 13240+218], Rtx: true})
	if s := f.c.search(); s.high != 1241 || s.probeMSS != 0 || f.c.Info().MSS != BaseMSS {
		t.Fatalf("search_high %d, probe %d, MSS %d after the probe timed out; want 1241, none, %d", s.high, s.probeMSS, f.c.Info().MSS, BaseMSS)
	}
}

// A Fragmentation Needed about the probe: RFC 1191 §3, "When a host
// receives a Datagram Too Big message, it MUST reduce its estimate of the
// PMTU for the relevant path, based on the value of the Next-Hop MTU field
// in the message". SendMSS (1024) is below it and stays, but search_high
// falls to the message's 1240, and stays there when the probe is then
// found lost: the next probe is the middle of 1024..1240, 1132 bytes (not
// 1133, the middle of 1024..1241, as the loss alone would give).
func TestProbeICMPSetsSearchHigh(t *testing.T) {
	f, all := toFirstProbe(t)
	f.setTime(t, ms(2850))
	m := ICMPError{MSS: 1240, Seq: f.c.ISS().Add(12217), What: "ICMP frag-needed mtu=1280"}
	if r := f.c.HandleICMP(f.now, &m); r != ICMPNoChange {
		t.Fatalf("Fragmentation Needed above SendMSS: %v, want ICMPNoChange", r)
	}
	for i := range 3 {
		f.send(t, ms(2900)+clock.Time(i)*ms(10), seg{Flags: wire.ACK, Seq: 1, Ack: 12217})
		f.output(t)
	}
	f.send(t, ms(3100), seg{Flags: wire.ACK, Seq: 1, Ack: 18579})
	f.want(t, "the next probe: the middle of 1024..1240, 1132 bytes, then segments of 1024 as the window allows",
		append(run(all, 18579, 1, 1132), run(all, 19711, 4, 1024)...)...)
}
