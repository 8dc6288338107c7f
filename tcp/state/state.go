// Package state is the TCP connection state of RFC 9293 §3.3.2, named and
// printed in the RFC's spelling. It imports nothing of synack, so that
// package tcp, whose connections are in these states, and package trace,
// whose events report them, can both use it.
package state

import "strconv"

// State is a connection state.
type State uint8

const (
	Closed State = iota
	Listen
	SynSent
	SynReceived
	Established
	FinWait1
	FinWait2
	CloseWait
	Closing
	LastAck
	TimeWait
)

var names = [...]string{
	Closed:      "CLOSED",
	Listen:      "LISTEN",
	SynSent:     "SYN-SENT",
	SynReceived: "SYN-RECEIVED",
	Established: "ESTABLISHED",
	FinWait1:    "FIN-WAIT-1",
	FinWait2:    "FIN-WAIT-2",
	CloseWait:   "CLOSE-WAIT",
	Closing:     "CLOSING",
	LastAck:     "LAST-ACK",
	TimeWait:    "TIME-WAIT",
}

// String returns the RFC name ("SYN-RECEIVED"), or "State(n)" for a value
// that is no state.
func (s State) String() string {
	if int(s) < len(names) {
		return names[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Parse reads an RFC state name ("SYN-RECEIVED").
func Parse(name string) (State, bool) {
	for s, n := range names {
		if n == name {
			return State(s), true
		}
	}
	return 0, false
}

// Synchronized reports whether the state is one of RFC 9293's synchronized
// states (ESTABLISHED and every state after it).
func (s State) Synchronized() bool { return s >= Established }
