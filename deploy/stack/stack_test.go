package stack

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// fakeCFN is CloudFormation as a small state machine: a stack with a
// status that the scripted statuses advance on each describe.
type fakeCFN struct {
	exists       bool
	statuses     []cfntypes.StackStatus // returned by successive DescribeStacks; the last one sticks.
	csStatus     []cfntypes.ChangeSetStatus
	csReason     string
	calls        []string
	changeSet    *cloudformation.CreateChangeSetInput
	executeErr   error
	statusReason string
}

func (f *fakeCFN) DescribeStacks(_ context.Context, in *cloudformation.DescribeStacksInput, _ ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error) {
	f.calls = append(f.calls, "DescribeStacks")
	if !f.exists {
		return nil, &smithy.GenericAPIError{Code: "ValidationError", Message: "Stack with id " + aws.ToString(in.StackName) + " does not exist"}
	}
	st := f.statuses[0]
	if len(f.statuses) > 1 {
		f.statuses = f.statuses[1:]
	}
	return &cloudformation.DescribeStacksOutput{Stacks: []cfntypes.Stack{{
		StackName: in.StackName, StackId: aws.String("arn:aws:cloudformation:us-east-1:111122223333:stack/iamwatch/1"),
		StackStatus: st, StackStatusReason: aws.String(f.statusReason),
		Outputs: []cfntypes.Output{{OutputKey: aws.String("AlertTopicArn"), OutputValue: aws.String("arn:aws:sns:us-east-1:111122223333:t")}},
	}}}, nil
}

func (f *fakeCFN) CreateChangeSet(_ context.Context, in *cloudformation.CreateChangeSetInput, _ ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error) {
	f.calls = append(f.calls, "CreateChangeSet:"+string(in.ChangeSetType))
	f.changeSet = in
	return &cloudformation.CreateChangeSetOutput{Id: aws.String("cs-1")}, nil
}

func (f *fakeCFN) DescribeChangeSet(context.Context, *cloudformation.DescribeChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error) {
	f.calls = append(f.calls, "DescribeChangeSet")
	st := f.csStatus[0]
	if len(f.csStatus) > 1 {
		f.csStatus = f.csStatus[1:]
	}
	return &cloudformation.DescribeChangeSetOutput{Status: st, StatusReason: aws.String(f.csReason)}, nil
}

func (f *fakeCFN) ExecuteChangeSet(context.Context, *cloudformation.ExecuteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error) {
	f.calls = append(f.calls, "ExecuteChangeSet")
	f.exists = true
	return &cloudformation.ExecuteChangeSetOutput{}, f.executeErr
}

func (f *fakeCFN) DeleteChangeSet(context.Context, *cloudformation.DeleteChangeSetInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error) {
	f.calls = append(f.calls, "DeleteChangeSet")
	return &cloudformation.DeleteChangeSetOutput{}, nil
}

func (f *fakeCFN) DeleteStack(context.Context, *cloudformation.DeleteStackInput, ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error) {
	f.calls = append(f.calls, "DeleteStack")
	return &cloudformation.DeleteStackOutput{}, nil
}

type fakeS3 struct{ keys []string }

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.keys = append(f.keys, aws.ToString(in.Key))
	return &s3.PutObjectOutput{}, nil
}

func testDeployer(cfn *fakeCFN, s3c *fakeS3) *Deployer {
	d := newDeployer(cfn, s3c, "us-east-1", io.Discard)
	d.sleep = func(context.Context, time.Duration) error { return nil }
	d.now = func() time.Time { return time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC) }
	return d
}

func TestDeploy(t *testing.T) {
	in := Input{StackName: "iamwatch", Template: []byte("AWSTemplateFormatVersion: '2010-09-09'"), ArtifactBucket: "artifacts",
		Package: []byte("zip"), Parameters: map[string]string{"AlertEmail": "sec@example.com"}}
	tests := []struct {
		name       string
		cfn        fakeCFN
		wantAction string
		wantCalls  []string
		wantErr    string
	}{
		{
			name: "create",
			cfn: fakeCFN{statuses: []cfntypes.StackStatus{"CREATE_IN_PROGRESS", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"},
				csStatus: []cfntypes.ChangeSetStatus{"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"}},
			wantAction: "create",
			wantCalls: []string{"DescribeStacks", "CreateChangeSet:CREATE", "DescribeChangeSet", "DescribeChangeSet", "DescribeChangeSet",
				"ExecuteChangeSet", "DescribeStacks", "DescribeStacks", "DescribeStacks"},
		},
		{
			name:       "update",
			cfn:        fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"CREATE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"}, csStatus: []cfntypes.ChangeSetStatus{"CREATE_COMPLETE"}},
			wantAction: "update",
			wantCalls:  []string{"DescribeStacks", "CreateChangeSet:UPDATE", "DescribeChangeSet", "ExecuteChangeSet", "DescribeStacks", "DescribeStacks"},
		},
		{
			name: "no changes",
			cfn: fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"UPDATE_COMPLETE"}, csStatus: []cfntypes.ChangeSetStatus{"FAILED"},
				csReason: "The submitted information didn't contain changes. Submit different information to create a change set."},
			wantAction: "none",
			wantCalls:  []string{"DescribeStacks", "CreateChangeSet:UPDATE", "DescribeChangeSet", "DeleteChangeSet", "DescribeStacks"},
		},
		{
			name:      "change set fails",
			cfn:       fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"UPDATE_COMPLETE"}, csStatus: []cfntypes.ChangeSetStatus{"FAILED"}, csReason: "Template error: unresolved resource dependencies"},
			wantErr:   "change set failed: Template error",
			wantCalls: []string{"DescribeStacks", "CreateChangeSet:UPDATE", "DescribeChangeSet"},
		},
		{
			name:      "rolled back creation",
			cfn:       fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"ROLLBACK_COMPLETE"}},
			wantErr:   "run `iamwatch destroy` first",
			wantCalls: []string{"DescribeStacks"},
		},
		{
			name:      "busy",
			cfn:       fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"UPDATE_IN_PROGRESS"}},
			wantErr:   "is busy",
			wantCalls: []string{"DescribeStacks"},
		},
		{
			name: "update rolls back",
			cfn: fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"UPDATE_COMPLETE", "UPDATE_IN_PROGRESS", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"},
				csStatus: []cfntypes.ChangeSetStatus{"CREATE_COMPLETE"}, statusReason: "Resource handler returned message: AccessDenied"},
			wantAction: "update",
			wantErr:    "ended UPDATE_ROLLBACK_COMPLETE: Resource handler returned message: AccessDenied",
			wantCalls:  []string{"DescribeStacks", "CreateChangeSet:UPDATE", "DescribeChangeSet", "ExecuteChangeSet", "DescribeStacks", "DescribeStacks", "DescribeStacks"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfn, s3c := tt.cfn, &fakeS3{}
			res, err := testDeployer(&cfn, s3c).Deploy(t.Context(), in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Deploy error = %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cfn.calls, tt.wantCalls) {
				t.Errorf("calls\n got %v\nwant %v", cfn.calls, tt.wantCalls)
			}
			if res.Action != tt.wantAction {
				t.Errorf("action = %q, want %q", res.Action, tt.wantAction)
			}
			if tt.wantErr == "" && res.Outputs["AlertTopicArn"] == "" {
				t.Errorf("outputs = %v", res.Outputs)
			}
			if cs := cfn.changeSet; cs != nil {
				params := map[string]string{}
				for _, p := range cs.Parameters {
					params[*p.ParameterKey] = *p.ParameterValue
				}
				if params["CodeBucket"] != "artifacts" || !strings.HasSuffix(params["CodeKey"], ".zip") || params["AlertEmail"] != "sec@example.com" {
					t.Errorf("change set parameters %v", params)
				}
				if !slices.Equal(cs.Capabilities, []cfntypes.Capability{cfntypes.CapabilityCapabilityIam}) {
					t.Errorf("capabilities %v", cs.Capabilities)
				}
				if u := aws.ToString(cs.TemplateURL); !strings.HasPrefix(u, "https://artifacts.s3.us-east-1.amazonaws.com/iamwatch/iamwatch/") || !slices.Contains(s3c.keys, strings.TrimPrefix(u, "https://artifacts.s3.us-east-1.amazonaws.com/")) {
					t.Errorf("template URL %s, uploaded %v", u, s3c.keys)
				}
			}
		})
	}
}

func TestDeployContentAddressed(t *testing.T) {
	keys := func(pkg string) []string {
		cfn := &fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"UPDATE_COMPLETE"}, csStatus: []cfntypes.ChangeSetStatus{"FAILED"}, csReason: "No updates are to be performed."}
		s3c := &fakeS3{}
		if _, err := testDeployer(cfn, s3c).Deploy(t.Context(), Input{StackName: "s", Template: []byte("t"), ArtifactBucket: "b", Package: []byte(pkg)}); err != nil {
			t.Fatal(err)
		}
		return s3c.keys
	}
	a, b, c := keys("build-1"), keys("build-1"), keys("build-2")
	if !slices.Equal(a, b) || a[0] == c[0] || a[1] != c[1] {
		t.Errorf("keys: same build %v %v, new build %v", a, b, c)
	}
}

func TestDestroy(t *testing.T) {
	cfn := &fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"}}
	gone, err := testDeployer(cfn, &fakeS3{}).Destroy(t.Context(), "iamwatch", 0)
	if err != nil || !gone {
		t.Fatalf("Destroy = %v, %v", gone, err)
	}
	if want := []string{"DescribeStacks", "DeleteStack", "DescribeStacks", "DescribeStacks"}; !slices.Equal(cfn.calls, want) {
		t.Errorf("calls %v, want %v", cfn.calls, want)
	}
	missing := &fakeCFN{}
	if gone, err := testDeployer(missing, &fakeS3{}).Destroy(t.Context(), "iamwatch", 0); err != nil || gone {
		t.Errorf("Destroy of a missing stack = %v, %v; want false, nil", gone, err)
	}
	failing := &fakeCFN{exists: true, statuses: []cfntypes.StackStatus{"CREATE_COMPLETE", "DELETE_FAILED"}, statusReason: "bucket not empty"}
	if _, err := testDeployer(failing, &fakeS3{}).Destroy(t.Context(), "iamwatch", 0); err == nil || !strings.Contains(err.Error(), "bucket not empty") {
		t.Errorf("Destroy failure = %v", err)
	}
}

func TestZip(t *testing.T) {
	z, err := Zip([]byte("\x7fELF binary"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.File) != 1 || r.File[0].Name != "bootstrap" || r.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip holds %+v", r.File)
	}
	z2, _ := Zip([]byte("\x7fELF binary"))
	if !bytes.Equal(z, z2) {
		t.Error("Zip is not reproducible")
	}
}

type fakeLogs struct {
	pages map[string][][]logtypes.FilteredLogEvent // per group, successive answers.
}

func (f *fakeLogs) FilterLogEvents(_ context.Context, in *cloudwatchlogs.FilterLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.FilterLogEventsOutput, error) {
	g := aws.ToString(in.LogGroupName)
	p, ok := f.pages[g]
	if !ok {
		return nil, &logtypes.ResourceNotFoundException{Message: aws.String("The specified log group does not exist.")}
	}
	if len(p) == 0 {
		return &cloudwatchlogs.FilterLogEventsOutput{}, nil
	}
	f.pages[g] = p[1:]
	return &cloudwatchlogs.FilterLogEventsOutput{Events: p[0]}, nil
}

func TestTail(t *testing.T) {
	ev := func(id string, ms int64, msg string) logtypes.FilteredLogEvent {
		return logtypes.FilteredLogEvent{EventId: aws.String(id), Timestamp: aws.Int64(ms), Message: aws.String(msg)}
	}
	f := &fakeLogs{pages: map[string][][]logtypes.FilteredLogEvent{
		"/aws/lambda/iamwatch-realtime": {{ev("1", 1000, "a"), ev("3", 3000, "c")}, {ev("3", 3000, "c"), ev("4", 4000, "d")}},
		"/aws/lambda/iamwatch-notifier": {{ev("2", 2000, "b")}},
	}}
	tl := newTailer(f)
	ctx, cancel := context.WithCancel(t.Context())
	polls := 0
	tl.sleep = func(context.Context, time.Duration) error {
		if polls++; polls == 2 {
			cancel()
			return context.Canceled
		}
		return nil
	}
	var got []string
	err := tl.Tail(ctx, TailOptions{Stack: "iamwatch", Functions: []string{"realtime", "notifier", "poller"}, Follow: true}, func(l LogLine) error {
		got = append(got, l.Function+":"+l.Message)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"realtime:a", "notifier:b", "realtime:c", "realtime:d"}; !slices.Equal(got, want) {
		t.Errorf("lines %v, want %v (time order, no repeats, missing group skipped)", got, want)
	}
	stop := errors.New("stop")
	if err := newTailer(&fakeLogs{pages: map[string][][]logtypes.FilteredLogEvent{"/aws/lambda/s-realtime": {{ev("1", 1, "x")}}}}).Tail(t.Context(),
		TailOptions{Stack: "s", Functions: []string{"realtime"}}, func(LogLine) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit error = %v, want it returned", err)
	}
}
