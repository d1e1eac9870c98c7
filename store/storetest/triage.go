package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// testTriage: a triage state is stored with its alert, read back by key
// and in bulk, replaced by the next, refused for a missing alert or an
// unknown status, survives a merge into the alert, and goes with a pruned
// alert.
func testTriage(t *testing.T, ctx context.Context, s iamwatch.Store) {
	ts, ok := s.(iamwatch.TriageStore)
	if !ok {
		t.Skipf("%T keeps no triage state", s)
	}
	a := iamwatch.Alert{DedupKey: "root-console-signin/t1", Rule: "root-console-signin", Severity: iamwatch.SeverityCritical,
		Title: "t", Summary: "s", Time: at(0), EventIDs: []string{"t1"}, Count: 1}
	commit := func(as ...iamwatch.Alert) {
		t.Helper()
		if _, err := s.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return as, nil }); err != nil {
			t.Fatal(err)
		}
	}
	commit(a)
	if got, err := ts.Triage(ctx, a.DedupKey); err != nil || got.Status != iamwatch.TriageOpen || got.By != "" || !got.At.IsZero() {
		t.Fatalf("untouched alert: %+v %v, want open", got, err)
	}
	if all, err := ts.Triages(ctx); err != nil || len(all) != 0 {
		t.Fatalf("Triages before any: %v %v", all, err)
	}
	when := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC).Add(123 * time.Millisecond)
	for _, want := range []iamwatch.Triage{
		{AlertKey: a.DedupKey, Status: iamwatch.TriageAcknowledged, By: "admin", At: when, Note: "on it"},
		{AlertKey: a.DedupKey, Status: iamwatch.TriageFalsePositive, By: "carol", At: when.Add(time.Hour)}, // the note is cleared.
	} {
		if err := ts.SetTriage(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := ts.Triage(ctx, a.DedupKey)
		if err != nil || got.Status != want.Status || got.By != want.By || got.Note != want.Note || !got.At.Equal(want.At) || got.AlertKey != want.AlertKey {
			t.Errorf("Triage = %+v %v, want %+v", got, err, want)
		}
		all, err := ts.Triages(ctx)
		if g := all[a.DedupKey]; err != nil || len(all) != 1 || g.Status != want.Status || !g.At.Equal(want.At) || g.Note != want.Note {
			t.Errorf("Triages = %+v %v, want only %+v", all, err, want)
		}
	}
	// A later, larger claim of the same alert keeps its triage state.
	merged := a
	merged.Count, merged.Summary = 5, "s, 5 times"
	commit(merged)
	if got, err := ts.Triage(ctx, a.DedupKey); err != nil || got.Status != iamwatch.TriageFalsePositive {
		t.Errorf("triage after a merge: %+v %v, want false_positive", got, err)
	}
	if err := ts.SetTriage(ctx, iamwatch.Triage{AlertKey: "no/such", Status: iamwatch.TriageResolved, By: "x", At: when}); err == nil {
		t.Error("triage of a missing alert stored")
	}
	if err := ts.SetTriage(ctx, iamwatch.Triage{AlertKey: a.DedupKey, Status: "closed", At: when}); err == nil {
		t.Error("an unknown status stored")
	}
	if _, n, err := s.Prune(ctx, time.Time{}, at(1)); err != nil || n != 1 {
		t.Fatalf("Prune: %d %v", n, err)
	}
	if all, err := ts.Triages(ctx); err != nil || len(all) != 0 {
		t.Errorf("Triages after pruning the alert: %v %v", all, err)
	}
}
