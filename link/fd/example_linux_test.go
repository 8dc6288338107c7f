//go:build linux

package fd_test

import (
	"fmt"
	"io"
	"log"
	"net/netip"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/fd"
)

// Two stacks joined by a socketpair, each end a Link: the same New takes
// a TUN descriptor another program handed over (Android's
// VpnService.Builder.establish().detachFd(), say), with mtu 0 to use the
// device's MTU.
func ExampleNew() {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	a, err := fd.New(pair[0], 1500)
	if err != nil {
		log.Fatal(err)
	}
	b, err := fd.New(pair[1], 1500)
	if err != nil {
		log.Fatal(err)
	}
	server, err := synack.New(a, synack.Config{Addr: netip.MustParseAddr("198.18.0.1")})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close() // closes a, and its descriptor
	client, err := synack.New(b, synack.Config{Addr: netip.MustParseAddr("198.18.0.2")})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ln, err := server.Listen("tcp", ":7")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	c, err := client.Dial("tcp", "198.18.0.1:7")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "hello over a socketpair\n")
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", buf[:n])
	// Output: hello over a socketpair
}
