package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
)

// recorder is a sink that records the alert keys of each message.
type recorder struct {
	mu       sync.Mutex
	messages [][]string
}

func (r *recorder) Name() string { return "chat" }

func (r *recorder) Send(_ context.Context, alerts []iamwatch.Alert) error {
	ks := make([]string, len(alerts))
	for i := range alerts {
		ks[i] = alerts[i].DedupKey
	}
	r.mu.Lock()
	r.messages = append(r.messages, ks)
	r.mu.Unlock()
	return nil
}

func (r *recorder) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.messages
	r.messages = nil
	return m
}

// testOutboxDigest: with the default actor digest, the low alerts of one
// actor in one hour of event time are held in the store's outbox and go out
// as one message after the hour (and its delay) ends; each actor is its own
// message; a high alert goes out at once, and so does a held alert whose
// incident escalates past the digest's severity. Enqueueing the same alerts again
// (a Lambda retry, a replayed batch) or flushing with a second dispatcher
// sends nothing more, and dispatchers racing send each alert once.
func testOutboxDigest(t *testing.T, ctx context.Context, s iamwatch.Store) {
	clock := base.Add(20 * time.Minute) // live: the events are 10:00-10:20
	now := func() time.Time { return clock }
	cfg := notify.Config{Sinks: map[string]notify.SinkConfig{"chat": {Type: "recorder"}}, Digest: &notify.ActorDigest{}}
	router, err := notify.NewRouter(cfg, s, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	dispatcher := func() *notify.Dispatcher {
		d, err := notify.NewDispatcher(notify.DispatcherOptions{Outbox: s, Sinks: map[string]notify.Sink{"chat": rec}, Now: now, Digest: cfg.Digest})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	flush := func(d *notify.Dispatcher) {
		t.Helper()
		if _, err := d.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	low := func(key, user string, minute int) iamwatch.Alert {
		a := alert(key, minute*60, "e-"+key)
		a.Rule, a.Severity, a.UserName = "route-table-changed", iamwatch.SeverityLow, user
		return a
	}
	var all []iamwatch.Alert
	for i := range 5 {
		all = append(all, low(fmt.Sprintf("ci-%d", i), "terraform-ci", 1+i))
	}
	all = append(all, low("alice-0", "alice", 3), low("alice-1", "alice", 12))
	high := low("ci-high", "terraform-ci", 7)
	high.Rule, high.Severity = "iam-user-created", iamwatch.SeverityHigh
	all = append(all, high)
	enqueue := func() {
		t.Helper()
		for _, a := range all {
			if _, err := iamwatch.ClaimAlert(ctx, s, a); err != nil {
				t.Fatal(err)
			}
			if _, err := router.Enqueue(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	enqueue()

	d1 := dispatcher()
	flush(d1)
	if got := rec.take(); !slices.EqualFunc(got, [][]string{{"ci-high"}}, slices.Equal) {
		t.Fatalf("during the hour: messages %v, want the high alert alone at once", got)
	}
	// A held alert whose incident escalates past the digest goes out at once.
	esc := low("ci-escalates", "terraform-ci", 8)
	claim(t, ctx, s, esc, true)
	if _, err := router.Enqueue(ctx, esc); err != nil {
		t.Fatal(err)
	}
	flush(d1)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a held alert: messages %v, want none", got)
	}
	esc.Severity, esc.Count = iamwatch.SeverityMedium, 5
	clock = base.Add(25 * time.Minute)
	claim(t, ctx, s, esc, false)
	if _, err := router.Enqueue(ctx, esc); err != nil {
		t.Fatal(err)
	}
	flush(d1)
	if got := rec.take(); !slices.EqualFunc(got, [][]string{{"ci-escalates"}}, slices.Equal) {
		t.Fatalf("a held alert escalated to medium: messages %v, want it alone at once", got)
	}

	clock = base.Add(65 * time.Minute) // the hour ended, its delay not yet
	enqueue()
	flush(d1)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("before the digest delay ended: messages %v, want none", got)
	}

	clock = base.Add(70 * time.Minute)
	flush(d1)
	got := rec.take()
	slices.SortFunc(got, slices.Compare)
	want := [][]string{{"alice-0", "alice-1"}, {"ci-0", "ci-1", "ci-2", "ci-3", "ci-4"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("after the hour: messages %v, want one digest per actor %v", got, want)
	}
	enqueue() // the same alerts again: nothing new
	flush(dispatcher())
	flush(d1)
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("the same alerts again, a second dispatcher: messages %v, want none", got)
	}
	for _, a := range all {
		ds, err := s.Deliveries(ctx, a.DedupKey)
		if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent {
			t.Errorf("deliveries of %s = %+v, %v; want one, sent", a.DedupKey, ds, err)
		}
	}

	// The next hour's digests, flushed by four dispatchers at once: each
	// alert is sent once.
	all = nil
	for i := range 12 {
		all = append(all, low(fmt.Sprintf("next-%d", i), []string{"terraform-ci", "alice", "bob"}[i%3], 61+i))
	}
	enqueue()
	clock = base.Add(130 * time.Minute)
	var wg sync.WaitGroup
	for range 4 {
		d := dispatcher()
		wg.Go(func() {
			if _, err := d.Flush(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got = rec.take()
	seen := map[string]int{}
	for _, m := range got {
		for _, k := range m {
			seen[k]++
		}
	}
	for _, a := range all {
		if seen[a.DedupKey] != 1 {
			t.Errorf("racing dispatchers sent %s %d times, want once (messages %v)", a.DedupKey, seen[a.DedupKey], got)
		}
	}
	if len(got) < 3 {
		t.Errorf("racing dispatchers: messages %v, want at least one per actor", got)
	}
}
