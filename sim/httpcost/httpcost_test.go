package httpcost

import (
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack"
	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

func TestHandshakes(t *testing.T) {
	for _, n := range []int{1, 3, 5} {
		rs, err := Run(Config{Seed: 1, Requests: n, BodySize: 1024})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{HTTP10: n, KeepAlive: 1, HTTP2: 1}
		for _, r := range rs {
			if len(r.Problems) > 0 {
				t.Errorf("%d requests, %s: %v", n, r.Mode, r.Problems)
			}
			if r.Handshakes != want[r.Mode] {
				t.Errorf("%d requests, %s: %d handshakes, want %d", n, r.Mode, r.Handshakes, want[r.Mode])
			}
		}
		// With a perfect link the times are whole round trips: 2 per
		// request for HTTP/1.0, 1 + 1 per request for keep-alive, 2 for
		// HTTP/2.
		rtt := 100 * time.Millisecond
		wantT := []time.Duration{time.Duration(2*n) * rtt, time.Duration(1+n) * rtt, 2 * rtt}
		for i, r := range rs {
			if r.Time != wantT[i] {
				t.Errorf("%d requests, %s: took %v, want %v", n, r.Mode, r.Time, wantT[i])
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 5, Requests: 4, Link: netsim.Impairment{Loss: 0.1, Jitter: 5 * time.Millisecond}}
	a, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(cfg)
	if !reflect.DeepEqual(a, b) {
		t.Error("two runs with the same seed differ")
	}
	for _, r := range a {
		if len(r.Problems) > 0 {
			t.Errorf("%s over a lossy link: %v", r.Mode, r.Problems)
		}
	}
}

func TestBadConfig(t *testing.T) {
	for _, c := range []Config{{Requests: -1}, {RTT: -time.Second}, {BodySize: 2 << 20}, {Link: netsim.Impairment{Loss: 2}}} {
		if _, err := Run(c); err == nil {
			t.Errorf("Run(%+v) accepted a bad config", c)
		}
	}
}

// The scenario's scripts stand for real net/http: the same requests by
// net/http's client and server over synack's Go API, on a link with the
// same RTT under fake time, open as many connections and take as long.
func TestMatchesNetHTTP(t *testing.T) {
	const n = 3
	rs, err := Run(Config{Seed: 1, Requests: n, BodySize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		t.Run(strings.Fields(r.Mode)[0], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				opens, took := realHTTP(t, r.Mode, n)
				if opens != r.Handshakes {
					t.Errorf("net/http opened %d connections, the scenario %d", opens, r.Handshakes)
				}
				if took != r.Time {
					t.Errorf("net/http took %v, the scenario %v", took, r.Time)
				}
			})
		})
	}
}

func realHTTP(t *testing.T, mode string, n int) (opens int, took time.Duration) {
	net, cp, sp, err := mem.Pair(1, netsim.Impairment{Latency: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	client, _ := synack.New(cp, synack.Config{Seed: 1})
	defer client.Close()
	server, _ := synack.New(sp, synack.Config{Seed: 2})
	defer server.Close()
	ln, _ := server.Listen("tcp", ":80")
	body := strings.Repeat("x", 1024)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })}
	tr := &http.Transport{DialContext: client.DialContext}
	switch mode {
	case HTTP10:
		tr.DisableKeepAlives = true
	case HTTP2:
		var sp, cp http.Protocols
		sp.SetHTTP1(true)
		sp.SetUnencryptedHTTP2(true)
		cp.SetUnencryptedHTTP2(true)
		srv.Protocols, tr.Protocols = &sp, &cp
		// The N requests start together; without this, a cold Transport
		// dials a connection for each (a browser would wait for the first
		// and multiplex, as the scenario does).
		tr.MaxConnsPerHost = 1
	}
	go srv.Serve(ln)
	defer srv.Close()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	get := func(i int) {
		resp, err := hc.Get(fmt.Sprintf("http://198.18.0.1/%d", i))
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	start := time.Now()
	if mode == HTTP2 {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { get(i) })
		}
		wg.Wait()
	} else {
		for i := range n {
			get(i)
		}
	}
	took = time.Since(start)
	return int(client.Counters().ActiveOpens), took
}
