package cloudtrail

import (
	"bytes"
	"fmt"
	"io"
	"time"
)

// stream splits a byte stream into JSON values without decoding them. It
// holds at most one value (bounded by limit) plus one read chunk in memory.
// It does not validate: the record parser does, value by value.
type stream struct {
	r     io.Reader
	buf   []byte
	pos   int // next unread byte in buf
	end   int // buf[pos:end] holds unread data
	eof   bool
	err   error // the reader's error, other than io.EOF
	limit int   // longest value kept in memory
}

const readChunk = 64 << 10

// newStream returns a stream over r reading into buf (readChunk bytes or
// more; it grows while a value needs it, up to limit).
func newStream(r io.Reader, buf []byte, limit int) *stream {
	return &stream{r: r, buf: buf[:cap(buf)], limit: limit}
}

// more reads more data, keeping buf[pos:end]. It reports false when nothing
// more can come (end of input or a read error, see s.err).
func (s *stream) more() bool {
	if s.eof || s.err != nil {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.pos, s.end = 0, n
	}
	if s.end == len(s.buf) {
		// Grow: only while a value below the limit is being kept.
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for range 100 {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
			return n > 0
		}
		if err != nil {
			s.err = err
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// skipBOM drops a UTF-8 byte order mark at the start of the input, which
// some Windows tools write before JSON.
func (s *stream) skipBOM() {
	for s.end-s.pos < 3 && s.more() {
	}
	if s.end-s.pos >= 3 && string(s.buf[s.pos:s.pos+3]) == "\xef\xbb\xbf" {
		s.pos += 3
	}
}

// peek skips white space and returns the next byte, or 0 at the end of the
// input (a NUL byte in the input is returned as 1).
func (s *stream) peek() byte {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return max(c, 1) // a NUL byte must not pass for the end
			}
		}
		if !s.more() {
			return 0
		}
	}
}

// valueStatus says how a scanned value ended. For valueBrokenLine the bytes
// returned are the part of the value before the newline.
type valueStatus int

const (
	valueOK         valueStatus = iota
	valueTooLarge               // longer than the limit: skipped whole, not kept
	valueTruncated              // the input ended inside it
	valueBrokenLine             // line mode: a newline came before its end
)

// structural marks the bytes the value scanner stops at outside strings.
var structural = func() (t [256]bool) {
	for _, c := range []byte("\"{}[]\n") {
		t[c] = true
	}
	return t
}()

// value scans the value starting at pos and returns its bytes (valid until
// the next call) and how it ended. Strings, objects and arrays are matched
// by their delimiters; any other value runs to the next delimiter. With
// lineMode, a value must end on the line it starts on; at a newline it stops
// with valueBrokenLine, leaving pos at the newline.
func (s *stream) value(lineMode bool) ([]byte, valueStatus) {
	start := s.pos // kept data starts here; rel offsets are from it
	rel := 0
	depth := 0
	inStr := false
	tooLarge := false
	c0 := s.buf[s.pos]
	scalar := c0 != '{' && c0 != '[' && c0 != '"'
	for {
		b := s.buf[start:s.end]
		for rel < len(b) {
			if inStr {
				j := bytes.IndexByte(b[rel:], '"')
				if j < 0 {
					if lineMode && bytes.IndexByte(b[rel:], '\n') >= 0 {
						s.pos = start + rel + bytes.IndexByte(b[rel:], '\n')
						return s.partial(start, tooLarge), valueBrokenLine
					}
					rel = len(b)
					break
				}
				if lineMode {
					if k := bytes.IndexByte(b[rel:rel+j], '\n'); k >= 0 {
						s.pos = start + rel + k
						return s.partial(start, tooLarge), valueBrokenLine
					}
				}
				q := rel + j
				// An odd run of backslashes before the quote escapes it.
				n := 0
				for k := q - 1; k >= 0 && b[k] == '\\'; k-- {
					n++
				}
				rel = q + 1
				if n%2 == 1 {
					continue
				}
				inStr = false
				if depth == 0 { // a top-level string
					return s.take(start, rel, tooLarge)
				}
				continue
			}
			if scalar {
				switch b[rel] {
				case ' ', '\t', '\r', '\n', ',', ']', '}', '[', '{', '"':
					if rel == 0 {
						rel++ // a stray delimiter is a value of its own
					}
					return s.take(start, rel, tooLarge)
				}
				rel++
				continue
			}
			for rel < len(b) && !structural[b[rel]] {
				rel++
			}
			if rel == len(b) {
				break
			}
			switch b[rel] {
			case '"':
				inStr = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth <= 0 {
					return s.take(start, rel+1, tooLarge)
				}
			case '\n':
				if lineMode {
					s.pos = start + rel
					return s.partial(start, tooLarge), valueBrokenLine
				}
			}
			rel++
		}
		// Need more input. Past the limit, stop keeping the value.
		if rel > s.limit {
			tooLarge = true
		}
		if tooLarge {
			// Drop what was scanned, but keep a trailing run of
			// backslashes: they decide whether the next quote is escaped.
			keep := 0
			for keep < rel && s.buf[start+rel-1-keep] == '\\' {
				keep++
			}
			start += rel - keep
			rel = keep
		}
		s.pos = start
		ok := s.more() // moves the kept bytes to the front of buf
		start = s.pos
		if !ok {
			s.pos = s.end
			if scalar && !tooLarge {
				return s.buf[start:s.end], valueOK
			}
			return s.partial(start, tooLarge), valueTruncated
		}
	}
}

// partial returns the kept bytes of a value that did not end, for naming
// it in an error.
func (s *stream) partial(start int, tooLarge bool) []byte {
	if tooLarge {
		return nil
	}
	return s.buf[start:s.pos]
}

// take ends a value at start+n.
func (s *stream) take(start, n int, tooLarge bool) ([]byte, valueStatus) {
	s.pos = start + n
	if tooLarge || n > s.limit {
		return nil, valueTooLarge
	}
	return s.buf[start : start+n], valueOK
}

// skipLine drops everything up to (not including) the next newline.
func (s *stream) skipLine() {
	for {
		if i := bytes.IndexByte(s.buf[s.pos:s.end], '\n'); i >= 0 {
			s.pos += i
			return
		}
		s.pos = s.end
		if !s.more() {
			return
		}
	}
}

// containerKey looks, without consuming anything, at the object starting at
// pos: if its first member is one of containerKeys and that value is an
// array, it returns the key and the offset of the '['.
func (s *stream) containerKey() (key string, open int, ok bool) {
	const lookahead = 4 << 10
	for {
		key, open, done := parseContainerStart(s.buf[s.pos:s.end])
		if done {
			return key, s.pos + open, key != ""
		}
		if s.end-s.pos > lookahead || !s.more() {
			return "", 0, false
		}
	}
}

// parseContainerStart reads `{ "Records" : [` from b. done is false when b is
// too short to tell.
func parseContainerStart(b []byte) (key string, open int, done bool) {
	i := 1 // past '{'
	ws := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	ws()
	if i >= len(b) {
		return "", 0, false
	}
	if b[i] != '"' {
		return "", 0, true
	}
	j := bytes.IndexByte(b[i+1:], '"')
	if j < 0 {
		return "", 0, len(b)-i > 16
	}
	k := string(b[i+1 : i+1+j])
	if !isContainerKey(k) {
		return "", 0, true
	}
	i += j + 2
	ws()
	if i >= len(b) {
		return "", 0, false
	}
	if b[i] != ':' {
		return "", 0, true
	}
	i++
	ws()
	if i >= len(b) {
		return "", 0, false
	}
	if b[i] != '[' {
		return "", 0, true
	}
	return k, i, true
}

// logLinePrefix looks, without consuming anything, at the line starting at
// pos: if it begins with an RFC 3339 timestamp, blanks and a '{' (a line a
// CloudWatch Logs export task wrote: "2025-03-04T09:12:44.000Z {…}"), it
// returns the length of the timestamp and blanks; else 0.
func (s *stream) logLinePrefix() int {
	const most = 48 // "2025-03-04T09:12:44.123456789+00:00" and a few blanks
	for s.end-s.pos < most && s.more() {
	}
	b := s.buf[s.pos:s.end]
	if len(b) > most {
		b = b[:most]
	}
	sp := bytes.IndexAny(b, " \t")
	if sp < 20 || b[10] != 'T' { // shorter than "2025-03-04T09:12:44Z"
		return 0
	}
	if _, err := time.Parse(time.RFC3339Nano, string(b[:sp])); err != nil {
		return 0
	}
	n := sp
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	if n == len(b) || b[n] != '{' {
		return 0
	}
	return n
}

// archiveKind reports whether the input, at its start, is a zip archive
// (a local file header) or a tar archive (a POSIX or GNU header: "ustar" at
// offset 257), "zip" or "tar", or neither, "". Called only where JSON was
// expected and not found, so it costs a CloudTrail input nothing.
func (s *stream) archiveKind() string {
	const tarMagic = 257
	for s.end-s.pos < tarMagic+5 && s.more() {
	}
	b := s.buf[s.pos:s.end]
	switch {
	case len(b) >= 4 && string(b[:4]) == "PK\x03\x04":
		return "zip"
	case len(b) >= tarMagic+5 && string(b[tarMagic:tarMagic+5]) == "ustar":
		return "tar"
	}
	return ""
}

// errTruncated is returned when the input ends inside a container.
var errTruncated = fmt.Errorf("input ends early: %w", io.ErrUnexpectedEOF)
