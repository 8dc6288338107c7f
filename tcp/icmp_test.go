package tcp

import (
	"errors"
	"testing"

	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/wire"
)

// RFC 5927 §4.1: "TCP SHOULD check that the TCP sequence number contained
// in the payload of the ICMP error message is within the range SND.UNA =<
// SEG.SEQ < SND.NXT". A Packet Too Big, a hard error or a soft error that
// quotes a sequence number outside it changes nothing: no MSS change, no
// resend, no abort, no soft error noted.
func TestICMPQuoteOutsideWindowChangesNothing(t *testing.T) {
	f := newEstablished(t)
	d := data('a', 3000)
	f.write(t, ms(200), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	iss := f.c.ISS()
	for _, sq := range []seq.Value{iss, iss.Add(3001), iss.Add(100000), iss - 5000} {
		for _, m := range []ICMPError{
			{MSS: 1240, Seq: sq, What: "packet-too-big"},
			{Err: ErrConnRefused, Hard: true, Seq: sq, What: "port-unreachable"},
			{Err: ErrHostUnreachable, Seq: sq, What: "host-unreachable"},
		} {
			if r := f.c.HandleICMP(f.now, &m); r != ICMPInvalid {
				t.Fatalf("%s quoting seq=%v (SND.UNA=%v SND.NXT=%v): %v, want ICMPInvalid", m.What, sq, iss.Add(1), iss.Add(3001), r)
			}
		}
	}
	f.wantNothing(t)
	f.wantState(t, Established)
	if in := f.c.Info(); in.MSS != 1460 || f.c.SoftError() != nil {
		t.Fatalf("MSS %d, soft error %v after invalid ICMP errors", in.MSS, f.c.SoftError())
	}
}

// RFC 8201 §4: "Upon receipt of such a message, the source node reduces its
// assumed PMTU for the path based on the MTU of the constricting hop as
// reported in the Packet Too Big message." The segments in flight that no
// longer fit were lost at the constricting hop: they are re-cut to the new
// MSS and resent at once, without waiting for the RTO; the short one that
// fits is not resent. Later data goes in the smaller segments.
func TestICMPPacketTooBigRecutsAndResends(t *testing.T) {
	f := newEstablished(t)
	d := data('b', 3000)
	f.write(t, ms(200), d)
	f.want(t, "three segments",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1460]},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2920]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 2921, Ack: 1, Data: d[2920:]})
	f.setTime(t, ms(250))
	// A 1280-byte path MTU over IPv6: 1280 - 40 - 20 = 1220.
	m := ICMPError{MSS: 1220, Seq: f.c.ISS().Add(1461), What: "ICMPv6 packet-too-big mtu=1280"}
	if r := f.c.HandleICMP(f.now, &m); r != ICMPMSSLowered {
		t.Fatalf("valid Packet Too Big: %v, want ICMPMSSLowered", r)
	}
	f.want(t, "the two full segments, re-cut to 1220 bytes, at once",
		seg{Flags: wire.ACK, Seq: 1, Ack: 1, Data: d[:1220], Rtx: true},
		seg{Flags: wire.ACK, Seq: 1221, Ack: 1, Data: d[1220:1460], Rtx: true},
		seg{Flags: wire.ACK, Seq: 1461, Ack: 1, Data: d[1460:2680], Rtx: true},
		seg{Flags: wire.ACK, Seq: 2681, Ack: 1, Data: d[2680:2920], Rtx: true})
	if in := f.c.Info(); in.MSS != 1220 {
		t.Fatalf("MSS %d after the Packet Too Big, want 1220", in.MSS)
	}
	// "A node MUST NOT increase its estimate of the Path MTU in response to
	// the contents of a Packet Too Big message."
	up := ICMPError{MSS: 1400, Seq: f.c.ISS().Add(1), What: "packet-too-big"}
	if r := f.c.HandleICMP(f.now, &up); r != ICMPNoChange {
		t.Fatalf("a larger MTU: %v, want ICMPNoChange", r)
	}
	f.send(t, ms(350), seg{Flags: wire.ACK, Seq: 1, Ack: 3001})
	d2 := data('c', 2000)
	f.write(t, ms(360), d2)
	f.want(t, "new data in 1220-byte segments",
		seg{Flags: wire.ACK, Seq: 3001, Ack: 1, Data: d2[:1220]},
		seg{Flags: wire.PSH | wire.ACK, Seq: 4221, Ack: 1, Data: d2[1220:]})
}

// RFC 1122 §4.2.3.9: "Destination Unreachable -- codes 2-4: These are hard
// error conditions, so TCP SHOULD abort the connection." In SYN-SENT the
// attempt ends with the error the message means (RFC 5461 §4.1).
func TestICMPHardErrorInSynSent(t *testing.T) {
	for _, tc := range []struct {
		what string
		err  error
	}{
		{"ICMP dest-unreachable port-unreachable", ErrConnRefused},
		{"ICMPv6 dest-unreachable admin-prohibited", ErrHostUnreachable},
	} {
		f := newSynSent(t)
		m := ICMPError{Err: tc.err, Hard: true, Seq: f.c.ISS(), What: tc.what}
		if r := f.c.HandleICMP(f.now, &m); r != ICMPAborted {
			t.Fatalf("%s: %v, want ICMPAborted", tc.what, r)
		}
		f.wantNothing(t)
		f.wantEnded(t, tc.err)
	}
}

// RFC 1122 §4.2.3.9: "Destination Unreachable -- codes 0, 1, 5: Since these
// Unreachable messages indicate soft error conditions, TCP MUST NOT abort
// the connection, and it SHOULD make the information available to the
// application. ... it could merely note the message and report it to the
// application only when and if the TCP connection times out." A hard error
// in ESTABLISHED is taken as soft (RFC 5461 §4).
func TestICMPSoftErrorReportedOnTimeout(t *testing.T) {
	f := newSynSent(t)
	m := ICMPError{Err: ErrHostUnreachable, Seq: f.c.ISS(), What: "ICMP dest-unreachable host-unreachable"}
	if r := f.c.HandleICMP(f.now, &m); r != ICMPSoftError {
		t.Fatalf("soft error: %v, want ICMPSoftError", r)
	}
	f.wantState(t, SynSent)
	for i := 0; f.c.State() == SynSent && i < 20; i++ {
		f.advance(t, f.c.NextDeadline())
		f.output(t)
	}
	err := f.c.Err()
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, ErrHostUnreachable) {
		t.Fatalf("Err() = %v, want the timeout with the host unreachable", err)
	}

	e := newEstablished(t)
	e.write(t, ms(200), data('d', 100))
	e.output(t)
	h := ICMPError{Err: ErrConnRefused, Hard: true, Seq: e.c.ISS().Add(1), What: "ICMP dest-unreachable port-unreachable"}
	if r := e.c.HandleICMP(e.now, &h); r != ICMPSoftError {
		t.Fatalf("hard error in ESTABLISHED: %v, want ICMPSoftError", r)
	}
	e.wantState(t, Established)
	if e.c.SoftError() != ErrConnRefused || e.c.Err() != nil {
		t.Fatalf("soft error %v, Err %v", e.c.SoftError(), e.c.Err())
	}
}
