package query

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-runewidth"

	"github.com/iamwatch/iamwatch"
)

// Format is an output format of Write.
type Format string

// The formats.
const (
	Table Format = "table" // aligned columns for people.
	JSON  Format = "json"  // JSON lines: one object per row, keys in column order.
	CSV   Format = "csv"   // RFC 4180, header row, CRLF line ends.
)

// ParseFormat accepts table, json or csv.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case Table, JSON, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown output %q (want table, json or csv)", s)
}

// Options control Write.
type Options struct {
	Format Format
	// Location shows times (values in iamwatch.TimeFormat) in this zone, as
	// RFC 3339 with the offset. Nil means UTC, unchanged.
	Location *time.Location
	// Colour colours severity cells of a table (ANSI escapes). Set it only
	// for a terminal that wants colour.
	Colour bool
	// MaxCell bounds the width of a table cell in terminal columns; longer
	// text is cut with "…". 0 means DefaultMaxCell; negative, no bound.
	MaxCell int
}

// DefaultMaxCell is the default table cell width.
const DefaultMaxCell = 60

// Write renders r. Tables end with a "(N rows)" line; JSON and CSV carry
// only the rows.
func Write(w io.Writer, r *Result, o Options) error {
	bw := bufio.NewWriter(w)
	var err error
	switch o.Format {
	case JSON:
		err = writeJSON(bw, r, o)
	case CSV:
		err = writeCSV(bw, r, o)
	case Table, "":
		err = writeTable(bw, r, o)
	default:
		return fmt.Errorf("write result: unknown format %q", o.Format)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// value converts a time in iamwatch.TimeFormat to loc; other values pass.
func value(v any, loc *time.Location) any {
	s, ok := v.(string)
	if !ok || loc == nil || loc == time.UTC || !isEventTime(s) {
		return v
	}
	t, err := time.Parse(iamwatch.TimeFormat, s)
	if err != nil {
		return v
	}
	return t.In(loc).Format(time.RFC3339)
}

// isEventTime reports whether s looks like "2006-01-02T15:04:05Z".
func isEventTime(s string) bool {
	if len(s) != 20 || s[19] != 'Z' || s[10] != 'T' || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' {
		return false
	}
	for _, i := range []int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// text is a value as CSV and table cells show it.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case json.RawMessage:
		return string(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func writeJSON(w *bufio.Writer, r *Result, o Options) error {
	keys := make([][]byte, len(r.Columns))
	for i, c := range r.Columns {
		k, _ := json.Marshal(c) // strings always marshal.
		keys[i] = k
	}
	for _, row := range r.Rows {
		w.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(keys[i])
			w.WriteByte(':')
			b, err := json.Marshal(value(v, o.Location))
			if err != nil {
				return err
			}
			w.Write(SafeJSON(b))
		}
		if _, err := w.WriteString("}\n"); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(w *bufio.Writer, r *Result, o Options) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i, v := range row {
			rec[i] = csvCell(value(v, o.Location))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvCell is v as a CSV cell that a spreadsheet shows as text: a string
// starting with =, +, -, @, a tab or a carriage return (a formula, such as
// =HYPERLINK(…) in a user agent) is prefixed with an apostrophe. Numbers
// are left as they are, and so are a lone sign and text that reads as a
// number (a "-" placeholder, "-5").
func csvCell(v any) string {
	s := text(v)
	if _, isString := v.(string); !isString || len(s) < 2 || !strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return s
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return s
	}
	return "'" + s
}

func writeTable(w *bufio.Writer, r *Result, o Options) error {
	maxCell := o.MaxCell
	if maxCell == 0 {
		maxCell = DefaultMaxCell
	}
	n := len(r.Columns)
	cells := make([][]string, len(r.Rows)+1)
	widths := make([]int, n)
	numeric := make([]bool, n)
	for i := range numeric {
		numeric[i] = len(r.Rows) > 0
	}
	cells[0] = make([]string, n)
	for i, c := range r.Columns {
		cells[0][i] = Cell(strings.ToUpper(c), maxCell)
	}
	for j, row := range r.Rows {
		cells[j+1] = make([]string, n)
		for i, v := range row {
			switch v.(type) {
			case int64, float64, nil:
			default:
				numeric[i] = false
			}
			cells[j+1][i] = Cell(text(value(v, o.Location)), maxCell)
		}
	}
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	sevCol := -1
	for i, c := range r.Columns {
		if c == "severity" {
			sevCol = i
		}
	}
	for j, row := range cells {
		var line strings.Builder
		for i, c := range row {
			pad := widths[i] - runewidth.StringWidth(c)
			last := i == n-1
			if i > 0 {
				line.WriteString("  ")
			}
			if numeric[i] && j > 0 {
				line.WriteString(strings.Repeat(" ", pad))
				pad = 0
			}
			if o.Colour && j > 0 && i == sevCol {
				if on := severityColour(c); on != "" {
					c = on + c + "\x1b[0m"
				}
			}
			line.WriteString(c)
			if !last {
				line.WriteString(strings.Repeat(" ", pad))
			}
		}
		if _, err := w.WriteString(strings.TrimRight(line.String(), " ") + "\n"); err != nil {
			return err
		}
	}
	rows := "rows"
	if len(r.Rows) == 1 {
		rows = "row"
	}
	more := ""
	if r.Truncated {
		more = "; more match, raise --limit"
	}
	_, err := fmt.Fprintf(w, "(%d %s%s)\n", len(r.Rows), rows, more)
	return err
}

func severityColour(s string) string {
	switch s {
	case "critical":
		return "\x1b[1;31m"
	case "high":
		return "\x1b[31m"
	case "medium":
		return "\x1b[33m"
	case "low":
		return "\x1b[36m"
	}
	return ""
}

// Cell makes untrusted text safe for one table cell on a terminal: control
// characters (C0, DEL, C1: escape sequences, carriage returns, newlines) and
// bidirectional overrides are shown as \xNN / \u{NNNN} escapes, invalid UTF-8
// as \xNN, tabs as a space; the result is cut to max terminal columns with
// "…" (max < 0: no bound).
func Cell(s string, max int) string {
	var b strings.Builder
	width := 0
	cut := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		var piece string
		switch {
		case r == utf8.RuneError && size == 1:
			piece = fmt.Sprintf(`\x%02x`, s[i])
		case r == '\t':
			piece = " "
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			piece = fmt.Sprintf(`\x%02x`, r)
		case isBidiControl(r):
			piece = fmt.Sprintf(`\u{%04x}`, r)
		default:
			piece = s[i : i+size]
		}
		pw := runewidth.StringWidth(piece)
		if max >= 0 && width+pw > max {
			cut = true
			break
		}
		b.WriteString(piece)
		width += pw
		i += size
	}
	if !cut {
		return b.String()
	}
	// Make room for the ellipsis.
	out := []rune(b.String())
	for len(out) > 0 && runewidth.StringWidth(string(out))+1 > max {
		out = out[:len(out)-1]
	}
	if max < 1 {
		return ""
	}
	return string(out) + "…"
}

// isBidiControl: the Unicode bidirectional formatting characters, which can
// make a terminal show text in an order other than its bytes.
func isBidiControl(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// SafeJSON rewrites, in JSON text, every character a terminal would act on
// as a \uXXXX escape: C0 controls other than newline and space, DEL, C1
// controls (U+0080–U+009F, e.g. CSI) and bidirectional overrides. In valid
// JSON such characters can only appear inside strings, where the escape
// denotes the same character, so the JSON value is unchanged; encoding/json
// leaves DEL, C1 and bidi characters as they are. Invalid UTF-8 bytes become
// \ufffd.
func SafeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == '\n' || r == ' ':
			out = append(out, byte(r))
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidiControl(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}
