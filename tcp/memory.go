package tcp

import "github.com/gosynack/synack/seq"

// The buffer budget of a Policy (Config.MemPressure, Config.MemLimit), as
// Linux's tcp_mem: the bytes of the send and receive buffers' arrays that
// all the Policy's connections hold, counted as they are borrowed and
// given back (buffers.go). Two levels:
//
//   - pressure (held >= MemPressure): buffers stop growing (receive and
//     send autotuning pause), and a connection that gets out-of-order data
//     lets go of what it holds out of order and drops the segment, as
//     Linux's tcp_prune_ofo_queue does first under pressure: the data is
//     only SACKed, so the peer still has it (RFC 2018 §8: "the data
//     receiver ... is permitted to discard data in its queue that has not
//     been acknowledged").
//   - limit (held >= MemLimit): data that would need a larger receive
//     array is dropped unacknowledged (the peer sends it again), and the
//     send buffer takes only what its ring holds. A connection may always
//     grow a buffer to minBuffer (4 KiB, as tcp_rmem[0] and tcp_wmem[0]
//     are guaranteed), so that no connection is starved for ever by the
//     others: the budget is exceeded by at most 8 KiB per connection.
//
// Never a panic and never unbounded growth: what does not fit is dropped
// (trace.DropMemory, counted in Stats.Dropped and Policy.MemoryDrops) or not taken by Write.

type memBudget struct {
	held  int64  // bytes of buffer arrays held
	drops uint64 // segments dropped for the budget
}

func (m *memBudget) pressure(cfg *Config) bool {
	return m != nil && cfg.MemPressure > 0 && m.held >= int64(cfg.MemPressure)
}

func (m *memBudget) overLimit(cfg *Config) bool {
	return m != nil && cfg.MemLimit > 0 && m.held >= int64(cfg.MemLimit)
}

// account adds n bytes (or gives back -n) to the budget.
func (c *Conn) account(n int) {
	if c.pol.mem != nil {
		c.pol.mem.held += int64(n)
	}
}

// BufferBytes returns the bytes of buffer arrays that the Policy's
// connections hold (the figure MemPressure and MemLimit bound).
func (p *Policy) BufferBytes() int {
	if p.mem == nil {
		return 0
	}
	return int(p.mem.held)
}

// MemoryDrops returns the segments the Policy's connections dropped for
// the budget.
func (p *Policy) MemoryDrops() uint64 {
	if p.mem == nil {
		return 0
	}
	return p.mem.drops
}

// MemoryState reports whether the Policy's buffers are at the pressure
// level and at the limit.
func (p *Policy) MemoryState() (pressure, limit bool) {
	return p.mem.pressure(&p.cfg), p.mem.overLimit(&p.cfg)
}

// rcvRoom reports whether n bytes at start (at or beyond RCV.NXT, in the
// window) may be taken: out-of-order data not under pressure (which also
// prunes what is held), and data that needs a larger receive array not at
// the limit, unless the array stays within minBuffer.
func (c *Conn) rcvRoom(start seq.Value, n int) bool {
	cfg := &c.pol.cfg
	if start != c.rcvNxt && c.pol.mem.pressure(cfg) {
		if c.oooBytes > 0 {
			c.PruneOutOfOrder(0)
		}
		c.pol.mem.drops++
		return false
	}
	if !c.pol.mem.overLimit(cfg) {
		return true
	}
	need := c.rcvLen() + max(c.oooExtent(), int(start.Size(c.rcvNxt))+n)
	if need <= len(c.rcv.mem) || need <= minBuffer {
		return true // no larger ring (rcvReserve)
	}
	c.pol.mem.drops++
	return false
}
