// Command echo runs an echo server and a client on two synack stacks joined
// by an in-memory network with 20 ms of latency and 2% loss, and prints
// what comes back and each side's connection as `ss -ti` would.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

func main() {
	if err := run(os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(w io.Writer) error {
	network, clientPort, serverPort, err := mem.Pair(1, netsim.Impairment{Latency: 10 * time.Millisecond, Loss: 0.02})
	if err != nil {
		return err
	}
	defer network.Close()
	server, err := synack.New(serverPort, synack.Config{Name: "server"})
	if err != nil {
		return err
	}
	defer server.Close()
	client, err := synack.New(clientPort, synack.Config{Name: "client"})
	if err != nil {
		return err
	}
	defer client.Close()

	ln, err := server.Listen("tcp", ":7")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener was closed
			}
			go func(c net.Conn) {
				defer c.Close()
				io.Copy(c, c) // echo until the client's FIN
			}(c)
		}
	}()

	c, err := client.Dial("tcp", "198.18.0.1:7")
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second)) // bound the example
	in := bufio.NewReader(c)
	for _, line := range []string{"hello", "synack", "goodbye"} {
		if _, err := fmt.Fprintln(c, line); err != nil {
			return err
		}
		echo, err := in.ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "echo: %s", echo)
	}
	for _, s := range client.Sockets() {
		fmt.Fprintf(w, "client: %v\n", s)
	}
	c.(*synack.Conn).CloseWrite()
	if _, err := in.ReadString('\n'); err != io.EOF {
		return fmt.Errorf("after CloseWrite: %v, want EOF", err)
	}
	return nil
}
