package synack

import (
	"encoding/binary"
	"net/netip"
	"reflect"
	"slices"

	"github.com/gosynack/synack/stack"
	"github.com/gosynack/synack/tcp"
)

// Sharding: a Stack of N shards spreads its TCP connections over N
// stack.Stacks by a keyed hash of the 4-tuple, as a NIC's receive-side
// scaling spreads flows over its queues (the key is drawn from
// crypto/rand, apart from the ISN key, or made from Config.Seed, so that a
// peer cannot aim every flow at one shard). The reader hashes each packet of a burst (route) and hands the
// burst's packets of each shard to it under that shard's lock; a dial
// picks a shard and takes an ephemeral port whose tuple hashes to it
// (stack.Config.TupleFilter), so that every connection lives in the shard
// its tuple names and a tuple stays unique across shards.

// shardOf returns the shard of the connection with tuple t (our side
// first).
func (s *Stack) shardOf(t tcp.Tuple) int {
	if len(s.shards) == 1 {
		return 0
	}
	la, ra := t.Local.Addr(), t.Remote.Addr()
	if la.Is4() {
		l, r := la.As4(), ra.As4()
		return s.hash4(l[:], r[:], t.Local.Port(), t.Remote.Port())
	}
	l, r := la.As16(), ra.As16()
	return s.hash6(l[:], r[:], t.Local.Port(), t.Remote.Port())
}

// mix is one round of a 64-bit mixer (splitmix64's finalizer).
func mix(h, v uint64) uint64 {
	h ^= v
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	return h ^ h>>29
}

// pick maps a hash onto the shards.
func (s *Stack) pick(h uint64) int {
	return int((h >> 32) * uint64(len(s.shards)) >> 32)
}

// hash4 is the shard of an IPv4 tuple: local and remote addresses (4
// bytes each) and ports.
func (s *Stack) hash4(la, ra []byte, lp, rp uint16) int {
	h := mix(s.key, uint64(lp)<<16|uint64(rp))
	h = mix(h, uint64(binary.BigEndian.Uint32(la))<<32|uint64(binary.BigEndian.Uint32(ra)))
	return s.pick(h)
}

// hash6 is the shard of an IPv6 tuple (addresses of 16 bytes).
func (s *Stack) hash6(la, ra []byte, lp, rp uint16) int {
	h := mix(s.key, uint64(lp)<<16|uint64(rp)|1<<32)
	h = mix(h, binary.BigEndian.Uint64(la))
	h = mix(h, binary.BigEndian.Uint64(la[8:]))
	h = mix(h, binary.BigEndian.Uint64(ra))
	h = mix(h, binary.BigEndian.Uint64(ra[8:]))
	return s.pick(h)
}

// IP protocol numbers and IPv6 extension headers route looks at.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoICMPv6 = 58
)

// route returns the shard a packet from the link goes to: a fragment's is
// shard 0, where its datagram is reassembled (reassembled hands the
// datagram on); a TCP segment's
// is its connection's (destination and source are our side and the
// peer's); an ICMP or ICMPv6 error quoting a TCP segment goes to the
// shard of the connection that sent it (the quote's source is our side),
// which checks it (RFC 5927 §4.1); everything else (UDP, echo, other
// protocols, and what does not parse, which the stack counts and drops)
// goes to shard 0, where UDP lives. So do IP fragments (RFC 791 §3.2,
// RFC 8200 §4.5), which only a non-first one's lack of ports would send
// elsewhere: all of a datagram's fragments must meet in one stack to be
// reassembled, and shard 0 is where a fragmented datagram's UDP lives; a
// TCP segment that came in fragments reaches shard 0's connections only.
// It only reads headers: the stack checks everything again.
func (s *Stack) route(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	switch p[0] >> 4 {
	case 4:
		ihl := int(p[0]&0xf) * 4
		if ihl < 20 || len(p) < ihl+8 || be16(p[6:])&0x3fff != 0 { // MF or an offset
			return 0
		}
		switch p[9] {
		case protoTCP:
			return s.hash4(p[16:20], p[12:16], be16(p[ihl+2:]), be16(p[ihl:]))
		case protoICMP:
			switch p[ihl] { // the errors of RFC 1122 §3.2.2 that carry a quote
			case 3, 4, 5, 11, 12:
			default:
				return 0
			}
			q := p[ihl+8:]
			if len(q) < 20 || q[0]>>4 != 4 || q[9] != protoTCP {
				return 0
			}
			qihl := int(q[0]&0xf) * 4
			if qihl < 20 || len(q) < qihl+4 {
				return 0
			}
			return s.hash4(q[12:16], q[16:20], be16(q[qihl:]), be16(q[qihl+2:]))
		}
	case 6:
		nh, off := upper6(p)
		if off < 0 || len(p) < off+8 {
			return 0
		}
		switch nh {
		case protoTCP:
			return s.hash6(p[24:40], p[8:24], be16(p[off+2:]), be16(p[off:]))
		case protoICMPv6:
			if p[off] >= 128 { // not an error (RFC 4443 §2.1)
				return 0
			}
			q := p[off+8:]
			qnh, qoff := upper6(q)
			if qoff < 0 || qnh != protoTCP || len(q) < qoff+4 {
				return 0
			}
			return s.hash6(q[8:24], q[24:40], be16(q[qoff:]), be16(q[qoff+2:]))
		}
	}
	return 0
}

// upper6 walks an IPv6 packet's extension headers (as wire.ParseIPv6
// does, RFC 8200 §4) to its upper-layer header: its Next Header value and
// offset, or an offset of -1 (also for a fragment, whose header route
// does not read past).
func upper6(p []byte) (nh uint8, off int) {
	if len(p) < 40 || p[0]>>4 != 6 {
		return 0, -1
	}
	nh, off = p[6], 40
	for range 8 {
		switch nh {
		case 0, 43, 60: // hop-by-hop, routing, destination options
			if len(p) < off+2 {
				return 0, -1
			}
			nh, off = p[off], off+(int(p[off+1])+1)*8
		case 44: // fragment
			if len(p) < off+8 || be16(p[off+2:])&0xfff9 != 0 {
				return 0, -1 // an offset or M: a fragment, which goes to shard 0
			}
			nh, off = p[off], off+8 // an atomic fragment (RFC 6946): a whole packet
		default:
			return nh, off
		}
	}
	return 0, -1
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// input is the reader's handler with more than one shard: it spreads a
// burst over the shards and hands each its packets under its lock, with
// one step, in the order they came. The first shard with packets is
// handled in the reader's goroutine and each other one by its worker, at
// the same time, so that receive processing runs on as many cores as
// shards have packets; input returns when all are done (the packets'
// buffers are the reader's, reused for the next burst).
func (s *Stack) input(pkts [][]byte) {
	for _, p := range pkts {
		sh := s.shards[s.route(p)]
		sh.in = append(sh.in, p)
	}
	var first *shard
	for _, sh := range s.shards {
		switch {
		case len(sh.in) == 0:
		case first == nil:
			first = sh
		case sh.work != nil:
			s.inWG.Add(1)
			sh.work <- sh.in
		default:
			sh.inputBurst(sh.in)
		}
	}
	if first != nil {
		first.inputBurst(first.in)
	}
	s.inWG.Wait()
	for _, sh := range s.shards {
		clear(sh.in)
		sh.in = sh.in[:0]
		for i, h := range sh.handoff {
			s.shards[h.to].inputBurst([][]byte{h.pkt})
			sh.handoff[i] = handoff{}
		}
		sh.handoff = sh.handoff[:0]
	}
}

// handoff is a reassembled datagram for another shard.
type handoff struct {
	to  int
	pkt []byte
}

// reassembled is shard i's stack.Config.Reassembled: the fragments of a
// datagram all come to shard 0 (route cannot see the ports of a
// fragment), and the datagram they make, if it belongs to another shard (a
// TCP segment, an ICMP error quoting one), is copied and handed to that
// shard once shard i's burst is done. sh.mu is held.
func (s *Stack) reassembled(i int, pkt []byte) bool {
	k := s.route(pkt)
	if k == i {
		return true
	}
	sh := s.shards[i]
	sh.handoff = append(sh.handoff, handoff{k, slices.Clone(pkt)})
	return false
}

// inputBurst hands pkts to the shard under its lock.
func (sh *shard) inputBurst(pkts [][]byte) {
	sh.mu.Lock()
	if !sh.closed {
		sh.input(sh.clk.Now(), pkts)
	}
	sh.mu.Unlock()
}

// worker is a shard's receive goroutine: it takes the bursts the reader
// hands it until Close closes its channel (after the reader has ended).
func (sh *shard) worker() {
	defer sh.s.workWG.Done()
	for pkts := range sh.work {
		sh.inputBurst(pkts)
		sh.s.inWG.Done()
	}
}

// shardWorkers turns the shards' receive workers on (see input).
var shardWorkers = true

// dialShard returns the shard a dial tries first: the shards in turn.
func (s *Stack) dialShard() int {
	if len(s.shards) == 1 {
		return 0
	}
	return int(s.dialNext.Add(1)-1) % len(s.shards)
}

// lockAll takes every shard's lock, in order (the order every caller that
// holds more than one takes them in).
func (s *Stack) lockAll() {
	for _, sh := range s.shards {
		sh.mu.Lock()
	}
}

func (s *Stack) unlockAll() {
	for _, sh := range s.shards {
		sh.mu.Unlock()
	}
}

// addCounters adds every uint64 field of *src to *dst's (the counters of
// package stack are structs of uint64 fields, which grow).
func addCounters[T any](dst, src *T) {
	d, v := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := range d.NumField() {
		if f := d.Field(i); f.Kind() == reflect.Uint64 && f.CanSet() {
			f.SetUint(f.Uint() + v.Field(i).Uint())
		}
	}
}

// mergePathMTUs adds es (one shard's path MTU cache, in address order) to
// out (also in address order), keeping the smaller entry of a destination
// both name.
func mergePathMTUs(out, es []stack.PathMTUEntry) []stack.PathMTUEntry {
	for _, e := range es {
		i, found := slices.BinarySearchFunc(out, e.Dst, func(a stack.PathMTUEntry, d netip.Addr) int { return a.Dst.Compare(d) })
		switch {
		case !found:
			out = slices.Insert(out, i, e)
		case e.MTU < out[i].MTU:
			out[i] = e
		}
	}
	return out
}
