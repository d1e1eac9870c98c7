package detect

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// repeatsRule is a light distinct threshold (decoded pattern, a condition
// and a group over fields only); %s is its repeats setting.
const repeatsRule = `id: reads
title: Reads
severity: medium
match: {eventSource: [iam.amazonaws.com], eventName: [GetRole, ListRoles, ListUsers, GetUser, ListPolicies, GetPolicy, ListGroups, GetGroup]}
condition: '!source_ip.endsWith(".amazonaws.com") && session_from_console != "true"'
threshold: {count: 4, within: 10m, group: 'principal_arn != "" ? principal_arn : user_name', distinct: event_name%s}
summary: '{{.group}}: {{.window_distinct}} reads ({{.distinct_values}}), {{.count}} counted'
action: Look.
`

var readNames = []string{"GetRole", "ListRoles", "ListUsers", "GetUser", "ListPolicies", "GetPolicy", "ListGroups", "GetGroup"}

// iamRead is user's call of name at t0+at; extra is more record members.
func iamRead(t testing.TB, id, user, name string, at time.Duration, extra string) iamwatch.Event {
	t.Helper()
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/%s","accountId":"111122223333","userName":%q},
	"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.66",
	"requestParameters":{},"eventID":%q,"readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"%s}`,
		user, user, t0.Add(at).Format(time.RFC3339), name, id, extra))
}

// readStream is, from seed, a day of IAM reads by a few principals: a
// poller repeating two calls every 20 seconds, and bursts of reads (some
// reaching the threshold, some not), some through the console.
func readStream(t testing.TB, seed uint64) []iamwatch.Event {
	r := rand.New(rand.NewPCG(seed, 17))
	var evs []iamwatch.Event
	for i := range 2000 {
		at := time.Duration(i) * 20 * time.Second
		evs = append(evs, iamRead(t, fmt.Sprintf("p-%d", i), "poller", readNames[i%2], at, ""))
	}
	for i := range 600 {
		user := []string{"alice", "bob", "carl"}[r.IntN(3)]
		at := time.Duration(r.IntN(int(12*time.Hour/time.Second))) * time.Second
		if i%3 == 0 { // bursts: a few calls close together
			at = time.Duration(r.IntN(6))*2*time.Hour + time.Duration(r.IntN(900))*time.Second
		}
		extra := ""
		if r.IntN(10) == 0 {
			extra = `,"sessionCredentialFromConsole":"true"`
		}
		evs = append(evs, iamRead(t, fmt.Sprintf("r-%d", i), user, readNames[r.IntN(len(readNames))], at, extra))
	}
	return evs
}

// firedKeys evaluates evs on e into st in one batch and returns the dedup
// keys of the alerts st then holds.
func firedKeys(t *testing.T, e *Engine, st *MemoryState, evs []iamwatch.Event) []string {
	t.Helper()
	if _, err := e.Evaluate(context.Background(), st, evs...); err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, a := range stored(t, st) {
		ks = append(ks, a.DedupKey)
	}
	return ks
}

// sameInSplits checks that e leaves the alerts want (as printed) from evs
// in splits shuffled batchings (seeds seed*10+1 on).
func sameInSplits(t *testing.T, e *Engine, evs []iamwatch.Event, seed, splits uint64, want string) {
	t.Helper()
	for split := range splits {
		order, batches := shuffleBatches(evs, seed*10+split+1)
		st := NewMemoryState()
		for _, b := range batches {
			if _, err := e.Evaluate(context.Background(), st, order[b[0]:b[1]]...); err != nil {
				t.Fatal(err)
			}
		}
		if got := fmt.Sprint(stored(t, st)); got != want {
			t.Errorf("seed %d, split %d:\n got %s\nwant %s", seed+1, split+1, got, want)
		}
	}
}

// TestRepeatsIgnore: a light distinct threshold that ignores repeats
// raises exactly the alerts it raises counting every event, leaves the
// same alerts whatever the order and batching, keeps the events its
// alerts list, and keeps and counts few of a poller's calls.
func TestRepeatsIgnore(t *testing.T) {
	ctx := context.Background()
	ignore := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(repeatsRule, ", repeats: ignore"))}, Config{})
	count := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(repeatsRule, ""))}, Config{})
	if c := ignore.rules[0]; !c.light || !c.ignoreRepeats || !count.rules[0].light {
		t.Fatalf("light %v, ignoreRepeats %v: want a light rule ignoring repeats", c.light, c.ignoreRepeats)
	}
	for seed := range uint64(4) {
		evs := readStream(t, seed+1)
		ref, all := NewMemoryState(), NewMemoryState()
		want, got := firedKeys(t, count, all, evs), firedKeys(t, ignore, ref, evs)
		if len(want) < 2 || !slices.Equal(got, want) {
			t.Fatalf("seed %d: ignoring repeats raised %q, counting every event %q: want the same, at least two", seed+1, got, want)
		}
		if kept, every := ref.EventCount(), all.EventCount(); kept*3 > every {
			t.Errorf("seed %d: %d events kept ignoring repeats, %d counting every one: want under a third", seed+1, kept, every)
		}
		for _, a := range stored(t, ref) {
			if strings.Contains(a.Group, "poller") {
				t.Errorf("seed %d: the poller's two calls raised %s", seed+1, a.Summary)
			}
			for _, id := range a.EventIDs {
				if _, ok, _ := (memView{m: ref}).Event(ctx, id, time.Time{}); !ok {
					t.Errorf("seed %d: alert %s lists event %s, which is not kept", seed+1, a.DedupKey, id)
				}
			}
		}
		sameInSplits(t, ignore, evs, seed, 4, fmt.Sprint(stored(t, ref)))
	}
}

// TestRepeatsIgnoreKeepsEnds: in one batch, of a value repeated within a
// slot only the first and last calls are hits and kept; the light rule
// parses nothing (a record that does not parse is not reported).
func TestRepeatsIgnoreKeepsEnds(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(repeatsRule, ", repeats: ignore"))}, Config{})
	var evs []iamwatch.Event
	for i := range 30 { // GetRole every 10s for 5 minutes: one slot
		evs = append(evs, iamRead(t, fmt.Sprintf("g-%02d", i), "app", "GetRole", time.Duration(i)*10*time.Second, ""))
	}
	b, err := e.Match(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for i, k := range b.Keep {
		if k {
			kept = append(kept, evs[i].ID)
		}
	}
	var hits []string
	for _, h := range b.Hits {
		hits = append(hits, h.EventID)
	}
	if want := []string{"g-00", "g-29"}; !slices.Equal(kept, want) || !slices.Equal(hits, want) {
		t.Errorf("kept %q, hits %q; want %q", kept, hits, want)
	}
	if len(b.Unevaluated) != 0 {
		t.Errorf("unevaluated: %v", b.Unevaluated)
	}
}

func TestRepeatsNeedsDistinct(t *testing.T) {
	src := strings.Replace(fmt.Sprintf(repeatsRule, ", repeats: ignore"), ", distinct: event_name", "", 1)
	if _, err := ParseRule("test.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "needs threshold.distinct") {
		t.Errorf("err = %v, want repeats to need distinct", err)
	}
	src = fmt.Sprintf(repeatsRule, ", repeats: sometimes")
	if _, err := ParseRule("test.yaml", []byte(src)); err == nil || !strings.Contains(err.Error(), "must be count or ignore") {
		t.Errorf("err = %v, want the values named", err)
	}
}

// TestLightThresholdRules: which threshold rules are decided on the decoded
// fields, and that a light rule grouped by fields (not read by its
// condition) keeps its groups apart when one evaluation serves several
// events.
func TestLightThresholdRules(t *testing.T) {
	for _, tt := range []struct {
		name, match, extra string
		light              bool
	}{
		{"fields only", `{eventSource: [iam.amazonaws.com], eventName: [GetRole]}`, `condition: 'session_from_console != "true"'`, true},
		{"the record in the condition", `{eventSource: [iam.amazonaws.com], eventName: [GetRole]}`, `condition: 'has(event.sessionCredentialFromConsole)'`, false},
		{"request parameters", `{eventSource: [iam.amazonaws.com], eventName: [GetRole]}`, `condition: 'has(request.roleName)'`, false},
		{"a pattern on the request", `{eventName: [GetRole], requestParameters: {roleName: [admin]}}`, ``, false},
		{"superseding", `{eventSource: [iam.amazonaws.com], eventName: [GetRole]}`, "supersedes: [other]", false},
	} {
		src := fmt.Sprintf("id: r\ntitle: R\nseverity: low\nmatch: %s\n%s\nthreshold: {count: 2, within: 10m, by: [user_name]}\nsummary: x\naction: Look.\n", tt.match, tt.extra)
		e := mustEngine(t, []*Rule{mustRule(t, src)}, Config{})
		if got := e.rules[0].light; got != tt.light {
			t.Errorf("%s: light = %v, want %v", tt.name, got, tt.light)
		}
	}
	e := mustEngine(t, []*Rule{mustRule(t, `id: r
title: R
severity: low
match: {eventSource: [iam.amazonaws.com], eventName: [GetRole]}
condition: 'source_ip != "AWS Internal"'
threshold: {count: 2, within: 10m, by: [user_name]}
summary: '{{.group}}'
action: Look.
`)}, Config{})
	var evs []iamwatch.Event
	for i, u := range []string{"ann", "ben", "ann", "ben"} {
		evs = append(evs, iamRead(t, fmt.Sprintf("b-%d", i), u, "GetRole", time.Duration(i)*time.Second, ""))
	}
	b, err := e.Match(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	var groups []string
	for _, h := range b.Hits {
		groups = append(groups, h.Group)
	}
	if want := []string{"ann", "ben", "ann", "ben"}; !slices.Equal(groups, want) {
		t.Errorf("groups %q, want %q", groups, want)
	}
}

// TestRepeatsIgnoreNewestFirst: events newest first, one a batch (as
// LookupEvents pages come), end in the alert of one batch. Each older
// repeat of the first call replaces the first kept hit of its slot without
// counting more, so the stored alert must give way to the claim of the
// earlier first event (iamwatch.Merge), or it keeps a first seen and a
// sample no single batch gives (found on the Invictus capture:
// iam-enumeration's GetUser).
func TestRepeatsIgnoreNewestFirst(t *testing.T) {
	ctx := context.Background()
	e := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(repeatsRule, ", repeats: ignore"))}, Config{})
	s := time.Second
	evs := []iamwatch.Event{
		iamRead(t, "e-1", "alice", "GetUser", 0, ""),
		iamRead(t, "e-2", "alice", "GetUser", 1*s, ""),
		iamRead(t, "e-3", "alice", "GetUser", 30*s, ""),
		iamRead(t, "e-4", "alice", "GetRole", 60*s, ""),
		iamRead(t, "e-5", "alice", "ListRoles", 90*s, ""),
		iamRead(t, "e-6", "alice", "ListUsers", 120*s, ""),
	}
	one := NewMemoryState()
	if _, err := e.Evaluate(ctx, one, evs...); err != nil {
		t.Fatal(err)
	}
	want := stored(t, one)
	if len(want) != 1 || want[0].Count != 5 || !want[0].FirstSeen.Equal(t0) || want[0].EventIDs[0] != "e-1" {
		t.Fatalf("one batch: %+v, want one alert counting 5 from e-1", want)
	}
	st := NewMemoryState()
	for i := len(evs) - 1; i >= 0; i-- {
		if _, err := e.Evaluate(ctx, st, evs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := stored(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("newest first, one a batch:\n got %+v\nwant %+v", got, want)
	}
}

// agentSequenceRule is a sequence keyed by source address whose first step is
// routine traffic (an instance's agent calling every 20 seconds) and whose
// second is rare (a command sent); %s is its repeats setting.
const agentSequenceRule = `id: agent-then-command
title: Agent then command
severity: high
match: {eventSource: [ssm.amazonaws.com], eventName: [UpdateInstanceInformation, SendCommand]}
sequence:
  within: 1h
  group: 'source_ip'%s
  steps:
  - name: agent call
    match: {eventName: [UpdateInstanceInformation]}
  - name: command sent
    match: {eventName: [SendCommand]}
summary: '{{.group}}: {{.distinct_values}}'
action: Look.
`

// ssmCall is name called from ip at t0+at.
func ssmCall(t testing.TB, id, ip, name string, at time.Duration) iamwatch.Event {
	t.Helper()
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ops","accountId":"111122223333","userName":"ops"},
	"eventTime":%q,"eventSource":"ssm.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":%q,
	"requestParameters":{},"eventID":%q,"readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
		t0.Add(at).Format(time.RFC3339), name, ip, id))
}

// TestSequenceRepeatsIgnore: a sequence that ignores repeats completes
// exactly when the one counting every event does, whatever the order and
// batching, and records few of its routine step's events as hits.
func TestSequenceRepeatsIgnore(t *testing.T) {
	ignore := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(agentSequenceRule, "\n  repeats: ignore"))}, Config{})
	count := mustEngine(t, []*Rule{mustRule(t, fmt.Sprintf(agentSequenceRule, ""))}, Config{})
	if !ignore.rules[0].ignoreRepeats || count.rules[0].ignoreRepeats {
		t.Fatal("sequence.repeats not compiled")
	}
	ips := []string{"198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"}
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed+1, 29))
		var evs []iamwatch.Event
		for i := range 3000 { // agents on three addresses, every 20 s for ~17 h, with gaps
			ip := ips[i%3]
			if r.IntN(8) == 0 {
				continue
			}
			evs = append(evs, ssmCall(t, fmt.Sprintf("a-%d", i), ip, "UpdateInstanceInformation", time.Duration(i/3)*20*time.Second*3))
		}
		for i := range 12 { // commands from any address, one near an agent's calls or not
			at := time.Duration(r.IntN(20*3600)) * time.Second
			evs = append(evs, ssmCall(t, fmt.Sprintf("c-%d", i), ips[r.IntN(len(ips))], "SendCommand", at))
		}
		ref, all := NewMemoryState(), NewMemoryState()
		want, got := firedKeys(t, count, all, evs), firedKeys(t, ignore, ref, evs)
		if len(want) == 0 || !slices.Equal(got, want) {
			t.Fatalf("seed %d: ignoring repeats completed %q, counting every event %q: want the same, at least one", seed+1, got, want)
		}
		hits := func(m *MemoryState) (n int) {
			for _, hs := range m.hits {
				n += len(hs)
			}
			return n
		}
		if h, every := hits(ref), hits(all); h*10 > every {
			t.Errorf("seed %d: %d hits ignoring repeats, %d counting every event: want under a tenth", seed+1, h, every)
		}
		sameInSplits(t, ignore, evs, seed, 3, fmt.Sprint(stored(t, ref)))
	}
	if _, err := ParseRule("test.yaml", []byte(fmt.Sprintf(agentSequenceRule, "\n  repeats: sometimes"))); err == nil || !strings.Contains(err.Error(), "must be count or ignore") {
		t.Errorf("err = %v, want the values named", err)
	}
}
