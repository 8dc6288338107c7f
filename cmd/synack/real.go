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
	verbose bool
	pcap    string
}

func (f *realFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.tun, "tun", "", "TUN device `NAME` synack runs on ('synack netns up' makes "+netns.DefaultTUN+")")
	fs.StringVar(&f.ns, "netns", defaultNetns, "network namespace `NAME` the TUN device is in (\"\" for the one synack is started in)")
	fs.StringVar(&f.addr, "addr", netns.StackAddr.String(), "synack's IPv4 address on the TUN")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "print every connection state change as it happens")
	fs.StringVar(&f.pcap, "pcap", "", "also write what crosses the TUN device to this pcapng `FILE`, each packet commented with what synack decided")
}

// check validates the flags without touching the system.
func (f *realFlags) check() (netip.Addr, error) {
	if f.tun == "" {
		return netip.Addr{}, usageError{fmt.Errorf("--tun is required: the TUN device to run on (`synack netns up` makes %q in namespace %q)", netns.DefaultTUN, defaultNetns)}
	}
	if err := checkDeviceFlags(f.tun, f.ns); err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(f.addr)
	if err != nil || !a.Is4() {
		return netip.Addr{}, usageError{fmt.Errorf("--addr %q: not an IPv4 address (synack's side of the TUN, e.g. %v)", f.addr, netns.StackAddr)}
	}
	return a, nil
}

// open starts a Stack on the TUN device; closing the Stack finishes
// --pcap's file, and its error says whether that failed.
func (f *realFlags) open(addr netip.Addr, stdout io.Writer, anyDst bool) (*synack.Stack, error) {
	dev, err := openDevice(f.tun, f.ns)
	if err != nil {
		return nil, err
	}
	cfg := synack.Config{Addr: addr, AnyDestination: anyDst}
	if f.verbose {
		cfg.Recorder = stateLogger(stdout)
	}
	l, rec, err := withCapture(f.pcap, dev, addr, cfg.Recorder)
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
