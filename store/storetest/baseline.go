package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/rules"
)

// testBaseline: a store keeps first-seen baselines (iamwatch.BaselineStore):
// merging the same entries in any order, or twice, leaves the earliest
// first (ties by event ID) and the latest last, one entry per value.
func testBaseline(t *testing.T, ctx context.Context, s iamwatch.Store) {
	bs, ok := s.(iamwatch.BaselineStore)
	if !ok {
		t.Fatal("the store keeps no baselines (iamwatch.BaselineStore)")
	}
	day := func(d int) time.Time { return time.Date(2026, 1, d, 8, 0, 0, 0, time.UTC) }
	e := func(v string, first int, id string, last int) iamwatch.BaselineEntry {
		return iamwatch.BaselineEntry{Rule: "r", Identity: "111122223333/alice", Value: v, First: day(first), FirstEvent: id, Last: day(last)}
	}
	batches := [][]iamwatch.BaselineEntry{
		{e("", 9, "e9", 20), e("US", 9, "e9", 20)},
		{e("", 2, "e2", 2), e("US", 2, "e2", 2), e("NL", 15, "e15b", 15)},
		{e("NL", 15, "e15a", 15)},                  // as early, smaller ID: wins
		{e("", 9, "e9", 20), e("US", 9, "e9", 20)}, // a replay
	}
	for _, b := range batches {
		if err := bs.MergeBaseline(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	got, err := bs.Baseline(ctx, "r", "111122223333/alice")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b iamwatch.BaselineEntry) int { return strings.Compare(a.Value, b.Value) })
	want := []iamwatch.BaselineEntry{e("", 2, "e2", 20), e("NL", 15, "e15a", 15), e("US", 2, "e2", 20)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Baseline:\n got %v\nwant %v", got, want)
	}
	if other, err := bs.Baseline(ctx, "r", "111122223333/bob"); err != nil || len(other) != 0 {
		t.Errorf("Baseline of another identity = %v, %v; want none", other, err)
	}
}

// testBaselineManyValues: an identity's baseline holds as many values as
// there are networks (a stolen key used from thousands of ASNs: DynamoDB
// refuses an item over 400 KB, and a baseline that cannot be merged fails
// every later batch holding that key's events), merged in batches and
// again, one entry per value, with the earliest first.
func testBaselineManyValues(t *testing.T, ctx context.Context, s iamwatch.Store) {
	bs := s.(iamwatch.BaselineStore)
	const n = 8000
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	e := func(i int, id string) iamwatch.BaselineEntry {
		return iamwatch.BaselineEntry{Rule: "access-key-new-asn", Identity: "111122223333/AKIAQ3XV7MBTEXAMPLE", Value: fmt.Sprintf("AS%d", 10000+i),
			First: at.Add(time.Duration(i) * time.Second), FirstEvent: fmt.Sprintf("%s-%012d", id, i), Last: at.Add(time.Duration(i) * time.Second)}
	}
	var all, again []iamwatch.BaselineEntry
	for i := range n {
		all, again = append(all, e(i, "1c0e0000-0000-4000-8000")), append(again, e(i, "0c0e0000-0000-4000-8000")) // as early, smaller IDs: win
	}
	for _, b := range [][]iamwatch.BaselineEntry{all[:n/2], all[n/2:], again[n/4 : 3*n/4]} {
		if err := bs.MergeBaseline(ctx, b); err != nil {
			t.Fatalf("MergeBaseline of %d values: %v", len(b), err)
		}
	}
	got, err := bs.Baseline(ctx, "access-key-new-asn", "111122223333/AKIAQ3XV7MBTEXAMPLE")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(got, func(a, b iamwatch.BaselineEntry) int { return a.First.Compare(b.First) })
	want := slices.Concat(all[:n/4], again[n/4:3*n/4], all[3*n/4:])
	if len(got) != len(want) {
		t.Fatalf("Baseline: %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Fatalf("Baseline entry %d:\n got %v\nwant %v", i, got[i], want[i])
		}
	}
}

// testBaselineConcurrent: processes merging one identity's baseline at
// once (concurrent Lambda invocations, trail files of several regions)
// all succeed and every value is kept: a merge that gives up under
// contention fails its whole batch.
func testBaselineConcurrent(t *testing.T, ctx context.Context, s iamwatch.Store) {
	bs := s.(iamwatch.BaselineStore)
	const writers, merges, values = 8, 5, 20
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	e := func(i int) iamwatch.BaselineEntry {
		return iamwatch.BaselineEntry{Rule: "service-first-use", Identity: "111122223333/alice", Value: fmt.Sprintf("svc-%d.amazonaws.com", i),
			First: at.Add(time.Duration(i) * time.Second), FirstEvent: fmt.Sprintf("e-%d", i), Last: at.Add(time.Duration(i) * time.Second)}
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for m := range merges {
				var b []iamwatch.BaselineEntry
				for v := range values {
					b = append(b, e((w*merges+m)*values+v), e(v)) // new values, and some every writer has
				}
				if err := bs.MergeBaseline(ctx, b); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent MergeBaseline: %v", err)
	}
	got, err := bs.Baseline(ctx, "service-first-use", "111122223333/alice")
	if err != nil || len(got) != writers*merges*values {
		t.Errorf("Baseline: %d entries, %v; want %d", len(got), err, writers*merges*values)
	}
}

// testFirstSeenOrderIndependent runs signin-new-country over one user's
// sign-ins (her office in the US from January 2; NL on the 25th, after the
// 14-day learning period; another user within hers) into fresh stores, in
// time order, newest first, and shuffled batches: every run ends with the
// same standing alert, raised by the same event. An older NL sign-in that
// arrives after the alert (the 6th: within learning) withdraws it.
func testFirstSeenOrderIndependent(t *testing.T, open func(t *testing.T) iamwatch.Store) {
	ctx := t.Context()
	eng := geoEngine(t, func(r *detect.Rule) bool { return r.Baseline != nil })
	evs := []iamwatch.Event{
		consoleSignIn(t, "a1", "alice", "2026-01-02T08:00:00Z", "203.0.113.10"),
		consoleSignIn(t, "a2", "alice", "2026-01-09T08:00:00Z", "203.0.113.11"),
		consoleSignIn(t, "a3", "alice", "2026-01-25T22:00:00Z", "192.0.2.151"), // NL: new
		consoleSignIn(t, "a4", "alice", "2026-01-27T22:00:00Z", "192.0.2.152"), // NL again
		consoleSignIn(t, "b1", "bob", "2026-01-20T08:00:00Z", "203.0.113.10"),
		consoleSignIn(t, "b2", "bob", "2026-01-21T08:00:00Z", "192.0.2.9"), // NL within bob's learning
	}
	standing := func(batches [][]iamwatch.Event) string {
		return standingAlerts(t, open, eng, batches, func(a iamwatch.Alert) string {
			if slices.Contains(a.Tags, iamwatch.WithdrawnTag) {
				return ""
			}
			return fmt.Sprintf("%s %s %s %s %s", a.Rule, a.Group, a.EventID, a.Country, a.Severity)
		})
	}
	one := func(order []int) [][]iamwatch.Event { return oneByOne(evs, order) }
	want := standing([][]iamwatch.Event{evs})
	if !strings.Contains(want, "signin-new-country 111122223333/alice a3 NL medium") || strings.Contains(want, "bob") {
		t.Fatalf("in time order, the standing alerts are:\n%s", want)
	}
	for name, batches := range map[string][][]iamwatch.Event{
		"newest first":  one([]int{5, 4, 3, 2, 1, 0}),
		"alert first":   one([]int{3, 2, 0, 5, 1, 4}),
		"two batches":   {{evs[2], evs[5]}, {evs[0], evs[1], evs[3], evs[4]}},
		"replayed":      {evs, evs},
		"reversed pair": {{evs[3], evs[1]}, {evs[2], evs[0], evs[4], evs[5]}},
	} {
		if got := standing(batches); got != want {
			t.Errorf("%s: standing alerts\n%s\nwant\n%s", name, got, want)
		}
	}
	// Withdrawn: the alert stands until an older NL sign-in, within her
	// learning period, comes late.
	late := consoleSignIn(t, "a0", "alice", "2026-01-06T08:00:00Z", "192.0.2.150")
	s := open(t)
	defer s.Close()
	for _, b := range [][]iamwatch.Event{evs, {late}} {
		if _, err := eng.Evaluate(ctx, s, b...); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Alerts(ctx, iamwatch.AlertFilter{Rule: "signin-new-country"})
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 1 || !slices.Contains(as[0].Tags, iamwatch.WithdrawnTag) || as[0].Severity != iamwatch.SeverityInfo ||
		as[0].EventID != "a0" || !strings.Contains(as[0].Summary, "Withdrawn: NL") {
		t.Errorf("after the late sign-in: %+v; want the alert withdrawn (info, event a0)", as)
	}
}

// geoEngine is an engine of the catalog's rules that pick accepts, with
// the sample GeoIP database (closed when t ends); it fails t when pick
// accepts none.
func geoEngine(t *testing.T, pick func(*detect.Rule) bool) *detect.Engine {
	t.Helper()
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var rs []*detect.Rule
	for _, r := range all {
		if pick(r) {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		t.Fatal("no rule of the catalog picked")
	}
	eng, err := detect.New(rs, detect.Config{Geo: db})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// consoleSignIn is a successful console sign-in with MFA by user of
// account 111122223333, at (RFC 3339) from ip, with event ID id.
func consoleSignIn(t *testing.T, id, user, at, ip string) iamwatch.Event {
	t.Helper()
	ev, err := cloudtrail.DecodeRecord(fmt.Appendf(nil, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","userName":%q},
	"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":%q,
	"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"},"eventID":%q,"eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
		user, user, at, ip, id))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// standingAlerts evaluates batches, in order, into a fresh store and
// returns its alerts as line renders them (sorted; "" leaves one out), one
// a line: what a run of an order-independence test ends with.
func standingAlerts(t *testing.T, open func(t *testing.T) iamwatch.Store, eng *detect.Engine, batches [][]iamwatch.Event, line func(iamwatch.Alert) string) string {
	t.Helper()
	s := open(t)
	defer s.Close()
	for _, b := range batches {
		if _, err := eng.Evaluate(t.Context(), s, b...); err != nil {
			t.Fatal(err)
		}
	}
	as, err := s.Alerts(t.Context(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if l := line(a); l != "" {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// oneByOne is evs in the given order, one event a batch.
func oneByOne(evs []iamwatch.Event, order []int) [][]iamwatch.Event {
	out := make([][]iamwatch.Event, 0, len(order))
	for _, i := range order {
		out = append(out, []iamwatch.Event{evs[i]})
	}
	return out
}

// testFirstSeenStoresFirsts: a first-seen rule over decoded fields
// (region-first-activity) stores, of a user's changes in time order
// however batched, the first in each region and no other; the same events
// again, newest first, store nothing more. The store's baselines, read
// before the events are stored (detect.Batch.KeepFirsts), decide it.
func testFirstSeenStoresFirsts(t *testing.T, open func(t *testing.T) iamwatch.Store) {
	eng := geoEngine(t, func(r *detect.Rule) bool { return r.ID == "region-first-activity" })
	evs := []iamwatch.Event{
		regionChange(t, "a1", "us-east-1", "2026-01-02T08:00:00Z"),
		regionChange(t, "a2", "us-east-1", "2026-01-03T08:00:00Z"),
		regionChange(t, "a3", "eu-west-1", "2026-01-22T08:00:00Z"), // new: alerts
		regionChange(t, "a4", "eu-west-1", "2026-01-22T09:00:00Z"),
		regionChange(t, "a5", "eu-west-1", "2026-01-23T08:00:00Z"),
		regionChange(t, "a6", "us-east-1", "2026-01-24T08:00:00Z"),
	}
	for name, batches := range map[string][][]iamwatch.Event{
		"one batch":      {evs},
		"one by one":     oneByOne(evs, []int{0, 1, 2, 3, 4, 5}),
		"two batches":    {evs[:3], evs[3:]},
		"uneven batches": {evs[:1], evs[1:4], evs[4:]},
	} {
		s := open(t)
		for _, b := range append(batches, oneByOne(evs, []int{5, 4, 3, 2, 1, 0})...) {
			if _, err := eng.Evaluate(t.Context(), s, b...); err != nil {
				t.Fatal(err)
			}
		}
		var stored []string
		if _, err := s.CommitAlerts(t.Context(), nil, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
			for _, ev := range evs {
				_, ok, err := v.Event(ctx, ev.ID, ev.Time)
				if err != nil {
					return nil, err
				}
				if ok {
					stored = append(stored, ev.ID)
				}
			}
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		as, err := s.Alerts(t.Context(), iamwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"a1", "a3"}; !slices.Equal(stored, want) || len(as) != 1 || as[0].EventID != "a3" {
			t.Errorf("%s: stored %q and %d alerts (%+v); want %q and one alert, raised by a3", name, stored, len(as), as, want)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
}

// regionChange is a change by alice of account 111122223333 in region at
// (RFC 3339), with event ID id.
func regionChange(t *testing.T, id, region, at string) iamwatch.Event {
	t.Helper()
	ev, err := cloudtrail.DecodeRecord(fmt.Appendf(nil, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},
	"eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"CreateTags","awsRegion":%q,"sourceIPAddress":"203.0.113.10","readOnly":false,
	"eventID":%q,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, at, region, id))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
