// Package sqlite is the export's event source over the SQLite store: it
// lists the stored days with one pass over the event_time index and streams
// one day's events at a time. It is an export.AlertSource too: the alert
// history is exported with the events.
package sqlite

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/export"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// Source reads events from a SQLite store. Safe for concurrent use as far
// as the store is.
type Source struct {
	st *sqlite.Store
}

var (
	_ export.EventSource = (*Source)(nil)
	_ export.AlertSource = (*Source)(nil)
)

// New returns the source over st; st stays the caller's to close.
func New(st *sqlite.Store) *Source { return &Source{st: st} }

// Days implements export.EventSource. A day's Version is its highest rowid:
// rowids only grow, so any event added to the day raises it. Count and
// version come from the event_time index alone (it holds the rowid), not
// the table.
func (s *Source) Days(ctx context.Context, since, until time.Time) ([]export.Day, error) {
	q := "SELECT substr(event_time, 1, 10) AS d, count(*), max(rowid) FROM events"
	var args []any
	switch {
	case !since.IsZero() && !until.IsZero():
		q += " WHERE event_time >= ? AND event_time < ?"
		args = append(args, since.UTC().Format(iamwatch.TimeFormat), until.UTC().Format(iamwatch.TimeFormat))
	case !since.IsZero():
		q += " WHERE event_time >= ?"
		args = append(args, since.UTC().Format(iamwatch.TimeFormat))
	case !until.IsZero():
		q += " WHERE event_time < ?"
		args = append(args, until.UTC().Format(iamwatch.TimeFormat))
	}
	q += " GROUP BY d ORDER BY d"
	rows, err := s.st.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite source: days: %w", err)
	}
	defer rows.Close()
	var days []export.Day
	for rows.Next() {
		var (
			d      export.Day
			maxRow int64
		)
		if err := rows.Scan(&d.Date, &d.Count, &maxRow); err != nil {
			return nil, fmt.Errorf("sqlite source: days: %w", err)
		}
		d.Version = "rowid:" + strconv.FormatInt(maxRow, 10)
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite source: days: %w", err)
	}
	return days, nil
}

// DayEvents implements export.EventSource: the day's events oldest first.
func (s *Source) DayEvents(ctx context.Context, date string, raw bool) iter.Seq2[iamwatch.Event, error] {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return func(yield func(iamwatch.Event, error) bool) {
			yield(iamwatch.Event{}, fmt.Errorf("sqlite source: bad date %q: %w", date, err))
		}
	}
	return s.st.EventsSeq(ctx, sqlite.EventFilter{Since: day, Until: day.AddDate(0, 0, 1), Raw: raw})
}

// Alerts implements export.AlertSource: the store's alerts.
func (s *Source) Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error) {
	return s.st.Alerts(ctx, f)
}
