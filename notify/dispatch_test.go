package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/webhook"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// fixture is a dispatcher over a real SQLite outbox delivering to a webhook
// sink "hook" at a recording server, on a fake clock.
type fixture struct {
	t      *testing.T
	store  *sqlite.Store
	srv    *notifytest.Server
	clock  *notifytest.Clock
	disp   *notify.Dispatcher
	router *notify.Router
}

func newFixture(t *testing.T, rateLimit int, retry notify.RetryPolicy, script ...notifytest.Reply) *fixture {
	t.Helper()
	return newDigestFixture(t, rateLimit, retry, nil, script...)
}

// newDigestFixture is newFixture with actor digests (nil: none).
func newDigestFixture(t *testing.T, rateLimit int, retry notify.RetryPolicy, digest *notify.ActorDigest, script ...notifytest.Reply) *fixture {
	t.Helper()
	f := &fixture{t: t, store: openStore(t), srv: notifytest.NewServer(t, script...), clock: notifytest.NewClock(notifytest.Time.Add(time.Hour))}
	sink, err := webhook.New("hook", webhook.Config{URL: f.srv.URL + "/hook/s3cr3t", Secret: "k"}, f.srv.Client(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.Config{Sinks: map[string]notify.SinkConfig{"hook": {Type: "webhook", RateLimit: rateLimit}}, Retry: retry, Digest: digest}
	f.disp, err = notify.NewDispatcher(notify.DispatcherOptions{
		Outbox: f.store, Sinks: map[string]notify.Sink{"hook": sink}, RateLimits: cfg.RateLimits(),
		Retry: retry, Digest: digest, Now: f.clock.Now, Rand: func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	f.router, err = notify.NewRouter(cfg, f.store, f.clock.Now, f.disp.Wake)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) enqueue(alerts ...iamwatch.Alert) {
	f.t.Helper()
	claim(f.t, f.store, alerts...)
	for _, a := range alerts {
		if _, err := f.router.Enqueue(context.Background(), a); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) flush() notify.FlushStats {
	f.t.Helper()
	st, err := f.disp.Flush(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

func (f *fixture) delivery(key string) iamwatch.Delivery {
	f.t.Helper()
	ds, err := f.store.Deliveries(context.Background(), key)
	if err != nil || len(ds) != 1 {
		f.t.Fatalf("deliveries of %s: %v, %v", key, ds, err)
	}
	return ds[0]
}

// bodyAlerts decodes the alerts a webhook request carried.
func bodyAlerts(t *testing.T, r notifytest.Request) []iamwatch.Alert {
	t.Helper()
	var b webhook.Body
	if err := json.Unmarshal(r.Body, &b); err != nil {
		t.Fatal(err)
	}
	return b.Alerts
}

func TestDispatcherRetriesThenDeliversOnce(t *testing.T) {
	fail := notifytest.Reply{Status: 500, Body: "upstream down"}
	f := newFixture(t, 0, notify.RetryPolicy{Base: 10 * time.Second}, fail, fail, fail)
	a := notifytest.Alert()
	f.enqueue(a)
	t0 := f.clock.Now()

	// Rand is 0, so each wait is the fixed half: 5s, 10s, 20s.
	for i, wait := range []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second} {
		st := f.flush()
		if st.Retrying != 1 {
			t.Fatalf("attempt %d: stats %+v", i+1, st)
		}
		d := f.delivery(a.DedupKey)
		if d.Status != iamwatch.DeliveryPending || d.Attempts != i+1 || !d.NextTry.Equal(f.clock.Now().Add(wait)) {
			t.Fatalf("after attempt %d: %+v, want next try in %s", i+1, d, wait)
		}
		if !strings.Contains(d.LastError, "500") || strings.Contains(d.LastError, "s3cr3t") {
			t.Errorf("last error %q", d.LastError)
		}
		f.clock.Advance(wait - time.Second)
		if st := f.flush(); st != (notify.FlushStats{}) {
			t.Fatalf("flushed before the backoff ended: %+v", st)
		}
		f.clock.Advance(time.Second)
	}
	if st := f.flush(); st.Sent != 1 || st.Messages != 1 {
		t.Fatalf("final flush: %+v", st)
	}
	for range 3 {
		f.clock.Advance(time.Hour)
		f.flush()
	}
	f.enqueue(a) // the same alert again: already sent, never again.
	f.flush()
	if got := len(f.srv.Requests()); got != 4 {
		t.Errorf("%d requests, want 4 (3 failures, 1 success)", got)
	}
	if f.srv.Accepted() != 1 {
		t.Errorf("accepted %d times, want exactly once", f.srv.Accepted())
	}
	d := f.delivery(a.DedupKey)
	if d.Status != iamwatch.DeliverySent || d.Attempts != 4 || d.LastError != "" || !d.SentAt.Equal(t0.Add(35*time.Second)) {
		t.Errorf("delivery %+v", d)
	}
}

func TestDispatcher429RetryAfter(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{}, notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "120"}, Body: "slow down"})
	alerts := notifytest.Alerts(2)
	f.enqueue(alerts...)
	t0 := f.clock.Now()

	st := f.flush()
	if st.Retrying != 1 || st.Deferred != 1 || len(f.srv.Requests()) != 1 {
		t.Fatalf("first flush %+v, %d requests: want one attempt, the other deferred with it", st, len(f.srv.Requests()))
	}
	for _, a := range alerts {
		if d := f.delivery(a.DedupKey); !d.NextTry.Equal(t0.Add(120 * time.Second)) {
			t.Errorf("%s next try %v, want Retry-After (+120s)", a.DedupKey, d.NextTry)
		}
	}
	if d := f.delivery(alerts[1].DedupKey); d.Attempts != 0 {
		t.Errorf("deferred delivery counted an attempt: %+v", d)
	}
	f.clock.Advance(119 * time.Second)
	f.flush()
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("%d requests before Retry-After passed", n)
	}
	f.clock.Advance(time.Second)
	if st := f.flush(); st.Sent != 2 {
		t.Fatalf("after Retry-After: %+v", st)
	}
	if f.srv.Accepted() != 2 || len(f.srv.Requests()) != 3 {
		t.Errorf("accepted %d of %d requests, want 2 of 3", f.srv.Accepted(), len(f.srv.Requests()))
	}
}

func TestDispatcherPermanentFailure(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{}, notifytest.Reply{Status: 404, Body: "no_service"})
	a := notifytest.Alert()
	f.enqueue(a)
	if st := f.flush(); st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	d := f.delivery(a.DedupKey)
	if d.Status != iamwatch.DeliveryFailed || !strings.Contains(d.LastError, "404") || !strings.Contains(d.LastError, "no_service") {
		t.Errorf("delivery %+v", d)
	}
	if strings.Contains(d.LastError, "s3cr3t") || strings.Contains(d.LastError, "/hook") {
		t.Errorf("reason reveals the URL: %q", d.LastError)
	}
	f.clock.Advance(24 * time.Hour)
	f.flush()
	if n := len(f.srv.Requests()); n != 1 {
		t.Fatalf("failed delivery retried without a command: %d requests", n)
	}
	n, err := f.store.RetryFailed(context.Background(), "hook", f.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("RetryFailed = %d, %v", n, err)
	}
	if st := f.flush(); st.Sent != 1 {
		t.Fatalf("after RetryFailed: %+v", st)
	}
	if d := f.delivery(a.DedupKey); d.Status != iamwatch.DeliverySent {
		t.Errorf("delivery %+v", d)
	}
}

func TestDispatcherGivesUp(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{MaxAttempts: 3, Base: time.Second})
	f.srv.Default = notifytest.Reply{Status: 503}
	a := notifytest.Alert()
	f.enqueue(a)
	for range 5 {
		f.flush()
		f.clock.Advance(time.Minute)
	}
	d := f.delivery(a.DedupKey)
	if d.Status != iamwatch.DeliveryFailed || d.Attempts != 3 || !strings.HasPrefix(d.LastError, "gave up after 3 attempts") {
		t.Errorf("delivery %+v", d)
	}
	if n := len(f.srv.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestDispatcherRateLimitDigest(t *testing.T) {
	f := newFixture(t, 3, notify.RetryPolicy{})
	alerts := notifytest.Alerts(10)
	f.enqueue(alerts...)
	st := f.flush()
	if st.Sent != 10 || st.Messages != 3 {
		t.Fatalf("stats %+v, want 10 sent in 3 messages", st)
	}
	reqs := f.srv.Requests()
	var sizes []int
	for _, r := range reqs {
		sizes = append(sizes, len(bodyAlerts(t, r)))
	}
	if len(sizes) != 3 || sizes[0] != 1 || sizes[1] != 1 || sizes[2] != 8 {
		t.Fatalf("messages carry %v alerts, want [1 1 8]", sizes)
	}
	var digest webhook.Body
	if err := json.Unmarshal(reqs[2].Body, &digest); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(digest.Subject, "digest: 8 alerts") {
		t.Errorf("digest subject %q", digest.Subject)
	}

	// The budget is spent for this minute: new alerts wait for it.
	more := notifytest.Alerts(12)[10:]
	f.enqueue(more...)
	f.clock.Advance(30 * time.Second)
	if st := f.flush(); st.Deferred != 2 || st.Messages != 0 {
		t.Fatalf("over budget: %+v", st)
	}
	f.clock.Advance(29 * time.Second)
	if st := f.flush(); st.Messages != 0 {
		t.Fatalf("sent before the minute passed: %+v", st)
	}
	f.clock.Advance(time.Second)
	if st := f.flush(); st.Sent != 2 || st.Messages != 2 {
		t.Fatalf("next minute: %+v", st)
	}
}

func TestDispatcherUnknownSink(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{})
	a := notifytest.Alert()
	claim(t, f.store, a)
	if err := f.store.Enqueue(context.Background(), a.DedupKey, []string{"removed"}, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if st := f.flush(); st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	ds, _ := f.store.Deliveries(context.Background(), a.DedupKey)
	if ds[0].Status != iamwatch.DeliveryFailed || !strings.Contains(ds[0].LastError, `"removed" is not configured`) {
		t.Errorf("delivery %+v", ds[0])
	}
}

func TestDispatcherCancelLeavesPending(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{})
	block := make(chan struct{})
	blocked := make(chan struct{})
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(blocked)
		<-block
	})
	defer close(block)
	a := notifytest.Alert()
	f.enqueue(a)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-blocked; cancel() }()
	if _, err := f.disp.Flush(ctx); err == nil {
		t.Fatal("Flush returned nil after cancel")
	}
	if d := f.delivery(a.DedupKey); d.Status != iamwatch.DeliveryPending || d.Attempts != 0 {
		t.Errorf("cancelled delivery changed: %+v", d)
	}
}

func TestDispatcherRunWakes(t *testing.T) {
	f := newFixture(t, 0, notify.RetryPolicy{})
	got := make(chan struct{}, 1)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- struct{}{}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.disp.Run(ctx) }()
	f.enqueue(notifytest.Alert()) // the router wakes the dispatcher; Poll is 5s.
	select {
	case <-got:
	case <-time.After(4 * time.Second): // under Poll (5s): only Wake can deliver in time
		t.Fatal("Run did not deliver after Wake")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for _, r := range []float64{0, 0.5, 0.999} {
		d, err := notify.NewDispatcher(notify.DispatcherOptions{Outbox: openStore(t), Now: time.Now, Rand: func() float64 { return r }, Retry: notify.RetryPolicy{Base: 30 * time.Second, Max: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 12; n++ {
			full := min(30*time.Second<<(n-1), time.Hour)
			got := d.Backoff(n)
			if got < full/2 || got > full {
				t.Errorf("rand %v attempt %d: %v outside [%v, %v]", r, n, got, full/2, full)
			}
		}
	}
}

// blockingSink waits for its context: a send in flight at shutdown.
type blockingSink struct{ started chan struct{} }

func (blockingSink) Name() string { return "hook" }
func (s blockingSink) Send(ctx context.Context, _ []iamwatch.Alert) error {
	close(s.started)
	<-ctx.Done()
	return ctx.Err()
}

// A send cut short by shutdown gives its claim back: the delivery is due
// at once for the next start, not after the lease.
func TestShutdownReleasesClaim(t *testing.T) {
	store := openStore(t)
	clock := notifytest.NewClock(notifytest.Time.Add(time.Hour))
	sink := blockingSink{started: make(chan struct{})}
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Outbox: store, Sinks: map[string]notify.Sink{"hook": sink}, Now: clock.Now, Lease: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	a := notifytest.Alert()
	claim(t, store, a)
	if err := store.Enqueue(context.Background(), a.DedupKey, []string{"hook"}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-sink.started; cancel() }()
	if _, err := d.Flush(ctx); err == nil {
		t.Fatal("Flush during shutdown returned no error")
	}
	ds, err := store.Deliveries(context.Background(), a.DedupKey)
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %+v, %v", ds, err)
	}
	if ds[0].Status != iamwatch.DeliveryPending || ds[0].NextTry.After(clock.Now()) {
		t.Errorf("after shutdown: %+v, want pending and due now (not at the lease end %s)", ds[0], clock.Now().Add(time.Hour))
	}
	due, err := store.Due(context.Background(), clock.Now(), 0)
	if err != nil || len(due) != 1 {
		t.Errorf("Due after shutdown = %d deliveries, %v; want the released one", len(due), err)
	}
}

// TestDispatcherActorDigest: the low alerts of one actor in one hour go out
// as one webhook message after the hour and its delay, retried as one when
// the destination fails; each actor is its own message; a high alert of the
// same actor goes out at once.
func TestDispatcherActorDigest(t *testing.T) {
	fail := notifytest.Reply{Status: 503, Body: "busy"}
	f := newDigestFixture(t, 0, notify.RetryPolicy{Base: 10 * time.Second}, &notify.ActorDigest{}, notifytest.Reply{Status: 200, Body: "ok"}, fail)
	hour := f.clock.Now().Truncate(time.Hour) // the wall clock is 26 minutes into it
	var alerts []iamwatch.Alert
	for i, a := range notifytest.Alerts(9) {
		a.Severity, a.UserName = iamwatch.SeverityLow, []string{"terraform-ci", "alice", "terraform-ci"}[i%3]
		a.Time = hour.Add(time.Duration(i) * time.Minute)
		alerts = append(alerts, a)
	}
	high := alerts[8]
	high.DedupKey, high.Severity = "high/1", iamwatch.SeverityHigh
	f.enqueue(append(alerts, high)...)
	if st := f.flush(); st.Messages != 1 || st.Sent != 1 {
		t.Fatalf("during the hour: %+v, want the high alert alone", st)
	}
	f.clock.Advance(43 * time.Minute) // 9 minutes past the hour: the delay is 10
	if st := f.flush(); st != (notify.FlushStats{}) {
		t.Fatalf("before the digest delay ended: %+v, want nothing", st)
	}
	f.clock.Advance(time.Minute)
	if st := f.flush(); st.Messages != 0 || st.Retrying != 6 || st.Deferred != 3 {
		t.Fatalf("first digest attempt: %+v, want terraform-ci's 6 alerts retrying together, alice's 3 waiting with them", st)
	}
	f.clock.Advance(10 * time.Second)
	if st := f.flush(); st.Messages != 2 || st.Sent != 9 {
		t.Fatalf("after the backoff: %+v, want one message per actor", st)
	}
	var got []string
	for _, r := range f.srv.Requests()[1:] {
		var users []string
		for _, a := range bodyAlerts(t, r) {
			users = append(users, a.UserName)
		}
		got = append(got, strings.Join(users, ","))
	}
	ci := "terraform-ci,terraform-ci,terraform-ci,terraform-ci,terraform-ci,terraform-ci"
	if want := []string{ci, ci, "alice,alice,alice"}; strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Errorf("digest requests carry %q, want %q (terraform-ci failed, terraform-ci again, alice)", got, want)
	}
	if r := f.srv.Requests(); r[1].Header.Get(webhook.DeliveryHeader) != r[2].Header.Get(webhook.DeliveryHeader) {
		t.Error("the resent digest has another delivery ID")
	}
	f.enqueue(alerts...)
	if st := f.flush(); st != (notify.FlushStats{}) {
		t.Errorf("the same alerts again: %+v, want nothing", st)
	}
}

// TestDispatcherBurst: with digests on, the alerts of one rule and actor
// that are due together go out as one message naming the rule and the
// actor; another rule or another actor is a message of its own, and a
// later alert of the same rule and actor is a new message. With digests
// off every alert is its own message.
func TestDispatcherBurst(t *testing.T) {
	burst := func(user, rule string, n int) []iamwatch.Alert {
		var out []iamwatch.Alert
		for i, a := range notifytest.Alerts(n) {
			a.Severity, a.UserName, a.Rule, a.Title = iamwatch.SeverityHigh, user, rule, "IAM Alert: IAM User Created"
			a.DedupKey = fmt.Sprintf("%s/%s/%d", rule, user, i)
			out = append(out, a)
		}
		return out
	}
	ok := notifytest.Reply{Status: 200, Body: "ok"}
	alerts := slices.Concat(burst("terraform-ci", "iam-user-created", 3), burst("alice", "iam-user-created", 1), burst("terraform-ci", "login-profile-changed", 1))

	f := newDigestFixture(t, 0, notify.RetryPolicy{}, &notify.ActorDigest{}, ok, ok, ok, ok)
	f.enqueue(alerts...)
	if st := f.flush(); st.Messages != 3 || st.Sent != 5 {
		t.Fatalf("digests on: %+v, want 3 messages carrying 5 alerts", st)
	}
	reqs := f.srv.Requests()
	var b webhook.Body
	if err := json.Unmarshal(reqs[0].Body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Alerts) != 3 || !strings.Contains(b.Subject, "IAM Alert: IAM User Created ×3 by terraform-ci") {
		t.Errorf("first message: %d alerts, subject %q; want terraform-ci's 3 users under the rule's title", len(b.Alerts), b.Subject)
	}
	later := burst("terraform-ci", "iam-user-created", 5)[4]
	f.enqueue(later)
	if st := f.flush(); st.Messages != 1 || st.Sent != 1 {
		t.Errorf("a later alert of the same burst: %+v, want a message of its own", st)
	}

	off := newFixture(t, 0, notify.RetryPolicy{}, ok, ok, ok, ok, ok)
	off.enqueue(alerts...)
	if st := off.flush(); st.Messages != 5 {
		t.Errorf("digests off: %+v, want one message an alert", st)
	}
}

// TestDispatcherDigestCatchUp: an actor's digests of several hours that
// fall due in one flush (a scan of older history, or a dispatcher that was
// down) go out as one message; flushed as each hour ends, one a period.
func TestDispatcherDigestCatchUp(t *testing.T) {
	ok := notifytest.Reply{Status: 200, Body: "ok"}
	threeHours := func(f *fixture) {
		hour := f.clock.Now().Truncate(time.Hour)
		for i, a := range notifytest.Alerts(6) {
			a.Severity, a.UserName = iamwatch.SeverityLow, "terraform-ci"
			a.Time = hour.Add(time.Duration(i) * 30 * time.Minute) // two alerts an hour
			f.enqueue(a)
		}
	}

	late := newDigestFixture(t, 0, notify.RetryPolicy{}, &notify.ActorDigest{}, ok, ok, ok)
	threeHours(late)
	late.clock.Advance(4 * time.Hour)
	if st := late.flush(); st.Messages != 1 || st.Sent != 6 {
		t.Errorf("three hours due at once: %+v, want one message", st)
	}

	live := newDigestFixture(t, 0, notify.RetryPolicy{}, &notify.ActorDigest{}, ok, ok, ok)
	threeHours(live)
	messages := 0
	for range 4 {
		live.clock.Advance(time.Hour)
		messages += live.flush().Messages
	}
	if messages != 3 {
		t.Errorf("flushed as each hour ends: %d messages, want one an hour", messages)
	}
}

// TestDispatcherDigestFutureTime: a held alert whose event time is far
// ahead of the wall clock (a malformed or forged record) is held at most
// MaxDigestAhead, one period and the delay, not until its period comes
// round on the wall clock.
func TestDispatcherDigestFutureTime(t *testing.T) {
	ok := notifytest.Reply{Status: 200, Body: "ok"}
	for _, c := range []struct {
		name  string
		ahead time.Duration
	}{
		{"five minutes ahead", 5 * time.Minute},
		{"a week ahead", 7 * 24 * time.Hour},
		{"a year ahead", 365 * 24 * time.Hour},
	} {
		f := newDigestFixture(t, 0, notify.RetryPolicy{}, &notify.ActorDigest{}, ok)
		a := notifytest.Alerts(1)[0]
		a.Severity, a.Time = iamwatch.SeverityLow, f.clock.Now().Add(c.ahead)
		f.enqueue(a)
		f.clock.Advance(notify.MaxDigestAhead + notify.DefaultDigestPeriod + notify.DefaultDigestDelay)
		if st := f.flush(); st.Messages != 1 || st.Sent != 1 {
			t.Errorf("%s: a day, one period and the delay after it was enqueued: %+v, want its digest sent", c.name, st)
		}
	}
}
