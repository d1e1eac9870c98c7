package main

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/deploy/stack"
	"github.com/iamwatch/iamwatch/untrusted"
)

// awsFlags are the standard AWS selection flags; empty means the SDK's own
// resolution (AWS_PROFILE, AWS_REGION, the shared config files).
type awsFlags struct {
	region, profile string
}

func (f *awsFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.region, "region", "", "AWS region (default: the SDK's, e.g. AWS_REGION or the profile's)")
	fl.StringVar(&f.profile, "profile", "", "AWS shared-config profile (default: AWS_PROFILE or default)")
}

// load returns the SDK configuration. The SDK reads its settings
// (credentials, AWS_ENDPOINT_URL_*) from the process itself.
func (f *awsFlags) load(ctx context.Context) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if f.region != "" {
		opts = append(opts, awsconfig.WithRegion(f.region))
	}
	if f.profile != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(f.profile))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, fmt.Errorf("aws configuration: %w", err)
	}
	if cfg.Region == "" {
		return cfg, usageErrorf("no AWS region: pass --region or set AWS_REGION")
	}
	return cfg, nil
}

type deployFlags struct {
	aws            awsFlags
	stack          string
	artifactBucket string
	pkg            string
	source         string
	params         []string
	alertEmail     string
	timeout        time.Duration
}

func newDeployCmd(e *env) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Build the Lambda function, upload it and create or update the serverless stack",
		Long: `Deploy builds cmd/iamwatch-lambda for linux/arm64 (provided.al2023, -tags lambda.norpc),
zips it, uploads it and the template to the artifact bucket, creates or updates the
CloudFormation stack through a change set, waits, and prints the stack's outputs.

Template parameters (see deploy/template.yaml) are set with --param Key=Value, e.g.
--param PollSchedule=6h --param TrailBucketName=my-trail-bucket. After the first deploy,
put the Slack/Teams/webhook URLs in the secret named by the WebhookSecretArn output.`,
		Args: noArgsUsage,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeploy(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	f.aws.add(fl)
	fl.StringVar(&f.stack, "stack", "iamwatch", "CloudFormation stack name")
	fl.StringVar(&f.artifactBucket, "artifact-bucket", "", "S3 bucket (in the stack's region) for the function package and template (default $IAMWATCH_ARTIFACT_BUCKET)")
	fl.StringVar(&f.pkg, "package", "", "a function zip built before (skips the build)")
	fl.StringVar(&f.source, "source", ".", "the iamwatch module directory to build from")
	fl.StringArrayVar(&f.params, "param", nil, "template parameter Key=Value (repeatable)")
	fl.StringVar(&f.alertEmail, "alert-email", "", "address subscribed to the alert topic (sets the AlertEmail parameter)")
	fl.DurationVar(&f.timeout, "timeout", time.Hour, "how long to wait for the stack")
	return cmd
}

// parseParams reads Key=Value parameters; CodeBucket and CodeKey are the
// command's own.
func parseParams(list []string, alertEmail string) (map[string]string, error) {
	m := map[string]string{}
	for _, p := range list {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--param %q: want Key=Value", p)
		}
		if k == "CodeBucket" || k == "CodeKey" {
			return nil, usageErrorf("--param %s: set by deploy itself", k)
		}
		m[k] = v
	}
	if alertEmail != "" {
		m["AlertEmail"] = alertEmail
	}
	return m, nil
}

func runDeploy(ctx context.Context, e *env, f *deployFlags) error {
	if f.artifactBucket == "" {
		f.artifactBucket = e.getenv("IAMWATCH_ARTIFACT_BUCKET")
	}
	if f.artifactBucket == "" {
		return usageErrorf("--artifact-bucket (or IAMWATCH_ARTIFACT_BUCKET) is required")
	}
	params, err := parseParams(f.params, f.alertEmail)
	if err != nil {
		return err
	}
	cfg, err := f.aws.load(ctx)
	if err != nil {
		return err
	}
	var pkg []byte
	if f.pkg != "" {
		if pkg, err = os.ReadFile(f.pkg); err != nil {
			return fmt.Errorf("read package: %w", err)
		}
	} else {
		fmt.Fprintln(e.stderr, "building cmd/iamwatch-lambda for linux/arm64")
		bin, err := buildFunction(ctx, f.source)
		if err != nil {
			return err
		}
		if pkg, err = stack.Zip(bin); err != nil {
			return fmt.Errorf("zip: %w", err)
		}
	}
	d := stack.New(cloudformation.NewFromConfig(cfg), s3.NewFromConfig(cfg), cfg.Region, e.stderr)
	res, err := d.Deploy(ctx, stack.Input{
		StackName: f.stack, Template: deploy.Template, ArtifactBucket: f.artifactBucket,
		Package: pkg, Parameters: params, Timeout: f.timeout,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "stack %s: %s (%s)\n", f.stack, res.Status, res.Action)
	for _, k := range slices.Sorted(maps.Keys(res.Outputs)) {
		fmt.Fprintf(e.stdout, "%-22s %s\n", k, untrusted.Terminal(res.Outputs[k]))
	}
	return nil
}

// buildFunction builds the Lambda binary from the module in dir and
// returns it.
func buildFunction(ctx context.Context, dir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "iamwatch-build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "bootstrap")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/iamwatch-lambda")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build the function (go build in %s): %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return os.ReadFile(out)
}

// noArgsUsage refuses positional arguments as a usage error (exit 2).
func noArgsUsage(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}
