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

	"github.com/mattn/go-runewidth"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
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
			w.Write(untrusted.JSON(b))
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

// csvCell is v as a CSV cell: text through untrusted.CSV (shown safely,
// formulas neutralised), JSON through untrusted.JSON (the same value,
// shown safely), numbers as they are.
func csvCell(v any) string {
	switch v := v.(type) {
	case string:
		return untrusted.CSV(v)
	case json.RawMessage:
		return string(untrusted.JSON(v))
	}
	return text(v)
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

// Cell makes untrusted text safe for one table cell on a terminal
// (untrusted.Terminal: control characters and bytes that are not UTF-8 as
// \xNN, hidden characters as \uNNNN, a tab as a space) and cuts it to max
// terminal columns with "…" (max < 0: no bound). A cut may fall inside an
// escape: the cell stays safe.
func Cell(s string, max int) string {
	s = untrusted.Terminal(s)
	if max < 0 || runewidth.StringWidth(s) <= max {
		return s
	}
	if max < 1 {
		return ""
	}
	var b strings.Builder
	width := 0
	for _, r := range s {
		w := runewidth.RuneWidth(r)
		if width+w+1 > max {
			break
		}
		b.WriteRune(r)
		width += w
	}
	return b.String() + "…"
}
