package detect

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// TestAllowCIRole: a CI role named by principal ARN and allowed up to
// medium raises nothing for rules that stay at or below medium, but still
// raises a rule that is (or escalates to) high or critical, globally and per
// rule; the same list without max_severity hides everything.
func TestAllowCIRole(t *testing.T) {
	ci := "arn:aws:sts::111122223333:assumed-role/github-deploy/run-42"
	medium := mustRule(t, strings.Replace(singleRule, "severity: high", "severity: medium", 1))
	critical := mustRule(t, strings.NewReplacer("id: user-created", "id: user-created-critical", "severity: high", "severity: critical").Replace(singleRule))
	escalating := mustRule(t, strings.NewReplacer("id: user-created", "id: user-created-burst", "severity: high", "severity: medium").Replace(singleRule)+
		"dedup: {fields: [user_name], period: 1h}\nescalate: [{count: 5, severity: high}]\n")
	sev := func(s iamwatch.Severity) *iamwatch.Severity { return &s }
	ciList := AllowList{Principals: []string{"arn:aws:iam::111122223333:role/github-*"}, MaxSeverity: sev(iamwatch.SeverityMedium)}
	tests := []struct {
		name string
		cfg  Config
		ev   iamwatch.Event
		want []string // rules that alert
	}{
		{"no list", Config{}, createUser(t, "1", ci, "198.51.100.7", "Terraform/1.9", t0), []string{"user-created", "user-created-burst", "user-created-critical"}},
		{"ci role up to medium", Config{Allow: ciList}, createUser(t, "2", ci, "198.51.100.7", "Terraform/1.9", t0), []string{"user-created-burst", "user-created-critical"}},
		{"per rule, up to medium", Config{Rules: map[string]RuleConfig{"user-created": {Allow: ciList}, "user-created-critical": {Allow: ciList}}},
			createUser(t, "3", ci, "198.51.100.7", "Terraform/1.9", t0), []string{"user-created-burst", "user-created-critical"}},
		{"another role", Config{Allow: ciList}, createUser(t, "4", "arn:aws:sts::111122223333:assumed-role/admin/bob", "198.51.100.7", "Terraform/1.9", t0),
			[]string{"user-created", "user-created-burst", "user-created-critical"}},
		{"exact session ARN, no ceiling", Config{Allow: AllowList{Principals: []string{ci}}}, createUser(t, "5", ci, "198.51.100.7", "Terraform/1.9", t0), nil},
		// IAM shows a role's ARN with its path; a session's ARN has none
		// (role names are unique in an account, whatever the path).
		{"role ARN with a path", Config{Allow: AllowList{Principals: []string{"arn:aws:iam::111122223333:role/ci/github-deploy"}, MaxSeverity: sev(iamwatch.SeverityMedium)}},
			createUser(t, "7", ci, "198.51.100.7", "Terraform/1.9", t0), []string{"user-created-burst", "user-created-critical"}},
		{"a wildcard path is not dropped", Config{Allow: AllowList{Principals: []string{"arn:aws:iam::111122223333:role/ci/*"}, MaxSeverity: sev(iamwatch.SeverityMedium)}},
			createUser(t, "8", ci, "198.51.100.7", "Terraform/1.9", t0), []string{"user-created", "user-created-burst", "user-created-critical"}},
		{"user ARN", Config{Allow: AllowList{Principals: []string{"arn:aws:iam::111122223333:user/ALICE"}, MaxSeverity: sev(iamwatch.SeverityHigh)}},
			createUser(t, "6", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0), []string{"user-created-critical"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustEngine(t, []*Rule{medium, critical, escalating}, tt.cfg)
			alerts, err := e.Evaluate(context.Background(), NewMemoryState(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range alerts {
				got = append(got, a.Alert.Rule)
			}
			slices.Sort(got)
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("alerts from %v, want %v", got, tt.want)
			}
		})
	}
	for _, cfg := range []Config{
		{Allow: AllowList{Principals: []string{"arn:aws:iam::*:role/ci"}, MaxSeverity: sev(iamwatch.SeverityCritical)}},
		{Rules: map[string]RuleConfig{"user-created": {Allow: AllowList{Roles: []string{"ci"}, MaxSeverity: sev(iamwatch.SeverityCritical)}}}},
	} {
		if _, err := New([]*Rule{medium}, cfg); err == nil {
			t.Errorf("max_severity critical accepted: %+v", cfg)
		}
	}
	if got := roleARN("arn:aws-us-gov:sts::111122223333:assumed-role/ci/x"); got != "arn:aws-us-gov:iam::111122223333:role/ci" {
		t.Errorf("roleARN = %q", got)
	}
}
