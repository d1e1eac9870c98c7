package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func indexNames(t *testing.T, s *Store) []string {
	t.Helper()
	return queryStrings(t, s.w, "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL ORDER BY name")
}

// queryStrings returns the first column of every row of query.
func queryStrings(t *testing.T, q querier, query string, args ...any) []string {
	t.Helper()
	var out []string
	err := eachRow(context.Background(), q, query, args, func(rows *sql.Rows) error {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return out
}

// eventIndexes is how many indexes the events table has outside a bulk load.
var eventIndexes = len(secondaryIndexNames) + len(keptIndexNames) + 1 // and event_id's

// The bulk-load list of indexes is the schema's.
func TestSecondaryIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := append(slices.Concat(secondaryIndexNames, keptIndexNames), "events_event_id")
	slices.Sort(want)
	if got := indexNames(t, s); !slices.Equal(got, want) {
		t.Errorf("event indexes %v, bulk load knows %v", got, want)
	}
}

func TestBulkLoad(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	finish, bulk, err := s.BeginBulkLoad(ctx, 10)
	if err != nil || !bulk {
		t.Fatalf("BeginBulkLoad on an empty store = %v, %v", bulk, err)
	}
	if got, want := indexNames(t, s), []string{"events_iam_change_time", "events_root_time", loadIndexName}; !slices.Equal(got, want) {
		t.Errorf("during the load the indexes are %v, want %v: the load's and the ones it keeps", got, want)
	}
	checkCache(t, s, -bulkCacheKiB)
	evs := testEvents("bulk", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 50)
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 50 {
		t.Fatalf("PutEvents = %d, %v", n, err)
	}
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 0 {
		t.Fatalf("PutEvents again during the load = %d, %v; the stored IDs must be known", n, err)
	}
	twice := testEvents("twice", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 1)
	if n, err := s.PutEvents(ctx, append(twice, twice[0], twice[0])); err != nil || n != 1 {
		t.Fatalf("PutEvents of one event thrice during the load = %d, %v", n, err)
	}
	if _, err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(indexNames(t, s)); got != eventIndexes {
		t.Errorf("after the load %d indexes, want %d", got, eventIndexes)
	}
	checkCache(t, s, -cacheKiB)
	checkTempStore(t, s)
	checkRollups(t, s)

	// Now the store holds 51 rows: a bulk load with a bound of 10 does nothing.
	_, bulk, err = s.BeginBulkLoad(ctx, 10)
	if err != nil || bulk {
		t.Errorf("BeginBulkLoad on a full store = %v, %v; want no bulk mode", bulk, err)
	}
	if got := len(indexNames(t, s)); got != eventIndexes {
		t.Errorf("indexes dropped although bulk mode was refused")
	}

	// A crash during a bulk load: the next Open rebuilds the indexes.
	if _, bulk, err := s.BeginBulkLoad(ctx, 1000); err != nil || !bulk {
		t.Fatalf("BeginBulkLoad = %v, %v", bulk, err)
	}
	s.Close()
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := len(indexNames(t, s)); got != eventIndexes {
		t.Errorf("after reopening an interrupted bulk load: %d indexes, want %d", got, eventIndexes)
	}
}

// StoredEvents finds stored events by ID across several statements
// (storedChunk IDs each), with the fields that identify an event, and
// leaves out the IDs nothing was stored under; during a bulk load too,
// through the time index.
func TestStoredEventsReadsIdentityInChunks(t *testing.T) {
	for _, bulk := range []bool{false, true} {
		t.Run(fmt.Sprintf("bulk=%v", bulk), func(t *testing.T) { testStoredEventsInChunks(t, bulk) })
	}
}

func testStoredEventsInChunks(t *testing.T, bulk bool) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "t.db"))
	defer s.Close()
	if bulk {
		if _, ok, err := s.BeginBulkLoad(ctx, 1000); err != nil || !ok {
			t.Fatalf("BeginBulkLoad = %v, %v", ok, err)
		}
	}
	evs := testEvents("se", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), storedChunk+40)
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var look []*iamwatch.Event
	for i := range evs {
		look = append(look, &evs[i])
		if i%7 == 0 {
			missing := evs[i]
			missing.ID = "missing-" + missing.ID
			look = append(look, &missing)
		}
	}
	got, err := s.StoredEvents(ctx, look)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("found %d events, want %d", len(got), len(evs))
	}
	for i := range evs {
		want, g := evs[i], got[evs[i].ID]
		if !g.Time.Equal(want.Time.Truncate(time.Second)) || g.Name != want.Name || g.Source != want.Source ||
			g.AccountID != want.AccountID || g.Region != want.Region || g.PrincipalARN != want.PrincipalARN ||
			g.UserName != want.UserName || g.SourceIP != want.SourceIP || g.ErrorCode != want.ErrorCode {
			t.Fatalf("event %s read back as %+v, want %+v", want.ID, g, want)
		}
	}
}

// uuidEvents are testEvents with IDs spelled as CloudTrail's, lower-case
// UUIDs.
func uuidEvents(n0 int, start time.Time, n int) []iamwatch.Event {
	evs := make([]iamwatch.Event, n)
	for i := range evs {
		// The same record for an ID whatever the call, as CloudTrail
		// delivers an event again.
		evs[i] = testEvent("u", start, n0+i)
		evs[i].ID = fmt.Sprintf("%08x-3f1c-4d2e-9a7b-1c2d3e4f5a6b", n0+i)
	}
	return evs
}

// A bulk load stores each ID once without the event_id index, whatever
// its spelling and wherever its repeats are (in the store before the load,
// in an earlier call, earlier in the same call, there at another time),
// finds its events by ID meanwhile, and ends with the same rows as a load
// through the index.
func TestBulkLoadDuplicates(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	before := uuidEvents(0, start, 40)
	evs := append(uuidEvents(20, start, 300), testEvents("Mixed-Case", start, 100)...)
	evs = append(evs, uuidEvents(0, start, 10)...) // stored before the load
	evs = append(evs, evs[5], evs[320])            // repeats within the batch
	evs[7].ID = strings.ToUpper(evs[7].ID)         // another ID: IDs are case-sensitive
	later := evs[321]
	later.Time = later.Time.Add(time.Hour)
	evs = append(evs, later) // a conflicting record of an ID in the batch: the first is kept

	load := func(t *testing.T, bulk bool) *Store {
		s := openTest(t, filepath.Join(t.TempDir(), "db"))
		t.Cleanup(func() { s.Close() })
		if n, err := s.PutEvents(ctx, before); err != nil || n != 40 {
			t.Fatalf("PutEvents before the load = %d, %v", n, err)
		}
		finish := func(context.Context) (LoadConflicts, error) { return LoadConflicts{}, nil }
		if bulk {
			var ok bool
			var err error
			if finish, ok, err = s.BeginBulkLoad(ctx, 1000); err != nil || !ok {
				t.Fatalf("BeginBulkLoad = %v, %v", ok, err)
			}
		}
		// IDs 20-219 of which 20-39 were stored before, and 27 upper-cased.
		if n, err := s.PutEvents(ctx, evs[:200]); err != nil || n != 181 {
			t.Fatalf("PutEvents = %d, %v; want 181", n, err)
		}
		// IDs 220-319 and the 100 others.
		if n, err := s.PutEvents(ctx, evs); err != nil || n != 200 {
			t.Fatalf("PutEvents = %d, %v; want 200", n, err)
		}
		missing := evs[1]
		missing.ID = "missing"
		got, err := s.StoredEvents(ctx, []*iamwatch.Event{&evs[0], &evs[7], &evs[250], &evs[310], &missing})
		if err != nil || len(got) != 4 || got[evs[7].ID].ID != evs[7].ID || got[evs[310].ID].Name != evs[310].Name {
			t.Fatalf("StoredEvents during the load = %v, %v", got, err)
		}
		if e, err := s.Event(ctx, evs[310].ID); err != nil || string(e.Raw) != string(evs[310].Raw) {
			t.Fatalf("Event during the load = %v, %v", e.ID, err)
		}
		if _, err := s.Event(ctx, "missing"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Event(missing) during the load: %v", err)
		}
		if _, err := finish(ctx); err != nil {
			t.Fatal(err)
		}
		checkRollups(t, s)
		return s
	}
	rows := func(s *Store) []string {
		return queryStrings(t, s.w, "SELECT rowid || ' ' || event_id FROM events ORDER BY rowid")
	}
	want := rows(load(t, false))
	if len(want) != 421 {
		t.Fatalf("stored %d rows through the index, want 421", len(want))
	}
	s := load(t, true)
	if got := rows(s); !slices.Equal(got, want) {
		t.Errorf("bulk load stored\n%v\nthrough the index\n%v", got, want)
	}
	if got := len(indexNames(t, s)); got != eventIndexes {
		t.Errorf("after the load %d indexes, want %d", got, eventIndexes)
	}
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 0 {
		t.Errorf("PutEvents after the load = %d, %v", n, err)
	}
}

// Another writer can store an event a bulk load stores too: at the same
// time, the time index skips it; at another time (neither sees the other's
// row without the event_id index), finish keeps the first row of the ID
// and recounts the roll-ups, and so does Open after a crash.
func TestBulkLoadOtherWriter(t *testing.T) {
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "db")
			s := openTest(t, path)
			defer func() { s.Close() }()
			other := openTest(t, path) // open before the load, or Open builds the indexes again
			finish, _, err := s.BeginBulkLoad(ctx, 1000)
			if err != nil {
				t.Fatal(err)
			}
			evs := uuidEvents(0, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 20)
			others := slices.Clone(evs[5:12])
			for i := range others[:5] {
				others[i].Time = others[i].Time.Add(-time.Minute) // conflicting records of 5–9
			}
			if n, err := other.PutEvents(ctx, others); err != nil || n != 7 {
				t.Fatalf("the other writer's PutEvents = %d, %v", n, err)
			}
			other.Close()
			if n, err := s.PutEvents(ctx, evs); err != nil || n != 18 {
				t.Fatalf("PutEvents = %d, %v; want 18 (10 and 11 are stored)", n, err)
			}
			if crash {
				s.Close()
				s = openTest(t, path)
			} else if dropped, err := finish(ctx); err != nil || dropped.N != 5 || dropped.First != evs[5].ID || len(dropped.Unnamed) != 0 {
				t.Fatalf("finish = %+v, %v; want the load's 5 records of IDs stored at other times, from %s", dropped, err, evs[5].ID)
			}
			if got := queryStrings(t, s.w, "SELECT count(*) || ' ' || count(DISTINCT event_id) FROM events"); got[0] != "20 20" {
				t.Errorf("rows, IDs = %s; want 20 20", got[0])
			}
			if got := queryStrings(t, s.w, "SELECT event_id FROM events ORDER BY rowid LIMIT 1"); got[0] != evs[5].ID {
				t.Errorf("first row %s, want the other writer's %s", got[0], evs[5].ID)
			}
			if got := len(indexNames(t, s)); got != eventIndexes {
				t.Errorf("%d indexes, want %d", got, eventIndexes)
			}
			checkRollups(t, s)
		})
	}
}

// Another Store opened during a bulk load builds the indexes again (Open
// repairs a crashed load): the load goes on through both unique indexes.
func TestBulkLoadIndexBack(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	defer s.Close()
	finish, _, err := s.BeginBulkLoad(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	evs := uuidEvents(0, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 100)
	other := openTest(t, path)
	if n, err := other.PutEvents(ctx, evs[40:60]); err != nil || n != 20 {
		t.Fatalf("the other writer's PutEvents = %d, %v", n, err)
	}
	other.Close()
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 80 {
		t.Fatalf("PutEvents = %d, %v; want 80", n, err)
	}
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 0 {
		t.Fatalf("PutEvents again = %d, %v", n, err)
	}
	if _, err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, s)
}

// walAutoCheckpoint returns the writer connection's wal_autocheckpoint.
func walAutoCheckpoint(t *testing.T, s *Store) int {
	t.Helper()
	var n int
	if err := s.w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// During a bulk load the WAL reaches the database file without the
// writer's checkpoint: the batches here are far below its threshold, yet
// the file grows once they pass walPokeBytes. finish, or Close, ends the
// checkpointer and gives the writer its threshold back.
func TestBulkLoadCheckpointsApart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	defer s.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	empty := size()
	finish, _, err := s.BeginBulkLoad(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := walAutoCheckpoint(t, s); got != bulkAutoCheckpoint {
		t.Errorf("during the load wal_autocheckpoint = %d, want %d", got, bulkAutoCheckpoint)
	}
	// Records that S2 cannot shrink: 6 MiB a batch of 12.
	var seed [32]byte
	pad := make([]byte, 384<<10)
	if _, err := rand.NewChaCha8(seed).Read(pad); err != nil {
		t.Fatal(err)
	}
	raw := fmt.Appendf(nil, `{"pad":%q}`, base64.StdEncoding.EncodeToString(pad))
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 4 {
		if i == 2 && size() > empty {
			t.Fatal("the database file grew before walPokeBytes were committed")
		}
		evs := testEvents(fmt.Sprint("b", i), start, 12)
		for j := range evs {
			evs[j].Raw = raw
		}
		if _, err := s.PutEvents(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	// The checkpointer works on its own goroutine: wait for it, with a
	// bound far above its milliseconds.
	for deadline := time.Now().Add(30 * time.Second); size() <= empty; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is still %d bytes: nothing checkpointed during the load", size())
		}
	}
	if _, err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	if s.wal != nil {
		t.Error("the checkpointer outlived finish")
	}
	if got := walAutoCheckpoint(t, s); got != autoCheckpoint {
		t.Errorf("after the load wal_autocheckpoint = %d, want %d", got, autoCheckpoint)
	}

	// A load left unfinished: Close stops the checkpointer.
	if _, _, err := s.BeginBulkLoad(ctx, 10_000); err != nil {
		t.Fatal(err)
	}
	if s.wal == nil {
		t.Fatal("no checkpointer during the second load")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.wal != nil {
		t.Error("the checkpointer outlived Close")
	}
}

// An in-memory store has no WAL: a bulk load runs without a checkpointer.
func TestBulkLoadInMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, ":memory:", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	finish, bulk, err := s.BeginBulkLoad(ctx, 1000)
	if err != nil || !bulk {
		t.Fatalf("BeginBulkLoad = %v, %v", bulk, err)
	}
	if s.wal != nil {
		t.Error("a checkpointer for an in-memory store")
	}
	if n, err := s.PutEvents(ctx, testEvents("m", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 10)); err != nil || n != 10 {
		t.Fatalf("PutEvents = %d, %v", n, err)
	}
	if _, err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(indexNames(t, s)); got != eventIndexes {
		t.Errorf("after the load %d indexes, want %d", got, eventIndexes)
	}
}

// checkCache fails t unless the writer's cache_size is want.
func checkCache(t *testing.T, s *Store, want int) {
	t.Helper()
	var got int
	if err := s.w.QueryRowContext(context.Background(), "PRAGMA cache_size").Scan(&got); err != nil || got != want {
		t.Errorf("cache_size = %d, %v; want %d", got, err, want)
	}
}

// checkTempStore fails t unless the writer sorts in memory (temp_store 2):
// index builds sort through temporary files, the queries after them in
// memory again.
func checkTempStore(t *testing.T, s *Store) {
	t.Helper()
	var temp int
	if err := s.w.QueryRowContext(context.Background(), "PRAGMA temp_store").Scan(&temp); err != nil || temp != 2 {
		t.Errorf("temp_store = %d, %v; want 2 (memory)", temp, err)
	}
}

// TestSortingToFiles: an index build sorts through files with a small
// cache, and the writer gets its whole cache and in-memory sorts back
// after it, whether or not the build fails.
func TestSortingToFiles(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "db"))
	defer s.Close()
	for _, fail := range []error{nil, errors.New("build failed")} {
		err := s.sortingToFiles(t.Context(), func(ctx context.Context) error {
			checkCache(t, s, -sortCacheKiB)
			var temp int
			if err := s.w.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&temp); err != nil || temp != 1 {
				t.Errorf("temp_store during the build = %d, %v; want 1 (file)", temp, err)
			}
			return fail
		})
		if !errors.Is(err, fail) {
			t.Errorf("sortingToFiles = %v; want %v", err, fail)
		}
		checkCache(t, s, -cacheKiB)
		checkTempStore(t, s)
	}
}
