package synack_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/gosynack/synack"
)

// joinNetTUNs carries packets between two NetTUNs, as a tunnel between
// two wireguard-go devices would, a batch at a time and with headroom
// before each packet (offset 16, wireguard-go's). It returns when either
// side is closed; wait waits for that.
func joinNetTUNs(a, b *synack.NetTUN) (wait func()) {
	var wg sync.WaitGroup
	carry := func(from, to *synack.NetTUN) {
		defer wg.Done()
		const offset = 16
		mtu, _ := from.MTU()
		bufs := make([][]byte, from.BatchSize())
		for i := range bufs {
			bufs[i] = make([]byte, offset+mtu)
		}
		sizes := make([]int, len(bufs))
		out := make([][]byte, len(bufs))
		for {
			n, err := from.Read(bufs, sizes, offset)
			if err != nil {
				return
			}
			for i := range n {
				out[i] = bufs[i][:offset+sizes[i]]
			}
			if _, err := to.Write(out[:n], offset); err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go carry(a, b)
	go carry(b, a)
	return wg.Wait
}

// serveDNS answers A queries over TCP (RFC 7766: each message after a
// two-byte length) from names, and NXDOMAIN for the rest.
func serveDNS(ln net.Listener, names map[string]netip.Addr) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			for {
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				msg := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, msg); err != nil {
					return
				}
				b, ok := dnsAnswer(msg, names)
				if !ok {
					return
				}
				c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...))
			}
		}()
	}
}

// dnsAnswer answers the query msg from names: an A or AAAA record, NXDOMAIN
// for a name not there.
func dnsAnswer(msg []byte, names map[string]netip.Addr) ([]byte, bool) {
	var q dnsmessage.Message
	if err := q.Unpack(msg); err != nil || len(q.Questions) != 1 {
		return nil, false
	}
	r := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: q.ID, Response: true, Authoritative: true, RCode: dnsmessage.RCodeNameError},
		Questions: q.Questions,
	}
	qn := q.Questions[0]
	if a, ok := names[qn.Name.String()]; ok {
		r.RCode = dnsmessage.RCodeSuccess
		h := dnsmessage.ResourceHeader{Name: qn.Name, Type: qn.Type, Class: dnsmessage.ClassINET, TTL: 60}
		switch {
		case qn.Type == dnsmessage.TypeA && a.Is4():
			r.Answers = []dnsmessage.Resource{{Header: h, Body: &dnsmessage.AResource{A: a.As4()}}}
		case qn.Type == dnsmessage.TypeAAAA && a.Is6():
			r.Answers = []dnsmessage.Resource{{Header: h, Body: &dnsmessage.AAAAResource{AAAA: a.As16()}}}
		}
	}
	b, err := r.Pack()
	return b, err == nil
}

// serveDNSUDP answers queries over UDP from names.
func serveDNSUDP(pc net.PacketConn, names map[string]netip.Addr) {
	buf := make([]byte, 512)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		if b, ok := dnsAnswer(buf[:n], names); ok {
			pc.WriteTo(b, from)
		}
	}
}

// TestNetTUN: two stacks made by CreateNetTUN, their NetTUNs joined, the
// client resolving the server's name through the server's DNS (over TCP)
// and moving 4 MiB each way with net/http.
func TestNetTUN(t *testing.T) {
	serverAddr := netip.MustParseAddr("198.18.0.1")
	st, server, err := synack.CreateNetTUN([]netip.Addr{serverAddr}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ct, client, err := synack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.2")}, []netip.Addr{serverAddr}, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	wait := joinNetTUNs(st, ct)
	defer func() {
		// Each carrier returns once its side is closed.
		st.Close()
		ct.Close()
		wait()
	}()

	dns, err := server.Listen("tcp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	go serveDNS(dns, map[string]netip.Addr{"web.synack.test.": serverAddr})
	udns, err := server.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	defer udns.Close()
	go serveDNSUDP(udns, map[string]netip.Addr{"web.synack.test.": serverAddr})

	const size = 4 << 20
	body := bytes.Repeat([]byte("synack on a NetTUN\n"), size/19+1)[:size]
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, _ := io.Copy(h, r.Body)
		w.Header().Set("X-Got", fmt.Sprintf("%d %x", n, h.Sum(nil)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post("http://web.synack.test/", "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if want := fmt.Sprintf("%d %x", size, sum); resp.Header.Get("X-Got") != want {
		t.Fatalf("server got %q, want %q", resp.Header.Get("X-Got"), want)
	}
	if len(got) != size || sha256.Sum256(got) != sum {
		t.Fatalf("client got %d bytes, want %d with the SHA-256 sent", len(got), size)
	}
	if _, err := client.Dial("tcp", "nowhere.synack.test:80"); err == nil || !strings.Contains(err.Error(), "no such host") {
		t.Fatalf("Dial of a name the DNS server does not know: %v, want no such host", err)
	}
}

// TestNetTUNErrors: what CreateNetTUN cannot do yet, or at all, is an
// error saying so.
func TestNetTUNErrors(t *testing.T) {
	v4 := netip.MustParseAddr("198.18.0.1")
	v6 := netip.MustParseAddr("2001:2::1")
	for _, tc := range []struct {
		addrs, dns []netip.Addr
		mtu        int
		want       string
	}{
		{nil, nil, 1500, "no local address"},
		{[]netip.Addr{{}}, nil, 1500, "local address 0 is not set"},
		{[]netip.Addr{v6, netip.MustParseAddr("2001:2::9")}, nil, 1500, "2 IPv6 addresses"},
		{[]netip.Addr{v4, netip.MustParseAddr("198.18.0.9")}, nil, 1500, "2 IPv4 addresses"},
		{[]netip.Addr{v4}, []netip.Addr{{}}, 1500, "DNS server 0 is not set"},
		{[]netip.Addr{v4}, nil, 67, "MTU 67 out of range (68 to 65535)"},
		{[]netip.Addr{v4}, nil, 65536, "MTU 65536 out of range"},
	} {
		tun, s, err := synack.CreateNetTUN(tc.addrs, tc.dns, tc.mtu)
		if err == nil {
			s.Close()
			t.Errorf("CreateNetTUN(%v, %v, %d) succeeded, want an error saying %q", tc.addrs, tc.dns, tc.mtu, tc.want)
			continue
		}
		if tun != nil || s != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CreateNetTUN(%v, %v, %d): %v, want only an error saying %q", tc.addrs, tc.dns, tc.mtu, err, tc.want)
		}
	}
}

// TestNetTUNClose: a Read blocked when the NetTUN is closed returns
// os.ErrClosed, as do later Reads and Writes; a packet of no IP version is
// refused with EAFNOSUPPORT; bad buffers are errors, not panics.
func TestNetTUNClose(t *testing.T) {
	tun, s, err := synack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.1")}, nil, 1500)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bufs, sizes := [][]byte{make([]byte, 1500)}, []int{0}
	if _, err := tun.Write([][]byte{{0x50, 0, 0, 0}}, 0); !errors.Is(err, syscall.EAFNOSUPPORT) {
		t.Errorf("Write of an IP version 5 packet: %v, want EAFNOSUPPORT", err)
	}
	if _, err := tun.Write([][]byte{{0x45}}, 2); err == nil || !strings.Contains(err.Error(), "offset 2 outside buffer 0 of 1 bytes") {
		t.Errorf("Write with an offset past the buffer: %v", err)
	}
	if _, err := tun.Read(bufs, nil, 0); err == nil || !strings.Contains(err.Error(), "0 sizes for 1 buffers") {
		t.Errorf("Read with too few sizes: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := tun.Read(bufs, sizes, 0)
		done <- err
	}()
	if err := tun.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Read blocked when Close was called: %v, want os.ErrClosed", err)
	}
	if _, err := tun.Write([][]byte{{0x45, 0}}, 0); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close: %v, want os.ErrClosed", err)
	}
	if err := tun.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Dial("tcp", "198.18.0.2:80"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Dial on the Stack after NetTUN.Close: %v, want net.ErrClosed", err)
	}
}

// CreateNetTUN with IPv6: an IPv6-only server, a dual-stack client that
// resolves the server's AAAA record over UDP through its IPv6 DNS server,
// and an HTTP exchange over IPv6.
func TestNetTUNIPv6(t *testing.T) {
	server6 := netip.MustParseAddr("2001:2::1")
	st, server, err := synack.CreateNetTUN([]netip.Addr{server6}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	ct, client, err := synack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.2"), netip.MustParseAddr("2001:2::2")}, []netip.Addr{server6}, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	wait := joinNetTUNs(st, ct)
	defer func() {
		st.Close()
		ct.Close()
		wait()
	}()
	if server.Addr6() != server6 || client.Addr().String() != "198.18.0.2" {
		t.Fatalf("addresses: server %v, client %v and %v", server.Addr6(), client.Addr(), client.Addr6())
	}
	udns, err := server.ListenPacket("udp", ":53")
	if err != nil {
		t.Fatal(err)
	}
	defer udns.Close()
	go serveDNSUDP(udns, map[string]netip.Addr{"v6.synack.test.": server6})
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s", r.RemoteAddr)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://v6.synack.test/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if !strings.HasPrefix(string(got), "hello [2001:2::2]:") {
		t.Fatalf("got %q, want the client's IPv6 address", got)
	}
}
