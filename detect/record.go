package detect

import (
	"encoding/binary"

	gojson "github.com/goccy/go-json"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/jsonbytes"
)

// record is the CloudTrail record of one event as the rules read it, parsed
// no further than they read: most patterns and conditions read a few
// top-level members (eventName, errorCode, requestParameters), and parsing
// the whole record (userIdentity, resources, tlsDetails…) was half of what
// matching an event cost. reset scans the record once, checking all of it,
// and notes where each top-level member's value lies; get parses a value the
// first time it is read; whole builds the map the full parse gives. The
// values are those of the full parse (parseRecord) in every case: a repeated
// key reads as its last value, and a record the scan does not vouch for is
// parsed in full instead (see scanMembers). A record is reused from event to
// event; it is not safe for concurrent use.
type record struct {
	members []member       // the top-level members, in order (repeated keys included)
	full    map[string]any // the whole record, once whole built it or the scan refused the record
}

// member is one top-level member of a scanned record.
type member struct {
	key    []byte // plain ASCII, as written (no escapes)
	raw    []byte // the value's JSON, in the event's Raw
	val    any    // raw parsed, once parsed
	parsed bool
}

// reset makes r the record of ev. A record the scan refuses is parsed in
// full; the error is then parseRecord's: the record cannot be evaluated.
func (r *record) reset(ev *iamwatch.Event) error {
	clear(r.members) // drop the previous event's values
	r.full = nil
	if len(ev.Raw) > 0 {
		if ms, ok := scanMembers(ev.Raw, r.members[:0]); ok {
			r.members = ms
			return nil
		}
	}
	r.members = r.members[:0]
	var err error
	r.full, err = parseRecord(ev)
	return err
}

// get returns the value of the top-level member key, as the full parse
// gives it (JSON-shaped, numbers as float64), and whether it is present. A
// nil record (a light rule's, see matchRule) has no members.
func (r *record) get(key string) (any, bool) {
	if r == nil {
		return nil, false
	}
	if r.full != nil {
		v, ok := r.full[key]
		return v, ok
	}
	for i := len(r.members) - 1; i >= 0; i-- { // the last of a repeated key wins
		if m := &r.members[i]; string(m.key) == key {
			return m.value(), true
		}
	}
	return nil, false
}

// object returns the member key when it is an object, else an empty map
// (what request, response and additional are for a record without them).
func (r *record) object(key string) map[string]any {
	v, _ := r.get(key)
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return emptyObject
}

// whole returns the whole record, as parseRecord gives it (nil for a nil
// record). Values already read are not parsed again.
func (r *record) whole() map[string]any {
	if r == nil {
		return nil
	}
	if r.full == nil {
		full := make(map[string]any, len(r.members))
		for i := range r.members { // in order: a repeated key keeps its last value
			full[string(r.members[i].key)] = r.members[i].value()
		}
		r.full = full
	}
	return r.full
}

// value returns m's value parsed, parsing it the first time.
func (m *member) value() any {
	if !m.parsed {
		m.val, m.parsed = parseValue(m.raw), true
	}
	return m.val
}

// parseValue parses raw, one JSON value scanMembers checked, as the full
// parse of its record would: plain ASCII strings and literals directly, the
// rest with the same decoder. That decoder does not fail on a value the scan
// accepted (FuzzRecord checks it); if it did, the value would read as null.
func parseValue(raw []byte) any {
	switch raw[0] {
	case '"':
		if s := raw[1 : len(raw)-1]; plainASCII(s) {
			return string(s)
		}
	case 't':
		return true
	case 'f':
		return false
	case 'n':
		return nil
	}
	var v any
	if err := gojson.Unmarshal(raw, &v); err != nil {
		return nil
	}
	return v
}

// plainASCII reports whether s is printable ASCII without a backslash: a
// string's contents that every decoder reads as they are.
func plainASCII(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

// scanMembers appends to ms the top-level members of raw, a JSON object,
// after checking that all of raw is JSON the full parse accepts. ok is false
// when it is not, and also for what the scan does not bother to judge (a key
// that is not plain ASCII, a number with an exponent, which may be out of a
// float64's range, or a long one, nesting deeper than maxScanDepth): the
// full parse then decides, so the scan needs to be only stricter than it,
// never laxer. Invalid UTF-8 in strings is let through, as the full parse
// lets it (as U+FFFD).
func scanMembers(raw []byte, ms []member) ([]member, bool) {
	s := scanner{b: raw}
	if s.ws() != '{' {
		return ms, false
	}
	s.i++
	if s.ws() == '}' {
		s.i++
		return ms, s.ws() == 0 && s.i == len(raw)
	}
	for {
		if s.ws() != '"' {
			return ms, false
		}
		start := s.i + 1
		if !s.str() || !plainASCII(raw[start:s.i-1]) {
			return ms, false
		}
		key := raw[start : s.i-1]
		if s.ws() != ':' {
			return ms, false
		}
		s.i++
		s.ws()
		vstart := s.i
		if !s.value(1) {
			return ms, false
		}
		ms = append(ms, member{key: key, raw: raw[vstart:s.i]})
		switch s.ws() {
		case ',':
			s.i++
		case '}':
			s.i++
			return ms, s.ws() == 0 && s.i == len(raw)
		default:
			return ms, false
		}
	}
}

// maxScanDepth is the deepest nesting scanMembers judges; CloudTrail
// records nest a few levels.
const maxScanDepth = 64

// maxScanNumber is the longest number scanMembers judges: shorter, a
// number without exponent is within a float64's range.
const maxScanNumber = 300

// scanner checks JSON values in b from i.
type scanner struct {
	b []byte
	i int
}

// ws skips JSON white space and returns the next byte, 0 at the end (a NUL
// byte is returned as 1: it must not pass for the end).
func (s *scanner) ws() byte {
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return max(c, 1)
		}
	}
	return 0
}

// value checks one value at s.i (white space skipped), depth being the
// nesting of the object or array holding it.
func (s *scanner) value(depth int) bool {
	switch c := s.ws(); c {
	case '"':
		return s.str()
	case '{', '[':
		if depth >= maxScanDepth {
			return false
		}
		return s.container(c, depth)
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		return s.number()
	}
}

// container checks an object (open '{') or an array at s.i.
func (s *scanner) container(open byte, depth int) bool {
	end := byte(']')
	if open == '{' {
		end = '}'
	}
	s.i++
	if s.ws() == end {
		s.i++
		return true
	}
	for {
		if open == '{' {
			if s.ws() != '"' || !s.str() || s.ws() != ':' {
				return false
			}
			s.i++
		}
		if !s.value(depth + 1) {
			return false
		}
		switch s.ws() {
		case ',':
			s.i++
		case end:
			s.i++
			return true
		default:
			return false
		}
	}
}

// str checks a string at s.i (its opening quote) and moves past it.
func (s *scanner) str() bool {
	b, i := s.b, s.i+1
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character, then one at a time.
		for i+8 <= len(b) && !jsonbytes.SpecialIn8(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) || b[i] < 0x20 {
			return false
		}
		if b[i] == '"' {
			s.i = i + 1
			return true
		}
		if i+1 >= len(b) {
			return false
		}
		switch b[i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			i += 2
		case 'u':
			if i+6 > len(b) || !jsonbytes.IsHex4(b[i+2:i+6]) {
				return false
			}
			i += 6
		default:
			return false
		}
	}
}

func (s *scanner) lit(want string) bool {
	if len(s.b)-s.i < len(want) || string(s.b[s.i:s.i+len(want)]) != want {
		return false
	}
	s.i += len(want)
	return true
}

// number checks a number without exponent (RFC 8259's grammar otherwise)
// of at most maxScanNumber bytes.
func (s *scanner) number() bool {
	b, i := s.b, s.i
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
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') || i-s.i > maxScanNumber {
		return false
	}
	s.i = i
	return true
}
