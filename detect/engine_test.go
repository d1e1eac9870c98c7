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

func mustEngine(t testing.TB, rules []*Rule, cfg Config) *Engine {
	t.Helper()
	e, err := New(rules, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// keys evaluates the events in order, each as its own batch against st,
// and returns, per event, the DedupKey of the alert it belongs to (or "").
func keys(t testing.TB, e *Engine, st State, events []iamwatch.Event) []string {
	t.Helper()
	out := make([]string, len(events))
	for i := range events {
		claims, err := e.Evaluate(context.Background(), st, events[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims {
			out[i] = c.Alert.DedupKey
		}
	}
	return out
}

// stored returns st's alerts, sorted by key.
func stored(t testing.TB, st State) []iamwatch.Alert {
	t.Helper()
	as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(as, func(a, b iamwatch.Alert) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	return as
}

func burst(t testing.TB, user string, offsets ...time.Duration) []iamwatch.Event {
	var evs []iamwatch.Event
	for i, o := range offsets {
		evs = append(evs, failedLogin(t, fmt.Sprintf("%s-%d", user, i+1), user, "203.0.113.9", o))
	}
	return evs
}

func TestThresholdFiresOnFourthAndGrows(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	st := NewMemoryState()
	evs := burst(t, "alice", 0, 10*time.Minute, 20*time.Minute, 30*time.Minute, 40*time.Minute, 50*time.Minute)
	got := keys(t, e, st, evs)
	if got[0] != "" || got[1] != "" || got[2] != "" {
		t.Fatalf("alert below the threshold: %q", got)
	}
	if got[3] == "" || got[4] != got[3] || got[5] != got[3] {
		t.Fatalf("4th should fire and 5th/6th join it: %q", got)
	}
	want := "burst/2025-03-04T00:00:00Z/" + shortHash("alice") // one alert a UTC day
	if got[3] != want {
		t.Errorf("key %q, want %q", got[3], want)
	}
	as := stored(t, st)
	if len(as) != 1 {
		t.Fatalf("stored %d alerts, want 1", len(as))
	}
	a := as[0]
	if a.Count != 6 || len(a.EventIDs) != 6 || a.Group != "alice" || !a.WindowStart.Equal(t0) || !a.WindowEnd.Equal(t0.Add(time.Hour)) {
		t.Errorf("alert %+v", a)
	}
	if !a.Time.Equal(t0.Add(30*time.Minute)) || !a.FirstSeen.Equal(t0) || !a.LastSeen.Equal(t0.Add(50*time.Minute)) {
		t.Errorf("times: raised %v first %v last %v", a.Time, a.FirstSeen, a.LastSeen)
	}
	if a.Summary != "6 failures for alice within 1h" {
		t.Errorf("summary %q", a.Summary)
	}
}

func TestThresholdWindowSlides(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	st := NewMemoryState()
	// 0, 25, 50, 75: never four inside 60 minutes; then 80 makes 25..80.
	got := keys(t, e, st, burst(t, "bob", 0, 25*time.Minute, 50*time.Minute, 75*time.Minute, 80*time.Minute))
	if got[3] != "" || got[4] == "" {
		t.Fatalf("fired across more than an hour, or not at 80: %q", got)
	}
	if a := stored(t, st)[0]; !a.WindowStart.Equal(t0.Add(25*time.Minute)) || a.Count != 5 {
		t.Fatalf("want a window starting at 08:25 and all five events: %+v", a)
	}
}

func TestThresholdOneAlertPerPeriod(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	st := NewMemoryState()
	m := time.Minute
	day := 24 * time.Hour
	got := keys(t, e, st, burst(t, "carol", 0, 10*m, 20*m, 30*m, 61*m, 62*m, 63*m, 64*m, 5*time.Hour, day, day+m, day+2*m, day+3*m))
	for i := 3; i < 9; i++ {
		if got[i] != got[3] || got[3] == "" {
			t.Fatalf("a burst that goes on the same day stays one alert: %q", got)
		}
	}
	if got[12] == "" || got[12] == got[3] {
		t.Fatalf("the next day's burst is a new alert: %q", got)
	}
	as := stored(t, st)
	if len(as) != 2 || as[0].Count != 9 || as[1].Count != 4 {
		t.Fatalf("stored %+v", as)
	}
}

func TestThresholdReplayDoesNotDoubleCount(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	st := NewMemoryState()
	ev := burst(t, "dave", 0)[0]
	replayed := []iamwatch.Event{ev, ev, ev, ev, ev}
	if got := keys(t, e, st, replayed); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
		t.Fatalf("one event replayed five times fired: %q", got)
	}
	if _, err := e.Evaluate(context.Background(), st, replayed...); err != nil { // and all in one batch
		t.Fatal(err)
	}
	if as := stored(t, st); len(as) != 0 {
		t.Fatalf("one event replayed fired: %+v", as)
	}
	evs := burst(t, "erin", 0, time.Minute, 2*time.Minute, 3*time.Minute, 4*time.Minute)
	first := keys(t, e, st, evs)
	before := stored(t, st)
	again := keys(t, e, st, evs)
	if !slices.Equal(again, []string{first[3], first[3], first[3], first[3], first[3]}) {
		t.Fatalf("replayed events should all belong to the alert: %q then %q", first, again)
	}
	if after := stored(t, st); fmt.Sprint(after) != fmt.Sprint(before) || after[0].Count != 5 {
		t.Fatalf("replay changed the alert:\n%+v\n%+v", before, after)
	}
}

// TestThresholdReverseBurst is the reviewer's case: a burst of 30 denied
// calls in 5 seconds, newest first (as LookupEvents pages come), raised two
// alerts. Any order raises one.
func TestThresholdReverseBurst(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	var offs []time.Duration
	for i := range 30 {
		offs = append(offs, time.Duration(i)*time.Second/6)
	}
	evs := burst(t, "gpd", offs...)
	slices.Reverse(evs)
	st := NewMemoryState()
	keys(t, e, st, evs)
	if as := stored(t, st); len(as) != 1 || as[0].Count != 30 {
		t.Fatalf("reversed burst: %+v", as)
	}
}

// TestThresholdOrderIndependent checks the property threshold.go states:
// the same events in any order and any batching end in the same alerts.
func TestThresholdOrderIndependent(t *testing.T) {
	m := time.Minute
	h := time.Hour
	var evs []iamwatch.Event
	evs = append(evs, burst(t, "frank", 0, 10*m, 20*m, 30*m, 40*m, 70*m, 71*m, 130*m, 131*m, 132*m, 133*m)...)
	evs = append(evs, burst(t, "gina", 0, m, 2*m, 3*m, 2*h, 2*h+m, 2*h+2*m, 2*h+3*m)...)
	// Across midnight: a window opened before it reaches past it.
	evs = append(evs, burst(t, "hal", 15*h+58*m, 15*h+59*m, 16*h+m, 16*h+2*m, 16*h+3*m, 16*h+4*m, 17*h)...)
	evs = append(evs, burst(t, "ivo", 0, 25*m, 50*m, 75*m, 80*m)...)
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	ref := NewMemoryState()
	if _, err := e.Evaluate(context.Background(), ref, evs...); err != nil {
		t.Fatal(err)
	}
	want := stored(t, ref)
	if len(want) < 4 {
		t.Fatalf("the reference run raised %d alerts: %+v", len(want), want)
	}
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} {
		shuffled, batches := shuffleBatches(evs, seed)
		st := NewMemoryState()
		for _, b := range batches {
			if _, err := e.Evaluate(context.Background(), st, shuffled[b[0]:b[1]]...); err != nil {
				t.Fatal(err)
			}
		}
		if got := stored(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("seed %d: alerts differ\n got %+v\nwant %+v", seed, got, want)
		}
	}
}

func TestThresholdRestartSharesState(t *testing.T) {
	state := NewMemoryState()
	r := mustRule(t, thresholdRule)
	m := time.Minute
	evs := burst(t, "hank", 0, m, 2*m, 3*m, 4*m)
	first := keys(t, mustEngine(t, []*Rule{r}, Config{}), state, evs[:2])
	// A new Engine (a restart, or a second process) over the same state.
	second := keys(t, mustEngine(t, []*Rule{r}, Config{}), state, evs[2:])
	if first[0] != "" || first[1] != "" || second[0] != "" || second[1] == "" || second[2] != second[1] {
		t.Fatalf("first %q second %q", first, second)
	}
}

func TestThresholdConcurrent(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	st := NewMemoryState()
	evs := burst(t, "ivy", 0, 1*time.Second, 2*time.Second, 3*time.Second, 4*time.Second, 5*time.Second, 6*time.Second, 7*time.Second)
	var mu sync.Mutex
	seen := map[string]bool{}
	news := 0
	var wg sync.WaitGroup
	for i := range evs {
		wg.Go(func() {
			claims, err := e.Evaluate(context.Background(), st, evs[i])
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			for _, c := range claims {
				seen[c.Alert.DedupKey] = true
				if c.New {
					news++
				}
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(seen) != 1 || news != 1 {
		t.Errorf("concurrent evaluation gave %d keys, %d new: %v", len(seen), news, seen)
	}
	if as := stored(t, st); len(as) != 1 || as[0].Count != 8 {
		t.Errorf("stored %+v", as)
	}
}

func TestThresholdOverride(t *testing.T) {
	cfg := Config{Rules: map[string]RuleConfig{"burst": {Threshold: &ThresholdOverride{Count: 2, Within: 5 * time.Minute}}}}
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, cfg)
	got := keys(t, e, NewMemoryState(), burst(t, "jo", 0, 6*time.Minute, 8*time.Minute))
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
	e := mustEngine(t, []*Rule{mustRule(t, singleRule)}, Config{})
	ev := createUser(t, "ev-1", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0)
	claims, err := e.Evaluate(context.Background(), NewMemoryState(), ev)
	if err != nil || len(claims) != 1 || !claims[0].New {
		t.Fatalf("%v %v", err, claims)
	}
	a := claims[0].Alert
	want := iamwatch.Alert{DedupKey: "user-created/ev-1", Rule: "user-created", Severity: iamwatch.SeverityHigh, Title: "User Created",
		Summary: `alice created new\x1b[31muser`, Action: "Check.", Time: t0, AccountID: "111122223333", Region: "us-east-1",
		UserName: "alice", SourceIP: "198.51.100.7", EventName: "CreateUser", EventID: "ev-1", Count: 1, FirstSeen: t0, LastSeen: t0, EventIDs: []string{"ev-1"}}
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
	e := mustEngine(t, []*Rule{mustRule(t, src)}, Config{})
	alice := "arn:aws:iam::111122223333:user/alice"
	evs := []iamwatch.Event{
		createUser(t, "a", alice, "198.51.100.7", "x", t0.Add(5*time.Minute)),
		createUser(t, "b", alice, "198.51.100.7", "x", t0.Add(50*time.Minute)), // same hour, same fields
		createUser(t, "c", alice, "198.51.100.8", "x", t0.Add(51*time.Minute)), // other IP
		createUser(t, "d", alice, "198.51.100.7", "x", t0.Add(65*time.Minute)), // next hour
	}
	st := NewMemoryState()
	got := keys(t, e, st, evs)
	if got[0] != got[1] || got[2] == got[0] || got[3] == got[0] || got[3] == got[2] {
		t.Errorf("keys %q", got)
	}
	for _, a := range stored(t, st) {
		if a.DedupKey == got[0] && (a.Count != 2 || !slices.Equal(a.EventIDs, []string{"a", "b"}) || a.Group != "alice/198.51.100.7") {
			t.Errorf("dedup alert %+v", a)
		}
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
			e := mustEngine(t, []*Rule{r}, tt.cfg)
			alerts, err := e.Evaluate(context.Background(), NewMemoryState(), tt.ev)
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
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, cfg)
	if got := keys(t, e, NewMemoryState(), burst(t, "kim", 0, 1, 2, 3, 4)); slices.ContainsFunc(got, func(k string) bool { return k != "" }) {
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
		want  string
	}{
		{"unknown disabled", []*Rule{r}, Config{Disabled: []string{"nope"}}, `disabled.0: unknown rule "nope"`},
		{"unknown rule config", []*Rule{r}, Config{Rules: map[string]RuleConfig{"nope": {}}}, `rules.nope: unknown rule "nope"`},
		{"override without threshold", []*Rule{r}, Config{Rules: map[string]RuleConfig{"user-created": {Threshold: &ThresholdOverride{Count: 3}}}}, "has no threshold"},
		{"bad cidr", []*Rule{r}, Config{Allow: AllowList{SourceIPs: []string{"10.0.0.0/99"}}}, "source_ips"},
		{"bad account", []*Rule{r}, Config{Allow: AllowList{Accounts: []string{"12"}}}, "12-digit"},
		{"bad trusted", []*Rule{r}, Config{TrustedAccounts: []string{"x"}}, "trusted_accounts"},
		{"duplicate", []*Rule{r, r}, Config{}, "defined twice"},
	}
	for _, tt := range tests {
		_, err := New(tt.rules, tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	e := mustEngine(t, []*Rule{r, tr}, Config{Disabled: []string{"burst"}})
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
	e := mustEngine(t, rules, Config{})
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

func TestSupersedes(t *testing.T) {
	generic := mustRule(t, strings.Replace(singleRule, "id: user-created", "id: iam-changed", 1))
	specific := mustRule(t, singleRule+"supersedes: [iam-changed]\n")
	ev := createUser(t, "ev-1", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0)
	for _, tt := range []struct {
		name  string
		rules []*Rule
		cfg   Config
		want  []string
	}{
		{"both enabled", []*Rule{generic, specific}, Config{}, []string{"user-created"}},
		{"specific disabled", []*Rule{generic, specific}, Config{Disabled: []string{"user-created"}}, []string{"iam-changed"}},
		{"specific allowed", []*Rule{generic, specific}, Config{Rules: map[string]RuleConfig{"user-created": {Allow: AllowList{Users: []string{"alice"}}}}}, []string{"iam-changed"}},
	} {
		claims, err := mustEngine(t, tt.rules, tt.cfg).Evaluate(context.Background(), NewMemoryState(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range claims {
			got = append(got, c.Alert.Rule)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: rules %v, want %v", tt.name, got, tt.want)
		}
	}
}

// countingState counts the hits its resolvers read.
type countingState struct {
	*MemoryState
	read int
}

type countingView struct {
	iamwatch.StateView
	c *countingState
}

func (v countingView) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	hs, err := v.StateView.Hits(ctx, rule, group, from, to)
	v.c.read += len(hs)
	return hs, err
}

func (c *countingState) CommitAlerts(ctx context.Context, hits []iamwatch.Hit, resolve iamwatch.Resolver) ([]iamwatch.Claim, error) {
	return c.MemoryState.CommitAlerts(ctx, hits, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
		return resolve(ctx, countingView{v, c})
	})
}

// TestThresholdLiveBurstReadsBounded: a burst that goes on all day, one
// event a batch in time order (a live source), reads a bounded number of
// hits a batch once its alert exists (the first window's), not the whole
// day so far, and ends in the alert one batch of everything gives.
func TestThresholdLiveBurstReadsBounded(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	var offs []time.Duration
	for i := range 600 {
		offs = append(offs, time.Duration(i)*2*time.Minute)
	}
	evs := burst(t, "zed", offs...)[:420] // 08:00 to 21:58, one day
	live := &countingState{MemoryState: NewMemoryState()}
	keys(t, e, live, evs)
	ref := NewMemoryState()
	if _, err := e.Evaluate(context.Background(), ref, evs...); err != nil {
		t.Fatal(err)
	}
	if as := stored(t, ref); len(as) != 1 || as[0].Count != len(evs) {
		t.Fatalf("one batch of the burst stored %+v, want one alert of %d", as, len(evs))
	}
	if got, want := fmt.Sprint(stored(t, live.MemoryState)), fmt.Sprint(stored(t, ref)); got != want {
		t.Fatalf("live and one-batch alerts differ:\n got %s\nwant %s", got, want)
	}
	// The full recompute would read 1+2+…+420 = 88,410 hits; the window of
	// 1h holds 31.
	if perBatch := live.read / len(evs); perBatch > 40 {
		t.Errorf("read %d hits over %d batches (%d a batch)", live.read, len(evs), perBatch)
	}
}

// TestMatchUnparsableRecord: an event whose record detect cannot parse
// does not stop the batch; it is kept (stored) and listed, by ID.
func TestMatchUnparsableRecord(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, singleRule)}, Config{})
	good := createUser(t, "ok-1", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0)
	bad := good
	bad.ID, bad.Raw = "bad-1", []byte(`{"eventName":"CreateUser",`)
	b, err := e.Match(context.Background(), []iamwatch.Event{bad, good})
	if err != nil {
		t.Fatal(err)
	}
	if !b.Keep[0] || !b.Keep[1] || len(b.Unevaluated) != 1 || !strings.Contains(b.Unevaluated[0].Error(), `"bad-1"`) {
		t.Fatalf("keep %v, unevaluated %v", b.Keep, b.Unevaluated)
	}
	alerts, err := b.Resolve(context.Background(), nil)
	if err != nil || len(alerts) != 1 || alerts[0].EventID != "ok-1" {
		t.Fatalf("the rest of the batch: %+v, %v", alerts, err)
	}
}

// TestSourceIndexedRuleIgnoresOtherServices: a rule that names its event
// source but matches its event names by prefix (Lambda's versioned names)
// is a candidate for that source's events only, so an engine holding it is
// not interested in, and the pipeline does not keep, every other event (a
// real-shaped trail stored 3.3 times the events when it was a candidate for
// all of them).
func TestSourceIndexedRuleIgnoresOtherServices(t *testing.T) {
	r := mustRule(t, `id: lambda-code
title: Lambda code
severity: medium
match: {eventSource: [lambda.amazonaws.com], eventName: [{prefix: UpdateFunctionCode}]}
summary: '{{.event_name}}'
action: Look.
`)
	e := mustEngine(t, []*Rule{r}, Config{})
	rec := func(source, name string) iamwatch.Event {
		return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/ci","accountId":"111122223333","userName":"ci"},
		"eventTime":"2025-03-04T09:12:44Z","eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.4",
		"eventID":"e-%s","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, source, name, name))
	}
	other, lambda := rec("ec2.amazonaws.com", "DescribeSecurityGroups"), rec("lambda.amazonaws.com", "UpdateFunctionCode20150331v2")
	if e.Interested(&other) {
		t.Error("a rule about Lambda wants an EC2 read")
	}
	if read := rec("lambda.amazonaws.com", "ListFunctions20150331"); e.Interested(&read) {
		t.Error("a rule about Lambda code updates wants every Lambda read")
	}
	if !e.Interested(&lambda) {
		t.Error("a rule about Lambda does not want a Lambda code update")
	}
	if got := keys(t, e, NewMemoryState(), []iamwatch.Event{other, lambda}); got[0] != "" || got[1] == "" {
		t.Errorf("alerts %q; want one, on the Lambda update", got)
	}
}

// TestThresholdCountIsThePeriods: an incident counts the hits of its
// period. Its first window may reach into the next period (and its raising
// event lie there), but counting that window's hits past the period made
// the count depend on the order: hits that came late and opened an earlier
// window counted fewer of the next period's, and the alert computed before
// them, with the higher count, stayed.
func TestThresholdCountIsThePeriods(t *testing.T) {
	m := time.Minute
	h := time.Hour
	// burst's events are at 08:00 plus the offset: 22:00–22:15 and 23:30,
	// 23:40 of the first day, then seven in the first half hour of the next.
	late := burst(t, "jo", 14*h, 14*h+5*m, 14*h+10*m, 14*h+15*m)
	rest := burst(t, "jo", 15*h+30*m, 15*h+40*m, 16*h+10*m, 16*h+15*m, 16*h+20*m, 16*h+25*m, 16*h+26*m, 16*h+27*m, 16*h+28*m)
	for i := range late {
		late[i].ID = fmt.Sprintf("jo-late-%d", i+1)
	}
	e := mustEngine(t, []*Rule{mustRule(t, thresholdRule)}, Config{})
	oneBatch := NewMemoryState()
	if _, err := e.Evaluate(context.Background(), oneBatch, append(slices.Clone(rest), late...)...); err != nil {
		t.Fatal(err)
	}
	lateLast := NewMemoryState()
	for _, b := range [][]iamwatch.Event{rest, late} {
		if _, err := e.Evaluate(context.Background(), lateLast, b...); err != nil {
			t.Fatal(err)
		}
	}
	want, got := stored(t, oneBatch), stored(t, lateLast)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("the late hits in a batch of their own:\n got %+v\nwant %+v", got, want)
	}
	day := rest[0].Time.Truncate(24 * time.Hour)
	for _, a := range want {
		if a.FirstSeen.Before(day.Add(24*time.Hour)) && (a.Count != 6 || a.EventID != "jo-late-4") {
			t.Errorf("the first day's incident: count %d, raised by %s; want the day's 6 hits, raised by jo-late-4", a.Count, a.EventID)
		}
	}
}

// sseCRule is a threshold over S3 writes whose condition reads the request:
// every PutObject of a person is a candidate, few match; and the bucket's
// ACL calls, matched by no event here.
const sseCRule = `id: sse-c
title: SSE-C
severity: high
match: {eventSource: [s3.amazonaws.com], eventName: [PutObject, PutBucketAcl, GetBucketAcl]}
condition: '"x-amz-server-side-encryption-customer-algorithm" in request && string(request["x-amz-server-side-encryption-customer-algorithm"]) != "none"'
threshold: {count: 2, within: 10m, by: [user_name]}
summary: x
action: Look.
`

// TestKeepIsMatched: of the events a rule is a candidate for, a batch keeps
// those it matched, those it could not evaluate (named in the report, so
// findable) and the management writes (the audit's history); an object
// written as usual (a data event) or a read is not stored for a rule that
// only looked at it.
func TestKeepIsMatched(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, sseCRule)}, Config{})
	call := func(id, name, req, kind string) iamwatch.Event {
		return decode(t, fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},
		"eventTime":%q,"eventSource":"s3.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7",
		"requestParameters":%s,"eventID":%q,%s,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			t0.Format(time.RFC3339), name, req, id, kind))
	}
	const data, write, read = `"readOnly":false,"managementEvent":false,"eventCategory":"Data"`,
		`"readOnly":false,"managementEvent":true,"eventCategory":"Management"`, `"readOnly":true,"managementEvent":true,"eventCategory":"Management"`
	evs := []iamwatch.Event{
		call("plain", "PutObject", `{"bucketName":"b","key":"k1"}`, data),
		call("sse-c", "PutObject", `{"bucketName":"b","key":"k2","x-amz-server-side-encryption-customer-algorithm":"AES256"}`, data),
		call("bad-value", "PutObject", `{"bucketName":"b","key":"k3","x-amz-server-side-encryption-customer-algorithm":{"a":1}}`, data),
		call("acl-set", "PutBucketAcl", `{"bucketName":"b","acl":""}`, write),
		call("acl-read", "GetBucketAcl", `{"bucketName":"b","acl":""}`, read),
	}
	b, err := e.Match(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, true, true, true, false}; !slices.Equal(b.Keep, want) {
		t.Errorf("Keep = %v, want %v (the match, the event the condition failed on, the management write)", b.Keep, want)
	}
	if len(b.RuleErrors) != 1 || b.RuleErrors[0].EventID != "bad-value" || len(b.Hits) != 1 {
		t.Errorf("rule errors %v, hits %d: want the failure on bad-value and one hit", b.RuleErrors, len(b.Hits))
	}
}
