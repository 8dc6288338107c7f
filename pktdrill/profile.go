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
// The linux profile sets what the scripts' `defaults.sh` gives Linux:
//
//   - net.ipv4.tcp_timestamps=1, tcp_sack=1: synack's defaults (on).
//
//   - tcp_rmem max 15 MB, which makes Linux announce window scale 8 (RFC
//     7323 §2): RecvBufferMax 15 MiB gives the same shift.
//
//   - delayed ACK of about 40 ms: synack's default DelayedACK.
//
//   - RACK and tail loss probes (RFC 8985) and CUBIC (RFC 9438): synack's
//     defaults.
//
//   - quick-ACK mode at connection start: QuickACKs 16.
//
//   - slow start counts every segment an ACK acknowledges
//     (tcp_slow_start): SlowStartLimit -1, where RFC 3465 limits it to
//     2*SMSS by default.
//
//   - CUBIC's ssthresh from cwnd, not the flight size
//     (bictcp_recalc_ssthresh), which RFC 9438 §4.6 allows:
//     CubicReduceFromWindow.
//
//   - a connection keepalive gives up on is reset, not dropped silently
//     (tcp_keepalive_timer sends tcp_send_active_reset): KeepAliveReset.
//
//   - Linux's tcp_fin resets the SACK state, so a duplicate that arrives
//     with the peer's FIN is not reported in a D-SACK block:
//     FINClearsSACK.
//
// Linux settings it cannot express: pingpong (interactive) mode, which
// ends quick ACKs once the application answers; limited transmit (RFC
// 3042), SYN cookies; and net.ipv4.tcp_challenge_ack_limit, whose limit
// is per host in Linux and has changed across versions (ChallengeACKs
// keeps RFC 5961's per-connection default, which no script reaches).
func ProfileConfig(name string) (tcp.Config, error) {
	switch name {
	case "", "synack":
		return tcp.Config{}, nil
	case "linux":
		return tcp.Config{
			MSS:           1460,                   // MTU 1500 (packetdrill's tun device)
			RecvBuffer:    65535,                  // the initial window Linux offers
			RecvBufferMax: 15 << 20,               // tcp_rmem max: window scale 8
			QuickACKs:     16,                     // TCP_MAX_QUICKACKS
			FINClearsSACK: true,                   // tcp_fin: tcp_sack_reset
			MSL:           30 * time.Second,       // TCP_TIMEWAIT_LEN is 60 s = 2·MSL
			SynRetries:    6,                      // net.ipv4.tcp_syn_retries
			SynAckRetries: 5,                      // net.ipv4.tcp_synack_retries
			DataRetries:   15,                     // net.ipv4.tcp_retries2
			InitialRTO:    time.Second,            // TCP_TIMEOUT_INIT (RFC 6298)
			MinRTO:        200 * time.Millisecond, // TCP_RTO_MIN
			MaxRTO:        120 * time.Second,      // TCP_RTO_MAX
			// tcp_keepalive_timer: tcp_send_active_reset.
			KeepAliveReset: true,
			// tcp_slow_start counts every segment an ACK covers.
			SlowStartLimit: -1,
			// bictcp_recalc_ssthresh: max(cwnd*0.7, 2).
			CubicReduceFromWindow: true,
		}, nil
	}
	return tcp.Config{}, fmt.Errorf("unknown profile %q (known: synack, linux)", name)
}
