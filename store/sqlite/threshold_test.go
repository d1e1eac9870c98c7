package sqlite

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// undoHitOrder is migrate_010.sql's down step (written in its comment).
var undoHitOrder = []string{
	`CREATE TABLE threshold_hits_v9 (id INTEGER PRIMARY KEY, rule TEXT NOT NULL,
		grp TEXT NOT NULL, event_id TEXT NOT NULL, time TEXT NOT NULL,
		value TEXT NOT NULL DEFAULT '', UNIQUE (rule, event_id))`,
	`INSERT OR IGNORE INTO threshold_hits_v9 (rule, grp, event_id, time, value)
		SELECT rule, grp, event_id, time, value FROM threshold_hits`,
	"DROP TABLE threshold_hits", "ALTER TABLE threshold_hits_v9 RENAME TO threshold_hits",
	"CREATE INDEX threshold_hits_rule_grp_time ON threshold_hits (rule, grp, time)",
	"CREATE INDEX threshold_hits_time ON threshold_hits (time)",
}

// TestHitOrderMigration: hits recorded before version 10 (rowid table)
// read back in time order after it, keep their values, still count once
// per (rule, event), and leave no free pages behind.
func TestHitOrderMigration(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "db")
	s := openTest(t, path)
	at := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	qs := append(slices.Clone(undoHitOrder), "PRAGMA user_version = 9")
	// A version-9 program recorded them out of time order, in two groups.
	for i, id := range []string{"c", "a", "b"} {
		qs = append(qs, "INSERT INTO threshold_hits (rule, grp, event_id, time, value) VALUES ('r', 'g', '"+id+"', '"+
			eventTime(at.Add(time.Duration(2-i)*time.Minute))+"', 'v"+id+"')")
	}
	qs = append(qs, "INSERT INTO threshold_hits (rule, grp, event_id, time) VALUES ('r', 'other', 'd', '"+eventTime(at)+"')")
	for _, q := range qs {
		if _, err := s.w.Exec(q); err != nil {
			t.Fatal(q, err)
		}
	}
	s.Close()
	s = openTest(t, path)
	defer s.Close()
	var free int
	if err := s.w.QueryRow("PRAGMA freelist_count").Scan(&free); err != nil || free != 0 {
		t.Errorf("free pages after the migration = %d, %v; want 0", free, err)
	}
	hs, err := s.Hits(ctx, "r", "g", at.Add(-time.Hour), at.Add(time.Hour))
	var got []string
	for _, h := range hs {
		got = append(got, h.EventID+"="+h.Value)
	}
	if err != nil || !slices.Equal(got, []string{"b=vb", "a=va", "c=vc"}) {
		t.Errorf("Hits after the migration = %v, %v; want b, a, c (time order) with their values", got, err)
	}
	var added []bool
	again := []iamwatch.Hit{{Rule: "r", Group: "g", EventID: "a", Time: at.Add(time.Minute), Value: "va"},
		{Rule: "r", Group: "g", EventID: "e", Time: at.Add(time.Minute), Value: "ve"}}
	if _, err := s.CommitAlerts(ctx, again, func(_ context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
		for _, h := range again {
			a, _ := v.Added(h.Rule, h.EventID)
			added = append(added, a)
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(added, []bool{false, true}) {
		t.Errorf("Added(a, e) after the migration = %v; want a recorded before, e new", added)
	}
	if hs, err := s.Hits(ctx, "r", "other", at, at); err != nil || len(hs) != 1 || hs[0].EventID != "d" {
		t.Errorf("the other group's hits = %+v, %v; want d", hs, err)
	}
}
