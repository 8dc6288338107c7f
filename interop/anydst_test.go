package interop

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"testing"
)

// TestAnyDestination: with Config.AnyDestination, curl in the namespace
// connects to addresses and ports synack does not own (routed to the TUN),
// ListenAny accepts them, and each Conn's LocalAddr is what curl dialled,
// in IPv4 and in IPv6.
func TestAnyDestination(t *testing.T) {
	needTools(t, "curl")
	e := newEnv(t, envOptions{anyDest: true})
	ln, err := e.st.ListenAny()
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Context().Value(http.LocalAddrContextKey).(net.Addr))
	})}
	go srv.Serve(ln)
	defer srv.Close()
	for _, dst := range []string{"198.19.1.2:8443", "198.18.0.77:81", "198.18.0.2:80", "[2001:2:0:1::5]:8443", "[2001:2::77]:81", "[2001:2::2]:80"} {
		got := e.command(t, context.Background(), "curl", "-sS", "--fail", "--max-time", "30", "http://"+dst+"/")
		if got != dst {
			t.Errorf("curl to %s: synack's LocalAddr %q", dst, got)
		}
	}
}
