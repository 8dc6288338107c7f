package pktdrill

import (
	"fmt"
	"time"

	"github.com/gosynack/synack/tcp"
)

// Profiles are the policy the stack under test runs with.
//
//   - "synack" (the default): tcp.Config's zero value, synack's own
//     documented defaults.
//   - "linux": the settings the scripts' `defaults.sh` gives Linux, where
//     the RFCs leave the choice to the implementation and tcp.Config can
//     express them today.
var Profiles = []string{"synack", "linux"}

// ProfileConfig returns the tcp.Config of a profile.
//
// The linux profile sets what today's tcp.Config can say. Linux settings
// the scripts rely on that it cannot express yet (they need the tcp work
// in progress; extend this function as tcp.Config grows):
//
//   - net.ipv4.tcp_timestamps=1 (RFC 7323 timestamps): no knob, not
//     implemented.
//   - net.ipv4.tcp_sack=1 (RFC 2018): no knob, not implemented.
//   - tcp_rmem max 15 MB, which makes Linux announce window scale 8
//     (RFC 7323 §2): no window scaling; RecvBuffer is capped at 65535.
//   - delayed ACK (about 40 ms, quick-ACK at connection start): synack
//     acknowledges at once.
//   - net.ipv4.tcp_recovery=1 (RACK) and tail loss probes (RFC 8985),
//     fast retransmit and limited transmit (RFC 5681, 3042), CUBIC
//     (RFC 9438): not implemented.
//   - net.ipv4.tcp_syncookies: no SYN cookies.
//   - net.ipv4.tcp_challenge_ack_limit: Linux's limit is per host and has
//     changed across versions; ChallengeACKs keeps RFC 5961's per-connection
//     default, which no script of the corpus reaches.
func ProfileConfig(name string) (tcp.Config, error) {
	switch name {
	case "", "synack":
		return tcp.Config{}, nil
	case "linux":
		return tcp.Config{
			MSS:           1460,                   // MTU 1500 (packetdrill's tun device)
			RecvBuffer:    65535,                  // largest window without scaling
			MSL:           30 * time.Second,       // TCP_TIMEWAIT_LEN is 60 s = 2·MSL
			SynRetries:    6,                      // net.ipv4.tcp_syn_retries
			SynAckRetries: 5,                      // net.ipv4.tcp_synack_retries
			DataRetries:   15,                     // net.ipv4.tcp_retries2
			InitialRTO:    time.Second,            // TCP_TIMEOUT_INIT (RFC 6298)
			MinRTO:        200 * time.Millisecond, // TCP_RTO_MIN
			MaxRTO:        120 * time.Second,      // TCP_RTO_MAX
		}, nil
	}
	return tcp.Config{}, fmt.Errorf("unknown profile %q (known: synack, linux)", name)
}
