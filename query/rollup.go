package query

import "time"

// rollupText is a query's SQLite text over the store's roll-up tables
// (store/sqlite/rollup.go: per-hour and per-day aggregates of the events,
// kept with every insert and prune). It answers exactly what the text over
// events answers, reading thousands of aggregated rows instead of every
// event, and is used whenever the parameters allow (usable).
//
// Its macros are those of the events text but for the filter:
// {{day_filter}} bounds the day column of a daily table, {{hour_filter}}
// the hour column of rollup_hours, and {{hour_local_epoch}} is
// {{local_epoch}} over the hour column.
type rollupText struct {
	sql string
	// hourly is set when the text reads rollup_hours (hour buckets); else
	// it reads daily tables.
	hourly bool
}

// usable reports whether r answers p exactly: the time bounds fall on
// bucket edges (whole UTC days, or hours for an hourly text), and for an
// hourly text the time zone moves only by whole hours on whole hours over
// the span sp. User and account are key columns of every roll-up.
func (r *rollupText) usable(p Params, sp span) bool {
	if r == nil || p.noRollup {
		return false
	}
	grain := 24 * time.Hour
	if r.hourly {
		grain = time.Hour
	}
	for _, t := range []time.Time{p.Since, p.Until} {
		if !t.IsZero() && !t.Truncate(grain).Equal(t) {
			return false
		}
	}
	return !r.hourly || wholeHours(p.location(), sp.from, sp.to)
}
