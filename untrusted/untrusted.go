package untrusted

import (
	"html"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxHeader bounds, in runes, an email header value ([Header]) before
// encoding: well within the 998 characters of an RFC 5322 line.
const MaxHeader = 250

// Hidden reports whether r shows as nothing or changes how what follows is
// shown: a Unicode format character (Cf: bidi controls, zero-width
// characters, the BOM, the soft hyphen, tag characters), a character of the
// tag block, or the line or paragraph separator.
func Hidden(r rune) bool {
	if r < 0xad { // below the first format character, U+00AD
		return false
	}
	return unicode.Is(unicode.Cf, r) || (r >= 0xe0000 && r <= 0xe007f) || r == '\u2028' || r == '\u2029'
}

// control reports C0 controls, DEL and C1 controls.
func control(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// clean reports whether s is printable ASCII, which every medium but the
// markup ones shows as it is: the common case, without allocating.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// visible writes s to b with control characters, bytes that are not UTF-8
// and hidden characters made visible; keep says which control characters
// are written as they are, space which become a space.
func visible(b *strings.Builder, s string, keep, space func(rune) bool) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[s[i]>>4])
			b.WriteByte(hexDigits[s[i]&0xf])
		case space != nil && space(r):
			b.WriteByte(' ')
		case keep != nil && keep(r):
			b.WriteRune(r)
		case control(r):
			b.WriteString(`\x`)
			b.WriteByte(hexDigits[r>>4])
			b.WriteByte(hexDigits[r&0xf])
		case Hidden(r):
			if r > 0xffff {
				b.WriteString(`\U`)
				b.WriteString(pad(strconv.FormatInt(int64(r), 16), 8))
			} else {
				b.WriteString(`\u`)
				b.WriteString(pad(strconv.FormatInt(int64(r), 16), 4))
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
}

func pad(h string, n int) string { return strings.Repeat("0", max(0, n-len(h))) + h }

func isTab(r rune) bool { return r == '\t' }

// Terminal makes s safe to print as (part of) one terminal line: C0
// controls, DEL, C1 controls and bytes that are not UTF-8 as \xNN, hidden
// characters ([Hidden]) as \uNNNN or \UNNNNNNNN, a tab as a space. The
// result carries no character a terminal acts on or hides. Idempotent;
// not bounded.
func Terminal(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	visible(&b, s, nil, isTab)
	return b.String()
}

// TerminalLines is [Terminal] for text of several lines: line feeds are
// kept, everything else is as Terminal shows it. Idempotent.
func TerminalLines(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	visible(&b, s, func(r rune) bool { return r == '\n' }, isTab)
	return b.String()
}

// lineBreak reports the characters [Text] turns into a space.
func lineBreak(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

// Text makes s one line of plain text for a message: as [Terminal], except
// that tabs and line breaks (CR, LF, NEL, U+2028, U+2029) become spaces so
// no line of the message can be forged; the result is trimmed and bounded
// to max runes, ending with "…" when cut (max <= 0: no bound). Idempotent
// for a given max.
func Text(s string, max int) string {
	if !clean(s) {
		s = strings.TrimLeftFunc(s, textSpace)
		if max > 0 {
			s = cutInput(s, max)
		}
		var b strings.Builder
		b.Grow(len(s) + 8)
		visible(&b, s, nil, lineBreak)
		s = b.String()
	}
	return Truncate(strings.TrimSpace(s), max)
}

// textSpace reports the runes Text's output starts or ends with only to
// trim them: what it turns into a space, and spaces that are not controls.
func textSpace(r rune) bool { return lineBreak(r) || (unicode.IsSpace(r) && !control(r)) }

// cutInput returns s, or when its escaped form is longer than max runes a
// prefix of s with the same first max runes once escaped, followed by a
// sentinel that keeps Text's trailing trim from shortening it: Text's cost
// is then bounded by max, not by len(s) (a 1 MB user name).
func cutInput(s string, max int) string {
	i, n := 0, 0
	for i < len(s) && n <= max {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i == len(s) || strings.IndexFunc(s[i:], func(r rune) bool { return !textSpace(r) }) < 0 {
		return s // short, or only trimmed space follows: escape it all.
	}
	return s[:i] + "x" // every rune escapes to at least one: the sentinel is past max.
}

// Truncate bounds s to max runes, ending with "…" when cut; max <= 0 means
// no bound. It does not escape: use it on text one of the medium functions
// returned, or on trusted text.
func Truncate(s string, max int) string {
	if max <= 0 || len(s) <= max || utf8.RuneCountInString(s) <= max {
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

// CSV makes s a CSV cell that a spreadsheet shows as text and a terminal
// shows safely: as [Terminal] but tabs and line feeds are kept (the CSV
// writer quotes the cell), and text starting with =, +, -, @, a tab or a
// carriage return (a formula, such as =HYPERLINK(…) in a user agent) gets
// a leading apostrophe, unless it reads as a number ("-5") or is the sign
// alone (a "-" placeholder). Use it for text values; numbers need nothing.
// Idempotent.
func CSV(s string) string {
	if !clean(s) {
		var b strings.Builder
		b.Grow(len(s) + 8)
		visible(&b, s, func(r rune) bool { return r == '\t' || r == '\n' }, nil)
		s = b.String()
	}
	if len(s) < 2 || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// broadcasts are the Slack keywords that notify a whole channel when written
// as @word (with link_names), which Slack therefore breaks up.
var broadcasts = []string{"channel", "here", "everyone"}

// Slack makes s safe in Slack mrkdwn: [Text] (unbounded: bound with Text
// first), then &, < and > become entities (so <https://evil|click>,
// <@U123> and <!channel> are shown, not obeyed) and a word joiner follows
// the @ of @channel, @here and @everyone (any case) so they cannot ping.
// Emphasis characters (*, _, ~, `) can still change emphasis, which is
// harmless. Not idempotent: apply once, as the last step.
func Slack(s string) string {
	s = slackEscaper.Replace(Text(s, 0))
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

// Markdown makes s one line of Adaptive Card (Teams) markdown showing s as
// text: [Text] (unbounded), then inline syntax backslash-escaped everywhere
// and a leading list, heading or quote marker ("- ", "+ ", "# ", "1. ")
// escaped, so no link, emphasis or list can be injected. Not idempotent:
// apply once, as the last step.
func Markdown(s string) string {
	s = markdownEscaper.Replace(Text(s, 0))
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

// HTML makes s one line of HTML element content or of a quoted attribute
// value: [Text] (unbounded), then &, <, >, " and ' as entities. Templates
// (html/template) escape by context themselves: give them [Text] or
// [Terminal] output, not HTML output. Not idempotent.
func HTML(s string) string { return html.EscapeString(Text(s, 0)) }

// ShowHidden returns s with every [Hidden] character made visible
// (\u202e, \U000e0041) and bytes that are not UTF-8 as \xNN; everything
// else, control characters and line breaks included, is left as it is. It
// is for output that is already escaped for its medium and must stay as it
// is, such as a page html/template rendered: such characters never belong
// to the page's own markup, so the rewrite reaches every field of it and
// nothing else. Idempotent.
func ShowHidden(s string) string {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || Hidden(r) {
			var b strings.Builder
			b.Grow(len(s) + 16)
			b.WriteString(s[:i])
			visible(&b, s[i:], func(r rune) bool { return !Hidden(r) }, nil)
			return b.String()
		}
		i += n
	}
	return s
}

// Header makes s an email header value: [Text] bounded to [MaxHeader]
// runes, then RFC 2047 Q-encoded when it is not printable ASCII. The result
// never holds CR or LF (no header injection) and is one header line.
func Header(s string) string {
	return mime.QEncoding.Encode("utf-8", Text(s, MaxHeader))
}

// ASCII returns s as printable ASCII bounded to max bytes (0: no bound),
// ending with "..." when cut: [Text] first, then common typography is
// transliterated (· … — ’ “), anything else non-ASCII becomes '?'. It
// exists for fields that allow nothing else, such as the SNS Subject.
func ASCII(s string, max int) string {
	var b strings.Builder
	for _, r := range Text(s, 0) {
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

// JSON rewrites encoded JSON so that a terminal can show it: C0 controls
// other than line feed and space, DEL, C1 controls and hidden characters
// ([Hidden]) become \u escapes (a surrogate pair above U+FFFF), and bytes
// that are not UTF-8 become \ufffd. In valid JSON such characters can only
// stand inside strings, where the escape denotes the same character, so
// valid JSON decodes to the same value (encoding/json leaves DEL, C1 and
// most hidden characters raw). b is not modified; when nothing needs
// escaping it is returned as is.
func JSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		bad := r == utf8.RuneError && n == 1
		if !bad && (r == '\n' || r == ' ' || (!control(r) && !Hidden(r))) {
			if out != nil {
				out = append(out, b[i:i+n]...)
			}
			i += n
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+16), b[:i]...)
		}
		switch {
		case bad:
			out = append(out, `\ufffd`...)
		case r > 0xffff:
			r1, r2 := utf16Pair(r)
			out = appendU(appendU(out, r1), r2)
		default:
			out = appendU(out, r)
		}
		i += n
	}
	if out == nil {
		return b
	}
	return out
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// utf16Pair is the surrogate pair of r > U+FFFF.
func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xd800 + (r>>10)&0x3ff, 0xdc00 + r&0x3ff
}
