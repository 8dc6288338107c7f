package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/trace/i18n"
	"github.com/gosynack/synack/trace/ladder"
)

func newLadder() *cobra.Command {
	var (
		conn            string
		port            int
		absolute, ascii bool
		icmp            bool
		render          renderFlags
		plotFile        string
		live            liveFlags
	)
	cmd := &cobra.Command{
		Use:   "ladder FILE|- | ladder -i IFACE",
		Short: "Draw the ladder diagram of the TCP connections in a pcap or pcapng capture, or live on an interface",
		Long: `Draw the ladder diagram of the TCP connections in a pcap or pcapng capture
(tcpdump's, Wireshark's, the kernel's, synack's --pcap; - reads it from
standard input: tcpdump -w - | synack ladder -): both endpoints' states
inferred from the segments, seq and ack relative to each ISN, and the marks of
Wireshark's expert analysis (retransmissions, duplicate ACKs, out-of-order,
zero window, window full, keep-alives, RSTs).

#n is the packet's frame number: its place in the file, counted from 1 as
Wireshark's frame.number counts, so that a packet is found by the same number
in both (packets of other connections, ARP or neighbour discovery leave gaps).

win= is the window a segment advertises, in bytes: the header's field scaled
by the window scale its sender announced in its SYN (Wireshark's calculated
window size, tcp.window_size). win=N×? is the field of a connection whose
handshake the capture missed: its scale is unknown. --absolute shows the
numbers as they are on the wire: absolute seq and ack, the window unscaled.

A capture cut short (tcpdump killed while it wrote, a file copied while being
written) is drawn up to the cut, with a note saying where it ends, as tshark
does. gzip-compressed captures (FILE.pcap.gz) are read as they are.

--svg and --html draw the same ladder as a picture and as a page that steps
through the exchange, of one connection: pick it with --conn or --port when the
capture holds several. --plot plots that connection (see synack plot).

IPv4 and IPv6 (its extension headers walked to the TCP header); addresses
are written [v6]:port. ICMP and ICMPv6 errors that quote a connection's
segment (Destination Unreachable, Fragmentation Needed and Packet Too Big
with their MTU, Time Exceeded, Parameter Problem) are drawn on its ladder as
~~▶ arrows, when they were captured, from the router (◇) or host that sent
them, with the segment they quote beneath; a malformed one (a bad checksum) is
drawn with what is wrong with it. --icmp also draws the other ICMP messages
between a connection's two hosts (echo requests and replies) and lists every
ICMP message of the capture. Neighbour discovery is left out.

Link types: Ethernet, raw IP, Linux cooked (SLL, SLL2), BSD loopback.

-i IFACE draws the kernel's own connections live instead: it reads what
crosses the interface (of this network namespace) with a packet socket, as
tcpdump -i does, and draws each connection's rows as its packets come, both
sides' states inferred as for a file. A row waits for the receiver's next
packet (at most 300 ms): its state shows only from that. Ethernet, veth and
loopback devices, TUN devices (raw IP) and other links (cooked) are read.
--count N, --duration D or Ctrl-C ends the capture; the notes of each
connection follow, and --pcap FILE keeps what was seen as pcapng, for
synack ladder FILE or Wireshark. --svg, --html and --plot are written as the
capture goes, every 2 s or so (each file whole, renamed into place: a
browser's reload shows the latest) and at the end, from the capture so far
read as synack ladder FILE reads it, so that at the end they are what
synack ladder FILE draws from the --pcap file; of the connections --conn or
--port chooses, they show the latest to begin. Needs root.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if live.iface != "" {
				if len(args) > 0 {
					return usageError{fmt.Errorf("-i %s captures live: give no capture file too (got %q)", live.iface, args)}
				}
				return nil
			}
			return exactArgs(1, "a capture file, or - for standard input; or -i IFACE")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if conn != "" && cmd.Flags().Changed("port") {
				return usageError{fmt.Errorf("--conn and --port both choose connections: give one")}
			}
			if port < 0 || port > 65535 {
				return usageError{fmt.Errorf("--port %d: want a port number 1..65535", port)}
			}
			if live.iface == "" {
				for _, f := range []string{"count", "duration", "pcap"} {
					if cmd.Flags().Changed(f) {
						return usageError{fmt.Errorf("--%s is for a live capture: give -i IFACE", f)}
					}
				}
			} else {
				if icmp {
					return usageError{fmt.Errorf("--icmp is not drawn live: keep the capture with --pcap FILE and draw it with synack ladder FILE --icmp")}
				}
				if live.duration < 0 {
					return usageError{fmt.Errorf("--duration %s: want a positive duration, or 0 for no limit", live.duration)}
				}
				if live.count < 0 {
					return usageError{fmt.Errorf("--count %d: want a number of packets, or 0 for no limit", live.count)}
				}
				out := cmd.OutOrStdout()
				live.render, live.plot = render, plotFile
				return runLive(cmd, live, conn, port, ladder.Options{Absolute: absolute, ASCII: ascii, Color: render.colored(out), Lang: langOf(cmd)})
			}
			name := args[0]
			var file *capture.File
			var err error
			if name == "-" {
				name = "standard input"
				in := cmd.InOrStdin()
				if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					return usageError{errors.New("- reads the capture from standard input, which is a terminal: pipe one in (tcpdump -w - | synack ladder -)")}
				}
				file, err = readCaptureFrom(name, in)
			} else {
				file, err = readCapture(name)
			}
			if err != nil {
				return usageError{err}
			}
			a := capture.Analyze(file)
			a.AllICMP = icmp
			if len(a.Conns) == 0 {
				msg := fmt.Sprintf("%s: no TCP segments in %d packets", name, len(file.Packets))
				if s := a.Summary(); s != "" {
					msg += " (" + s + ")"
				}
				return failure{fmt.Errorf("%s", msg)}
			}
			conns, err := a.Select(conn, port)
			if err != nil {
				return usageError{err}
			}
			if len(conns) == 0 {
				what := "--conn " + conn
				if port > 0 {
					what = fmt.Sprintf("--port %d", port)
				}
				return usageError{fmt.Errorf("%s matches none of the %d connections in %s:%s", what, len(a.Conns), name, connList(a.Conns))}
			}
			if (render.files() || plotFile != "") && len(conns) > 1 {
				flag := "--svg"
				switch {
				case plotFile != "":
					flag = "--plot"
				case render.svg == "":
					flag = "--html"
				}
				return usageError{fmt.Errorf("%s draws one connection and %d are chosen: pick one with --conn or --port:%s", flag, len(conns), connList(conns))}
			}
			out := cmd.OutOrStdout()
			opt := ladder.Options{Absolute: absolute, ASCII: ascii, Color: render.colored(out), Lang: langOf(cmd)}
			if err := a.WriteText(out, name, conns, opt); err != nil {
				return err
			}
			if !render.files() && plotFile == "" {
				return nil
			}
			title, caption := captureTitle(name, file, conns[0], opt.Lang)
			return writePictures(a, conns[0], opt, render, plotFile, title, caption)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&conn, "conn", "", "draw only this connection, written ADDR:PORT-ADDR:PORT (either order)")
	fs.IntVar(&port, "port", 0, "draw only the connections with an end on this port")
	fs.BoolVar(&absolute, "absolute", false, "show the numbers as on the wire: absolute seq and ack instead of relative to each ISN, the window field unscaled")
	fs.BoolVar(&ascii, "ascii", false, "draw the ladder with ASCII characters only")
	fs.BoolVar(&icmp, "icmp", false, "also draw the ICMP messages between a connection's hosts that quote none of its segments (echo requests and replies), and list every ICMP message")
	fs.StringVar(&plotFile, "plot", "", "also plot the connection as SVG into this file: time–sequence graph, bytes in flight, RTT, goodput (see synack plot)")
	fs.StringVarP(&live.iface, "interface", "i", "", "capture live on this network interface instead of reading a file (needs root)")
	fs.IntVar(&live.count, "count", 0, "with -i: stop after this many packets (0: no limit)")
	fs.DurationVar(&live.duration, "duration", 0, "with -i: stop after this long (0: until Ctrl-C)")
	fs.StringVar(&live.pcap, "pcap", "", "with -i: also write the packets seen to this pcapng file")
	render.register(fs)
	return cmd
}

// captureTitle is the title and caption of the pictures of connection c
// of the capture file called name.
func captureTitle(name string, file *capture.File, c *capture.Conn, l i18n.Lang) (title, caption string) {
	return l.Trf("%s, connection %d: %s", filepath.Base(name), c.N, c),
		l.Trf("From the capture %s (%s, %d frames): the states are inferred from the segments.", name, file.Format, len(file.Packets))
}

// writePictures writes the --svg, --html and --plot files asked for of
// connection c of a, titled title, the page with caption under it.
func writePictures(a *capture.Analysis, c *capture.Conn, opt ladder.Options, render renderFlags, plotFile, title, caption string) error {
	opt.Color = false
	d, err := a.Diagram(c, opt)
	if err != nil {
		return err
	}
	if plotFile != "" {
		// The plot's windows are scaled whatever --absolute says.
		pd, err := a.Diagram(c, ladder.Options{Lang: opt.Lang})
		if err != nil {
			return err
		}
		if err := writePlot(plotFile, pd, nil, title, true); err != nil {
			return err
		}
	}
	return render.write(d, title, caption)
}

// connList lists connections, one an indented line.
func connList(conns []*capture.Conn) string {
	var s string
	for _, c := range conns {
		s += "\n  " + c.String()
	}
	return s
}

// needCapture ends the errors about a file that is not a capture.
const needCapture = "synack ladder needs a capture file (pcap or pcapng, as tcpdump -w FILE or Wireshark writes)"

// readCapture reads the capture file name; its errors name the file and
// say what was wrong with it.
func readCapture(name string) (*capture.File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, openError(name, err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: %s", name, needCapture)
	}
	return readCaptureFrom(name, f)
}

// readCaptureFrom reads the capture called name from r.
func readCaptureFrom(name string, r io.Reader) (*capture.File, error) {
	file, err := capture.Read(r)
	if err == nil {
		err = file.LinkTypesSupported()
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return file, nil
}

// openError says why file name could not be opened.
func openError(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: no such file or directory: %s", name, needCapture)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%s: permission denied: this user may not read it (a capture tcpdump wrote as root may need sudo, or chmod +r)", name)
	}
	return fmt.Errorf("%s: %w", name, err)
}
