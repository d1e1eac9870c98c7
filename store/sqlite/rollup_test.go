package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// checkRollups compares every roll-up table with a GROUP BY over the events.
func checkRollups(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	read := func(q string) []string {
		rows, err := s.w.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		for rows.Next() {
			v := make([]any, len(cols))
			p := make([]any, len(cols))
			for i := range v {
				p[i] = &v[i]
			}
			if err := rows.Scan(p...); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%#v", v))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tb := range rollupTables {
		order := make([]string, len(tb.key))
		for i := range order {
			order[i] = fmt.Sprint(i + 1)
		}
		by := " ORDER BY " + strings.Join(order, ", ")
		got := read("SELECT " + names(tb.columns()) + " FROM " + tb.name + by)
		want := read(tb.aggregate("") + by)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s (%d rows) differs from the events (%d rows):\n got %s\nwant %s", tb.name, len(got), len(want),
				strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}
}

func rollupRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.w.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// oddRoles are AssumeRole calls whose role only SQLite's JSON functions can
// read: no target_role, roleArn of every JSON type, an escaped key, bad JSON.
func oddRoles(start time.Time) []iamwatch.Event {
	var out []iamwatch.Event
	for i, rp := range []string{
		`{"roleArn":"arn:aws:iam::111122223333:role/a"}`,
		`{"roleArn":"arn:aws:iam::111122223333:role/a","roleSessionName":"x"}`,
		`{"roleArn":5}`, `{"roleArn":5.0}`, `{"roleArn":{"x":1}}`, `{"roleArn":null}`,
		`{"role\u0041rn":"arn:aws:iam::111122223333:role/escaped"}`,
		`{"roleArn":"a","roleArn":"b"}`, `{not json`, ``,
	} {
		e := iamwatch.Event{
			ID: fmt.Sprintf("odd-%d", i), Time: start.Add(time.Duration(i) * time.Minute),
			Source: "sts.amazonaws.com", Name: "AssumeRole", Type: iamwatch.TypeSTS,
			UserName: "odd", AccountID: "111122223333", SourceIP: "192.0.2.1",
		}
		if rp != "" {
			e.RequestParameters = json.RawMessage(rp)
		}
		out = append(out, e)
	}
	return out
}

// TestRollups keeps the roll-ups equal to the events through new events,
// redeliveries (whole batches, mixed chunks, repeats inside a batch), odd
// role ARNs and prunes.
func TestRollups(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db"))
	defer s.Close()
	start := time.Date(2026, 1, 1, 23, 40, 0, 0, time.UTC) // crosses hours and a day.
	a := testEvents("a", start, 2000)
	put := func(evs []iamwatch.Event, want int) {
		t.Helper()
		n, err := s.PutEvents(ctx, evs)
		if err != nil || n != want {
			t.Fatalf("PutEvents(%d events) = %d, %v; want %d new", len(evs), n, err, want)
		}
		checkRollups(t, s)
	}
	put(a, len(a))
	for _, tb := range rollupTables {
		if rollupRows(t, s, tb.name) == 0 {
			t.Errorf("%s is empty", tb.name)
		}
	}
	put(a, 0)

	// Chunks mixing stored and new events, and repeats within the call: the
	// repeat differs (another user) and must not count.
	b := testEvents("b", start.Add(time.Hour), 500)
	var mixed []iamwatch.Event
	for i := range b {
		if i%3 == 0 {
			mixed = append(mixed, a[i])
		}
		mixed = append(mixed, b[i])
		if i%7 == 0 {
			again := b[i]
			again.UserName = "someone-else"
			mixed = append(mixed, again)
		}
	}
	put(mixed, len(b))
	put(oddRoles(start), 10)

	// Cuts inside an hour, on an hour, on a day, and before everything.
	for _, cut := range []time.Time{
		start.Add(90 * time.Second), start.Add(20*time.Minute + 500*time.Millisecond),
		time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), start.Add(-time.Hour), start.Add(80 * time.Minute),
	} {
		if _, _, err := s.Prune(ctx, cut, time.Time{}); err != nil {
			t.Fatal(err)
		}
		checkRollups(t, s)
	}
	if _, _, err := s.Prune(ctx, start.AddDate(1, 0, 0), time.Time{}); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, s)
	for _, tb := range rollupTables {
		if n := rollupRows(t, s, tb.name); n != 0 {
			t.Errorf("%s holds %d rows after every event was pruned", tb.name, n)
		}
	}
}

func TestRollupsBulkLoad(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "db"))
	defer s.Close()
	finish, bulk, err := s.BeginBulkLoad(ctx, 10)
	if err != nil || !bulk {
		t.Fatalf("BeginBulkLoad = %v, %v", bulk, err)
	}
	evs := testEvents("bulk", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 3000)
	for _, part := range [][]iamwatch.Event{evs[:1000], evs[500:2000], evs} {
		if _, err := s.PutEvents(ctx, part); err != nil {
			t.Fatal(err)
		}
	}
	checkRollups(t, s)
	if _, err := finish(ctx); err != nil {
		t.Fatal(err)
	}
	checkRollups(t, s)
}

// An existing version-1 database gets its roll-ups from its events.
func TestRollupMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	if _, err := s.PutEvents(ctx, append(testEvents("m", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), 3000), oddRoles(time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC))...)); err != nil {
		t.Fatal(err)
	}
	for _, tb := range rollupTables {
		if _, err := s.w.Exec("DROP TABLE " + tb.name); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range undoGeo {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for _, col := range []string{"count", "first_seen", "last_seen", "event_id"} { // version 3's
		if _, err := s.w.Exec("ALTER TABLE alerts DROP COLUMN " + col); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.Exec("ALTER TABLE threshold_hits DROP COLUMN value"); err != nil { // version 6's
		t.Fatal(err)
	}
	for _, tb := range []string{"console_users", "console_sessions", "alert_triage"} { // version 5's
		if _, err := s.w.Exec("DROP TABLE " + tb); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.w.Exec("ALTER TABLE deliveries DROP COLUMN severity"); err != nil { // version 4's
		t.Fatal(err)
	}
	if _, err := s.w.Exec("PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openTest(t, path)
	defer s.Close()
	checkRollups(t, s)
	for _, tb := range rollupTables {
		if rollupRows(t, s, tb.name) == 0 {
			t.Errorf("%s was not filled", tb.name)
		}
	}
}
