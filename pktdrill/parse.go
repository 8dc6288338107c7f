package pktdrill

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// ParseFile reads and parses a script file. Errors name the file and line.
func ParseFile(path string) (*Script, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: cannot read script: %w", path, err)
	}
	return Parse(path, b)
}

// Parse parses a script. name is used in error messages ("name:line: ...").
// Every error is a *SyntaxError that says what was expected and what was
// found.
func Parse(name string, src []byte) (*Script, error) {
	s, err := parse(name, src)
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			se.File = name
		}
		return nil, err
	}
	return s, nil
}

type parser struct {
	toks []token
	i    int
}

func parse(name string, src []byte) (*Script, error) {
	if strings.IndexByte(string(src), 0) >= 0 {
		line := 1 + strings.Count(string(src[:strings.IndexByte(string(src), 0)]), "\n")
		return nil, &SyntaxError{Line: line, Msg: "expected script text, found a NUL byte (is this a binary file?)"}
	}
	lx := &lexer{src: string(src)}
	toks, err := lx.lexAll()
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	s := &Script{Name: name}
	for p.peek().kind == tOption {
		t := p.take()
		o := Option{Line: t.line, Name: t.text}
		if k, v, ok := strings.Cut(t.text, "="); ok {
			o.Name, o.Value, o.Set = k, v, true
		}
		s.Options = append(s.Options, o)
	}
	for p.peek().kind != tEOF {
		t := p.peek()
		switch t.kind {
		case tBackquote:
			// Init and cleanup commands have no time.
			p.take()
			s.Commands = append(s.Commands, Command{Line: t.line, Text: t.text})
			continue
		case tOption:
			return nil, p.errf(t, "an event (a time such as 0, +.1 or *)", "an option line after the first event; options must come first")
		}
		ev, err := p.event()
		if err != nil {
			return nil, err
		}
		s.Events = append(s.Events, ev)
	}
	for _, n := range lx.notes {
		ef := ExpectedFailure{Line: n.line, Text: n.text}
		for _, ev := range s.Events {
			if ev.Line > n.line {
				ef.EventLine = ev.Line
				break
			}
		}
		s.ExpectFailure = append(s.ExpectFailure, ef)
	}
	if len(s.Events) == 0 {
		return nil, &SyntaxError{Line: p.peek().line, Msg: "expected at least one event, found none"}
	}
	if first := s.Events[0]; first.Time != 0 || (first.Kind != Absolute && first.Kind != Relative) {
		return nil, &SyntaxError{Line: first.Line, Msg: "expected the first event at time 0, found " + fmtDur(first.Time)}
	}
	return s, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) peekAt(k int) token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}
func (p *parser) take() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errf(found token, expected string, foundText ...string) *SyntaxError {
	f := found.String()
	if len(foundText) > 0 {
		f = foundText[0]
	}
	return &SyntaxError{Line: found.line, Msg: "expected " + expected + ", found " + f}
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) expectPunct(s, what string) error {
	if !p.isPunct(s) {
		return p.errf(p.peek(), fmt.Sprintf("%q %s", s, what))
	}
	p.take()
	return nil
}

func (p *parser) isWord(s string) bool {
	t := p.peek()
	return t.kind == tWord && t.text == s
}

// time reads a non-negative number of seconds.
func (p *parser) time(what string) (time.Duration, error) {
	t := p.peek()
	if t.kind != tNumber || strings.HasPrefix(t.text, "-") || strings.HasPrefix(t.text, "0x") {
		return 0, p.errf(t, what)
	}
	p.take()
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil || f > 1e6 {
		return 0, p.errf(t, what+" (at most 1000000 seconds)")
	}
	return time.Duration(math.Round(f*1e6)) * time.Microsecond, nil
}

func (p *parser) event() (*Event, error) {
	start := p.peek()
	ev := &Event{Line: start.line}
	switch {
	case p.isPunct("*"):
		p.take()
		ev.Kind = AnyTime
	case p.isPunct("+"):
		p.take()
		d, err := p.time("a time after '+'")
		if err != nil {
			return nil, err
		}
		ev.Kind, ev.Time = Relative, d
		if p.isPunct("~") {
			p.take()
			if err := p.expectPunct("+", "(a relative range is written +a~+b)"); err != nil {
				return nil, err
			}
			if ev.End, err = p.time("the end of a time range"); err != nil {
				return nil, err
			}
			ev.Kind = RelativeRange
		}
	case start.kind == tNumber:
		d, err := p.time("a time")
		if err != nil {
			return nil, err
		}
		ev.Kind, ev.Time = Absolute, d
		if p.isPunct("~") {
			p.take()
			if ev.End, err = p.time("the end of a time range"); err != nil {
				return nil, err
			}
			ev.Kind = AbsoluteRange
		}
	default:
		return nil, p.errf(start, "an event time (such as 0, 0.100, +.1, * or +0~+.04)")
	}
	if (ev.Kind == AbsoluteRange || ev.Kind == RelativeRange) && ev.End < ev.Time {
		return nil, &SyntaxError{Line: ev.Line, Msg: "expected a time range whose end is not before its start, found " + fmtDur(ev.Time) + "~" + fmtDur(ev.End)}
	}
	t := p.peek()
	switch {
	case t.kind == tPunct && (t.text == "<" || t.text == ">"):
		pkt, err := p.packet()
		if err != nil {
			return nil, err
		}
		ev.Packet = pkt
	case t.kind == tBackquote:
		p.take()
		ev.Command = &Command{Line: t.line, Text: t.text}
	case t.kind == tCode:
		p.take()
		ev.Code = &Code{Line: t.line, Text: t.text}
	case t.kind == tWord || (t.kind == tPunct && t.text == "..."):
		sc, err := p.syscall(ev)
		if err != nil {
			return nil, err
		}
		ev.Syscall = sc
	default:
		return nil, p.errf(t, "a packet ('<' or '>'), a system call, a `command` or a %{ }% block after the time")
	}
	if ev.Kind == AnyTime || ev.Kind == AbsoluteRange || ev.Kind == RelativeRange {
		if ev.Packet == nil || ev.Packet.Dir != Outbound {
			return nil, &SyntaxError{Line: ev.Line, Msg: "expected an outbound packet ('>') after a '*' time or a time range, found another kind of event"}
		}
	}
	return ev, nil
}

func (p *parser) u32(what string) (uint32, error) {
	t := p.peek()
	if t.kind != tNumber || strings.Contains(t.text, ".") || strings.HasPrefix(t.text, "-") {
		return 0, p.errf(t, what)
	}
	v, err := strconv.ParseUint(t.text, 0, 32)
	if err != nil {
		return 0, p.errf(t, what+" (0 to 4294967295)")
	}
	p.take()
	return uint32(v), nil
}

func (p *parser) u16(what string) (uint16, error) {
	t := p.peek()
	v, err := p.u32(what)
	if err != nil {
		return 0, err
	}
	if v > 0xffff {
		return 0, p.errf(t, what+" (0 to 65535)")
	}
	return uint16(v), nil
}

var flagLettersOK = "SFRP.EWU"

func (p *parser) packet() (*Packet, error) {
	dir := p.take()
	pkt := &Packet{Dir: Inbound}
	if dir.text == ">" {
		pkt.Dir = Outbound
	}
	t := p.peek()
	switch {
	case t.kind == tWord && t.text == "icmp":
		p.take()
		return pkt, p.icmp(pkt)
	case t.kind == tWord && (t.text == "udp" || t.text == "ipv4" || t.text == "ipv6" || t.text == "gre" || t.text == "mpls"):
		return nil, p.errf(t, "TCP flags or icmp (synack's runner supports TCP and ICMP lines only)", "'"+t.text+"'")
	case t.kind == tPunct && (t.text == "[" || t.text == "("):
		return nil, p.errf(t, "TCP flags (IP/ECN annotations such as [ect0] are not supported)")
	}
	// Flags: a word of flag letters, optionally followed by '.', or '.' or '-'.
	switch {
	case t.kind == tWord:
		p.take()
		for _, c := range t.text {
			if !strings.ContainsRune(flagLettersOK, c) {
				return nil, p.errf(t, "TCP flag letters (S F R P . E W U, or - for none)", fmt.Sprintf("%q", t.text))
			}
		}
		pkt.Flags = t.text
		if p.isPunct(".") {
			p.take()
			pkt.Flags += "."
		}
	case t.kind == tPunct && t.text == ".":
		p.take()
		pkt.Flags = "."
	case t.kind == tPunct && t.text == "-":
		p.take()
		pkt.Flags = ""
	default:
		return nil, p.errf(t, "TCP flags (such as S, S., P., F., R, . or -)")
	}
	// start:end(len)
	var err error
	if pkt.Start, err = p.u32("a start sequence number (start:end(length))"); err != nil {
		return nil, err
	}
	if err := p.expectPunct(":", "between the start and end sequence numbers"); err != nil {
		return nil, err
	}
	if pkt.End, err = p.u32("an end sequence number (start:end(length))"); err != nil {
		return nil, err
	}
	if err := p.expectPunct("(", "before the payload length"); err != nil {
		return nil, err
	}
	lt := p.peek()
	n, err := p.u16("a payload length")
	if err != nil {
		return nil, err
	}
	pkt.Len = int(n)
	if err := p.expectPunct(")", "after the payload length"); err != nil {
		return nil, err
	}
	if pkt.End-pkt.Start != uint32(pkt.Len) {
		return nil, p.errf(lt, fmt.Sprintf("a payload length equal to end-start (%d)", pkt.End-pkt.Start), fmt.Sprintf("%d", pkt.Len))
	}
	if pkt.Len > 65495 {
		return nil, p.errf(lt, "a payload length that fits in an IPv4 packet (at most 65495)", fmt.Sprintf("%d", pkt.Len))
	}
	for {
		switch {
		case p.isWord("ack"):
			p.take()
			if pkt.Ack, err = p.u32("an acknowledgment number after 'ack'"); err != nil {
				return nil, err
			}
			pkt.HasAck = true
			continue
		case p.isWord("win"):
			p.take()
			if pkt.Win, err = p.u16("a window after 'win'"); err != nil {
				return nil, err
			}
			pkt.HasWin = true
			continue
		case p.isWord("urg"):
			p.take()
			if pkt.Urg, err = p.u16("an urgent pointer after 'urg'"); err != nil {
				return nil, err
			}
			pkt.HasUrg = true
			continue
		case p.isPunct("<"):
			p.take()
			if err := p.options(pkt); err != nil {
				return nil, err
			}
		}
		break
	}
	if strings.Contains(pkt.Flags, ".") != pkt.HasAck && pkt.Dir == Outbound && pkt.HasAck {
		return nil, &SyntaxError{Line: dir.line, Msg: "expected the ACK flag '.' on a packet with 'ack', found flags " + fmt.Sprintf("%q", pkt.Flags)}
	}
	if pkt.Dir == Inbound && pkt.AnyOptions {
		return nil, &SyntaxError{Line: dir.line, Msg: "expected a list of TCP options on an inbound packet, found <...> (it can only be used with outbound packets)"}
	}
	if pkt.Dir == Inbound && !pkt.HasWin {
		return nil, &SyntaxError{Line: dir.line, Msg: "expected 'win N' on an inbound packet, found none"}
	}
	return pkt, nil
}

func (p *parser) options(pkt *Packet) error {
	if p.isPunct("...") {
		p.take()
		pkt.AnyOptions = true
		return p.expectPunct(">", "after <...")
	}
	pkt.HasOptions = true
	for {
		t := p.peek()
		if t.kind != tWord {
			return p.errf(t, "a TCP option (nop, eol, mss N, wscale N, sackOK, sack a:b, TS val N ecr N)")
		}
		p.take()
		var o TCPOption
		var err error
		switch t.text {
		case "nop":
			o.Kind = OptNOP
		case "eol":
			o.Kind = OptEOL
		case "mss":
			o.Kind = OptMSS
			var v uint16
			v, err = p.u16("an MSS value after 'mss'")
			o.Value = uint32(v)
		case "wscale":
			o.Kind = OptWScale
			nt := p.peek()
			o.Value, err = p.u32("a shift count after 'wscale'")
			if err == nil && o.Value > 255 {
				err = p.errf(nt, "a shift count of 0 to 255")
			}
		case "sackOK":
			o.Kind = OptSACKOK
		case "sack":
			o.Kind = OptSACK
			for p.peek().kind == tNumber {
				var l, r uint32
				if l, err = p.u32("a SACK left edge"); err != nil {
					return err
				}
				if err = p.expectPunct(":", "between SACK edges"); err != nil {
					return err
				}
				if r, err = p.u32("a SACK right edge"); err != nil {
					return err
				}
				o.Blocks = append(o.Blocks, [2]uint32{l, r})
			}
			if len(o.Blocks) == 0 {
				return p.errf(p.peek(), "at least one SACK block a:b after 'sack'")
			}
			if len(o.Blocks) > 4 {
				return p.errf(t, "at most 4 SACK blocks", fmt.Sprintf("%d", len(o.Blocks)))
			}
		case "TS":
			o.Kind = OptTS
			if !p.isWord("val") {
				return p.errf(p.peek(), "'val' after 'TS'")
			}
			p.take()
			if o.TSVal, err = p.u32("a TS value after 'val'"); err != nil {
				return err
			}
			if !p.isWord("ecr") {
				return p.errf(p.peek(), "'ecr' after the TS value")
			}
			p.take()
			o.TSEcr, err = p.u32("a TS echo reply after 'ecr'")
		default:
			return p.errf(t, "a TCP option synack's runner knows (nop, eol, mss, wscale, sackOK, sack, TS)", fmt.Sprintf("%q", t.text))
		}
		if err != nil {
			return err
		}
		pkt.Options = append(pkt.Options, o)
		if p.isPunct(",") {
			p.take()
			continue
		}
		return p.expectPunct(">", "or ',' after a TCP option")
	}
}

func (p *parser) icmp(pkt *Packet) error {
	ic := &ICMP{}
	pkt.ICMP = ic
	t := p.peek()
	if t.kind != tWord {
		return p.errf(t, "an ICMP type after 'icmp' (such as unreachable or time_exceeded)")
	}
	p.take()
	ic.Type = t.text
	if p.peek().kind == tWord && p.peek().text != "mtu" {
		ic.Code = p.take().text
	}
	if p.isWord("mtu") {
		p.take()
		v, err := p.u16("an MTU after 'mtu'")
		if err != nil {
			return err
		}
		ic.HasMTU, ic.MTU = true, int(v)
	}
	if p.isPunct("[") {
		p.take()
		var err error
		if ic.EchoStart, err = p.u32("the quoted segment's start sequence number"); err != nil {
			return err
		}
		if err := p.expectPunct(":", "in the quoted segment"); err != nil {
			return err
		}
		end, err := p.u32("the quoted segment's end sequence number")
		if err != nil {
			return err
		}
		if err := p.expectPunct("(", "in the quoted segment"); err != nil {
			return err
		}
		n, err := p.u16("the quoted segment's length")
		if err != nil {
			return err
		}
		if end-ic.EchoStart != uint32(n) {
			return p.errf(p.peek(), "a quoted segment whose length is end-start")
		}
		if err := p.expectPunct(")", "in the quoted segment"); err != nil {
			return err
		}
		if err := p.expectPunct("]", "after the quoted segment"); err != nil {
			return err
		}
		ic.HasEchoed, ic.EchoLen = true, int(n)
	}
	return nil
}

func (p *parser) syscall(ev *Event) (*Syscall, error) {
	sc := &Syscall{}
	if p.isPunct("...") {
		p.take()
		d, err := p.time("the end time of a blocking call after '...'")
		if err != nil {
			return nil, err
		}
		sc.Blocking, sc.EndTime = true, d
		if ev.Kind == Absolute && d < ev.Time {
			return nil, &SyntaxError{Line: ev.Line, Msg: "expected a blocking call's end time not before its start, found " + fmtDur(ev.Time) + "..." + fmtDur(d)}
		}
	}
	t := p.peek()
	if t.kind != tWord {
		return nil, p.errf(t, "a system call name")
	}
	p.take()
	sc.Name = t.text
	if err := p.expectPunct("(", "after the system call name"); err != nil {
		return nil, err
	}
	args, err := p.exprList(")")
	if err != nil {
		return nil, err
	}
	sc.Args = args
	if err := p.expectPunct("=", "and the expected result after the system call's arguments"); err != nil {
		return nil, err
	}
	if sc.Result, err = p.expr(); err != nil {
		return nil, err
	}
	// Optional errno and note, on the same line as the result.
	line := p.toks[p.i-1].line
	if nt := p.peek(); nt.kind == tWord && nt.line == line {
		sc.Errno = p.take().text
	}
	if p.isPunct("(") && p.peek().line == line {
		note, err := p.note()
		if err != nil {
			return nil, err
		}
		sc.Note = note
	}
	return sc, nil
}

// note reads "( words... )" as text.
func (p *parser) note() (string, error) {
	open := p.take()
	var words []string
	depth := 1
	for {
		t := p.peek()
		if t.kind == tEOF || t.line != open.line {
			return "", p.errf(t, "')' closing the note on line "+strconv.Itoa(open.line))
		}
		p.take()
		if t.kind == tPunct && t.text == "(" {
			depth++
		}
		if t.kind == tPunct && t.text == ")" {
			depth--
			if depth == 0 {
				return strings.Join(words, " "), nil
			}
		}
		words = append(words, t.text)
	}
}

// exprList reads expressions separated by ',' up to the closing token.
func (p *parser) exprList(closer string) ([]Expr, error) {
	var out []Expr
	if p.isPunct(closer) {
		p.take()
		return out, nil
	}
	for {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if p.isPunct(",") {
			p.take()
			continue
		}
		if p.isPunct(closer) {
			p.take()
			return out, nil
		}
		return nil, p.errf(p.peek(), fmt.Sprintf("',' or %q in an argument list", closer))
	}
}

func (p *parser) expr() (Expr, error) {
	e, err := p.term()
	if err != nil {
		return nil, err
	}
	if !p.isPunct("|") {
		return e, nil
	}
	or := Or{Terms: []Expr{e}}
	for p.isPunct("|") {
		p.take()
		e, err := p.term()
		if err != nil {
			return nil, err
		}
		or.Terms = append(or.Terms, e)
	}
	return or, nil
}

func (p *parser) term() (Expr, error) {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "...":
		p.take()
		return Ellipsis{}, nil
	case t.kind == tNumber:
		p.take()
		if strings.Contains(t.text, ".") {
			return nil, p.errf(t, "an integer expression", "number "+t.text)
		}
		v, err := strconv.ParseInt(t.text, 0, 64)
		if err != nil {
			return nil, p.errf(t, "an integer that fits in 64 bits")
		}
		return Int{V: v, Hex: strings.HasPrefix(t.text, "0x") || strings.HasPrefix(t.text, "0X")}, nil
	case t.kind == tString:
		p.take()
		s := String{S: t.text}
		if p.isPunct("...") {
			p.take()
		}
		return s, nil
	case t.kind == tWord:
		p.take()
		if p.isPunct("=") && p.peekAt(1).kind != tEOF {
			// name=value inside braces (fd=4, events=POLLIN).
			p.take()
			v, err := p.expr()
			if err != nil {
				return nil, err
			}
			return Assign{Name: t.text, V: v}, nil
		}
		if p.isPunct("(") {
			p.take()
			args, err := p.exprList(")")
			if err != nil {
				return nil, err
			}
			return Call{Name: t.text, Args: args}, nil
		}
		return Word{Name: t.text}, nil
	case t.kind == tPunct && t.text == "[":
		p.take()
		elems, err := p.exprList("]")
		if err != nil {
			return nil, err
		}
		return Array{Elems: elems}, nil
	case t.kind == tPunct && t.text == "{":
		p.take()
		elems, err := p.exprList("}")
		if err != nil {
			return nil, err
		}
		return Struct{Elems: elems}, nil
	}
	return nil, p.errf(t, "an expression (a number, a symbol, a string, ..., [..] or {..})")
}

func fmtDur(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
}

func asSyntax(err error, target **SyntaxError) bool {
	se, ok := err.(*SyntaxError)
	if ok {
		*target = se
	}
	return ok
}
