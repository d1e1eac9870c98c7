package query_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/query/querytest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// fixtureDB returns a store file loaded with the querytest fixture.
func fixtureDB(t testing.TB) (*sqlite.Store, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "fixture.db")
	st, err := sqlite.Open(ctx, path, sqlite.Options{Now: querytest.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := querytest.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	return st, path
}

func week() query.Params {
	return query.Params{Since: querytest.Now().Add(-7 * 24 * time.Hour), Until: querytest.Now()}
}

// TestQueriesGolden runs every named query over the fixture and renders it
// in every format.
func TestQueriesGolden(t *testing.T) {
	st, _ := fixtureDB(t)
	ctx := context.Background()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	type variant struct {
		suffix string
		p      func(query.Params) query.Params
		loc    *time.Location
	}
	variants := []variant{{suffix: "", p: func(p query.Params) query.Params { return p }}}
	extra := map[string][]variant{
		"off_hours": {
			{suffix: ".paris", loc: paris, p: func(p query.Params) query.Params { p.Location = paris; return p }},
			{suffix: ".weekends", p: func(p query.Params) query.Params {
				p.Weekends, p.BusinessStart, p.BusinessEnd = true, 8*time.Hour, 18*time.Hour
				return p
			}},
		},
		"hourly_activity": {{suffix: ".paris", loc: paris, p: func(p query.Params) query.Params { p.Location = paris; return p }}},
		"active_users":    {{suffix: ".dev", p: func(p query.Params) query.Params { p.Account = querytest.Dev; return p }}},
		"daily_summary":   {{suffix: ".all", p: func(p query.Params) query.Params { return query.Params{} }}},
		"root_usage":      {{suffix: ".limit1", p: func(p query.Params) query.Params { p.Limit = 1; return p }}},
	}
	for _, q := range query.All() {
		for _, v := range append(variants, extra[q.Name]...) {
			t.Run(q.Name+v.suffix, func(t *testing.T) {
				p := week()
				if q.NeedsUser {
					p.User = "alice"
				}
				p = v.p(p)
				res, err := query.Run(ctx, st.DB(), q.Name, p)
				if err != nil {
					t.Fatal(err)
				}
				if strings.Join(res.Columns, ",") != strings.Join(q.Columns, ",") {
					t.Errorf("columns %v, catalog says %v", res.Columns, q.Columns)
				}
				if len(res.Rows) == 0 {
					t.Errorf("no rows: the fixture should exercise %s", q.Name)
				}
				for _, f := range []query.Format{query.Table, query.JSON, query.CSV} {
					var b bytes.Buffer
					if err := query.Write(&b, res, query.Options{Format: f, Location: v.loc}); err != nil {
						t.Fatal(err)
					}
					golden(t, filepath.Join("results", q.Name+v.suffix+"."+string(f)), b.Bytes())
				}
			})
		}
	}
}

// TestStatementsGolden keeps the expanded SQL of every query in both
// dialects, for review and for whoever runs the Athena text: over events
// (testdata/sql/DIALECT) and, for the queries with one, the SQLite text over
// the roll-ups (testdata/sql/sqlite-rollup), which whole-day bounds select.
func TestStatementsGolden(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	rollups := 0
	for _, q := range query.All() {
		p := week()
		p.User, p.Account, p.Location = "alice", querytest.Prod, paris
		for _, d := range []query.Dialect{query.SQLite, query.Athena} {
			st, err := q.Statement(d, query.WithoutRollup(p))
			if err != nil {
				t.Fatalf("%s %s: %v", q.Name, d, err)
			}
			if strings.Contains(st.SQL, "{{") || strings.Count(st.SQL, "?") != len(st.Args) && d == query.Athena {
				t.Errorf("%s %s: unexpanded macro or argument mismatch:\n%s", q.Name, d, st.SQL)
			}
			golden(t, filepath.Join("sql", d.String(), q.Name+".sql"), []byte(st.Inline()+"\n"))
		}
		p.Since, p.Until = time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC)
		st, err := q.Statement(query.SQLite, p)
		if err != nil {
			t.Fatalf("%s: %v", q.Name, err)
		}
		if !strings.Contains(st.SQL, "rollup_") {
			continue
		}
		rollups++
		if strings.Contains(st.SQL, "{{") || strings.Contains(st.SQL, "FROM events") {
			t.Errorf("%s: unexpanded macro or events read over the roll-up:\n%s", q.Name, st.SQL)
		}
		golden(t, filepath.Join("sql", "sqlite-rollup", q.Name+".sql"), []byte(st.Inline()+"\n"))
	}
	if rollups != 7 {
		t.Errorf("%d queries read the roll-ups, want 7", rollups)
	}
}

func TestRunErrors(t *testing.T) {
	st, _ := fixtureDB(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		p    query.Params
		want string
	}{
		{"nope", query.Params{}, "no such query"},
		{"user_lookup", query.Params{}, "needs a user"},
		{"active_users", query.Params{Since: querytest.Now(), Until: querytest.Now().Add(-time.Hour)}, "empty time range"},
		{"off_hours", query.Params{BusinessStart: 9 * time.Hour, BusinessEnd: 9 * time.Hour}, "business hours"},
	} {
		_, err := query.Run(ctx, st.DB(), tc.name, tc.p)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%s, %+v) = %v, want an error containing %q", tc.name, tc.p, err, tc.want)
		}
	}
}

// TestTimeRange checks the bounds: since inclusive, until exclusive, user
// and account exact.
func TestTimeRange(t *testing.T) {
	st, _ := fixtureDB(t)
	ctx := context.Background()
	at := func(s string) time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	count := func(p query.Params) int {
		p.Limit = -1
		res, err := query.Run(ctx, st.DB(), "root_usage", p)
		if err != nil {
			t.Fatal(err)
		}
		return len(res.Rows)
	}
	for _, tc := range []struct {
		p    query.Params
		want int
	}{
		{query.Params{}, 2},
		{query.Params{Since: at("2026-03-15T03:12:09Z")}, 2},
		{query.Params{Since: at("2026-03-15T03:12:10Z")}, 1},
		{query.Params{Until: at("2026-03-15T03:12:09Z")}, 0},
		{query.Params{Until: at("2026-03-15T03:12:10Z")}, 1},
		{query.Params{Since: at("2026-03-15T03:12:08.5Z")}, 2},
		{query.Params{Account: querytest.Dev}, 0},
		{query.Params{User: "root", Account: querytest.Prod}, 2},
	} {
		if got := count(tc.p); got != tc.want {
			t.Errorf("root_usage %+v: %d rows, want %d", tc.p, got, tc.want)
		}
	}
}

func TestLookupAndList(t *testing.T) {
	names := query.Names()
	if len(names) != 15 {
		t.Errorf("%d queries, want the 15 of the issue: %v", len(names), names)
	}
	seen := map[string]bool{}
	for _, q := range query.All() {
		if seen[q.Name] {
			t.Errorf("duplicate %s", q.Name)
		}
		seen[q.Name] = true
		if q.Description == "" || len(q.Columns) == 0 || q.SQL[query.SQLite] == "" || q.SQL[query.Athena] == "" {
			t.Errorf("%s: incomplete definition", q.Name)
		}
		got, ok := query.Lookup(q.Name)
		if !ok || got.Name != q.Name {
			t.Errorf("Lookup(%s) = %v, %v", q.Name, got.Name, ok)
		}
	}
	// The catalog hands out copies.
	a := query.All()
	a[0].Columns[0] = "changed"
	if query.All()[0].Columns[0] == "changed" {
		t.Error("All shares its slices")
	}
}

// TestLocalTimeAgreesWithGo stores an event every 37 minutes through 2026
// and checks hourly_activity in Europe/Paris (two daylight-saving changes)
// and America/Sao_Paulo (none in 2026) against Go's own conversion, for
// every hour and weekday.
func TestLocalTimeAgreesWithGo(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tz.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var evs []iamwatch.Event
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, tm := 0, start; tm.Year() == 2026; i, tm = i+1, tm.Add(37*time.Minute) {
		evs = append(evs, iamwatch.Event{ID: fmt.Sprint("e", i), Time: tm, UserName: "u", Name: "X"})
	}
	if _, err := st.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, zone := range []string{"Europe/Paris", "America/Sao_Paulo", "Australia/Lord_Howe"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		var want [24][7]int64
		for _, e := range evs {
			lt := e.Time.In(loc)
			want[lt.Hour()][(int(lt.Weekday())+6)%7]++ // Monday first.
		}
		for _, p := range []query.Params{{Location: loc, Limit: -1}, {Location: loc, Limit: -1, Since: start, Until: start.AddDate(1, 0, 0)}} {
			res, err := query.Run(ctx, st.DB(), "hourly_activity", p)
			if err != nil {
				t.Fatal(err)
			}
			var got [24][7]int64
			for _, row := range res.Rows {
				for d := range 7 {
					got[row[0].(int64)][d] = row[4+d].(int64)
				}
			}
			if got != want {
				t.Errorf("%s (since %v): hourly_activity disagrees with Go:\n got %v\nwant %v", zone, p.Since, got, want)
			}
		}
	}
}

// TestRareListingsReadTheirIndexes: root_usage and permission_changes
// find their events through SQLite's partial indexes of them (store/sqlite
// migrate_011.sql), over the whole history or a window, for one account
// or all, rather than walking the time index through every other event.
// (Given a user, they read that user's events by the user index.)
func TestRareListingsReadTheirIndexes(t *testing.T) {
	st, _ := fixtureDB(t)
	window := week()
	window.Account, window.Limit = querytest.Dev, 1
	for name, index := range map[string]string{"root_usage": "events_root_time", "permission_changes": "events_iam_change_time"} {
		q, ok := query.Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		for _, p := range []query.Params{{}, week(), {Account: querytest.Dev}, window} {
			s, err := q.Statement(query.SQLite, p)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := st.DB().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+s.SQL, s.Args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			rows.Close()
			if !strings.Contains(strings.Join(plan, "\n"), "USING INDEX "+index) {
				t.Errorf("%s %+v: plan %q, want %s", name, p, plan, index)
			}
		}
	}
}
