package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Run runs the conformance suite. open must return a new, empty store; Run
// closes it at the end of each subtest.
func Run(t *testing.T, open func(t *testing.T) iamwatch.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, ctx context.Context, s iamwatch.Store)
	}{
		{"PutEvents/Idempotent", testPutEventsIdempotent},
		{"PutEvents/DuplicatesInBatch", testPutEventsDuplicatesInBatch},
		{"PutEvents/AcrossBatches", testPutEventsAcrossBatches},
		{"PutEvents/Empty", testPutEventsEmpty},
		{"ClaimAlert/New", testClaimAlertNew},
		{"ClaimAlert/Merge", testClaimAlertMerge},
		{"ClaimAlert/Batch", testClaimAlertBatch},
		{"Alerts/Filters", testAlertsFilters},
		{"Threshold/AddHit", testAddHit},
		{"Threshold/Hits", testHits},
		{"Threshold/HitValues", testHitValues},
		{"CommitAlerts/View", testCommitAlertsView},
		{"Outbox/Enqueue", testOutboxEnqueue},
		{"Outbox/Due", testOutboxDue},
		{"Outbox/Lifecycle", testOutboxLifecycle},
		{"Outbox/RetryFailed", testOutboxRetryFailed},
		{"Outbox/Claim", testOutboxClaim},
		{"Outbox/ClaimConcurrent", testOutboxClaimConcurrent},
		{"Outbox/SettledStays", testOutboxSettledStays},
		{"Outbox/Escalation", testOutboxEscalation},
		{"Outbox/EscalatedWhileSending", testOutboxEscalatedWhileSending},
		{"Outbox/Digest", testOutboxDigest},
		{"Checkpoints", testCheckpoints},
		{"Prune", testPrune},
		{"Triage", testTriage},
		{"Baseline", testBaseline},
		{"Baseline/ManyValues", testBaselineManyValues},
		{"Baseline/Concurrent", testBaselineConcurrent},
	}
	t.Run("Detection/OrderIndependent", func(t *testing.T) { testDetectionOrderIndependent(t, open) })
	t.Run("Detection/FirstSeenOrderIndependent", func(t *testing.T) { testFirstSeenOrderIndependent(t, open) })
	t.Run("Detection/FirstSeenStoresFirsts", func(t *testing.T) { testFirstSeenStoresFirsts(t, open) })
	t.Run("Detection/TravelOrderIndependent", func(t *testing.T) { testTravelOrderIndependent(t, open) })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, t.Context(), s)
		})
	}
}

// base is the time the suite's data starts at.
var base = time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC)

func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

// events returns n events with IDs prefix-0 … prefix-(n-1), one a minute.
func events(prefix string, n int) []iamwatch.Event {
	out := make([]iamwatch.Event, n)
	for i := range out {
		id := fmt.Sprintf("%s-%d", prefix, i)
		out[i] = iamwatch.Event{
			ID: id, Time: at(60 * i), Source: "iam.amazonaws.com", Name: "CreateUser",
			Type: iamwatch.TypeIAM, Category: "AwsApiCall", UserName: "alice", IdentityType: "IAMUser",
			PrincipalARN: "arn:aws:iam::111122223333:user/alice", AccountID: "111122223333",
			Region: "us-east-1", SourceIP: "198.51.100.7", UserAgent: "aws-cli/2.15.0",
			RequestParameters: json.RawMessage(`{"userName":"bob"}`),
			MFAUsed:           "no", ReadOnly: "false",
			Raw: json.RawMessage(`{"eventID":"` + id + `","eventName":"CreateUser"}`),
		}
	}
	return out
}

func put(t *testing.T, ctx context.Context, s iamwatch.Store, evs []iamwatch.Event, want int) {
	t.Helper()
	n, err := s.PutEvents(ctx, evs)
	if err != nil {
		t.Fatalf("PutEvents(%d events): %v", len(evs), err)
	}
	if n != want {
		t.Fatalf("PutEvents(%d events) inserted %d, want %d", len(evs), n, want)
	}
}

// countEvents counts stored events by pruning nothing: the interface has no
// event read, so the suite counts through Prune at the end of a test only.
func countEventsByPrune(t *testing.T, ctx context.Context, s iamwatch.Store) int {
	t.Helper()
	n, _, err := s.Prune(ctx, base.Add(100*365*24*time.Hour), time.Time{})
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	return n
}

func testPutEventsIdempotent(t *testing.T, ctx context.Context, s iamwatch.Store) {
	evs := events("e", 10)
	put(t, ctx, s, evs, 10)
	put(t, ctx, s, evs, 0)
	if n := countEventsByPrune(t, ctx, s); n != 10 {
		t.Errorf("stored %d events, want 10", n)
	}
}

func testPutEventsDuplicatesInBatch(t *testing.T, ctx context.Context, s iamwatch.Store) {
	evs := events("e", 5)
	batch := append(slices.Clone(evs), evs[1], evs[3], evs[1])
	put(t, ctx, s, batch, 5)
	if n := countEventsByPrune(t, ctx, s); n != 5 {
		t.Errorf("stored %d events, want 5", n)
	}
}

func testPutEventsAcrossBatches(t *testing.T, ctx context.Context, s iamwatch.Store) {
	evs := events("e", 20)
	put(t, ctx, s, evs[:12], 12)
	put(t, ctx, s, evs[8:], 8) // 8..11 are repeats.
	put(t, ctx, s, evs[5:15], 0)
	if n := countEventsByPrune(t, ctx, s); n != 20 {
		t.Errorf("stored %d events, want 20", n)
	}
}

func testPutEventsEmpty(t *testing.T, ctx context.Context, s iamwatch.Store) {
	put(t, ctx, s, nil, 0)
}

func alert(key string, sec int, ids ...string) iamwatch.Alert {
	return iamwatch.Alert{
		DedupKey: key, Rule: "root-login", Severity: iamwatch.SeverityCritical,
		Title: "Root Account Login", Summary: "Root account logged in from 198.51.100.7",
		Action: "Review this activity in CloudTrail now.", Time: at(sec),
		AccountID: "111122223333", Region: "us-east-1", UserName: "root",
		SourceIP: "198.51.100.7", EventName: "ConsoleLogin", Count: 1, EventIDs: ids,
		Tags: []string{"cis"}, References: []string{"CIS 1.7", "T1078.004"},
	}
}

func claim(t *testing.T, ctx context.Context, s iamwatch.Store, a iamwatch.Alert, want bool) {
	t.Helper()
	got, err := iamwatch.ClaimAlert(ctx, s, a)
	if err != nil {
		t.Fatalf("ClaimAlert(%s): %v", a.DedupKey, err)
	}
	if got != want {
		t.Fatalf("ClaimAlert(%s) = %v, want %v", a.DedupKey, got, want)
	}
}

func alerts(t *testing.T, ctx context.Context, s iamwatch.Store, f iamwatch.AlertFilter) []iamwatch.Alert {
	t.Helper()
	as, err := s.Alerts(ctx, f)
	if err != nil {
		t.Fatalf("Alerts(%+v): %v", f, err)
	}
	return as
}

func keys(as []iamwatch.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.DedupKey)
	}
	return out
}

func testClaimAlertNew(t *testing.T, ctx context.Context, s iamwatch.Store) {
	a := alert("k1", 0, "e-1")
	a.Group, a.WindowStart, a.WindowEnd = "alice", at(-300), at(0)
	a.FirstSeen, a.LastSeen = at(-300), at(0)
	claim(t, ctx, s, a, true)
	got := alerts(t, ctx, s, iamwatch.AlertFilter{})
	if len(got) != 1 {
		t.Fatalf("Alerts = %d alerts, want 1", len(got))
	}
	if g := got[0]; !alertEqual(g, a) {
		t.Errorf("stored alert\n got %+v\nwant %+v", g, a)
	}
}

// alertEqual compares alerts, times with Equal and empty lists as nil.
func alertEqual(a, b iamwatch.Alert) bool {
	norm := func(a iamwatch.Alert) iamwatch.Alert {
		for _, p := range []*[]string{&a.EventIDs, &a.Tags, &a.References} {
			if len(*p) == 0 {
				*p = nil
			}
		}
		a.Time, a.WindowStart, a.WindowEnd, a.FirstSeen, a.LastSeen = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
		return a
	}
	return a.Time.Equal(b.Time) && a.WindowStart.Equal(b.WindowStart) && a.WindowEnd.Equal(b.WindowEnd) &&
		a.FirstSeen.Equal(b.FirstSeen) && a.LastSeen.Equal(b.LastSeen) &&
		fmt.Sprintf("%#v", norm(a)) == fmt.Sprintf("%#v", norm(b))
}

// counted returns alert(key) standing for n events, raised at sec.
func counted(key string, sec, n int, ids ...string) iamwatch.Alert {
	a := alert(key, sec, ids...)
	a.Count, a.Summary = n, fmt.Sprintf("%d events", n)
	return a
}

func testClaimAlertMerge(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, counted("k1", 120, 2, "e-2", "e-3"), true)
	claim(t, ctx, s, counted("k1", 60, 1, "e-1"), false)               // counts fewer: ignored.
	claim(t, ctx, s, counted("k1", 60, 3, "e-1", "e-2", "e-3"), false) // counts more: replaces.
	claim(t, ctx, s, counted("k1", 600, 3, "e-9"), false)              // a tie keeps the stored one.
	claim(t, ctx, s, counted("k2", 0, 1, "e-9"), true)                 // another key is independent.

	got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: "k1"})
	if len(got) != 1 {
		t.Fatalf("Alerts(key k1) = %v, want 1 alert", keys(got))
	}
	if want := counted("k1", 60, 3, "e-1", "e-2", "e-3"); !alertEqual(got[0], want) {
		t.Errorf("k1\n got %+v\nwant %+v", got[0], want)
	}
	// An alert claimed without a count stands for one event.
	claim(t, ctx, s, alert("k3", 0, "e-5"), true)
	if got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: "k3"}); len(got) != 1 || got[0].Count != 1 {
		t.Errorf("k3 = %+v, want count 1", got)
	}
	// A withdrawn alert is reinstated by a claim raised as early, and only so.
	withdrawn := counted("k4", 60, 1, "e-4")
	withdrawn.Severity, withdrawn.Tags = iamwatch.SeverityInfo, []string{"baseline", iamwatch.WithdrawnTag}
	standing := counted("k4", 60, 1, "e-4")
	standing.Tags = []string{"baseline"}
	claim(t, ctx, s, withdrawn, true)
	claim(t, ctx, s, counted("k4", 120, 1, "e-5"), false) // raised later: ignored.
	if got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: "k4"}); len(got) != 1 || !alertEqual(got[0], withdrawn) {
		t.Errorf("k4 after a later claim = %+v, want it withdrawn", got)
	}
	claim(t, ctx, s, standing, false)
	claim(t, ctx, s, withdrawn, false) // a withdrawal does not replace a standing alert raised as early.
	if got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: "k4"}); len(got) != 1 || !alertEqual(got[0], standing) {
		t.Errorf("k4 = %+v, want it reinstated", got)
	}
	// Counting as many events, the later view replaces the stored alert:
	// the earlier first event, then the later last one (a rule that ignores
	// repeats swaps a kept event for a repeat); alike in all Merge compares,
	// the claim (a swap in the middle changes only the sample).
	seen := func(key string, first, last int, ids ...string) iamwatch.Alert {
		a := counted(key, 300, len(ids), ids...)
		a.FirstSeen, a.LastSeen = at(first), at(last)
		return a
	}
	claim(t, ctx, s, seen("k7", 60, 120, "e-2", "e-4"), true)
	claim(t, ctx, s, seen("k7", 90, 120, "e-3", "e-4"), false) // a later first event: ignored.
	claim(t, ctx, s, seen("k7", 30, 120, "e-1", "e-4"), false) // an earlier one: replaces.
	claim(t, ctx, s, seen("k7", 30, 110, "e-1", "e-3"), false) // an earlier last event: ignored.
	claim(t, ctx, s, seen("k7", 30, 150, "e-1", "e-5"), false) // a later one: replaces.
	claim(t, ctx, s, seen("k8", 30, 150, "e-1", "e-3", "e-5"), true)
	claim(t, ctx, s, seen("k8", 30, 150, "e-1", "e-2", "e-5"), false) // alike: the claim stands.
	for key, want := range map[string]iamwatch.Alert{"k7": seen("k7", 30, 150, "e-1", "e-5"), "k8": seen("k8", 30, 150, "e-1", "e-2", "e-5")} {
		got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: key})
		if len(got) != 1 || !slices.Equal(got[0].EventIDs, want.EventIDs) || !got[0].FirstSeen.Equal(want.FirstSeen) || !got[0].LastSeen.Equal(want.LastSeen) {
			t.Errorf("%s = %+v\nwant %+v", key, got, want)
		}
	}
	// Raised in the same second, the smaller raising event ID is kept,
	// whichever was claimed first.
	raisedBy := func(key, id string) iamwatch.Alert {
		a := counted(key, 60, 1, id)
		a.EventID = id
		return a
	}
	claim(t, ctx, s, raisedBy("k5", "e-7"), true)
	claim(t, ctx, s, raisedBy("k5", "e-6"), false)
	claim(t, ctx, s, raisedBy("k5", "e-8"), false)
	claim(t, ctx, s, raisedBy("k6", "e-6"), true)
	claim(t, ctx, s, raisedBy("k6", "e-7"), false)
	for _, key := range []string{"k5", "k6"} {
		if got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: key}); len(got) != 1 || got[0].EventID != "e-6" {
			t.Errorf("%s = %+v, want the one raised by e-6", key, got)
		}
	}
}

func testClaimAlertBatch(t *testing.T, ctx context.Context, s iamwatch.Store) {
	batch := []iamwatch.Alert{counted("b1", 0, 1, "e-1"), counted("b2", 0, 1, "e-2"), counted("b1", 0, 2, "e-1", "e-3")}
	claims, err := s.CommitAlerts(ctx, nil, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return batch, nil })
	if err != nil {
		t.Fatal(err)
	}
	var news []bool
	for _, c := range claims {
		news = append(news, c.New)
	}
	if !slices.Equal(news, []bool{true, true, false}) || claims[2].Alert.Count != 2 {
		t.Fatalf("claims %+v, want new, new, merged with count 2", claims)
	}
	if got := alerts(t, ctx, s, iamwatch.AlertFilter{Key: "b1"}); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("b1 = %+v", got)
	}
	// A resolver's error commits nothing.
	hit := iamwatch.Hit{Rule: "r", Group: "g", EventID: "x", Time: at(0)}
	if _, err := s.CommitAlerts(ctx, []iamwatch.Hit{hit}, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) {
		return nil, fmt.Errorf("boom")
	}); err == nil {
		t.Fatal("a failing resolver: no error")
	}
	if hs, err := s.Hits(ctx, "r", "g", at(-10), at(10)); err != nil || (len(hs) != 0 && !noTransactions(s)) {
		t.Errorf("hits after a failed commit: %+v, %v", hs, err)
	}
}

// noTransactions reports whether s documents CommitAlerts as not atomic
// (DynamoDB records hits before resolving, which is safe: hits are idempotent).
func noTransactions(s iamwatch.Store) bool {
	n, ok := s.(interface{ CommitIsAtomic() bool })
	return ok && !n.CommitIsAtomic()
}

func testCommitAlertsView(t *testing.T, ctx context.Context, s iamwatch.Store) {
	evs := events("v", 3)
	put(t, ctx, s, evs, 3)
	hits := []iamwatch.Hit{
		{Rule: "r", Group: "g", EventID: "v-1", Time: evs[1].Time},
		{Rule: "r", Group: "g", EventID: "v-0", Time: evs[0].Time},
		{Rule: "r", Group: "g", EventID: "v-0", Time: evs[0].Time}, // twice in one batch
	}
	for round := range 2 { // the second round repeats the batch
		claims, err := s.CommitAlerts(ctx, hits, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
			hs, err := v.Hits(ctx, "r", "g", at(-3600), at(3600))
			if err != nil {
				return nil, err
			}
			var ids []string
			for _, h := range hs {
				ids = append(ids, h.EventID)
			}
			if !slices.Equal(ids, []string{"v-0", "v-1"}) {
				t.Errorf("round %d: the resolver sees hits %v, want [v-0 v-1]", round, ids)
			}
			ev, ok, err := v.Event(ctx, "v-1", evs[1].Time)
			if err != nil || !ok || ev.ID != "v-1" || ev.UserName != evs[1].UserName {
				t.Errorf("round %d: Event(v-1) = %+v, %v, %v", round, ev, ok, err)
			}
			if _, ok, err := v.Event(ctx, "nope", evs[1].Time); ok || err != nil {
				t.Errorf("round %d: Event(nope) = %v, %v; want not found", round, ok, err)
			}
			return []iamwatch.Alert{counted("view", 60, len(hs), ids...)}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(claims) != 1 || claims[0].New != (round == 0) {
			t.Fatalf("round %d: claims %+v", round, claims)
		}
	}
}

func testAlertsFilters(t *testing.T, ctx context.Context, s iamwatch.Store) {
	mk := func(key, rule, group, user, acct string, sev iamwatch.Severity, sec int) iamwatch.Alert {
		a := alert(key, sec, key+"-event")
		a.Rule, a.Group, a.UserName, a.AccountID, a.Severity = rule, group, user, acct, sev
		return a
	}
	for _, a := range []iamwatch.Alert{
		mk("a", "root-login", "", "root", "111122223333", iamwatch.SeverityCritical, 0),
		mk("b", "failed-logins", "alice", "alice", "111122223333", iamwatch.SeverityMedium, 60),
		mk("c", "failed-logins", "bob", "bob", "444455556666", iamwatch.SeverityMedium, 120),
		mk("d", "new-user", "", "alice", "444455556666", iamwatch.SeverityLow, 180),
		mk("e", "root-login", "", "root", "444455556666", iamwatch.SeverityCritical, 240),
	} {
		claim(t, ctx, s, a, true)
	}
	tests := []struct {
		name string
		f    iamwatch.AlertFilter
		want []string // newest first
	}{
		{"all", iamwatch.AlertFilter{}, []string{"e", "d", "c", "b", "a"}},
		{"rule", iamwatch.AlertFilter{Rule: "failed-logins"}, []string{"c", "b"}},
		{"group", iamwatch.AlertFilter{Group: "alice"}, []string{"b"}},
		{"user", iamwatch.AlertFilter{UserName: "alice"}, []string{"d", "b"}},
		{"account", iamwatch.AlertFilter{AccountID: "444455556666"}, []string{"e", "d", "c"}},
		{"min severity", iamwatch.AlertFilter{MinSeverity: iamwatch.SeverityMedium}, []string{"e", "c", "b", "a"}},
		{"min severity high", iamwatch.AlertFilter{MinSeverity: iamwatch.SeverityHigh}, []string{"e", "a"}},
		{"since inclusive", iamwatch.AlertFilter{Since: at(60)}, []string{"e", "d", "c", "b"}},
		{"until exclusive", iamwatch.AlertFilter{Until: at(180)}, []string{"c", "b", "a"}},
		{"since until", iamwatch.AlertFilter{Since: at(60), Until: at(180)}, []string{"c", "b"}},
		{"limit", iamwatch.AlertFilter{Limit: 2}, []string{"e", "d"}},
		{"combined", iamwatch.AlertFilter{Rule: "root-login", AccountID: "111122223333"}, []string{"a"}},
		{"no match", iamwatch.AlertFilter{Rule: "nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keys(alerts(t, ctx, s, tt.f)); !slices.Equal(got, tt.want) {
				t.Errorf("Alerts(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

// addHits records hits with no alerts.
func addHits(t *testing.T, ctx context.Context, s iamwatch.Store, hs ...iamwatch.Hit) {
	t.Helper()
	_, err := s.CommitAlerts(ctx, hs, func(context.Context, iamwatch.StateView) ([]iamwatch.Alert, error) { return nil, nil })
	if err != nil {
		t.Fatalf("CommitAlerts(%+v): %v", hs, err)
	}
}

func testAddHit(t *testing.T, ctx context.Context, s iamwatch.Store) {
	h := iamwatch.Hit{Rule: "failed-logins", Group: "alice", EventID: "e-1", Time: at(0)}
	addHits(t, ctx, s, h)
	addHits(t, ctx, s, h, h) // a repeat, and twice in one batch
	h2 := h
	h2.Rule = "other-rule" // the same event counts for another rule.
	addHits(t, ctx, s, h2)
	hits, err := s.Hits(ctx, "failed-logins", "alice", at(-60), at(60))
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 {
		t.Fatalf("Hits = %+v, want one", hits)
	}
	if g := hits[0]; g.Rule != h.Rule || g.Group != h.Group || g.EventID != h.EventID || !g.Time.Equal(h.Time) {
		t.Errorf("Hits[0] = %+v, want %+v", g, h)
	}
	if hits, err := s.Hits(ctx, "other-rule", "alice", at(-60), at(60)); err != nil || len(hits) != 1 {
		t.Errorf("Hits(other-rule) = %+v, %v; want one", hits, err)
	}
	// Many hits in one call (more than one write request or statement).
	var many []iamwatch.Hit
	for i := range 300 {
		many = append(many, iamwatch.Hit{Rule: "burst", Group: "bob", EventID: fmt.Sprintf("m-%03d", i), Time: at(i)})
	}
	addHits(t, ctx, s, many...)
	if hits, err := s.Hits(ctx, "burst", "bob", at(0), at(299)); err != nil || len(hits) != 300 {
		t.Errorf("Hits(burst) = %d hits, %v; want 300", len(hits), err)
	}
}

// testHitValues: a distinct threshold's hits keep their values (one, none,
// several joined by newlines, non-ASCII), and a repeat with another value
// changes nothing: the first recording stands.
func testHitValues(t *testing.T, ctx context.Context, s iamwatch.Store) {
	want := []iamwatch.Hit{
		{Rule: "secrets-read", Group: "arn:aws:iam::111122223333:user/ci", EventID: "v-1", Time: at(0), Value: "prod/db"},
		{Rule: "secrets-read", Group: "arn:aws:iam::111122223333:user/ci", EventID: "v-2", Time: at(1)},
		{Rule: "secrets-read", Group: "arn:aws:iam::111122223333:user/ci", EventID: "v-3", Time: at(2), Value: "a\nb/ü\nc"},
	}
	addHits(t, ctx, s, want...)
	again := want[0]
	again.Value = "other"
	addHits(t, ctx, s, again)
	got, err := s.Hits(ctx, "secrets-read", want[0].Group, at(-1), at(3))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Hits = %+v, want %+v", got, want)
	}
	for i := range want {
		if g, w := got[i], want[i]; g.EventID != w.EventID || g.Value != w.Value || !g.Time.Equal(w.Time) {
			t.Errorf("Hits[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func testHits(t *testing.T, ctx context.Context, s iamwatch.Store) {
	// Added out of time order, in two groups.
	for _, h := range []struct {
		group, id string
		sec       int
	}{{"alice", "e-3", 180}, {"alice", "e-1", 60}, {"bob", "e-2", 120}, {"alice", "e-5", 300}, {"alice", "e-4", 240}, {"alice", "e-0", 0}} {
		addHits(t, ctx, s, iamwatch.Hit{Rule: "failed-logins", Group: h.group, EventID: h.id, Time: at(h.sec)})
	}
	tests := []struct {
		name     string
		group    string
		from, to time.Time
		want     []string
	}{
		{"all", "alice", at(-1000), at(1000), []string{"e-0", "e-1", "e-3", "e-4", "e-5"}},
		{"bounds inclusive", "alice", at(60), at(240), []string{"e-1", "e-3", "e-4"}},
		{"sub-second bounds", "alice", at(60).Add(time.Millisecond), at(240).Add(-time.Millisecond), []string{"e-3"}},
		{"other group", "bob", at(-1000), at(1000), []string{"e-2"}},
		{"empty window", "alice", at(61), at(179), nil},
		{"unknown group", "carol", at(-1000), at(1000), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := s.Hits(ctx, "failed-logins", tt.group, tt.from, tt.to)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hits {
				got = append(got, h.EventID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Hits(%s, %v, %v) = %v, want %v", tt.group, tt.from, tt.to, got, tt.want)
			}
		})
	}
	if hits, err := s.Hits(ctx, "other-rule", "alice", at(-1000), at(1000)); err != nil || len(hits) != 0 {
		t.Errorf("Hits(other-rule) = %v, %v; want none", hits, err)
	}
}

func deliveries(t *testing.T, ctx context.Context, s iamwatch.Store, key string) []iamwatch.Delivery {
	t.Helper()
	ds, err := s.Deliveries(ctx, key)
	if err != nil {
		t.Fatalf("Deliveries(%s): %v", key, err)
	}
	slices.SortFunc(ds, func(a, b iamwatch.Delivery) int {
		if a.Sink < b.Sink {
			return -1
		}
		if a.Sink > b.Sink {
			return 1
		}
		return 0
	})
	return ds
}

func due(t *testing.T, ctx context.Context, s iamwatch.Store, now time.Time, limit int) []string {
	t.Helper()
	ds, err := s.Due(ctx, now, limit)
	if err != nil {
		t.Fatalf("Due(%v, %d): %v", now, limit, err)
	}
	var out []string
	for _, d := range ds {
		if d.Alert.DedupKey != d.AlertKey {
			t.Errorf("Due: delivery %s/%s carries alert %q", d.AlertKey, d.Sink, d.Alert.DedupKey)
		}
		out = append(out, d.AlertKey+"/"+d.Sink)
	}
	return out
}

// wall is the suite's wall clock, with sub-second precision on purpose.
var wall = time.Date(2024, 2, 1, 12, 0, 0, 250_000_000, time.UTC)

func testOutboxEnqueue(t *testing.T, ctx context.Context, s iamwatch.Store) {
	// Only a stored alert is delivered: a delivery of another key would
	// have no text to send.
	if err := s.Enqueue(ctx, "never-claimed", []string{"slack"}, wall); err == nil {
		t.Error("enqueueing an alert that is not stored succeeded")
	}
	if ds, err := s.Due(ctx, wall.Add(time.Hour), 10); err != nil || len(ds) != 0 {
		t.Errorf("due after a refused enqueue: %v, %v; want none", ds, err)
	}
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall); err != nil {
		t.Fatal(err)
	}
	// Mark one sent, then enqueue again: nothing is reset, nothing doubled.
	if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email", "sns"}, wall.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ds := deliveries(t, ctx, s, "k1")
	want := []iamwatch.Delivery{
		{AlertKey: "k1", Sink: "email", Status: iamwatch.DeliveryPending, NextTry: wall},
		{AlertKey: "k1", Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Second)},
		{AlertKey: "k1", Sink: "sns", Status: iamwatch.DeliveryPending, NextTry: wall.Add(time.Minute)},
	}
	if len(ds) != len(want) {
		t.Fatalf("Deliveries = %+v, want %+v", ds, want)
	}
	for i := range want {
		if !deliveryEqual(ds[i], want[i]) {
			t.Errorf("delivery %d = %+v, want %+v", i, ds[i], want[i])
		}
	}
	if ds := deliveries(t, ctx, s, "no-such-alert"); len(ds) != 0 {
		t.Errorf("Deliveries(no-such-alert) = %+v, want none", ds)
	}
}

// An incident whose stored severity rises is sent again to a sink that had
// it, once; a pending delivery keeps its place; a lower claim changes
// nothing.
func testOutboxEscalation(t *testing.T, ctx context.Context, s iamwatch.Store) {
	a := alert("k1", 0, "e-1")
	a.Severity, a.Count = iamwatch.SeverityMedium, 4
	claim(t, ctx, s, a, true)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: "k1", Severity: iamwatch.SeverityMedium, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	check := func(step string, want ...iamwatch.Delivery) {
		t.Helper()
		ds := deliveries(t, ctx, s, "k1")
		if len(ds) != len(want) {
			t.Fatalf("%s: Deliveries = %+v, want %+v", step, ds, want)
		}
		for i := range want {
			if !deliveryEqual(ds[i], want[i]) || ds[i].Severity != want[i].Severity {
				t.Errorf("%s: delivery %d = %+v, want %+v", step, i, ds[i], want[i])
			}
		}
	}
	sentMedium := iamwatch.Delivery{AlertKey: "k1", Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Second), Severity: iamwatch.SeverityMedium}
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	check("the same severity again",
		iamwatch.Delivery{AlertKey: "k1", Sink: "email", Status: iamwatch.DeliveryPending, NextTry: wall, Severity: iamwatch.SeverityMedium}, sentMedium)

	a.Severity, a.Count = iamwatch.SeverityHigh, 6
	claim(t, ctx, s, a, false)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	pendingHigh := iamwatch.Delivery{AlertKey: "k1", Sink: "email", Status: iamwatch.DeliveryPending, NextTry: wall, Severity: iamwatch.SeverityHigh}
	resentHigh := iamwatch.Delivery{AlertKey: "k1", Sink: "slack", Status: iamwatch.DeliveryPending, NextTry: wall.Add(time.Minute), Severity: iamwatch.SeverityHigh}
	check("escalated", pendingHigh, resentHigh)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("escalated, enqueued again", pendingHigh, resentHigh)

	a.Severity, a.Count = iamwatch.SeverityMedium, 5 // an older view: Merge keeps the stored 6
	claim(t, ctx, s, a, false)
	if err := s.Enqueue(ctx, "k1", []string{"slack", "email"}, wall.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("a lower claim", pendingHigh, resentHigh)
	due, err := s.Due(ctx, wall.Add(time.Minute), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 || due[0].Alert.Severity != iamwatch.SeverityHigh || due[1].Alert.Severity != iamwatch.SeverityHigh {
		t.Errorf("Due = %+v, want both deliveries of the high alert", due)
	}
}

// testOutboxEscalatedWhileSending: an incident that escalates while its
// delivery is claimed and being sent is not lost when the sender marks
// what it read sent: the delivery stays pending at the new severity and is
// due, and marking that one sent settles it.
func testOutboxEscalatedWhileSending(t *testing.T, ctx context.Context, s iamwatch.Store) {
	a := alert("k1", 0, "e-1")
	a.Severity = iamwatch.SeverityLow
	claim(t, ctx, s, a, true)
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Due(ctx, wall, 0)
	if err != nil || len(ds) != 1 || ds[0].Severity != iamwatch.SeverityLow {
		t.Fatalf("Due = %+v, %v; want k1/slack at low", ds, err)
	}
	if ok, err := s.ClaimDelivery(ctx, ds[0].Delivery, wall.Add(5*time.Minute)); err != nil || !ok {
		t.Fatalf("ClaimDelivery = %v, %v", ok, err)
	}

	a.Severity, a.Count, a.EventIDs = iamwatch.SeverityHigh, 2, []string{"e-2"}
	claim(t, ctx, s, a, false)
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall.Add(time.Second)); err != nil {
		t.Fatal(err)
	}

	sent := ds[0].Delivery // what the sender read, now sent
	sent.Status, sent.Attempts, sent.SentAt = iamwatch.DeliverySent, 1, wall.Add(2*time.Second)
	if err := s.UpdateDelivery(ctx, sent); err != nil {
		t.Fatalf("UpdateDelivery of the low send after the rise: %v, want nil", err)
	}
	got := deliveries(t, ctx, s, "k1")
	if len(got) != 1 || got[0].Status != iamwatch.DeliveryPending || got[0].Severity != iamwatch.SeverityHigh {
		t.Fatalf("Deliveries after the low send = %+v, want k1/slack pending at high", got)
	}
	ds, err = s.Due(ctx, wall.Add(time.Minute), 0)
	if err != nil || len(ds) != 1 || ds[0].Alert.Severity != iamwatch.SeverityHigh {
		t.Fatalf("Due after the low send = %+v, %v; want k1/slack with the high alert", ds, err)
	}
	sent = ds[0].Delivery
	sent.Status, sent.Attempts, sent.SentAt = iamwatch.DeliverySent, 1, wall.Add(time.Minute)
	if err := s.UpdateDelivery(ctx, sent); err != nil {
		t.Fatal(err)
	}
	if got := deliveries(t, ctx, s, "k1"); len(got) != 1 || got[0].Status != iamwatch.DeliverySent {
		t.Errorf("Deliveries after the high send = %+v, want sent", got)
	}
}

func deliveryEqual(a, b iamwatch.Delivery) bool {
	return a.AlertKey == b.AlertKey && a.Sink == b.Sink && a.Status == b.Status && a.Attempts == b.Attempts &&
		a.NextTry.Equal(b.NextTry) && a.SentAt.Equal(b.SentAt) && a.LastError == b.LastError
}

func testOutboxDue(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	claim(t, ctx, s, alert("k2", 60, "e-2"), true)
	claim(t, ctx, s, alert("k3", 120, "e-3"), true)
	if err := s.Enqueue(ctx, "k2", []string{"slack"}, wall.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "k3", []string{"slack"}, wall.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"before any", wall, 0, nil},
		{"next try inclusive", wall.Add(time.Second), 0, []string{"k1/slack"}},
		{"oldest first", wall.Add(time.Minute), 0, []string{"k1/slack", "k2/slack"}},
		{"limit", wall.Add(2 * time.Hour), 2, []string{"k1/slack", "k2/slack"}},
		{"all", wall.Add(2 * time.Hour), 0, []string{"k1/slack", "k2/slack", "k3/slack"}},
		{"sub-second", wall.Add(time.Second - time.Millisecond), 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := due(t, ctx, s, tt.now, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("Due(%v, %d) = %v, want %v", tt.now, tt.limit, got, tt.want)
			}
		})
	}
	ds, err := s.Due(ctx, wall.Add(time.Second), 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Due = %+v, %v", ds, err)
	}
	if want := alert("k1", 0, "e-1"); !alertEqual(ds[0].Alert, want) {
		t.Errorf("Due alert\n got %+v\nwant %+v", ds[0].Alert, want)
	}
}

func testOutboxLifecycle(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	if err := s.Enqueue(ctx, "k1", []string{"webhook"}, wall); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 fails transiently: pending again, later.
	retry := wall.Add(30 * time.Second)
	if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "webhook", Status: iamwatch.DeliveryPending, Attempts: 1, NextTry: retry, LastError: "HTTP 500"}); err != nil {
		t.Fatal(err)
	}
	if got := due(t, ctx, s, wall.Add(time.Second), 0); len(got) != 0 {
		t.Errorf("Due before retry time = %v, want none", got)
	}
	if got := due(t, ctx, s, retry, 0); !slices.Equal(got, []string{"k1/webhook"}) {
		t.Errorf("Due at retry time = %v, want k1/webhook", got)
	}
	// Attempt 2 succeeds: never due again.
	sent := retry.Add(time.Second)
	if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "webhook", Status: iamwatch.DeliverySent, Attempts: 2, NextTry: retry, SentAt: sent}); err != nil {
		t.Fatal(err)
	}
	if got := due(t, ctx, s, sent.Add(24*time.Hour), 0); len(got) != 0 {
		t.Errorf("Due after sent = %v, want none", got)
	}
	ds := deliveries(t, ctx, s, "k1")
	want := iamwatch.Delivery{AlertKey: "k1", Sink: "webhook", Status: iamwatch.DeliverySent, Attempts: 2, NextTry: retry, SentAt: sent}
	if len(ds) != 1 || !deliveryEqual(ds[0], want) {
		t.Errorf("Deliveries = %+v, want [%+v]", ds, want)
	}
	// A claim repeat and an enqueue repeat change nothing.
	claim(t, ctx, s, alert("k1", 0, "e-1"), false)
	if err := s.Enqueue(ctx, "k1", []string{"webhook"}, sent); err != nil {
		t.Fatal(err)
	}
	if got := due(t, ctx, s, sent.Add(24*time.Hour), 0); len(got) != 0 {
		t.Errorf("Due after re-enqueue of a sent delivery = %v, want none", got)
	}
	if n, err := s.RetryFailed(ctx, "", sent); err != nil || n != 0 {
		t.Errorf("RetryFailed with nothing failed = %d, %v; want 0", n, err)
	}
}

func testOutboxRetryFailed(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	claim(t, ctx, s, alert("k2", 60, "e-2"), true)
	for _, k := range []string{"k1", "k2"} {
		if err := s.Enqueue(ctx, k, []string{"slack", "email"}, wall); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(key, sink string) {
		t.Helper()
		if err := s.UpdateDelivery(ctx, iamwatch.Delivery{AlertKey: key, Severity: iamwatch.SeverityCritical, Sink: sink, Status: iamwatch.DeliveryFailed, Attempts: 1, NextTry: wall, LastError: "HTTP 404"}); err != nil {
			t.Fatal(err)
		}
	}
	fail("k1", "slack")
	fail("k2", "slack")
	fail("k2", "email")
	if got := due(t, ctx, s, wall.Add(time.Hour), 0); !slices.Equal(got, []string{"k1/email"}) {
		t.Fatalf("Due with failures = %v, want only k1/email", got)
	}
	later := wall.Add(2 * time.Hour)
	if n, err := s.RetryFailed(ctx, "slack", later); err != nil || n != 2 {
		t.Fatalf("RetryFailed(slack) = %d, %v; want 2", n, err)
	}
	if got := due(t, ctx, s, later.Add(-time.Second), 0); !slices.Equal(got, []string{"k1/email"}) {
		t.Errorf("Due before the retry time = %v, want only k1/email", got)
	}
	if got := due(t, ctx, s, later, 0); len(got) != 3 || !slices.Contains(got, "k1/slack") || !slices.Contains(got, "k2/slack") {
		t.Errorf("Due after RetryFailed(slack) = %v, want k1/email, k1/slack, k2/slack", got)
	}
	for _, d := range deliveries(t, ctx, s, "k2") {
		want := iamwatch.DeliveryPending
		if d.Sink == "email" {
			want = iamwatch.DeliveryFailed
		}
		if d.Status != want {
			t.Errorf("k2/%s status = %s, want %s", d.Sink, d.Status, want)
		}
	}
	if n, err := s.RetryFailed(ctx, "", later); err != nil || n != 1 {
		t.Errorf("RetryFailed(all) = %d, %v; want 1", n, err)
	}
	if n, err := s.RetryFailed(ctx, "", later); err != nil || n != 0 {
		t.Errorf("RetryFailed(all) again = %d, %v; want 0", n, err)
	}
}

// testOutboxClaim: a claimed delivery is leased (not due again before the
// lease ends); a second claim of what Due returned fails; an expired lease
// makes it due again.
func testOutboxClaim(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Due(ctx, wall, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Due = %v, %v; want one", ds, err)
	}
	lease := wall.Add(5 * time.Minute)
	if ok, err := s.ClaimDelivery(ctx, ds[0].Delivery, lease); err != nil || !ok {
		t.Fatalf("first ClaimDelivery = %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimDelivery(ctx, ds[0].Delivery, lease); err != nil || ok {
		t.Errorf("second ClaimDelivery of the same read = %v, %v; want false", ok, err)
	}
	if got := due(t, ctx, s, wall.Add(time.Minute), 0); len(got) != 0 {
		t.Errorf("Due during the lease = %v, want none", got)
	}
	ds, err = s.Due(ctx, lease, 0)
	if err != nil || len(ds) != 1 || !ds[0].NextTry.Equal(lease) {
		t.Fatalf("Due when the lease ends = %+v, %v; want k1/slack due at the lease end", ds, err)
	}
	if ok, err := s.ClaimDelivery(ctx, ds[0].Delivery, lease.Add(5*time.Minute)); err != nil || !ok {
		t.Errorf("ClaimDelivery after the lease ended = %v, %v; want true", ok, err)
	}
	if ok, err := s.ClaimDelivery(ctx, iamwatch.Delivery{AlertKey: "nope", Sink: "slack", Status: iamwatch.DeliveryPending, NextTry: wall}, lease); err != nil || ok {
		t.Errorf("ClaimDelivery of a delivery never enqueued = %v, %v; want false, nil", ok, err)
	}
}

// testOutboxClaimConcurrent: of many dispatchers claiming one due delivery
// at once, exactly one wins.
func testOutboxClaimConcurrent(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall); err != nil {
		t.Fatal(err)
	}
	ds, err := s.Due(ctx, wall, 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("Due = %v, %v; want one", ds, err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ok, err := s.ClaimDelivery(ctx, ds[0].Delivery, wall.Add(time.Duration(i+1)*time.Minute))
			if err != nil {
				t.Errorf("ClaimDelivery: %v", err)
			}
			if ok {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d of 8 concurrent claims won, want exactly 1", n)
	}
}

// testOutboxSettledStays: a delivery marked sent (or failed) is never
// rewritten by a dispatcher that read it while it was pending: the update
// fails with ErrDeliverySettled and the stored delivery is unchanged.
func testOutboxSettledStays(t *testing.T, ctx context.Context, s iamwatch.Store) {
	claim(t, ctx, s, alert("k1", 0, "e-1"), true)
	if err := s.Enqueue(ctx, "k1", []string{"slack"}, wall); err != nil {
		t.Fatal(err)
	}
	sent := iamwatch.Delivery{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Second)}
	if err := s.UpdateDelivery(ctx, sent); err != nil {
		t.Fatal(err)
	}
	for _, again := range []iamwatch.Delivery{
		{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "slack", Status: iamwatch.DeliverySent, Attempts: 1, NextTry: wall, SentAt: wall.Add(time.Minute)},
		{AlertKey: "k1", Severity: iamwatch.SeverityCritical, Sink: "slack", Status: iamwatch.DeliveryPending, Attempts: 1, NextTry: wall.Add(time.Hour), LastError: "HTTP 500"},
	} {
		if err := s.UpdateDelivery(ctx, again); !errors.Is(err, iamwatch.ErrDeliverySettled) {
			t.Errorf("UpdateDelivery(%s) of a sent delivery = %v, want ErrDeliverySettled", again.Status, err)
		}
	}
	if ds := deliveries(t, ctx, s, "k1"); len(ds) != 1 || !deliveryEqual(ds[0], sent) {
		t.Errorf("Deliveries = %+v, want [%+v]", ds, sent)
	}
}

func testCheckpoints(t *testing.T, ctx context.Context, s iamwatch.Store) {
	const key = "lookup/111122223333/us-east-1/iam.amazonaws.com"
	cp, ok, err := s.Checkpoint(ctx, key)
	if err != nil || ok || cp != (iamwatch.Checkpoint{Key: key}) {
		t.Fatalf("Checkpoint(missing) = %+v, %v, %v; want zero with Key, false, nil", cp, ok, err)
	}
	if cps, err := s.Checkpoints(ctx); err != nil || len(cps) != 0 {
		t.Fatalf("Checkpoints on an empty store = %+v, %v", cps, err)
	}
	c1 := iamwatch.Checkpoint{Key: key, Position: "token-1", EventTime: at(0), LastRun: wall, Processed: 42, Status: "active"}
	c2 := iamwatch.Checkpoint{Key: "s3/trail-bucket/AWSLogs", Position: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/01/15/x.json.gz", EventTime: at(60), LastRun: wall, Processed: 7, Status: "error", LastError: "AccessDenied"}
	for _, c := range []iamwatch.Checkpoint{c1, c2} {
		if err := s.PutCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c1.Position, c1.EventTime, c1.LastRun, c1.Processed = "token-2", at(120), wall.Add(time.Minute), 99
	if err := s.PutCheckpoint(ctx, c1); err != nil { // replaces
		t.Fatal(err)
	}
	for _, want := range []iamwatch.Checkpoint{c1, c2} {
		got, ok, err := s.Checkpoint(ctx, want.Key)
		if err != nil || !ok || !checkpointEqual(got, want) {
			t.Errorf("Checkpoint(%s) = %+v, %v, %v; want %+v", want.Key, got, ok, err, want)
		}
	}
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 2 {
		t.Fatalf("Checkpoints = %+v, want 2", cps)
	}
	for _, got := range cps {
		want := c1
		if got.Key == c2.Key {
			want = c2
		}
		if !checkpointEqual(got, want) {
			t.Errorf("Checkpoints: %+v, want %+v", got, want)
		}
	}
}

func checkpointEqual(a, b iamwatch.Checkpoint) bool {
	return a.Key == b.Key && a.Position == b.Position && a.EventTime.Equal(b.EventTime) && a.LastRun.Equal(b.LastRun) &&
		a.Processed == b.Processed && a.Status == b.Status && a.LastError == b.LastError
}

func testPrune(t *testing.T, ctx context.Context, s iamwatch.Store) {
	put(t, ctx, s, events("e", 10), 10) // at 0, 60, …, 540 s.
	claim(t, ctx, s, alert("old", 0, "e-0"), true)
	claim(t, ctx, s, alert("new", 300, "e-5"), true)
	for _, k := range []string{"old", "new"} {
		if err := s.Enqueue(ctx, k, []string{"slack"}, wall); err != nil {
			t.Fatal(err)
		}
	}
	addHits(t, ctx, s, iamwatch.Hit{Rule: "r", Group: "g", EventID: "e-0", Time: at(0)}, iamwatch.Hit{Rule: "r", Group: "g", EventID: "e-5", Time: at(300)})

	// Zero times prune nothing.
	if ev, al, err := s.Prune(ctx, time.Time{}, time.Time{}); err != nil || ev != 0 || al != 0 {
		t.Fatalf("Prune(zero, zero) = %d, %d, %v; want 0, 0", ev, al, err)
	}
	// Events only: strictly before 240 s → e-0 … e-3.
	if ev, al, err := s.Prune(ctx, at(240), time.Time{}); err != nil || ev != 4 || al != 0 {
		t.Fatalf("Prune(events < 240s) = %d, %d, %v; want 4, 0", ev, al, err)
	}
	if n, _ := s.PutEvents(ctx, events("e", 10)); n != 4 {
		t.Errorf("re-put after prune inserted %d, want the 4 pruned", n)
	}
	// Alerts only, strictly before 300 s: "old", its delivery and old hits.
	if ev, al, err := s.Prune(ctx, time.Time{}, at(300)); err != nil || ev != 0 || al != 1 {
		t.Fatalf("Prune(alerts < 300s) = %d, %d, %v; want 0, 1", ev, al, err)
	}
	if got := keys(alerts(t, ctx, s, iamwatch.AlertFilter{})); !slices.Equal(got, []string{"new"}) {
		t.Errorf("alerts after prune = %v, want [new]", got)
	}
	if ds := deliveries(t, ctx, s, "old"); len(ds) != 0 {
		t.Errorf("deliveries of a pruned alert = %+v, want none", ds)
	}
	if got := due(t, ctx, s, wall, 0); !slices.Equal(got, []string{"new/slack"}) {
		t.Errorf("Due after prune = %v, want [new/slack]", got)
	}
	hits, err := s.Hits(ctx, "r", "g", at(-1000), at(1000))
	if err != nil || len(hits) != 1 || hits[0].EventID != "e-5" {
		t.Errorf("Hits after prune = %+v, %v; want only e-5", hits, err)
	}
	// A pruned dedup key can be claimed again.
	claim(t, ctx, s, alert("old", 0, "e-0"), true)
}
