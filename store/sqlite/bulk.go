package sqlite

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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

// keptIndexNames are the event indexes a bulk load keeps: partial ones
// over few rows (migrate_011.sql), which cost an insert next to nothing
// and a rebuild a read of the whole table.
var keptIndexNames = []string{"events_iam_change_time", "events_root_time"}

// idIndex is the unique index on event_id (schema.sql), which a bulk load
// also drops: its keys are random (UUIDs), so each insert reads and
// rewrites a page of its own once the index outgrows the page cache.
const idIndex = "CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id)"

// loadIndex is the index a bulk load has instead, dropped at its end:
// unique on (event_time, event_id), it skips the events already stored,
// since CloudTrail delivers an event again with its time, and a load
// inserts in about time order, so it grows at a few places. Not kept
// after the load: its keys are nearly three times the time index's, and
// the listings that walk the time index backwards took twice as long over
// it (root_usage on 1M events 0.32 → 0.70 s).
const (
	loadIndex     = "CREATE UNIQUE INDEX IF NOT EXISTS events_time_id ON events (event_time, event_id)"
	loadIndexName = "events_time_id"
)

// bulkCacheKiB is the writer's page cache during a bulk load: the load
// appends rows to the table and inserts in about time order into the
// load's index, which a smaller cache serves as well (a 1M-record trail of
// people's activity, 382k events stored: peak RSS 142–148 MiB against
// 146–153 MiB with the whole cache, and no slower, measured when the load
// kept the stored IDs in memory instead; 250k-record scans 3–5 MiB less).
const bulkCacheKiB = 4000

// ensureIndexes recreates the indexes a bulk load left out: at its end, or
// at the next Open after a crash. When they exist it costs one schema
// look-up each.
func (s *Store) ensureIndexes(ctx context.Context) error {
	return s.sortingToFiles(ctx, func(ctx context.Context) error {
		if err := s.ensureIDIndex(ctx); err != nil {
			return err
		}
		if _, err := s.w.ExecContext(ctx, "DROP INDEX IF EXISTS "+loadIndexName); err != nil {
			return fmt.Errorf("drop the load's index: %w", err)
		}
		for _, q := range secondaryIndexes {
			if _, err := s.w.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("rebuild index: %w", err)
			}
			s.pokeWAL()
		}
		return nil
	})
}

// sortingToFiles runs build, which creates indexes, with SQLite's sorter
// spilling to temporary files rather than to memory (temp_store, memory
// otherwise, for the queries' small sorts): each index sorts every row's
// key, and in memory those runs made the peak RSS of a scan that stores
// 382k events (157–159 MiB, 152–153 MiB through files) and were slower
// (BenchmarkBulkLoad's index builds: 1.17–1.34 s, 0.89–1.00 s through
// files). SQLite deletes its temporary files as it goes.
func (s *Store) sortingToFiles(ctx context.Context, build func(context.Context) error) error {
	if _, err := s.w.ExecContext(ctx, "PRAGMA temp_store = FILE"); err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	if err := s.setCache(ctx, sortCacheKiB); err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	err := build(ctx)
	ctx = context.WithoutCancel(ctx)
	if _, rerr := s.w.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err == nil && rerr != nil {
		err = fmt.Errorf("rebuild index: %w", rerr)
	}
	// Every build ends a bulk load (ensureIDIndex): the whole cache is
	// the writer's again.
	if rerr := s.setCache(ctx, cacheKiB); err == nil && rerr != nil {
		err = fmt.Errorf("rebuild index: %w", rerr)
	}
	return err
}

// sortCacheKiB is the writer's page cache while it builds indexes: SQLite's
// sorter keeps runs of up to the cache's size in memory before it writes
// them to a file, and the build reads the table in order and appends to
// the index, which needs few pages cached. With 2 MB rather than the 8 MB
// (or a bulk load's 4 MB) the peak RSS of a 1M-record load that then built
// the event_id index mid-way fell 149 → 143 MiB, of a 250k-record --keep
// all scan 131–135 → 126–129 MiB; BenchmarkBulkLoad's index builds took as
// long (0.91–1.03 s, 0.80–1.06 s before).
const sortCacheKiB = 2000

// ensureIDIndex creates the unique event_id index if it is missing, after
// which look-ups by ID go through it again. If the table holds two rows of
// one ID (the load stored a record of an ID stored at another time, or a
// second process stored an event this one's bulk load also stored, neither
// seeing the other's without the index), the later rows are deleted and
// the roll-ups counted again from the events, all in one transaction.
func (s *Store) ensureIDIndex(ctx context.Context) error {
	// Not under bulkMu, which is only ever held for a moment.
	_, err := s.w.ExecContext(ctx, idIndex)
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		err = s.dropDuplicateEvents(ctx)
	}
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	s.bulkMu.Lock()
	s.bulk = false // the cache is restored by sortingToFiles
	s.bulkMu.Unlock()
	return nil
}

// dropDuplicateEvents keeps the first row (lowest rowid) of each event ID,
// recounts the roll-ups and creates the unique event_id index. It adds
// the rows it deleted to the Store's LoadConflicts.
func (s *Store) dropDuplicateEvents(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const later = "FROM events WHERE rowid NOT IN (SELECT r FROM temp.first_rows)"
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE first_rows AS SELECT min(rowid) AS r FROM events GROUP BY event_id"); err != nil {
		return fmt.Errorf("drop duplicate events: %w", err)
	}
	var first string
	if err := tx.QueryRowContext(ctx, "SELECT event_id "+later+" ORDER BY rowid LIMIT 1").Scan(&first); err != nil {
		return fmt.Errorf("drop duplicate events: %w", err)
	}
	res, err := tx.ExecContext(ctx, "DELETE "+later)
	if err != nil {
		return fmt.Errorf("drop duplicate events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("drop duplicate events: %w", err)
	}
	stmts := []string{"DROP TABLE temp.first_rows"}
	for _, tb := range rollupTables {
		stmts = append(stmts, "DELETE FROM "+tb.name, tb.rebuild(""))
	}
	stmts = append(stmts, idIndex)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("drop duplicate events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.bulkMu.Lock()
	if s.dropped.N == 0 {
		s.dropped.First = first
	}
	s.dropped.N += int(n)
	s.bulkMu.Unlock()
	return nil
}

// LoadConflicts are the rows a bulk load's finish deleted as it built the
// event_id index: records of an ID stored at another event time (or by
// another process meanwhile), the first row of each ID kept.
type LoadConflicts struct {
	N     int
	First string // the event ID of the first deleted row
	// Unnamed are the event IDs of the rows the finish deleted for
	// DropUnnamed calls made during the load: not conflicts, events no
	// longer stored (pipeline.Report.Unstored).
	Unnamed []string
}

// bulkState is the part of a Store a bulk load changes.
type bulkState struct {
	bulkMu sync.Mutex
	bulk   bool // while this Store's bulk load has the event_id index dropped.
	// dropped counts the rows deleted by dropDuplicateEvents since the
	// last bulk load's finish.
	dropped LoadConflicts
	// unnamed are the DropUnnamed calls made during the load, for its
	// finish to run.
	unnamed []unnamedEvents
	// wal checkpoints from BeginBulkLoad to its finish (nil otherwise, and
	// for an in-memory store); walBytes are the bytes committed since its
	// last poke.
	wal      *walCheckpointer
	walBytes int
}

// walPokeBytes is how much PutEvents commits before it asks for a
// checkpoint (about 1000 pages of WAL): one after each commit copied the
// pages every commit rewrites (roll-ups, the B-trees' upper levels) as
// often, 10% more bytes written by a default scan.
const walPokeBytes = 16 << 20

// walAdd counts n bytes committed, and asks the bulk load's checkpointer,
// if any, for a checkpoint once they add up to walPokeBytes.
func (s *Store) walAdd(n int) {
	s.bulkMu.Lock()
	c := s.wal
	s.walBytes += n
	if s.walBytes < walPokeBytes {
		c = nil
	} else {
		s.walBytes = 0
	}
	s.bulkMu.Unlock()
	c.poke()
}

// pokeWAL asks the bulk load's checkpointer, if any, to copy what is
// committed now into the database file (and counts afresh from there).
func (s *Store) pokeWAL() { s.walAdd(walPokeBytes) }

// startWAL starts a checkpointer for a bulk load, unless the store is in
// memory (no WAL) or one runs already (a load begun twice). The
// connection is used outside bulkMu: PutEvents takes bulkMu while it
// holds the connection.
func (s *Store) startWAL(ctx context.Context) error {
	s.bulkMu.Lock()
	running := s.wal != nil
	s.bulkMu.Unlock()
	if s.r == s.w || running {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", bulkAutoCheckpoint)); err != nil {
		return err
	}
	c, err := startWALCheckpointer(s.path, s.busy)
	if err != nil {
		return err
	}
	s.bulkMu.Lock()
	s.wal = c
	s.bulkMu.Unlock()
	return nil
}

// stopWAL stops the bulk load's checkpointer, if any.
func (s *Store) stopWAL() error {
	s.bulkMu.Lock()
	c := s.wal
	s.wal = nil
	s.bulkMu.Unlock()
	if c == nil {
		return nil
	}
	err := c.stop()
	// Without context: the load's may be over, and the writer must get
	// its checkpoints back whatever the outcome.
	_, perr := s.w.ExecContext(context.Background(), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", autoCheckpoint))
	return errors.Join(err, perr)
}

// bulking reports whether the event_id index is dropped by a bulk load
// of this Store: look-ups by ID then go through the load's index, with the
// event's time.
func (s *Store) bulking() bool {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	return s.bulk
}

// whereID is the condition and arguments that select the event with id
// and event time t: by event_id, or during a bulk load by (event_time,
// event_id) when t is known (a zero t reads the whole table then).
func (s *Store) whereID(id string, t time.Time) (cond string, args []any) {
	if s.bulking() && !t.IsZero() {
		return "event_time = ? AND event_id = ?", []any{eventTime(t), id}
	}
	return "event_id = ?", []any{id}
}

// BeginBulkLoad prepares for loading many events into a store that holds
// few: it drops the event indexes, which cost most of each insert, and
// returns a function that rebuilds them (in one pass, much faster than
// maintaining them row by row); until then the WAL is checkpointed on a
// connection of its own (walCheckpointer), not by the writer. The unique
// event_id index is dropped too: an index unique on (event_time,
// event_id) (loadIndex) skips the events already stored meanwhile, since
// CloudTrail delivers an event again with its time. A record whose ID is
// stored with another time is stored as well, and dropped when finish
// builds the event_id index (the first row of each ID is kept and the
// roll-ups counted again). It does nothing and returns false when the
// events table already holds more than maxRows rows, since rebuilding then
// would cost more than it saves.
//
// Queries run meanwhile are correct but slow, and so are look-ups by ID
// alone (Event; StoredEvents and the alert resolver's look-ups know the
// event's time): a bulk load is for a first import, not for a database
// another process writes to at the same time (if one does, finish keeps
// the first row of each ID). If the process dies before finish is called,
// the next Open rebuilds the indexes. finish must be called once, whatever
// the load's outcome; it returns the rows it deleted building the event_id
// index.
func (s *Store) BeginBulkLoad(ctx context.Context, maxRows int64) (finish func(context.Context) (LoadConflicts, error), bulk bool, err error) {
	noop := func(context.Context) (LoadConflicts, error) { return LoadConflicts{}, nil }
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
	if err := s.dropIDIndex(ctx); err != nil {
		return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
	}
	if err := s.startWAL(ctx); err != nil {
		return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
	}
	finish = func(ctx context.Context) (LoadConflicts, error) {
		// The rows DropUnnamed asked for go before the indexes are built,
		// unless a roll-up row must be counted again (see dropUnnamed):
		// they are looked up through the load's index, and deleted from
		// fewer indexes, in pages the load left in the cache (after the
		// builds: 29–45 ms a scan of the bench trails, mostly page reads;
		// before, 3–10 ms).
		s.bulkMu.Lock()
		unnamed := s.unnamed
		s.unnamed = nil
		s.bulkMu.Unlock()
		var gone []string
		var err error
		var after []unnamedEvents
		for _, u := range unnamed {
			ids, ok, derr := s.dropUnnamed(ctx, u.mark, u.events, true)
			if err = derr; err != nil {
				break
			}
			if gone = append(gone, ids...); !ok {
				after = append(after, u)
			}
		}
		if err == nil {
			err = s.ensureIndexes(ctx)
		}
		for _, u := range after {
			if err != nil {
				break
			}
			var ids []string
			ids, _, err = s.dropUnnamed(ctx, u.mark, u.events, false)
			gone = append(gone, ids...)
		}
		if serr := s.stopWAL(); err == nil {
			err = serr
		}
		s.bulkMu.Lock()
		dropped := s.dropped
		s.dropped = LoadConflicts{}
		s.bulkMu.Unlock()
		dropped.Unnamed = gone
		if err != nil {
			return dropped, fmt.Errorf("sqlite: finish bulk load: %w", err)
		}
		return dropped, nil
	}
	return finish, true, nil
}

// dropIDIndex builds the load's index, drops the event_id index and
// halves the writer's cache.
func (s *Store) dropIDIndex(ctx context.Context) error {
	if err := s.sortingToFiles(ctx, func(ctx context.Context) error {
		_, err := s.w.ExecContext(ctx, loadIndex)
		return err
	}); err != nil {
		return err
	}
	// Set before the drop: a look-up by ID and time meanwhile goes
	// through the load's index, which finds what the other did.
	s.bulkMu.Lock()
	s.bulk = true
	s.bulkMu.Unlock()
	if _, err := s.w.ExecContext(ctx, "DROP INDEX IF EXISTS events_event_id"); err != nil {
		return err
	}
	return s.setCache(ctx, bulkCacheKiB)
}

// setCache sets the writer's page cache of a database file to kib KiB (an
// in-memory database keeps every page whatever it is).
func (s *Store) setCache(ctx context.Context, kib int) error {
	if s.r == s.w {
		return nil
	}
	_, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", kib))
	return err
}
