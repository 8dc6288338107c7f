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
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

type serveFlags struct {
	real    realFlags
	httpDir string
	echo    bool
	discard bool
	port    int
	anyDst  bool
}

func newServe() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --tun NAME [--addr 198.18.0.2] [--addr6 2001:2::2] (--http DIR | --echo | --discard)",
		Short: "Serve files, echo or discard over synack on a TUN device",
		Long: `synack serve runs synack on a TUN device (see 'synack netns up') and serves one
of: the files of a directory over HTTP (--http DIR, port 80; a POST or PUT
is read and answered with its size and SHA-256, nothing is stored), an echo service
(--echo, port 7) or a discard service that prints each connection's byte count
and SHA-256 (--discard, port 9). With --any it accepts connections to every
address and port routed to the device, as a transparent proxy would, and prints
each one's original destination. It listens on IPv4 (--addr) and IPv6
(--addr6) both; give either as "" to run on the other family only. It runs until interrupted (Ctrl-C).

Entering the namespace (--netns, default synack) needs root. With --netns ''
it runs in the namespace it is started in, and needs no root on a TUN device
of the user's own (ip tuntap add NAME mode tun user USER).`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), &f)
		},
	}
	fs := cmd.Flags()
	f.real.register(fs)
	fs.StringVar(&f.httpDir, "http", "", "serve the files of `DIR` over HTTP")
	fs.BoolVar(&f.echo, "echo", false, "echo every connection's bytes back")
	fs.BoolVar(&f.discard, "discard", false, "read and discard, then print the byte count and SHA-256")
	fs.IntVar(&f.port, "port", 0, "port to listen on (default 80, 7 or 9 by service)")
	fs.BoolVar(&f.anyDst, "any", false, "accept connections to any address and port routed to the device")
	return cmd
}

func (f *serveFlags) check() error {
	n := 0
	for _, on := range []bool{f.httpDir != "", f.echo, f.discard} {
		if on {
			n++
		}
	}
	if n != 1 {
		return usageError{errors.New("give exactly one of --http DIR, --echo and --discard")}
	}
	if f.httpDir != "" {
		fi, err := os.Stat(f.httpDir)
		if err != nil {
			return usageError{fmt.Errorf("--http %q: %v", f.httpDir, err)}
		}
		if !fi.IsDir() {
			return usageError{fmt.Errorf("--http %q: not a directory", f.httpDir)}
		}
	}
	if f.port < 0 || f.port > 65535 {
		return usageError{fmt.Errorf("--port %d: want 1 to 65535", f.port)}
	}
	if f.port == 0 {
		switch {
		case f.httpDir != "":
			f.port = 80
		case f.echo:
			f.port = 7
		default:
			f.port = 9
		}
	}
	return nil
}

// runServe serves until ctx ends.
func runServe(ctx context.Context, w, stderr io.Writer, f *serveFlags) error {
	addr, err := f.real.check()
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	st, err := f.real.open(addr, w, f.anyDst)
	if err != nil {
		return err
	}
	defer st.Close()
	var ln net.Listener
	if f.anyDst {
		ln, err = st.ListenAny()
	} else {
		// Both families when synack has both addresses, as Go's net
		// package listens on ":port".
		host := ""
		if !addr.v4.IsValid() || !addr.v6.IsValid() {
			host = addr.main().String()
		}
		ln, err = st.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(f.port)))
	}
	if err != nil {
		return failure{err}
	}
	var out sync.Mutex
	printf := func(format string, a ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(w, format, a...)
	}
	what := "listening on " + ln.Addr().String()
	if f.anyDst {
		ps, err := routedTo(f.real.tun, f.real.ns)
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "synack serve: warning: could not read the routes to %s: %v\n", f.real.tun, err)
		case len(ps) == 0:
			fmt.Fprintf(stderr, "synack serve: warning: nothing is routed to %s, so no connection can reach synack\n", f.real.tun)
		}
		what = fmt.Sprintf("accepting connections to any address routed to %s (%s)", f.real.tun, joinPrefixes(ps))
	} else {
		for _, a := range []netip.Addr{addr.v4, addr.v6} {
			if !a.IsValid() {
				continue
			}
			if warn := routeWarning(f.real.tun, f.real.ns, a); warn != "" {
				fmt.Fprintf(stderr, "synack serve: warning: %s\n", warn)
			}
		}
	}
	switch {
	case f.httpDir != "":
		printf("synack serve: %s, HTTP files of %s\n", what, f.httpDir)
	case f.echo:
		printf("synack serve: %s, echo\n", what)
	default:
		printf("synack serve: %s, discard\n", what)
	}
	errc := make(chan error, 1)
	go func() {
		if f.httpDir != "" {
			srv := &http.Server{Handler: fileServer(f.httpDir), ReadHeaderTimeout: time.Minute}
			errc <- srv.Serve(ln)
			return
		}
		for {
			c, err := ln.Accept()
			if err != nil {
				errc <- err
				return
			}
			if f.anyDst {
				printf("%s: connection from %v to %v\n", time.Now().Format("15:04:05.000"), c.RemoteAddr(), c.LocalAddr())
			}
			go func() {
				defer c.Close()
				if f.echo {
					io.Copy(c, c)
					return
				}
				h := sha256.New()
				start := time.Now()
				n, err := io.Copy(h, c)
				status := ""
				if err != nil {
					status = " (" + err.Error() + ")"
				}
				printf("%v: %d bytes in %v, sha256 %x%s\n", c.RemoteAddr(), n, time.Since(start).Round(time.Millisecond), h.Sum(nil), status)
			}()
		}
	}()
	select {
	case <-ctx.Done():
		ln.Close()
		// Closing finishes --pcap's file, which may fail.
		if err := st.Close(); err != nil {
			return failure{err}
		}
		return nil
	case err := <-errc:
		return failure{err}
	}
}

// fileServer serves dir's files; a POST or PUT body is hashed, not stored,
// and the answer is "N bytes, sha256 HEX".
func fileServer(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost && r.Method != http.MethodPut {
			files.ServeHTTP(w, r)
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, fmt.Sprintf("after %d bytes: %v", n, err), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%d bytes, sha256 %x\n", n, h.Sum(nil))
	})
}

func joinPrefixes(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}
