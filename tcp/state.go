// Package tcp is one TCP connection as a pure state machine (RFC 9293): the
// driver hands it segments, user calls and the current time, and asks it
// what to send and when it next wants to be woken. It never reads a clock,
// starts a goroutine, takes a lock or touches a device.
package tcp

// State is a connection state, named and printed as in RFC 9293 §3.3.2.
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

var stateNames = [...]string{
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

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE(" + string(rune('0'+s)) + ")"
}

// ParseState reads an RFC state name ("SYN-RECEIVED").
func ParseState(name string) (State, bool) {
	for s, n := range stateNames {
		if n == name {
			return State(s), true
		}
	}
	return 0, false
}

// Synchronized reports whether the state is one of RFC 9293's synchronized
// states (ESTABLISHED and every state after it).
func (s State) Synchronized() bool { return s >= Established }
