package netsim

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gosynack/synack/wire"
)

// PayloadMatch says whether a Match cares about a segment's payload.
type PayloadMatch uint8

const (
	AnyPayload  PayloadMatch = iota // with or without payload
	NoPayload                       // len=0 only
	WithPayload                     // len>0 only
)

// Match selects segments by their TCP flags and payload. The zero Match
// matches every segment.
type Match struct {
	// Flags must all be set: SYN matches a SYN and a SYN-ACK.
	Flags wire.Flags
	// NotFlags must all be clear: Flags SYN, NotFlags ACK is a bare SYN.
	NotFlags wire.Flags
	Payload  PayloadMatch
}

// Matches reports whether seg is selected by m.
func (m Match) Matches(seg *wire.Segment) bool {
	if !seg.Flags.Has(m.Flags) || seg.Flags&m.NotFlags != 0 {
		return false
	}
	switch m.Payload {
	case NoPayload:
		return len(seg.Payload) == 0
	case WithPayload:
		return len(seg.Payload) > 0
	}
	return true
}

// String prints the required flags, then each forbidden flag after a "!",
// then "data" or "nodata": "S !A", "SA", "F", "A data", "!S !F !R nodata".
// The zero Match prints "any". ParseMatch reads it back.
func (m Match) String() string {
	var parts []string
	if m.Flags != 0 {
		parts = append(parts, m.Flags.String())
	}
	if m.NotFlags != 0 {
		// One "!" per letter: "!AR" could be misread as "not both A and R".
		for _, c := range m.NotFlags.String() {
			parts = append(parts, "!"+string(c))
		}
	}
	switch m.Payload {
	case NoPayload:
		parts = append(parts, "nodata")
	case WithPayload:
		parts = append(parts, "data")
	}
	if len(parts) == 0 {
		return "any"
	}
	return strings.Join(parts, " ")
}

// ParseMatch reads what Match.String prints: space-separated words, each
// either flag letters that must be set ("SA"), "!" and letters that must be
// clear ("!A", "!AR"), "data", "nodata" or "any".
func ParseMatch(s string) (Match, error) {
	var m Match
	words := strings.Fields(s)
	if len(words) == 0 {
		return m, errors.New("sim: empty match")
	}
	for _, w := range words {
		switch {
		case w == "any":
		case w == "data" || w == "nodata":
			p := WithPayload
			if w == "nodata" {
				p = NoPayload
			}
			if m.Payload != AnyPayload && m.Payload != p {
				return Match{}, fmt.Errorf("sim: match %q asks for both data and nodata", s)
			}
			m.Payload = p
		case strings.HasPrefix(w, "!"):
			f, ok := wire.ParseFlags(w[1:])
			if !ok || f == 0 {
				return Match{}, fmt.Errorf("sim: match %q: bad flags %q", s, w)
			}
			m.NotFlags |= f
		default:
			f, ok := wire.ParseFlags(w)
			if !ok {
				return Match{}, fmt.Errorf("sim: match %q: bad flags %q", s, w)
			}
			m.Flags |= f
		}
	}
	if err := m.validate(); err != nil {
		return Match{}, err
	}
	return m, nil
}

func (m Match) validate() error {
	if both := m.Flags & m.NotFlags; both != 0 {
		return fmt.Errorf("sim: match %q can never match: %s both required and forbidden", m, both)
	}
	if m.Payload > WithPayload {
		return fmt.Errorf("sim: match has unknown Payload %d", m.Payload)
	}
	return nil
}

// Action is what a Rule does to the packets it fires on.
type Action uint8

const (
	// Drop discards the packet.
	Drop Action = iota
	// Hold delays the packet by HoldFor, or until Release when HoldFor is 0.
	Hold
	// Duplicate delivers the packet twice.
	Duplicate
	// Corrupt flips one bit of the packet.
	Corrupt
)

var actionNames = [...]string{Drop: "drop", Hold: "hold", Duplicate: "duplicate", Corrupt: "corrupt"}

func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Rule is a scripted impairment on one path: "drop the 2nd SA", "hold the 1st
// S for 3s". Each rule counts the packets it matches on its own path.
type Rule struct {
	// Name identifies the rule for Release; it is required for a Hold with
	// HoldFor 0 and optional otherwise.
	Name  string
	Match Match
	// Nth makes the rule fire on the Nth matching packet only (1-based);
	// 0 fires on every matching packet.
	Nth    int
	Action Action
	// HoldFor is, for Hold, how much later than otherwise the packet is
	// delivered; 0 holds it until Release(Name). Other actions leave it 0.
	HoldFor time.Duration
}

// String describes the rule for trace reasons and captions: "drop 2nd SA",
// "hold 1st S !A for 3s", "hold 1st S until released", "corrupt every data".
// It is the compact form, for the events (--events) and debugging: the
// ladder (package trace/ladder) reads a reason "rule: " and this, by its
// first word and a hold's "for D" or "until released", and says it in words
// to a learner ("the link drops this ACK, as the scenario asks"), so those
// words stay as they are.
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString(r.Action.String())
	b.WriteByte(' ')
	if r.Nth == 0 {
		b.WriteString("every")
	} else {
		b.WriteString(ordinal(r.Nth))
	}
	b.WriteByte(' ')
	if r.Match == (Match{}) {
		b.WriteString("packet")
	} else {
		b.WriteString(r.Match.String())
	}
	if r.Action == Hold {
		if r.HoldFor > 0 {
			b.WriteString(" for ")
			b.WriteString(r.HoldFor.String())
		} else {
			b.WriteString(" until released")
		}
	}
	return b.String()
}

// ordinal prints 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st...
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

func (r Rule) validate() error {
	if r.Action > Corrupt {
		return fmt.Errorf("sim: rule %q: unknown Action %d", r.Name, uint8(r.Action))
	}
	if r.Nth < 0 {
		return fmt.Errorf("sim: rule %q: Nth is %d, want >= 0 (0 is every match)", r.Name, r.Nth)
	}
	if r.HoldFor < 0 {
		return fmt.Errorf("sim: rule %q: HoldFor is %v, want >= 0", r.Name, r.HoldFor)
	}
	if r.HoldFor != 0 && r.Action != Hold {
		return fmt.Errorf("sim: rule %q: HoldFor is set but Action is %v, not hold", r.Name, r.Action)
	}
	if r.Action == Hold && r.HoldFor == 0 && r.Name == "" {
		return fmt.Errorf("sim: rule %q holds until released, so it needs a Name to release it by", r.String())
	}
	return r.Match.validate()
}
