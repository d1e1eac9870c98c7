package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Hits returns the hits of (rule, group) with from <= Time <= to, oldest
// first (ties by event ID). Hits are recorded by CommitAlerts.
func (s *Store) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	return queryHits(ctx, s.r, rule, group, from, to, -1)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryHits returns the first limit hits of (rule, group) in [from, to],
// every one when limit is negative.
func queryHits(ctx context.Context, q querier, rule, group string, from, to time.Time, limit int) ([]iamwatch.Hit, error) {
	// Stored times are whole seconds: x >= from ⇔ x >= ceil(from); x <= to ⇔ x <= floor(to).
	query := `SELECT event_id, time, value FROM threshold_hits
		WHERE rule = ? AND grp = ? AND time >= ? AND time <= ? ORDER BY time, event_id`
	args := []any{rule, group, eventTimeCeil(from), eventTime(to.Truncate(time.Second))}
	if limit >= 0 {
		query, args = query+" LIMIT ?", append(args, limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: hits %s/%s: %w", rule, group, err)
	}
	defer rows.Close()
	var out []iamwatch.Hit
	for rows.Next() {
		h := iamwatch.Hit{Rule: rule, Group: group}
		var t string
		if err := rows.Scan(&h.EventID, &t, &h.Value); err != nil {
			return nil, fmt.Errorf("sqlite: hits %s/%s: %w", rule, group, err)
		}
		if h.Time, err = parseTime(t); err != nil {
			return nil, fmt.Errorf("sqlite: hits %s/%s: %w", rule, group, err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: hits %s/%s: %w", rule, group, err)
	}
	return out, nil
}
