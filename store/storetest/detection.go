package storetest

import (
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
)

// burstEvents is a day and a half of denied calls by one IAM user (a burst
// every few hours, across midnight), failed console sign-ins, a root
// sign-in, secret reads (a distinct threshold) and a backdoor administrator
// (a sequence): what the built-in threshold, distinct, sequence, dedup and
// single-event rules see.
func burstEvents(t *testing.T) []iamwatch.Event {
	t.Helper()
	var out []iamwatch.Event
	add := func(raw string) {
		ev, err := cloudtrail.DecodeRecord([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	start := time.Date(2024, 1, 15, 20, 0, 0, 0, time.UTC)
	for i := range 90 {
		at := start.Add(time.Duration(i/15)*3*time.Hour + time.Duration(i%15)*20*time.Second)
		add(fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","userName":"ci"},
		"eventTime":%q,"eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.%d",
		"errorCode":"Client.UnauthorizedOperation","eventID":"deny-%03d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			at.Format(time.RFC3339), i%3, i))
	}
	for i := range 6 {
		add(fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","accountId":"111122223333","userName":"alice"},
		"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7",
		"responseElements":{"ConsoleLogin":"Failure"},"errorMessage":"Failed authentication","eventID":"fail-%d","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
			start.Add(time.Duration(i)*7*time.Minute).Format(time.RFC3339), i))
	}
	// Distinct thresholds: a secret read twice (one value) among six, across
	// two windows; and a backdoor administrator (a sequence) in reverse order.
	for i := range 8 {
		add(fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","userName":"ci"},
		"eventTime":%q,"eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9",
		"requestParameters":{"secretId":"prod/s-%d"},"eventID":"secret-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			start.Add(time.Duration(i)*90*time.Second+time.Duration(i/7)*time.Hour).Format(time.RFC3339), max(i%7-1, 0), i))
	}
	// The secret read twice read once more between: a repeat of its slot,
	// neither its first nor its last.
	add(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","userName":"ci"},
	"eventTime":"2024-01-15T20:00:45Z","eventSource":"secretsmanager.amazonaws.com","eventName":"GetSecretValue","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.9",
	"requestParameters":{"secretId":"prod/s-0"},"eventID":"secret-again","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`)
	for i, step := range []string{`"CreateAccessKey","requestParameters":{"userName":"svc-x"}`, `"AttachUserPolicy","requestParameters":{"userName":"svc-x","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`, `"CreateUser","requestParameters":{"userName":"svc-x"}`} {
		add(fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},
		"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%s,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66",
		"eventID":"seq-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, start.Add(time.Duration(2-i)*time.Minute).Format(time.RFC3339), step, i))
	}
	add(`{"eventVersion":"1.09","userIdentity":{"type":"Root","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},
	"eventTime":"2024-01-16T01:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.8",
	"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"root-1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`)
	return out
}

// testDetectionOrderIndependent runs the built-in rules over burstEvents
// into fresh stores: in time order in one batch; oldest first and newest
// first (as LookupEvents pages come), one event a batch; shuffled in random
// batches, twice over (a replay). Every run must leave the same alerts, and
// the same hits of the rules that ignore repeats: the first and the last
// of each value in each slot, whatever the batches were.
func testDetectionOrderIndependent(t *testing.T, open func(t *testing.T) iamwatch.Store) {
	ctx := t.Context()
	eng := ordertest.Catalog(t)
	evs := burstEvents(t)
	run := func(order []iamwatch.Event, batches [][2]int, times int) string {
		s := open(t)
		defer s.Close()
		for range times {
			for _, b := range batches {
				if _, err := eng.Evaluate(ctx, s, order[b[0]:b[1]]...); err != nil {
					t.Fatal(err)
				}
			}
		}
		return storedAlerts(t, ctx, s) + repeatHits(t, ctx, s)
	}
	want := run(evs, [][2]int{{0, len(evs)}}, 1)
	if n := strings.Count(want, "\n"); n < 5 {
		t.Fatalf("the reference run stored %d alerts:\n%s", n, want)
	}
	for _, rule := range []string{"secrets-read-burst/", "iam-backdoor-admin-user/"} {
		if !strings.Contains(want, "\n"+rule) {
			t.Fatalf("the reference run raised no %s alert:\n%s", rule, want)
		}
	}
	if !strings.Contains(want, "hit secrets-read-burst ") {
		t.Fatalf("the reference run left no hit of secrets-read-burst:\n%s", want)
	}
	var one [][2]int
	for i := range evs {
		one = append(one, [2]int{i, i + 1})
	}
	// Oldest first, one a batch: a live source, where an alert that exists
	// grows by the hits each commit adds (the resolver's cheap path).
	if got := run(evs, one, 1); got != want {
		t.Errorf("oldest first, one a batch:\n got %s\nwant %s", got, want)
	}
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	if got := run(rev, one, 1); got != want {
		t.Errorf("newest first, one a batch:\n got %s\nwant %s", got, want)
	}
	r := rand.New(rand.NewPCG(7, 11))
	shuffled := slices.Clone(evs)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	var random [][2]int
	for start := 0; start < len(shuffled); {
		end := min(len(shuffled), start+1+r.IntN(30))
		random = append(random, [2]int{start, end})
		start = end
	}
	if got := run(shuffled, random, 2); got != want {
		t.Errorf("shuffled, random batches, twice:\n got %s\nwant %s", got, want)
	}
}

// repeatHits renders the hits s holds of the alerts of the rules that
// ignore repeats among burstEvents' (secrets-read-burst: a secret read
// twice; denied-api-probing: the same call denied again and again).
func repeatHits(t *testing.T, ctx context.Context, s iamwatch.Store) string {
	t.Helper()
	var b strings.Builder
	for _, a := range alerts(t, ctx, s, iamwatch.AlertFilter{}) {
		if a.Rule != "secrets-read-burst" && a.Rule != "denied-api-probing" {
			continue
		}
		hs, err := s.Hits(ctx, a.Rule, a.Group, a.FirstSeen.Add(-24*time.Hour), a.LastSeen.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			fmt.Fprintf(&b, "hit %s %s %s %s %q\n", h.Rule, h.Group, h.EventID, h.Time.Format(time.RFC3339), h.Value)
		}
	}
	return b.String()
}

// storedAlerts renders s's alerts, sorted by key, without created-at
// dependent fields.
func storedAlerts(t *testing.T, ctx context.Context, s iamwatch.Store) string {
	t.Helper()
	as := alerts(t, ctx, s, iamwatch.AlertFilter{})
	slices.SortFunc(as, func(a, b iamwatch.Alert) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	var b strings.Builder
	for _, a := range as {
		if len(a.Tags) == 0 {
			a.Tags = nil
		}
		if len(a.References) == 0 {
			a.References = nil
		}
		fmt.Fprintf(&b, "%s %d %s %s..%s %s %v %q\n", a.DedupKey, a.Count, a.Time.UTC().Format(time.RFC3339),
			a.FirstSeen.UTC().Format(time.RFC3339), a.LastSeen.UTC().Format(time.RFC3339), a.SourceIP, a.EventIDs, a.Summary)
	}
	return b.String()
}
