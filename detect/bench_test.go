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

// catalogEngine is an engine over the built-in catalog, default settings.
func catalogEngine(b testing.TB) *detect.Engine {
	b.Helper()
	all, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

// BenchmarkMatch is the match stage with the full catalog over decoded
// events (about 1% of them matched by some rule), in batches of 1,000 as
// the pipeline gives them. Run with
//
//	go test ./detect -run XXX -bench Match -benchtime 2000x
func BenchmarkMatch(b *testing.B) {
	eng := catalogEngine(b)
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
	eng := catalogEngine(b)
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

// parsed builds n decoded events of the kinds that make the engine read
// the record, full-size (1.4 to 1.6 KB, as CloudTrail writes them): calls
// that failed, SSM parameters and secrets read, calls made with an
// instance's credentials, console sign-ins, in turn.
func parsed(b testing.TB, n int) []iamwatch.Event {
	b.Helper()
	role := func(name, session, extra string) string {
		return fmt.Sprintf(`{"type":"AssumedRole","principalId":"AROAEXAMPLE43LKHWFYC:%[2]s","arn":"arn:aws:sts::444455556666:assumed-role/%[1]s/%[2]s","accountId":"444455556666","accessKeyId":"ASIAEXAMPLEYXT3FR3VQ","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE43LKHWFYC","arn":"arn:aws:iam::444455556666:role/%[1]s","accountId":"444455556666","userName":"%[1]s"},"webIdFederationData":{},"attributes":{"creationDate":"2025-03-11T01:33:58Z","mfaAuthenticated":"false"}%[3]s}}`, name, session, extra)
	}
	const java = "aws-sdk-java/2.30.22 Linux/5.10.234-225.895.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/21.0.6+7-LTS Java/21.0.6 vendor/Amazon.com_Inc. md/internal exec-env/AWS_ECS_FARGATE io/sync http/Apache cfg/retry-mode/legacy"
	const browser = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/133.0.0.0"
	kinds := []struct{ identity, source, name, ip, ua, rest string }{
		{role("ADFS-Developers", "asmith@example.com", ""), "iam.amazonaws.com", "GetUser", "203.0.113.10", browser,
			`"errorCode":"NoSuchEntityException","errorMessage":"The user with name alice cannot be found.","requestParameters":{"userName":"alice"},"responseElements":null`},
		{role("SecurityAuditRole", "cspm-136d17f1", ""), "s3.amazonaws.com", "GetBucketPolicy", "192.0.2.200", "Prowler/5.3.0 Boto3/1.37.4 md/Botocore#1.37.4 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.8",
			`"errorCode":"NoSuchBucketPolicy","errorMessage":"The bucket policy does not exist","requestParameters":{"bucketName":"example-corp-dev-artifacts","Host":"example-corp-dev-artifacts.s3.eu-central-1.amazonaws.com","policy":""},"responseElements":null`},
		{role("payments-api-dev-task", "b908ca499ea0aa1fc3e9cd5196625062", ""), "secretsmanager.amazonaws.com", "GetSecretValue", "10.40.1.12", java,
			`"requestParameters":{"secretId":"arn:aws:secretsmanager:eu-central-1:444455556666:secret:dev/payments/db-Vvcvrv"},"responseElements":null,"vpcEndpointId":"vpce-0a1b2c3d4e5f67890"`},
		{role("payments-api-dev-task", "39f4d6c28b57cd3d1dfb1fde157b5349", ""), "ssm.amazonaws.com", "GetParameters", "10.20.3.91", java,
			`"requestParameters":{"names":["/payments/dev/db-host","/payments/dev/db-password"],"withDecryption":true},"responseElements":null,"vpcEndpointId":"vpce-0a1b2c3d4e5f67890"`},
		{role("ec2-ssm-instance", "i-60d6142bbc4e49459", `,"ec2RoleDelivery":"2.0"`), "ssm.amazonaws.com", "UpdateInstanceInformation", "10.20.1.37", "aws-sdk-go/1.55.5 (go1.22.7; linux; amd64) amazon-ssm-agent/3.3.1611.0",
			`"requestParameters":{"instanceId":"i-60d6142bbc4e49459","agentVersion":"3.3.1611.0","agentStatus":"Active","platformType":"Linux","platformName":"Amazon Linux","platformVersion":"2023","iPAddress":"10.20.1.37","computerName":"ip-10.20.1.37.ec2.internal","agentName":"amazon-ssm-agent","availabilityZone":"eu-central-1a"},"responseElements":null,"vpcEndpointId":"vpce-0a1b2c3d4e5f67890"`},
		{role("AWSReservedSSO_AdministratorAccess_e36a1e9e5c21e1a5", "ivan@example.com", ""), "signin.amazonaws.com", "ConsoleLogin", "203.0.113.12", browser,
			`"requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true","MobileVersion":"No","MFAUsed":"No"}`},
	}
	base := time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC)
	out := make([]iamwatch.Event, 0, n)
	for i := range n {
		k := kinds[i%len(kinds)]
		raw := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"eu-central-1","sourceIPAddress":%q,"userAgent":%q,%s,"requestID":"a123053d-3221-4159-ab1a-%012d","eventID":"p-%d","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"444455556666","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s"}}`,
			k.identity, base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), k.source, k.name, k.ip, k.ua, k.rest, i, i, k.source)
		ev, err := cloudtrail.DecodeRecord([]byte(raw))
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
}

// BenchmarkMatchParsed is the match stage with the full catalog over
// events that some rule reads the record of (the parsed kinds), in
// batches of 1,000. Run with
//
//	go test ./detect -run XXX -bench MatchParsed -benchtime 1000x
func BenchmarkMatchParsed(b *testing.B) {
	eng := catalogEngine(b)
	evs := parsed(b, 6_000)
	ctx := context.Background()
	const batch = 1000
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		start := (i * batch) % len(evs)
		if _, err := eng.Match(ctx, evs[start:start+batch]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
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
