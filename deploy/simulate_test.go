package deploy_test

import (
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
	params := scenarios["everything"]
	tpl := parse(t, deploy.Template, params)
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
			deny("dynamodb:DeleteItem", events), deny("cloudtrail:StopLogging", "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"),
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
