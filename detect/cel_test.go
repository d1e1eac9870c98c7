package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

func roleEvent(t testing.TB, id, name, doc string) string {
	t.Helper()
	d, _ := json.Marshal(doc)
	return fmt.Sprintf(`{"eventID":%q,"eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":%q,
	"userIdentity":{"type":"IAMUser","userName":"alice","accountId":"111122223333"},"recipientAccountId":"111122223333",
	"requestParameters":{"roleName":"r","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess","assumeRolePolicyDocument":%s}}`, id, name, d)
}

// TestConditionHelpers runs conditions over one event with the helpers and
// the Config values they see.
func TestConditionHelpers(t *testing.T) {
	trust := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"}]}`
	raw := roleEvent(t, "e1", "CreateRole", trust)
	tests := []struct {
		name, cond string
		cfg        Config
		want       bool
	}{
		{"external account", `trust_allows_external(request.assumeRolePolicyDocument, account_id, trusted_accounts)`, Config{}, true},
		{"trusted account", `trust_allows_external(request.assumeRolePolicyDocument, account_id, trusted_accounts)`, Config{TrustedAccounts: []string{"444455556666"}}, false},
		{"external principals", `external_principals(request.assumeRolePolicyDocument, account_id, []) == ["arn:aws:iam::444455556666:root"]`, Config{}, true},
		{"not a policy allowing iam", `policy_allows_any(request.assumeRolePolicyDocument, ["iam:*"])`, Config{}, false},
		{"admin policy default", `is_admin_policy(request.policyArn)`, Config{}, false},
		{"admin policy configured", `is_admin_policy(request.policyArn)`, Config{AdminPolicies: []string{"ReadOnlyAccess"}}, true},
		{"admin policies list", `"AdministratorAccess" in admin_policies`, Config{}, true},
		{"arn_name", `arn_name(request.policyArn) == "ReadOnlyAccess"`, Config{}, true},
		{"role_name", `role_name("arn:aws:sts::1:assumed-role/deploy/s") == "deploy"`, Config{}, true},
		{"normalised fields", `user_name == "alice" && event_name == "CreateRole" && identity_type == "IAMUser"`, Config{}, true},
		{"record", `event.userIdentity.accountId == "111122223333" && !has(event.errorCode)`, Config{}, true},
		{"missing key is no match", `request.nope == "x"`, Config{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustRule(t, fmt.Sprintf("id: c\ntitle: C\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: '%s'\nsummary: s\n", tt.cond))
			e := mustEngine(t, []*Rule{r}, tt.cfg)
			ev := decode(t, raw)
			alerts, err := e.Evaluate(context.Background(), NewMemoryState(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(alerts) == 1; got != tt.want {
				t.Errorf("%s: %v, want %v (stats %+v)", tt.cond, got, tt.want, e.Stats())
			}
		})
	}
}

func TestEventBridgePattern(t *testing.T) {
	r := mustRule(t, `id: x
title: X
severity: low
match: {eventSource: [signin.amazonaws.com, iam.amazonaws.com], eventName: [ConsoleLogin, CreateUser]}
summary: s
`)
	got, _ := json.Marshal(r.EventBridgePattern())
	want := `{"detail":{"eventName":["ConsoleLogin","CreateUser"],"eventSource":["signin.amazonaws.com","iam.amazonaws.com"]},"detail-type":["AWS API Call via CloudTrail","AWS Console Sign In via CloudTrail"],"source":["aws.signin","aws.iam"]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	r = mustRule(t, "id: y\ntitle: Y\nseverity: low\nmatch: {errorCode: [{prefix: AccessDenied}], n: [1]}\nsummary: s\n")
	p := r.EventBridgePattern()
	if _, ok := p["source"]; ok {
		t.Errorf("a pattern without eventSource has a source: %v", p)
	}
	if !reflect.DeepEqual(p["detail"], map[string]any{"errorCode": []any{map[string]any{"prefix": "AccessDenied"}}, "n": []any{json.Number("1")}}) {
		t.Errorf("detail %#v", p["detail"])
	}
}

// A condition that fails to evaluate is no match, and the batch names the
// rule and the event, so callers can show it; other rules still run.
func TestConditionErrorsAreListed(t *testing.T) {
	bad := mustRule(t, "id: bad\ntitle: B\nseverity: low\nmatch: {eventName: [CreateRole]}\ncondition: 'int(request.roleName) > 0'\nsummary: s\n")
	good := mustRule(t, "id: good\ntitle: G\nseverity: low\nmatch: {eventName: [CreateRole]}\nsummary: s\n")
	e := mustEngine(t, []*Rule{bad, good}, Config{})
	b, err := e.Match(context.Background(), []iamwatch.Event{decode(t, roleEvent(t, "e1", "CreateRole", "{}")), decode(t, roleEvent(t, "e2", "CreateRole", "{}"))})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.RuleErrors) != 2 || b.RuleErrors[0].Rule != "bad" || b.RuleErrors[0].EventID != "e1" || b.RuleErrors[1].EventID != "e2" {
		t.Fatalf("RuleErrors = %v, want rule bad on e1 and e2", b.RuleErrors)
	}
	if msg := b.RuleErrors[0].Error(); !strings.Contains(msg, `rule bad on event "e1": condition:`) {
		t.Errorf("error reads %q", msg)
	}
	if len(b.singles) != 2 || b.singles[0].Rule != "good" {
		t.Errorf("the good rule's alerts = %+v, want 2", b.singles)
	}
	if st := e.Stats(); st.ConditionErrors != 2 {
		t.Errorf("Stats = %+v, want 2 condition errors", st)
	}
}

// The group expressions that only read decoded fields are evaluated
// without CEL, to the same value CEL gives; any other shape stays CEL's.
func TestGroupReadOffFields(t *testing.T) {
	env, err := newCELEnv(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for expr, want := range map[string][]string{
		`principal_arn != "" ? principal_arn : user_name`: {"principal_arn", "user_name"},
		`principal_arn`: {"principal_arn"},
		`source_ip != "" ? source_ip : account_id`:         {"source_ip", "account_id"},
		`principal_arn != "x" ? principal_arn : user_name`: nil,
		`user_name != "" ? principal_arn : user_name`:      nil,
		`"" != principal_arn ? principal_arn : user_name`:  nil,
		`principal_arn == "" ? user_name : principal_arn`:  nil,
		`account_id + " " + source_ip`:                     nil,
		`string(request.userName)`:                         nil,
	} {
		if got := env.fieldChoice(expr); !slices.Equal(got, want) {
			t.Errorf("fieldChoice(%s) = %q, want %q", expr, got, want)
		}
	}
	src := "id: g\ntitle: G\nseverity: low\nmatch: {eventName: [CreateRole]}\nthreshold: {count: 2, within: 10m, group: 'principal_arn != \"\" ? principal_arn : user_name'}\nsummary: s\n"
	e := mustEngine(t, []*Rule{mustRule(t, src)}, Config{})
	c := e.rules[0]
	if c.groupFields == nil {
		t.Fatal("the group is evaluated through CEL")
	}
	for _, raw := range []string{
		`{"eventID":"a","eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","userName":"alice","accountId":"111122223333"},"recipientAccountId":"111122223333"}`,
		`{"eventID":"b","eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole","userIdentity":{"type":"Root","accountId":"111122223333"},"recipientAccountId":"111122223333"}`,
		`{"eventID":"c","eventTime":"2025-03-04T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole","userIdentity":{"type":"AWSAccount","principalId":"AIDAX","accountId":"444455556666"},"recipientAccountId":"111122223333"}`,
	} {
		ev := decode(t, raw)
		var rec record
		if err := rec.reset(&ev); err != nil {
			t.Fatal(err)
		}
		act := &activation{ev: &ev, rec: &rec}
		fast, ok, err := e.groupOf(context.Background(), c, &ev, act)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		c.groupFields = nil
		viaCEL, _, err := e.groupOf(context.Background(), c, &ev, act)
		c.groupFields = []string{"principal_arn", "user_name"}
		if err != nil || fast != viaCEL {
			t.Errorf("event %s: group %q read off the fields, %q through CEL (%v)", ev.ID, fast, viaCEL, err)
		}
	}
}
