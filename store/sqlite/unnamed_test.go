package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// TestDropUnnamed deletes, of the events a read named, those stored after
// the mark that no hit, alert (its event or its sample) or baseline names,
// and keeps the roll-ups equal to the events; during a bulk load too, at
// its finish, before the index builds or, when a roll-up row loses its
// first or last time, after.
func TestDropUnnamed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		bulk, edge bool
	}{{"indexed", false, true}, {"bulk", true, false}, {"bulk, a row's first time goes", true, true}} {
		bulk := tc.bulk
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, filepath.Join(t.TempDir(), "db"))
			defer s.Close()
			start := time.Date(2026, 1, 1, 23, 59, 0, 0, time.UTC) // the events cross an hour and a day
			before := testEvents("old", start, 10)
			if _, err := s.PutEvents(ctx, before); err != nil {
				t.Fatal(err)
			}
			mark, err := s.EventsMark(ctx)
			if err != nil {
				t.Fatal(err)
			}
			finish := func(context.Context) (LoadConflicts, error) { return LoadConflicts{}, nil }
			if bulk {
				var ok bool
				if finish, ok, err = s.BeginBulkLoad(ctx, 100); err != nil || !ok {
					t.Fatalf("BeginBulkLoad = %v, %v", ok, err)
				}
			}
			evs := testEvents("new", start, 120)
			odd := oddRoles(start) // role keys of every JSON type
			// Earlier in the roll-up rows of evs[4], which stays: the rows
			// lose their first time.
			if tc.edge {
				early := evs[4]
				early.ID, early.Time = "early-"+early.ID, early.Time.Add(-30*time.Second)
				odd = append(odd, early)
			}
			if _, err := s.PutEvents(ctx, append(evs, odd...)); err != nil {
				t.Fatal(err)
			}
			hit := iamwatch.Hit{Rule: "r", Group: "g", EventID: evs[1].ID, Time: evs[1].Time}
			sampled := iamwatch.Alert{DedupKey: "k", Rule: "r", Severity: iamwatch.SeverityHigh, Time: evs[2].Time, EventID: evs[2].ID, EventIDs: []string{evs[2].ID, evs[3].ID}}
			if _, err := s.CommitAlerts(ctx, []iamwatch.Hit{hit}, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) {
				return []iamwatch.Alert{sampled}, nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.MergeBaseline(ctx, []iamwatch.BaselineEntry{{Rule: "b", Identity: "i", Value: "v", First: evs[4].Time, FirstEvent: evs[4].ID, Last: evs[4].Time}}); err != nil {
				t.Fatal(err)
			}
			// Named: 1 (a hit), 2 and 3 (an alert), 4 (a baseline); stored
			// before the mark: old-0; not stored: missing; the rest go.
			named := map[string]time.Time{"missing": start, before[0].ID: before[0].Time}
			for _, e := range append(evs[1:], odd...) {
				named[e.ID] = e.Time
			}
			gone, err := s.DropUnnamed(ctx, mark, named)
			if err != nil {
				t.Fatal(err)
			}
			// A bulk load's finish deletes them, once the indexes are built.
			if bulk && len(gone) != 0 {
				t.Errorf("DropUnnamed during a bulk load deleted %d rows at once", len(gone))
			}
			dropped, err := finish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if gone = append(gone, dropped.Unnamed...); dropped.N != 0 {
				t.Errorf("finish = %+v: no conflicts here", dropped)
			}
			var want []string
			for _, e := range append(evs[5:], odd...) {
				want = append(want, e.ID)
			}
			slices.Sort(gone)
			slices.Sort(want)
			if !slices.Equal(gone, want) {
				t.Errorf("deleted %d events %q, want the %d %q", len(gone), gone, len(want), want)
			}
			for i, e := range append([]iamwatch.Event{before[0]}, evs[:6]...) {
				_, ok, err := s.StoredEvent(ctx, e.ID)
				if err != nil {
					t.Fatal(err)
				}
				if want := i < 6; ok != want {
					t.Errorf("%s stored: %v, want %v", e.ID, ok, want)
				}
			}
			checkRollups(t, s)
			if gone, err := s.DropUnnamed(ctx, mark, named); err != nil || len(gone) != 0 {
				t.Errorf("DropUnnamed again = %q, %v; want none", gone, err)
			}
		})
	}
}
