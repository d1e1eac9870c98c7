package query

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Run runs the named query against a SQLite database holding the iamwatch
// schema (the store's read pool, sqlite.Store.DB, or sqlite.OpenReadOnly).
func Run(ctx context.Context, db *sql.DB, name string, p Params) (*Result, error) {
	q, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("query %s: no such query (iamwatch query --list)", name)
	}
	sp, err := dataSpan(ctx, db, p)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	st, err := q.statement(SQLite, p, sp)
	if err != nil {
		return nil, err
	}
	res, err := collect(ctx, db, st.SQL, st.Args, st.Limit)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", name, err)
	}
	return res, nil
}

// dataSpan narrows an open time range to the events stored, so the table of
// UTC offsets (see offsetExpr) covers only what the query can meet. It asks
// only when a zone with offset changes is in play.
func dataSpan(ctx context.Context, db *sql.DB, p Params) (span, error) {
	sp := span{from: p.Since, to: p.Until}
	if p.location() == time.UTC || (!sp.from.IsZero() && !sp.to.IsZero()) {
		return sp, nil
	}
	var lo, hi sql.NullString
	// Both use the event_time index: two lookups, not a scan.
	err := db.QueryRowContext(ctx, "SELECT (SELECT min(event_time) FROM events), (SELECT max(event_time) FROM events)").Scan(&lo, &hi)
	if err != nil {
		return sp, fmt.Errorf("time range of the events: %w", err)
	}
	if sp.from.IsZero() && lo.Valid {
		if t, err := time.Parse(time.RFC3339, lo.String); err == nil {
			sp.from = t
		}
	}
	if sp.to.IsZero() && hi.Valid {
		if t, err := time.Parse(time.RFC3339, hi.String); err == nil {
			sp.to = t.Add(time.Second)
		}
	}
	return sp, nil
}

// collect runs a statement and reads at most limit rows (0: all); one more
// row sets Truncated.
func collect(ctx context.Context, db *sql.DB, q string, args []any, limit int) (*Result, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	res := &Result{Columns: cols, Rows: [][]any{}}
	for rows.Next() {
		if limit > 0 && len(res.Rows) == limit {
			res.Truncated = true
			break
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			vals[i] = normalise(v)
		}
		res.Rows = append(res.Rows, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return res, nil
}

// normalise maps driver values onto the Result value types: nil, int64,
// float64, string. BLOBs become strings (JSON/CSV carry them as text; the
// table escapes them).
func normalise(v any) any {
	switch v := v.(type) {
	case nil, int64, float64, string:
		return v
	case []byte:
		return string(v)
	case bool:
		if v {
			return int64(1)
		}
		return int64(0)
	case int:
		return int64(v)
	case int32:
		return int64(v)
	case float32:
		return float64(v)
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprint(v)
}
