package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func newGet() *cobra.Command {
	var rf realFlags
	var output string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "get URL --tun NAME [-o FILE] [--timeout 30s] [-v]",
		Short: "Fetch a URL over synack on a TUN device (an HTTP client)",
		Long: `synack get fetches URL with Go's net/http client over synack on a TUN device
(see 'synack netns up'), writes the body to standard output or -o FILE, and
prints the status, size, time and SHA-256 of the body to standard error. The
URL's host must be an IPv4 or IPv6 address (http://[2001:2::1]:8080/): there
is no DNS.

Entering the namespace (--netns, default synack) needs root. With --netns ''
it runs in the namespace it is started in, and needs no root on a TUN device
of the user's own (ip tuntap add NAME mode tun user USER).`,
		Args: exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGet(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], output, timeout, &rf)
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the body to `FILE` instead of standard output")
	cmd.Flags().DurationVar(&timeout, "timeout", defaultConnectTimeout, "give up connecting after this long (0: when TCP gives up, after its SYN retransmissions)")
	return cmd
}

func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usageError{fmt.Errorf("URL %q: %v", raw, err)}
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, usageError{fmt.Errorf("URL %q: scheme %q, want http or https", raw, u.Scheme)}
	}
	if _, err := netip.ParseAddr(u.Hostname()); err != nil {
		return nil, usageError{fmt.Errorf("URL %q: host %q is not an IPv4 or IPv6 address (synack get has no DNS)", raw, u.Hostname())}
	}
	return u, nil
}

// defaultConnectTimeout bounds get's wait for a connection: curl's
// --connect-timeout defaults to 300 s, longer than anyone waits at a
// prompt; in 30 s four SYN retransmissions go unanswered (at 1, 3, 7 and
// 15 s: RFC 6298's 1 s initial RTO, doubled each time).
const defaultConnectTimeout = 30 * time.Second

// connectTimeout is a dial that gave up after --timeout.
type connectTimeout struct {
	addr  string
	after time.Duration
}

func (e *connectTimeout) Error() string {
	return fmt.Sprintf("timed out after %v connecting to %s: nothing answered (no server there, or its answers do not come back through the device); --timeout sets how long to wait", e.after, e.addr)
}

func runGet(ctx context.Context, stdout, stderr io.Writer, raw, output string, timeout time.Duration, rf *realFlags) error {
	addr, err := rf.check()
	if err != nil {
		return err
	}
	if timeout < 0 {
		return usageError{fmt.Errorf("--timeout %v: want a positive duration, or 0 for TCP's own limit", timeout)}
	}
	u, err := checkURL(raw)
	if err != nil {
		return err
	}
	w := stdout
	if output != "" {
		f, err := os.Create(output)
		if err != nil {
			return usageError{fmt.Errorf("-o %q: %v", output, err)}
		}
		defer f.Close()
		w = f
	}
	// State changes go to standard error when the body goes to standard
	// output.
	logTo := stdout
	if output == "" {
		logTo = stderr
	}
	dst, _ := netip.ParseAddr(u.Hostname())
	dst = dst.Unmap()
	src := addr.v4
	if dst.Is6() {
		src = addr.v6
	}
	if !src.IsValid() {
		return usageError{fmt.Errorf("URL %q: an IPv%d host, but synack has no IPv%[2]d address (--addr, --addr6)", raw, map[bool]int{true: 6, false: 4}[dst.Is6()])}
	}
	st, err := rf.open(addr, logTo, false)
	if err != nil {
		return err
	}
	defer st.Close()
	if warn := routeWarning(rf.tun, rf.ns, src); warn != "" {
		// The answers to synack's address would not come back.
		fmt.Fprintf(stderr, "synack get: warning: %s\n", warn)
	}
	dial := func(ctx context.Context, network, address string) (net.Conn, error) {
		if timeout == 0 {
			return st.DialContext(ctx, network, address)
		}
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		c, err := st.DialContext(dctx, network, address)
		if err != nil && ctx.Err() == nil && errors.Is(dctx.Err(), context.DeadlineExceeded) {
			return nil, &connectTimeout{address, timeout}
		}
		return c, err
	}
	tr := &http.Transport{DialContext: dial, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError{fmt.Errorf("URL %q: %v", raw, err)}
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	var ct *connectTimeout
	if errors.As(err, &ct) {
		return failure{fmt.Errorf("GET %s: %w", u, ct)}
	}
	if err != nil {
		return failure{err}
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), resp.Body)
	el := time.Since(start)
	if err != nil {
		return failure{fmt.Errorf("GET %s: after %d bytes: %w", u, n, err)}
	}
	fmt.Fprintf(stderr, "GET %s: %s, %d bytes in %v (%.1f MB/s), sha256 %x\n", u, resp.Status, n, el.Round(time.Millisecond), float64(n)/el.Seconds()/1e6, h.Sum(nil))
	// Closing finishes --pcap's file, which may fail: the connection is
	// closed first, so its FINs are in the file.
	resp.Body.Close()
	if err := st.Close(); err != nil {
		return failure{err}
	}
	if resp.StatusCode/100 != 2 {
		return failure{fmt.Errorf("GET %s: %s", u, resp.Status)}
	}
	return nil
}
