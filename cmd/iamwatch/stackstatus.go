package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/dynamodb"
	"github.com/iamwatch/iamwatch/untrusted"
)

// stackStatus shows a serverless deployment: the stack's status and
// outputs, then the checkpoints its poller and ingest queue keep in the
// control table.
func (e *env) stackStatus(ctx context.Context, f statusFlags) error {
	var opts []func(*awsconfig.LoadOptions) error
	if f.region != "" {
		opts = append(opts, awsconfig.WithRegion(f.region))
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("aws configuration: %w", err)
	}
	out, err := cloudformation.NewFromConfig(awsCfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(f.stack)})
	if err != nil {
		return fmt.Errorf("describe stack %s: %w", f.stack, err)
	}
	if len(out.Stacks) == 0 {
		return fmt.Errorf("no stack %s", f.stack)
	}
	st := out.Stacks[0]
	outputs := map[string]string{}
	for _, o := range st.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if f.output == "json" {
		updated := ""
		for _, t := range []*time.Time{st.LastUpdatedTime, st.CreationTime} {
			if t != nil {
				updated = t.UTC().Format(iamwatch.TimeFormat)
				break
			}
		}
		writeJSONLine(e.stdout, struct {
			Stack   string            `json:"stack"`
			Status  string            `json:"status"`
			Reason  string            `json:"reason,omitempty"`
			Updated string            `json:"updated,omitempty"`
			Outputs map[string]string `json:"outputs"`
		}{f.stack, string(st.StackStatus), aws.ToString(st.StackStatusReason), updated, outputs})
	} else {
		fmt.Fprintf(e.stdout, "Stack %s: %s", untrusted.Terminal(f.stack), st.StackStatus)
		if r := aws.ToString(st.StackStatusReason); r != "" {
			fmt.Fprintf(e.stdout, " (%s)", untrusted.Terminal(r))
		}
		fmt.Fprintln(e.stdout)
		keys := make([]string, 0, len(outputs))
		for k := range outputs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(e.stdout, "  %s: %s\n", k, untrusted.Terminal(outputs[k]))
		}
		fmt.Fprintln(e.stdout)
	}
	control := outputs["ControlTableName"]
	if control == "" {
		return fmt.Errorf("stack %s has no ControlTableName output: deploy it with this version of iamwatch", f.stack)
	}
	store, err := dynamodb.Open(ctx, dynamodb.Config{Client: awsdynamodb.NewFromConfig(awsCfg), Tables: dynamodb.Tables{Control: control}})
	if err != nil {
		return err
	}
	cps, err := store.Checkpoints(ctx)
	if err != nil {
		return err
	}
	return e.printCheckpoints(cps, f.output)
}
