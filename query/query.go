package query

import (
	"fmt"
	"slices"
	"time"
)

// Dialect is an SQL dialect a query is written for.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota // the embedded store (modernc.org/sqlite, SQLite 3.44 or later).
	Athena                // Athena engine 3 (Trino) over the Parquet export; also runs on DuckDB.
)

func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Athena:
		return "athena"
	}
	return fmt.Sprintf("dialect(%d)", int(d))
}

// Query is one named, pre-built query. Queries are values; the catalog
// returns fresh copies, so changing one changes nothing else.
type Query struct {
	Name        string
	Description string   // one sentence for `iamwatch query --list`.
	Columns     []string // the result columns, in order.
	// NeedsUser is set when the query requires Params.User.
	NeedsUser bool
	// Tables lists the tables the query reads.
	Tables []string
	// SQL is the text per dialect, with placeholders and macros (see the
	// package documentation); use Statement to expand it.
	SQL map[Dialect]string

	rollup *rollupText // the SQLite text over the roll-ups, if any.
}

// Params are the arguments of every query. The zero value asks for
// everything, in UTC, with the default limit and business hours.
type Params struct {
	Since time.Time // event_time >= Since; zero: no lower bound.
	Until time.Time // event_time < Until; zero: no upper bound.
	User  string    // user_name, exact; empty: every user.
	// Account is an account_id, exact; empty: every account.
	Account string
	// Limit bounds the rows returned; 0 means DefaultLimit, negative means no limit.
	Limit int

	// Location is the time zone of off_hours and hourly_activity (hours of
	// the day, weekdays). Nil means UTC.
	Location *time.Location
	// BusinessStart and BusinessEnd bound business hours as offsets from
	// local midnight: activity at or after End or before Start is off hours.
	// Both zero means DefaultBusinessStart–DefaultBusinessEnd. Start > End
	// describes a span across midnight (e.g. 22:00–06:00).
	BusinessStart, BusinessEnd time.Duration
	// Weekends counts all Saturday and Sunday activity as off hours.
	Weekends bool

	noRollup bool // read events even where a roll-up answers (tests).
}

// Defaults of Params.
const (
	DefaultLimit         = 100
	DefaultBusinessStart = 6 * time.Hour
	DefaultBusinessEnd   = 22 * time.Hour
)

func (p Params) limit() int {
	switch {
	case p.Limit == 0:
		return DefaultLimit
	case p.Limit < 0:
		return 0
	}
	return p.Limit
}

func (p Params) location() *time.Location {
	if p.Location == nil {
		return time.UTC
	}
	return p.Location
}

func (p Params) businessHours() (start, end time.Duration) {
	if p.BusinessStart == 0 && p.BusinessEnd == 0 {
		return DefaultBusinessStart, DefaultBusinessEnd
	}
	return p.BusinessStart, p.BusinessEnd
}

// validate checks the parameters a query of q's kind needs.
func (p Params) validate(q *Query) error {
	if q.NeedsUser && p.User == "" {
		return fmt.Errorf("query %s needs a user (--user)", q.Name)
	}
	if !p.Since.IsZero() && !p.Until.IsZero() && !p.Since.Before(p.Until) {
		return fmt.Errorf("empty time range: since %s is not before until %s",
			p.Since.UTC().Format(time.RFC3339), p.Until.UTC().Format(time.RFC3339))
	}
	s, e := p.businessHours()
	if s < 0 || s >= 24*time.Hour || e < 0 || e > 24*time.Hour || s == e {
		return fmt.Errorf("business hours %s–%s: want two different times of day", s, e)
	}
	return nil
}

// Result is the answer to a query: column names and rows of values. A value
// is nil, int64, float64 or string; callers building their own Results may
// also use json.RawMessage (written as JSON by the json format, as its text
// by the others).
type Result struct {
	Columns []string
	Rows    [][]any
	// Truncated is set when more rows matched than the limit allowed.
	Truncated bool
}

// All returns the catalog of named queries, in the order of `query --list`.
func All() []Query {
	qs := catalog()
	for i := range qs {
		qs[i].Columns = slices.Clone(qs[i].Columns)
	}
	return qs
}

// Lookup returns the named query.
func Lookup(name string) (Query, bool) {
	for _, q := range catalog() {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}

// Names returns the query names in catalog order.
func Names() []string {
	qs := catalog()
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = q.Name
	}
	return names
}
