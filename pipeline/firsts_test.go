package pipeline_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// activity is, from seed, six weeks of changes (and a few Bedrock calls)
// by four principals in five regions, in time order: each keeps to a
// region or two for weeks, then tries others.
func activity(t *testing.T, seed uint64) []iamwatch.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 41))
	users := []string{"alice", "bob", "ci", "ops"}
	regions := []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"}
	var evs []iamwatch.Event
	for i := range 600 {
		day := r.IntN(42)
		region := regions[r.IntN(min(len(regions), 1+day/8))]
		source, name := "ec2.amazonaws.com", "CreateTags"
		if day > 20 && r.IntN(20) == 0 {
			source, name = "bedrock.amazonaws.com", "InvokeModel"
		}
		at := t0.Add(time.Duration(day)*24*time.Hour + time.Duration(r.IntN(86400))*time.Second)
		user := users[r.IntN(len(users))]
		ev, err := cloudtrail.DecodeRecord(fmt.Appendf(nil, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE%s",
		"arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE%s","userName":%q},"eventTime":%q,
		"eventSource":%q,"eventName":%q,"awsRegion":%q,"sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2","requestParameters":null,
		"responseElements":null,"eventID":"a-%03d","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			strings.ToUpper(user), user, strings.ToUpper(user), user, at.Format(time.RFC3339), source, name, region, i))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	slices.SortStableFunc(evs, func(x, y iamwatch.Event) int { return x.Time.Compare(y.Time) })
	return evs
}

// batched cuts events into batches of size n (the last one shorter).
func batched(events []iamwatch.Event, n int) [][]iamwatch.Event {
	var out [][]iamwatch.Event
	for b := range slices.Chunk(events, n) {
		out = append(out, b)
	}
	return out
}

// TestStoredEventsDoNotDependOnBatching: the built-in rules over the same
// events in time order, however batched, store the same events and
// alerts; the same events again, in any order and batching, store nothing
// more; and in any order the standing alerts are the same and every event
// an alert names is stored.
func TestStoredEventsDoNotDependOnBatching(t *testing.T) {
	ctx := context.Background()
	eng := ordertest.Catalog(t)
	evs := activity(t, 1)
	byRegion := slices.Clone(evs)
	slices.SortStableFunc(byRegion, func(x, y iamwatch.Event) int { return cmp.Compare(x.Region, y.Region) })
	newest := slices.Clone(evs)
	slices.Reverse(newest)
	r := rand.New(rand.NewPCG(5, 6))
	shuffled := slices.Clone(evs)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

	// run processes batches into a new store and returns its event IDs
	// and standing alerts (rule, group, raising event, severity), one a
	// line, then checks that every event an alert names is stored.
	run := func(name string, batches ...[][]iamwatch.Event) (string, string) {
		st := openStore(t)
		p, err := pipeline.New(st, pipeline.Options{Detector: eng})
		if err != nil {
			t.Fatal(err)
		}
		var ids, alerts []string
		for i, bs := range batches {
			for _, b := range bs {
				if _, err := p.Process(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			stored, err := st.Events(ctx, sqlite.EventFilter{})
			if err != nil {
				t.Fatal(err)
			}
			now := make([]string, 0, len(stored))
			for _, e := range stored {
				now = append(now, e.ID)
			}
			slices.Sort(now)
			if i > 0 && !slices.Equal(now, ids) {
				t.Errorf("%s: the same events again stored %d more", name, len(now)-len(ids))
			}
			ids = now
		}
		as, err := st.Alerts(ctx, iamwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if !a.Withdrawn() { // by a late, older event: out of order only
				alerts = append(alerts, fmt.Sprintf("%s %s %s %s", a.Rule, a.Group, a.EventID, a.Severity))
			}
			for _, id := range append([]string{a.EventID}, a.EventIDs...) {
				if _, ok := slices.BinarySearch(ids, id); !ok {
					t.Errorf("%s: alert %s names event %s, which is not stored", name, a.DedupKey, id)
				}
			}
		}
		slices.Sort(alerts)
		return strings.Join(ids, " "), strings.Join(alerts, "\n")
	}
	wantIDs, wantAlerts := run("one batch", [][]iamwatch.Event{evs})
	if !strings.Contains(wantAlerts, "region-first-activity") || !strings.Contains(wantAlerts, "service-first-use") {
		t.Fatalf("the events raise no first-seen alert of each kind:\n%s", wantAlerts)
	}
	for _, tc := range []struct {
		name    string
		batches [][]iamwatch.Event
	}{
		{"one by one", batched(evs, 1)},
		{"batches of 7", batched(evs, 7)},
		{"batches of 100", batched(evs, 100)},
	} {
		ids, alerts := run(tc.name, tc.batches, batched(shuffled, 13), batched(newest, 50))
		if ids != wantIDs {
			t.Errorf("%s: stored\n%s\nwant\n%s", tc.name, ids, wantIDs)
		}
		if alerts != wantAlerts {
			t.Errorf("%s: alerts\n%s\nwant\n%s", tc.name, alerts, wantAlerts)
		}
	}
	for _, tc := range []struct {
		name    string
		batches [][]iamwatch.Event
	}{
		{"newest first", batched(newest, 50)},
		{"shuffled", batched(shuffled, 20)},
		// A service's events come in time order for each region, not
		// across them: an earlier region's first Bedrock call is stored
		// when a later one was.
		{"region by region", batched(byRegion, 50)},
	} {
		if _, alerts := run(tc.name, tc.batches, batched(evs, 9)); alerts != wantAlerts {
			t.Errorf("%s: standing alerts\n%s\nwant\n%s", tc.name, alerts, wantAlerts)
		}
	}
}
