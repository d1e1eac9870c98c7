package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"
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

// The bulk-load list of indexes is the schema's.
func TestSecondaryIndexes(t *testing.T) {
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	want := append(slices.Clone(secondaryIndexNames), "events_event_id")
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
	if got := indexNames(t, s); !slices.Equal(got, []string{"events_event_id"}) {
		t.Errorf("during the load the indexes are %v, want only the unique one", got)
	}
	evs := testEvents("bulk", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 50)
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 50 {
		t.Fatalf("PutEvents = %d, %v", n, err)
	}
	if n, err := s.PutEvents(ctx, evs); err != nil || n != 0 {
		t.Fatalf("PutEvents again during the load = %d, %v; the unique index must stay", n, err)
	}
	if err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(indexNames(t, s)); got != 5 {
		t.Errorf("after the load %d indexes, want 5", got)
	}

	// Now the store holds 50 rows: a bulk load with a bound of 10 does nothing.
	_, bulk, err = s.BeginBulkLoad(ctx, 10)
	if err != nil || bulk {
		t.Errorf("BeginBulkLoad on a full store = %v, %v; want no bulk mode", bulk, err)
	}
	if got := len(indexNames(t, s)); got != 5 {
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
	if got := len(indexNames(t, s)); got != 5 {
		t.Errorf("after reopening an interrupted bulk load: %d indexes, want 5", got)
	}
}

// StoredEvents finds stored events by ID across several statements
// (storedChunk IDs each), with the fields that identify an event, and
// leaves out the IDs nothing was stored under.
func TestStoredEventsReadsIdentityInChunks(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "t.db"))
	evs := testEvents("se", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), storedChunk+40)
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range evs {
		ids = append(ids, evs[i].ID)
		if i%7 == 0 {
			ids = append(ids, "missing-"+evs[i].ID)
		}
	}
	got, err := s.StoredEvents(ctx, ids)
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
