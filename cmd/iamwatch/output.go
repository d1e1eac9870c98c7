package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Output helpers shared by the commands.

// writeJSONLine writes v as one line of JSON.
func writeJSONLine(w io.Writer, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintf(w, "{\"error\":%q}\n", err.Error())
		return
	}
	_, _ = w.Write(append(b, '\n')) // stdout: a failed write is the reader gone
}

// safeText makes untrusted text safe for a terminal: control characters
// (escape sequences, carriage returns) are shown as \x.. escapes.
func safeText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\t':
			b.WriteRune(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, "\\x%02x", r)
		case hidden(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safeText2 is safeText for several lines: newlines are kept.
func safeText2(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safeText(l)
	}
	return strings.Join(lines, "\n")
}

// hidden reports the characters a terminal shows as nothing, or that
// reorder what follows: bidi controls (Trojan Source), zero-width and tag
// characters, and the Unicode line and paragraph separators.
func hidden(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r >= 0x200b && r <= 0x200d, r == 0x2060, r == 0xfeff, r >= 0xe0000 && r <= 0xe007f:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}
