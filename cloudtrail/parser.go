package cloudtrail

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch/internal/jsonbytes"
)

// parser is a small validating JSON reader over one in-memory value. It
// exists because the generic decoders spend most of their time allocating:
// this one returns offsets into the input, and the record decoder turns them
// into substrings of one string copy of the record.
//
// It accepts exactly RFC 8259 JSON, except that invalid UTF-8 inside strings
// is let through (CloudTrail text is UTF-8; the stores keep bytes).
type parser struct {
	b []byte
	i int
	// short is set by an error at the end of b: more bytes might have
	// made the value valid.
	short bool
}

// maxDepth bounds nesting so that hostile input cannot exhaust the stack.
const maxDepth = 256

var errSyntax = errors.New("syntax error")

func (p *parser) errorf(format string, args ...any) error {
	p.short = p.i >= len(p.b)
	return fmt.Errorf("%w at offset %d: %s", errSyntax, p.i, fmt.Sprintf(format, args...))
}

func (p *parser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end. A NUL byte in the
// input is returned as 1: it must not pass for the end.
func (p *parser) peek() byte {
	p.ws()
	if p.i < len(p.b) {
		return max(p.b[p.i], 1)
	}
	return 0
}

// strChar marks the bytes that end the fast part of a string scan: the quote,
// the backslash and the control characters JSON forbids in strings.
var strChar = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// str reads a string at p.i (which must be '"') and returns the offsets of
// its contents (between the quotes) and whether it has escapes.
func (p *parser) str() (start, end int, esc bool, err error) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return 0, 0, false, p.errorf("want string")
	}
	p.i++
	start = p.i
	b := p.b
	for {
		i := p.i
		// Eight bytes at a time while none of them is special, then one
		// at a time.
		for i+8 <= len(b) && !jsonbytes.SpecialIn8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && !strChar[b[i]] {
			i++
		}
		p.i = i
		if i >= len(b) {
			return 0, 0, false, p.errorf("unterminated string")
		}
		switch c := b[i]; {
		case c == '"':
			p.i++
			return start, i, esc, nil
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				p.i = len(b)
				return 0, 0, false, p.errorf("unterminated string")
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i = i + 2
			case 'u':
				if i+6 > len(b) {
					p.i = len(b)
					return 0, 0, false, p.errorf("unterminated string")
				}
				if !jsonbytes.IsHex4(b[i+2 : i+6]) {
					return 0, 0, false, p.errorf("bad \\u escape")
				}
				p.i = i + 6
			default:
				return 0, 0, false, p.errorf("bad escape")
			}
		default:
			return 0, 0, false, p.errorf("control character in string")
		}
	}
}

// skip reads and validates one value of any kind.
func (p *parser) skip(depth int) error {
	switch c := p.peek(); c {
	case '"':
		_, _, _, err := p.str()
		return err
	case '{':
		return p.object(depth, nil)
	case '[':
		if depth >= maxDepth {
			return p.errorf("nested too deep")
		}
		p.i++
		if p.peek() == ']' {
			p.i++
			return nil
		}
		for {
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			switch p.peek() {
			case ',':
				p.i++
			case ']':
				p.i++
				return nil
			default:
				return p.errorf("want , or ]")
			}
		}
	case 't':
		return p.lit("true")
	case 'f':
		return p.lit("false")
	case 'n':
		return p.lit("null")
	case 0:
		return p.errorf("unexpected end")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return p.number()
		}
		return p.errorf("unexpected %q", c)
	}
}

func (p *parser) lit(s string) error {
	if len(p.b)-p.i < len(s) {
		p.i = len(p.b)
		return p.errorf("bad literal")
	}
	if string(p.b[p.i:p.i+len(s)]) != s {
		return p.errorf("bad literal")
	}
	p.i += len(s)
	return nil
}

func (p *parser) number() error {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		p.i = i
		return p.errorf("bad number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return p.errorf("bad number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return p.errorf("bad number")
		}
	}
	p.i = i
	return nil
}

// object reads an object at p.i. For each member it calls field with the
// key (unescaped; valid only during the call) with p.i at the value: field
// must consume the value (or return an error). A nil field skips every value.
func (p *parser) object(depth int, field func(key []byte) error) error {
	if depth >= maxDepth {
		return p.errorf("nested too deep")
	}
	if p.peek() != '{' {
		return p.errorf("want object")
	}
	p.i++
	if p.peek() == '}' {
		p.i++
		return nil
	}
	for {
		if p.peek() != '"' {
			return p.errorf("want key")
		}
		s, e, esc, err := p.str()
		if err != nil {
			return err
		}
		key := p.b[s:e]
		if esc {
			key = unescape(key)
		}
		if p.peek() != ':' {
			return p.errorf("want :")
		}
		p.i++
		if field != nil {
			p.ws()
			err = field(key)
		} else {
			err = p.skip(depth + 1)
		}
		if err != nil {
			return err
		}
		switch p.peek() {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("want , or }")
		}
	}
}

// unescape decodes the escapes of a validated JSON string's contents.
// Unpaired surrogates become U+FFFD, as encoding/json does.
func unescape(s []byte) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		switch s[i] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := hex4(s[i+1:])
			i += 4
			if utf16.IsSurrogate(r) {
				if i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
					if r2 := hex4(s[i+3:]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						r = utf16.DecodeRune(r, r2)
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
		default: // '"', '\\', '/'
			out = append(out, s[i])
		}
	}
	return out
}

func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
