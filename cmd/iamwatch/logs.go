package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/deploy"
	"github.com/iamwatch/iamwatch/deploy/stack"
	"github.com/iamwatch/iamwatch/untrusted"
)

type logsFlags struct {
	aws       awsFlags
	stack     string
	functions []string
	since     string
	follow    bool
	filter    string
}

func newLogsCmd(e *env) *cobra.Command {
	f := &logsFlags{}
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Show the serverless functions' logs (CloudWatch Logs)",
		Args:  noArgsUsage,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runLogs(cmd.Context(), e, f) },
	}
	fl := cmd.Flags()
	f.aws.add(fl)
	fl.StringVar(&f.stack, "stack", "iamwatch", "CloudFormation stack name")
	fl.StringSliceVar(&f.functions, "function", nil, "realtime, poller, exporter or notifier (repeatable; default all)")
	fl.StringVar(&f.since, "since", "15m", "how far back to start (a duration like 90m or 2h)")
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new log events until interrupted")
	fl.StringVar(&f.filter, "filter", "", "a CloudWatch Logs filter pattern, e.g. '{ $.level = \"ERROR\" }'")
	return cmd
}

func runLogs(ctx context.Context, e *env, f *logsFlags) error {
	all := make([]string, 0, len(deploy.Functions))
	for _, s := range deploy.Functions {
		all = append(all, string(s.Name))
	}
	fns := f.functions
	if len(fns) == 0 {
		fns = all
	}
	for _, fn := range fns {
		if !slices.Contains(all, fn) {
			return usageErrorf("--function %q: want one of %v", fn, all)
		}
	}
	since, err := parseLogsSince(f.since)
	if err != nil {
		return usageErrorf("--since: %v", err)
	}
	cfg, err := f.aws.load(ctx)
	if err != nil {
		return err
	}
	t := stack.NewTailer(cloudwatchlogs.NewFromConfig(cfg))
	return t.Tail(ctx, stack.TailOptions{Stack: f.stack, Functions: fns, Since: e.now().Add(-since), Filter: f.filter, Follow: f.follow},
		func(l stack.LogLine) error {
			// Log lines carry attacker-controlled text (user agents, names): escape them.
			_, err := fmt.Fprintf(e.stdout, "%s %-8s %s\n", l.Time.Format("2006-01-02T15:04:05.000Z"), l.Function, untrusted.Terminal(l.Message))
			return err
		})
}

// parseLogsSince reads --since: a positive duration, at most the 30 days
// CloudWatch Logs is usually asked about interactively.
func parseLogsSince(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > 30*24*time.Hour {
		return 0, fmt.Errorf("%s is not between 1s and 720h", s)
	}
	return d, nil
}
