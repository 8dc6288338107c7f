package wgtun_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"testing"

	"golang.zx2c4.com/wireguard/tun"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link"
	"github.com/gosynack/synack/link/linktest"
	"github.com/gosynack/synack/link/wgtun"
)

// chanDev is a tun.Device in memory with batched reads: Read takes every
// packet waiting, up to len(bufs), as a kernel TUN with offloads does.
type chanDev struct {
	in     <-chan []byte
	out    chan<- []byte
	done   chan struct{}
	once   sync.Once
	events chan tun.Event
}

func newChanDevs() (a, b *chanDev) {
	ab, ba := make(chan []byte, 1024), make(chan []byte, 1024)
	mk := func(in <-chan []byte, out chan<- []byte) *chanDev {
		d := &chanDev{in: in, out: out, done: make(chan struct{}), events: make(chan tun.Event, 1)}
		d.events <- tun.EventUp
		return d
	}
	return mk(ba, ab), mk(ab, ba)
}

func (d *chanDev) File() *os.File           { return nil }
func (d *chanDev) MTU() (int, error)        { return 1420, nil }
func (d *chanDev) Name() (string, error)    { return "chan", nil }
func (d *chanDev) Events() <-chan tun.Event { return d.events }
func (d *chanDev) BatchSize() int           { return 4 }

func (d *chanDev) Read(bufs [][]byte, sizes []int, offset int) (int, error) {
	var p []byte
	select {
	case p = <-d.in:
	case <-d.done:
		return 0, os.ErrClosed
	}
	n := 0
	for {
		sizes[n] = copy(bufs[n][offset:], p)
		n++
		if n == len(bufs) {
			return n, nil
		}
		select {
		case p = <-d.in:
		default:
			return n, nil
		}
	}
}

func (d *chanDev) Write(bufs [][]byte, offset int) (int, error) {
	for i, b := range bufs {
		p := bytes.Clone(b[offset:])
		select {
		case d.out <- p:
		case <-d.done:
			return i, os.ErrClosed
		}
	}
	return len(bufs), nil
}

func (d *chanDev) Close() error {
	d.once.Do(func() {
		close(d.done)
		close(d.events)
	})
	return nil
}

func TestConformance(t *testing.T) {
	linktest.Run(t, func(t *testing.T) (link.Link, link.Link) {
		da, db := newChanDevs()
		a, err := wgtun.New(da)
		if err != nil {
			t.Fatal(err)
		}
		b, err := wgtun.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	})
}

// A batch read is handed over a packet at a time: the first by Receive,
// the rest by TryReceive without another Read.
func TestBatch(t *testing.T) {
	da, db := newChanDevs()
	b, err := wgtun.New(db)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	defer da.Close()
	for i := range 3 {
		da.Write([][]byte{append(make([]byte, 16), linktest.Packet(uint32(i), 100)...)}, 16)
	}
	buf := make([]byte, 1500)
	if n, err := b.Receive(buf); err != nil || !bytes.Equal(buf[:n], linktest.Packet(0, 100)) {
		t.Fatalf("Receive: %d, %v; want packet 0", n, err)
	}
	for i := 1; i < 3; i++ {
		n, ok := b.TryReceive(buf)
		if !ok || !bytes.Equal(buf[:n], linktest.Packet(uint32(i), 100)) {
			t.Fatalf("TryReceive %d: %d, %v; want packet %d of the batch", i, n, ok, i)
		}
	}
	if n, ok := b.TryReceive(buf); ok {
		t.Fatalf("TryReceive after the batch: a packet of %d bytes", n)
	}
}

// A synack Stack on wgtun.CreateNetTUN's tun.Device, and another on a
// wgtun Link over that same device: the second reads what the first sends,
// in batches, and writes what it sends back, as a wireguard-go device
// between them would; net/http moves 4 MiB each way.
func TestCreateNetTUN(t *testing.T) {
	dev, server, err := wgtun.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.1")}, nil, 1420)
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if ev := <-dev.Events(); ev != tun.EventUp {
		t.Fatalf("first event %v, want EventUp", ev)
	}
	l, err := wgtun.New(dev)
	if err != nil {
		t.Fatal(err)
	}
	if l.MTU() != 1420 {
		t.Fatalf("MTU %d, want 1420", l.MTU())
	}
	client, err := synack.New(l, synack.Config{Addr: netip.MustParseAddr("198.18.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()

	const size = 4 << 20
	body := bytes.Repeat([]byte("synack through a tun.Device\n"), size/28+1)[:size]
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
	resp, err := hc.Post("http://198.18.0.1/", "application/octet-stream", bytes.NewReader(body))
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
	// Closing the device (as wireguard-go's device.Close does) closes the
	// stack behind it and the Events channel.
	client.Close()
	if _, ok := <-dev.Events(); ok {
		t.Fatal("Events still open after the device's Close")
	}
	if _, err := server.Dial("tcp", "198.18.0.2:80"); err == nil {
		t.Fatal("Dial on the Stack after its device's Close succeeded")
	}
}

func TestCreateNetTUNErrors(t *testing.T) {
	two6 := []netip.Addr{netip.MustParseAddr("2001:2::1"), netip.MustParseAddr("2001:2::9")}
	if _, _, err := wgtun.CreateNetTUN(two6, nil, 1420); err == nil {
		t.Fatal("CreateNetTUN with two IPv6 addresses succeeded; a Stack has one of each family")
	}
	if _, err := wgtun.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}
