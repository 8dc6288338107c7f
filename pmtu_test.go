package synack

import (
	"io"
	"testing"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/stack"
)

// RFC 1191 §6.2: "the IP layer should associate each PMTU value that it
// has learned with a specific path". Over a path of 1280 bytes, the
// server's full-sized segments meet the network's Fragmentation Needed;
// Stack.PathMTU and Stack.PathMTUs then show the server's path MTU for the
// client, learnt from ICMP, and the client's for the server is still its
// link's.
func TestPathMTUAccessors(t *testing.T) {
	tn := newTestNet(t, netsim.Impairment{MTU: 1280})
	c, s := tn.connPair(t)
	want := make([]byte, 20000)
	go func() {
		s.Write(want)
		s.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil || len(got) != len(want) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if m := tn.server.PathMTU(mem.ClientAddr); m != 1280 {
		t.Fatalf("server's path MTU for the client %d, want 1280", m)
	}
	e := tn.server.PathMTUs()
	if len(e) != 1 || e[0].Dst != mem.ClientAddr || e[0].MTU != 1280 || e[0].From != stack.FromICMP || e[0].Expires != e[0].Learnt.Add(stack.PathMTUExpiry) {
		t.Fatalf("server's cache %+v", e)
	}
	if m := tn.client.PathMTU(mem.ServerAddr); m != 1500 {
		t.Fatalf("client's path MTU for the server %d, want its link's 1500", m)
	}
	if e := tn.client.PathMTUs(); len(e) != 0 {
		t.Fatalf("client's cache %+v, want none", e)
	}
}
