package sqlite

import (
	"context"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch"
)

// The Store is the export's event and alert source (export.EventSource,
// export.AlertSource): Days lists the stored days with one pass over the
// event_time index, DayEvents streams one day's events at a time, and the
// alert history is exported with the events.

// Days returns the days holding events with since <= event_time < until
// (a zero bound does not limit), oldest first. A day's Version is its highest rowid:
// rowids only grow, so any event added to the day raises it. Count and
// version come from the event_time index alone (it holds the rowid), not
// the table.
func (s *Store) Days(ctx context.Context, since, until time.Time) ([]iamwatch.Day, error) {
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
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: export days: %w", err)
	}
	defer rows.Close()
	var days []iamwatch.Day
	for rows.Next() {
		var (
			d      iamwatch.Day
			maxRow int64
		)
		if err := rows.Scan(&d.Date, &d.Count, &maxRow); err != nil {
			return nil, fmt.Errorf("sqlite: export days: %w", err)
		}
		d.Version = "rowid:" + strconv.FormatInt(maxRow, 10)
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: export days: %w", err)
	}
	return days, nil
}

// DayEvents yields the events of one day (YYYY-MM-DD), oldest first, with
// their raw records when raw is set.
func (s *Store) DayEvents(ctx context.Context, date string, raw bool) iter.Seq2[iamwatch.Event, error] {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return func(yield func(iamwatch.Event, error) bool) {
			yield(iamwatch.Event{}, fmt.Errorf("sqlite: export bad date %q: %w", date, err))
		}
	}
	return s.EventsSeq(ctx, EventFilter{Since: day, Until: day.AddDate(0, 0, 1), Raw: raw})
}
