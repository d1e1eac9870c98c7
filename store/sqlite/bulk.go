package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/iamwatch/iamwatch"
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

// idIndex is the unique index on event_id (schema.sql), which a bulk load
// also drops while it keeps the IDs in memory (bulkIDs).
const idIndex = "CREATE UNIQUE INDEX IF NOT EXISTS events_event_id ON events (event_id)"

// bulkMaxIDs bounds the IDs a bulk load keeps in memory (bulkIDBytes each): past it the event_id index is built and the rest
// of the load inserts through it, so the scan's memory stays bounded
// whatever the input.
const bulkMaxIDs = 400_000

// bulkIDBytes is the memory one ID of the bulk ID set takes (a lower-case
// UUID in a map[[16]byte]int64: 34 bytes measured with Go 1.25).
const bulkIDBytes = 36

// bulkCacheKiB is the writer's page cache while a bulk load holds the
// stored IDs in memory instead of the event_id index: the load appends
// rows to tables without other indexes, which a smaller cache serves as
// well, and the ID set takes the memory (a 1M-record trail of people's
// activity, 382k events stored: peak RSS 142–148 MiB against 146–153 MiB
// with the whole cache, and no slower; 250k-record scans 3–5 MiB less).
const bulkCacheKiB = 4000

// BulkLoadMemory returns the most memory, in bytes, a bulk load of rows
// events holds in the Store besides the batches given to PutEvents: the
// stored IDs. A caller that bounds the Go heap (debug.SetMemoryLimit) adds
// it, or the collector runs ever more often as the load goes on.
func BulkLoadMemory(rows int64) int64 {
	return min(max(rows, 0), bulkMaxIDs) * bulkIDBytes
}

// ensureIndexes recreates the indexes a bulk load left out: at its end, or
// at the next Open after a crash. When they exist it costs one schema
// look-up each.
func (s *Store) ensureIndexes(ctx context.Context) error {
	return s.sortingToFiles(ctx, func(ctx context.Context) error {
		if err := s.ensureIDIndex(ctx); err != nil {
			return err
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
	// Every build ends a bulk load's ID set (ensureIDIndex): the whole
	// cache is the writer's again.
	if rerr := s.setCache(ctx, cacheKiB); err == nil && rerr != nil {
		err = fmt.Errorf("rebuild index: %w", rerr)
	}
	return err
}

// sortCacheKiB is the writer's page cache while it builds indexes: SQLite's
// sorter keeps runs of up to the cache's size in memory before it writes
// them to a file, and the build reads the table in order and appends to
// the index, which needs few pages cached. With 2 MB rather than the 8 MB
// (or a bulk load's 4 MB) the peak RSS of a 1M-record load that builds the
// event_id index mid-way fell 149 → 143 MiB, of a 250k-record --keep all
// scan 131–135 → 126–129 MiB; BenchmarkBulkLoad's index builds took as
// long (0.91–1.03 s, 0.80–1.06 s before).
const sortCacheKiB = 2000

// ensureIDIndex creates the unique event_id index if it is missing and
// ends the Store's bulk ID set. If the table holds two rows of one ID (a
// second process stored an event this one's bulk load also stored, neither
// seeing the other's without the index), the later rows are deleted and
// the roll-ups counted again from the events, all in one transaction.
func (s *Store) ensureIDIndex(ctx context.Context) error {
	// Not under bulkMu: PutEvents takes it while it holds the connection.
	_, err := s.w.ExecContext(ctx, idIndex)
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		err = s.dropDuplicateEvents(ctx)
	}
	if err != nil {
		return fmt.Errorf("rebuild index: %w", err)
	}
	s.bulkMu.Lock()
	s.bulk = nil // the cache is restored by sortingToFiles
	s.bulkMu.Unlock()
	return nil
}

// dropDuplicateEvents keeps the first row (lowest rowid) of each event ID,
// recounts the roll-ups and creates the unique event_id index.
func (s *Store) dropDuplicateEvents(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := []string{
		"CREATE TEMP TABLE first_rows AS SELECT min(rowid) AS r FROM events GROUP BY event_id",
		"DELETE FROM events WHERE rowid NOT IN (SELECT r FROM temp.first_rows)",
		"DROP TABLE temp.first_rows",
	}
	for _, tb := range rollupTables {
		stmts = append(stmts, "DELETE FROM "+tb.name, tb.rebuild(""))
	}
	stmts = append(stmts, idIndex)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("drop duplicate events: %w", err)
		}
	}
	return tx.Commit()
}

// bulkIDs are the IDs of the stored events, with their rowids, while a
// bulk load runs without the event_id index: PutEvents skips the IDs it
// holds (as the unique index made it do) and look-ups by ID read by rowid.
// Not safe for concurrent use (Store.bulkMu guards it).
type bulkIDs struct {
	uuid  map[[16]byte]int64 // IDs in the canonical lower-case UUID spelling, CloudTrail's.
	other map[string]int64
}

func newBulkIDs() *bulkIDs {
	return &bulkIDs{uuid: map[[16]byte]int64{}, other: map[string]int64{}}
}

func (b *bulkIDs) len() int { return len(b.uuid) + len(b.other) }

func (b *bulkIDs) get(id string) (int64, bool) {
	if k, ok := uuidKey(id); ok {
		r, found := b.uuid[k]
		return r, found
	}
	r, found := b.other[id]
	return r, found
}

func (b *bulkIDs) del(id string) {
	if k, ok := uuidKey(id); ok {
		delete(b.uuid, k)
		return
	}
	delete(b.other, id)
}

func (b *bulkIDs) put(id string, rowid int64) {
	if k, ok := uuidKey(id); ok {
		b.uuid[k] = rowid
		return
	}
	b.other[id] = rowid
}

// uuidKey returns the 16 bytes of id when id is a UUID spelled in lower
// case with hyphens (8-4-4-4-12), the only spelling that maps to them.
func uuidKey(id string) (k [16]byte, ok bool) {
	if len(id) != 36 {
		return k, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if id[i] != '-' {
				return k, false
			}
			i++
			continue
		}
		hi, ok1 := lowerHex(id[i])
		lo, ok2 := lowerHex(id[i+1])
		if !ok1 || !ok2 {
			return k, false
		}
		k[j] = hi<<4 | lo
		j++
		i += 2
	}
	return k, true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// bulkState is the part of a Store a bulk load changes.
type bulkState struct {
	bulkMu sync.Mutex
	bulk   *bulkIDs // non-nil while the event_id index is dropped.
	// fresh is bulkNew's result, reused: a copy of each batch was a tenth
	// of the garbage of a bulk load, which the collector made the writer
	// pay for.
	fresh []iamwatch.Event
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

// storedRowids returns, when a bulk load holds the IDs in memory, the
// rowids of those of ids that are stored (ok true); ok false means look
// the IDs up through the event_id index.
func (s *Store) storedRowids(ids []string) (rowids map[string]int64, ok bool) {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if s.bulk == nil {
		return nil, false
	}
	rowids = make(map[string]int64, len(ids))
	for _, id := range ids {
		if r, found := s.bulk.get(id); found {
			rowids[id] = r
		}
	}
	return rowids, true
}

// whereID is the condition and argument that select the event with id:
// by event_id, or by rowid during a bulk load (found false: none stored).
func (s *Store) whereID(id string) (cond string, arg any, found bool) {
	r, ok := s.storedRowids([]string{id})
	if !ok {
		return "event_id = ?", id, true
	}
	rowid, found := r[id]
	return "rowid = ?", rowid, found
}

// BeginBulkLoad prepares for loading many events into a store that holds
// few: it drops the event indexes, which cost most of each insert, and
// returns a function that rebuilds them (in one pass, much faster than
// maintaining them row by row); until then the WAL is checkpointed on a
// connection of its own (walCheckpointer), not by the writer. The unique
// event_id index gives way to the stored IDs held in memory (up to
// bulkMaxIDs, after which it is built again and the load goes on through
// it). It does nothing and returns false
// when the events table already holds more than maxRows rows, since
// rebuilding then would cost more than it saves.
//
// Queries run meanwhile are correct but slow, except look-ups by event ID
// (Event, StoredEvents), which see only the events stored through this
// Store and those before the load: a bulk load is for a first import, not
// for a database another process writes to at the same time (if one does,
// finish keeps the first row of each ID). If the process dies before
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
	if n < bulkMaxIDs/2 {
		if err := s.dropIDIndex(ctx); err != nil {
			return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
		}
	}
	if err := s.startWAL(ctx); err != nil {
		return noop, false, fmt.Errorf("sqlite: begin bulk load: %w", err)
	}
	finish = func(ctx context.Context) error {
		err := s.ensureIndexes(ctx)
		if serr := s.stopWAL(); err == nil {
			err = serr
		}
		if err != nil {
			return fmt.Errorf("sqlite: finish bulk load: %w", err)
		}
		return nil
	}
	return finish, true, nil
}

// dropIDIndex reads the stored IDs into memory and drops the event_id
// index, in one transaction.
func (s *Store) dropIDIndex(ctx context.Context) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ids := newBulkIDs()
	err = eachRow(ctx, tx, "SELECT rowid, event_id FROM events", nil, func(rows *sql.Rows) error {
		var r int64
		var id string
		if err := rows.Scan(&r, &id); err != nil {
			return err
		}
		ids.put(id, r)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read the stored IDs: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DROP INDEX IF EXISTS events_event_id"); err != nil {
		return err
	}
	// Set before the commit: readers meanwhile find by rowid what they
	// would have found through the index.
	s.setBulk(ids)
	if err := tx.Commit(); err != nil {
		s.setBulk(nil)
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

func (s *Store) setBulk(ids *bulkIDs) {
	s.bulkMu.Lock()
	s.bulk = ids
	s.bulkMu.Unlock()
}

// bulkNew returns, when a bulk load holds the stored IDs in memory, the
// events of batch whose ID is neither stored nor earlier in the batch
// (ok true), and adds their IDs to the set, fresh[i] at rowid next+i, the
// rowid its INSERT will give it (the caller checks that it did). Until the
// commit, look-ups find no row there. ok false means insert through the
// event_id index.
func (s *Store) bulkNew(batch []iamwatch.Event, next int64) (fresh []iamwatch.Event, ok bool) {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if s.bulk == nil {
		return batch, false
	}
	// The write connection's holder alone calls bulkNew: the slice of the
	// previous call is free again.
	fresh = slices.Grow(s.fresh[:0], len(batch)) // once, not doubling up to it: events are ~500 bytes
	for i := range batch {
		if _, stored := s.bulk.get(batch[i].ID); stored {
			continue
		}
		s.bulk.put(batch[i].ID, next+int64(len(fresh)))
		fresh = append(fresh, batch[i])
	}
	s.fresh = fresh
	return fresh, true
}

// bulkDone lets go of the events bulkNew returned.
func (s *Store) bulkDone() {
	s.bulkMu.Lock()
	clear(s.fresh)
	s.bulkMu.Unlock()
}

// bulkFull reports whether n more IDs would take the bulk ID set past bulkMaxIDs.
func (s *Store) bulkFull(n int) bool {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	return s.bulk != nil && s.bulk.len()+n > bulkMaxIDs
}

// bulkUndo removes the IDs of fresh, which bulkNew added, from the bulk
// ID set, when they were not stored after all.
func (s *Store) bulkUndo(fresh []iamwatch.Event) {
	s.bulkMu.Lock()
	defer s.bulkMu.Unlock()
	if s.bulk == nil {
		return
	}
	for i := range fresh {
		s.bulk.del(fresh[i].ID)
	}
}
