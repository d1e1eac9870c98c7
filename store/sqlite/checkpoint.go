package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/iamwatch/iamwatch"
)

const checkpointColumns = "key, position, event_time, last_run, processed, status, last_error"

func scanCheckpoint(r interface{ Scan(...any) error }) (iamwatch.Checkpoint, error) {
	var (
		cp       iamwatch.Checkpoint
		et, last string
	)
	if err := r.Scan(&cp.Key, &cp.Position, &et, &last, &cp.Processed, &cp.Status, &cp.LastError); err != nil {
		return cp, err
	}
	var err error
	if cp.EventTime, err = parseTime(et); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", cp.Key, err)
	}
	if cp.LastRun, err = parseTime(last); err != nil {
		return cp, fmt.Errorf("checkpoint %s: %w", cp.Key, err)
	}
	return cp, nil
}

// Checkpoint returns the checkpoint for key, or a zero Checkpoint with Key
// set and ok false.
func (s *Store) Checkpoint(ctx context.Context, key string) (cp iamwatch.Checkpoint, ok bool, err error) {
	row := s.r.QueryRowContext(ctx, "SELECT "+checkpointColumns+" FROM checkpoints WHERE key = ?", key)
	cp, err = scanCheckpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return iamwatch.Checkpoint{Key: key}, false, nil
	}
	if err != nil {
		return iamwatch.Checkpoint{Key: key}, false, fmt.Errorf("sqlite: checkpoint %s: %w", key, err)
	}
	return cp, true, nil
}

// PutCheckpoint creates or replaces the checkpoint cp.Key. Times are kept
// to the nanosecond.
func (s *Store) PutCheckpoint(ctx context.Context, cp iamwatch.Checkpoint) error {
	if cp.Key == "" {
		return fmt.Errorf("sqlite: put checkpoint: empty key")
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO checkpoints (`+checkpointColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET position = excluded.position, event_time = excluded.event_time,
			last_run = excluded.last_run, processed = excluded.processed, status = excluded.status,
			last_error = excluded.last_error`,
		cp.Key, cp.Position, wallTime(cp.EventTime), wallTime(cp.LastRun), cp.Processed, cp.Status, cp.LastError)
	if err != nil {
		return fmt.Errorf("sqlite: put checkpoint %s: %w", cp.Key, err)
	}
	return nil
}

// Checkpoints lists every checkpoint, by key.
func (s *Store) Checkpoints(ctx context.Context) ([]iamwatch.Checkpoint, error) {
	rows, err := s.r.QueryContext(ctx, "SELECT "+checkpointColumns+" FROM checkpoints ORDER BY key")
	if err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rows.Close()
	var out []iamwatch.Checkpoint
	for rows.Next() {
		cp, err := scanCheckpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
		}
		out = append(out, cp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	return out, nil
}
