package synack

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gosynack/synack/tcp"
)

// Socket is one connection of a Stack, as `ss -tin` lists it.
type Socket struct {
	Local, Remote netip.AddrPort
	Info          tcp.Info
}

// Sockets returns every connection the stack holds (TIME-WAIT included),
// in creation order (shard by shard, with several); listeners are not
// listed.
func (s *Stack) Sockets() []Socket {
	var out []Socket
	for _, sh := range s.shards {
		sh.mu.Lock()
		for _, c := range sh.st.Conns() {
			t := c.Tuple()
			out = append(out, Socket{Local: t.Local, Remote: t.Remote, Info: c.Info()})
		}
		sh.mu.Unlock()
	}
	return out
}

// String prints the socket on one line in the manner of `ss -ti`
// (ssthresh only once it is set):
//
//	ESTABLISHED 198.18.0.2:39330 198.18.0.1:80 mss:1460 cwnd:14480 rtt:20ms/10ms rto:220ms snd_wnd:65536 rcv_wnd:65535 segs_out:3 segs_in:2 bytes_sent:0 bytes_received:0 retrans:0 unacked:0 unsent:0 unread:0
func (k Socket) String() string {
	i := k.Info
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v %v", i.State, k.Local, k.Remote)
	fmt.Fprintf(&b, " mss:%d cwnd:%d", i.MSS, i.Cwnd)
	if i.Ssthresh > 0 && i.Ssthresh < tcp.MaxBuffer {
		fmt.Fprintf(&b, " ssthresh:%d", i.Ssthresh)
	}
	fmt.Fprintf(&b, " rtt:%v/%v rto:%v snd_wnd:%d rcv_wnd:%d", i.SRTT, i.RTTVar, i.RTO, i.SndWnd, i.RcvWnd)
	fmt.Fprintf(&b, " segs_out:%d segs_in:%d bytes_sent:%d bytes_received:%d retrans:%d",
		i.Stats.SegsOut, i.Stats.SegsIn, i.Stats.BytesOut, i.Stats.BytesIn, i.Stats.Retransmits)
	fmt.Fprintf(&b, " unacked:%d unsent:%d unread:%d", i.Unacked, i.Unsent, i.Unread)
	return b.String()
}
