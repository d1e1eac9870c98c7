package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// TestEventPaging: the After cursor and Offset page through the events in
// either order without skipping or repeating one, even where several share
// a second.
func TestEventPaging(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "p.db"))
	defer s.Close()
	evs := testEvents("p", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 120)
	for i := range evs {
		evs[i].Time = evs[i].Time.Truncate(4 * time.Second) // four events a second-bucket.
	}
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	for _, newest := range []bool{true, false} {
		all, err := s.Events(ctx, EventFilter{NewestFirst: newest, UserName: "user3"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var after *EventPosition
		for {
			page, err := s.Events(ctx, EventFilter{NewestFirst: newest, UserName: "user3", Limit: 1, After: after})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			got = append(got, page[0].ID)
			after = &EventPosition{page[0].Time, page[0].ID}
		}
		if len(got) != len(all) || len(all) == 0 {
			t.Fatalf("newest %v: cursor paging read %d events, want %d", newest, len(got), len(all))
		}
		for i := range got {
			if got[i] != all[i].ID {
				t.Errorf("newest %v: event %d is %s, want %s", newest, i, got[i], all[i].ID)
			}
		}
		off, err := s.Events(ctx, EventFilter{NewestFirst: newest, UserName: "user3", Offset: 1})
		if err != nil || len(off) != len(all)-1 || off[0].ID != all[1].ID {
			t.Errorf("newest %v: Offset 1 gave %d events, %v", newest, len(off), err)
		}
	}
}

func TestEventCounts(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "c.db"))
	defer s.Close()
	if _, err := s.PutEvents(ctx, testEvents("c", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), 200)); err != nil {
		t.Fatal(err)
	}
	counts, total, err := s.EventCounts(ctx, EventFilter{}, "event_name", 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 200 || len(counts) != 4 || counts[0].Count != 50 {
		t.Errorf("counts by event_name: %+v total %d", counts, total)
	}
	counts, total, err = s.EventCounts(ctx, EventFilter{NewestFirst: true, Limit: 10, UserName: "user1"}, "source_ip", 2)
	if err != nil || total != 4 || len(counts) != 2 {
		t.Errorf("bounded counts: %+v total %d %v", counts, total, err)
	}
	if _, _, err := s.EventCounts(ctx, EventFilter{}, "raw; DROP TABLE events", 0); err == nil {
		t.Error("an arbitrary column was accepted")
	}
}

func TestRetryDeliveryAndReadOnlyUsers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, filepath.Join(t.TempDir(), "r.db"))
	defer s.Close()
	a := iamwatch.Alert{DedupKey: "k1", Rule: "r", Severity: iamwatch.SeverityHigh, Time: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := iamwatch.ClaimAlert(ctx, s, a); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, now); err != nil {
		t.Fatal(err)
	}
	for _, sink := range []string{"slack", "email"} {
		d := iamwatch.Delivery{AlertKey: "k1", Sink: sink, Severity: a.Severity, Status: iamwatch.DeliveryFailed, Attempts: 5, LastError: "404", NextTry: now}
		if sink == "email" {
			d.Status, d.SentAt, d.LastError = iamwatch.DeliverySent, now, ""
		}
		if err := s.UpdateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	later := now.Add(time.Hour)
	for _, tc := range []struct {
		sink string
		want bool
	}{{"slack", true}, {"slack", false}, {"email", false}, {"nowhere", false}} {
		if ok, err := s.RetryDelivery(ctx, "k1", tc.sink, later); err != nil || ok != tc.want {
			t.Errorf("RetryDelivery %s = %v %v, want %v", tc.sink, ok, err, tc.want)
		}
	}
	due, err := s.Due(ctx, later, 0)
	if err != nil || len(due) != 1 || due[0].Sink != "slack" || due[0].Attempts != 5 {
		t.Errorf("due after retry: %+v %v, want slack alone, attempts kept", due, err)
	}

	if err := s.PutUserRole(ctx, "auditor", "hash", true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutUser(ctx, "admin", "hash"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		ro   bool
	}{{"auditor", true}, {"admin", false}, {"deleted", true}} {
		ss := Session{IDHash: "h-" + u.name, UserName: u.name, CSRF: "c", Created: now, Expires: later}
		if err := s.PutSession(ctx, ss); err != nil {
			t.Fatal(err)
		}
		got, err := s.Session(ctx, ss.IDHash)
		if err != nil || got.ReadOnly != u.ro {
			t.Errorf("session of %s: read-only %v %v, want %v", u.name, got.ReadOnly, err, u.ro)
		}
	}
	// A new password keeps the role.
	if err := s.PutUser(ctx, "auditor", "hash2"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Session(ctx, "h-auditor"); !got.ReadOnly {
		t.Error("PutUser made the read-only user an admin")
	}
}

// TestNewestEventTime: the newest stored event's time, zero on an empty store.
func TestNewestEventTime(t *testing.T) {
	ctx := t.Context()
	s := openTest(t, filepath.Join(t.TempDir(), "db"))
	if got, err := s.NewestEventTime(ctx); err != nil || !got.IsZero() {
		t.Fatalf("empty store: %v, %v; want the zero time", got, err)
	}
	evs := testEvents("n", time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC), 5)
	if _, err := s.PutEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	want := evs[0].Time
	for _, e := range evs {
		if e.Time.After(want) {
			want = e.Time
		}
	}
	if got, err := s.NewestEventTime(ctx); err != nil || !got.Equal(want) {
		t.Errorf("NewestEventTime = %v, %v; want %v", got, err, want)
	}
}
