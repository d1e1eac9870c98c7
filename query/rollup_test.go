package query_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/sample"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/query/querytest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// sampleEvents decodes the generated sample over days days.
func sampleEvents(t testing.TB, days int) []iamwatch.Event {
	t.Helper()
	var out []iamwatch.Event
	for _, r := range sample.Generate(sample.Options{Days: days}) {
		if r.Shape == sample.ShapeBroken {
			continue
		}
		e, err := cloudtrail.DecodeRecord(r.AppendJSON(nil))
		if err != nil {
			continue // Insights and the like.
		}
		out = append(out, e)
	}
	return out
}

// rollupParams are parameter sets of every kind: whole history, bounds on
// days and hours (roll-up) or not (events), one user or account, time zones
// with whole-hour offsets (roll-up) and without (events).
func rollupParams(t *testing.T, users []string, accounts []string, day time.Time) map[string]query.Params {
	t.Helper()
	zone := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	ps := map[string]query.Params{
		"all":        {},
		"days":       {Since: day.AddDate(0, 0, -2), Until: day.AddDate(0, 0, 1)},
		"since-day":  {Since: day},
		"until-day":  {Until: day},
		"hours":      {Since: day.Add(-5 * time.Hour), Until: day.Add(13 * time.Hour)},
		"unaligned":  {Since: day.Add(-5*time.Hour - 17*time.Minute), Until: day.Add(13*time.Hour + time.Second)},
		"paris":      {Location: zone("Europe/Paris")},
		"kolkata":    {Location: zone("Asia/Kolkata")},
		"lord-howe":  {Location: zone("Australia/Lord_Howe")},
		"paris-days": {Location: zone("Europe/Paris"), Since: day.AddDate(0, 0, -1), Until: day.AddDate(0, 0, 1)},
		"limit-2":    {Limit: 2},
	}
	for _, u := range users {
		ps["user-"+u] = query.Params{User: u}
	}
	for _, a := range accounts {
		ps["account-"+a] = query.Params{Account: a}
		ps["account-days-"+a] = query.Params{Account: a, Since: day.AddDate(0, 0, -1), Until: day.AddDate(0, 0, 1)}
	}
	return ps
}

// compareRollups runs every query with every parameter set both ways,
// over the roll-ups (where they apply) and over events, and wants the same
// answer. It returns how many runs read a roll-up.
func compareRollups(t *testing.T, db *storeDB, ps map[string]query.Params) int {
	t.Helper()
	ctx := context.Background()
	used := 0
	for _, q := range query.All() {
		for name, p := range ps {
			if q.NeedsUser && p.User == "" {
				p.User = "alice"
			}
			if p.Limit == 0 {
				p.Limit = -1
			}
			a, err := q.Statement(query.SQLite, p)
			if err != nil {
				t.Fatalf("%s %s: %v", q.Name, name, err)
			}
			if e, _ := q.Statement(query.SQLite, query.WithoutRollup(p)); a.SQL == e.SQL {
				continue // the same text both ways (Run may narrow the zone's span; not the choice of text).
			}
			used++
			got, err := query.Run(ctx, db.DB(), q.Name, p)
			if err != nil {
				t.Fatalf("%s %s: %v", q.Name, name, err)
			}
			want, err := query.Run(ctx, db.DB(), q.Name, query.WithoutRollup(p))
			if err != nil {
				t.Fatalf("%s %s over events: %v", q.Name, name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: the roll-up answers\n%s\nthe events answer\n%s", q.Name, name, dump(got), dump(want))
			}
		}
	}
	return used
}

func dump(r *query.Result) string {
	var b strings.Builder
	for _, row := range r.Rows {
		fmt.Fprintf(&b, "  %#v\n", row)
	}
	fmt.Fprintf(&b, "  (%d rows, truncated %v)", len(r.Rows), r.Truncated)
	return b.String()
}

type storeDB = sqlite.Store

// realShapedEvents returns the events realShaped delivers, redeliveries included.
func realShapedEvents(t testing.TB, n int) []iamwatch.Event {
	t.Helper()
	var out []iamwatch.Event
	if err := realShaped(n, func(e iamwatch.Event) error { out = append(out, e); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRollupsAgree checks that the queries answer the same from the
// roll-ups as from the events, over the fixture and the generated sample,
// after redeliveries and after prunes.
func TestRollupsAgree(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		events   []iamwatch.Event
		users    []string
		accounts []string
		day      time.Time
	}{
		{"fixture", querytest.Events(), []string{"alice", "bob", "root", "ci/build-42"}, []string{querytest.Prod, querytest.Dev}, time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC)},
		{"sample", sampleEvents(t, 3), []string{"alice", "root", "HIDDEN_DUE_TO_SECURITY_REASONS"}, []string{sample.AccountMain, sample.AccountDev}, sample.DefaultStart.AddDate(0, 0, 2)},
		{"real-shaped", realShapedEvents(t, 2500), []string{"alice", "legacy-batch/i-0000000000abc001", "s3.amazonaws.com"}, []string{sample.AccountMain, sample.AccountDev}, historyStart.AddDate(0, 0, 45)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{Now: querytest.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// In batches, each redelivering part of the one before.
			evs := tc.events
			for i := 0; i < len(evs); i += 40 {
				if _, err := st.PutEvents(ctx, evs[max(0, i-15):min(len(evs), i+40)]); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := st.PutEvents(ctx, evs); err != nil || n != 0 {
				t.Fatalf("redelivering everything stored %d, %v", n, err)
			}
			if err := querytest.Load(ctx, st); err != nil {
				t.Fatal(err)
			}
			ps := rollupParams(t, tc.users, tc.accounts, tc.day)
			if used := compareRollups(t, st, ps); used < len(ps) {
				t.Errorf("only %d runs read a roll-up", used)
			}
			// Prune inside a day and an hour, then again on a day.
			cut := tc.day.Add(-20*time.Hour - 7*time.Minute - 3*time.Second)
			if _, _, err := st.Prune(ctx, cut, time.Time{}); err != nil {
				t.Fatal(err)
			}
			compareRollups(t, st, ps)
			if _, _, err := st.Prune(ctx, tc.day, time.Time{}); err != nil {
				t.Fatal(err)
			}
			compareRollups(t, st, ps)
		})
	}
}
