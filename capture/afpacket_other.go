//go:build !linux

package capture

import (
	"errors"

	"github.com/gopacket/gopacket/layers"
)

// Source reads the packets that cross one network interface; only Linux
// has it (packet sockets).
type Source struct {
	Name     string
	LinkType layers.LinkType
}

// ErrNotPermitted is the error of OpenLive run without the privilege to
// open a packet socket.
var ErrNotPermitted = errors.New("opening a packet socket (AF_PACKET) needs root (CAP_NET_RAW)")

// ErrNoInterface is the error of OpenLive given the name of no interface.
var ErrNoInterface = errors.New("no such network interface")

// liveSnaplen is what a live capture keeps of each packet.
const liveSnaplen = 262144

var errNoLive = errors.New("a live capture reads a Linux packet socket (AF_PACKET): not on this system; capture with tcpdump -w FILE and draw the file")

// OpenLive fails: live capture needs Linux.
func OpenLive(name string) (*Source, error) { return nil, errNoLive }

// Read fails: live capture needs Linux.
func (s *Source) Read() (Packet, error) { return Packet{}, errNoLive }

// Drops fails: live capture needs Linux.
func (s *Source) Drops() (int, error) { return 0, errNoLive }

// Close does nothing.
func (s *Source) Close() error { return nil }
