package pktdrill

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gosynack/synack/tcp"
)

// %{ }% blocks are Python over Linux's struct tcp_info. The runner
// evaluates the part of that language scripts use to check a connection:
// lines (or ;-separated statements) of the form
//
//	assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd
//	assert tcpi_state == TCP_ESTABLISHED and tcpi_retransmits == 0
//
// comparing tcpi_* fields, integers, TCP_* state names and TCP_CA_*
// loss-recovery state names with ==, !=,
// <, <=, > and >=, joined by "and". Anything else in a block is
// unsupported, and so is a field the stack does not report. The
// connection is the one the latest call named (or accept returned).

// linuxStates are Linux's TCP state numbers (include/net/tcp_states.h).
var linuxStates = map[string]int64{
	"TCP_ESTABLISHED": 1, "TCP_SYN_SENT": 2, "TCP_SYN_RECV": 3, "TCP_FIN_WAIT1": 4,
	"TCP_FIN_WAIT2": 5, "TCP_TIME_WAIT": 6, "TCP_CLOSE": 7, "TCP_CLOSE_WAIT": 8,
	"TCP_LAST_ACK": 9, "TCP_LISTEN": 10, "TCP_CLOSING": 11,
}

// linuxCAStates are Linux's tcpi_ca_state numbers (enum tcp_ca_state in
// include/net/tcp.h).
var linuxCAStates = map[string]int64{
	"TCP_CA_Open": 0, "TCP_CA_Disorder": 1, "TCP_CA_CWR": 2, "TCP_CA_Recovery": 3, "TCP_CA_Loss": 4,
}

var caStateNumbers = map[tcp.CAState]int64{
	tcp.CAOpen: 0, tcp.CADisorder: 1, tcp.CARecovery: 3, tcp.CALoss: 4,
}

var stateNumbers = map[tcp.State]int64{
	tcp.Established: 1, tcp.SynSent: 2, tcp.SynReceived: 3, tcp.FinWait1: 4,
	tcp.FinWait2: 5, tcp.TimeWait: 6, tcp.Closed: 7, tcp.CloseWait: 8,
	tcp.LastAck: 9, tcp.Listen: 10, tcp.Closing: 11,
}

// synackInfo reads a tcp_info field from tcp.Conn's Info: the subset it
// exports. Windows in segments are the byte counts over the MSS.
func synackInfo(c *tcp.Conn, name string) (int64, error) {
	i := c.Info()
	segs := func(n int) int64 {
		if i.MSS <= 0 {
			return 0
		}
		return int64(n / i.MSS)
	}
	switch name {
	case "tcpi_state":
		return stateNumbers[i.State], nil
	case "tcpi_ca_state":
		return caStateNumbers[i.CAState], nil
	case "tcpi_rto":
		return i.RTO.Microseconds(), nil
	case "tcpi_rtt":
		return i.SRTT.Microseconds(), nil
	case "tcpi_rttvar":
		return i.RTTVar.Microseconds(), nil
	case "tcpi_snd_cwnd":
		return segs(i.Cwnd), nil
	case "tcpi_snd_ssthresh":
		return segs(i.Ssthresh), nil
	case "tcpi_snd_mss":
		return int64(i.MSS), nil
	case "tcpi_retransmits":
		return int64(i.Retries), nil
	case "tcpi_total_retrans":
		return int64(i.Stats.Retransmits), nil
	case "tcpi_unacked":
		return 0, fmt.Errorf("tcpi_unacked is not supported: tcp.Info reports unacknowledged bytes, not segments")
	}
	return 0, fmt.Errorf("%s is not supported: tcp.Info has no such field (supported: tcpi_state, tcpi_ca_state, tcpi_rto, tcpi_rtt, tcpi_rttvar, tcpi_snd_cwnd, tcpi_snd_ssthresh, tcpi_snd_mss, tcpi_retransmits, tcpi_total_retrans)", name)
}

// code evaluates a %{ }% block against get.
func (r *runner) code(ev *Event, get func(string) (int64, error)) *Failure {
	text := strings.ReplaceAll(ev.Code.Text, ";", "\n")
	for _, stmt := range strings.Split(text, "\n") {
		stmt = strings.TrimSpace(stmt)
		if stmt == "" || strings.HasPrefix(stmt, "#") {
			continue
		}
		rest, isAssert := strings.CutPrefix(stmt, "assert ")
		if !isAssert {
			return r.unsupported(ev.Line, "%%{ }%%: only assert statements over tcp_info are supported, found %q", stmt)
		}
		if i := strings.Index(rest, ","); i >= 0 {
			rest = rest[:i] // the assertion's message
		}
		for _, cond := range strings.Split(rest, " and ") {
			f := strings.Fields(cond)
			if len(f) != 3 {
				return r.unsupported(ev.Line, "%%{ }%%: expected NAME OP VALUE, found %q", strings.TrimSpace(cond))
			}
			val := func(s string) (int64, *Failure) {
				if n, ok := linuxStates[s]; ok {
					return n, nil
				}
				if n, ok := linuxCAStates[s]; ok {
					return n, nil
				}
				if n, err := strconv.ParseInt(s, 0, 64); err == nil {
					return n, nil
				}
				if strings.HasPrefix(s, "tcpi_") {
					n, err := get(s)
					if err != nil {
						return 0, r.unsupported(ev.Line, "%%{ }%%: %v", err)
					}
					return n, nil
				}
				return 0, r.unsupported(ev.Line, "%%{ }%%: cannot evaluate %q", s)
			}
			a, fa := val(f[0])
			if fa != nil {
				return fa
			}
			b, fb := val(f[2])
			if fb != nil {
				return fb
			}
			var holds bool
			switch f[1] {
			case "==":
				holds = a == b
			case "!=":
				holds = a != b
			case "<":
				holds = a < b
			case "<=":
				holds = a <= b
			case ">":
				holds = a > b
			case ">=":
				holds = a >= b
			default:
				return r.unsupported(ev.Line, "%%{ }%%: operator %q is not supported", f[1])
			}
			if !holds {
				return r.fail(ev.Line, "assertion failed: %s (%s is %d, %s is %d)", strings.TrimSpace(cond), f[0], a, f[2], b)
			}
		}
	}
	return nil
}

// runCode evaluates a %{ }% block on the connection the latest call named.
func (r *runner) runCode(ev *Event) *Failure {
	if r.k != nil {
		return r.code(ev, func(name string) (int64, error) { return r.k.tcpInfo(r.codeFD, name) })
	}
	s := r.socks[r.codeFD]
	if s == nil || s.c == nil {
		return r.unsupported(ev.Line, "%%{ }%%: fd %d has no connection to read tcp_info of", r.codeFD)
	}
	return r.code(ev, func(name string) (int64, error) { return synackInfo(s.c, name) })
}
