package sim

import (
	"fmt"
	"time"

	"github.com/gosynack/synack/link/netsim"
	"github.com/gosynack/synack/tcp"
	"github.com/gosynack/synack/wire"
)

// Programs shared by several scenarios.
var (
	// httpClient asks, reads the answer, and closes first: it is the side
	// that ends in TIME-WAIT.
	httpClient = []Step{
		Connect(serverName, 80), WaitEstablished(), Write(Request),
		ReadN(len(Response)), Close(), ReadEOF(),
	}
	// httpServer answers, waits for the client's FIN, finishes its work
	// (20 ms) and closes: its ACK of the client's FIN and its own FIN
	// travel separately, which is why closing takes four segments.
	httpServer = []Step{
		Listen(80), Accept(), ReadUntil("\r\n\r\n"), Write(Response),
		ReadEOF(), Sleep(20 * time.Millisecond), Close(),
	}
	openClose = []Step{Connect(serverName, 80), WaitEstablished(), Close(), ReadEOF()}
	acceptEOF = []Step{Listen(80), Accept(), ReadEOF(), Sleep(20 * time.Millisecond), Close()}
)

// checkClosed wants both connections CLOSED without error.
func checkClosed(w *World) error {
	var errs []error
	for _, h := range w.Hosts() {
		errs = append(errs, expectState(h, tcp.Closed), expectErr(h, nil))
	}
	return all(errs...)
}

func checkHTTP(w *World) error {
	c, s := w.Host(clientName), w.Host(serverName)
	var err error
	if string(c.Received()) != Response || string(s.Received()) != Request {
		err = fmt.Errorf("the exchange was not delivered intact: client got %q, server got %q", c.Received(), s.Received())
	}
	return all(err, checkClosed(w))
}

// checkEstablished wants both connections ESTABLISHED.
func checkEstablished(w *World) error {
	return all(expectState(w.Host(clientName), tcp.Established), expectState(w.Host(serverName), tcp.Established))
}

// checkHalfClose wants the server's three parts delivered after the
// client's FIN, and both ends closed.
func checkHalfClose(w *World) error {
	var err error
	if got := string(w.Host(clientName).Received()); got != "part 1;part 2;part 3." {
		err = fmt.Errorf("client received %q", got)
	}
	return all(err, checkClosed(w))
}

func retrans(h *Host) uint64 { return h.Stack.Counters().RetransSegs }

// wantCounter checks one of a host's counters, read by get.
func wantCounter(w *World, host, name string, get func(h *Host) uint64, want uint64) error {
	if got := get(w.Host(host)); got != want {
		return fmt.Errorf("%s: %s = %d, want %d", host, name, got, want)
	}
	return nil
}

// builtinScenarios are the situations the TCP literature explains, each
// with the check that it ends the way it teaches.
var builtinScenarios = []*Scenario{
	{
		Name:  "demo",
		Title: "A whole connection: handshake, an HTTP request and response, the four-way close",
		Caption: `The client opens with SYN, the server answers SYN-ACK, the client's ACK completes the
three-way handshake: each side has now seen the other's initial sequence number acknowledged.
The request and response flow as data, each acknowledged. The client closes first (FIN); the
server acknowledges it, finishes, and sends its own FIN: four segments, because each direction
is closed on its own. The client, which closed first, waits in TIME-WAIT for 2·MSL before
its connection disappears, so that a late duplicate cannot be taken for a new connection's data.`,
		Client:    httpClient,
		Server:    httpServer,
		Check:     checkHTTP,
		Essential: essentialClose(checkHTTP),
	},
	{
		Name:  "handshake",
		Title: "The three-way handshake",
		Caption: `SYN, SYN-ACK, ACK. Three messages because each side must choose an initial sequence
number and see it acknowledged: the client's SYN is acknowledged by the SYN-ACK, the server's
SYN by the final ACK. With only two, the server could not tell a fresh SYN from an old
duplicate (see the stale-syn scenario).`,
		Client:    []Step{Connect(serverName, 80), WaitEstablished()},
		Server:    []Step{Listen(80), Accept()},
		Check:     checkEstablished,
		Essential: func(r *Run) error { return checkEstablished(r.World) },
	},
	{
		Name:  "close",
		Title: "The four-way close and TIME-WAIT",
		Caption: `The client closes: FIN-WAIT-1 until its FIN is acknowledged, then FIN-WAIT-2. The server
is in CLOSE-WAIT: it has been told there is no more data but may still send. When it closes it
goes to LAST-ACK, and the client's ACK of that FIN ends it. The client waits in TIME-WAIT for
2·MSL, both to re-acknowledge the server's FIN should the last ACK be lost, and so that old
segments of this connection die out before the same address pair can be used again.`,
		Client:    openClose,
		Server:    acceptEOF,
		Check:     checkClosed,
		Essential: essentialClose(checkClosed),
	},
	{
		Name:  "lost-syn",
		Title: "The first SYN is lost",
		Caption: `The client's SYN never arrives; nothing comes back. After the initial retransmission
timeout (1 s, RFC 6298) the client sends the SYN again, and the handshake completes one second
late. Had it been lost again the client would wait 2 s, then 4 s..., giving up after 6 retries.`,
		Client: httpClient,
		Server: httpServer,
		Rules:  []DirectedRule{{clientName, serverName, netsim.Rule{Name: "lose-syn", Match: match(wire.SYN, wire.ACK, netsim.AnyPayload), Nth: 1, Action: netsim.Drop}}},
		Check: func(w *World) error {
			return all(checkHTTP(w), wantCounter(w, clientName, "RetransSegs", retrans, 1), wantCounter(w, serverName, "RetransSegs", retrans, 0))
		},
		Essential: essentialLostSYN,
	},
	{
		Name:  "lost-synack",
		Title: "The SYN-ACK is lost",
		Caption: `The server answered and waits in SYN-RECEIVED, but its SYN-ACK is lost. Both sides time
out: the client retransmits its SYN and the server its SYN-ACK. The server answers the repeated
SYN with the SYN-ACK again, and the first to arrive completes the handshake.`,
		Client: httpClient,
		Server: httpServer,
		Rules:  []DirectedRule{{serverName, clientName, netsim.Rule{Name: "lose-synack", Match: match(wire.SYN|wire.ACK, 0, netsim.AnyPayload), Nth: 1, Action: netsim.Drop}}},
		Check: func(w *World) error {
			return all(checkHTTP(w), wantCounter(w, clientName, "RetransSegs", retrans, 1), wantCounter(w, serverName, "RetransSegs", retrans, 1))
		},
		Essential: essentialLostSYNACK,
	},
	{
		Name:  "stale-syn",
		Title: "A delayed duplicate SYN: why the handshake takes three messages",
		Caption: `The client's first SYN is stuck in the network; the client retransmits it, the connection
is made, used and closed. Ten seconds later the old SYN finally arrives. The server cannot know
it is old: it answers SYN-ACK and waits in SYN-RECEIVED. But the client has no such connection,
so it answers with RST, and the server drops the half-open connection and goes back to LISTEN.
A two-way handshake would have opened a connection nobody asked for: the third message lets
the client, who knows which SYN is current, have the last word. (MSL is 1 s here so that
TIME-WAIT is over before the old SYN arrives.)`,
		Client: httpClient,
		Server: append(append([]Step{}, httpServer...), Sleep(15*time.Second)),
		MSL:    time.Second,
		Rules:  []DirectedRule{{clientName, serverName, netsim.Rule{Name: "stale-syn", Match: match(wire.SYN, wire.ACK, netsim.AnyPayload), Nth: 1, Action: netsim.Hold, HoldFor: 10 * time.Second}}},
		Check: func(w *World) error {
			return all(checkHTTP(w),
				wantCounter(w, serverName, "AttemptFails", func(h *Host) uint64 { return h.Stack.Counters().AttemptFails }, 1),
				wantCounter(w, clientName, "OutRsts", func(h *Host) uint64 { return h.Stack.Counters().OutRsts }, 1))
		},
		Essential: essentialStaleSYN,
	},
	{
		Name:  "lost-final-ack",
		Title: "The last ACK is lost: what TIME-WAIT is for",
		Caption: `The client acknowledges the server's FIN and enters TIME-WAIT, but that ACK is lost. The
server, in LAST-ACK, times out and retransmits its FIN. The client is still in TIME-WAIT, so it
can acknowledge the FIN again (and restarts its 2·MSL wait); the server then closes cleanly.
Without TIME-WAIT the client would have forgotten the connection and answered with RST.`,
		Client: openClose,
		Server: acceptEOF,
		Rules: []DirectedRule{{clientName, serverName, netsim.Rule{Name: "lose-final-ack",
			Match: match(wire.ACK, wire.SYN|wire.FIN|wire.RST|wire.PSH, netsim.NoPayload), Nth: 2, Action: netsim.Drop}}},
		Check: func(w *World) error {
			return all(checkClosed(w),
				wantCounter(w, serverName, "RetransSegs", retrans, 1),
				wantCounter(w, clientName, "OutSegs", func(h *Host) uint64 { return h.Stack.Counters().OutSegs }, 5))
		},
		Essential: essentialLostFinalACK,
	},
	{
		Name:  "half-close",
		Title: "Half-close: the side in CLOSE-WAIT keeps sending",
		Caption: `The client sends its request and closes its sending direction at once (like shutdown(SHUT_WR)).
The server reads the request and the end of the stream and is in CLOSE-WAIT, yet it goes on
sending its answer in three parts; the client in FIN-WAIT-2 keeps receiving. Only when the
server closes is the connection over. Closing is per direction: that is why it takes four
segments.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), Write(Request), Close(), ReadEOF()},
		Server: []Step{Listen(80), Accept(), ReadEOF(), Write("part 1;"), Sleep(200 * time.Millisecond),
			Write("part 2;"), Sleep(200 * time.Millisecond), Write("part 3."), Close()},
		Check:     checkHalfClose,
		Essential: essentialHalfClose(checkHalfClose),
	},
	{
		Name:  "simultaneous-open",
		Title: "Simultaneous open: two SYNs cross",
		Caption: `Both sides actively open to each other's port at the same moment. Each receives a SYN while
in SYN-SENT, moves to SYN-RECEIVED and answers with SYN-ACK; each SYN-ACK completes the other's
handshake (RFC 9293 Figure 7). Four segments, no listener, one connection.`,
		Client:    []Step{ConnectFrom(5000, serverName, 6000), WaitEstablished(), Close(), ReadEOF()},
		Server:    []Step{ConnectFrom(6000, clientName, 5000), WaitEstablished(), ReadEOF(), Sleep(20 * time.Millisecond), Close()},
		Check:     checkClosed,
		Essential: essentialSimultaneousOpen,
	},
	{
		Name:  "simultaneous-close",
		Title: "Simultaneous close: both FINs cross, through CLOSING",
		Caption: `Both sides close at the same moment. Each is in FIN-WAIT-1 when the other's FIN arrives,
so neither has had its own FIN acknowledged: both go to CLOSING, and then to TIME-WAIT when the
ACKs arrive. Both sides wait 2·MSL.`,
		Client:    []Step{Connect(serverName, 80), WaitEstablished(), At(time.Second), Close(), ReadEOF()},
		Server:    []Step{Listen(80), Accept(), At(time.Second), Close(), ReadEOF()},
		Check:     checkClosed,
		Essential: essentialSimultaneousClose,
	},
	{
		Name:  "refused",
		Title: "Connection refused: a SYN to a closed port",
		Caption: `Nothing listens on port 81. The server's TCP answers the SYN with RST (its ACK field
acknowledging the SYN, so the client can trust it), and the client's connect fails at once
with "connection refused", rather than retrying for two minutes.`,
		Client: []Step{Connect(serverName, 81), WaitClosed()},
		Server: []Step{Listen(80)},
		Check: func(w *World) error {
			return all(expectErr(w.Host(clientName), tcp.ErrConnRefused),
				wantCounter(w, serverName, "OutRsts", func(h *Host) uint64 { return h.Stack.Counters().OutRsts }, 1),
				wantCounter(w, clientName, "AttemptFails", func(h *Host) uint64 { return h.Stack.Counters().AttemptFails }, 1))
		},
		Essential: essentialRefused,
	},
	{
		Name:  "abort",
		Title: "Abort: RST in the middle of a transfer",
		Caption: `The client queues 30 kB and, 150 ms later, with part of it still unsent, aborts (like
close() with SO_LINGER 0). It sends RST and forgets the connection at once: no FIN, no
TIME-WAIT, and the unsent data is thrown away. The server's TCP accepts the RST because its
sequence number is exactly the next one expected, and its reader gets "connection reset by
peer". That is what an abort means: the end of the connection, not of the data.`,
		Client: []Step{Connect(serverName, 80), WaitEstablished(), WriteBytes(30_000), At(150 * time.Millisecond), Abort()},
		Server: []Step{Listen(80), Accept(), WaitClosed()},
		Check: func(w *World) error {
			return all(expectErr(w.Host(clientName), tcp.ErrAborted), expectErr(w.Host(serverName), tcp.ErrConnReset),
				wantCounter(w, serverName, "EstabResets", func(h *Host) uint64 { return h.Stack.Counters().EstabResets }, 1))
		},
		Essential: essentialAbort,
	},
}

func init() {
	for _, s := range builtinScenarios {
		register(s)
	}
}
