package pktdrill

import (
	"fmt"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tNumber
	tWord
	tString
	tPunct     // one of ( ) [ ] { } , = | < > : ~ + * - . ; and "..."
	tBackquote // `...`
	tCode      // %{ ... }%
	tOption    // --name[=value]
)

type token struct {
	kind tokKind
	text string // the number, word, punctuation, or the quoted content
	line int
	// comment holds "// Failure:" annotations seen before this token.
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tString:
		return fmt.Sprintf("string %q", t.text)
	case tBackquote:
		return "a backquoted command"
	case tCode:
		return "a %{ }% code block"
	case tNumber:
		return "number " + t.text
	case tOption:
		return "option --" + t.text
	default:
		return fmt.Sprintf("%q", t.text)
	}
}

// annotation is a "// Failure: ..." comment.
type annotation struct {
	line int
	text string
}

// lexer turns a script into tokens, tracking lines and skipping comments.
type lexer struct {
	src   string
	pos   int
	line  int
	notes []annotation
}

// SyntaxError is a parse error at a line of a script.
type SyntaxError struct {
	File string
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func (l *lexer) errf(line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
func isWordChar(c byte) bool { return isWordStart(c) || isDigit(c) }

// lexAll returns every token or the first lexical error.
func (l *lexer) lexAll() ([]token, error) {
	l.line = 1
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '\n':
			l.line++
			l.pos++
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "//"):
			end := strings.IndexByte(l.src[l.pos:], '\n')
			if end < 0 {
				end = len(l.src) - l.pos
			}
			text := strings.TrimSpace(l.src[l.pos+2 : l.pos+end])
			if strings.HasPrefix(text, "Failure:") {
				l.notes = append(l.notes, annotation{line: l.line, text: strings.TrimSpace(strings.TrimPrefix(text, "Failure:"))})
			}
			l.pos += end
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			start := l.line
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return token{}, l.errf(start, "expected the end of a /* comment (*/), found end of file")
			}
			body := l.src[l.pos : l.pos+2+end+2]
			l.line += strings.Count(body, "\n")
			l.pos += len(body)
		default:
			return l.token()
		}
	}
	return token{kind: tEOF, line: l.line}, nil
}

func (l *lexer) token() (token, error) {
	c := l.src[l.pos]
	line := l.line
	rest := l.src[l.pos:]
	switch {
	case strings.HasPrefix(rest, "..."):
		l.pos += 3
		return token{kind: tPunct, text: "...", line: line}, nil
	case strings.HasPrefix(rest, "%{"):
		end := strings.Index(rest, "}%")
		if end < 0 {
			return token{}, l.errf(line, "expected the end of a %%{ code block (}%%), found end of file")
		}
		body := rest[2:end]
		l.line += strings.Count(rest[:end+2], "\n")
		l.pos += end + 2
		return token{kind: tCode, text: body, line: line}, nil
	case strings.HasPrefix(rest, "--") && len(rest) > 2 && isWordStart(rest[2]):
		end := strings.IndexAny(rest, " \t\r\n")
		if end < 0 {
			end = len(rest)
		}
		l.pos += end
		return token{kind: tOption, text: rest[2:end], line: line}, nil
	case c == '`':
		end := strings.IndexByte(rest[1:], '`')
		if end < 0 {
			return token{}, l.errf(line, "expected the closing ` of a backquoted command, found end of file")
		}
		body := rest[1 : 1+end]
		l.line += strings.Count(body, "\n")
		l.pos += end + 2
		return token{kind: tBackquote, text: body, line: line}, nil
	case c == '"':
		i := 1
		var b strings.Builder
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\n' {
				return token{}, l.errf(line, "expected the closing \" of a string, found end of line")
			}
			if rest[i] == '\\' && i+1 < len(rest) {
				i++
			}
			b.WriteByte(rest[i])
		}
		if i >= len(rest) {
			return token{}, l.errf(line, "expected the closing \" of a string, found end of file")
		}
		l.pos += i + 1
		return token{kind: tString, text: b.String(), line: line}, nil
	case isDigit(c) || (c == '.' && len(rest) > 1 && isDigit(rest[1])):
		return l.number(line), nil
	case c == '-' && len(rest) > 1 && isDigit(rest[1]):
		l.pos++
		t := l.number(line)
		t.text = "-" + t.text
		return t, nil
	case isWordStart(c):
		i := 1
		for i < len(rest) && isWordChar(rest[i]) {
			i++
		}
		l.pos += i
		return token{kind: tWord, text: rest[:i], line: line}, nil
	case strings.IndexByte("()[]{},=|<>:~+*-.;!", c) >= 0:
		l.pos++
		return token{kind: tPunct, text: string(c), line: line}, nil
	}
	return token{}, l.errf(line, "expected a token, found unexpected character %q", c)
}

// number reads 12, 0.100, .1, 0x2a. A '.' is part of the number only when a
// digit follows it, so "0...0.2" is 0, ..., 0.2.
func (l *lexer) number(line int) token {
	rest := l.src[l.pos:]
	i := 0
	if strings.HasPrefix(rest, "0x") || strings.HasPrefix(rest, "0X") {
		i = 2
		for i < len(rest) && strings.IndexByte("0123456789abcdefABCDEF", rest[i]) >= 0 {
			i++
		}
		l.pos += i
		return token{kind: tNumber, text: rest[:i], line: line}
	}
	for i < len(rest) && isDigit(rest[i]) {
		i++
	}
	if i < len(rest) && rest[i] == '.' && i+1 < len(rest) && isDigit(rest[i+1]) {
		i++
		for i < len(rest) && isDigit(rest[i]) {
			i++
		}
	}
	l.pos += i
	return token{kind: tNumber, text: rest[:i], line: line}
}
