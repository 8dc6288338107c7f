//go:build linux

package fd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/fd"
	"github.com/gosynack/synack/link/linktest"
)

// socketpair returns the two ends of a socketpair(AF_UNIX, typ), closed
// when t ends unless a Link took them.
func socketpair(t *testing.T, typ int) (int, int) {
	t.Helper()
	p, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return p[0], p[1]
}

// pipe returns a packet-mode pipe's read and write ends.
func pipe(t *testing.T, flags int) (int, int) {
	t.Helper()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|flags); err != nil {
		t.Fatal(err)
	}
	// A packet takes a page of a pipe's buffer, which holds 16 by
	// default: room for 256.
	if _, err := unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, 1<<20); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Ends a Link took are closed already; EBADF then is expected.
		unix.Close(p[0])
		unix.Close(p[1])
	})
	return p[0], p[1]
}

func newLink(t *testing.T, f int, mtu int) *fd.Link {
	t.Helper()
	l, err := fd.New(f, mtu)
	if err != nil {
		unix.Close(f)
		t.Fatal(err)
	}
	return l
}

func TestConformance(t *testing.T) {
	for _, typ := range []struct {
		name string
		typ  int
	}{{"SOCK_DGRAM", unix.SOCK_DGRAM}, {"SOCK_SEQPACKET", unix.SOCK_SEQPACKET}} {
		t.Run(typ.name, func(t *testing.T) {
			linktest.Run(t, func(t *testing.T) (link.Link, link.Link) {
				x, y := socketpair(t, typ.typ)
				return newLink(t, x, 1500), newLink(t, y, 1500)
			})
		})
	}
	t.Run("pipes", func(t *testing.T) {
		linktest.Run(t, func(t *testing.T) (link.Link, link.Link) {
			r1, w1 := pipe(t, unix.O_DIRECT)
			r2, w2 := pipe(t, unix.O_DIRECT)
			a, err := fd.NewPipe(r1, w2, 1500)
			if err != nil {
				t.Fatal(err)
			}
			b, err := fd.NewPipe(r2, w1, 1500)
			if err != nil {
				t.Fatal(err)
			}
			return a, b
		})
	})
}

// TestRefused: what cannot carry packets is refused, saying why, and the
// descriptor is left open.
func TestRefused(t *testing.T) {
	stream, _ := socketpair(t, unix.SOCK_STREAM)
	unconnected, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Create(t.TempDir() + "/f")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	dir, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	_, plainW := pipe(t, 0)
	directR, directW := pipe(t, unix.O_DIRECT)
	dgram, dgram2 := socketpair(t, unix.SOCK_DGRAM)
	closed, _ := socketpair(t, unix.SOCK_DGRAM)
	unix.Close(closed)
	t.Cleanup(func() {
		for _, f := range []int{stream, unconnected, dgram, dgram2} {
			unix.Close(f)
		}
	})
	for _, tc := range []struct {
		name string
		f    func() (*fd.Link, error)
		want string
	}{
		{"negative", func() (*fd.Link, error) { return fd.New(-1, 1500) }, "descriptor -1 is negative"},
		{"closed", func() (*fd.Link, error) { return fd.New(closed, 1500) }, "is not open"},
		{"stream socket", func() (*fd.Link, error) { return fd.New(stream, 1500) }, "stream socket, which does not keep packet boundaries: use SOCK_DGRAM or SOCK_SEQPACKET"},
		{"unconnected", func() (*fd.Link, error) { return fd.New(unconnected, 1500) }, "datagram socket (fd " + fmt.Sprint(unconnected) + ") is not connected"},
		{"regular file", func() (*fd.Link, error) { return fd.New(int(file.Fd()), 1500) }, "is a regular file, not a packet device"},
		{"directory", func() (*fd.Link, error) { return fd.New(int(dir.Fd()), 1500) }, "is a directory"},
		{"plain pipe", func() (*fd.Link, error) { return fd.NewPipe(directR, plainW, 1500) }, "pipe without O_DIRECT"},
		{"one pipe end", func() (*fd.Link, error) { return fd.New(directR, 1500) }, "is open for reading only; a Link reads and writes: for one descriptor each way (two pipes), use NewPipe"},
		{"ends swapped", func() (*fd.Link, error) { return fd.NewPipe(directW, directR, 1500) }, "is open for writing only, but is used for reading"},
		{"MTU 0", func() (*fd.Link, error) { return fd.New(dgram, 0) }, "MTU 0 for datagram socket"},
		{"MTU 67", func() (*fd.Link, error) { return fd.New(dgram, 67) }, "MTU 67 out of range (68 to 65535"},
		{"MTU 65536", func() (*fd.Link, error) { return fd.New(dgram, 65536) }, "MTU 65536 out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := tc.f()
			if err == nil {
				l.Close()
				t.Fatalf("accepted; want an error saying %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
	// The refused descriptors are still open and unchanged (blocking).
	for _, f := range []int{stream, unconnected, dgram} {
		fl, err := unix.FcntlInt(uintptr(f), unix.F_GETFL, 0)
		if err != nil {
			t.Fatalf("descriptor %d after a refusal: %v", f, err)
		}
		if fl&unix.O_NONBLOCK != 0 {
			t.Fatalf("descriptor %d made non-blocking by a refused New", f)
		}
	}
}

// TestPeerClosed: once a sequenced-packet socket's peer is closed, Receive
// says so (ErrPeerClosed) instead of blocking or spinning, and so does Send.
func TestPeerClosed(t *testing.T) {
	x, y := socketpair(t, unix.SOCK_SEQPACKET)
	l := newLink(t, x, 1500)
	defer l.Close()
	unix.Close(y)
	if _, err := l.Receive(make([]byte, 1500)); !errors.Is(err, fd.ErrPeerClosed) {
		t.Fatalf("Receive with the peer closed: %v, want ErrPeerClosed", err)
	}
	if err := l.Send(linktest.Packet(1, 40)); !errors.Is(err, fd.ErrPeerClosed) {
		t.Fatalf("Send with the peer closed: %v, want ErrPeerClosed", err)
	}
}

// TestFullQueueDrops: Send never waits for room. A peer that does not read
// fills the socket's buffer, after which packets are dropped and counted,
// and every Send returns.
func TestFullQueueDrops(t *testing.T) {
	x, y := socketpair(t, unix.SOCK_DGRAM)
	a, b := newLink(t, x, 1500), newLink(t, y, 1500)
	defer a.Close()
	defer b.Close()
	pkt := linktest.Packet(1, 1500)
	const sends = 10000 // 15 MB: far more than a socket's buffer (about 200 KiB by default)
	for i := range sends {
		if err := a.Send(pkt); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if a.Drops() == 0 || a.Drops() >= sends {
		t.Fatalf("%d of %d packets dropped, want some but not all", a.Drops(), sends)
	}
	// What was not dropped is there to read.
	buf := make([]byte, 1500)
	got := uint64(0)
	for {
		n, ok := b.TryReceive(buf)
		if !ok {
			break
		}
		if !bytes.Equal(buf[:n], pkt) {
			t.Fatalf("packet %d corrupted", got)
		}
		got++
	}
	if got+a.Drops() != sends {
		t.Fatalf("%d received + %d dropped, want %d sent", got, a.Drops(), sends)
	}
}

// TestHTTP: two synack stacks over a socketpair, net/http between them:
// 4 MiB each way with equal SHA-256.
func TestHTTP(t *testing.T) {
	for _, typ := range []struct {
		name string
		typ  int
	}{{"SOCK_DGRAM", unix.SOCK_DGRAM}, {"SOCK_SEQPACKET", unix.SOCK_SEQPACKET}} {
		t.Run(typ.name, func(t *testing.T) {
			x, y := socketpair(t, typ.typ)
			for _, f := range []int{x, y} {
				// Room for a window's worth of segments, so that little is
				// dropped (TCP recovers what is).
				unix.SetsockoptInt(f, unix.SOL_SOCKET, unix.SO_SNDBUF, 4<<20)
			}
			server, err := synack.New(newLink(t, x, 1500), synack.Config{Addr: netip.MustParseAddr("198.18.0.1")})
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			client, err := synack.New(newLink(t, y, 1500), synack.Config{Addr: netip.MustParseAddr("198.18.0.2")})
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			httpRoundTrip(t, server, client, "http://198.18.0.1/")
		})
	}
}

// httpRoundTrip serves on server, POSTs 4 MiB from client and gets 4 MiB
// back, and compares both with what was sent.
func httpRoundTrip(t *testing.T, server *synack.Stack, client interface {
	DialContext(context.Context, string, string) (net.Conn, error)
}, url string) {
	t.Helper()
	const size = 4 << 20
	body := bytes.Repeat([]byte("synack over a file descriptor\n"), size/30+1)[:size]
	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("X-Got", fmt.Sprintf("%d %x", n, h.Sum(nil)))
		w.Write(body)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(url, "application/octet-stream", bytes.NewReader(body))
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
		t.Fatalf("client got %d bytes (SHA-256 %x), want %d (%x)", len(got), sha256.Sum256(got), size, sum)
	}
}

// TestTUNHandedOver: a TUN descriptor opened elsewhere (here: by the test,
// in a private namespace, as Android's VpnService or a privileged helper
// would) becomes a Link whose MTU New asks the device for; the kernel's
// net/http client in the namespace talks to a synack server on it.
func TestTUNHandedOver(t *testing.T) {
	// A plain device (no offloads), as the descriptor below attaches
	// without IFF_VNET_HDR.
	ns := netns.ForTest(t, netns.Options{MTU: 1400, Persist: true, NoOffload: true})
	// The namespace's own descriptor is closed; the persistent device and
	// its addresses stay, for another descriptor to attach.
	if dev := ns.TUN(); dev != nil {
		dev.Close()
	}
	var l *fd.Link
	err := ns.Do(func() error {
		f, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		ifr, err := unix.NewIfreq(ns.TUNName())
		if err != nil {
			unix.Close(f)
			return err
		}
		ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
		if err := unix.IoctlIfreq(f, unix.TUNSETIFF, ifr); err != nil {
			unix.Close(f)
			return fmt.Errorf("TUNSETIFF %s: %w", ns.TUNName(), err)
		}
		// In the namespace, so that New can ask the interface its MTU.
		if l, err = fd.New(f, 0); err != nil {
			unix.Close(f)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if l.MTU() != 1400 || !strings.HasPrefix(l.Name(), "TUN device "+ns.TUNName()+" (fd ") {
		t.Fatalf("Link %q MTU %d, want TUN device %s MTU 1400", l.Name(), l.MTU(), ns.TUNName())
	}
	server, err := synack.New(l, synack.Config{Addr: netns.StackAddr})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	httpRoundTrip(t, server, ns, "http://"+netns.StackAddr.String()+"/")
}
