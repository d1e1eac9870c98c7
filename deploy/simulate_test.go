package deploy_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/internal/testserver"
)

// Fake identities of the simulated stack (goformation resolves
// AWS::AccountId to 123456789012 and AWS::Region to us-east-1).
const (
	simAccount = "123456789012"
	simRegion  = "us-east-1"
)

// simARN is the ARN a resource of the template would have.
func simARN(id string) string {
	switch {
	case strings.HasSuffix(id, "Table"):
		return "arn:aws:dynamodb:" + simRegion + ":" + simAccount + ":table/" + id
	case strings.HasSuffix(id, "Queue"):
		return "arn:aws:sqs:" + simRegion + ":" + simAccount + ":" + id
	case strings.HasSuffix(id, "LogGroup"):
		return "arn:aws:logs:" + simRegion + ":" + simAccount + ":log-group:/aws/lambda/" + id + ":*"
	case id == "AlertsKey":
		return "arn:aws:kms:" + simRegion + ":" + simAccount + ":key/11111111-2222-3333-4444-555555555555"
	case id == "AlertTopic":
		return "arn:aws:sns:" + simRegion + ":" + simAccount + ":" + id
	case id == "WebhookSecret":
		return "arn:aws:secretsmanager:" + simRegion + ":" + simAccount + ":secret:" + id + "-AbCdEf"
	case id == "AnalyticsBucket":
		return "arn:aws:s3:::analytics-bucket"
	}
	return "arn:aws:unknown:::" + id
}

var subRef = regexp.MustCompile(`\$\{([^}]+)\}`)

// resolveARNs turns the parse() forms of the role's resources into ARNs.
func resolveARNs(v any, params map[string]any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = resolveARNs(x, params)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = resolveARNs(x, params)
		}
		return out
	case string:
		switch {
		case strings.HasPrefix(v, "getatt:") && strings.HasSuffix(v, ".Arn"):
			return simARN(strings.TrimSuffix(strings.TrimPrefix(v, "getatt:"), ".Arn"))
		case strings.HasPrefix(v, "ref:"):
			return simARN(strings.TrimPrefix(v, "ref:"))
		case strings.HasPrefix(v, "sub:"):
			return subRef.ReplaceAllStringFunc(strings.TrimPrefix(v, "sub:"), func(m string) string {
				n := m[2 : len(m)-1]
				switch n {
				case "AWS::Partition":
					return "aws"
				case "AWS::Region":
					return simRegion
				case "AWS::AccountId":
					return simAccount
				}
				if id, ok := strings.CutSuffix(n, ".Arn"); ok {
					return simARN(id)
				}
				return fmt.Sprint(params[n])
			})
		}
	}
	return v
}

// TestPolicySimulated: each role's policy, evaluated by a real IAM policy
// evaluator (@cloud-copilot/iam-simulate, which knows every action and
// resource type), allows the calls its function makes on its own
// resources and denies the calls it must never make.
func TestPolicySimulated(t *testing.T) {
	params := map[string]any{"PollRoleName": "iamwatch-lookup"} // a default, for resolveARNs.
	for k, v := range scenarios["everything"] {
		params[k] = v
	}
	tpl := parse(t, deploy.Template, scenarios["everything"])
	events, alerts, hits, deliveries, control := simARN("EventsTable"), simARN("AlertsTable"), simARN("HitsTable"), simARN("DeliveriesTable"), simARN("ControlTable")
	type call struct {
		action, resource string
		context          map[string]string
		want             string
	}
	allow := func(a, r string) call { return call{a, r, nil, "Allowed"} }
	deny := func(a, r string) call { return call{a, r, nil, "ImplicitlyDenied"} }
	cases := map[string][]call{
		"RealtimeRole": {
			allow("dynamodb:PutItem", events), allow("dynamodb:UpdateItem", alerts), allow("dynamodb:Query", hits+"/index/by_time"),
			allow("dynamodb:BatchWriteItem", hits), // the repeats a resolve drops (store/dynamodb DropHits)
			allow("dynamodb:Scan", deliveries), allow("sns:Publish", simARN("AlertTopic")),
			allow("s3:GetObject", "arn:aws:s3:::org-trail/AWSLogs/o-1/111122223333/CloudTrail/us-east-1/2024/01/15/f.json.gz"),
			{"kms:Decrypt", trailKey, map[string]string{"kms:ViaService": "s3.eu-west-1.amazonaws.com"}, "Allowed"},
			deny("kms:Decrypt", trailKey), // not through S3.
			allow("kms:GenerateDataKey", simARN("AlertsKey")), deny("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/99999999-2222-3333-4444-555555555555"),
			deny("dynamodb:DeleteItem", events), deny("dynamodb:DeleteTable", events), deny("dynamodb:PutItem", control),
			deny("s3:GetObject", "arn:aws:s3:::another-bucket/x"), deny("s3:PutObject", "arn:aws:s3:::org-trail/x"),
		},
		"PollerRole": {
			allow("dynamodb:PutItem", events), allow("dynamodb:PutItem", control), allow("cloudtrail:LookupEvents", "*"),
			allow("dynamodb:BatchWriteItem", hits),
			deny("dynamodb:DeleteItem", events), deny("cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"),
			// PollAccounts, in the organisation only.
			{"sts:AssumeRole", "arn:aws:iam::444455556666:role/iamwatch-lookup", map[string]string{"aws:ResourceOrgID": "o-a1b2c3d4e5"}, "Allowed"},
			{"sts:AssumeRole", "arn:aws:iam::444455556666:role/iamwatch-lookup", map[string]string{"aws:ResourceOrgID": "o-zzzzzzzzzz"}, "ImplicitlyDenied"},
			deny("sts:AssumeRole", "arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"),
		},
		"ExporterRole": {
			allow("dynamodb:Query", events), allow("dynamodb:Scan", alerts),
			allow("s3:PutObject", "arn:aws:s3:::analytics-bucket/cloudtrail/year=2024/month=1/day=15/part-0.parquet"),
			deny("dynamodb:PutItem", events), deny("dynamodb:UpdateItem", events), deny("dynamodb:BatchWriteItem", events),
			deny("dynamodb:DeleteItem", events), deny("dynamodb:PutItem", alerts), deny("dynamodb:GetItem", control),
			deny("s3:PutObject", "arn:aws:s3:::analytics-bucket/athena-results/x"),
		},
		"NotifierRole": {
			allow("dynamodb:BatchGetItem", alerts), allow("dynamodb:UpdateItem", deliveries), allow("secretsmanager:GetSecretValue", simARN("WebhookSecret")),
			deny("dynamodb:PutItem", events), deny("dynamodb:Query", events), deny("dynamodb:Scan", alerts),
			deny("dynamodb:BatchWriteItem", alerts), deny("dynamodb:DeleteItem", alerts), deny("sns:Publish", simARN("AlertTopic")),
		},
	}
	var reqs []testserver.IAMRequest
	var where []string
	for role, calls := range cases {
		res, ok := tpl.Resources[role]
		if !ok {
			t.Fatalf("role %s missing", role)
		}
		var sts []any
		for _, st := range statements(t, res) {
			sts = append(sts, st)
		}
		policy := resolveARNs(map[string]any{"Version": "2012-10-17", "Statement": sts}, params)
		for _, c := range calls {
			req := testserver.IAMRequest{Policy: policy, Action: c.action, Resource: c.resource, Context: c.context,
				Principal: "arn:aws:iam::" + simAccount + ":role/" + role, Account: simAccount}
			if f := strings.Split(c.resource, ":"); len(f) > 4 && len(f[4]) == 12 {
				req.Account = f[4] // the resource's account: the trail key may be the log archive's.
			}
			if strings.HasPrefix(c.action, "sts:") {
				// The member role's trust policy admits this account (TestReadRoleSimulated
				// evaluates the real one); here only the caller's own grant is in question.
				req.ResourcePolicy = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + simAccount + ":root"}, "Action": "sts:AssumeRole"}}}
			}
			if strings.HasPrefix(c.action, "kms:") {
				// KMS also needs the key policy to let this account's IAM policies
				// grant it (the alert key's does; a trail key's must, see README).
				req.ResourcePolicy = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + simAccount + ":root"}, "Action": "kms:*", "Resource": "*"}}}
			}
			reqs = append(reqs, req)
			where = append(where, fmt.Sprintf("%s %s on %s (context %v): want %s", role, c.action, c.resource, c.context, c.want))
		}
	}
	results := testserver.IAMSimulate(t, reqs)
	for i := range reqs {
		want := where[i][strings.LastIndex(where[i], "want ")+5:]
		if results[i] != want {
			t.Errorf("%s, got %s", where[i], results[i])
		}
	}
}

// TestReadRoleSimulated: the member accounts' read role (forwarder.yaml's
// LookupReadRole), evaluated by iam-simulate: only the iamwatch account's
// poller role may assume it (its trust policy, with the poller role's own
// grant), not another role of that account nor a role of the same name
// elsewhere; and it may read LookupEvents and the enabled regions, nothing
// else.
func TestReadRoleSimulated(t *testing.T) {
	const home = "111122223333" // the iamwatch account; the member is simAccount.
	params := map[string]any{"HomeRegion": simRegion, "HomeAccountId": home, "PollerRoleArn": pollerRole}
	fwd := parse(t, deploy.Forwarder, params)
	role, ok := fwd.Resources["LookupReadRole"]
	if !ok {
		t.Fatal("no LookupReadRole in a member's home-region forwarder")
	}
	var r struct {
		Properties struct{ AssumeRolePolicyDocument any }
	}
	b, _ := json.Marshal(role)
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	trust := resolveARNs(r.Properties.AssumeRolePolicyDocument, params)
	var sts []any
	for _, st := range statements(t, role) {
		sts = append(sts, st)
	}
	readPolicy := resolveARNs(map[string]any{"Version": "2012-10-17", "Statement": sts}, params)
	// The poller's own grant, from the stack with PollAccounts.
	stack := parse(t, deploy.Template, map[string]any{"PollAccounts": simAccount, "OrganizationId": "o-a1b2c3d4e5"})
	var psts []any
	for _, st := range statements(t, stack.Resources["PollerRole"]) {
		psts = append(psts, st)
	}
	pollerPolicy := resolveARNs(map[string]any{"Version": "2012-10-17", "Statement": psts}, map[string]any{"PollRoleName": "iamwatch-lookup"})
	readRole := "arn:aws:iam::" + simAccount + ":role/iamwatch-lookup"
	// A Lambda function calls as its role's session; IAM sets aws:PrincipalArn
	// to the role's ARN.
	assume := func(roleARN, org string) testserver.IAMRequest {
		acct, name := strings.Split(roleARN, ":")[4], roleARN[strings.LastIndex(roleARN, "/")+1:]
		return testserver.IAMRequest{Policy: pollerPolicy, ResourcePolicy: trust, Action: "sts:AssumeRole", Resource: readRole,
			Principal: "arn:aws:sts::" + acct + ":assumed-role/" + name + "/poller", Account: simAccount,
			Context: map[string]string{"aws:PrincipalArn": roleARN, "aws:PrincipalAccount": acct, "aws:ResourceOrgID": org}}
	}
	reqs := []testserver.IAMRequest{
		assume(pollerRole, "o-a1b2c3d4e5"),
		assume("arn:aws:iam::"+home+":role/developer", "o-a1b2c3d4e5"),
		assume("arn:aws:iam::999988887777:role/iamwatch-PollerRole-1A2B3C4D5E6F", "o-a1b2c3d4e5"),
		assume(pollerRole, "o-zzzzzzzzzz"),
		{Policy: readPolicy, Action: "cloudtrail:LookupEvents", Resource: "*", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "account:ListRegions", Resource: "arn:aws:account::" + simAccount + ":account", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "cloudtrail:StopLogging", Resource: "arn:aws:cloudtrail:us-east-1:" + simAccount + ":trail/org", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "cloudtrail:GetTrail", Resource: "arn:aws:cloudtrail:us-east-1:" + simAccount + ":trail/org", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "iam:ListUsers", Resource: "*", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "s3:GetObject", Resource: "arn:aws:s3:::org-trail/x", Principal: readRole, Account: simAccount},
		{Policy: readPolicy, Action: "account:EnableRegion", Resource: "arn:aws:account::" + simAccount + ":account", Principal: readRole, Account: simAccount},
	}
	want := []string{"Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied",
		"Allowed", "Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"}
	got := testserver.IAMSimulate(t, reqs)
	for i := range reqs {
		if got[i] != want[i] {
			t.Errorf("%s %s on %s (context %v): got %s, want %s", reqs[i].Principal, reqs[i].Action, reqs[i].Resource, reqs[i].Context, got[i], want[i])
		}
	}
}
