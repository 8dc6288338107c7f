//go:build !linux

package fd

import (
	"errors"

	"github.com/gosynack/synack/link"
)

// Link is a link.Link on a packet file descriptor; on this system it
// cannot be made.
type Link struct{}

var _ link.Link = (*Link)(nil)

var errUnsupported = errors.New("fd: packet file descriptors are only supported on Linux (and Android)")

// New returns an error: package fd needs Linux.
func New(fd int, mtu int) (*Link, error) { return nil, errUnsupported }

// NewPipe returns an error: package fd needs Linux.
func NewPipe(readFD, writeFD int, mtu int) (*Link, error) { return nil, errUnsupported }

func (l *Link) Send(pkt []byte) error             { return link.ErrClosed }
func (l *Link) Receive(buf []byte) (int, error)   { return 0, link.ErrClosed }
func (l *Link) TryReceive(buf []byte) (int, bool) { return 0, false }
func (l *Link) MTU() int                          { return 0 }
func (l *Link) Name() string                      { return "" }
func (l *Link) Drops() uint64                     { return 0 }
func (l *Link) Close() error                      { return nil }
