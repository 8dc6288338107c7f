package device_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/gosynack/synack/link/device"
	"github.com/gosynack/synack/link/linktest"
)

func newLink(t *testing.T, dev io.ReadWriteCloser, mtu int) *device.Link {
	t.Helper()
	l, err := device.New(dev, mtu)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// net.Pipe serves as a device in the tests below that do not send: its
// Write waits for a Read, which a Link's Send must not.

// shortReader fails a Read into a buffer shorter than its packet, as some
// TUN drivers do; the adapter still truncates.
type shortReader struct {
	io.ReadWriteCloser
	pkt []byte
}

func (r *shortReader) Read(b []byte) (int, error) {
	if len(b) < len(r.pkt) {
		return 0, errors.New("buffer too short")
	}
	return copy(b, r.pkt), nil
}

func TestTruncatesForADeviceThatWillNot(t *testing.T) {
	x, _ := net.Pipe()
	pkt := linktest.Packet(1, 1000)
	l := newLink(t, &shortReader{x, pkt}, 1500)
	defer l.Close()
	buf := make([]byte, 100)
	n, err := l.Receive(buf)
	if err != nil || !bytes.Equal(buf[:n], pkt[:100]) {
		t.Fatalf("Receive into 100 bytes: %d, %v; want the packet's first 100 bytes", n, err)
	}
}

// eofDevice gives one packet together with io.EOF, then nothing.
type eofDevice struct {
	io.ReadWriteCloser
	pkt []byte
}

func (d *eofDevice) Read(b []byte) (int, error) {
	n := copy(b, d.pkt)
	d.pkt = nil
	return n, io.EOF
}

// A packet that comes with an error is handed over; the error comes next,
// and stays.
func TestReadError(t *testing.T) {
	x, _ := net.Pipe()
	pkt := linktest.Packet(1, 60)
	l := newLink(t, &eofDevice{x, pkt}, 1500)
	defer l.Close()
	buf := make([]byte, 1500)
	if n, err := l.Receive(buf); err != nil || !bytes.Equal(buf[:n], pkt) {
		t.Fatalf("first Receive: %d, %v; want the packet", n, err)
	}
	for range 2 {
		if _, err := l.Receive(buf); !errors.Is(err, io.EOF) {
			t.Fatalf("Receive after the device's EOF: %v, want io.EOF", err)
		}
	}
}

// emptyDevice's Reads give nothing and no error, forever.
type emptyDevice struct{ io.ReadWriteCloser }

func (emptyDevice) Read([]byte) (int, error) { return 0, nil }

func TestNoProgress(t *testing.T) {
	x, _ := net.Pipe()
	l := newLink(t, emptyDevice{x}, 1500)
	defer l.Close()
	if _, err := l.Receive(make([]byte, 1500)); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("Receive on a device that gives nothing: %v, want io.ErrNoProgress", err)
	}
}

func TestNewErrors(t *testing.T) {
	x, _ := net.Pipe()
	for _, tc := range []struct {
		dev  io.ReadWriteCloser
		mtu  int
		want string
	}{
		{nil, 1500, "nil device"},
		{x, 67, "MTU 67 out of range (68 to 65535)"},
		{x, 65536, "MTU 65536 out of range"},
	} {
		if _, err := device.New(tc.dev, tc.mtu); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%v, %d): %v, want an error saying %q", tc.dev, tc.mtu, err, tc.want)
		}
	}
}

var _ io.ReadWriteCloser = (*os.File)(nil)
