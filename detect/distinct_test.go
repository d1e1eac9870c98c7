package detect

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

const distinctRule = `id: spread
title: Spread
severity: medium
match: {eventSource: [signin.amazonaws.com], eventName: [ConsoleLogin], responseElements: {ConsoleLogin: [Failure]}}
threshold: {count: 3, within: 1h, by: [user_name], distinct: source_ip}
summary: '{{.window_distinct}} IPs for {{.group}} within {{.within}}: {{.distinct_values}}; {{.count}} failures'
action: Look.
`

// spread is failed sign-ins of user, one from each IP at t0+offset.
func spread(t testing.TB, user string, ips []string, offsets ...time.Duration) []iamwatch.Event {
	var evs []iamwatch.Event
	for i, o := range offsets {
		evs = append(evs, failedLogin(t, fmt.Sprintf("%s-%d", user, i+1), user, ips[i%len(ips)], o))
	}
	return evs
}

func TestDistinctThreshold(t *testing.T) {
	m := time.Minute
	e := mustEngine(t, []*Rule{mustRule(t, distinctRule)}, Config{})
	ips := []string{"203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.3", "203.0.113.4"}
	got := keys(t, e, NewMemoryState(), spread(t, "alice", ips, 0, m, 2*m, 3*m, 4*m, 5*m))
	if got[3] != "" || got[4] == "" || got[5] != got[4] {
		t.Fatalf("keys = %q, want the third distinct IP (event 5) to raise and event 6 to join", got)
	}
	st := NewMemoryState()
	keys(t, e, st, spread(t, "alice", ips, 0, m, 2*m, 3*m, 4*m, 5*m))
	as := stored(t, st)
	if len(as) != 1 {
		t.Fatalf("alerts = %+v", as)
	}
	a := as[0]
	want := "4 IPs for alice within 1h: 203.0.113.1, 203.0.113.2, 203.0.113.3, 203.0.113.4; 6 failures"
	if a.Summary != want || a.EventID != "alice-5" || a.Count != 6 {
		t.Errorf("alert = %q raised by %s, count %d; want %q raised by alice-5", a.Summary, a.EventID, a.Count, want)
	}
	// Ten failures from one IP: many events, one value.
	if got := keys(t, e, NewMemoryState(), spread(t, "bob", []string{"203.0.113.9"}, 0, m, 2*m, 3*m, 4*m, 5*m, 6*m, 7*m, 8*m, 9*m)); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
		t.Errorf("one IP: keys = %q, want none", got)
	}
	// Three IPs, but not within one hour.
	if got := keys(t, e, NewMemoryState(), spread(t, "carl", []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"}, 0, 40*m, 80*m)); got[2] != "" {
		t.Errorf("spread over 80m: keys = %q, want none", got)
	}
}

// TestDistinctOrderIndependent: distinct thresholds leave the same alerts
// whatever the order and batching, including one event a batch oldest
// first (the resolver's cheap path) and newest first.
func TestDistinctOrderIndependent(t *testing.T) {
	m, h := time.Minute, time.Hour
	ips := []string{"203.0.113.1", "203.0.113.2", "203.0.113.1", "203.0.113.3", "203.0.113.4", "203.0.113.2", "203.0.113.5"}
	var evs []iamwatch.Event
	evs = append(evs, spread(t, "frank", ips, 0, 10*m, 20*m, 30*m, 40*m, 70*m, 71*m, 130*m, 131*m, 132*m, 133*m)...)
	evs = append(evs, spread(t, "gina", ips[1:], 0, m, 2*m, 3*m, 2*h, 2*h+m, 2*h+2*m, 2*h+3*m)...)
	evs = append(evs, spread(t, "hal", ips[2:], 15*h+58*m, 15*h+59*m, 16*h+m, 16*h+2*m, 16*h+3*m, 16*h+4*m, 17*h)...)
	evs = append(evs, spread(t, "ivo", []string{"203.0.113.1", "203.0.113.1", "203.0.113.2"}, 0, 25*m, 50*m, 75*m, 80*m)...)
	e := mustEngine(t, []*Rule{mustRule(t, distinctRule)}, Config{})
	ref := NewMemoryState()
	if _, err := e.Evaluate(context.Background(), ref, evs...); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(stored(t, ref))
	if n := len(stored(t, ref)); n < 3 {
		t.Fatalf("the reference run raised %d alerts: %s", n, want)
	}
	run := func(order []iamwatch.Event, batches [][2]int) string {
		st := NewMemoryState()
		for _, b := range batches {
			if _, err := e.Evaluate(context.Background(), st, order[b[0]:b[1]]...); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Sprint(stored(t, st))
	}
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b iamwatch.Event) int { return a.Time.Compare(b.Time) })
	var one [][2]int
	for i := range sorted {
		one = append(one, [2]int{i, i + 1})
	}
	if got := run(sorted, one); got != want {
		t.Errorf("oldest first, one a batch:\n got %s\nwant %s", got, want)
	}
	slices.Reverse(sorted)
	if got := run(sorted, one); got != want {
		t.Errorf("newest first, one a batch:\n got %s\nwant %s", got, want)
	}
	for seed := range uint64(12) {
		shuffled, batches := shuffleBatches(evs, seed+1)
		if got := run(shuffled, batches); got != want {
			t.Errorf("seed %d:\n got %s\nwant %s", seed+1, got, want)
		}
	}
}

func TestDistinctExpressionList(t *testing.T) {
	r := mustRule(t, `id: params
title: Params
severity: medium
match: {eventSource: [ssm.amazonaws.com], eventName: [GetParameters]}
threshold: {count: 3, within: 10m, by: [user_name], distinct: 'has(request.names) ? request.names : []'}
summary: '{{.window_distinct}} parameters: {{.distinct_values}}'
action: Look.
`)
	e := mustEngine(t, []*Rule{r}, Config{})
	ev := func(id string, at time.Duration, names string) iamwatch.Event {
		return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","userName":"ci"},
		"eventTime":%q,"eventSource":"ssm.amazonaws.com","eventName":"GetParameters","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.4",
		"requestParameters":{"names":%s,"withDecryption":true},"eventID":%q,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			t0.Add(at).Format(time.RFC3339), names, id))
	}
	st := NewMemoryState()
	got := keys(t, e, st, []iamwatch.Event{ev("p-1", 0, `["/a","/b"]`), ev("p-2", time.Minute, `["/b","/a"]`), ev("p-3", 2*time.Minute, `["/c\n/d"]`)})
	if got[1] != "" || got[2] == "" {
		t.Fatalf("keys = %q, want the third event to raise", got)
	}
	if s := stored(t, st)[0].Summary; s != `3 parameters: /a, /b, /c\x0a/d` {
		t.Errorf("summary = %q", s)
	}
}

const sequenceRule = `id: admin-backdoor
title: Admin backdoor
severity: critical
match: {eventSource: [iam.amazonaws.com], eventName: [CreateUser, AttachUserPolicy, CreateAccessKey]}
sequence:
  within: 1h
  group: 'principal_arn + " -> " + (has(request.userName) ? request.userName : "")'
  steps:
  - name: user created
    match: {eventName: [CreateUser]}
  - name: admin policy attached
    match: {eventName: [AttachUserPolicy]}
    condition: 'is_admin_policy(request.policyArn)'
  - name: access key created
    match: {eventName: [CreateAccessKey]}
summary: '{{.group}}: {{.distinct_timeline}}'
action: Look.
`

func iamCall(t testing.TB, id, name, params string, at time.Duration) iamwatch.Event {
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},
	"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66",
	"requestParameters":%s,"eventID":%q,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		t0.Add(at).Format(time.RFC3339), name, params, id))
}

func TestSequence(t *testing.T) {
	m := time.Minute
	r := mustRule(t, sequenceRule)
	if r.Threshold == nil || r.Threshold.Count != 3 {
		t.Fatalf("threshold = %+v, want 3 steps", r.Threshold)
	}
	e := mustEngine(t, []*Rule{r}, Config{})
	admin := `{"userName":"backup","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`
	readOnly := `{"userName":"backup","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`
	steps := []iamwatch.Event{
		iamCall(t, "s-3", "CreateAccessKey", `{"userName":"backup"}`, 2*m),
		iamCall(t, "s-1", "CreateUser", `{"userName":"backup"}`, 0),
		iamCall(t, "s-2", "AttachUserPolicy", admin, m),
	}
	st := NewMemoryState()
	got := keys(t, e, st, steps)
	if got[0] != "" || got[1] != "" || got[2] == "" {
		t.Fatalf("keys = %q, want the last step (in any order) to raise", got)
	}
	want := "arn:aws:iam::111122223333:user/mallory -> backup: user created (at 2025-03-04T08:00:00Z), admin policy attached (at 2025-03-04T08:01:00Z), access key created (at 2025-03-04T08:02:00Z)"
	if a := stored(t, st)[0]; a.Summary != want || a.EventID != "s-3" {
		t.Errorf("alert %q raised by %s, want %q raised by s-3 (the event completing the sequence in time order)", a.Summary, a.EventID, want)
	}
	// A read-only policy is no step; a key for another user is another group; too slow is no sequence.
	for name, evs := range map[string][]iamwatch.Event{
		"read-only":  {steps[1], iamCall(t, "s-2", "AttachUserPolicy", readOnly, m), steps[0]},
		"other user": {steps[1], steps[2], iamCall(t, "s-3", "CreateAccessKey", `{"userName":"other"}`, 2*m)},
		"over 1h":    {steps[1], steps[2], iamCall(t, "s-3", "CreateAccessKey", `{"userName":"backup"}`, 61*m)},
	} {
		if got := keys(t, e, NewMemoryState(), evs); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
			t.Errorf("%s: keys = %q, want none", name, got)
		}
	}
}

func TestSequenceParseErrors(t *testing.T) {
	for name, tt := range map[string]struct{ edit, want string }{
		"with threshold":  {"threshold: {count: 2, within: 1h, by: [user_name]}\n", "not both"},
		"supersedes":      {"supersedes: [iam-user-created]\n", "cannot supersede"},
		"one step":        {"", ""},
		"duplicate steps": {"", ""},
	} {
		src := sequenceRule + tt.edit
		switch name {
		case "one step":
			src, tt.want = strings.Replace(sequenceRule, "  - name: admin policy attached\n    match: {eventName: [AttachUserPolicy]}\n    condition: 'is_admin_policy(request.policyArn)'\n  - name: access key created\n    match: {eventName: [CreateAccessKey]}\n", "", 1), "2 to 10 steps"
		case "duplicate steps":
			src, tt.want = strings.Replace(sequenceRule, "name: access key created", "name: user created", 1), "duplicate step"
		}
		if _, err := ParseRule("x.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tt.want)
		}
	}
	if _, err := New([]*Rule{mustRule(t, sequenceRule)}, Config{Rules: map[string]RuleConfig{"admin-backdoor": {Threshold: &ThresholdOverride{Count: 2}}}}); err == nil {
		t.Error("a count override on a sequence was accepted")
	}
}
