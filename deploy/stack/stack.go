package stack

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// cfnAPI is every CloudFormation call a deployment makes.
type cfnAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
	CreateChangeSet(ctx context.Context, in *cloudformation.CreateChangeSetInput, opts ...func(*cloudformation.Options)) (*cloudformation.CreateChangeSetOutput, error)
	DescribeChangeSet(ctx context.Context, in *cloudformation.DescribeChangeSetInput, opts ...func(*cloudformation.Options)) (*cloudformation.DescribeChangeSetOutput, error)
	ExecuteChangeSet(ctx context.Context, in *cloudformation.ExecuteChangeSetInput, opts ...func(*cloudformation.Options)) (*cloudformation.ExecuteChangeSetOutput, error)
	DeleteChangeSet(ctx context.Context, in *cloudformation.DeleteChangeSetInput, opts ...func(*cloudformation.Options)) (*cloudformation.DeleteChangeSetOutput, error)
	DeleteStack(ctx context.Context, in *cloudformation.DeleteStackInput, opts ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
}

// s3API is the S3 call a deployment makes.
type s3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

var (
	_ cfnAPI = (*cloudformation.Client)(nil)
	_ s3API  = (*s3.Client)(nil)
)

// Deployer deploys and deletes one stack. It is not safe for concurrent
// use (one deployment at a time, as CloudFormation allows).
type Deployer struct {
	cfn    cfnAPI
	s3     s3API
	region string
	log    io.Writer // progress lines.
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	poll   time.Duration
}

// New returns a Deployer using the clients (from one aws.Config); region
// builds the template's S3 URL; progress is written to log.
func New(cfn *cloudformation.Client, s3c *s3.Client, region string, log io.Writer) *Deployer {
	return newDeployer(cfn, s3c, region, log)
}

func newDeployer(cfn cfnAPI, s3c s3API, region string, log io.Writer) *Deployer {
	return &Deployer{cfn: cfn, s3: s3c, region: region, log: log, now: time.Now, sleep: sleep, poll: 5 * time.Second}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Input is one deployment.
type Input struct {
	StackName      string
	Template       []byte
	ArtifactBucket string
	Package        []byte            // the function zip (see Zip).
	Parameters     map[string]string // besides CodeBucket and CodeKey.
	Timeout        time.Duration     // of the whole wait; 0 means an hour.
}

// Result is what a deployment did.
type Result struct {
	Action  string // "create", "update" or "none" (nothing changed).
	Status  string // the final stack status.
	Outputs map[string]string
}

// Deploy uploads the package and the template (content-addressed keys, so
// a new build is a new key and CloudFormation updates the functions),
// creates a change set (CREATE or UPDATE), executes it unless it holds no
// change, and waits for the stack.
func (d *Deployer) Deploy(ctx context.Context, in Input) (Result, error) {
	if in.StackName == "" || in.ArtifactBucket == "" || len(in.Template) == 0 || len(in.Package) == 0 {
		return Result{}, errors.New("stack: deploy: stack name, artifact bucket, template and package are required")
	}
	if in.Timeout <= 0 {
		in.Timeout = time.Hour
	}
	codeKey, err := d.upload(ctx, in.ArtifactBucket, in.StackName, ".zip", in.Package)
	if err != nil {
		return Result{}, err
	}
	tplKey, err := d.upload(ctx, in.ArtifactBucket, in.StackName, ".yaml", in.Template)
	if err != nil {
		return Result{}, err
	}
	stack, err := d.describe(ctx, in.StackName)
	if err != nil {
		return Result{}, err
	}
	csType := cfntypes.ChangeSetTypeCreate
	if stack != nil {
		switch st := string(stack.StackStatus); {
		case st == string(cfntypes.StackStatusRollbackComplete):
			return Result{Status: st}, fmt.Errorf("stack: %s is %s (its creation failed): run `iamwatch destroy` first", in.StackName, st)
		case strings.HasSuffix(st, "_IN_PROGRESS"):
			return Result{Status: st}, fmt.Errorf("stack: %s is busy (%s); try again when it settles", in.StackName, st)
		case st == string(cfntypes.StackStatusReviewInProgress):
			// Created by a change set never executed: CREATE again.
		default:
			csType = cfntypes.ChangeSetTypeUpdate
		}
	}
	params := maps.Clone(in.Parameters)
	if params == nil {
		params = map[string]string{}
	}
	params["CodeBucket"], params["CodeKey"] = in.ArtifactBucket, codeKey
	name := "iamwatch-" + d.now().UTC().Format("20060102-150405")
	cs, err := d.cfn.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{
		StackName:     aws.String(in.StackName),
		ChangeSetName: aws.String(name),
		ChangeSetType: csType,
		TemplateURL:   aws.String(d.objectURL(in.ArtifactBucket, tplKey)),
		Parameters:    cfnParameters(params),
		Capabilities:  []cfntypes.Capability{cfntypes.CapabilityCapabilityIam},
		Tags:          []cfntypes.Tag{{Key: aws.String("app"), Value: aws.String("iamwatch")}},
	})
	if err != nil {
		return Result{}, fmt.Errorf("stack: create change set: %w", err)
	}
	fmt.Fprintf(d.log, "change set %s (%s) created; waiting\n", name, strings.ToLower(string(csType)))
	deadline := d.now().Add(in.Timeout)
	empty, err := d.waitChangeSet(ctx, cs.Id, deadline)
	if err != nil {
		return Result{}, err
	}
	if empty {
		if _, err := d.cfn.DeleteChangeSet(ctx, &cloudformation.DeleteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
			return Result{}, fmt.Errorf("stack: delete empty change set: %w", err)
		}
		fmt.Fprintln(d.log, "no changes")
		st, err := d.describe(ctx, in.StackName)
		if err != nil {
			return Result{}, err
		}
		return Result{Action: "none", Status: string(st.StackStatus), Outputs: outputs(st)}, nil
	}
	if _, err := d.cfn.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
		return Result{}, fmt.Errorf("stack: execute change set: %w", err)
	}
	fmt.Fprintln(d.log, "change set executing; waiting for the stack")
	st, err := d.waitStack(ctx, in.StackName, deadline)
	res := Result{Action: strings.ToLower(string(csType))}
	if st != nil {
		res.Status, res.Outputs = string(st.StackStatus), outputs(st)
	}
	return res, err
}

// upload puts b at artifacts/<stack>/<sha256>.<ext> and returns the key.
func (d *Deployer) upload(ctx context.Context, bucket, stack, ext string, b []byte) (string, error) {
	sum := sha256.Sum256(b)
	key := "iamwatch/" + stack + "/" + hex.EncodeToString(sum[:12]) + ext
	_, err := d.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))),
	})
	if err != nil {
		return "", fmt.Errorf("stack: upload s3://%s/%s: %w", bucket, key, err)
	}
	fmt.Fprintf(d.log, "uploaded s3://%s/%s (%d bytes)\n", bucket, key, len(b))
	return key, nil
}

func (d *Deployer) objectURL(bucket, key string) string {
	return fmt.Sprintf("https://%s.s3.%s.amazonaws.com/%s", bucket, d.region, key)
}

func cfnParameters(m map[string]string) []cfntypes.Parameter {
	out := make([]cfntypes.Parameter, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, cfntypes.Parameter{ParameterKey: aws.String(k), ParameterValue: aws.String(m[k])})
	}
	return out
}

func outputs(st *cfntypes.Stack) map[string]string {
	m := map[string]string{}
	for _, o := range st.Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return m
}

// describe returns the stack, or nil when it does not exist.
func (d *Deployer) describe(ctx context.Context, name string) (*cfntypes.Stack, error) {
	out, err := d.cfn.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
	if isNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("stack: describe %s: %w", name, err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// isNotExist: CloudFormation answers a missing stack with a ValidationError
// saying so.
func isNotExist(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist")
}

// noChanges are the reasons CloudFormation gives a change set with nothing in it.
var noChanges = []string{"didn't contain changes", "No updates are to be performed"}

// waitChangeSet waits until the change set is created; it reports true for
// one without changes.
func (d *Deployer) waitChangeSet(ctx context.Context, id *string, deadline time.Time) (empty bool, err error) {
	for {
		out, err := d.cfn.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: id})
		if err != nil {
			return false, fmt.Errorf("stack: describe change set: %w", err)
		}
		switch out.Status {
		case cfntypes.ChangeSetStatusCreateComplete:
			return false, nil
		case cfntypes.ChangeSetStatusFailed:
			reason := aws.ToString(out.StatusReason)
			for _, s := range noChanges {
				if strings.Contains(reason, s) {
					return true, nil
				}
			}
			return false, fmt.Errorf("stack: change set failed: %s", reason)
		}
		if d.now().After(deadline) {
			return false, fmt.Errorf("stack: change set still %s at the deadline", out.Status)
		}
		if err := d.sleep(ctx, d.poll); err != nil {
			return false, err
		}
	}
}

// waitStack waits until the stack leaves every *_IN_PROGRESS status and
// fails unless it ends in CREATE_COMPLETE or UPDATE_COMPLETE.
func (d *Deployer) waitStack(ctx context.Context, name string, deadline time.Time) (*cfntypes.Stack, error) {
	last := ""
	for {
		st, err := d.describe(ctx, name)
		if err != nil {
			return nil, err
		}
		if st == nil {
			return nil, fmt.Errorf("stack: %s disappeared", name)
		}
		status := string(st.StackStatus)
		if status != last {
			fmt.Fprintf(d.log, "%s %s\n", name, status)
			last = status
		}
		if !strings.HasSuffix(status, "_IN_PROGRESS") {
			if status == string(cfntypes.StackStatusCreateComplete) || status == string(cfntypes.StackStatusUpdateComplete) {
				return st, nil
			}
			return st, fmt.Errorf("stack: %s ended %s: %s", name, status, aws.ToString(st.StackStatusReason))
		}
		if d.now().After(deadline) {
			return st, fmt.Errorf("stack: %s still %s at the deadline", name, status)
		}
		if err := d.sleep(ctx, d.poll); err != nil {
			return st, err
		}
	}
}

// Destroy deletes the stack and waits until it is gone. A stack that does
// not exist is not an error (gone reports false). Tables and the bucket
// with DeletionPolicy Retain stay behind, as the template says.
func (d *Deployer) Destroy(ctx context.Context, name string, timeout time.Duration) (gone bool, err error) {
	st, err := d.describe(ctx, name)
	if err != nil || st == nil {
		return false, err
	}
	if timeout <= 0 {
		timeout = time.Hour
	}
	if _, err := d.cfn.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: st.StackId}); err != nil {
		return false, fmt.Errorf("stack: delete %s: %w", name, err)
	}
	fmt.Fprintf(d.log, "deleting %s\n", name)
	deadline := d.now().Add(timeout)
	for {
		// By ID: a deleted stack is still described by its ID, as DELETE_COMPLETE.
		st, err := d.describe(ctx, aws.ToString(st.StackId))
		if err != nil {
			return false, err
		}
		if st == nil || st.StackStatus == cfntypes.StackStatusDeleteComplete {
			return true, nil
		}
		if st.StackStatus == cfntypes.StackStatusDeleteFailed {
			return false, fmt.Errorf("stack: delete %s failed: %s", name, aws.ToString(st.StackStatusReason))
		}
		if d.now().After(deadline) {
			return false, fmt.Errorf("stack: %s still %s at the deadline", name, st.StackStatus)
		}
		if err := d.sleep(ctx, d.poll); err != nil {
			return false, err
		}
	}
}

// Zip returns a Lambda package holding bootstrap (executable).
func Zip(bootstrap []byte) ([]byte, error) {
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	h.Modified = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC) // reproducible: the same build, the same key.
	f, err := w.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(bootstrap); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
