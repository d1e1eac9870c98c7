package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// describeStacksServer answers CloudFormation's DescribeStacks (query
// protocol, XML) for one stack, as the real service does.
func describeStacksServer(t *testing.T, stack string, outputs map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("Action") != "DescribeStacks" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		if r.Form.Get("StackName") != stack {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`, r.Form.Get("StackName"))
			return
		}
		var outs strings.Builder
		for k, v := range outputs {
			fmt.Fprintf(&outs, "<member><OutputKey>%s</OutputKey><OutputValue>%s</OutputValue></member>", k, v)
		}
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprintf(w, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>%s</StackName><StackId>arn:aws:cloudformation:us-east-1:111122223333:stack/%s/0f0e</StackId>
<StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T10:00:00Z</CreationTime><LastUpdatedTime>2026-11-20T09:30:00Z</LastUpdatedTime>
<Outputs>%s</Outputs></member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>r-2</RequestId></ResponseMetadata></DescribeStacksResponse>`, stack, stack, outs.String())
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStatusStack(t *testing.T) {
	if testing.Short() {
		t.Skip("needs dynalite")
	}
	ctx := context.Background()
	dl := testserver.StartDynalite(t)
	st, err := dynamodb.Open(ctx, dynamodb.Config{Client: awsdynamodb.New(awsdynamodb.Options{Region: dl.Region, BaseEndpoint: aws.String(dl.Endpoint), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}), Prefix: "stk-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	cp := iamwatch.Checkpoint{Key: "lookup/111122223333/us-east-1/iam.amazonaws.com", Status: "active", Processed: 42,
		EventTime: time.Now().Add(-10 * time.Minute).UTC().Truncate(time.Second), LastRun: time.Now().UTC()}
	if err := st.PutCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	cfn := describeStacksServer(t, "iamwatch", map[string]string{"ControlTableName": "stk-control", "AlertTopicArn": "arn:aws:sns:us-east-1:111122223333:iamwatch-alerts"})
	setAWSEnv(t, map[string]string{"CLOUDFORMATION": cfn.URL, "DYNAMODB": dl.Endpoint})

	r := runCLI(t, "", nil, "status", "--stack", "iamwatch")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"Stack iamwatch: UPDATE_COMPLETE", "AlertTopicArn: arn:aws:sns:", cp.Key, "42"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "", nil, "status", "--stack", "iamwatch", "--output", "json")
	if r.code != exitOK || !strings.Contains(r.stdout, `"status":"UPDATE_COMPLETE"`) || !strings.Contains(r.stdout, `"processed":42`) {
		t.Errorf("json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, "", nil, "status", "--stack", "nope")
	if r.code != exitError || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("unknown stack: exit %d\n%s", r.code, r.stderr)
	}
	r = runCLI(t, "", nil, "status", "--stack", "iamwatch", "--pause", "x")
	if r.code != exitUsage {
		t.Errorf("--stack with --pause: exit %d, want %d", r.code, exitUsage)
	}
}
