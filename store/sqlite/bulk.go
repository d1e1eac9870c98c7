package sqlite

import (
	"context"
	"fmt"
)

// secondaryIndexes are the event indexes a bulk load drops and rebuilds.
// They must match schema.sql (and later migrations); TestSecondaryIndexes
// checks that they do.
var secondaryIndexes = []string{
	"CREATE INDEX IF NOT EXISTS events_time      ON events (event_time)",
	"CREATE INDEX IF NOT EXISTS events_user_time ON events (user_name, event_time)",
	"CREATE INDEX IF NOT EXISTS events_name_time ON events (event_name, event_time)",
	"CREATE INDEX IF NOT EXISTS events_ip_time   ON events (source_ip_key, event_time) WHERE source_ip_key IS NOT NULL",
}

var secondaryIndexNames = []string{"events_time", "events_user_time", "events_name_time", "events_ip_time"}

// ensureIndexes recreates secondary indexes a bulk load interrupted by a
// crash left out. When they exist it costs one schema look-up each.
func (s *Store) ensureIndexes(ctx context.Context) error {
	for _, q := range secondaryIndexes {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rebuild index: %w", err)
		}
	}
	return nil
}

// BeginBulkLoad prepares for loading many events into a store that holds
// few: it drops the secondary event indexes, which cost most of each insert,
// and returns a function that rebuilds them (in one pass, much faster than
// maintaining them row by row). It does nothing and returns false when the
// events table already holds more than maxRows rows, since rebuilding then
// would cost more than it saves.
//
// Queries run meanwhile are correct but slow. If the process dies before
// finish is called, the next Open rebuilds the indexes. finish must be
// called once, whatever the load's outcome.
func (s *Store) BeginBulkLoad(ctx context.Context, maxRows int64) (finish func(context.Context) error, bulk bool, err error) {
	noop := func(context.Context) error { return nil }
	var n int64
	// max(rowid) is an O(log n) upper bound on the row count.
	if err := s.w.QueryRowContext(ctx, "SELECT coalesce(max(rowid), 0) FROM events").Scan(&n); err != nil {
		return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
	}
	if n > maxRows {
		return noop, false, nil
	}
	for _, name := range secondaryIndexNames {
		if _, err := s.w.ExecContext(ctx, "DROP INDEX IF EXISTS "+name); err != nil {
			return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
		}
	}
	finish = func(ctx context.Context) error {
		if err := s.ensureIndexes(ctx); err != nil {
			return fmt.Errorf("sqlite: finish bulk load: %w", err)
		}
		return nil
	}
	return finish, true, nil
}
