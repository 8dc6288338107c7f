package pktdrill

import (
	"strconv"
	"strings"
	"time"
)

// Script is a parsed packetdrill script.
type Script struct {
	// Name is the file name the script was read from (used in messages).
	Name string
	// Options are the command-line options the script sets for itself
	// ("--tolerance_usecs=10000"), in order.
	Options []Option
	// Events are the timed lines, in order.
	Events []*Event
	// Commands are the backquoted shell lines outside events (the init and
	// cleanup commands); they are never run.
	Commands []Command
	// ExpectFailure lists the lines that "// Failure:" annotations name:
	// the script is written to fail at the first of them (packetdrill's
	// interpreter self-tests).
	ExpectFailure []ExpectedFailure
}

// Option is a "--name=value" line.
type Option struct {
	Line  int
	Name  string // without the leading "--"
	Value string // "" when the option has no "="
	Set   bool   // the option had "="
}

// Command is a backquoted shell command; the runner never runs it.
type Command struct {
	Line int
	Text string
}

// ExpectedFailure is a "// Failure: text" annotation and the first event
// line after it.
type ExpectedFailure struct {
	Line      int // the annotation's line
	EventLine int // the line of the event expected to fail (0 if none follows)
	Text      string
}

// TimeKind is how an event's time is written.
type TimeKind uint8

const (
	Absolute      TimeKind = iota // "0.100"
	Relative                      // "+.1"
	AnyTime                       // "*"
	AbsoluteRange                 // "0.1~0.2"
	RelativeRange                 // "+.01~+.015"
)

// Event is one timed line.
type Event struct {
	Line int
	Kind TimeKind
	// Time is the (start) time as written: absolute, or an offset for the
	// relative kinds. End is the end of a range.
	Time, End time.Duration

	// Exactly one of these is set.
	Packet  *Packet
	Syscall *Syscall
	Command *Command
	Code    *Code
}

// Code is a "%{ ... }%" block (Python over Linux's tcp_info); the runner
// skips it.
type Code struct {
	Line int
	Text string
}

// Direction of a packet line.
type Direction uint8

const (
	Inbound  Direction = iota // "<": injected into the stack
	Outbound                  // ">": the stack must send it
)

func (d Direction) String() string {
	if d == Inbound {
		return "<"
	}
	return ">"
}

// Packet is a packet line: a TCP segment or an ICMP message.
type Packet struct {
	Dir Direction
	// ICMP is set for ICMP lines; the TCP fields are then unused.
	ICMP *ICMP

	Flags      string // letters as written: "S", "S.", "P.", "F.", "R", "." or "" for "-"
	Start, End uint32 // relative sequence numbers start:end
	Len        int    // (len)
	HasAck     bool
	Ack        uint32
	HasWin     bool
	Win        uint16
	HasUrg     bool
	Urg        uint16
	// AnyOptions is "<...>": the options are not checked.
	AnyOptions bool
	// HasOptions is true when an option list "<...>" was written; Options
	// is then the list in order (possibly with NOPs).
	HasOptions bool
	Options    []TCPOption
}

// OptKind names a TCP option in a packet line.
type OptKind uint8

const (
	OptNOP OptKind = iota
	OptEOL
	OptMSS
	OptWScale
	OptSACKOK
	OptSACK
	OptTS
)

// TCPOption is one option of a packet line.
type TCPOption struct {
	Kind   OptKind
	Value  uint32      // MSS, window scale shift
	Blocks [][2]uint32 // SACK blocks, left:right
	TSVal  uint32
	TSEcr  uint32
}

// ICMP is an ICMP packet line: "< icmp unreachable frag_needed mtu 1200 [1:1461(1460)]".
type ICMP struct {
	Type, Code string
	HasMTU     bool
	MTU        int
	// Echoed is the TCP segment the ICMP message quotes, when given.
	HasEchoed bool
	EchoStart uint32
	EchoLen   int
}

// Syscall is a system call line.
type Syscall struct {
	Name string
	Args []Expr
	// Blocking is set for "start...end" calls; EndTime is the end as
	// written (relative to the same base as a relative start time, or
	// absolute).
	Blocking bool
	EndTime  time.Duration
	Result   Expr
	Errno    string // "" when no errno was written
	Note     string
}

// Expr is an argument or result expression.
type Expr interface{ String() string }

// Ellipsis is "...".
type Ellipsis struct{}

// Int is an integer (decimal, or hex with Hex set).
type Int struct {
	V   int64
	Hex bool
}

// Word is a symbol such as SOCK_STREAM.
type Word struct{ Name string }

// String is a quoted string.
type String struct{ S string }

// Or is "A|B|C".
type Or struct{ Terms []Expr }

// Assign is "name=expr" inside braces.
type Assign struct {
	Name string
	V    Expr
}

// Array is "[a, b]".
type Array struct{ Elems []Expr }

// Struct is "{a, b}".
type Struct struct{ Elems []Expr }

// Call is "htons(8080)".
type Call struct {
	Name string
	Args []Expr
}

func (Ellipsis) String() string { return "..." }
func (i Int) String() string {
	if i.Hex {
		return "0x" + strconv.FormatInt(i.V, 16)
	}
	return strconv.FormatInt(i.V, 10)
}
func (w Word) String() string   { return w.Name }
func (s String) String() string { return strconv.Quote(s.S) }
func (o Or) String() string     { return joinExprs(o.Terms, "|") }
func (a Assign) String() string { return a.Name + "=" + a.V.String() }
func (a Array) String() string  { return "[" + joinExprs(a.Elems, ", ") + "]" }
func (s Struct) String() string { return "{" + joinExprs(s.Elems, ", ") + "}" }
func (c Call) String() string   { return c.Name + "(" + joinExprs(c.Args, ", ") + ")" }

func joinExprs(es []Expr, sep string) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, sep)
}

// String prints the packet line in script syntax (without its time).
func (p *Packet) String() string {
	var b strings.Builder
	b.WriteString(p.Dir.String())
	b.WriteByte(' ')
	if p.ICMP != nil {
		b.WriteString("icmp " + p.ICMP.Type)
		if p.ICMP.Code != "" {
			b.WriteString(" " + p.ICMP.Code)
		}
		return b.String()
	}
	flags := p.Flags
	if flags == "" {
		flags = "-"
	}
	b.WriteString(flags)
	b.WriteString(" " + u32(p.Start) + ":" + u32(p.End) + "(" + strconv.Itoa(p.Len) + ")")
	if p.HasAck {
		b.WriteString(" ack " + u32(p.Ack))
	}
	if p.HasWin {
		b.WriteString(" win " + strconv.Itoa(int(p.Win)))
	}
	if p.HasUrg {
		b.WriteString(" urg " + strconv.Itoa(int(p.Urg)))
	}
	if p.AnyOptions {
		b.WriteString(" <...>")
	} else if p.HasOptions {
		b.WriteString(" <" + formatOptions(p.Options) + ">")
	}
	return b.String()
}

func formatOptions(opts []TCPOption) string {
	parts := make([]string, 0, len(opts))
	for _, o := range opts {
		switch o.Kind {
		case OptNOP:
			parts = append(parts, "nop")
		case OptEOL:
			parts = append(parts, "eol")
		case OptMSS:
			parts = append(parts, "mss "+u32(o.Value))
		case OptWScale:
			parts = append(parts, "wscale "+u32(o.Value))
		case OptSACKOK:
			parts = append(parts, "sackOK")
		case OptSACK:
			s := "sack"
			for _, blk := range o.Blocks {
				s += " " + u32(blk[0]) + ":" + u32(blk[1])
			}
			parts = append(parts, s)
		case OptTS:
			parts = append(parts, "TS val "+u32(o.TSVal)+" ecr "+u32(o.TSEcr))
		}
	}
	return strings.Join(parts, ",")
}

func u32(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
