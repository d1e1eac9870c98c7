package lookup_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	"github.com/iamwatch/iamwatch/source/lookup"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

const selfAccount = "111122223333"

// clock is a test clock that runs with real time (so pacing and the fake's
// rate limit work) and can be moved ahead.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func newClock(at time.Time) *clock { return &clock{offset: time.Until(at)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset).UTC()
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// env points the AWS SDK at the fakes the way a user would: standard
// environment variables, no test-only code path.
func awsConfig(t *testing.T, lookupURL, stsURL string) aws.Config {
	t.Helper()
	t.Setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", lookupURL)
	t.Setenv("AWS_ENDPOINT_URL_STS", stsURL)
	t.Setenv("AWS_ACCESS_KEY_ID", testserver.AccessKeyFor(selfAccount))
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type harness struct {
	t      *testing.T
	clock  *clock
	fake   *testserver.Lookup
	sts    *testserver.STS
	store  *sqlite.Store
	proc   *pipeline.Pipeline
	aws    aws.Config
	obs    *countingObserver
	script map[string]testserver.LookupEvent // the events that must be stored, by ID.
}

func newHarness(t *testing.T, start time.Time, fakeRate float64, ext map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, clock: newClock(start), obs: &countingObserver{}, script: map[string]testserver.LookupEvent{}}
	h.fake = testserver.StartLookup(t, testserver.LookupOptions{Now: h.clock.Now, Rate: fakeRate})
	h.sts = testserver.StartSTS(t, testserver.STSOptions{ExternalIDs: ext})
	h.aws = awsConfig(t, h.fake.URL, h.sts.URL)
	var err error
	h.store, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	h.proc, err = pipeline.New(h.store, pipeline.Options{Filter: pipeline.Filter{Keep: pipeline.KeepAll}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) source(o lookup.Options) *lookup.Source {
	h.t.Helper()
	o.AWS, o.Store, o.Processor, o.Now, o.Observer = h.aws, h.store, h.proc, h.clock.Now, h.obs
	if o.Rate == 0 {
		o.Rate = 400
	}
	if o.Backoff == 0 {
		o.Backoff = 20 * time.Millisecond
	}
	s, err := lookup.New(o)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// add scripts events; polled ones must end up stored.
func (h *harness) add(polled bool, evs ...testserver.LookupEvent) {
	h.fake.Add(evs...)
	if polled {
		for _, ev := range evs {
			h.script[ev.ID] = ev
		}
	}
}

// stored returns the IDs in the store.
func (h *harness) stored() map[string]iamwatch.Event {
	h.t.Helper()
	evs, err := h.store.Events(context.Background(), sqlite.EventFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	m := map[string]iamwatch.Event{}
	for _, ev := range evs {
		m[ev.ID] = ev
	}
	return m
}

// checkExact fails unless the store holds exactly the scripted events.
func (h *harness) checkExact() {
	h.t.Helper()
	got := h.stored()
	var missing, extra []string
	for id := range h.script {
		if _, ok := got[id]; !ok {
			missing = append(missing, id)
		}
	}
	for id, ev := range got {
		want, ok := h.script[id]
		if !ok {
			extra = append(extra, id)
			continue
		}
		if !ev.Time.Equal(want.Time) || ev.Source != want.Source || ev.Region != want.Region {
			h.t.Errorf("event %s: stored (%s %s %s), scripted (%s %s %s)", id, ev.Time, ev.Source, ev.Region, want.Time, want.Source, want.Region)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 || len(extra) > 0 {
		h.t.Fatalf("stored %d events, scripted %d: missing %d %v, extra %d %v", len(got), len(h.script), len(missing), first(missing), len(extra), first(extra))
	}
}

func first(s []string) []string { return s[:min(len(s), 5)] }

type countingObserver struct {
	mu                       sync.Mutex
	events, throttles, other int
	newest                   time.Time
}

func (o *countingObserver) Batch(_ string, res pipeline.Result, newest time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events += res.Events
	if newest.After(o.newest) {
		o.newest = newest
	}
}
func (o *countingObserver) Rejected(string, int) {}
func (o *countingObserver) APIError(_, _ string, throttled bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if throttled {
		o.throttles++
	} else {
		o.other++
	}
}

var _ source.Observer = (*countingObserver)(nil)

// polledSources are the streams of the default configuration used below.
var polledSources = []struct{ region, source string }{
	{"us-east-1", "iam.amazonaws.com"},
	{"us-east-1", "signin.amazonaws.com"},
	{"us-east-1", "sts.amazonaws.com"},
	{"eu-west-1", "sts.amazonaws.com"},
	{"eu-west-1", "sso.amazonaws.com"},
	{"eu-west-1", "signin.amazonaws.com"},
}

// scriptEvents makes n events of random polled streams with times in
// [from, to), each visible a random lateness up to maxLate after its time.
func scriptEvents(r *rand.Rand, seq *int, n int, from, to time.Time, maxLate time.Duration) []testserver.LookupEvent {
	out := make([]testserver.LookupEvent, 0, n)
	for range n {
		ps := polledSources[r.IntN(len(polledSources))]
		at := from.Add(time.Duration(r.Int64N(int64(to.Sub(from))))).Truncate(time.Second)
		*seq++
		out = append(out, testserver.LookupEvent{
			ID: fmt.Sprintf("ev-%06d", *seq), Name: "Call" + fmt.Sprint(*seq%7), Source: ps.source, Region: ps.region,
			Account: selfAccount, Time: at, Visible: at.Add(time.Duration(r.Int64N(int64(maxLate)))), ReadOnly: "false",
		})
	}
	return out
}

func TestStreams(t *testing.T) {
	got := lookup.Streams("123456789012", []string{"us-east-1", "eu-west-1", "us-east-1"}, "eu-west-1")
	var keys []string
	for _, s := range got {
		keys = append(keys, s.Key())
	}
	want := []string{
		"lookup/123456789012/eu-west-1/identitystore.amazonaws.com",
		"lookup/123456789012/eu-west-1/signin.amazonaws.com",
		"lookup/123456789012/eu-west-1/sso-directory.amazonaws.com",
		"lookup/123456789012/eu-west-1/sso.amazonaws.com",
		"lookup/123456789012/eu-west-1/sts.amazonaws.com",
		"lookup/123456789012/us-east-1/iam.amazonaws.com",
		"lookup/123456789012/us-east-1/signin.amazonaws.com",
		"lookup/123456789012/us-east-1/sts.amazonaws.com",
	}
	if !slices.Equal(keys, want) {
		t.Errorf("streams:\n got %q\nwant %q", keys, want)
	}
}

func TestOptionsValidated(t *testing.T) {
	h := newHarness(t, time.Now(), 0, nil)
	for name, o := range map[string]lookup.Options{
		"backfill over 90 days": {Backfill: 91 * 24 * time.Hour},
		"negative backfill":     {Backfill: -time.Hour},
		"bad role":              {Accounts: []lookup.Account{{RoleARN: "not-an-arn"}}},
	} {
		o.AWS, o.Store, o.Processor, o.Now = h.aws, h.store, h.proc, h.clock.Now
		if _, err := lookup.New(o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := lookup.New(lookup.Options{}); err == nil {
		t.Error("New without store accepted")
	}
}

// TestScriptedStream runs the poller over a scripted stream: a three-day
// backfill with more than a page per window, then steady polling with
// events arriving late inside the delay and overlap, a restart from the
// checkpoint with a new Source, and checks the store holds exactly the
// scripted events of the polled streams.
func TestScriptedStream(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, base, 1000, nil)
	r := rand.New(rand.NewPCG(1, 2))
	seq := 0
	const backfill = 72 * time.Hour
	opts := lookup.Options{Regions: []string{"us-east-1", "eu-west-1"}, SSORegion: "eu-west-1", Backfill: backfill, Interval: time.Minute}

	// History: inside the backfill (many pages), and before it (never read).
	h.add(true, scriptEvents(r, &seq, 900, base.Add(-backfill+time.Minute), base.Add(-10*time.Minute), time.Minute)...)
	old := scriptEvents(r, &seq, 20, base.Add(-100*time.Hour), base.Add(-backfill-time.Minute), time.Minute)
	h.add(false, old...)
	// Event sources nobody polls, and another account's events.
	h.add(false,
		testserver.LookupEvent{ID: "ec2-1", Source: "ec2.amazonaws.com", Name: "RunInstances", Region: "us-east-1", Time: base.Add(-time.Hour)},
		testserver.LookupEvent{ID: "other-acct", Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", Account: "999988887777", Time: base.Add(-time.Hour)},
		testserver.LookupEvent{ID: "sts-ap", Source: "sts.amazonaws.com", Name: "AssumeRole", Region: "ap-southeast-2", Time: base.Add(-time.Hour)},
	)
	// A burst of 120 events in one second: pages split inside equal times.
	var burst []testserver.LookupEvent
	for i := range 120 {
		at := base.Add(-2 * time.Hour)
		burst = append(burst, testserver.LookupEvent{ID: fmt.Sprintf("burst-%03d", i), Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", Account: selfAccount, Time: at})
	}
	h.add(true, burst...)

	ctx := context.Background()
	src := h.source(opts)
	if err := src.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	// Everything visible up to now − delay is stored after the backfill.
	got := h.stored()
	for id, ev := range h.script {
		if !ev.Time.After(base.Add(-lookup.DefaultDelay)) && !ev.Visible.After(base) {
			if _, ok := got[id]; !ok {
				t.Fatalf("after backfill, event %s at %s (visible %s) is missing", id, ev.Time, ev.Visible)
			}
		}
	}
	cp, ok, err := h.store.Checkpoint(ctx, "lookup/"+selfAccount+"/us-east-1/iam.amazonaws.com")
	if err != nil || !ok {
		t.Fatalf("checkpoint: %v %v", ok, err)
	}
	if want := base.Add(-lookup.DefaultDelay).Format(time.RFC3339Nano); cp.Position != want || cp.Status != source.StatusActive || cp.Processed == 0 || cp.EventTime.IsZero() {
		t.Errorf("checkpoint after backfill = %+v, want position %s, active, processed > 0", cp, want)
	}
	if st := h.fake.Stats(); st.Throttled != 0 || st.Errors != 0 {
		t.Errorf("fake stats %+v: want no throttling and no errors", st)
	}

	// Steady polling: a minute at a time, new events arriving late — up
	// to the delay plus the overlap after they happen.
	maxLate := lookup.DefaultDelay + lookup.DefaultOverlap
	now := base
	for step := range 30 {
		prev := now
		h.clock.Advance(time.Minute)
		now = now.Add(time.Minute)
		h.add(true, scriptEvents(r, &seq, 1+r.IntN(8), prev, now, maxLate)...)
		if step == 15 {
			src = h.source(opts) // restart: a new Source resumes from the checkpoints.
		}
		if err := src.PollOnce(ctx); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
	}
	// Let the last events become visible and pass the delay, then poll.
	h.clock.Advance(maxLate + time.Minute)
	if err := src.PollOnce(ctx); err != nil {
		t.Fatal(err)
	}
	h.checkExact()
	if st := h.fake.Stats(); st.Errors != 0 || st.Throttled != 0 {
		t.Errorf("fake stats %+v", st)
	}
	cps, err := h.store.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 8 { // 2 us-east-1 + 2 sts + 4 Identity Center.
		t.Errorf("%d checkpoints, want 8", len(cps))
	}
}

// TestThrottling polls faster than the fake allows: ThrottlingException
// backs off and nothing is lost.
func TestThrottling(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, base, 5, nil)
	r := rand.New(rand.NewPCG(3, 4))
	seq := 0
	evs := scriptEvents(r, &seq, 400, base.Add(-2*time.Hour), base.Add(-10*time.Minute), time.Second)
	for i := range evs {
		evs[i].Source, evs[i].Region = "iam.amazonaws.com", "us-east-1"
	}
	h.add(true, evs...)
	src := h.source(lookup.Options{Backfill: 3 * time.Hour, Rate: 100, Backoff: 50 * time.Millisecond, MaxAttempts: 20})
	if err := src.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.checkExact()
	st := h.fake.Stats()
	if st.Throttled == 0 {
		t.Errorf("fake stats %+v: the poller was never throttled; the test does not test throttling", st)
	}
	if h.obs.throttles != st.Throttled {
		t.Errorf("observer saw %d throttles, fake sent %d", h.obs.throttles, st.Throttled)
	}
}

// TestPacedUnderLimit polls at the default pace against the documented
// limit of 2 requests a second: never throttled.
func TestPacedUnderLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 s")
	}
	base := time.Now().UTC()
	h := newHarness(t, base, 2, nil)
	r := rand.New(rand.NewPCG(5, 6))
	seq := 0
	evs := scriptEvents(r, &seq, 300, base.Add(-2*time.Hour), base.Add(-10*time.Minute), time.Second)
	for i := range evs {
		evs[i].Source, evs[i].Region = "iam.amazonaws.com", "us-east-1"
	}
	h.add(true, evs...)
	src := h.source(lookup.Options{Backfill: 3 * time.Hour, Rate: lookup.DefaultRate})
	if err := src.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.checkExact()
	if st := h.fake.Stats(); st.Throttled != 0 || st.Requests < 7 {
		t.Errorf("fake stats %+v: want ≥ 7 requests, none throttled", st)
	}
}

// TestAccounts assumes a role per account with its external ID; a wrong
// external ID leaves that account's checkpoints in error with the reason.
func TestAccounts(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	roleA := "arn:aws:iam::222233334444:role/iamwatch"
	roleB := "arn:aws:iam::555566667777:role/iamwatch"
	h := newHarness(t, base, 1000, map[string]string{roleA: "ext-a", roleB: "ext-b"})
	mk := func(id, account string) testserver.LookupEvent {
		return testserver.LookupEvent{ID: id, Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", Account: account, Time: base.Add(-time.Hour)}
	}
	h.add(true, mk("a-1", "222233334444"), mk("a-2", "222233334444"))
	h.add(false, mk("b-1", "555566667777"), mk("self-1", selfAccount))
	src := h.source(lookup.Options{Backfill: 24 * time.Hour, Accounts: []lookup.Account{
		{RoleARN: roleA, ExternalID: "ext-a"},
		{RoleARN: roleB, ExternalID: "wrong"},
	}})
	err := src.PollOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("PollOnce error = %v, want AccessDenied for account B", err)
	}
	h.checkExact()
	cp, _, _ := h.store.Checkpoint(context.Background(), "lookup/555566667777/us-east-1/iam.amazonaws.com")
	if cp.Status != source.StatusError || !strings.Contains(cp.LastError, "AccessDenied") {
		t.Errorf("account B checkpoint = %+v, want status error naming AccessDenied", cp)
	}
	cp, _, _ = h.store.Checkpoint(context.Background(), "lookup/222233334444/us-east-1/iam.amazonaws.com")
	if cp.Status != source.StatusActive || cp.Processed != 2 {
		t.Errorf("account A checkpoint = %+v, want active, 2 processed", cp)
	}
}

// TestPaused skips a stream an operator paused.
func TestPaused(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, base, 1000, nil)
	key := "lookup/" + selfAccount + "/us-east-1/iam.amazonaws.com"
	if err := h.store.PutCheckpoint(context.Background(), iamwatch.Checkpoint{Key: key, Status: source.StatusPaused}); err != nil {
		t.Fatal(err)
	}
	h.add(false, testserver.LookupEvent{ID: "x", Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", Time: base.Add(-time.Hour)})
	if err := h.source(lookup.Options{Backfill: 24 * time.Hour}).PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.checkExact()
}

// TestRunStops checks Run polls on its own and returns when cancelled.
func TestRunStops(t *testing.T) {
	base := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	h := newHarness(t, base, 1000, nil)
	h.add(true, testserver.LookupEvent{ID: "x", Source: "iam.amazonaws.com", Name: "CreateUser", Region: "us-east-1", Time: base.Add(-time.Hour)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- h.source(lookup.Options{Backfill: 24 * time.Hour, Interval: 10 * time.Millisecond}).Run(ctx)
	}()
	deadline := time.After(10 * time.Second)
	for len(h.stored()) == 0 {
		select {
		case <-deadline:
			t.Fatal("Run stored nothing in 10 s")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	h.checkExact()
}
