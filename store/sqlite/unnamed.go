package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
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
// It takes them out of the roll-ups (counting again, from the events, a
// row that loses its first or last time), all in one transaction, and
// returns the IDs of the rows it deleted. During a bulk load it waits for
// the load's end: the load's finish deletes them then and says which
// (LoadConflicts.Unnamed).
//
// A read stores events that only a light rule's hit or a first-seen value
// kept (detect.Batch.Weak); a later batch may bring an earlier hit or
// event, and the hits and baselines then name that one instead. Deleting
// the rows nothing names leaves the events of reading the input as one
// batch.
func (s *Store) DropUnnamed(ctx context.Context, mark int64, events map[string]time.Time) ([]string, error) {
	if len(events) == 0 {
		return nil, nil
	}
	s.bulkMu.Lock()
	if s.bulk {
		s.unnamed = append(s.unnamed, unnamedEvents{mark, events})
		s.bulkMu.Unlock()
		return nil, nil
	}
	s.bulkMu.Unlock()
	gone, _, err := s.dropUnnamed(ctx, mark, events, false)
	return gone, err
}

// unnamedEvents is a DropUnnamed call that waits for a bulk load's end.
type unnamedEvents struct {
	mark   int64
	events map[string]time.Time
}

// dropUnnamed is DropUnnamed's work. With noScan set, it deletes nothing
// (ok false) when a roll-up row would need counting again (one of its
// deleted rows was the row's first or last): a bulk load calls it before
// building the indexes, when counting a row again reads its whole bucket
// (a day of a 200k-record trail of people's calls: ~90 ms a row), and
// again after if it must.
func (s *Store) dropUnnamed(ctx context.Context, mark int64, events map[string]time.Time, noScan bool) (gone []string, ok bool, err error) {
	fail := func(err error) ([]string, bool, error) {
		return nil, false, fmt.Errorf("sqlite: drop unnamed events: %w", err)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		"CREATE TEMP TABLE IF NOT EXISTS unnamed (event_id TEXT NOT NULL, event_time TEXT NOT NULL, PRIMARY KEY (event_time, event_id)) WITHOUT ROWID",
		"CREATE TEMP TABLE IF NOT EXISTS unnamed_gone (r INTEGER PRIMARY KEY, event_id TEXT NOT NULL)",
		"DELETE FROM temp.unnamed",
		"DELETE FROM temp.unnamed_gone",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
	}
	// One statement for them all: a JSON array of [ID, time] pairs.
	pairs := make([][2]string, 0, len(events))
	for id, t := range events {
		pairs = append(pairs, [2]string{id, eventTime(t)})
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO temp.unnamed (event_id, event_time) SELECT value ->> 0, value ->> 1 FROM json_each(?)", string(list)); err != nil {
		return fail(err)
	}
	// The rows to delete: stored by this read, named by nothing. Each
	// looked up by ID (CROSS JOIN: the planner otherwise walks every row
	// after the mark, a whole new database's).
	res, err := tx.ExecContext(ctx, `INSERT INTO temp.unnamed_gone (r, event_id) SELECT e.rowid, e.event_id FROM temp.unnamed u
		CROSS JOIN events e ON e.event_id = u.event_id AND e.event_time = u.event_time
		WHERE e.rowid > ?
		AND NOT EXISTS (SELECT 1 FROM threshold_hits h WHERE h.time = u.event_time AND h.event_id = u.event_id)
		AND u.event_id NOT IN (SELECT event_id FROM alerts)
		AND u.event_id NOT IN (SELECT j.value FROM alerts, json_each(alerts.event_ids) j)
		AND u.event_id NOT IN (SELECT first_event FROM baselines)`, mark)
	if err != nil {
		return fail(err)
	}
	found, err := res.RowsAffected()
	if err != nil || found == 0 {
		return nil, err == nil, err
	}
	// Out of the roll-ups first; the rows whose first or last time goes
	// are counted again once the events are gone.
	const deleted = "rowid IN (SELECT r FROM temp.unnamed_gone)"
	recount := make([][][]any, len(rollupTables))
	for i, tb := range rollupTables {
		if recount[i], err = tb.subtract(ctx, tx, deleted); err != nil {
			return fail(fmt.Errorf("roll-up %s: %w", tb.name, err))
		}
		if noScan && len(recount[i]) > 0 {
			return nil, false, nil
		}
	}
	gone = make([]string, 0, found)
	err = eachRow(ctx, tx, "SELECT event_id FROM temp.unnamed_gone", nil, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		gone = append(gone, id)
		return err
	})
	if err != nil {
		return fail(err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM events WHERE "+deleted); err != nil {
		return fail(err)
	}
	for i, tb := range rollupTables {
		for _, k := range recount[i] {
			if err := tb.recountKey(ctx, tx, k); err != nil {
				return fail(fmt.Errorf("roll-up %s: %w", tb.name, err))
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return gone, true, nil
}
