package deploy_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// Rule states of AWS::Events::Rule (EventBridge UG, "Receiving read-only
// management events from AWS services"): ENABLED matches every event except
// read-only management events delivered through CloudTrail;
// ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS matches those too.
const (
	stateEnabled = "ENABLED"
	stateAll     = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

// envelope is the EventBridge event CloudTrail makes of record.
func envelope(t *testing.T, record []byte) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(record, &d); err != nil {
		t.Fatal(err)
	}
	src, _ := d["eventSource"].(string)
	types := map[string]string{
		"AwsApiCall": "AWS API Call via CloudTrail", "AwsConsoleSignIn": "AWS Console Sign In via CloudTrail",
		"AwsServiceEvent": "AWS Service Event via CloudTrail",
	}
	et, _ := d["eventType"].(string)
	return map[string]any{"source": "aws." + strings.TrimSuffix(src, ".amazonaws.com"), "detail-type": types[et], "detail": d}
}

// readOnlyManagement reports whether EventBridge treats ev as a read-only
// management event delivered through CloudTrail.
func readOnlyManagement(ev map[string]any) bool {
	d, _ := ev["detail"].(map[string]any)
	ro := d["readOnly"] == true || d["readOnly"] == "true"
	return ev["detail-type"] == "AWS API Call via CloudTrail" && ro
}

// ebRule is one EventBridge rule of a template as EventBridge evaluates it.
type ebRule struct {
	id      string
	state   string
	pattern *detect.Pattern
}

func (r ebRule) delivers(ev map[string]any) bool {
	switch r.state {
	case stateEnabled:
		if readOnlyManagement(ev) {
			return false
		}
	case stateAll:
	default:
		return false
	}
	return r.pattern.Match(ev)
}

func ebRules(t *testing.T, b []byte, params map[string]any) []ebRule {
	t.Helper()
	tpl := parse(t, b, params)
	var out []ebRule
	for id, r := range tpl.GetAllEventsRuleResources() {
		if r.EventPattern == nil {
			continue
		}
		src, err := json.Marshal(r.EventPattern)
		if err != nil {
			t.Fatal(err)
		}
		p, err := detect.CompilePattern(src)
		if err != nil {
			t.Fatalf("rule %s: %v", id, err)
		}
		out = append(out, ebRule{id: id, state: deref(r.State), pattern: p})
	}
	return out
}

func delivered(rs []ebRule, ev map[string]any) bool {
	for _, r := range rs {
		if r.delivers(ev) {
			return true
		}
	}
	return false
}

// TestEventBridgeDelivers: every event a catalog rule's own tests expect to
// alert on reaches the real-time function through the template's rules,
// with EventBridge's rule states applied (read-only management events reach
// only rules in ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS), in every
// parameter set, and reaches the home bus through the forwarder.
func TestEventBridgeDelivers(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	check := func(t *testing.T, rs []ebRule) {
		for _, r := range catalog {
			if deploy.TrailOnly(r) {
				continue // read from the trail bucket only
			}
			for _, tc := range r.Tests {
				if tc.Expect != "alert" {
					continue
				}
				for i, rec := range tc.Events {
					ev := envelope(t, rec)
					if !delivered(rs, ev) {
						t.Errorf("rule %s, test %q, event %d (%v %s, readOnly %v): no EventBridge rule delivers it", r.ID, tc.Name, i,
							ev["detail-type"], ev["detail"].(map[string]any)["eventName"], ev["detail"].(map[string]any)["readOnly"])
					}
				}
			}
		}
	}
	for name, params := range scenarios {
		t.Run(name, func(t *testing.T) { check(t, ebRules(t, deploy.Template, params)) })
	}
	t.Run("forwarder", func(t *testing.T) { check(t, ebRules(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})) })
}

// TestCoversMatches checks deploy.Covers against EventBridge matching (the
// engine's matcher): for every pair of catalog patterns and template rule
// patterns it calls covered, every catalog test event (alerting or not)
// the covered pattern matches is matched by the covering one; and it
// does call the instance-credential rules covered, which is what keeps
// an instance's every call from invoking the function three times.
func TestCoversMatches(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var patterns []map[string]any
	for _, r := range catalog {
		patterns = append(patterns, toMap(t, r.EventBridgePattern()))
	}
	for _, er := range deploy.EventRules(catalog) {
		patterns = append(patterns, toMap(t, er.Pattern))
	}
	var events []map[string]any
	for _, r := range catalog {
		for _, tc := range r.Tests {
			for _, rec := range tc.Events {
				events = append(events, envelope(t, rec))
			}
		}
	}
	compiled := make([]*detect.Pattern, len(patterns))
	for i, p := range patterns {
		b, _ := json.Marshal(p)
		if compiled[i], err = detect.CompilePattern(b); err != nil {
			t.Fatal(err)
		}
	}
	pairs := 0
	for i, a := range patterns {
		for j, b := range patterns {
			if i == j || !deploy.Covers(a, b) {
				continue
			}
			pairs++
			for _, ev := range events {
				if compiled[j].Match(ev) && !compiled[i].Match(ev) {
					d := ev["detail"].(map[string]any)
					t.Errorf("Covers(%v, %v) but %s %s matches only the second", a, b, d["eventName"], d["eventID"])
				}
			}
		}
	}
	if pairs == 0 {
		t.Fatal("Covers holds for no pair of patterns")
	}
	for _, er := range deploy.EventRules(catalog) {
		if slices.Contains(er.RuleIDs, "instance-credentials-new-network") && !slices.Contains(er.RuleIDs, "instance-credentials-stolen") {
			t.Errorf("rule %s delivers instance-credentials-new-network apart from instance-credentials-stolen: %v", er.LogicalID, er.RuleIDs)
		}
	}
}

// TestIdentityHistoryDelivers: with StoreIdentityHistory (the default) the
// role assumptions investigators trace (AssumeRole is a read-only STS
// event) reach the history, and so do identity writes.
func TestIdentityHistoryDelivers(t *testing.T) {
	rs := ebRules(t, deploy.Template, nil)
	for _, f := range []string{"assume-role-call.json", "iam-user-create-access-key.json", "root-console-login.json"} {
		b, err := os.ReadFile("../cloudtrail/testdata/identity/" + f)
		if err != nil {
			t.Fatal(err)
		}
		if ev := envelope(t, b); !delivered(rs, ev) {
			t.Errorf("%s (%v, readOnly %v) does not reach the history", f, ev["detail-type"], ev["detail"].(map[string]any)["readOnly"])
		}
	}
	// From other regions, through the forwarder: STS is regional.
	fwd := ebRules(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})
	b, err := os.ReadFile("../cloudtrail/testdata/identity/assume-role-call.json")
	if err != nil {
		t.Fatal(err)
	}
	if !delivered(fwd, envelope(t, b)) {
		t.Error("the forwarder does not forward AssumeRole (a read-only event) to the home region")
	}
	// And the state is no broader than needed: a read-only IAM call
	// (GetRole, among the highest-volume events) is not history.
	getRole := []byte(`{"eventSource":"iam.amazonaws.com","eventName":"GetRole","eventType":"AwsApiCall","readOnly":true,"userIdentity":{"type":"AssumedRole"}}`)
	if ev := envelope(t, getRole); delivered(rs, ev) {
		t.Errorf("a read-only GetRole call reaches the real-time function: %v", ev)
	}
}

// TestForwarderCatalogNames: from the services that are not identity
// sources (EC2, S3, KMS, Config, CloudTrail, Organizations), the forwarder
// forwards only the event names the catalog's rules match (forwarded events
// are billed, and EC2 writes alone are most of an account's), and every one
// of them; identity sources are forwarded whole for the history.
func TestForwarderCatalogNames(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	fwd := ebRules(t, deploy.Forwarder, map[string]any{"HomeRegion": "eu-west-1"})
	write := func(src, name string) map[string]any {
		return envelope(t, []byte(fmt.Sprintf(`{"eventSource":%q,"eventName":%q,"eventType":"AwsApiCall","readOnly":false,"userIdentity":{"type":"AssumedRole"}}`, src, name)))
	}
	for _, er := range deploy.EventRules(catalog) {
		srcs, ok := er.Pattern["source"].([]any)
		if !ok {
			continue
		}
		src := strings.TrimPrefix(srcs[0].(string), "aws.") + ".amazonaws.com"
		if er.Identity {
			if !delivered(fwd, write(src, "SomeWriteNoRuleNames")) {
				t.Errorf("identity source %s: a write no rule names is not forwarded (the history needs it)", src)
			}
			continue
		}
		names, ok := er.Pattern["detail"].(map[string]any)["eventName"].([]any)
		if !ok {
			// A rule matching names by prefix (Lambda's versioned names) takes the whole source.
			if !delivered(fwd, write(src, "SomeWriteNoRuleNames")) {
				t.Errorf("%s: the catalog takes the whole source but a write is not forwarded", src)
			}
			continue
		}
		for _, n := range names {
			if !delivered(fwd, write(src, n.(string))) {
				t.Errorf("%s %s (a catalog event) is not forwarded", src, n)
			}
		}
		if delivered(fwd, write(src, "SomeWriteNoRuleNames")) {
			t.Errorf("%s: a write no catalog rule names is forwarded", src)
		}
	}
}

// TestTrailOnlyFollowsDelivery: a rule's delivery decides whether it gets an
// EventBridge rule; without one, a threshold that ignores repeats is read
// from the trail bucket only.
func TestTrailOnlyFollowsDelivery(t *testing.T) {
	const base = `id: reads
title: Reads
severity: low
match: {eventSource: [secretsmanager.amazonaws.com], eventName: [GetSecretValue]}
threshold: {count: 3, within: 10m, by: [user_name], distinct: event_id, repeats: ignore}
summary: '{{.user_name}}'
`
	cases := []struct {
		name, extra string
		trailOnly   bool
	}{
		{"repeats ignored, no delivery", "", true},
		{"repeats ignored, delivery realtime", "delivery: realtime\n", false},
		{"delivery trail", "delivery: trail\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := detect.ParseRule("rules/reads.yaml", []byte(base+c.extra))
			if err != nil {
				t.Fatal(err)
			}
			if got := deploy.TrailOnly(r); got != c.trailOnly {
				t.Errorf("TrailOnly = %v, want %v", got, c.trailOnly)
			}
			delivered := slices.ContainsFunc(deploy.EventRules([]*detect.Rule{r}), func(er deploy.EventRule) bool {
				return slices.Contains(er.RuleIDs, "reads")
			})
			if delivered == c.trailOnly {
				t.Errorf("an EventBridge rule delivers its events: %v, want %v", delivered, !c.trailOnly)
			}
		})
	}
	plain, err := detect.ParseRule("rules/reads.yaml", []byte(strings.Replace(base, ", repeats: ignore", "", 1)+"delivery: trail\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !deploy.TrailOnly(plain) {
		t.Error("a counting threshold with delivery: trail is not trail-only")
	}
}
