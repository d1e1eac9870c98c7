package detect_test

import (
	"encoding/json"
	"github.com/iamwatch/iamwatch/geoip"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// record is a minimal CloudTrail record with the given userIdentity (nil:
// none) and the fields in extra.
func record(t *testing.T, identity map[string]any, extra map[string]any) []byte {
	t.Helper()
	r := map[string]any{
		"eventVersion": "1.09", "eventID": "5f0c9f1e-3b1d-5d7e-9a41-7c2e8b6d4a10", "eventTime": "2025-03-04T09:12:44Z",
		"eventSource": "kms.amazonaws.com", "eventName": "Decrypt", "awsRegion": "us-east-1",
		"eventType": "AwsApiCall", "recipientAccountId": "111122223333",
	}
	if identity != nil {
		r["userIdentity"] = identity
	}
	for k, v := range extra {
		r[k] = v
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServiceActor(t *testing.T) {
	role := map[string]any{
		"type": "AssumedRole", "principalId": "AROAJ2UCCR6DPCEXAMPLE:alice",
		"arn": "arn:aws:sts::111122223333:assumed-role/deploy/alice", "accountId": "111122223333",
		"invokedBy": "cloudformation.amazonaws.com",
	}
	for _, c := range []struct {
		name     string
		identity map[string]any
		extra    map[string]any
		want     bool
	}{
		{"service principal", map[string]any{"type": "AWSService", "invokedBy": "delivery.logs.amazonaws.com"}, nil, true},
		{"service event naming only the service", map[string]any{"accountId": "111122223333", "invokedBy": "AWS Internal"},
			map[string]any{"eventName": "RotateKey", "eventType": "AwsServiceEvent"}, true},
		{"no userIdentity at all", nil, map[string]any{"eventSource": "secretsmanager.amazonaws.com", "eventName": "EndSecretVersionDelete", "eventType": "AwsServiceEvent"}, true},
		{"a service with a role's credentials", role, nil, false},
		{"IAM user", map[string]any{"type": "IAMUser", "principalId": "AIDAQ3XV7MBT2NEXAMPLE", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333", "userName": "alice"}, nil, false},
		{"root", map[string]any{"type": "Root", "principalId": "111122223333", "arn": "arn:aws:iam::111122223333:root", "accountId": "111122223333"}, nil, false},
		{"Identity Center sign-in", map[string]any{"type": "Unknown", "principalId": "111122223333", "arn": "", "accountId": "111122223333", "userName": "jan.novak"},
			map[string]any{"eventSource": "signin.amazonaws.com", "eventName": "UserAuthentication", "eventType": "AwsServiceEvent"}, false},
		{"untyped identity with a user name", map[string]any{"accountId": "111122223333", "userName": "alice", "invokedBy": "AWS Internal"}, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			ev, err := cloudtrail.DecodeRecord(record(t, c.identity, c.extra))
			if err != nil {
				t.Fatal(err)
			}
			if got := ev.ServiceActor(); got != c.want {
				t.Errorf("ServiceActor() = %v, want %v (identity %q, user %q, invokedBy %q)", got, c.want, ev.IdentityType, ev.UserName, ev.InvokedBy)
			}
		})
	}
}

func TestParseServices(t *testing.T) {
	const rule = `id: x
title: X
severity: low
match: {eventName: [CreateUser]}
summary: x
services: %s
`
	for _, v := range []string{"include", "exclude", "exclude-invoked"} {
		r, err := detect.ParseRule("x.yaml", []byte(strings.Replace(rule, "%s", v, 1)))
		if err != nil {
			t.Fatalf("services: %s: %v", v, err)
		}
		if string(r.Services) != v {
			t.Errorf("services: %s parsed as %q", v, r.Services)
		}
	}
	_, err := detect.ParseRule("x.yaml", []byte(strings.Replace(rule, "%s", "all", 1)))
	if err == nil || !strings.Contains(err.Error(), "x.yaml:6:") || !strings.Contains(err.Error(), "exclude-invoked") {
		t.Errorf("services: all: got %v, want an error at line 6 listing the values", err)
	}
	r, err := detect.ParseRule("x.yaml", []byte(strings.Replace(rule, "services: %s\n", "", 1)))
	if err != nil || r.Services != "" {
		t.Errorf("no services key: %q, %v; want the zero value (exclude)", r.Services, err)
	}
}

// TestCatalogIgnoresServiceActors replays every positive inline test of the
// built-in catalog with the actor replaced by an AWS service principal: a
// rule about people (services: exclude or exclude-invoked) must then stay
// silent, a rule with services: include must still alert (when its pattern
// does not itself name the identity type).
func TestCatalogIgnoresServiceActors(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	service := map[string]any{"type": "AWSService", "invokedBy": "example.amazonaws.com"}
	geo, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	defer geo.Close()
	for _, r := range all {
		cp := *r
		cp.Tests = nil
		for _, tc := range r.Tests {
			if tc.Expect != "alert" {
				continue
			}
			tc.Name += " (as an AWS service)"
			tc.SummaryContains = ""
			tc.Events = append([]json.RawMessage(nil), tc.Events...)
			for i, raw := range tc.Events {
				var rec map[string]any
				if err := json.Unmarshal(raw, &rec); err != nil {
					t.Fatal(err)
				}
				rec["userIdentity"] = service
				rec["sourceIPAddress"] = "example.amazonaws.com"
				if tc.Events[i], err = json.Marshal(rec); err != nil {
					t.Fatal(err)
				}
			}
			_, namesType := r.Match["userIdentity"]
			switch {
			case r.Services != detect.ServicesInclude:
				tc.Expect = "none"
			case namesType:
				continue
			}
			cp.Tests = append(cp.Tests, tc)
		}
		for _, res := range detect.RunTests([]*detect.Rule{&cp}, detect.Config{Geo: geo}) {
			if !res.Passed {
				t.Errorf("%s (services: %q): %s", res, r.Services, res.Reason)
			}
		}
	}
}
