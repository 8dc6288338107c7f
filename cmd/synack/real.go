package main

import (
	"fmt"
	"io"
	"net/netip"
	"sync"
	"time"

	"github.com/spf13/pflag"

	synack "github.com/gosynack/synack"
	"github.com/gosynack/synack/internal/netns"
	"github.com/gosynack/synack/trace"
)

// realFlags are the flags of the commands that run synack on a TUN device
// in a namespace made by `synack netns up`.
type realFlags struct {
	tun     string
	ns      string
	addr    string
	addr6   string
	verbose bool
	pcap    string
}

func (f *realFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.tun, "tun", "", "TUN device `NAME` synack runs on ('synack netns up' makes "+netns.DefaultTUN+")")
	fs.StringVar(&f.ns, "netns", defaultNetns, "network namespace `NAME` the TUN device is in (\"\" for the one synack is started in)")
	fs.StringVar(&f.addr, "addr", netns.StackAddr.String(), "synack's IPv4 address on the TUN (\"\" for none)")
	fs.StringVar(&f.addr6, "addr6", netns.StackAddr6.String(), "synack's IPv6 address on the TUN (\"\" for none)")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print every connection state change as it happens")
	fs.StringVar(&f.pcap, "pcap", "", "also write what crosses the TUN device to this pcapng `FILE`, each packet commented with what synack decided")
}

// addrs are synack's addresses on the TUN: IPv4, IPv6 or both.
type addrs struct{ v4, v6 netip.Addr }

// main is the address --pcap names the host by: IPv4 if there is one.
func (a addrs) main() netip.Addr {
	if a.v4.IsValid() {
		return a.v4
	}
	return a.v6
}

// check validates the flags without touching the system.
func (f *realFlags) check() (addrs, error) {
	var a addrs
	if f.tun == "" {
		return a, usageError{fmt.Errorf("--tun is required: the TUN device to run on (`synack netns up` makes %q in namespace %q)", netns.DefaultTUN, defaultNetns)}
	}
	if err := checkDeviceFlags(f.tun, f.ns); err != nil {
		return a, err
	}
	if f.addr != "" {
		v, err := netip.ParseAddr(f.addr)
		if err != nil || !v.Is4() {
			return a, usageError{fmt.Errorf("--addr %q: not an IPv4 address (synack's side of the TUN, e.g. %v; \"\" for none)", f.addr, netns.StackAddr)}
		}
		a.v4 = v
	}
	if f.addr6 != "" {
		v, err := netip.ParseAddr(f.addr6)
		if err != nil || !v.Is6() || v.Is4In6() || v.Zone() != "" {
			return a, usageError{fmt.Errorf("--addr6 %q: not an IPv6 address (synack's side of the TUN, e.g. %v; \"\" for none)", f.addr6, netns.StackAddr6)}
		}
		a.v6 = v
	}
	if !a.v4.IsValid() && !a.v6.IsValid() {
		return a, usageError{fmt.Errorf("--addr and --addr6 are both empty: synack needs an address on the TUN")}
	}
	return a, nil
}

// open starts a Stack on the TUN device; closing the Stack finishes
// --pcap's file, and its error says whether that failed.
func (f *realFlags) open(a addrs, stdout io.Writer, anyDst bool) (*synack.Stack, error) {
	dev, err := openDevice(f.tun, f.ns)
	if err != nil {
		return nil, err
	}
	cfg := synack.Config{Addr: a.v4, Addr6: a.v6, AnyDestination: anyDst}
	if f.verbose {
		cfg.Recorder = stateLogger(stdout)
	}
	l, rec, err := withCapture(f.pcap, dev, a.main(), cfg.Recorder)
	if err != nil {
		dev.Close()
		return nil, err
	}
	cfg.Recorder = rec
	st, err := synack.New(l, cfg)
	if err != nil {
		l.Close()
		return nil, failure{err}
	}
	return st, nil
}

// stateLogger prints connection state changes with the wall-clock time:
// "15:04:05.000 198.18.0.2:80 198.18.0.1:41234 SYN-RECEIVED -> ESTABLISHED".
func stateLogger(w io.Writer) trace.Recorder {
	var mu sync.Mutex
	return trace.Func(func(e *trace.Event) {
		if e.Kind != trace.State {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		line := fmt.Sprintf("%s %v %v %s -> %s", time.Now().Format("15:04:05.000"), e.Local, e.Remote, e.From, e.To)
		if e.Reason != "" {
			line += " (" + e.Reason + ")"
		}
		fmt.Fprintln(w, line)
	})
}
