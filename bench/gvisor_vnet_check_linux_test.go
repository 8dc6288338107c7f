//go:build linux

package bench

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/gosynack/synack/internal/netns"
)

// TestGVisorGSOBulk checks BenchmarkTUNPeers's gvisor-gso peer (gVisor on
// vnetEndpoint, the TUN with a virtio header, TSO and checksum offload)
// before it is measured: the kernel's TCP sends SYNACK_GVGSO_MIB MiB
// (default 64) of pseudo-random bytes to gVisor and gVisor as many back,
// over IPv4, then a quarter of that each way over IPv6, and the SHA-256 of
// what each receiver read must be the sender's. Each direction must have
// moved super-packets: gVisor writing segments longer than the MSS with a
// GSO type in the header (the kernel cuts them), and reading the kernel's
// (TSO: the device's features let the kernel hand them over whole), and
// the device must have refused none of gVisor's writes. It logs gVisor's
// TCP retransmissions and timeouts and the TUN's counters. The
// namespace (gvgso-PID, the TUN gvgso0) is removed at the end. Needs root
// and /dev/net/tun; skipped otherwise.
func TestGVisorGSOBulk(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("skipped: %v", err)
	}
	mib := 64
	if v := os.Getenv("SYNACK_GVGSO_MIB"); v != "" {
		var err error
		if mib, err = strconv.Atoi(v); err != nil || mib < 4 || mib > 1024 {
			t.Fatalf("SYNACK_GVGSO_MIB=%q: want 4 to 1024", v)
		}
	}
	const dev = "gvgso0"
	ns := netns.ForTest(t, netns.Options{Name: fmt.Sprintf("gvgso-%d", os.Getpid()), TUN: dev, Persist: true})
	var ep *vnetEndpoint
	if err := ns.Do(func() error {
		var err error
		ep, err = newVnetEndpoint(dev, 1500)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s, err := newGVisorStack(ep, gvisorTuning{moderate: true}, nil)
	if err != nil {
		ep.Close()
		t.Fatal(err)
	}
	defer func() { s.Close(); s.Wait() }()
	const port = 5001
	for _, a := range []struct {
		addr  netip.Addr
		proto tcpip.NetworkProtocolNumber
	}{{netns.StackAddr, ipv4.ProtocolNumber}, {netns.StackAddr6, ipv6.ProtocolNumber}} {
		addr := tcpip.AddrFromSlice(a.addr.AsSlice())
		if e := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: a.proto, AddressWithPrefix: addr.WithPrefix()}, stack.AddressProperties{}); e != nil {
			t.Fatalf("gvisor: add address %v: %v", a.addr, e)
		}
		ln, err := gonet.ListenTCP(s, tcpip.FullAddress{NIC: 1, Addr: addr, Port: port}, a.proto)
		if err != nil {
			t.Fatalf("gvisor: listen on %v: %v", a.addr, err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go gsoCheckServe(c)
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		addr  netip.Addr
		total int64
	}{{netns.StackAddr, int64(mib) << 20}, {netns.StackAddr6, int64(mib) << 18}} {
		addr := netip.AddrPortFrom(tc.addr, port).String()
		for i, dir := range []string{"down", "up"} {
			seed := uint64(2*tc.total) + uint64(i)
			out0, in0, pout0, pin0 := ep.gsoOut.Load(), ep.gsoIn.Load(), ep.pktsOut.Load(), ep.pktsIn.Load()
			ts := s.Stats().TCP
			rx0, to0, inv0 := ts.Retransmits.Value(), ts.Timeouts.Value(), ts.InvalidSegmentsReceived.Value()
			t0 := time.Now()
			if err := gsoCheckBulk(ctx, ns, addr, dir, tc.total, seed); err != nil {
				t.Fatalf("%s %s, %d bytes: %v", addr, dir, tc.total, err)
			}
			el := time.Since(t0)
			out, in := ep.gsoOut.Load()-out0, ep.gsoIn.Load()-in0
			pout, pin := ep.pktsOut.Load()-pout0, ep.pktsIn.Load()-pin0
			t.Logf("%s %s: %d MiB, SHA-256 equal, %.0f MiB/s; gVisor wrote %d packets (%d GSO), read %d (%d GSO); its TCP retransmitted %d segments, timed out %d times, took %d invalid segments",
				addr, dir, tc.total>>20, float64(tc.total)/(1<<20)/el.Seconds(), pout, out, pin, in,
				ts.Retransmits.Value()-rx0, ts.Timeouts.Value()-to0, ts.InvalidSegmentsReceived.Value()-inv0)
			t.Logf("TUN %s", tunStats(ns, dev))
			if n := ep.writeErrs.Load(); n != 0 {
				t.Errorf("%s %s: the TUN refused %d of gVisor's writes (the last: %v)", addr, dir, n, ep.lastErr.Load())
			}
			if dir == "up" && out == 0 {
				t.Errorf("%s up: gVisor wrote no GSO super-packet in %d packets", addr, pout)
			}
			if dir == "down" && in == 0 {
				t.Errorf("%s down: the kernel sent no GSO super-packet in %d packets", addr, pin)
			}
		}
	}
}

// gsoCheckBulk is the kernel's side of one of TestGVisorGSOBulk's
// transfers: "down" sends total bytes of the stream seed and compares
// the SHA-256 gVisor read with its own; "up" asks for them and checks
// what it read against the stream.
func gsoCheckBulk(ctx context.Context, ns *netns.NS, addr, dir string, total int64, seed uint64) error {
	c, err := ns.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	req := binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64([]byte{dir[0]}, uint64(total)), seed)
	if _, err := c.Write(req); err != nil {
		return err
	}
	want := streamSum(seed, total)
	var got []byte
	if dir == "down" {
		if err := writeStream(c, seed, total); err != nil {
			return err
		}
		c.(*net.TCPConn).CloseWrite()
		got, err = io.ReadAll(c)
		if err != nil {
			return fmt.Errorf("reading gVisor's SHA-256: %w", err)
		}
	} else {
		h := sha256.New()
		n, err := io.CopyBuffer(h, c, make([]byte, tbBuf))
		if err != nil || n != total {
			return fmt.Errorf("read %d of %d bytes: %v", n, total, err)
		}
		got = h.Sum(nil)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("SHA-256 of what was received %x, of what was sent %x", got, want)
	}
	return nil
}

// gsoCheckServe is gVisor's side: 'd' reads the stream and answers its
// SHA-256; 'u' sends it.
func gsoCheckServe(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Minute))
	var req [17]byte
	if _, err := io.ReadFull(c, req[:]); err != nil {
		return
	}
	total, seed := int64(binary.BigEndian.Uint64(req[1:])), binary.BigEndian.Uint64(req[9:])
	switch req[0] {
	case 'd':
		h := sha256.New()
		if n, err := io.CopyBuffer(h, c, make([]byte, tbBuf)); err != nil || n != total {
			return // the client sees no (or a wrong) sum
		}
		c.Write(h.Sum(nil))
	case 'u':
		writeStream(c, seed, total)
	}
}

// streamRand is the pseudo-random byte stream of a seed.
func streamRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.BigEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// writeStream writes total bytes of the stream seed to w.
func writeStream(w io.Writer, seed uint64, total int64) error {
	r := streamRand(seed)
	buf := make([]byte, tbBuf)
	for n := int64(0); n < total; {
		b := buf[:min(int64(len(buf)), total-n)]
		r.Read(b)
		k, err := w.Write(b)
		n += int64(k)
		if err != nil {
			return fmt.Errorf("wrote %d of %d bytes: %w", n, total, err)
		}
	}
	return nil
}

// streamSum is the SHA-256 of the stream seed's first total bytes.
func streamSum(seed uint64, total int64) []byte {
	h := sha256.New()
	writeStream(h, seed, total)
	return h.Sum(nil)
}

// gvisorGSOListener is TestTUNPeersNode's gvisor-gso peer: gVisor tuned as
// gvisor-best (newGVisorStack, receive-buffer moderation on) on
// vnetEndpoint, the TUN $SYNACK_TUNBENCH_NS's tbTUN opened with the virtio
// header and its offloads, listening on tbPort. The stack is closed when
// the test ends.
func gvisorGSOListener(t *testing.T) net.Listener {
	tns, err := netns.Open(os.Getenv("SYNACK_TUNBENCH_NS"))
	if err != nil {
		t.Fatal(err)
	}
	var ep *vnetEndpoint
	if err := tns.Do(func() error {
		var err error
		ep, err = newVnetEndpoint(tbTUN, 1500)
		return err
	}); err != nil {
		t.Fatalf("gvisor-gso: %v", err)
	}
	s, err := newGVisorStack(ep, gvisorTuning{moderate: true}, nil)
	if err != nil {
		ep.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(); s.Wait() })
	addr := tcpip.AddrFrom4(netns.StackAddr.As4())
	if e := s.AddProtocolAddress(1, tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: addr.WithPrefix()}, stack.AddressProperties{}); e != nil {
		t.Fatalf("gvisor-gso: add address: %v", e)
	}
	port, _ := strconv.Atoi(tbPort)
	ln, err := gonet.ListenTCP(s, tcpip.FullAddress{NIC: 1, Addr: addr, Port: uint16(port)}, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatalf("gvisor-gso: listen: %v", err)
	}
	return ln
}

// tunStats is the TUN device dev's packet counts.
func tunStats(ns *netns.NS, dev string) string {
	var out string
	ns.Do(func() error {
		l, err := netlink.LinkByName(dev)
		if err != nil {
			return err
		}
		st := l.Attrs().Statistics
		out = fmt.Sprintf("rx %d pkts, rx_dropped %d, rx_errors %d, tx %d, tx_dropped %d", st.RxPackets, st.RxDropped, st.RxErrors, st.TxPackets, st.TxDropped)
		return nil
	})
	return out
}

// TestVnetHeaderFor checks the virtio_net_hdr vnetEndpoint writes before
// each of gVisor's packets (linux/virtio_net.h): "csum_start" counts from
// the packet's first byte (a TUN has no link header), "csum_offset" from
// there to the checksum; a GSO type and gso_size only for a segment longer
// than the MSS; a zero header without GSO options; and an error for
// gVisor's own GSO, which this endpoint does not offer.
func TestVnetHeaderFor(t *testing.T) {
	mk := func(l3, payload int, g stack.GSO) *stack.PacketBuffer {
		pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
			ReserveHeaderBytes: l3 + 20,
			Payload:            buffer.MakeWithData(make([]byte, payload)),
		})
		pkt.TransportHeader().Push(20)
		pkt.NetworkHeader().Push(l3)
		pkt.GSOOptions = g
		return pkt
	}
	tso4 := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: 16, MSS: 1460, L3HdrLen: 20, MaxSize: vnetGSOMax}
	tso6 := stack.GSO{Type: stack.GSOTCPv6, NeedsCsum: true, CsumOffset: 16, MSS: 1440, L3HdrLen: 40, MaxSize: vnetGSOMax}
	for _, tc := range []struct {
		name    string
		l3, n   int
		gso     stack.GSO
		want    [vnetHdrLen]byte
		wantErr bool
	}{
		{"IPv4, 3000 bytes past MSS 1460", 20, 3000, tso4,
			[vnetHdrLen]byte{1, 1, 40, 0, 0xb4, 0x05, 20, 0, 16, 0}, false},
		{"IPv4, exactly the MSS: no GSO type", 20, 1460, tso4,
			[vnetHdrLen]byte{1, 0, 40, 0, 0, 0, 20, 0, 16, 0}, false},
		{"IPv6, 64000 bytes past MSS 1440", 40, 64000, tso6,
			[vnetHdrLen]byte{1, 4, 60, 0, 0xa0, 0x05, 40, 0, 16, 0}, false},
		{"no GSO options", 20, 100, stack.GSO{}, [vnetHdrLen]byte{}, false},
		{"gVisor's own GSO", 20, 3000, stack.GSO{Type: stack.GSOGvisor, MSS: 1460}, [vnetHdrLen]byte{}, true},
	} {
		pkt := mk(tc.l3, tc.n, tc.gso)
		h, err := vnetHeaderFor(pkt)
		pkt.DecRef()
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		var got [vnetHdrLen]byte
		h.encode(&got)
		if got != tc.want {
			t.Errorf("%s: header % x, want % x", tc.name, got, tc.want)
		}
		if back := decodeVnetHeader(got[:]); back != h {
			t.Errorf("%s: decoded %+v, encoded %+v", tc.name, back, h)
		}
	}
}
