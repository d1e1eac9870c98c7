package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/storetest"
)

func openTest(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) iamwatch.Store {
			return openTest(t, filepath.Join(t.TempDir(), "iamwatch.db"))
		})
	})
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) iamwatch.Store { return openTest(t, ":memory:") })
	})
}

func TestSchemaColumns(t *testing.T) {
	s := openTest(t, ":memory:")
	defer s.Close()
	want := map[string][]string{
		"events": append(slices.Clone(iamwatch.Columns), "category", "invoked_by", "target_role", "raw", "country", "asn", "as_org", "source_ip_key"),
		"alerts": {"id", "dedup_key", "rule", "severity", "severity_name", "title", "summary", "action", "time",
			"account_id", "region", "user_name", "source_ip", "event_name", "event_ids", "grp",
			"window_start", "window_end", "tags", "refs", "created_at", "count", "first_seen", "last_seen", "event_id",
			"country", "asn", "as_org"},
		"baselines":      {"rule", "identity", "value", "first_time", "first_event", "last_time"},
		"threshold_hits": {"rule", "grp", "event_id", "time", "value"},
		"deliveries":     {"alert_key", "sink", "status", "attempts", "next_try", "last_error", "sent_at", "severity"},
		"checkpoints":    {"key", "position", "event_time", "last_run", "processed", "status", "last_error"},
	}
	for table, cols := range want {
		got := queryStrings(t, s.DB(), "SELECT name FROM pragma_table_xinfo(?) ORDER BY cid", table)
		if !slices.Equal(got, cols) {
			t.Errorf("%s columns:\n got %v\nwant %v", table, got, cols)
		}
	}
	if idx, want := indexNames(t, s), []string{"events_event_id", "events_iam_change_time", "events_ip_time", "events_name_time", "events_root_time", "events_time", "events_user_time"}; !slices.Equal(idx, want) {
		t.Errorf("events indexes = %v, want %v", idx, want)
	}
}

func TestFilePragmas(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamwatch.db")
	s := openTest(t, path)
	defer s.Close()
	for _, tt := range []struct {
		db     *sql.DB
		pragma string
		want   string
	}{
		{s.w, "journal_mode", "wal"}, {s.w, "synchronous", "1"}, {s.w, "foreign_keys", "1"},
		{s.w, "auto_vacuum", "2"}, {s.w, "page_size", "16384"}, {s.w, "user_version", fmt.Sprint(len(migrations))},
		{s.r, "query_only", "1"}, {s.r, "journal_mode", "wal"},
	} {
		var got string
		if err := tt.db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %s, want %s", tt.pragma, got, tt.want)
		}
	}
	if _, err := s.DB().Exec("DELETE FROM events"); err == nil {
		t.Error("DB() accepted a write")
	}
}

func TestMigrateIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamwatch.db")
	s := openTest(t, path)
	if _, err := s.PutEvents(t.Context(), testEvents("m", time.Unix(1.7e9, 0), 3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for range 2 { // reopening migrates nothing and keeps the data.
		s = openTest(t, path)
		if got, err := s.Events(t.Context(), EventFilter{}); err != nil || len(got) != 3 {
			t.Fatalf("after reopen: %d events, %v", len(got), err)
		}
		s.Close()
	}
	// A newer schema than this program knows is refused, not clobbered.
	s = openTest(t, path)
	if _, err := s.w.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(t.Context(), path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: err = %v, want a 'newer' error", err)
	}
}

func TestEventRoundTrip(t *testing.T) {
	s := openTest(t, ":memory:")
	defer s.Close()
	ctx := t.Context()
	evs := testEvents("rt", time.Date(2024, 3, 1, 23, 59, 58, 0, time.UTC), 8)
	evs[0].Raw = nil                                             // no raw record: NULL, back as nil.
	evs[1].RequestParameters, evs[1].ResponseElements = nil, nil // no JSON: NULL, back as nil.
	evs[2].UserAgent = "curl/8 \x1b[31m<script>alert(1)</script> ' \"; DROP TABLE events; --"
	evs[3].Raw = json.RawMessage(strings.Repeat(`{"k":"`+strings.Repeat("x", 1000)+`"}`, 1)) // compressible
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, want := range evs {
		got, err := s.Event(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC {
			t.Errorf("%s: time %v, want %v UTC", want.ID, got.Time, want.Time)
		}
		got.Time = want.Time
		if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
			t.Errorf("%s round trip:\n got %s\nwant %s", want.ID, g, w)
		}
	}
	// Raw is stored compressed, not as is.
	var rawLen, n int
	if err := s.DB().QueryRow("SELECT length(raw) FROM events WHERE event_id = ?", evs[3].ID).Scan(&rawLen); err != nil {
		t.Fatal(err)
	}
	if rawLen >= len(evs[3].Raw)/2 {
		t.Errorf("raw stored in %d bytes for a %d-byte record: not compressed", rawLen, len(evs[3].Raw))
	}
	// Text columns hold '' for empty, JSON columns NULL.
	if err := s.DB().QueryRow(`SELECT count(*) FROM events WHERE event_id = ? AND invoked_by = '' AND mfa_used = ''
		AND request_parameters IS NULL AND response_elements IS NULL`, evs[1].ID).Scan(&n); err != nil || n != 1 {
		t.Errorf("event without JSON: '' text and NULL JSON columns: %d rows, %v; want 1", n, err)
	}
	var date, tm string
	if err := s.DB().QueryRow("SELECT event_date, event_time FROM events WHERE event_id = ?", evs[2].ID).Scan(&date, &tm); err != nil {
		t.Fatal(err)
	}
	if date != "2024-03-02" || tm != "2024-03-02T00:00:00Z" {
		t.Errorf("event_date, event_time = %s, %s; want 2024-03-02, 2024-03-02T00:00:00Z", date, tm)
	}
	if _, err := s.Event(ctx, "nope"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Event(nope) err = %v, want not found", err)
	}
}

func TestPutEventsRefusesInvalid(t *testing.T) {
	s := openTest(t, ":memory:")
	defer s.Close()
	evs := testEvents("bad", time.Unix(1.7e9, 0), 3)
	evs[1].ID = ""
	if _, err := s.PutEvents(t.Context(), evs); err == nil {
		t.Fatal("PutEvents accepted an event without ID")
	}
	if got, _ := s.Events(t.Context(), EventFilter{}); len(got) != 0 {
		t.Errorf("a refused batch stored %d events", len(got))
	}
}

func TestEventsFilter(t *testing.T) {
	s := openTest(t, ":memory:")
	defer s.Close()
	ctx := t.Context()
	start := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	evs := testEvents("f", start, 40) // one a second; kinds cycle every 4, users every 50.
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	ids := func(pred func(i int, e iamwatch.Event) bool) []string {
		var out []string
		for i, e := range evs {
			if pred(i, e) {
				out = append(out, e.ID)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"all", EventFilter{}, ids(func(int, iamwatch.Event) bool { return true })},
		{"since until", EventFilter{Since: start.Add(10 * time.Second), Until: start.Add(13 * time.Second)}, ids(func(i int, _ iamwatch.Event) bool { return i >= 10 && i < 13 })},
		{"sub-second since", EventFilter{Since: start.Add(10*time.Second + 1)}, ids(func(i int, _ iamwatch.Event) bool { return i >= 11 })},
		{"user", EventFilter{UserName: "user7"}, ids(func(_ int, e iamwatch.Event) bool { return e.UserName == "user7" })},
		{"name", EventFilter{EventName: "ConsoleLogin"}, ids(func(_ int, e iamwatch.Event) bool { return e.Name == "ConsoleLogin" })},
		{"source", EventFilter{EventSource: "sts.amazonaws.com"}, ids(func(_ int, e iamwatch.Event) bool { return e.Source == "sts.amazonaws.com" })},
		{"account", EventFilter{AccountID: "444455556666"}, ids(func(_ int, e iamwatch.Event) bool { return e.AccountID == "444455556666" })},
		{"region", EventFilter{Region: "eu-west-1"}, nil},
		{"source ip", EventFilter{SourceIP: "203.0.113.5"}, []string{evs[5].ID}},
		{"source net", EventFilter{SourceNet: netip.MustParsePrefix("203.0.113.5/32")}, []string{evs[5].ID}},
		{"errors", EventFilter{ErrorsOnly: true, Limit: 3}, ids(func(i int, e iamwatch.Event) bool { return e.ErrorCode != "" && i < 7 })},
		{"newest first", EventFilter{NewestFirst: true, Limit: 2}, []string{evs[39].ID, evs[38].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Events(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, e := range got {
				gotIDs = append(gotIDs, e.ID)
				if e.Raw != nil {
					t.Errorf("%s: Raw read without asking", e.ID)
				}
			}
			if !slices.Equal(gotIDs, tt.want) {
				t.Errorf("Events(%+v) = %v, want %v", tt.f, gotIDs, tt.want)
			}
		})
	}
	got, err := s.Events(ctx, EventFilter{Raw: true, Limit: 1})
	if err != nil || len(got) != 1 || string(got[0].Raw) != string(evs[0].Raw) {
		t.Errorf("Events(Raw) = %v: raw not returned", err)
	}
	// Stopping an iteration early releases the connection (memory store: the only one).
	for _, err := range s.EventsSeq(ctx, EventFilter{}) {
		if err != nil {
			t.Fatal(err)
		}
		break
	}
	if _, err := s.Event(ctx, evs[0].ID); err != nil {
		t.Errorf("after an early break: %v", err)
	}
}

func TestClaimAlertStoredForm(t *testing.T) {
	now := time.Date(2024, 5, 1, 8, 0, 0, 123, time.UTC)
	s, err := Open(t.Context(), ":memory:", Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := iamwatch.Alert{DedupKey: "k", Rule: "root-login", Severity: iamwatch.SeverityHigh, Time: time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC), EventIDs: []string{"e1"}}
	if _, err := iamwatch.ClaimAlert(t.Context(), s, a); err != nil {
		t.Fatal(err)
	}
	a.EventIDs, a.Count = []string{"e1", "e2", "e2"}, 2
	if _, err := iamwatch.ClaimAlert(t.Context(), s, a); err != nil {
		t.Fatal(err)
	}
	var sevName, ids, created, tags string
	var count int
	if err := s.DB().QueryRow("SELECT severity_name, event_ids, created_at, tags, count FROM alerts").Scan(&sevName, &ids, &created, &tags, &count); err != nil {
		t.Fatal(err)
	}
	if sevName != "high" || ids != `["e1","e2"]` || created != "2024-05-01T08:00:00.000000123Z" || tags != "[]" || count != 2 {
		t.Errorf("stored severity_name, event_ids, created_at, tags, count = %s, %s, %s, %s, %d", sevName, ids, created, tags, count)
	}
	if _, err := iamwatch.ClaimAlert(t.Context(), s, iamwatch.Alert{Rule: "x"}); err == nil {
		t.Error("ClaimAlert accepted an empty dedup key")
	}
}

func TestEnqueueUnknownAlert(t *testing.T) {
	s := openTest(t, ":memory:")
	defer s.Close()
	if err := s.Enqueue(t.Context(), "never-claimed", []string{"slack"}, time.Now()); err == nil {
		t.Error("Enqueue of an unclaimed alert succeeded")
	}
	err := s.UpdateDelivery(t.Context(), iamwatch.Delivery{AlertKey: "x", Sink: "slack", Status: iamwatch.DeliverySent})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("UpdateDelivery of a missing delivery: %v, want not found", err)
	}
}

func TestPruneCompacts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamwatch.db")
	s := openTest(t, path)
	defer s.Close()
	ctx := t.Context()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 10 {
		if _, err := s.PutEvents(ctx, testEvents(fmt.Sprint("p", i), start.Add(time.Duration(i)*time.Hour), 1000)); err != nil {
			t.Fatal(err)
		}
	}
	pages := func() (count, free int) {
		if err := s.w.QueryRow("PRAGMA page_count").Scan(&count); err != nil {
			t.Fatal(err)
		}
		if err := s.w.QueryRow("PRAGMA freelist_count").Scan(&free); err != nil {
			t.Fatal(err)
		}
		return
	}
	before, _ := pages()
	n, _, err := s.Prune(ctx, start.Add(9*time.Hour), time.Time{})
	if err != nil || n != 9000 {
		t.Fatalf("Prune = %d, %v; want 9000", n, err)
	}
	after, free := pages()
	if after > before/3 || free > 0 {
		t.Errorf("after pruning 90%%: %d pages (was %d), %d free; want the file to shrink", after, before, free)
	}
	fi, err := os.Stat(path + "-wal")
	if err == nil && fi.Size() > 0 {
		t.Errorf("WAL is %d bytes after prune, want truncated", fi.Size())
	}
	if got, _ := s.Events(ctx, EventFilter{}); len(got) != 1000 {
		t.Errorf("%d events left, want 1000", len(got))
	}
}

func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "iamwatch.db")
	s := openTest(t, path)
	if _, err := s.PutEvents(t.Context(), testEvents("ro", time.Unix(1.7e9, 0), 5)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := OpenReadOnly(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 3) SELECT count(*) FROM events, c").Scan(&n); err != nil || n != 15 {
		t.Errorf("read query = %d, %v; want 15", n, err)
	}
	for _, q := range []string{
		"DELETE FROM events",
		"UPDATE events SET user_name = 'x'",
		"INSERT INTO checkpoints (key) VALUES ('x')",
		"DROP TABLE events",
		"CREATE TABLE t (x)",
		"CREATE TEMP TABLE t (x)",
		"ATTACH DATABASE '" + filepath.Join(dir, "other.db") + "' AS o",
		"PRAGMA query_only = 0",
		"PRAGMA writable_schema = 1",
		"VACUUM",
	} {
		if _, err := db.Exec(q); err == nil {
			t.Errorf("read-only database accepted %q", q)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "other.db")); err == nil {
		t.Error("ATTACH created a file")
	}
	if _, err := OpenReadOnly(t.Context(), filepath.Join(dir, "missing.db")); err == nil {
		t.Error("OpenReadOnly of a missing file succeeded")
	}
}

// TestTwoHandles: two Stores on one file, writing at once, agree.
func TestTwoHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "iamwatch.db")
	a, b := openTest(t, path), openTest(t, path)
	defer a.Close()
	defer b.Close()
	ctx := t.Context()
	evs := testEvents("two", time.Unix(1.7e9, 0), 2000)
	type result struct {
		events, claimed int
		err             error
	}
	run := func(s *Store, order int) chan result {
		ch := make(chan result, 1)
		go func() {
			var r result
			defer func() { ch <- r }()
			for i := range 20 {
				j := i
				if order == 1 {
					j = 19 - i
				}
				batch := evs[j*100 : (j+1)*100]
				n, err := s.PutEvents(ctx, batch)
				if err != nil {
					r.err = err
					return
				}
				r.events += n
				g := fmt.Sprint("g", j%5)
				hit := iamwatch.Hit{Rule: "r", Group: g, EventID: batch[0].ID, Time: batch[0].Time}
				claims, err := s.CommitAlerts(ctx, []iamwatch.Hit{hit}, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
					hs, err := v.Hits(ctx, "r", g, time.Time{}, time.Unix(2e9, 0))
					if err != nil {
						return nil, err
					}
					return []iamwatch.Alert{{DedupKey: fmt.Sprint("k", j%5), Rule: "r", Group: g, Time: batch[0].Time, Count: len(hs), EventIDs: []string{batch[0].ID}}}, nil
				})
				if err != nil {
					r.err = err
					return
				}
				if claims[0].New {
					r.claimed++
				}
			}
		}()
		return ch
	}
	ca, cb := run(a, 0), run(b, 1)
	ra, rb := <-ca, <-cb
	if ra.err != nil || rb.err != nil {
		t.Fatal(ra.err, rb.err)
	}
	if got := ra.events + rb.events; got != len(evs) {
		t.Errorf("inserted %d + %d = %d events, want %d", ra.events, rb.events, got, len(evs))
	}
	if got := ra.claimed + rb.claimed; got != 5 {
		t.Errorf("claimed %d alerts, want 5", got)
	}
	for i := range 5 {
		if hs, err := a.Hits(ctx, "r", fmt.Sprint("g", i), time.Time{}, time.Unix(2e9, 0)); err != nil || len(hs) != 4 {
			t.Errorf("group g%d: %d hits, %v; want 4", i, len(hs), err)
		}
	}
	for _, s := range []*Store{a, b} {
		got, err := s.Events(ctx, EventFilter{})
		if err != nil || len(got) != len(evs) {
			t.Errorf("a handle sees %d events, %v; want %d", len(got), err, len(evs))
		}
		as, err := s.Alerts(ctx, iamwatch.AlertFilter{})
		if err != nil || len(as) != 5 {
			t.Fatalf("a handle sees %d alerts, %v", len(as), err)
		}
		for _, al := range as {
			if al.Count != 4 {
				t.Errorf("alert %s counts %d events, want 4 (the last claim sees both handles' hits)", al.DedupKey, al.Count)
			}
		}
	}
}

// Migration 4 gives existing deliveries their alert's severity: a delivery
// sent before the upgrade is not sent again by the next enqueue.
func TestDeliverySeverityMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	a := iamwatch.Alert{DedupKey: "k", Rule: "r", Severity: iamwatch.SeverityHigh, Time: time.Date(2024, 5, 1, 7, 0, 0, 0, time.UTC), EventIDs: []string{"e1"}}
	if _, err := iamwatch.ClaimAlert(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := s.Enqueue(ctx, "k", []string{"slack"}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: "k", Severity: iamwatch.SeverityHigh, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, SentAt: now}); err != nil {
		t.Fatal(err)
	}
	qs := append(slices.Clone(undoGeo), "ALTER TABLE threshold_hits DROP COLUMN value", // version 7's
		"DROP TABLE console_users", "DROP TABLE console_sessions", "DROP TABLE alert_triage", // version 5's
		"ALTER TABLE deliveries DROP COLUMN severity", "PRAGMA user_version = 3")
	for _, q := range qs {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, path)
	defer s.Close()
	if err := s.Enqueue(ctx, "k", []string{"slack"}, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Deliveries(ctx, "k")
	if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent || ds[0].Severity != iamwatch.SeverityHigh {
		t.Errorf("after the migration and a re-enqueue: %+v, %v; want sent at high", ds, err)
	}
}

// TestHitValueMigration: hits recorded before version 7 read back with no
// value, and new hits keep theirs.
func TestHitValueMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	qs := append(slices.Clone(undoGeo), "ALTER TABLE threshold_hits DROP COLUMN value", "PRAGMA user_version = 6",
		"INSERT INTO threshold_hits (rule, grp, event_id, time) VALUES ('r', 'g', 'old', '2024-05-01T08:00:00Z')")
	for _, q := range qs {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, path)
	defer s.Close()
	at := time.Date(2024, 5, 1, 8, 0, 1, 0, time.UTC)
	if _, err := s.CommitAlerts(ctx, []iamwatch.Hit{{Rule: "r", Group: "g", EventID: "new", Time: at, Value: "v"}},
		func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	hs, err := s.Hits(ctx, "r", "g", at.Add(-time.Hour), at)
	if err != nil || len(hs) != 2 || hs[0].Value != "" || hs[1].Value != "v" {
		t.Errorf("Hits after the migration = %+v, %v; want old with no value, new with v", hs, err)
	}
}

// undoGeo takes a database back from migrate_008.sql (GeoIP, baselines),
// and from the versions after it.
var undoGeo = append(slices.Clone(undoSourceIP), "DROP TABLE baselines",
	"ALTER TABLE events DROP COLUMN country", "ALTER TABLE events DROP COLUMN asn", "ALTER TABLE events DROP COLUMN as_org",
	"ALTER TABLE alerts DROP COLUMN country", "ALTER TABLE alerts DROP COLUMN asn", "ALTER TABLE alerts DROP COLUMN as_org")

// TestEventInsertCallsNoFunction: the INSERT of events runs no SQL
// function. A call in a partial index's condition (or a CHECK, an index
// expression, a generated column) may abort the statement half-way, so
// SQLite keeps a statement journal for every multi-row INSERT, copying
// each page it touches (migrate_012.sql). The opcodes are read from the
// INSERT's program, for each kind of database the store opens.
func TestEventInsertCallsNoFunction(t *testing.T) {
	for _, path := range []string{filepath.Join(t.TempDir(), "t.db"), ":memory:"} {
		s := openTest(t, path)
		defer s.Close()
		var opcodes []string
		err := eachRow(context.Background(), s.w, "EXPLAIN "+insertEvents(2), make([]any, 2*insertColumnCount), func(rows *sql.Rows) error {
			cols, err := rows.Columns()
			if err != nil {
				return err
			}
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			opcodes = append(opcodes, fmt.Sprint(vals[1]))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(opcodes, "IdxInsert") {
			t.Fatalf("%s: the INSERT's program has no IdxInsert (%d opcodes): not the program of an insert into indexed events?", path, len(opcodes))
		}
		for _, op := range opcodes {
			if op == "Function" || op == "PureFunc" {
				t.Errorf("%s: the INSERT of events calls a function (%s): a condition of an index calls one? %v", path, op, queryStrings(t, s.w, "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql LIKE '%WHERE%'"))
				break
			}
		}
	}
}
