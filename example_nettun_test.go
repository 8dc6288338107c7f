package synack_test

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/netip"

	"github.com/gosynack/synack"
)

// CreateNetTUN gives a ready stack and the device it sends on: the caller
// reads the stack's packets from the NetTUN and writes the packets for it
// (wireguard-go's device does, through link/wgtun). Here two of them are
// joined back to back, as the two ends of a tunnel would be.
func ExampleCreateNetTUN() {
	serverTUN, server, err := synack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.1")}, nil, 1420)
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	clientTUN, client, err := synack.CreateNetTUN([]netip.Addr{netip.MustParseAddr("198.18.0.2")}, nil, 1420)
	if err != nil {
		log.Fatal(err)
	}
	defer client.Close()
	carry := func(from, to *synack.NetTUN) {
		bufs := [][]byte{make([]byte, 1420)}
		sizes := make([]int, 1)
		for {
			n, err := from.Read(bufs, sizes, 0)
			if err != nil {
				return // closed
			}
			if _, err := to.Write([][]byte{bufs[0][:sizes[0]]}, 0); err != nil || n != 1 {
				return
			}
		}
	}
	go carry(serverTUN, clientTUN)
	go carry(clientTUN, serverTUN)

	ln, err := server.Listen("tcp", ":80")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.URL.Path)
	}))
	hc := &http.Client{Transport: &http.Transport{DialContext: client.DialContext}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://198.18.0.1/nettun")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fmt.Printf("%s", b)
	// Output: hello, /nettun
}
