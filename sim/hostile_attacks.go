package sim

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/seq"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// rawConn is the attacker's side of a connection it opens to the server
// by hand: a handshake with the options it chooses, then whatever it
// likes.
type rawConn struct {
	p         *rawPeer
	src       netip.Addr
	port      uint16
	iss, irs  seq.Value
	sndNxt    seq.Value
	opts      wire.Options
	synSent   bool
	gotSynAck bool
	acked     bool // the third ACK sent
}

func (r *rawConn) seg(flags wire.Flags, sq seq.Value, payload []byte) wire.Segment {
	return wire.Segment{SrcPort: r.port, DstPort: SoakPort, Seq: sq, Ack: r.irs.Add(1), Flags: flags, Window: 65535, Payload: payload}
}

// handshake sends the SYN at start and the third ACK once the SYN-ACK has
// come; it reports whether it sent anything and whether the connection
// is open.
func (r *rawConn) handshake(now, start clock.Time) (sent, open bool) {
	switch {
	case !r.synSent && now >= start:
		r.synSent, r.sndNxt = true, r.iss.Add(1)
		s := wire.Segment{SrcPort: r.port, DstPort: SoakPort, Seq: r.iss, Flags: wire.SYN, Window: 65535, Options: r.opts}
		r.p.send(now, r.src, s)
		return true, false
	case r.gotSynAck && !r.acked:
		r.acked = true
		r.p.send(now, r.src, r.seg(wire.ACK, r.sndNxt, nil))
		return true, true
	}
	return false, r.acked
}

// parse reads a packet from the server to this connection; ok is false
// for anything else.
func (r *rawConn) parse(pkt []byte) (s wire.Segment, ok bool) {
	p, err := wire.ParsePacket(pkt)
	if err != nil || p.TCP.DstPort != r.port || p.IP.Dst != r.src {
		return s, false
	}
	if p.TCP.Flags&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK && !r.gotSynAck {
		r.gotSynAck, r.irs = true, p.TCP.Seq
	}
	return p.TCP, true
}

// oooFlooder opens a connection with window scaling and SACK and sends
// 1-byte segments, each after a 1-byte hole (offsets 1, 3, 5, ...: the
// first byte never comes, so nothing is ever in order), then resets the
// connection at RCV.NXT.
type oooFlooder struct {
	hw       *hostileWorld
	rc       rawConn
	start    clock.Time
	holes    int
	sch      schedule
	flooding bool
	done     bool
	sentData int
	maxHeld  int
}

func newOOOFlooder(hw *hostileWorld, p *rawPeer, iss seq.Value, start clock.Time, holes int) *oooFlooder {
	return &oooFlooder{hw: hw, start: start, holes: holes,
		rc: rawConn{p: p, src: attackerAddr(0), port: 40001, iss: iss,
			opts: wire.Options{HasMSS: true, MSS: 1460, HasWScale: true, WScale: 7, SACKPermitted: true}}}
}

func (a *oooFlooder) next() clock.Time {
	switch {
	case a.done:
		return clock.Never
	case !a.rc.synSent:
		return a.start
	case a.flooding:
		if t := a.sch.nextAt(); t != clock.Never {
			return t
		}
		return a.sch.at(a.sch.n) // the RST
	}
	return clock.Never
}

func (a *oooFlooder) input(now clock.Time, pkt []byte) { a.rc.parse(pkt) }

func (a *oooFlooder) advance(now clock.Time) bool {
	if a.done {
		return false
	}
	sent, open := a.rc.handshake(now, a.start)
	if !open {
		return sent
	}
	if !a.flooding {
		a.flooding = true
		a.sch = schedule{start: now, every: a.hw.sz.spread / time.Duration(a.holes), n: a.holes}
	}
	for a.sch.due(now) {
		k := a.sch.i
		a.sch.i++
		a.rc.p.send(now, a.rc.src, a.rc.seg(wire.ACK, a.rc.sndNxt.Add(seq.Size(2*k+1)), []byte{'x'}))
		a.sentData++
		sent = true
	}
	if a.sch.i == a.sch.n && now >= a.sch.at(a.sch.n) {
		// RFC 9293 §3.10.7.4: a RST at RCV.NXT ends it.
		a.rc.p.send(now, a.rc.src, wire.Segment{SrcPort: a.rc.port, DstPort: SoakPort, Seq: a.rc.sndNxt, Flags: wire.RST})
		a.done, sent = true, true
	}
	return sent
}

// sample reads the server's connection after an attack packet.
func (a *oooFlooder) sample() {
	if k := a.hw.server.byAddr(a.rc.src); k != nil {
		a.maxHeld = max(a.maxHeld, k.c.Info().OutOfOrder)
	}
}

// sackAbuser opens a connection announcing a tiny MSS, sends a 1-byte
// request and its FIN, and acknowledges the long response segment by
// segment, so that slow start grows the server's window, until records
// segments' worth are acknowledged; then it stops acknowledging (the
// server fills its window: a retransmission queue of about records
// segments) and, a round trip later, sends acks ACKs that keep the
// cumulative ACK where it stopped and carry SACK blocks over the queue
// whose edges fall inside segments and move by one segment each ACK
// (every 8th begins with a D-SACK below the cumulative ACK): the
// analogue of CVE-2019-11477/11478/11479's attacks. It ends with a RST
// at RCV.NXT.
type sackAbuser struct {
	hw      *hostileWorld
	rc      rawConn
	start   clock.Time
	records int
	acks    int

	requested bool
	rcvNxt    seq.Value // the server's bytes acknowledged (or to be)
	hi        seq.Value // the end of the highest the server sent
	pending   []seq.Value
	frozen    bool
	sch       schedule
	done      bool

	sendMSS, queueAt, maxSacked, abusive int
}

func newSACKAbuser(hw *hostileWorld, p *rawPeer, iss seq.Value, start clock.Time, mss uint16) *sackAbuser {
	return &sackAbuser{hw: hw, start: start, records: hw.sz.records, acks: hw.sz.sackACKs,
		rc: rawConn{p: p, src: attackerAddr(0), port: 40002, iss: iss,
			opts: wire.Options{HasMSS: true, MSS: mss, HasWScale: true, WScale: 14, SACKPermitted: true}}}
}

func (a *sackAbuser) next() clock.Time {
	switch {
	case a.done:
		return clock.Never
	case !a.rc.synSent:
		return a.start
	case a.frozen:
		if t := a.sch.nextAt(); t != clock.Never {
			return t
		}
		return a.sch.at(a.sch.n)
	}
	return clock.Never
}

func (a *sackAbuser) input(now clock.Time, pkt []byte) {
	s, ok := a.rc.parse(pkt)
	if !ok || s.Flags&wire.SYN != 0 {
		if ok && s.Flags&wire.SYN != 0 {
			a.rcvNxt, a.hi = s.Seq.Add(1), s.Seq.Add(1)
		}
		return
	}
	end := s.Seq.Add(seq.Size(len(s.Payload)))
	if end.GreaterThan(a.hi) {
		a.hi = end
	}
	if a.frozen || len(s.Payload) == 0 || s.Seq != a.rcvNxt {
		return
	}
	a.rcvNxt = end
	a.pending = append(a.pending, end)
	if int(a.rcvNxt.Size(a.rc.irs.Add(1))) >= a.records*48 {
		// Enough acknowledged for slow start to have grown the window to
		// about records segments of 48 bytes: stop.
		a.frozen = true
		a.sch = schedule{start: now.Add(30 * time.Millisecond), every: 10 * time.Microsecond, n: a.acks}
	}
}

func (a *sackAbuser) advance(now clock.Time) bool {
	if a.done {
		return false
	}
	sent, open := a.rc.handshake(now, a.start)
	if !open {
		return sent
	}
	if !a.requested {
		a.requested = true
		a.rc.p.send(now, a.rc.src, a.rc.seg(wire.ACK|wire.PSH|wire.FIN, a.rc.sndNxt, []byte{'?'}))
		a.rc.sndNxt = a.rc.sndNxt.Add(2)
		sent = true
	}
	for _, ack := range a.pending {
		// A well-behaved ACK, not counted as an attack packet.
		s := a.rc.seg(wire.ACK, a.rc.sndNxt, nil)
		s.Ack = ack
		a.rc.p.sendTTL(now, a.rc.src, s, 64)
		sent = true
	}
	a.pending = a.pending[:0]
	for a.frozen && a.sch.due(now) {
		k := a.sch.i
		a.sch.i++
		if k == 0 {
			a.sample()
			a.queueAt = int(a.hi.Size(a.rcvNxt)) / max(a.sendMSS, 1)
		}
		a.rc.p.send(now, a.rc.src, a.abusiveACK(k))
		a.abusive++
		sent = true
	}
	if a.frozen && a.sch.i == a.sch.n && now >= a.sch.at(a.sch.n) {
		a.rc.p.send(now, a.rc.src, wire.Segment{SrcPort: a.rc.port, DstPort: SoakPort, Seq: a.rc.sndNxt, Flags: wire.RST})
		a.done, sent = true, true
	}
	return sent
}

// abusiveACK is the k-th abusive ACK: four blocks over the queue's
// quarters, or a D-SACK and three.
func (a *sackAbuser) abusiveACK(k int) wire.Segment {
	s := a.rc.seg(wire.ACK, a.rc.sndNxt, nil)
	s.Ack = a.rcvNxt
	mss := seq.Size(max(a.sendMSS, 1))
	span := a.hi.Size(a.rcvNxt)
	q := span / 4 / mss * mss
	o := &s.Options
	j0 := 0
	if k%8 == 7 {
		o.SACK[0] = wire.SACKBlock{Left: a.rcvNxt - seq.Value(mss), Right: a.rcvNxt}
		o.NumSACK, j0 = 1, 1
	}
	for j := j0; j < 4 && q > 200*mss; j++ {
		first := a.rcvNxt.Add(seq.Size(j)*q + seq.Size(k%97+1)*mss)
		o.SACK[o.NumSACK] = wire.SACKBlock{Left: first.Add(1), Right: first.Add(q - 200*mss - 1)}
		o.NumSACK++
	}
	return s
}

func (a *sackAbuser) sample() {
	if k := a.hw.server.byAddr(a.rc.src); k != nil {
		in := k.c.Info()
		a.sendMSS = in.MSS
		a.maxSacked = max(a.maxSacked, in.SackedBytes/max(in.MSS, 1))
	}
}

// sloths adds the zero-window peers (stacks with a 4 KiB receive buffer
// that stop reading before the response comes) or the vanishing ones
// (which read a little of the response and then drop off the network,
// both ways, with the rest of it in flight). Each asks for a 60,000-byte
// response, which the server queues whole and then closes (both ways, as
// close(2)): an orphan whose peer holds it.
func (hw *hostileWorld) sloths(link netsim.Impairment) error {
	w := hw.w
	zero := hw.c.kind == attackZeroWindow
	const resp = 60000
	var names []string
	for i := range hw.sz.sloths {
		name := fmt.Sprintf("sloth%d", i+1)
		if !zero {
			name = fmt.Sprintf("ghost%d", i+1)
		}
		cfg := tcp.Config{}
		if zero {
			cfg.RecvBuffer, cfg.RecvBufferMax = 4096, 4096
		}
		h, err := w.AddHost(name, attackerAddr(i), cfg)
		if err != nil {
			return err
		}
		if err := hw.paths(name, link); err != nil {
			return err
		}
		hw.server.respond[attackerAddr(i)] = make([]byte, resp)
		at := hw.sz.attackStart + time.Duration(i)*10*time.Millisecond
		if zero {
			w.Run(h, At(at), Connect(serverName, SoakPort), StopReading(), WaitEstablished(), Write("GET /big\n"), Close(), WaitClosed())
		} else {
			w.Run(h, At(at), Connect(serverName, SoakPort), WaitEstablished(), Write("GET /big\n"), Close(), ReadN(2000))
			// Gone: 2000 bytes read, the rest on the way.
			w.At(clock.Time(at+70*time.Millisecond), func() {
				gone := netsim.Impairment{Latency: link.Latency, Loss: 1}
				_ = w.Network().SetPath(name, serverName, gone)
				_ = w.Network().SetPath(serverName, name, gone)
			})
		}
		names = append(names, name)
	}
	var freed []time.Duration
	var errs []string
	hw.server.onEnd = func(k *srvConn, now clock.Time) {
		if k.remote.As4()[2] != 2 || !k.closing { // not an attacker's (198.18.2.0/24)
			return
		}
		freed = append(freed, now.Sub(k.closedAt))
		e := "none"
		if err := k.c.Err(); err != nil {
			e = err.Error()
		}
		errs = append(errs, e)
	}
	format := "zero-window peers: %d; the server freed %d of them, at %v after its close (each), ending with: %v"
	if !zero {
		format = "vanished peers: %d; the server freed %d of them, at %v after its close (each), ending with: %v"
	}
	hw.res.note(format, len(names), lazy(func() any { return len(freed) }), lazy(func() any { return freed }), lazy(func() any { return errs }))
	return nil
}
