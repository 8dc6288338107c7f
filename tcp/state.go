// Package tcp is one TCP connection as a pure state machine (RFC 9293): the
// driver hands it segments, user calls and the current time, and asks it
// what to send and when it next wants to be woken. It never reads a clock,
// starts a goroutine, takes a lock or touches a device.
package tcp

import "github.com/gosynack/synack/tcp/state"

// State is a connection state, named and printed as in RFC 9293 §3.3.2. It
// lives in package state, which package trace can import too.
type State = state.State

const (
	Closed      = state.Closed
	Listen      = state.Listen
	SynSent     = state.SynSent
	SynReceived = state.SynReceived
	Established = state.Established
	FinWait1    = state.FinWait1
	FinWait2    = state.FinWait2
	CloseWait   = state.CloseWait
	Closing     = state.Closing
	LastAck     = state.LastAck
	TimeWait    = state.TimeWait
)
