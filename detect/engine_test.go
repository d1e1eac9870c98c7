package detect

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
)

var t0 = time.Date(2025, 3, 4, 8, 0, 0, 0, time.UTC)

// failedLogin is a failed console sign-in of user at t0+offset.
func failedLogin(t testing.TB, id, user, ip string, offset time.Duration) iamwatch.Event {
	t.Helper()
	raw := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"","accountId":"111122223333","accessKeyId":"","userName":%q},
	"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":%q,
	"userAgent":"Mozilla/5.0","errorMessage":"Failed authentication","requestParameters":null,"responseElements":{"ConsoleLogin":"Failure"},
	"additionalEventData":{"MFAUsed":"No"},"eventID":%q,"readOnly":false,"eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
		user, t0.Add(offset).Format(time.RFC3339), ip, id)
	return decode(t, raw)
}

func decode(t testing.TB, raw string) iamwatch.Event {
	t.Helper()
	ev, err := cloudtrail.DecodeRecord([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

const thresholdRule = `id: burst
title: Burst
severity: high
match: {eventSource: [signin.amazonaws.com], eventName: [ConsoleLogin], responseElements: {ConsoleLogin: [Failure]}}
threshold: {count: 4, within: 1h, by: [user_name]}
summary: '{{.count}} failures for {{.group}} within {{.within}}'
action: Look.
`

func mustRule(t testing.TB, src string) *Rule {
	t.Helper()
	r, err := ParseRule("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustEngine(t testing.TB, rules []*Rule, cfg Config, state iamwatch.ThresholdStore) *Engine {
	t.Helper()
	e, err := New(rules, cfg, state)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// keys evaluates the events in order and returns, per event, the DedupKey
// of the alert raised for rule (or "").
func keys(t testing.TB, e *Engine, events []iamwatch.Event) []string {
	t.Helper()
	out := make([]string, len(events))
	for i := range events {
		alerts, err := e.Evaluate(context.Background(), &events[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range alerts {
			out[i] = a.DedupKey
		}
	}
	return out
}

func burst(t testing.TB, user string, offsets ...time.Duration) []iamwatch.Event {
	var evs []iamwatch.Event
	for i, o := range offsets {
		evs = append(evs, failedLogin(t, fmt.Sprintf("%s-%d", user, i+1), user, "203.0.113.9", o))
	}
	return evs
}

func TestThresholdFiresOnFourthAndMerges(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	evs := burst(t, "alice", 0, 10*time.Minute, 20*time.Minute, 30*time.Minute, 40*time.Minute, 50*time.Minute)
	got := keys(t, e, evs)
	if got[0] != "" || got[1] != "" || got[2] != "" {
		t.Fatalf("alert below the threshold: %q", got)
	}
	if got[3] == "" || got[4] != got[3] || got[5] != got[3] {
		t.Fatalf("4th should fire and 5th/6th merge: %q", got)
	}
	want := "burst/2025-03-04T08:00:00Z/" + shortHash("alice")
	if got[3] != want {
		t.Errorf("key %q, want %q", got[3], want)
	}
	// The alert of the 6th carries every event of the window.
	alerts, _ := e.Evaluate(context.Background(), &evs[5])
	a := alerts[0]
	if len(a.EventIDs) != 6 || a.Group != "alice" || !a.WindowStart.Equal(t0) || !a.WindowEnd.Equal(t0.Add(time.Hour)) {
		t.Errorf("alert %+v", a)
	}
	if a.Summary != "6 failures for alice within 1h" {
		t.Errorf("summary %q", a.Summary)
	}
}

func TestThresholdWindowSlides(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	// 0, 25, 50, 75: never four inside 60 minutes; then 80 makes 25..80.
	got := keys(t, e, burst(t, "bob", 0, 25*time.Minute, 50*time.Minute, 75*time.Minute, 80*time.Minute))
	if got[3] != "" {
		t.Fatalf("fired across more than an hour: %q", got)
	}
	if got[4] == "" || !strings.Contains(got[4], "2025-03-04T08:25:00Z") {
		t.Fatalf("want a window starting at 08:25: %q", got)
	}
}

func TestThresholdOncePerWindowThenNewWindow(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	m := time.Minute
	got := keys(t, e, burst(t, "carol", 0, 10*m, 20*m, 30*m, 61*m, 62*m, 63*m, 64*m))
	if got[3] == "" || got[4] != "" || got[5] != "" || got[6] != "" {
		t.Fatalf("after the first window, hits 61-63 must not fire: %q", got)
	}
	if got[7] == "" || got[7] == got[3] {
		t.Fatalf("the 4th hit after the window must open a new one: %q", got)
	}
}

func TestThresholdReplayDoesNotDoubleCount(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	ev := burst(t, "dave", 0)[0]
	replayed := []iamwatch.Event{ev, ev, ev, ev, ev}
	if got := keys(t, e, replayed); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
		t.Fatalf("one event replayed five times fired: %q", got)
	}
	// A replay of a whole burst raises no new window: every event now
	// belongs to the window that fired (the same key, claimed already).
	evs := burst(t, "erin", 0, time.Minute, 2*time.Minute, 3*time.Minute, 4*time.Minute)
	first := keys(t, e, evs)
	again := keys(t, e, evs)
	if !slices.Equal(keySet(first), keySet(again)) || len(keySet(first)) != 1 {
		t.Fatalf("replay changed keys: %q then %q", first, again)
	}
	if !slices.Equal(again, []string{first[3], first[3], first[3], first[3], first[3]}) {
		t.Fatalf("replayed events should all belong to the fired window: %q", again)
	}
}

func TestThresholdOutOfOrder(t *testing.T) {
	m := time.Minute
	evs := burst(t, "frank", 0, 10*m, 20*m, 30*m, 40*m)
	inOrder := keys(t, mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState()), evs)

	// Same events, reversed: the 4th to arrive (the one at 10m) completes
	// the window, which starts where it belongs, at 0 once that arrives.
	rev := slices.Clone(evs)
	slices.Reverse(rev)
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	got := keys(t, e, rev)
	if got[0] != "" || got[1] != "" || got[2] != "" || got[3] == "" {
		t.Fatalf("reversed: %q", got)
	}
	if got[4] == "" {
		t.Fatalf("the late first event must join the alert: %q", got)
	}
	// Both orders name the alerts they raise with keys of the same set of windows.
	if inOrder[3] != "burst/2025-03-04T08:00:00Z/"+shortHash("frank") {
		t.Errorf("in order: %q", inOrder)
	}
	// A late event that belongs before an already fired window joins it.
	late := failedLogin(t, "frank-late", "frank", "203.0.113.9", -5*m)
	alerts, err := e.Evaluate(context.Background(), &late)
	if err != nil || len(alerts) != 1 || !slices.Contains(alerts[0].EventIDs, "frank-late") {
		t.Fatalf("late event: %v %+v", err, alerts)
	}

	// Two bursts more than an hour apart give the same keys in any order.
	two := burst(t, "gina", 0, m, 2*m, 3*m, 2*time.Hour, 2*time.Hour+m, 2*time.Hour+2*m, 2*time.Hour+3*m)
	a := keySet(keys(t, mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState()), two))
	shuffled := []iamwatch.Event{two[6], two[1], two[7], two[3], two[0], two[5], two[2], two[4]}
	b := keySet(keys(t, mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState()), shuffled))
	if !slices.Equal(a, b) || len(a) != 2 {
		t.Errorf("in order %q, shuffled %q", a, b)
	}
}

func keySet(ks []string) []string {
	var out []string
	for _, k := range ks {
		if k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestThresholdRestartSharesState(t *testing.T) {
	state := NewMemoryState()
	r := mustRule(t, thresholdRule)
	m := time.Minute
	evs := burst(t, "hank", 0, m, 2*m, 3*m, 4*m)
	first := keys(t, mustEngine(t, []*Rule{r}, Config{}, state), evs[:2])
	// A new Engine (a restart, or a second process) over the same state.
	second := keys(t, mustEngine(t, []*Rule{r}, Config{}, state), evs[2:])
	if first[0] != "" || first[1] != "" || second[0] != "" || second[1] == "" || second[2] != second[1] {
		t.Fatalf("first %q second %q", first, second)
	}
}

func TestThresholdConcurrent(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{}, NewMemoryState())
	evs := burst(t, "ivy", 0, 1*time.Second, 2*time.Second, 3*time.Second, 4*time.Second, 5*time.Second, 6*time.Second, 7*time.Second)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := range evs {
		wg.Go(func() {
			alerts, err := e.Evaluate(context.Background(), &evs[i])
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, a := range alerts {
				seen[a.DedupKey] = true
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 {
		t.Errorf("concurrent evaluation gave %d keys: %v", len(seen), seen)
	}
}

func TestThresholdOverride(t *testing.T) {
	cfg := Config{Rules: map[string]RuleConfig{"burst": {Threshold: &ThresholdOverride{Count: 2, Within: 5 * time.Minute}}}}
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, cfg, NewMemoryState())
	got := keys(t, e, burst(t, "jo", 0, 6*time.Minute, 8*time.Minute))
	if got[1] != "" || got[2] == "" {
		t.Fatalf("count 2 within 5m: %q", got)
	}
}

const singleRule = `id: user-created
title: User Created
severity: high
match: {eventSource: [iam.amazonaws.com], eventName: [CreateUser], errorCode: [{exists: false}]}
summary: '{{.user_name}} created {{req "userName"}}'
action: Check.
`

func createUser(t testing.TB, id, actorARN, ip, ua string, at time.Time) iamwatch.Event {
	t.Helper()
	ident := `{"type":"IAMUser","arn":"` + actorARN + `","accountId":"111122223333","userName":"` + actorARN[strings.LastIndexByte(actorARN, '/')+1:] + `"}`
	if strings.Contains(actorARN, "assumed-role") {
		ident = `{"type":"AssumedRole","arn":"` + actorARN + `","accountId":"111122223333"}`
	}
	return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":"iam.amazonaws.com",
	"eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":%q,"userAgent":%q,"requestParameters":{"userName":"new\u001b[31muser"},
	"responseElements":null,"eventID":%q,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, ident, at.Format(time.RFC3339), ip, ua, id))
}

func TestSingleEventAlert(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, singleRule)}, Config{}, nil)
	ev := createUser(t, "ev-1", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0)
	alerts, err := e.Evaluate(context.Background(), &ev)
	if err != nil || len(alerts) != 1 {
		t.Fatalf("%v %v", err, alerts)
	}
	a := alerts[0]
	want := iamwatch.Alert{DedupKey: "user-created/ev-1", Rule: "user-created", Severity: iamwatch.SeverityHigh, Title: "User Created",
		Summary: `alice created new\u001b[31muser`, Action: "Check.", Time: t0, AccountID: "111122223333", Region: "us-east-1",
		UserName: "alice", SourceIP: "198.51.100.7", EventName: "CreateUser", EventIDs: []string{"ev-1"}}
	if fmt.Sprint(a) != fmt.Sprint(want) {
		t.Errorf("alert\n got %+v\nwant %+v", a, want)
	}
	if !e.Interested(&ev) {
		t.Error("Interested is false for a matching event")
	}
	noise := decode(t, `{"eventID":"n1","eventTime":"2025-03-04T08:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","userIdentity":{"type":"AssumedRole"}}`)
	if e.Interested(&noise) {
		t.Error("Interested is true for noise")
	}
}

func TestDedupFieldsAndPeriod(t *testing.T) {
	src := strings.Replace(singleRule, "action: Check.", "action: Check.\ndedup: {fields: [user_name, source_ip], period: 1h}", 1)
	e := mustEngine(t, []*Rule{mustRule(t, src)}, Config{}, nil)
	alice := "arn:aws:iam::111122223333:user/alice"
	evs := []iamwatch.Event{
		createUser(t, "a", alice, "198.51.100.7", "x", t0.Add(5*time.Minute)),
		createUser(t, "b", alice, "198.51.100.7", "x", t0.Add(50*time.Minute)), // same hour, same fields
		createUser(t, "c", alice, "198.51.100.8", "x", t0.Add(51*time.Minute)), // other IP
		createUser(t, "d", alice, "198.51.100.7", "x", t0.Add(65*time.Minute)), // next hour
	}
	got := keys(t, e, evs)
	if got[0] != got[1] || got[2] == got[0] || got[3] == got[0] || got[3] == got[2] {
		t.Errorf("keys %q", got)
	}
}

func TestAllowLists(t *testing.T) {
	r := mustRule(t, singleRule)
	alice := "arn:aws:iam::111122223333:user/alice"
	tf := "arn:aws:sts::111122223333:assumed-role/terraform-ci/run-42"
	tests := []struct {
		name  string
		cfg   Config
		ev    iamwatch.Event
		allow bool
	}{
		{"no list", Config{}, createUser(t, "1", alice, "198.51.100.7", "aws-cli/2", t0), false},
		{"user", Config{Allow: AllowList{Users: []string{"ALICE"}}}, createUser(t, "2", alice, "198.51.100.7", "aws-cli/2", t0), true},
		{"user wildcard", Config{Allow: AllowList{Users: []string{"al*"}}}, createUser(t, "3", alice, "198.51.100.7", "aws-cli/2", t0), true},
		{"other user", Config{Allow: AllowList{Users: []string{"bob"}}}, createUser(t, "4", alice, "198.51.100.7", "aws-cli/2", t0), false},
		{"role pattern", Config{Allow: AllowList{Roles: []string{"terraform-*"}}}, createUser(t, "5", tf, "198.51.100.7", "aws-cli/2", t0), true},
		{"role pattern, user actor", Config{Allow: AllowList{Roles: []string{"*"}}}, createUser(t, "6", alice, "198.51.100.7", "aws-cli/2", t0), false},
		{"account", Config{Allow: AllowList{Accounts: []string{"111122223333"}}}, createUser(t, "7", alice, "198.51.100.7", "aws-cli/2", t0), true},
		{"cidr", Config{Allow: AllowList{SourceIPs: []string{"198.51.100.0/24"}}}, createUser(t, "8", alice, "198.51.100.7", "aws-cli/2", t0), true},
		{"ip", Config{Allow: AllowList{SourceIPs: []string{"198.51.100.8"}}}, createUser(t, "9", alice, "198.51.100.7", "aws-cli/2", t0), false},
		{"user agent", Config{Allow: AllowList{UserAgents: []string{"aws-cli/*"}}}, createUser(t, "10", alice, "198.51.100.7", "aws-cli/2", t0), true},
		{"per rule", Config{Rules: map[string]RuleConfig{"user-created": {Allow: AllowList{Users: []string{"alice"}}}}}, createUser(t, "11", alice, "198.51.100.7", "aws-cli/2", t0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEngine(t, []*Rule{r}, tt.cfg, nil)
			alerts, err := e.Evaluate(context.Background(), &tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if allowed := len(alerts) == 0; allowed != tt.allow {
				t.Errorf("allowed %v, want %v", allowed, tt.allow)
			}
		})
	}
	// Allowed events do not count towards thresholds.
	cfg := Config{Allow: AllowList{SourceIPs: []string{"203.0.113.0/24"}}}
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, cfg, NewMemoryState())
	if got := keys(t, e, burst(t, "kim", 0, 1, 2, 3, 4)); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
		t.Errorf("allowed events counted: %q", got)
	}
}

func TestConfigValidation(t *testing.T) {
	r := mustRule(t, singleRule)
	tr := mustRule(t, thresholdRule)
	tests := []struct {
		name  string
		rules []*Rule
		cfg   Config
		state iamwatch.ThresholdStore
		want  string
	}{
		{"unknown disabled", []*Rule{r}, Config{Disabled: []string{"nope"}}, nil, `disabled: unknown rule "nope"`},
		{"unknown rule config", []*Rule{r}, Config{Rules: map[string]RuleConfig{"nope": {}}}, nil, `rules: unknown rule "nope"`},
		{"override without threshold", []*Rule{r}, Config{Rules: map[string]RuleConfig{"user-created": {Threshold: &ThresholdOverride{Count: 3}}}}, nil, "has no threshold"},
		{"bad cidr", []*Rule{r}, Config{Allow: AllowList{SourceIPs: []string{"10.0.0.0/99"}}}, nil, "source_ips"},
		{"bad account", []*Rule{r}, Config{Allow: AllowList{Accounts: []string{"12"}}}, nil, "12-digit"},
		{"bad trusted", []*Rule{r}, Config{TrustedAccounts: []string{"x"}}, nil, "trusted_accounts"},
		{"duplicate", []*Rule{r, r}, Config{}, nil, "defined twice"},
		{"threshold without store", []*Rule{tr}, Config{}, nil, "no threshold store"},
	}
	for _, tt := range tests {
		_, err := New(tt.rules, tt.cfg, tt.state)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	e := mustEngine(t, []*Rule{r, tr}, Config{Disabled: []string{"burst"}}, nil)
	if got := e.Rules(); !slices.Equal(got, []string{"user-created"}) {
		t.Errorf("enabled rules %v", got)
	}
}

func TestIndexAvoidsUnrelatedRules(t *testing.T) {
	rules := []*Rule{mustRule(t, singleRule), mustRule(t, thresholdRule), mustRule(t, `id: root
title: Root
severity: high
match: {userIdentity: {type: [Root]}, eventName: [{anything-but: ConsoleLogin}]}
summary: root
`), mustRule(t, `id: denied
title: Denied
severity: low
match: {errorCode: [{prefix: AccessDenied}]}
summary: denied
`), mustRule(t, `id: region
title: Region
severity: low
match: {awsRegion: [ap-east-1]}
summary: region
`)}
	e := mustEngine(t, rules, Config{}, NewMemoryState())
	if len(e.byName["CreateUser"]) != 1 || len(e.byName["ConsoleLogin"]) != 1 || len(e.byIdentity["Root"]) != 1 || len(e.onError) != 1 || len(e.always) != 1 {
		t.Errorf("index: names %v identity %v onError %d always %d", len(e.byName), len(e.byIdentity), len(e.onError), len(e.always))
	}
}

func TestMergeOverridesByID(t *testing.T) {
	a := mustRule(t, singleRule)
	b := mustRule(t, strings.Replace(singleRule, "severity: high", "severity: low", 1))
	c := mustRule(t, thresholdRule)
	got := Merge([]*Rule{a}, []*Rule{b, c})
	if len(got) != 2 || got[0] != b || got[1] != c {
		t.Errorf("merge: %v", got)
	}
}
