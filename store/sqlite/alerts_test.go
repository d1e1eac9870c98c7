package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// TestCommitAlertsStatements runs CommitAlerts through the statements it
// keeps for its transaction: hits over several INSERT chunks (two full,
// one short), some stored before and some repeated within the call; a
// group's hits and an alert read twice; one key claimed twice (stored,
// then merged).
func TestCommitAlertsStatements(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "iamwatch.db"))
	defer s.Close()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	hit := func(i int) iamwatch.Hit {
		return iamwatch.Hit{Rule: "burst", Group: fmt.Sprint("g", i%3), EventID: fmt.Sprintf("e%04d", i), Time: t0.Add(time.Duration(i) * time.Second)}
	}
	var before []iamwatch.Hit
	for i := 0; i < 300; i += 7 {
		before = append(before, hit(i))
	}
	if _, err := s.CommitAlerts(ctx, before, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	var batch []iamwatch.Hit
	for i := range 300 {
		batch = append(batch, hit(i))
	}
	batch = append(batch, hit(5), hit(200)) // repeated within the call
	if n := len(batch); n <= 2*hitChunk || n >= 3*hitChunk {
		t.Fatalf("%d hits: want two full chunks and a short one", n)
	}
	claims, err := s.CommitAlerts(ctx, batch, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
		for i := range 300 {
			added, known := v.Added("burst", hit(i).EventID)
			if want := i%7 != 0; !known || added != want {
				t.Errorf("Added(e%04d) = %v, %v; want %v, true", i, added, known, want)
			}
		}
		var counts []int
		for range 2 {
			for _, g := range []string{"g0", "g1", "g2"} {
				hs, err := v.Hits(ctx, "burst", g, t0, t0.Add(time.Hour))
				if err != nil {
					return nil, err
				}
				counts = append(counts, len(hs))
			}
			if _, ok, err := v.Alert(ctx, "burst/g0"); err != nil || ok {
				t.Errorf("Alert(burst/g0) = %v, %v before any claim; want none", ok, err)
			}
		}
		if want := []int{100, 100, 100, 100, 100, 100}; !slices.Equal(counts, want) {
			t.Errorf("hits per group, read twice = %v, want %v", counts, want)
		}
		a := iamwatch.Alert{DedupKey: "burst/g0", Rule: "burst", Time: t0, Count: 50, EventIDs: []string{"e0000"}}
		more := a
		more.Count = 100
		return []iamwatch.Alert{a, more}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(claims) != 2 || !claims[0].New || claims[1].New || claims[1].Alert.Count != 100 {
		t.Fatalf("claims = %+v; want burst/g0 stored, then merged to count 100", claims)
	}
	stored, err := s.Alerts(ctx, iamwatch.AlertFilter{Key: "burst/g0"})
	if err != nil || len(stored) != 1 || stored[0].Count != 100 {
		t.Fatalf("stored alert = %+v, %v; want count 100", stored, err)
	}
}

// TestAlertsByKey: the alerts of the keys asked, by time then key, in one
// read; a key never stored gives nothing.
func TestAlertsByKey(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "iamwatch.db"))
	defer s.Close()
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	var claims []iamwatch.Alert
	for i, k := range []string{"r/b", "r/a", "r/c", "r/d"} {
		claims = append(claims, iamwatch.Alert{DedupKey: k, Rule: "r", Time: t0.Add(time.Duration(i%2) * time.Minute), Count: 1, EventIDs: []string{fmt.Sprint("e", i)}})
	}
	if _, err := s.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return claims, nil }); err != nil {
		t.Fatal(err)
	}
	got, err := s.AlertsByKey(ctx, []string{"r/d", "r/a", "r/missing", "r/b", `r/"quoted'`})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, a := range got {
		keys = append(keys, a.DedupKey)
	}
	// r/b at t0, r/a and r/d a minute later.
	if want := []string{"r/b", "r/a", "r/d"}; !slices.Equal(keys, want) {
		t.Errorf("AlertsByKey = %v, want %v", keys, want)
	}
	if got, err := s.AlertsByKey(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("AlertsByKey(nil) = %v, %v; want none", got, err)
	}
}
