package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// AddHit records h once per (Rule, EventID) and reports false for a repeat.
// Hit times are kept to whole seconds.
func (s *Store) AddHit(ctx context.Context, h iamwatch.Hit) (added bool, err error) {
	res, err := s.w.ExecContext(ctx, `INSERT INTO threshold_hits (rule, grp, event_id, time)
		VALUES (?, ?, ?, ?) ON CONFLICT (rule, event_id) DO NOTHING`,
		h.Rule, h.Group, h.EventID, eventTime(h.Time))
	if err != nil {
		return false, fmt.Errorf("sqlite: add hit %s/%s: %w", h.Rule, h.EventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: add hit %s/%s: %w", h.Rule, h.EventID, err)
	}
	return n == 1, nil
}

// Hits returns the hits of (rule, group) with from <= Time <= to, oldest
// first (ties in the order they were added).
func (s *Store) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	// Stored times are whole seconds: x >= from ⇔ x >= ceil(from); x <= to ⇔ x <= floor(to).
	rows, err := s.r.QueryContext(ctx, `SELECT event_id, time FROM threshold_hits
		WHERE rule = ? AND grp = ? AND time >= ? AND time <= ? ORDER BY time, id`,
		rule, group, eventTimeCeil(from), eventTime(to.Truncate(time.Second)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: hits %s/%s: %w", rule, group, err)
	}
	defer rows.Close()
	var out []iamwatch.Hit
	for rows.Next() {
		h := iamwatch.Hit{Rule: rule, Group: group}
		var t string
		if err := rows.Scan(&h.EventID, &t); err != nil {
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
