package rules_test

import (
	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/geoip"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// catalog lists every rule id the issue requires, with its severity.
var catalog = map[string]string{
	"root-console-signin": "critical", "root-console-signin-failed": "critical",
	"console-signin-without-mfa": "high", "console-signin-failures": "high",
	"console-signin-failed": "low", "root-api-activity": "high",
	"iam-user-created": "high", "admin-policy-attached": "critical",
	"dangerous-inline-policy": "critical", "access-key-created": "critical",
	"access-key-updated": "high", "role-trust-policy-external": "critical",
	"mfa-device-removed": "critical", "login-profile-changed": "high",
	"sso-permission-set-created": "critical", "sso-permission-set-updated": "critical",
	"sso-admin-policy-attached": "critical", "sso-account-assignment-created": "critical",
	"sso-application-created": "high", "sso-application-deleted": "high",
	"cloudtrail-logging-stopped": "critical", "cloudtrail-changed": "medium",
	"unauthorized-api-calls": "medium", "iam-policy-changed": "medium",
	"kms-key-disabled": "high", "s3-bucket-policy-changed": "medium",
	"config-changed": "high", "security-group-changed": "low",
	"nacl-changed": "low", "network-gateway-changed": "low",
	"route-table-changed": "low", "vpc-changed": "low",
	"organizations-changed": "high",
	"signin-new-country":    "medium", "signin-new-asn": "low",
}

func load(t testing.TB) []*detect.Rule {
	t.Helper()
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestCatalogIsComplete(t *testing.T) {
	rs := load(t)
	got := map[string]*detect.Rule{}
	for _, r := range rs {
		got[r.ID] = r
	}
	for id, sev := range catalog {
		r := got[id]
		if r == nil {
			t.Errorf("rule %s missing", id)
			continue
		}
		if r.Severity.String() != sev {
			t.Errorf("%s: severity %s, want %s", id, r.Severity, sev)
		}
		if r.File != id+".yaml" {
			t.Errorf("%s: defined in %s, want %s.yaml", id, r.File, id)
		}
		if r.Action == "" || r.Description == "" || len(r.References) == 0 {
			t.Errorf("%s: needs an action, a description and references", id)
		}
		if strings.HasPrefix(r.Title, "[") {
			t.Errorf("%s: title %q carries a severity prefix; sinks add it", id, r.Title)
		}
		var pos, neg int
		for _, tc := range r.Tests {
			if tc.Expect == "alert" {
				pos++
			} else {
				neg++
			}
		}
		if pos == 0 || neg == 0 {
			t.Errorf("%s: %d positive and %d negative tests; want both", id, pos, neg)
		}
	}
	for id := range got {
		if _, ok := catalog[id]; !ok {
			t.Errorf("rule %s is not in the catalog list of this test", id)
		}
	}
}

// TestRules runs every inline test of every built-in rule, one subtest each.
func TestRules(t *testing.T) {
	rs := load(t)
	results := detect.RunTests(rs, detect.Config{Geo: sampleGeo(t)})
	if len(results) == 0 {
		t.Fatal("no rule tests ran")
	}
	for _, res := range results {
		t.Run(res.Rule+"/"+res.Test, func(t *testing.T) {
			if !res.Passed {
				t.Error(res.String())
			}
		})
	}
}

// TestEventBridgePatterns checks every rule derives a deliverable pattern.
func TestEventBridgePatterns(t *testing.T) {
	for _, r := range load(t) {
		p := r.EventBridgePattern()
		if p["detail"] == nil || p["detail-type"] == nil {
			t.Errorf("%s: pattern %v lacks detail or detail-type", r.ID, p)
		}
		if src, ok := p["source"].([]any); ok {
			if !slices.ContainsFunc(src, func(s any) bool { return strings.HasPrefix(s.(string), "aws.") }) {
				t.Errorf("%s: source %v", r.ID, src)
			}
		} else if r.ID != "root-api-activity" && r.ID != "unauthorized-api-calls" {
			t.Errorf("%s: no source in %v", r.ID, p)
		}
	}
}

// sampleGeo is the test GeoIP database the inline tests and the sample use
// (geoip/testdata: documentation ranges only).
func sampleGeo(t testing.TB) iamwatch.GeoLocator {
	t.Helper()
	db, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
