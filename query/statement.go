package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Statement is a query expanded for one dialect: SQL with positional "?"
// placeholders and their arguments (strings and int64s).
type Statement struct {
	Dialect Dialect
	SQL     string
	Args    []any
	// Limit is the row limit asked for (0: none). The SQL asks for Limit+1
	// rows so that a runner can tell the answer was cut (Result.Truncated)
	// and drop the extra row.
	Limit int

	text   string         // the SQL with named placeholders, macros expanded.
	values map[string]any // the placeholder values.
}

// Inline returns the statement with every argument written as an SQL
// literal, for engines that take no separate arguments. Strings are quoted
// with embedded quotes doubled, so the result is safe whatever the values
// hold.
func (s Statement) Inline() string {
	out, _, err := bind(s.text, s.values, true)
	if err != nil { // Statement already bound the same text once.
		panic(err)
	}
	return out
}

// Statement expands q for dialect d with the parameters p. For SQLite the
// time zone conversion covers [Since, Until), or 2005–2100 where a bound is
// zero; Run narrows that to the data.
func (q Query) Statement(d Dialect, p Params) (Statement, error) {
	return q.statement(d, p, span{})
}

// span is the event-time range the UTC-offset table must cover.
type span struct{ from, to time.Time }

func (q Query) statement(d Dialect, p Params, sp span) (Statement, error) {
	if err := p.validate(&q); err != nil {
		return Statement{}, err
	}
	text, ok := q.SQL[d]
	if !ok {
		return Statement{}, fmt.Errorf("query %s: no %s text", q.Name, d)
	}
	if sp.from.IsZero() {
		sp.from = p.Since
	}
	if sp.to.IsZero() {
		sp.to = p.Until
	}
	if sp.from.IsZero() {
		sp.from = time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if sp.to.IsZero() {
		sp.to = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	if d == SQLite && q.rollup.usable(p, sp) {
		text = q.rollup.sql
	}
	values := map[string]any{
		"user":    p.User,
		"account": p.Account,
		"tz":      p.location().String(),
	}
	if !p.Since.IsZero() {
		values["since"] = timeArg(p.Since)
		values["since_ymd"] = ymd(p.Since)
	}
	if !p.Until.IsZero() {
		values["until"] = timeArg(p.Until)
		values["until_ymd"] = ymd(p.Until.Add(-time.Second))
	}
	if !p.Since.IsZero() {
		values["since_day"] = p.Since.UTC().Format(time.DateOnly)
	}
	if !p.Until.IsZero() {
		values["until_day"] = p.Until.UTC().Format(time.DateOnly)
	}
	expanded, err := expandMacros(text, func(name string) (string, error) {
		return macro(d, name, p, sp)
	})
	if err != nil {
		return Statement{}, fmt.Errorf("query %s: %w", q.Name, err)
	}
	sql, args, err := bind(expanded, values, false)
	if err != nil {
		return Statement{}, fmt.Errorf("query %s: %w", q.Name, err)
	}
	return Statement{Dialect: d, SQL: sql, Args: args, Limit: p.limit(), text: expanded, values: values}, nil
}

// timeArg formats a bound as stored event times are: whole seconds, rounded
// up (event_time >= 10:00:00.5 is event_time >= 10:00:01).
func timeArg(t time.Time) string {
	if tr := t.Truncate(time.Second); !tr.Equal(t) {
		t = tr.Add(time.Second)
	}
	return t.UTC().Format(iamwatch.TimeFormat)
}

// ymd is the UTC date of t as the integer YYYYMMDD, for partition pruning.
func ymd(t time.Time) int64 {
	y, m, d := t.UTC().Date()
	return int64(y*10000 + int(m)*100 + d)
}

// macro expands one {{name}} of the SQL text.
func macro(d Dialect, name string, p Params, sp span) (string, error) {
	switch {
	case name == "filter":
		return filter(d, p, "event_time", true), nil
	case name == "alert_filter":
		return filter(d, p, "time", false), nil
	case name == "day_filter" && d == SQLite:
		return rollupFilter(p, "day", ":since_day", ":until_day"), nil
	case name == "hour_filter" && d == SQLite:
		return rollupFilter(p, "hour", ":since", ":until"), nil
	case name == "events":
		// An aggregate over the whole history (no time bound, no user)
		// reads the table in storage order: left to itself SQLite walks an
		// index matching the GROUP BY (user_name, event_name) and looks up
		// every row at random, several times slower.
		if d == SQLite && p.Since.IsZero() && p.Until.IsZero() && p.User == "" {
			return "events NOT INDEXED", nil
		}
		return "events", nil
	case name == "limit":
		if n := p.limit(); n > 0 {
			return "LIMIT " + strconv.Itoa(n+1), nil
		}
		return "", nil
	case name == "local_epoch" && d == SQLite:
		return "(unixepoch(event_time) + " + offsetExpr(p.location(), sp.from, sp.to, "event_time") + ")", nil
	case name == "hour_local_epoch" && d == SQLite:
		return "(unixepoch(hour) + " + offsetExpr(p.location(), sp.from, sp.to, "hour") + ")", nil
	case name == "local_time" && d == Athena:
		return "((CAST(replace(replace(event_time, 'T', ' '), 'Z', '') AS TIMESTAMP) AT TIME ZONE 'UTC') AT TIME ZONE :tz)", nil
	case name == "off_hours":
		return offHours(p), nil
	case strings.HasPrefix(name, "req:"):
		return jsonField(d, "request_parameters", name[len("req:"):])
	case strings.HasPrefix(name, "resp:"):
		return jsonField(d, "response_elements", name[len("resp:"):])
	}
	return "", fmt.Errorf("unknown macro {{%s}} for %s", name, d)
}

// filter is the WHERE conditions of the common parameters over a table whose
// time column is timeCol. For Athena over events it adds the partition range.
func filter(d Dialect, p Params, timeCol string, partitions bool) string {
	var c []string
	if !p.Since.IsZero() {
		c = append(c, timeCol+" >= :since")
		if d == Athena && partitions {
			c = append(c, "(year * 10000 + month * 100 + day) >= :since_ymd")
		}
	}
	if !p.Until.IsZero() {
		c = append(c, timeCol+" < :until")
		if d == Athena && partitions {
			c = append(c, "(year * 10000 + month * 100 + day) <= :until_ymd")
		}
	}
	if p.User != "" {
		c = append(c, "user_name = :user")
	}
	if p.Account != "" {
		c = append(c, "account_id = :account")
	}
	if len(c) == 0 {
		return "1 = 1"
	}
	return strings.Join(c, " AND ")
}

// rollupFilter is the WHERE conditions of the common parameters over a
// roll-up table whose bucket column col is bounded by the placeholders
// since and until (see rollupText.usable).
func rollupFilter(p Params, col, since, until string) string {
	var c []string
	if !p.Since.IsZero() {
		c = append(c, col+" >= "+since)
	}
	if !p.Until.IsZero() {
		c = append(c, col+" < "+until)
	}
	if p.User != "" {
		c = append(c, "user_name = :user")
	}
	if p.Account != "" {
		c = append(c, "account_id = :account")
	}
	if len(c) == 0 {
		return "1 = 1"
	}
	return strings.Join(c, " AND ")
}

// offHours is the predicate "outside business hours" over the columns lm
// (local minute of the day, 0–1439) and wd (local weekday, 0 = Monday).
func offHours(p Params) string {
	s, e := p.businessHours()
	sm, em := int(s/time.Minute), int(e/time.Minute)
	var cond string
	if sm < em {
		cond = fmt.Sprintf("(lm < %d OR lm >= %d)", sm, em)
	} else { // business hours span midnight.
		cond = fmt.Sprintf("(lm >= %d AND lm < %d)", em, sm)
	}
	if p.Weekends {
		cond = "(" + cond + " OR wd >= 5)"
	}
	return cond
}

// jsonField reads one field of a JSON column: a scalar as text, NULL when
// absent or when the column is not valid JSON.
func jsonField(d Dialect, col, path string) (string, error) {
	for _, r := range path {
		if !(r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", fmt.Errorf("bad JSON path %q", path)
		}
	}
	switch d {
	case SQLite:
		return fmt.Sprintf("(CASE WHEN json_valid(%[1]s) THEN json_extract(%[1]s, '$.%[2]s') END)", col, path), nil
	case Athena:
		return fmt.Sprintf("json_extract_scalar(%s, '$.%s')", col, path), nil
	}
	return "", fmt.Errorf("no JSON access for %s", d)
}

// expandMacros replaces each {{name}} of text by f(name).
func expandMacros(text string, f func(string) (string, error)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(text, "{{")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("unclosed {{ at %.20q", text[i:])
		}
		r, err := f(text[i+2 : i+j])
		if err != nil {
			return "", err
		}
		b.WriteString(text[:i])
		b.WriteString(r)
		text = text[i+j+2:]
	}
}

// bind replaces each :name placeholder outside string literals by "?"
// (collecting its value into args) or, with inline, by the value as a
// literal. A placeholder without a value is an error.
func bind(text string, values map[string]any, inline bool) (string, []any, error) {
	var (
		b    strings.Builder
		args []any
	)
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\'':
			j := i + 1
			for j < len(text) {
				if text[j] == '\'' {
					if j+1 < len(text) && text[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			if j >= len(text) {
				return "", nil, fmt.Errorf("unterminated string literal at %.20q", text[i:])
			}
			b.WriteString(text[i : j+1])
			i = j + 1
		case c == ':' && i+1 < len(text) && isNameStart(text[i+1]):
			j := i + 1
			for j < len(text) && isNameByte(text[j]) {
				j++
			}
			name := text[i+1 : j]
			v, ok := values[name]
			if !ok {
				return "", nil, fmt.Errorf("no value for placeholder :%s", name)
			}
			if inline {
				b.WriteString(literal(v))
			} else {
				b.WriteByte('?')
				args = append(args, v)
			}
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), args, nil
}

func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' }
func isNameByte(c byte) bool  { return isNameStart(c) || c >= '0' && c <= '9' }

// literal writes v as an SQL literal.
func literal(v any) string {
	switch v := v.(type) {
	case string:
		return "'" + strings.ReplaceAll(v, "'", "''") + "'"
	case int64:
		return strconv.FormatInt(v, 10)
	case int:
		return strconv.Itoa(v)
	}
	panic(fmt.Sprintf("query: no literal form for %T", v))
}
