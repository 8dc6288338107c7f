package synack

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/trace"
	"github.com/gosynack/synack/wire"
)

var shardsFlag = flag.Int("shards", 1, "the shard count of every Stack whose Config leaves Shards 0 (and sets no Recorder)")

func TestMain(m *testing.M) {
	flag.Parse()
	defaultShards = *shardsFlag
	os.Exit(m.Run())
}

// newShardNet is a client and a server of the given shard counts on an
// in-memory network.
func newShardNet(tb testing.TB, clientShards, serverShards int) *testNet {
	tb.Helper()
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		tb.Fatal(err)
	}
	client, err := New(cp, Config{Name: "client", Seed: 1, Shards: clientShards})
	if err != nil {
		tb.Fatal(err)
	}
	server, err := New(sp, Config{Name: "server", Seed: 2, Shards: serverShards})
	if err != nil {
		tb.Fatal(err)
	}
	tn := &testNet{n: n, client: client, server: server}
	tb.Cleanup(tn.close)
	return tn
}

// shardsUsed checks that every connection of s lives in the shard its
// tuple hashes to, and returns how many connections each shard holds.
func shardsUsed(t *testing.T, s *Stack) []int {
	t.Helper()
	per := make([]int, len(s.shards))
	for _, sh := range s.shards {
		sh.mu.Lock()
		for _, c := range sh.st.Conns() {
			if want := s.shardOf(c.Tuple()); want != sh.idx {
				t.Errorf("%s: connection %v in shard %d, its tuple hashes to %d", s.Name(), c.Tuple(), sh.idx, want)
			}
			per[sh.idx]++
		}
		sh.mu.Unlock()
	}
	return per
}

// Many dials from a sharded client to a sharded server spread over every
// shard on both sides, each connection in the shard its 4-tuple hashes to
// (so that the reader finds it), with unique tuples; one listener accepts
// them all, whichever shard made them, and each carries its own data.
func TestShardSpreadAndAcceptAll(t *testing.T) {
	const conns = 48
	tn := newShardNet(t, 4, 3)
	ln, err := tn.server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan *Conn, conns)
	go func() {
		for range conns {
			c, err := ln.AcceptTCP()
			if err != nil {
				t.Error(err)
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	var wg sync.WaitGroup
	dialed := make([]*Conn, conns)
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			c, err := tn.client.DialAddr(ctx, netip.AddrPortFrom(mem.ServerAddr, 80))
			if err != nil {
				t.Error(err)
				return
			}
			dialed[i] = c
			fmt.Fprintf(c, "conn %d\n", i)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	seen := map[string]bool{}
	for range conns {
		s, ok := <-accepted
		if !ok {
			t.FailNow()
		}
		s.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := bufio.NewReader(s).ReadString('\n')
		if err != nil {
			t.Fatalf("read from %v: %v", s.RemoteAddr(), err)
		}
		var i int
		if _, err := fmt.Sscanf(line, "conn %d", &i); err != nil || i < 0 || i >= conns ||
			dialed[i].LocalAddr().String() != s.RemoteAddr().String() {
			t.Fatalf("accepted %v read %q: not what that connection wrote", s.RemoteAddr(), line)
		}
		seen[line] = true
	}
	if len(seen) != conns {
		t.Errorf("%d distinct connections accepted, want %d", len(seen), conns)
	}
	for _, s := range []*Stack{tn.client, tn.server} {
		per := shardsUsed(t, s)
		tuples := map[[2]netip.AddrPort]bool{}
		for _, k := range s.Sockets() {
			tuples[[2]netip.AddrPort{k.Local, k.Remote}] = true
		}
		if len(tuples) != conns {
			t.Errorf("%s: %d distinct tuples, want %d", s.Name(), len(tuples), conns)
		}
		for i, n := range per {
			if n == 0 {
				t.Errorf("%s: shard %d holds no connection of %d (per shard: %v)", s.Name(), i, conns, per)
			}
		}
		t.Logf("%s: connections per shard %v", s.Name(), per)
	}
}

// A listener closed while several shards hold connections established and
// not yet accepted resets every one of them (as Close on one shard does),
// and its blocked Accept returns net.ErrClosed.
func TestShardListenerCloseResetsPending(t *testing.T) {
	const conns = 16
	tn := newShardNet(t, 2, 4)
	ln, err := tn.server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	var cs []*Conn
	for range conns {
		c, err := tn.client.DialAddr(t.Context(), netip.AddrPortFrom(mem.ServerAddr, 80))
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, c)
	}
	// The client's dial returns at its ACK; wait (bounded) for the server
	// to queue them all.
	pending := func() (total, shards int) {
		for _, sh := range tn.server.shards {
			sh.mu.Lock()
			if n := ln.ls[sh.idx].Pending(); n > 0 {
				total += n
				shards++
			}
			sh.mu.Unlock()
		}
		return
	}
	for i := 0; ; i++ {
		if n, _ := pending(); n == conns {
			break
		}
		if i == 500 {
			t.Fatalf("after 5 s, %d of %d connections queued", func() int { n, _ := pending(); return n }(), conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, shards := pending(); shards < 2 {
		t.Fatalf("the pending connections are in %d shard(s); the test needs several", shards)
	}
	acceptErr := make(chan error, 1)
	go func() {
		// Every queued connection is taken first; then Accept blocks.
		for range conns {
			if c, err := ln.AcceptTCP(); err == nil {
				defer c.Close()
			}
		}
		_, err := ln.AcceptTCP()
		acceptErr <- err
	}()
	ln2, err := tn.server.ListenTCP("tcp", ":81")
	if err != nil {
		t.Fatal(err)
	}
	for range conns {
		if _, err := tn.client.DialAddr(t.Context(), netip.AddrPortFrom(mem.ServerAddr, 81)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		n := 0
		for _, sh := range tn.server.shards {
			sh.mu.Lock()
			n += ln2.ls[sh.idx].Pending()
			sh.mu.Unlock()
		}
		if n == conns {
			break
		}
		if i == 500 {
			t.Fatalf("after 5 s, %d of %d connections queued on :81", n, conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := tn.server.Counters().OutRsts
	if err := ln2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := tn.server.Counters().OutRsts - before; got != conns {
		t.Errorf("closing the listener sent %d RSTs, want %d (one per pending connection)", got, conns)
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-acceptErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("blocked Accept returned %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked Accept did not return after Close")
	}
	for _, c := range cs {
		c.Close()
	}
}

// An ICMP error goes to the shard of the connection its quoted header
// names: a Port Unreachable quoting each SYN of dials spread over four
// shards fails each dial with ECONNREFUSED (RFC 1122 §4.2.3.9: a hard
// error in SYN-SENT), and none is counted as quoting no connection.
func TestShardICMPReachesConnection(t *testing.T) {
	const dials = 12
	tn := newShardNet(t, 4, 1)
	sink := netip.MustParseAddr("198.18.0.77")
	port, err := tn.n.Attach("sink", sink)
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, dials)
	for range dials {
		go func() {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			_, err := tn.client.DialAddr(ctx, netip.AddrPortFrom(sink, 80))
			errs <- err
		}()
	}
	syns := map[uint16][]byte{}
	buf := make([]byte, 65535)
	for i := 0; len(syns) < dials; i++ {
		if i == 2000 {
			t.Fatalf("after 10 s, %d of %d SYNs reached the sink", len(syns), dials)
		}
		n, ok := port.TryReceive(buf)
		if !ok {
			time.Sleep(5 * time.Millisecond)
			continue
		}
		pkt := append([]byte(nil), buf[:n]...)
		syns[binary.BigEndian.Uint16(pkt[20:])] = pkt
	}
	used := map[int]bool{}
	for _, syn := range syns {
		t4 := tcp.Tuple{Local: netip.AddrPortFrom(mem.ClientAddr, binary.BigEndian.Uint16(syn[20:])), Remote: netip.AddrPortFrom(sink, 80)}
		used[tn.client.shardOf(t4)] = true
		m := wire.ICMPv4{Type: wire.ICMPv4DestUnreachable, Code: wire.ICMPv4PortUnreachable, Body: syn[:28]}
		ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: sink, Dst: mem.ClientAddr}
		if err := port.Send(m.Append(ip.Append(nil, m.Len()))); err != nil {
			t.Fatal(err)
		}
	}
	if len(used) < 2 {
		t.Fatalf("the dials used %d shard(s); the test needs several", len(used))
	}
	for range dials {
		if err := <-errs; !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial: %v, want ECONNREFUSED from the ICMP error", err)
		}
	}
	if c := tn.client.Counters(); c.IcmpInMsgs != dials || c.IcmpInErrors != 0 || c.AttemptFails != dials {
		t.Errorf("counters: IcmpInMsgs %d, IcmpInErrors %d, AttemptFails %d; want %d, 0, %d", c.IcmpInMsgs, c.IcmpInErrors, c.AttemptFails, dials, dials)
	}
}

// route sends a TCP segment to its connection's shard and an ICMP or
// ICMPv6 error to the shard of the connection whose segment it quotes
// (our side is the quote's source), IPv6 through extension headers; UDP,
// echo requests and garbage go to shard 0.
func TestShardRoute(t *testing.T) {
	n, p, _, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	s, err := New(p, Config{Seed: 3, Shards: 8, Addr: mem.ClientAddr, Addr6: netip.MustParseAddr("2001:2::2")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	peer4, peer6 := netip.MustParseAddr("198.18.5.5"), netip.MustParseAddr("2001:2::5")
	seen := map[int]bool{}
	for port := uint16(40000); port < 40064; port++ {
		for _, tu := range []tcp.Tuple{
			{Local: netip.AddrPortFrom(s.Addr(), port), Remote: netip.AddrPortFrom(peer4, 443)},
			{Local: netip.AddrPortFrom(s.Addr6(), port), Remote: netip.AddrPortFrom(peer6, 443)},
		} {
			want := s.shardOf(tu)
			seen[want] = true
			in := wire.Segment{SrcPort: tu.Remote.Port(), DstPort: tu.Local.Port(), Flags: wire.ACK, Window: 100}
			out := wire.Segment{SrcPort: tu.Local.Port(), DstPort: tu.Remote.Port(), Flags: wire.ACK, Window: 100}
			var inPkt, outPkt, icmp []byte
			if tu.Local.Addr().Is4() {
				ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: tu.Remote.Addr(), Dst: tu.Local.Addr()}
				inPkt = in.Append(ip.Append(nil, in.Len()), ip.Src, ip.Dst)
				ip = wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, Src: tu.Local.Addr(), Dst: tu.Remote.Addr()}
				outPkt = out.Append(ip.Append(nil, out.Len()), ip.Src, ip.Dst)
				m := wire.ICMPv4{Type: wire.ICMPv4TimeExceeded, Body: outPkt[:28]}
				ip = wire.IPv4{TTL: 64, Protocol: wire.ProtocolICMP, Src: peer4, Dst: tu.Local.Addr()}
				icmp = m.Append(ip.Append(nil, m.Len()))
			} else {
				ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: tu.Remote.Addr(), Dst: tu.Local.Addr()}
				inPkt = in.Append(ip.Append(nil, in.Len()), ip.Src, ip.Dst)
				// A destination options header (8 bytes of padding) before
				// the TCP header: route walks it (RFC 8200 §4).
				inPkt[6] = 60
				inPkt = append(inPkt[:40], append([]byte{wire.ProtocolTCP, 0, 1, 4, 0, 0, 0, 0}, inPkt[40:]...)...)
				ip = wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: tu.Local.Addr(), Dst: tu.Remote.Addr()}
				outPkt = out.Append(ip.Append(nil, out.Len()), ip.Src, ip.Dst)
				m := wire.ICMPv6{Type: wire.ICMPv6PacketTooBig, MTU: 1280, Body: outPkt}
				ip = wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolICMPv6, Src: peer6, Dst: tu.Local.Addr()}
				icmp = m.Append(ip.Append(nil, m.Len()), ip.Src, ip.Dst)
			}
			if got := s.route(inPkt); got != want {
				t.Fatalf("%v: segment routed to shard %d, want %d", tu, got, want)
			}
			// A fragment goes to shard 0, where it is reassembled; an
			// atomic one (offset 0, no more: RFC 6946) is a whole packet.
			tcpBytes := in.Append(nil, tu.Remote.Addr(), tu.Local.Addr())
			var frag, atomic []byte
			if tu.Local.Addr().Is4() {
				ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, ID: 7, Src: tu.Remote.Addr(), Dst: tu.Local.Addr()}
				frag = append(ip.AppendFragment(nil, 16, 0, true), tcpBytes[:16]...)
			} else {
				ip := wire.IPv6{HopLimit: 64, NextHeader: wire.ProtocolTCP, Src: tu.Remote.Addr(), Dst: tu.Local.Addr()}
				frag = append(ip.AppendFragment(nil, 16, 0, true, 7), tcpBytes[:16]...)
				atomic = append(ip.AppendFragment(nil, len(tcpBytes), 0, false, 8), tcpBytes...)
			}
			if got := s.route(frag); got != 0 {
				t.Fatalf("%v: first fragment routed to shard %d, want 0", tu, got)
			}
			if got := s.route(atomic); atomic != nil && got != want {
				t.Fatalf("%v: atomic fragment routed to shard %d, want %d", tu, got, want)
			}
			if got := s.route(icmp); got != want {
				t.Fatalf("%v: ICMP error quoting our segment routed to shard %d, want %d", tu, got, want)
			}
		}
	}
	if len(seen) != 8 {
		t.Errorf("128 tuples hashed to %d of 8 shards", len(seen))
	}
	u := wire.UDP{SrcPort: 53, DstPort: 40000}
	ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolUDP, Src: peer4, Dst: s.Addr()}
	for name, pkt := range map[string][]byte{
		"udp":     u.Append(ip.Append(nil, u.Len()), ip.Src, ip.Dst),
		"empty":   nil,
		"short":   {0x45, 0, 0},
		"version": {0x75, 0, 0, 0},
	} {
		if got := s.route(pkt); got != 0 {
			t.Errorf("%s: routed to shard %d, want 0", name, got)
		}
	}
}

// A seeded sharded Stack is deterministic: the same dials, made one after
// another, get the same ports in the same shards.
func TestShardSeededDeterministic(t *testing.T) {
	run := func() []string {
		tn := newShardNet(t, 4, 2)
		ln, err := tn.server.ListenTCP("tcp", ":80")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for range 8 {
			c, s := tn.dialAccept(t, ln)
			out = append(out, c.LocalAddr().String())
			c.Close()
			s.Close()
		}
		tn.close()
		return out
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("two seeded runs dialled from\n%v\n%v", a, b)
	}
}

// With several shards each limit is split in shares that add up to it:
// MaxConns 4 over 2 shards is 2 a shard, and a dial that finds its shard
// full tries the next, so the fifth dial, not the third, fails.
func TestShardLimits(t *testing.T) {
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	client, err := New(cp, Config{Name: "client", Seed: 1, MaxConns: 4, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := New(sp, Config{Name: "server", Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if _, err := server.ListenTCP("tcp", ":80"); err != nil {
		t.Fatal(err)
	}
	to := netip.AddrPortFrom(mem.ServerAddr, 80)
	for i := range 4 {
		c, err := client.DialAddr(t.Context(), to)
		if err != nil {
			t.Fatalf("dial %d: %v", i+1, err)
		}
		defer c.Close()
	}
	if _, err := client.DialAddr(t.Context(), to); !errors.Is(err, stack.ErrTooManyConns) {
		t.Fatalf("fifth dial: %v, want ErrTooManyConns", err)
	}
	if per := shardsUsed(t, client); per[0] != 2 || per[1] != 2 {
		t.Errorf("connections per shard %v, want [2 2]", per)
	}
	if _, err := New(cp, Config{Shards: -2}); err == nil {
		t.Error("Shards -2 accepted")
	}
	if _, err := New(cp, Config{Shards: maxShards + 1}); err == nil {
		t.Errorf("Shards %d accepted", maxShards+1)
	}
}

// Counters sums the shards' counters field by field: every field of the
// structs it sums must be a uint64 that addCounters adds (a field of
// another type would be left out of the sum).
func TestShardCountersSumEveryField(t *testing.T) {
	for _, v := range []any{stack.Counters{}, stack.ForwarderStats{}} {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Type.Kind() != reflect.Uint64 {
				t.Errorf("%v.%s is %v: addCounters does not sum it", typ, f.Name, f.Type)
			}
		}
	}
	a := stack.Counters{InSegs: 2, ConnLimitDrops: 1}
	b := stack.Counters{InSegs: 3, InUnknownProtos: 4}
	addCounters(&a, &b)
	if a.InSegs != 5 || a.ConnLimitDrops != 1 || a.InUnknownProtos != 4 {
		t.Errorf("sum %+v", a)
	}
}

// ShardPerCPU gives a Stack one shard per GOMAXPROCS.
func TestShardPerCPU(t *testing.T) {
	n, cp, _, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	s, err := New(cp, Config{Shards: ShardPerCPU})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := len(s.shards), min(runtime.GOMAXPROCS(0), maxShards); got != want {
		t.Errorf("%d shards, want %d", got, want)
	}
}

// A Recorder given to a Stack of several shards, which call it from
// their goroutines, needs no lock of its own (the race detector checks
// it under -race): a trace.Log records every shard's events.
func TestShardRecorder(t *testing.T) {
	var log trace.Log
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	client, err := New(cp, Config{Name: "client", Seed: 1, Shards: 3, Recorder: &log})
	if err != nil {
		t.Fatal(err)
	}
	server, err := New(sp, Config{Name: "server", Seed: 2, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	tn := &testNet{n: n, client: client, server: server}
	ln, err := server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		c, s := tn.dialAccept(t, ln)
		c.Close()
		s.Close()
	}
	client.Close()
	if len(log.Events) == 0 {
		t.Fatal("no events recorded")
	}
	if per := len(client.shards); per != 3 {
		t.Fatalf("%d shards", per)
	}
}

// SYN cookies on a sharded listener: with cookies always on, every SYN is
// answered statelessly by the shard it hashes to, and the cookie's ACK,
// which has the SYN's tuple, comes back to that shard and validates there
// (RFC 4987 §3.6), so every dial completes.
func TestShardSynCookies(t *testing.T) {
	const dials = 16
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	client, err := New(cp, Config{Name: "client", Seed: 1, Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := New(sp, Config{Name: "server", Seed: 2, Shards: 4, SynCookies: stack.CookiesAlways})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	tn := &testNet{n: n, client: client, server: server}
	ln, err := server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	for range dials {
		c, s := tn.dialAccept(t, ln)
		defer c.Close()
		defer s.Close()
	}
	per := shardsUsed(t, server)
	used := 0
	for _, k := range per {
		if k > 0 {
			used++
		}
	}
	if used < 2 {
		t.Errorf("connections in %d server shard(s) (%v); the test needs several", used, per)
	}
	if c := server.Counters(); c.SyncookiesSent != dials || c.SyncookiesRecv != dials || c.SyncookiesFailed != 0 {
		t.Errorf("cookies sent %d, validated %d, failed %d; want %d, %d, 0", c.SyncookiesSent, c.SyncookiesRecv, c.SyncookiesFailed, dials, dials)
	}
}

// A TCP segment that comes in IPv4 fragments reaches its connection in
// any shard: route cannot see a fragment's ports, so the fragments go to
// shard 0, which reassembles the datagram (RFC 791 §3.2) and hands it to
// the shard of its connection.
func TestShardFragmentedSegment(t *testing.T) {
	n, cp, sp, err := mem.Pair(1, netsim.Impairment{})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	plain := tcp.Config{NoTimestamps: true} // the injected segment has no timestamp (RFC 7323 §3.2)
	client, err := New(cp, Config{Name: "client", Seed: 1, Shards: 4, TCP: plain})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := New(sp, Config{Name: "server", Seed: 2, TCP: plain})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	tn := &testNet{n: n, client: client, server: server}
	ln, err := server.ListenTCP("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	var c *Conn
	for range 8 {
		cc, s := tn.dialAccept(t, ln)
		defer cc.Close()
		defer s.Close()
		if c == nil && client.shardOf(cc.tc.Tuple()) != 0 {
			c = cc
		}
	}
	if c == nil {
		t.Fatal("no connection outside shard 0")
	}
	raw, err := n.Attach("raw", netip.MustParseAddr("198.18.0.99"))
	if err != nil {
		t.Fatal(err)
	}
	info := c.Info()
	payload := []byte("this segment came in two IPv4 fragments")
	seg := wire.Segment{SrcPort: 80, DstPort: c.tc.Tuple().Local.Port(), Seq: info.RcvNxt, Ack: info.SndNxt,
		Flags: wire.ACK | wire.PSH, Window: 65535, Payload: payload}
	b := seg.Append(nil, mem.ServerAddr, mem.ClientAddr)
	ip := wire.IPv4{TTL: 64, Protocol: wire.ProtocolTCP, ID: 4242, Src: mem.ServerAddr, Dst: mem.ClientAddr}
	first := append(ip.AppendFragment(nil, 24, 0, true), b[:24]...)
	last := append(ip.AppendFragment(nil, len(b)-24, 24, false), b[24:]...)
	for _, f := range [][]byte{first, last} {
		if err := raw.Send(f); err != nil {
			t.Fatal(err)
		}
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, 100)
	k, err := c.Read(got)
	if err != nil || string(got[:k]) != string(payload) {
		t.Fatalf("read %q, %v; want the fragmented segment's %q", got[:k], err, payload)
	}
}
