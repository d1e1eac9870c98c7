package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// EventsMark returns a mark of the events stored so far, for DropUnnamed:
// the highest rowid. Rows stored later have higher rowids, whatever was
// deleted meanwhile.
func (s *Store) EventsMark(ctx context.Context) (int64, error) {
	var mark int64
	if err := s.w.QueryRowContext(ctx, "SELECT coalesce(max(rowid), 0) FROM events").Scan(&mark); err != nil {
		return 0, fmt.Errorf("sqlite: events mark: %w", err)
	}
	return mark, nil
}

// DropUnnamed deletes, of events (event ID → event time), the rows stored
// after mark (EventsMark) that nothing names: no threshold hit, no alert
// (its event or its sample of event IDs), no baseline entry's first event.
// It counts the roll-up buckets of the deleted rows again, all in one
// transaction, and returns how many rows it deleted.
//
// A read stores events that only a light rule's hit or a first-seen value
// kept (detect.Batch.Weak); a later batch may bring an earlier hit or
// event, and the hits and baselines then name that one instead. Deleting
// the rows nothing names leaves the events of reading the input as one
// batch. It looks the rows up by event time and ID, which a bulk load's
// index (loadIndex) serves as well as the events_time and event_id ones.
func (s *Store) DropUnnamed(ctx context.Context, mark int64, events map[string]time.Time) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: drop unnamed events: %w", err)
	}
	defer tx.Rollback()
	fail := func(err error) (int, error) { return 0, fmt.Errorf("sqlite: drop unnamed events: %w", err) }
	for _, q := range []string{
		"CREATE TEMP TABLE IF NOT EXISTS unnamed (event_id TEXT NOT NULL, event_time TEXT NOT NULL, PRIMARY KEY (event_time, event_id)) WITHOUT ROWID",
		"DELETE FROM temp.unnamed",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
	}
	ins, err := tx.PrepareContext(ctx, "INSERT OR IGNORE INTO temp.unnamed (event_id, event_time) VALUES (?, ?)")
	if err != nil {
		return fail(err)
	}
	for id, t := range events {
		if _, err := ins.ExecContext(ctx, id, eventTime(t)); err != nil {
			ins.Close()
			return fail(err)
		}
	}
	ins.Close()
	// The rows to delete: stored by this read, named by nothing.
	const rows = `SELECT e.rowid, e.event_time FROM temp.unnamed u
		JOIN events e ON e.event_time = u.event_time AND e.event_id = u.event_id
		WHERE e.rowid > ?
		AND NOT EXISTS (SELECT 1 FROM threshold_hits h WHERE h.time = u.event_time AND h.event_id = u.event_id)
		AND u.event_id NOT IN (SELECT event_id FROM alerts)
		AND u.event_id NOT IN (SELECT j.value FROM alerts, json_each(alerts.event_ids) j)
		AND u.event_id NOT IN (SELECT first_event FROM baselines)`
	var (
		ids   []int64
		times []string
	)
	err = eachRow(ctx, tx, rows, []any{mark}, func(r *sql.Rows) error {
		var id int64
		var t string
		if err := r.Scan(&id, &t); err != nil {
			return err
		}
		ids, times = append(ids, id), append(times, t)
		return nil
	})
	if err != nil {
		return fail(err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	del, err := tx.PrepareContext(ctx, "DELETE FROM events WHERE rowid = ?")
	if err != nil {
		return fail(err)
	}
	for _, id := range ids {
		if _, err := del.ExecContext(ctx, id); err != nil {
			del.Close()
			return fail(err)
		}
	}
	del.Close()
	for _, tb := range rollupTables {
		done := map[string]bool{}
		for _, ts := range times {
			t, err := time.Parse(iamwatch.TimeFormat, ts)
			if err != nil {
				return fail(fmt.Errorf("event time %q: %w", ts, err))
			}
			b := tb.bucketOf(t)
			if done[b.key] {
				continue
			}
			done[b.key] = true
			if err := tb.recount(ctx, tx, b); err != nil {
				return fail(fmt.Errorf("roll-up %s: %w", tb.name, err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return len(ids), nil
}
