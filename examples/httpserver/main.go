// Command httpserver serves net/http on a synack stack over an in-memory
// network with a 40 ms round trip, and fetches a few pages from it with a
// net/http client dialing through a second stack: first with keep-alive,
// then as HTTP/2 without TLS. It prints the responses and how many
// connections each client opened.
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
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
	network, clientPort, serverPort, err := mem.Pair(1, netsim.Impairment{Latency: 20 * time.Millisecond})
	if err != nil {
		return err
	}
	defer network.Close()
	server, err := synack.New(serverPort, synack.Config{Name: "server"})
	if err != nil {
		return err
	}
	defer server.Close()

	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		return err
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(rw, "hello from synack: %s %s over %s\n", r.Method, r.URL.Path, r.Proto)
		}),
		Protocols: &protos,
	}
	go srv.Serve(ln)
	defer srv.Close()

	client, err := synack.New(clientPort, synack.Config{Name: "client"})
	if err != nil {
		return err
	}
	defer client.Close()
	for _, h2 := range []bool{false, true} {
		before := client.Counters().ActiveOpens
		tr := &http.Transport{DialContext: client.DialContext}
		if h2 {
			var p http.Protocols
			p.SetUnencryptedHTTP2(true)
			tr.Protocols = &p
		}
		hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
		for _, path := range []string{"/", "/about", "/contact"} {
			resp, err := hc.Get("http://198.18.0.1" + path)
			if err != nil {
				return err
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s %s", resp.Status, body)
		}
		tr.CloseIdleConnections()
		fmt.Fprintf(w, "connections opened: %d\n", client.Counters().ActiveOpens-before)
	}
	return nil
}
