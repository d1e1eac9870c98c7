package detect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// mix builds a realistic stream of decoded events: mostly read-only noise
// (Describe*/Get*/List* by roles, AssumeRole by services, KMS Decrypt by
// services), with about 1 in 100 an identity change or a sign-in that some
// rule matches.
func mix(b testing.TB, n int) []iamwatch.Event {
	b.Helper()
	role := `{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-0abc","arn":"arn:aws:sts::111122223333:assumed-role/app-server/i-0abc","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app-server","userName":"app-server"}}}`
	svc := `{"type":"AWSService","invokedBy":"%s"}`
	user := `{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`
	noise := []struct{ src, name, ident, req string }{
		{"ec2.amazonaws.com", "DescribeInstances", role, `{"instancesSet":{},"filterSet":{}}`},
		{"ec2.amazonaws.com", "DescribeSecurityGroups", role, `{"securityGroupSet":{}}`},
		{"s3.amazonaws.com", "GetBucketLocation", role, `{"bucketName":"app-data","location":""}`},
		{"iam.amazonaws.com", "GetRole", role, `{"roleName":"app-server"}`},
		{"iam.amazonaws.com", "ListAttachedRolePolicies", role, `{"roleName":"app-server"}`},
		{"sts.amazonaws.com", "AssumeRole", fmt.Sprintf(svc, "lambda.amazonaws.com"), `{"roleArn":"arn:aws:iam::111122223333:role/fn","roleSessionName":"fn"}`},
		{"sts.amazonaws.com", "AssumeRole", fmt.Sprintf(svc, "ecs-tasks.amazonaws.com"), `{"roleArn":"arn:aws:iam::111122223333:role/task","roleSessionName":"t"}`},
		{"kms.amazonaws.com", "Decrypt", fmt.Sprintf(svc, "secretsmanager.amazonaws.com"), `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`},
		{"logs.amazonaws.com", "DescribeLogGroups", role, `{}`},
		{"sts.amazonaws.com", "GetCallerIdentity", user, `null`},
		{"ec2.amazonaws.com", "DescribeVolumes", role, `{"volumeSet":{}}`},
		{"cloudwatch.amazonaws.com", "GetMetricData", role, `{"startTime":"x"}`},
	}
	hits := []struct{ src, name, ident, req, extra string }{
		{"iam.amazonaws.com", "CreateUser", user, `{"userName":"svc-x"}`, ``},
		{"signin.amazonaws.com", "ConsoleLogin", user, `null`, `,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"}`},
		{"iam.amazonaws.com", "AttachRolePolicy", user, `{"roleName":"r","policyArn":"arn:aws:iam::aws:policy/ReadOnlyAccess"}`, ``},
		{"ec2.amazonaws.com", "DescribeInstances", role, `{}`, `,"errorCode":"Client.UnauthorizedOperation"`},
	}
	base := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	out := make([]iamwatch.Event, 0, n)
	for i := range n {
		var raw string
		t := base.Add(time.Duration(i) * time.Second).Format(time.RFC3339)
		if i%100 == 99 {
			h := hits[(i/100)%len(hits)]
			raw = fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.4","userAgent":"aws-cli/2","requestParameters":%s,"eventID":"h-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"%s}`,
				h.ident, t, h.src, h.name, h.req, i, h.extra)
		} else {
			x := noise[i%len(noise)]
			raw = fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"10.0.1.5","userAgent":"aws-sdk-go-v2/1.30","requestParameters":%s,"responseElements":null,"eventID":"n-%d","readOnly":true,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
				x.ident, t, x.src, x.name, x.req, i)
		}
		ev, err := cloudtrail.DecodeRecord([]byte(raw))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// BenchmarkMatch is the match stage with the full catalog over decoded
// events (about 1% of them matched by some rule), in batches of 1,000 as
// the pipeline gives them. Run with
//
//	go test ./detect -run XXX -bench Match -benchtime 2000x
func BenchmarkMatch(b *testing.B) {
	all, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	evs := mix(b, 10_000)
	ctx := context.Background()
	const batch = 1000
	matched := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		start := (i * batch) % len(evs)
		m, err := eng.Match(ctx, evs[start:start+batch])
		if err != nil {
			b.Fatal(err)
		}
		matched += len(m.Hits)
		for _, ok := range m.Keep {
			if ok {
				matched++
			}
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
	if matched == 0 {
		b.Fatal("no alerts: the mix lost its matching events")
	}
}

// BenchmarkMatchNoise is the cost of an event no rule cares about, in a batch of its own (so it pays for the Batch too).
func BenchmarkMatchNoise(b *testing.B) {
	all, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ev := mix(b, 1)[0]
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Match(ctx, []iamwatch.Event{ev}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkLoadCatalog is the built-in catalog loaded for an engine, part
// of the fixed cost every scan, CLI command and Lambda cold start pays
// before the first event. -cpu 1,2 shows what the second core gives.
func BenchmarkLoadCatalog(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := detect.LoadFSForEngine(rules.Builtin(), "."); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewEngine is the engine built over the loaded catalog (the
// conditions compiled), the other half of that fixed cost.
func BenchmarkNewEngine(b *testing.B) {
	rs, err := detect.LoadFSForEngine(rules.Builtin(), ".")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := detect.New(rs, detect.Config{}); err != nil {
			b.Fatal(err)
		}
	}
}
