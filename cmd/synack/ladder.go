package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/gosynack/synack/capture"
	"github.com/gosynack/synack/trace/ladder"
)

func newLadder() *cobra.Command {
	var (
		conn            string
		port            int
		absolute, ascii bool
	)
	cmd := &cobra.Command{
		Use:   "ladder FILE",
		Short: "Draw the ladder diagram of the TCP connections in a pcap or pcapng capture",
		Long: `Draw the ladder diagram of the TCP connections in a pcap or pcapng capture
(tcpdump's, Wireshark's, the kernel's, synack's --pcap): both endpoints' states
inferred from the segments, seq and ack relative to each ISN, and the marks of
Wireshark's expert analysis (retransmissions, duplicate ACKs, out-of-order,
zero window, window full, keep-alives, RSTs).

#n is the packet's frame number: its place in the file, counted from 1 as
Wireshark's frame.number counts, so that a packet is found by the same number
in both (packets of other connections, ARP or IPv6 leave gaps).

win= is the window a segment advertises, in bytes: the header's field scaled
by the window scale its sender announced in its SYN (Wireshark's calculated
window size, tcp.window_size). win=N×? is the field of a connection whose
handshake the capture missed: its scale is unknown. --absolute shows the
numbers as they are on the wire: absolute seq and ack, the window unscaled.

A capture cut short (tcpdump killed while it wrote, a file copied while being
written) is drawn up to the cut, with a note saying where it ends, as tshark
does. gzip-compressed captures (FILE.pcap.gz) are read as they are.

Link types: Ethernet, raw IPv4, Linux cooked (SLL, SLL2), BSD loopback.
IPv6 is not supported yet: IPv6 packets are counted and left out.`,
		Args: exactArgs(1, "a capture file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if conn != "" && cmd.Flags().Changed("port") {
				return usageError{fmt.Errorf("--conn and --port both choose connections: give one")}
			}
			if port < 0 || port > 65535 {
				return usageError{fmt.Errorf("--port %d: want a port number 1..65535", port)}
			}
			file, err := readCapture(args[0])
			if err != nil {
				return usageError{err}
			}
			a := capture.Analyze(file)
			if len(a.Conns) == 0 {
				msg := fmt.Sprintf("%s: no TCP/IPv4 segments in %d packets", args[0], len(file.Packets))
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
				var list string
				for _, c := range a.Conns {
					list += "\n  " + c.String()
				}
				return usageError{fmt.Errorf("%s matches none of the %d connections in %s:%s", what, len(a.Conns), args[0], list)}
			}
			return a.WriteText(cmd.OutOrStdout(), args[0], conns, ladder.Options{Absolute: absolute, ASCII: ascii})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&conn, "conn", "", "draw only this connection, written ADDR:PORT-ADDR:PORT (either order)")
	fs.IntVar(&port, "port", 0, "draw only the connections with an end on this port")
	fs.BoolVar(&absolute, "absolute", false, "show the numbers as on the wire: absolute seq and ack instead of relative to each ISN, the window field unscaled")
	fs.BoolVar(&ascii, "ascii", false, "draw the ladder with ASCII characters only")
	return cmd
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
	file, err := capture.Read(f)
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
