package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/link/impair"
)

// handler serves GET /payload (size bytes of payload(1, size)) and answers
// POST /upload with "N HEX", the body's size and SHA-256.
func handler(size int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /payload", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		io.Copy(w, payload(1, size))
	})
	mux.HandleFunc("POST /upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	return mux
}

func payloadSHA(seed uint64, size int64) string {
	h := sha256.New()
	io.Copy(h, payload(seed, size))
	return hex.EncodeToString(h.Sum(nil))
}

// figures is one transfer's report line.
type figures struct {
	what          string
	bytes         int64
	elapsed       time.Duration
	synackRetrans uint64
	kernelRetrans int64
}

func (f figures) String() string {
	return fmt.Sprintf("%-44s %9d bytes in %7.2fs = %7.2f MB/s; retransmitted segments: synack %d, kernel %d",
		f.what, f.bytes, f.elapsed.Seconds(), float64(f.bytes)/f.elapsed.Seconds()/1e6, f.synackRetrans, f.kernelRetrans)
}

// measure runs f and reports the bytes it moved and the retransmissions of
// both sides meanwhile.
func (e *env) measure(t *testing.T, what string, bytes int64, f func()) figures {
	t.Helper()
	s0, k0 := e.st.Counters().RetransSegs, e.kernelRetrans(t)
	start := time.Now()
	f()
	fig := figures{what, bytes, time.Since(start), e.st.Counters().RetransSegs - s0, e.kernelRetrans(t) - k0}
	t.Log(fig)
	return fig
}

// curlTransfers: curl in the namespace downloads from and uploads to an
// http.Server running on synack's Go API.
func curlTransfers(t *testing.T, e *env, size int64, label string) {
	ln, err := e.st.Listen("tcp", ":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler(size)}
	go srv.Serve(ln)
	defer srv.Close()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	out := filepath.Join(dir, "download")
	e.measure(t, label+"curl GET from synack (kernel receives)", size, func() {
		e.command(t, ctx, "curl", "-sS", "--fail", "-o", out, "http://"+netns.StackAddr.String()+"/payload")
	})
	if got, n := fileSHA(t, out); got != payloadSHA(1, size) || n != size {
		t.Fatalf("curl downloaded %d bytes, sha256 %s; want %d bytes, sha256 %s", n, got, size, payloadSHA(1, size))
	}

	up, want := writeFile(t, dir, 2, size)
	var resp string
	e.measure(t, label+"curl POST to synack (kernel sends)", size, func() {
		resp = e.command(t, ctx, "curl", "-sS", "--fail", "-H", "Content-Type: application/octet-stream",
			"--data-binary", "@"+up, "http://"+netns.StackAddr.String()+"/upload")
	})
	if resp != fmt.Sprintf("%d %s", size, want) {
		t.Fatalf("synack's server received %q; want %d bytes, sha256 %s", resp, size, want)
	}
}

// clientTransfers: synack's HTTP client downloads from and uploads to a
// kernel-side net/http server in the namespace.
func clientTransfers(t *testing.T, e *env, size int64, label string) {
	ln, err := e.ns.Listen("tcp", net.JoinHostPort(netns.KernelAddr.String(), "8080"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: handler(size)}
	go srv.Serve(ln)
	defer srv.Close()
	tr := &http.Transport{DialContext: e.st.DialContext}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	hc := &http.Client{Transport: tr}
	base := "http://" + net.JoinHostPort(netns.KernelAddr.String(), "8080")

	var got string
	var n int64
	e.measure(t, label+"synack GET from kernel server", size, func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/payload", nil)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		h := sha256.New()
		n, err = io.Copy(h, resp.Body)
		if err != nil {
			t.Fatalf("after %d bytes: %v", n, err)
		}
		got = hex.EncodeToString(h.Sum(nil))
	})
	if want := payloadSHA(1, size); got != want || n != size {
		t.Fatalf("synack downloaded %d bytes, sha256 %s; want %d, %s", n, got, size, want)
	}

	var answer []byte
	e.measure(t, label+"synack POST to kernel server", size, func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/upload", payload(3, size))
		req.ContentLength = size
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ = io.ReadAll(resp.Body)
	})
	if want := fmt.Sprintf("%d %s", size, payloadSHA(3, size)); string(answer) != want {
		t.Fatalf("kernel server received %q, want %q", answer, want)
	}
}

// TestCurlAndGoAPI: curl (the kernel's TCP) fetches from and posts to an
// http.Server on synack's Go API, and synack's client fetches from and
// posts to a kernel net/http server: SYNACK_INTEROP_SIZE each way, sha256
// equal.
func TestCurlAndGoAPI(t *testing.T) {
	needTools(t, "curl")
	e := newEnv(t, envOptions{})
	size := size(t, "SYNACK_INTEROP_SIZE", 100<<20)
	curlTransfers(t, e, size, "clean: ")
	clientTransfers(t, e, size, "clean: ")
}

// TestImpaired: the same four transfers over a path impaired by link/impair
// in both directions and by nftables dropping 2% of the kernel's packets.
func TestImpaired(t *testing.T) {
	needTools(t, "curl", "nft")
	e := newEnv(t, envOptions{impair: &impair.Config{Out: impaired, In: impaired, Seed: 1}})
	rules := `table inet synack_impair {
	chain output {
		type filter hook output priority 0; policy accept;
		meta l4proto tcp numgen random mod 100 < 2 drop
	}
}
`
	cmd := exec.Command("nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := e.ns.Start(cmd); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("nft: %v: %s", err, stderr.String())
	}
	if out := e.command(t, context.Background(), "nft", "list", "ruleset"); !strings.Contains(out, "numgen random mod 100 < 2") {
		t.Fatalf("nft rule not in place:\n%s", out)
	}
	// The kernel's congestion control decides its figures: BBR (this
	// machine's default) hardly slows for random loss, CUBIC and Reno
	// (synack's) do, so the two senders' rates compare only under the same
	// algorithm.
	cc := strings.TrimSpace(e.command(t, context.Background(), "cat", "/proc/sys/net/ipv4/tcp_congestion_control"))
	t.Logf("kernel congestion control: %s; synack: CUBIC", cc)
	size := size(t, "SYNACK_INTEROP_IMPAIRED_SIZE", 4<<20)
	curlTransfers(t, e, size, "impaired: ")
	clientTransfers(t, e, size, "impaired: ")
	t.Logf("link/impair out (synack -> kernel): %v", e.imp.Stats(impair.Out))
	t.Logf("link/impair in  (kernel -> synack): %v", e.imp.Stats(impair.In))
	t.Logf("nft: %s", strings.Join(strings.Fields(e.command(t, context.Background(), "nft", "list", "chain", "inet", "synack_impair", "output")), " "))
}
