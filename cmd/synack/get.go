package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
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
	cmd := &cobra.Command{
		Use:   "get URL --tun NAME [-o FILE] [-v]",
		Short: "Fetch a URL over synack on a TUN device (an HTTP client)",
		Long: `synack get fetches URL with Go's net/http client over synack on a TUN device
(see 'synack netns up'), writes the body to standard output or -o FILE, and
prints the status, size, time and SHA-256 of the body to standard error. The
URL's host must be an IPv4 address: there is no DNS.

Entering the namespace (--netns, default synack) needs root. With --netns ''
it runs in the namespace it is started in, and needs no root on a TUN device
of the user's own (ip tuntap add NAME mode tun user USER).`,
		Args: exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runGet(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], output, &rf)
		},
	}
	rf.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the body to `FILE` instead of standard output")
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
	if a, err := netip.ParseAddr(u.Hostname()); err != nil || !a.Is4() {
		return nil, usageError{fmt.Errorf("URL %q: host %q is not an IPv4 address (synack get has no DNS)", raw, u.Hostname())}
	}
	return u, nil
}

func runGet(ctx context.Context, stdout, stderr io.Writer, raw, output string, rf *realFlags) error {
	addr, err := rf.check()
	if err != nil {
		return err
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
	st, err := rf.open(addr, logTo, false)
	if err != nil {
		return err
	}
	defer st.Close()
	tr := &http.Transport{DialContext: st.DialContext, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return usageError{fmt.Errorf("URL %q: %v", raw, err)}
	}
	start := time.Now()
	resp, err := (&http.Client{Transport: tr}).Do(req)
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
	if resp.StatusCode/100 != 2 {
		return failure{fmt.Errorf("GET %s: %s", u, resp.Status)}
	}
	return nil
}
