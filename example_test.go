package synack_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/link/tun"
)

// Two stacks on an in-memory network, a client at mem.ClientAddr and a
// server at mem.ServerAddr, 5 ms apart: the server echoes what it reads
// until the client's FIN, then closes its side.
func Example() {
	network, clientPort, serverPort, err := mem.Pair(1, netsim.Impairment{Latency: 5 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer network.Close()
	server, err := synack.New(serverPort, synack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	client, err := synack.New(clientPort, synack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ln, err := server.Listen("tcp", ":7")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener or the stack was closed
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()

	c, err := client.DialContextTCP(context.Background(), "tcp", "198.18.0.1:7")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "hello, synack\n")
	c.CloseWrite() // half-close: the echo comes back, then the server's FIN
	echo, err := io.ReadAll(c)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s", echo)
	// Output: hello, synack
}

// net/http runs over synack unchanged: the server takes a synack
// Listener, the client's Transport dials with Stack.DialContext.
func Example_http() {
	network, clientPort, serverPort, err := mem.Pair(1, netsim.Impairment{Latency: 5 * time.Millisecond})
	if err != nil {
		log.Fatal(err)
	}
	defer network.Close()
	server, err := synack.New(serverPort, synack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	client, err := synack.New(clientPort, synack.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()

	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.URL.Path)
	})}
	go srv.Serve(ln)
	defer srv.Close()

	tr := &http.Transport{DialContext: client.DialContext}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get("http://198.18.0.1/synack")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Status)
	fmt.Printf("%s", body)
	// Output:
	// 200 OK
	// hello, /synack
}

// A stack on a Linux TUN device, the kernel on the other side: the kernel
// routes 198.18.0.0/24 to the device, and with Config.AnyDestination and
// ListenAny the stack accepts a connection to any address and port of it
// (curl http://198.18.0.77:8080/ is answered), as a transparent proxy
// would, each Conn's LocalAddr being where the client meant to go.
//
// Creating a TUN device needs root (CAP_NET_ADMIN), so this example has no
// Output line: go test compiles it but does not run it.
func ExampleStack_ListenAny() {
	dev, err := tun.Open("synack0", 1500)
	if err != nil {
		log.Fatal(err)
	}
	// The kernel's address on the link; the prefix is routed to the device.
	if err := tun.Configure(dev.Name(), netip.MustParsePrefix("198.18.0.1/24")); err != nil {
		dev.Close()
		log.Fatal(err)
	}
	st, err := synack.New(dev, synack.Config{Addr: netip.MustParseAddr("198.18.0.2"), AnyDestination: true})
	if err != nil {
		dev.Close()
		log.Fatal(err)
	}
	defer st.Close() // closes dev too
	ln, err := st.ListenAny()
	if err != nil {
		log.Fatal(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return // the stack was closed
		}
		go func(c net.Conn) {
			defer c.Close()
			fmt.Fprintf(c, "you dialled %v\n", c.LocalAddr())
		}(c)
	}
}
