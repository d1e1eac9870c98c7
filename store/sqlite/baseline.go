package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/iamwatch/iamwatch"
)

var _ iamwatch.BaselineStore = (*Store)(nil)

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Baseline returns the stored entries of (rule, identity).
func (s *Store) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	return readBaseline(ctx, s.r, rule, identity)
}

// MergeBaseline merges entries in one transaction (see iamwatch.BaselineStore).
func (s *Store) MergeBaseline(ctx context.Context, entries []iamwatch.BaselineEntry) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: merge baseline: %w", err)
	}
	defer tx.Rollback()
	if err := mergeBaseline(ctx, tx, entries); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: merge baseline: %w", err)
	}
	return nil
}

func readBaseline(ctx context.Context, q queryer, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	var out []iamwatch.BaselineEntry
	err := eachRow(ctx, q, `SELECT value, first_time, first_event, last_time FROM baselines WHERE rule = ? AND identity = ?`,
		[]any{rule, identity}, func(rows *sql.Rows) error {
			e := iamwatch.BaselineEntry{Rule: rule, Identity: identity}
			var first, last string
			if err := rows.Scan(&e.Value, &first, &e.FirstEvent, &last); err != nil {
				return err
			}
			var err error
			if e.First, err = parseTime(first); err != nil {
				return err
			}
			if e.Last, err = parseTime(last); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("sqlite: baseline %s/%s: %w", rule, identity, err)
	}
	return out, nil
}

// mergeBaseline upserts entries: the earlier first (time, then event ID)
// and the later last win. Times are whole seconds, as everywhere.
func mergeBaseline(ctx context.Context, q queryer, entries []iamwatch.BaselineEntry) error {
	for _, e := range entries {
		if e.Rule == "" || e.FirstEvent == "" {
			return fmt.Errorf("sqlite: merge baseline: rule and first event are required (%q, %q)", e.Rule, e.FirstEvent)
		}
		last := e.Last
		if last.Before(e.First) {
			last = e.First
		}
		_, err := q.ExecContext(ctx, `INSERT INTO baselines (rule, identity, value, first_time, first_event, last_time)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (rule, identity, value) DO UPDATE SET
				first_event = CASE WHEN (excluded.first_time, excluded.first_event) < (first_time, first_event)
					THEN excluded.first_event ELSE first_event END,
				first_time = min(first_time, excluded.first_time),
				last_time = max(last_time, excluded.last_time)`,
			e.Rule, e.Identity, e.Value, eventTime(e.First), e.FirstEvent, eventTime(last))
		if err != nil {
			return fmt.Errorf("sqlite: merge baseline %s/%s/%s: %w", e.Rule, e.Identity, e.Value, err)
		}
	}
	return nil
}

func (v *txView) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	return readBaseline(ctx, v.q, rule, identity)
}

func (v *txView) MergeBaseline(ctx context.Context, entries []iamwatch.BaselineEntry) error {
	return mergeBaseline(ctx, v.q, entries)
}
