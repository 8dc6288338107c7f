//go:build linux

package device_test

import (
	"fmt"
	"io"
	"log"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/device"
)

// Two stacks on *os.Files, the ends of a socketpair whose every Write is
// one packet; an *os.File on a TUN device, or another package's device
// type, is taken the same way.
func ExampleNew() {
	p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	x, y := os.NewFile(uintptr(p[0]), "x"), os.NewFile(uintptr(p[1]), "y")
	a, err := device.New(x, 1500)
	if err != nil {
		log.Fatal(err)
	}
	b, err := device.New(y, 1500)
	if err != nil {
		log.Fatal(err)
	}
	server, err := synack.New(a, synack.Config{Addr: netip.MustParseAddr("198.18.0.1")})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
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
	io.WriteString(c, "hello over a device\n")
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", buf[:n])
	// Output: hello over a device
}
