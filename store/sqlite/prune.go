package sqlite

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes events with Time < eventsBefore (when not zero), and alerts
// with Time < alertsBefore (when not zero) together with their deliveries and
// the threshold hits older than alertsBefore, in one transaction that also
// brings the roll-ups in line. It then returns the freed pages to the file
// system (PRAGMA incremental_vacuum) and truncates the write-ahead log.
func (s *Store) Prune(ctx context.Context, eventsBefore, alertsBefore time.Time) (events, alerts int, err error) {
	if eventsBefore.IsZero() && alertsBefore.IsZero() {
		return 0, 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: prune: %w", err)
	}
	defer tx.Rollback()
	count := func(q string, args ...any) (int, error) {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		return int(n), err
	}
	if !eventsBefore.IsZero() {
		if events, err = count("DELETE FROM events WHERE event_time < ?", eventTimeCeil(eventsBefore)); err != nil {
			return 0, 0, fmt.Errorf("sqlite: prune events: %w", err)
		}
		if err := pruneRollups(ctx, tx, eventsBefore); err != nil {
			return 0, 0, fmt.Errorf("sqlite: prune events: %w", err)
		}
	}
	if !alertsBefore.IsZero() {
		before := eventTimeCeil(alertsBefore)
		// Deliveries go with their alerts (ON DELETE CASCADE).
		if alerts, err = count("DELETE FROM alerts WHERE time < ?", before); err != nil {
			return 0, 0, fmt.Errorf("sqlite: prune alerts: %w", err)
		}
		if _, err = count("DELETE FROM threshold_hits WHERE time < ?", before); err != nil {
			return 0, 0, fmt.Errorf("sqlite: prune threshold hits: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("sqlite: prune: commit: %w", err)
	}
	if events+alerts > 0 {
		if _, err := s.w.ExecContext(ctx, "PRAGMA incremental_vacuum"); err != nil {
			return events, alerts, fmt.Errorf("sqlite: prune: incremental vacuum: %w", err)
		}
		// Shrink the WAL too; best effort, a reader may hold it.
		if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return events, alerts, fmt.Errorf("sqlite: prune: checkpoint: %w", err)
		}
	}
	return events, alerts, nil
}
