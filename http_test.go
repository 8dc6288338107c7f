package synack

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gosynack/synack/link/mem"
	"github.com/gosynack/synack/link/netsim"
)

// pattern returns n deterministic pseudo-random bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	r := mrand.NewChaCha8([32]byte{1})
	r.Read(b)
	return b
}

// handler serves GET /bytes/N (N pseudo-random bytes), POST /sha256 (the
// body's hash) and GET /hello.
func handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over %s", r.Proto)
	})
	mux.HandleFunc("GET /bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscan(r.PathValue("n"), &n)
		w.Header().Set("Content-Length", fmt.Sprint(n))
		w.Write(pattern(n))
	})
	mux.HandleFunc("POST /sha256", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		if _, err := io.Copy(h, r.Body); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, hex.EncodeToString(h.Sum(nil)))
	})
	return mux
}

type mode struct {
	name string
	tls  bool
	h2   bool
}

// httpSetup starts a net/http server on the server stack and returns a
// client whose Transport dials through the client stack.
func httpSetup(t *testing.T, tn *testNet, m mode) (*http.Client, string, func()) {
	t.Helper()
	ln, err := tn.server.Listen("tcp", ":443")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler()}
	tr := &http.Transport{DialContext: tn.client.DialContext, ForceAttemptHTTP2: true}
	scheme := "http"
	if m.tls {
		scheme = "https"
		cert, pool := testCert(t)
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
		if !m.h2 {
			srv.TLSConfig.NextProtos = []string{"http/1.1"}
		}
	} else if m.h2 {
		var sp, cp http.Protocols
		sp.SetHTTP1(true)
		sp.SetUnencryptedHTTP2(true)
		cp.SetUnencryptedHTTP2(true)
		srv.Protocols, tr.Protocols = &sp, &cp
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if m.tls {
			srv.ServeTLS(ln, "", "")
		} else {
			srv.Serve(ln)
		}
	}()
	stop := func() {
		tr.CloseIdleConnections()
		srv.Close()
		<-done
	}
	return &http.Client{Transport: tr}, scheme + "://198.18.0.1:443", stop
}

// testCert makes a self-signed certificate for 198.18.0.1, valid from an
// hour ago (under synctest, "now" is in the year 2000).
func testCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "synack test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{mem.ServerAddr.AsSlice()},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

var modes = []mode{
	{name: "HTTP1.1"},
	{name: "h2c", h2: true},
	{name: "TLS-HTTP1.1", tls: true},
	{name: "TLS-h2", tls: true, h2: true},
}

func wantProto(m mode) string {
	if m.h2 {
		return "HTTP/2.0"
	}
	return "HTTP/1.1"
}

// Three requests in each mode; keep-alive and HTTP/2 reuse one connection.
func TestHTTPRoundTrip(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t, netsim.Impairment{Latency: 10 * time.Millisecond})
				hc, base, stop := httpSetup(t, tn, m)
				defer stop()
				for range 3 {
					resp, err := hc.Get(base + "/hello")
					if err != nil {
						t.Fatal(err)
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if want := "hello over " + wantProto(m); string(body) != want || resp.Proto != wantProto(m) {
						t.Errorf("got %q over %s, want %q", body, resp.Proto, want)
					}
					if (resp.TLS != nil) != m.tls {
						t.Errorf("TLS state %v, want TLS %v", resp.TLS != nil, m.tls)
					}
				}
				if got := tn.client.Counters().ActiveOpens; got != 1 {
					t.Errorf("%d connections for 3 requests, want 1 (reuse)", got)
				}
			})
		})
	}
}

// HTTP/1.0 style: a connection per request.
func TestHTTPNoKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t, netsim.Impairment{Latency: 10 * time.Millisecond})
		hc, base, stop := httpSetup(t, tn, mode{})
		defer stop()
		hc.Transport.(*http.Transport).DisableKeepAlives = true
		for range 3 {
			resp, err := hc.Get(base + "/hello")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if got := tn.client.Counters().ActiveOpens; got != 3 {
			t.Errorf("%d connections for 3 requests without keep-alive, want 3", got)
		}
	})
}

// 10 MiB each way over a link that loses 1% of packets, in every mode,
// checked by SHA-256. Fake time: the retransmission timeouts cost no real
// time.
func TestHTTPLargeBodyLossy(t *testing.T) {
	const size = 10 << 20
	want := sha256.Sum256(pattern(size))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t, netsim.Impairment{Latency: 5 * time.Millisecond, Loss: 0.01})
				hc, base, stop := httpSetup(t, tn, m)
				defer stop()
				resp, err := hc.Get(fmt.Sprintf("%s/bytes/%d", base, size))
				if err != nil {
					t.Fatal(err)
				}
				h := sha256.New()
				n, err := io.Copy(h, resp.Body)
				resp.Body.Close()
				if err != nil || n != size || !bytes.Equal(h.Sum(nil), want[:]) {
					t.Fatalf("download: %d bytes, %v; hash matches: %v", n, err, bytes.Equal(h.Sum(nil), want[:]))
				}
				resp, err = hc.Post(base+"/sha256", "application/octet-stream", bytes.NewReader(pattern(size)))
				if err != nil {
					t.Fatal(err)
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != hex.EncodeToString(want[:]) {
					t.Fatalf("upload: server hashed %s, want %x", got, want)
				}
				c := tn.client.Counters()
				s := tn.server.Counters()
				if c.RetransSegs == 0 || s.RetransSegs == 0 {
					t.Errorf("no retransmissions (client %d, server %d): was the link lossy?", c.RetransSegs, s.RetransSegs)
				}
				t.Logf("retransmitted: client %d, server %d segments", c.RetransSegs, s.RetransSegs)
			})
		})
	}
}
