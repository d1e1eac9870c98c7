package rules_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
)

// TestChangeRulesOneIncidentPerActorHour: the CIS change rules that
// infrastructure as code sets off by the dozen (network changes, the generic
// IAM policy change) raise one incident per actor and hour, whose count is
// every change, instead of one alert per change; another actor, or the next
// hour, opens another.
func TestChangeRulesOneIncidentPerActorHour(t *testing.T) {
	byID := catalogByID(t)
	for _, id := range []string{"route-table-changed", "network-gateway-changed", "vpc-changed", "security-group-changed", "nacl-changed", "iam-policy-changed"} {
		t.Run(id, func(t *testing.T) {
			eng, base := alone(t, byID, id)
			hour := base.Time.Truncate(time.Hour)
			var evs []iamwatch.Event
			add := func(n int, at time.Time, principal string) {
				ev := base
				ev.ID = fmt.Sprintf("%s-%d", principal, n)
				ev.Time = at
				ev.PrincipalARN = principal
				evs = append(evs, ev)
			}
			for i := range 40 { // a Terraform run: 40 changes in 40 minutes
				add(i, hour.Add(time.Duration(i)*time.Minute), "arn:aws:iam::111122223333:role/terraform")
			}
			add(100, hour.Add(10*time.Minute), "arn:aws:iam::111122223333:user/alice")
			add(101, hour.Add(70*time.Minute), "arn:aws:iam::111122223333:role/terraform") // the next hour
			as := standing(t, eng, evs)
			counts := map[string]int{}
			for _, a := range as {
				counts[fmt.Sprintf("%s@%s", a.Group, a.FirstSeen.Format("15:04"))] += a.Count
			}
			if len(as) != 3 {
				t.Errorf("%d alerts, want 3 (terraform's hour, alice, terraform's next hour): %v", len(as), counts)
			}
			if got := counts["111122223333/arn:aws:iam::111122223333:role/terraform@"+hour.Format("15:04")]; got != 40 {
				t.Errorf("terraform's first hour counts %d changes, want 40: %v", got, counts)
			}
		})
	}
}

// TestAttemptRulesOneIncidentPerPrincipalCallDay: a failed tampering call
// repeated all day by one principal (strangers trying a leaked key, a retry
// loop) is one incident whose count grows; the next UTC day, another
// principal, or another service's call of the same name (GuardDuty's and
// Security Hub's DeleteMembers) opens another.
func TestAttemptRulesOneIncidentPerPrincipalCallDay(t *testing.T) {
	byID := catalogByID(t)
	for _, id := range []string{"tamper-attempt-failed", "cloudtrail-stop-attempted"} {
		t.Run(id, func(t *testing.T) {
			eng, base := alone(t, byID, id)
			day := base.Time.UTC().Truncate(24 * time.Hour)
			other := "securityhub.amazonaws.com" // another service's call of the same name
			if other == base.Source {
				other = "guardduty.amazonaws.com"
			}
			type attempt struct {
				hours        int
				user, source string
			}
			attempts := []attempt{
				{0, "backup", base.Source}, {1, "backup", base.Source}, {5, "backup", base.Source},
				{13, "backup", base.Source}, {23, "backup", base.Source},
				{24, "backup", base.Source}, // the next day
				{2, "alice", base.Source},   // another principal
			}
			// An incident: who, which service, the day it began, and its count.
			want := []string{
				fmt.Sprintf("alice %s %s ×1", base.Source, day.Format(time.DateOnly)),
				fmt.Sprintf("backup %s %s ×5", base.Source, day.Format(time.DateOnly)),
				fmt.Sprintf("backup %s %s ×1", base.Source, day.AddDate(0, 0, 1).Format(time.DateOnly)),
			}
			if id == "tamper-attempt-failed" { // its calls span services
				attempts = append(attempts, attempt{3, "backup", other})
				want = append(want, fmt.Sprintf("backup %s %s ×1", other, day.Format(time.DateOnly)))
			}
			var evs []iamwatch.Event
			for i, a := range attempts {
				ev := base
				ev.ID = fmt.Sprintf("attempt-%d", i)
				ev.Time = day.Add(time.Duration(a.hours)*time.Hour + time.Minute)
				ev.UserName, ev.Source = a.user, a.source
				evs = append(evs, ev)
			}
			as := standing(t, eng, evs)
			var got []string
			for _, a := range as {
				// The group is the dedup fields' values: account, user, then
				// the service for tamper-attempt-failed, then the call.
				parts := strings.Split(a.Group, "/")
				source := base.Source
				if len(parts) == 4 {
					source = parts[2]
				}
				got = append(got, fmt.Sprintf("%s %s %s ×%d", a.UserName, source, a.FirstSeen.UTC().Format(time.DateOnly), a.Count))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("incidents %q, want %q", got, want)
			}
		})
	}
}

// standing evaluates evs with eng, one batch an event as live delivery
// makes them, and returns the alerts that stand at the end.
func standing(t *testing.T, eng *detect.Engine, evs []iamwatch.Event) []iamwatch.Alert {
	t.Helper()
	st := detect.NewMemoryState()
	for _, ev := range evs {
		if _, err := eng.Evaluate(context.Background(), st, ev); err != nil {
			t.Fatal(err)
		}
	}
	as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// catalogByID returns the catalog's rules by ID.
func catalogByID(t *testing.T) map[string]*detect.Rule {
	byID := map[string]*detect.Rule{}
	for _, r := range load(t) {
		byID[r.ID] = r
	}
	return byID
}

// alone returns an Engine of byID[id] alone and the event of its first
// single-event test that expects an alert.
func alone(t *testing.T, byID map[string]*detect.Rule, id string) (*detect.Engine, iamwatch.Event) {
	t.Helper()
	rule := byID[id]
	if rule == nil {
		t.Fatalf("no rule %s", id)
	}
	var pos []byte
	for _, tc := range rule.Tests {
		if tc.Expect == "alert" && len(tc.Events) == 1 {
			pos = tc.Events[0]
			break
		}
	}
	if pos == nil {
		t.Fatalf("%s: no single-event positive test to build on", rule.ID)
	}
	base, err := cloudtrail.DecodeRecord(pos)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.New([]*detect.Rule{rule}, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return eng, base
}

// TestFederationTokensOneIncidentPerIssuerAddressDay: an identity broker
// issuing federation tokens all day from its address is one incident whose
// count is every token; its key used from another address, another user,
// or the next UTC day opens another.
func TestFederationTokensOneIncidentPerIssuerAddressDay(t *testing.T) {
	eng, base := alone(t, catalogByID(t), "federation-token-created")
	day := base.Time.UTC().Truncate(24 * time.Hour)
	type token struct {
		minutes  int
		user, ip string
	}
	var tokens []token
	for i := range 30 { // the broker: a token every 40 minutes
		tokens = append(tokens, token{i * 40, "report-broker", "10.20.4.15"})
	}
	tokens = append(tokens,
		token{300, "report-broker", "203.0.113.9"},      // its key elsewhere
		token{310, "alice", "10.20.4.15"},               // another user
		token{24*60 + 5, "report-broker", "10.20.4.15"}, // the next day
	)
	var evs []iamwatch.Event
	for i, tk := range tokens {
		ev := base
		ev.ID = fmt.Sprintf("token-%d", i)
		ev.Time = day.Add(time.Duration(tk.minutes) * time.Minute)
		ev.UserName, ev.SourceIP = tk.user, tk.ip
		evs = append(evs, ev)
	}
	var got []string
	for _, a := range standing(t, eng, evs) {
		got = append(got, fmt.Sprintf("%s %s %s ×%d", a.UserName, a.SourceIP, a.FirstSeen.UTC().Format(time.DateOnly), a.Count))
	}
	next := day.AddDate(0, 0, 1).Format(time.DateOnly)
	want := []string{
		"alice 10.20.4.15 " + day.Format(time.DateOnly) + " ×1",
		"report-broker 10.20.4.15 " + day.Format(time.DateOnly) + " ×30",
		"report-broker 10.20.4.15 " + next + " ×1",
		"report-broker 203.0.113.9 " + day.Format(time.DateOnly) + " ×1",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("incidents %q, want %q", got, want)
	}
}

// TestToolSplitsHarvestsNotReconnaissance: the credential-harvest bursts
// count by principal and tool, so a sweep from another program after a
// routine one (Terraform refreshing its state) is an incident of its own;
// iam-enumeration counts by principal alone, so reconnaissance that mixes
// the CLI and a script still reaches its threshold.
func TestToolSplitsHarvestsNotReconnaissance(t *testing.T) {
	byID := catalogByID(t)
	const (
		principal = "arn:aws:iam::111122223333:user/ci-deploy"
		terraform = "APN/1.0 HashiCorp/1.0 Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.40.0"
		cli       = "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off"
		boto      = "Boto3/1.34.10 md/Botocore#1.34.10 ua/2.0 os/linux#6.2.0 Botocore/1.34.10"
	)
	t0 := time.Date(2025, 3, 4, 9, 12, 0, 0, time.UTC)
	call := func(i int, at time.Duration, source, name, ua string, req map[string]any) iamwatch.Event {
		t.Helper()
		raw, err := json.Marshal(map[string]any{
			"eventVersion": "1.09", "eventID": fmt.Sprintf("3c5e7a9b-1d2f-5a4b-8c6d-%012d", i),
			"eventTime": t0.Add(at).Format(time.RFC3339), "eventSource": source, "eventName": name,
			"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.23", "userAgent": ua,
			"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAQ3XV7MBT2NEXAMPLE", "arn": principal,
				"accountId": "111122223333", "accessKeyId": "AKIAIOSFODNN7EXAMPLE", "userName": "ci-deploy"},
			"requestParameters": req, "readOnly": true, "eventType": "AwsApiCall", "managementEvent": true,
			"recipientAccountId": "111122223333", "eventCategory": "Management",
		})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := cloudtrail.DecodeRecord(raw)
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	incidents := func(t *testing.T, id string, evs []iamwatch.Event) []string {
		t.Helper()
		eng, err := detect.New([]*detect.Rule{byID[id]}, detect.Config{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range standing(t, eng, evs) {
			got = append(got, fmt.Sprintf("%s (%d events)", a.Group, len(a.EventIDs)))
		}
		slices.Sort(got)
		return got
	}

	t.Run("secrets-read-burst", func(t *testing.T) {
		var evs []iamwatch.Event
		for i := range 10 { // Terraform reads ten secrets, then someone else sweeps five of them
			evs = append(evs, call(i, time.Duration(i)*time.Second, "secretsmanager.amazonaws.com", "GetSecretValue", terraform,
				map[string]any{"secretId": fmt.Sprintf("prod/app/secret-%d", i)}))
		}
		for i := range 5 {
			evs = append(evs, call(10+i, time.Minute+time.Duration(i)*time.Second, "secretsmanager.amazonaws.com", "GetSecretValue", cli,
				map[string]any{"secretId": fmt.Sprintf("prod/app/secret-%d", i)}))
		}
		want := []string{principal + " with Terraform (10 events)", principal + " with aws-cli (5 events)"}
		if got := incidents(t, "secrets-read-burst", evs); !slices.Equal(got, want) {
			t.Errorf("incidents %q, want %q", got, want)
		}
	})
	t.Run("iam-enumeration", func(t *testing.T) {
		calls := []string{"ListUsers", "ListRoles", "ListGroups", "ListPolicies", "ListAttachedUserPolicies",
			"ListUserPolicies", "GetPolicy", "GetPolicyVersion", "ListGroupsForUser", "ListAccessKeys"}
		var evs []iamwatch.Event
		for i, name := range calls { // half by the CLI, half by a script
			ua := cli
			if i%2 == 1 {
				ua = boto
			}
			evs = append(evs, call(i, time.Duration(i)*10*time.Second, "iam.amazonaws.com", name, ua, map[string]any{}))
		}
		want := []string{principal + " (10 events)"}
		if got := incidents(t, "iam-enumeration", evs); !slices.Equal(got, want) {
			t.Errorf("incidents %q, want %q", got, want)
		}
	})
}
