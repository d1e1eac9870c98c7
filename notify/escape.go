package notify

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length bounds, in runes, for untrusted text in a message.
const (
	MaxTitle   = 120
	MaxSummary = 500
	MaxValue   = 160 // a field value: user name, source IP, event name, …
)

// CleanText makes untrusted text safe to show as one line of plain text and
// bounds it to max runes (0: no bound). It replaces invalid UTF-8 with U+FFFD,
// turns tabs and line breaks into spaces (so a value cannot forge lines of the
// message), drops other control characters (C0, C1: terminal escapes) and
// bidirectional overrides (which reorder what a reader sees), and truncates
// with "…".
func CleanText(s string, max int) string {
	if printableASCII(s) {
		return Truncate(strings.TrimSpace(s), max)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, w := 0, 0; i < len(s); i += w {
		r, n := utf8.DecodeRuneInString(s[i:])
		w = n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' || r == '\u0085':
			b.WriteByte(' ')
		case unicode.IsControl(r) || isBidi(r) || isInvisible(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return Truncate(strings.TrimSpace(b.String()), max)
}

// printableASCII reports whether s needs no cleaning: the common case.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isInvisible reports the zero-width characters and the tag characters,
// which hide text from the reader (or smuggle it past them).
func isInvisible(r rune) bool {
	return (r >= '\u200b' && r <= '\u200d') || r == '\u2060' || r == '\ufeff' || (r >= 0xe0000 && r <= 0xe007f)
}

// isBidi reports the invisible direction controls (Trojan Source).
func isBidi(r rune) bool {
	return r == '\u061c' || r == '\u200e' || r == '\u200f' ||
		(r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069')
}

// Truncate bounds s to max runes, ending with "…" when cut; max <= 0 means no
// bound.
func Truncate(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// broadcasts are the Slack keywords that notify a whole channel when written
// as @word (with link_names) and that we therefore break up.
var broadcasts = []string{"channel", "here", "everyone"}

// EscapeSlack escapes untrusted text for Slack mrkdwn: &, < and > become
// entities (so `<https://evil|click>`, `<@U123>` and `<!channel>` are shown,
// not obeyed) and a word joiner follows the @ of @channel, @here and
// @everyone (any case) so they cannot ping. Formatting characters (*, _, ~,
// `) can still change emphasis, which is harmless.
func EscapeSlack(s string) string {
	s = slackEscaper.Replace(s)
	if !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' {
			continue
		}
		for _, w := range broadcasts {
			if len(s)-i-1 >= len(w) && strings.EqualFold(s[i+1:i+1+len(w)], w) {
				b.WriteString("\u2060")
				break
			}
		}
	}
	return b.String()
}

// markdownEscaper backslash-escapes the characters Adaptive Card markdown
// (Teams) interprets anywhere in a line: emphasis, links, images, code and
// tag-like text.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "(", `\(`, ")", `\)`,
	"`", "\\`", "~", `\~`, "<", `\<`, ">", `\>`,
)

// EscapeMarkdown escapes one line of untrusted text for Adaptive Card
// (Teams) markdown: inline syntax is backslash-escaped everywhere, and a
// leading list, heading or quote marker ("- ", "+ ", "# ", "1. ") is
// escaped, so links, emphasis and lists cannot be injected. Clean the text
// with [CleanText] first: line breaks would start new blocks.
func EscapeMarkdown(s string) string {
	s = markdownEscaper.Replace(s)
	if s == "" {
		return s
	}
	switch s[0] {
	case '-', '+', '#':
		return `\` + s
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i > 0 && i < len(s) && (s[i] == '.' || s[i] == ')') && (i+1 == len(s) || s[i+1] == ' ') {
		return s[:i] + `\` + s[i:]
	}
	return s
}

// EscapeHTML escapes untrusted text for HTML element content and quoted
// attribute values. Email bodies use html/template, which does this itself.
func EscapeHTML(s string) string { return html.EscapeString(s) }

// ASCII returns s as printable ASCII bounded to max bytes (0: no bound),
// ending with "..." when cut: common typography is transliterated (· … — ’),
// anything else non-ASCII becomes '?', and control characters are dropped. It
// exists for fields that allow nothing else, such as the SNS Subject.
func ASCII(s string, max int) string {
	var b strings.Builder
	for _, r := range CleanText(s, 0) {
		switch {
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r == '·' || r == '—' || r == '–':
			b.WriteByte('-')
		case r == '…':
			b.WriteString("...")
		case r == '‘' || r == '’':
			b.WriteByte('\'')
		case r == '“' || r == '”':
			b.WriteByte('"')
		default:
			b.WriteByte('?')
		}
	}
	out := b.String()
	if max > 3 && len(out) > max {
		out = strings.TrimRight(out[:max-3], " ") + "..."
	}
	return out
}
