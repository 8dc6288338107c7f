package tcp

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"

	"github.com/gosynack/synack/clock"
	"github.com/gosynack/synack/seq"
)

// Tuple names a connection from one side: our address and port, theirs.
type Tuple struct {
	Local, Remote netip.AddrPort
}

func (t Tuple) String() string { return t.Local.String() + "<->" + t.Remote.String() }

// Key is an IPv4 tuple in 12 bytes: a map key that costs a fifth of a
// Tuple's 64.
type Key struct {
	LocalAddr, RemoteAddr [4]byte
	LocalPort, RemotePort uint16
}

// Key returns t's compact form, and false if an address is not IPv4.
func (t Tuple) Key() (Key, bool) {
	la, ra := t.Local.Addr(), t.Remote.Addr()
	if !la.Is4() || !ra.Is4() {
		return Key{}, false
	}
	return Key{LocalAddr: la.As4(), RemoteAddr: ra.As4(), LocalPort: t.Local.Port(), RemotePort: t.Remote.Port()}, true
}

// tuple returns the tuple k stands for.
func (k Key) tuple() Tuple {
	return Tuple{
		Local:  netip.AddrPortFrom(netip.AddrFrom4(k.LocalAddr), k.LocalPort),
		Remote: netip.AddrPortFrom(netip.AddrFrom4(k.RemoteAddr), k.RemotePort),
	}
}

// ISNKey is the secret of the ISN generator. Drivers hand one in: random in a
// real stack, derived from the seed in simulation.
type ISNKey [16]byte

// ISN chooses an initial sequence number as RFC 6528 §3 specifies:
// "ISN = M + F(localip, localport, remoteip, remoteport, secretkey)" where "M
// is the 4 microsecond timer" and F is a keyed hash. F here is SHA-256 over
// the key and the 4-tuple, truncated to 32 bits.
func ISN(key ISNKey, t Tuple, now clock.Time) seq.Value {
	var buf [16 + 2*(16+2)]byte
	n := copy(buf[:], key[:])
	for _, ap := range [2]netip.AddrPort{t.Local, t.Remote} {
		a := ap.Addr().As16()
		n += copy(buf[n:], a[:])
		binary.BigEndian.PutUint16(buf[n:], ap.Port())
		n += 2
	}
	h := sha256.Sum256(buf[:n])
	f := binary.BigEndian.Uint32(h[:4])
	m := uint32(int64(now) / 4000)
	return seq.Value(m + f)
}

// TSOffset is the offset of our timestamp clock (RFC 7323's Snd.TSoffset)
// for connections from local to remote: a keyed hash of the address pair,
// as Linux's secure_tcp_ts_off, so that it does not reveal the clock
// ("It is therefore RECOMMENDED to generate a random, per-connection
// offset", §7) yet stays the same for every connection between the two
// hosts: successive incarnations of a 4-tuple then carry growing
// timestamps, which RFC 6191 needs to reopen from TIME-WAIT ("entirely
// random offsets for each new connection will conflict with PAWS",
// Appendix H (j)). SHA-256 over a label, the key and the two addresses;
// §5.4: "The same function with a different secret key can be used".
func TSOffset(key ISNKey, local, remote netip.Addr) uint32 {
	var buf [8 + 16 + 2*16]byte
	n := copy(buf[:], "tsoffset")
	n += copy(buf[n:], key[:])
	for _, a := range [2]netip.Addr{local, remote} {
		b := a.Unmap().As16()
		n += copy(buf[n:], b[:])
	}
	h := sha256.Sum256(buf[:n])
	return binary.BigEndian.Uint32(h[:4])
}

// SetTSOffset sets the offset of the connection's timestamp clock (by
// default one derived from its ISS, which differs between incarnations);
// a driver calls it before the connection's first Output, with TSOffset.
func (c *Conn) SetTSOffset(off uint32) { c.tsOff = off }
