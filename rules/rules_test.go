package rules_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/rules"
)

// catalog lists every rule id the issue requires, with its severity.
var catalog = map[string]string{
	"root-console-signin": "critical", "root-console-signin-failed": "critical",
	"console-signin-without-mfa": "high", "console-signin-failures": "high", "console-signin-spray": "high",
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
	"secrets-read-burst": "medium", "ssm-parameters-decrypted-burst": "medium", "ec2-password-data-burst": "high",
	"denied-api-probing": "medium", "ec2-user-data-harvest": "medium",
	"iam-backdoor-admin-user": "critical", "iam-backdoor-role": "critical",
	"kms-key-disabled": "high", "s3-bucket-policy-changed": "medium",
	"config-changed": "high", "security-group-changed": "low",
	"nacl-changed": "low", "network-gateway-changed": "low",
	"route-table-changed": "low", "vpc-changed": "low",
	"organizations-changed": "high",
	// Tampering, attempts and identity persistence (issue 13).
	"tamper-attempt-failed": "high", "cloudtrail-logging-reduced": "critical",
	"cloudtrail-logging-started": "info", "s3-lifecycle-short-expiration": "high",
	"guardduty-tampered": "high", "network-logging-deleted": "high",
	"cloudwatch-monitoring-deleted": "medium", "security-service-disabled": "high",
	"eventbridge-rule-disabled": "medium", "federation-token-created": "high",
	"federation-token-admin": "critical", "rolesanywhere-trust-changed": "high",
	"identity-provider-changed": "high", "iam-user-added-to-group": "medium",
	"permissions-boundary-removed": "high", "policy-default-version-set": "high",
	// Instance credentials off the instance, first-seen baselines (issues 13, 16).
	"instance-credentials-stolen": "critical", "instance-credentials-new-network": "high",
	"instance-credentials-outside-aws": "high", "access-key-new-asn": "medium",
	"region-first-activity": "medium", "service-first-use": "medium",
	"sso-user-created": "high", "sso-directory-changed": "medium",
	"signin-token-issued": "low", "sso-signin-failed": "low", "sso-signin-failures": "high",
	"cloudtrail-stop-attempted": "critical",
	// Sharing, resource-policy and compute backdoors (issue 13).
	"ebs-snapshot-shared": "high", "ami-shared": "high", "rds-snapshot-shared": "high",
	"lambda-permission-external": "high", "s3-bucket-policy-external": "critical",
	"resource-policy-external": "critical", "s3-public-access-block-removed": "high",
	"security-group-open-admin-port": "high", "ssm-send-command": "medium",
	"ssm-start-session": "medium", "ec2-instance-connect-key-pushed": "medium",
	"ec2-serial-console-enabled": "high", "ec2-user-data-changed": "high",
	"lambda-function-changed": "medium", "ec2-gpu-instances-launched": "medium",
	"bedrock-model-access-enabled": "medium", "iam-enumeration": "low",
	// Defense evasion that real captures showed after the catalog was written.
	"bedrock-safeguards-removed": "high", "s3-object-versions-deleted": "high", "s3-objects-customer-key-encrypted": "high", "s3-bucket-emptied": "high",
	"s3-versioning-suspended": "medium", "sagemaker-lifecycle-config-changed": "medium",
	"instance-credentials-discovery": "medium", "ses-enumeration": "medium", "bedrock-invoked-many-regions": "medium", "offensive-tool-user-agent": "medium",
	"ses-sending-setup": "medium",
	// Techniques public detection sets and Stratus Red Team's 2026 catalogue name that the corpus lacks.
	"ec2-console-screenshot": "medium", "ami-deregistered": "low", "ec2-keypair-suspicious": "high",
	"ec2-keypair-after-key-check": "medium", "mfa-device-enabled": "medium", "password-policy-changed": "medium",
	"rds-master-password-reset": "high", "rds-made-public": "high", "ebs-default-encryption-disabled": "medium",
	"lambda-function-url-public": "high", "waf-protection-removed": "medium",
	"kms-key-material-imported": "high", "region-enabled": "medium", "route53-domain-transfer": "high",
	"ec2-instance-exported": "medium", "iam-change-from-s3-client": "high", "service-specific-credential-created": "high",
	// First-seen against each identity's own history (issue 16).
	"signin-new-country": "medium", "signin-new-asn": "low", "signin-impossible-travel": "high",
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

// anyService lists the rules that watch calls to every service (a kind
// of actor, a kind of failure), so their EventBridge pattern names no source.
var anyService = []string{"root-api-activity", "unauthorized-api-calls", "denied-api-probing",
	"instance-credentials-stolen", "instance-credentials-new-network", "instance-credentials-outside-aws",
	"access-key-new-asn", "region-first-activity", "service-first-use", "offensive-tool-user-agent"}

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
		} else if !slices.Contains(anyService, r.ID) {
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
