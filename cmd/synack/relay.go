package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/relay"
)

type relayFlags struct {
	real        realFlags
	direct      bool
	socks5      string
	socks5User  string
	dialTimeout time.Duration
	udpIdle     time.Duration
}

func newRelay() *cobra.Command {
	var f relayFlags
	cmd := &cobra.Command{
		Use:   "relay --tun NAME (--direct | --socks5 HOST:PORT)",
		Short: "Forward every TCP connection and UDP flow on a TUN device to its destination (tun2socks)",
		Long: `synack relay runs synack on a TUN device, with every address routed to it
as its own, and forwards each TCP connection and UDP flow that arrives to the
destination the client chose, as tun2socks does: through this host's own
sockets in the namespace synack relay runs in (--direct), or through a SOCKS5
proxy (--socks5 HOST:PORT: CONNECT for TCP, UDP ASSOCIATE for UDP).

A TCP connection is dialled before the client's SYN is answered: a destination
that refuses is refused to the client too (a RST; host and network unreachable
as ICMP). A UDP flow whose dial fails is answered with Port Unreachable; one
idle for --udp-idle expires.

-v prints each flow as it opens, is refused and closes, with the bytes each way.
The counters are printed on SIGUSR1 and at exit. --pcap writes what crosses the
TUN. The device is in --netns (default synack; '' for the namespace synack
relay runs in); the relay's own sockets are always in the namespace it runs in.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRelay(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), &f)
		},
	}
	fs := cmd.Flags()
	f.real.register(fs)
	fs.Lookup("verbose").Usage = "print every flow as it opens, is refused and closes, with the bytes each way"
	fs.BoolVar(&f.direct, "direct", false, "dial the destinations with this host's own sockets")
	fs.StringVar(&f.socks5, "socks5", "", "dial the destinations through the SOCKS5 proxy at `HOST:PORT`")
	fs.StringVar(&f.socks5User, "socks5-user", "", "authenticate to the proxy as `USER` (RFC 1929), with the password in $SYNACK_SOCKS5_PASSWORD")
	fs.DurationVar(&f.dialTimeout, "dial-timeout", 10*time.Second, "bound on each dial to a destination")
	fs.DurationVar(&f.udpIdle, "udp-idle", 60*time.Second, "a UDP flow with no datagram either way for this long expires")
	return cmd
}

func (f *relayFlags) check() error {
	switch {
	case f.direct == (f.socks5 != ""):
		return usageError{errors.New("give exactly one of --direct and --socks5 HOST:PORT")}
	case f.socks5User != "" && f.socks5 == "":
		return usageError{errors.New("--socks5-user needs --socks5 HOST:PORT")}
	case len(f.socks5User) > 255 || len(os.Getenv("SYNACK_SOCKS5_PASSWORD")) > 255:
		return usageError{errors.New("--socks5-user and $SYNACK_SOCKS5_PASSWORD: at most 255 bytes each (RFC 1929)")}
	case f.dialTimeout <= 0:
		return usageError{fmt.Errorf("--dial-timeout %v: want a positive duration", f.dialTimeout)}
	case f.udpIdle <= 0:
		return usageError{fmt.Errorf("--udp-idle %v: want a positive duration", f.udpIdle)}
	}
	if f.socks5 != "" {
		host, port, err := net.SplitHostPort(f.socks5)
		if err != nil || host == "" {
			return usageError{fmt.Errorf("--socks5 %q: want HOST:PORT (e.g. 127.0.0.1:1080)", f.socks5)}
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return usageError{fmt.Errorf("--socks5 %q: port %q is not a number from 1 to 65535", f.socks5, port)}
		}
	}
	return nil
}

func runRelay(ctx context.Context, w, stderr io.Writer, f *relayFlags) error {
	addr, err := f.real.check()
	if err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	var dialer relay.Dialer = relay.Direct{}
	how := "direct"
	if f.socks5 != "" {
		s := &relay.SOCKS5{Addr: f.socks5, User: f.socks5User, Password: os.Getenv("SYNACK_SOCKS5_PASSWORD")}
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := s.Check(cctx)
		cancel()
		if err != nil {
			return failure{fmt.Errorf("%v (is the proxy running and reachable from here?)", err)}
		}
		dialer, how = s, "through socks5 proxy "+f.socks5
	}
	rf := f.real
	rf.verbose = false // -v is the flow lines here, not the state changes
	st, err := rf.open(addr, w, true)
	if err != nil {
		return err
	}
	defer st.Close()
	var out sync.Mutex
	printf := func(format string, a ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Fprintf(w, format, a...)
	}
	cfg := relay.Config{Dialer: dialer, DialTimeout: f.dialTimeout, UDPIdle: f.udpIdle}
	if f.real.verbose {
		cfg.Log = func(line string) { printf("%s %s\n", time.Now().Format("15:04:05.000"), line) }
	}
	r, err := relay.Start(st, cfg)
	if err != nil {
		return failure{err}
	}
	ps, err := routedTo(f.real.tun, f.real.ns)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "synack relay: warning: could not read the routes to %s: %v\n", f.real.tun, err)
	case len(ps) == 0:
		fmt.Fprintf(stderr, "synack relay: warning: nothing is routed to %s, so no flow can reach synack\n", f.real.tun)
	}
	printf("synack relay: relaying every flow routed to %s (%s) %s\n", f.real.tun, joinPrefixes(ps), how)
	usr1, stopUsr1 := notifyCounters()
	defer stopUsr1()
	for {
		select {
		case <-usr1:
			printf("synack relay: %v\n", r.Counters())
		case <-ctx.Done():
			r.Close()
			printf("synack relay: %v\n", r.Counters())
			// Closing finishes --pcap's file, which may fail.
			if err := st.Close(); err != nil {
				return failure{err}
			}
			return nil
		}
	}
}
