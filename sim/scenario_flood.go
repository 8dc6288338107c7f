package sim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/wire"
)

// The syn-flood scenario: floodSYNs spoofed SYNs, one every millisecond
// from 0, against a SYN queue of floodQueue; the real client connects at
// floodClientAt, when the queue is full.
const (
	floodSYNs     = 64
	floodQueue    = 16
	floodClientAt = 100 * time.Millisecond
	// attacker is the flooding host: the caption's word, in the note
	// listing the hosts the ladder leaves out.
	attacker = "attacker"
)

// spooferAddr is the flooding host's own address; the SYNs it sends
// carry other, random, source addresses of 198.19.0.0/16, where no host
// answers.
var spooferAddr = netip.MustParseAddr("198.18.0.66")

func init() {
	register(&Scenario{
		Name:  "syn-flood",
		Title: "A SYN flood: spoofed SYNs fill the SYN queue, SYN cookies let a real client in",
		Caption: `An attacker sends 64 SYNs in 64 ms, each from a forged source address where no host
answers. For every SYN the server's listener keeps a half-open connection in SYN-RECEIVED and
sends a SYN-ACK that nobody will acknowledge; its SYN queue (16 here; Linux's
tcp_max_syn_backlog) is full after 16 of them, and each entry stays for about a minute while its
SYN-ACK is retransmitted 5 times (RFC 4987 §2); while the queue is more than half full, those
whose SYN-ACK went unanswered longest are given up after 2 retransmissions, not 5, as Linux
prunes its queue (8 of the 16 here). Without defence every further SYN, the real client's too,
would be dropped. With SYN cookies (RFC 4987 §3.6, on by default when the queue is
full, as in Linux) the server keeps no state for the SYNs it cannot queue: it answers each with a
SYN-ACK whose initial sequence number is a keyed MAC of the connection's addresses, ports, the
time and the client's MSS (the cookie). Only a client that received it can return it in the
third ACK of the three-way handshake (ack = cookie + 1); the server checks the MAC and only then
creates the connection. The ladder shows the real client's handshake through the flood: the
server stays in LISTEN when its SYN arrives, and goes through SYN-RECEIVED to ESTABLISHED only
when the ACK brings the cookie back. The spoofed SYNs come from other addresses; they are
counted below.`,
		Client: []Step{At(floodClientAt), Connect(serverName, 80), WaitEstablished(), Write(Request), ReadN(len(Response)), Close(), ReadEOF()},
		Server: httpServer,
		configure: func(host string, c *stack.Config) {
			if host == serverName {
				c.SynBacklog = floodQueue
			}
		},
		setup:     floodSetup,
		Check:     checkFlood,
		figures:   floodFigures,
		Essential: func(r *Run) error { return checkHTTP(r.World) },
	})
}

// floodSetup adds the spoofing host and schedules its SYNs, and samples
// the server's SYN queue when the real client's SYN is due.
func floodSetup(w *World) error {
	if err := w.Network().AddHost(attacker, spooferAddr); err != nil {
		return err
	}
	link := netsim.Impairment{Latency: 50 * time.Millisecond}
	if err := w.Network().SetPath(attacker, serverName, link); err != nil {
		return err
	}
	// The stream keeps the name the host had first, so that the run is
	// the one it always was.
	rng := rand.New(rand.NewPCG(w.streamSeed("spoofer"), 0))
	for i := range floodSYNs {
		src := netip.AddrFrom4([4]byte{198, 19, byte(rng.Uint32()), byte(rng.Uint32())})
		p := wire.Packet{IP: wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: src, Dst: ServerAddr},
			TCP: wire.Segment{SrcPort: uint16(1024 + rng.Uint32()%60000), DstPort: 80, Seq: seq.Value(rng.Uint32()), Flags: wire.SYN, Window: 65535,
				Options: wire.Options{HasMSS: true, MSS: 1460}}}
		pkt := p.Append(nil)
		at := clock.Time(time.Duration(i) * time.Millisecond)
		w.At(at, func() { w.Network().Send(at, attacker, pkt) })
	}
	// The client's SYN reaches the server one latency after it is sent.
	w.At(clock.Time(floodClientAt+50*time.Millisecond), func() {
		if l := w.Host(serverName).prog.listener; l != nil {
			w.sample("half-open", l.HalfOpen())
		}
	})
	return nil
}

// checkFlood wants the SYN queue full when the client's SYN came, a
// cookie for it and for each spoofed SYN the queue could not hold, the
// client's cookie validated, and the exchange done.
func checkFlood(w *World) error {
	var errs []error
	if got := w.samples["half-open"]; got != floodQueue {
		errs = append(errs, fmt.Errorf("the SYN queue held %d half-open connections when the client's SYN came, want it full (%d)", got, floodQueue))
	}
	c := w.Host(serverName).Stack.Counters()
	if c.SyncookiesSent != floodSYNs-floodQueue+1 || c.SyncookiesRecv != 1 || c.SyncookiesFailed != 0 {
		errs = append(errs, fmt.Errorf("cookies sent %d, validated %d, failed %d; want %d, 1, 0", c.SyncookiesSent, c.SyncookiesRecv, c.SyncookiesFailed, floodSYNs-floodQueue+1))
	}
	// The queue's half-open connections, given up after their SYN-ACK
	// retries, and the client's, made when its cookie came back.
	if c.PassiveOpens != floodQueue+1 || c.AttemptFails != floodQueue {
		errs = append(errs, fmt.Errorf("%d passive opens and %d given up, want %d and %d", c.PassiveOpens, c.AttemptFails, floodQueue+1, floodQueue))
	}
	if n := retrans(w.Host(clientName)); n != 0 {
		errs = append(errs, fmt.Errorf("the client retransmitted %d segments, want none: the cookie let its first SYN in", n))
	}
	return errors.Join(append(errs, checkHTTP(w))...)
}

func floodFigures(r *Run) []message {
	c := r.World.Host(serverName).Stack.Counters()
	return []message{
		{"spoofed SYNs: %d; the SYN queue held %d of %d when the real client's SYN arrived", []any{floodSYNs, r.World.samples["half-open"], floodQueue}},
		{"server: SyncookiesSent %d, SyncookiesRecv %d, SyncookiesFailed %d; PassiveOpens %d (the queue's and the client's), AttemptFails %d (given up after their SYN-ACK retries)",
			[]any{c.SyncookiesSent, c.SyncookiesRecv, c.SyncookiesFailed, c.PassiveOpens, c.AttemptFails}},
	}
}
