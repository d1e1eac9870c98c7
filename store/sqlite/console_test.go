package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func TestTriageStored(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c.db"))
	defer s.Close()
	a := iamwatch.Alert{DedupKey: "root-console-signin/e1", Rule: "root-console-signin", Severity: iamwatch.SeverityCritical,
		Time: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), EventIDs: []string{"e1"}}
	if _, err := s.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return []iamwatch.Alert{a}, nil }); err != nil {
		t.Fatal(err)
	}
	if tr, err := s.Triage(ctx, a.DedupKey); err != nil || tr.Status != iamwatch.TriageOpen || tr.By != "" {
		t.Fatalf("untouched alert: %+v %v, want open", tr, err)
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 123, time.UTC)
	for _, st := range []iamwatch.TriageStatus{iamwatch.TriageAcknowledged, iamwatch.TriageFalsePositive} {
		want := iamwatch.Triage{AlertKey: a.DedupKey, Status: st, By: "admin", At: at, Note: "<b>it's us</b>"}
		if err := s.SetTriage(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := s.Triage(ctx, a.DedupKey)
		if err != nil || got != want {
			t.Errorf("Triage = %+v %v, want %+v", got, err, want)
		}
		all, err := s.Triages(ctx)
		if err != nil || len(all) != 1 || all[a.DedupKey] != want {
			t.Errorf("Triages = %+v %v", all, err)
		}
	}
	if err := s.SetTriage(ctx, iamwatch.Triage{AlertKey: "no/such", Status: iamwatch.TriageResolved}); !errors.Is(err, ErrNotFound) {
		t.Errorf("triage of a missing alert: %v, want ErrNotFound", err)
	}
	if err := s.SetTriage(ctx, iamwatch.Triage{AlertKey: a.DedupKey, Status: "closed"}); err == nil {
		t.Error("an unknown status was stored")
	}
}

func TestConsoleSessions(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c.db"))
	defer s.Close()
	if has, err := s.HasUsers(ctx); err != nil || has {
		t.Fatalf("HasUsers on a new store: %v %v", has, err)
	}
	if _, err := s.PasswordHash(ctx, "admin"); !errors.Is(err, ErrNotFound) {
		t.Errorf("PasswordHash of nobody: %v", err)
	}
	for _, h := range []string{"h1", "h2"} {
		if err := s.PutUser(ctx, "admin", h); err != nil {
			t.Fatal(err)
		}
		if got, err := s.PasswordHash(ctx, "admin"); err != nil || got != h {
			t.Errorf("PasswordHash = %q %v, want %q", got, err, h)
		}
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	live := Session{IDHash: "live", UserName: "admin", CSRF: "c1", Created: now, Expires: now.Add(time.Hour)}
	old := Session{IDHash: "old", UserName: "admin", CSRF: "c2", Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}
	for _, ss := range []Session{live, old} {
		if err := s.PutSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Session(ctx, "live"); err != nil || got != live {
		t.Errorf("Session = %+v %v, want %+v", got, err, live)
	}
	// A session with a fixed role (OIDC) keeps it, whatever the account
	// of the same name says; a session of a missing account without one
	// is read-only.
	for _, ss := range []Session{
		{IDHash: "oidc-admin", UserName: "admin", CSRF: "c3", ReadOnly: true, FixedRole: true, Created: now, Expires: now.Add(time.Hour)},
		{IDHash: "oidc-rw", UserName: "bob@example.com", CSRF: "c4", ReadOnly: false, FixedRole: true, Created: now, Expires: now.Add(time.Hour)},
		{IDHash: "nobody", UserName: "carol", CSRF: "c5", Created: now, Expires: now.Add(time.Hour)},
	} {
		if err := s.PutSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		want := ss
		want.ReadOnly = ss.ReadOnly || !ss.FixedRole
		if got, err := s.Session(ctx, ss.IDHash); err != nil || got != want {
			t.Errorf("Session = %+v %v, want %+v", got, err, want)
		}
	}
	// Deleting one session also drops the expired ones.
	if err := s.DeleteSession(ctx, "nothing", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "old"); !errors.Is(err, ErrNotFound) {
		t.Errorf("expired session kept: %v", err)
	}
	if err := s.DeleteSession(ctx, "live", now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, "live"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted session kept: %v", err)
	}
}

// TestTriagePrunedWithAlert: pruning an alert drops its triage state too.
func TestTriagePrunedWithAlert(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c.db"))
	defer s.Close()
	old := iamwatch.Alert{DedupKey: "r/old", Rule: "r", Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), EventIDs: []string{"e1"}}
	kept := iamwatch.Alert{DedupKey: "r/new", Rule: "r", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), EventIDs: []string{"e2"}}
	if _, err := s.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) {
		return []iamwatch.Alert{old, kept}, nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []iamwatch.Alert{old, kept} {
		if err := s.SetTriage(ctx, iamwatch.Triage{AlertKey: a.DedupKey, Status: iamwatch.TriageResolved, By: "admin", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	if _, n, err := s.Prune(ctx, time.Time{}, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 1 {
		t.Fatalf("Prune: %d %v", n, err)
	}
	ts, err := s.Triages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts[old.DedupKey]; ok || len(ts) != 1 {
		t.Errorf("triage after pruning %s: %v", old.DedupKey, ts)
	}
}
