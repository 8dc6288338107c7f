package tcp

// Limits on what a peer can make the send side hold or do (issue 15; the
// analogues of CVE-2019-11477, -11478 and -11479, "SACK Panic", "SACK
// Slowness" and the MSS resource exhaustion).
//
//   - The peer's MSS is raised to minPeerMSS: with MSS 1 every byte written
//     would be a segment of its own, 41 bytes on the wire and a 48-byte
//     record in the retransmission queue per byte of data.
//   - The retransmission queue holds at most one record per minPeerMSS
//     bytes of send buffer (txFull), so that its records, 48 bytes each,
//     cost at most about as much as the data they describe: with Nagle's
//     algorithm the segments are full-sized but one, and the bound is not
//     reached; with NoDelay and tiny writes, new data waits for ACKs.
//   - The retransmission queue is never split at a SACK block's edge (a
//     record only partly inside a block stays unSACKed, sndq.go), so its
//     records are the segments sent: at least minPeerMSS bytes each, apart
//     from the last of a write that Nagle's algorithm (or NoDelay) lets go
//     short. What one ACK costs does not grow with the queue: SACKed runs
//     are skipped (sackSkip) and a D-SACK block is checked against at most
//     maxDSACKRecords records.

// minPeerMSS is the smallest send MSS the peer's SYN can give us: Linux's
// TCP_MIN_SND_MSS, 48 since CVE-2019-11479 (RFC 9293 §3.7.1 sets no floor;
// RFC 879's 536 default applies only when the option is absent).
const minPeerMSS = 48

// peerMSS is the send MSS the peer's announced mss allows.
func peerMSS(mss int) int { return max(mss, minPeerMSS) }

// txFull reports that the retransmission queue holds as many records as it
// may: new data waits until some are acknowledged.
func (c *Conn) txFull() bool {
	return len(c.txq()) >= max(c.sendBufSize()/minPeerMSS, 64)
}
