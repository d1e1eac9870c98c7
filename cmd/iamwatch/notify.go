package main

import (
	"context"
	"fmt"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

func newNotifyCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify",
		Short: "Test notification sinks and retry failed deliveries",
	}
	cmd.AddCommand(newNotifyTestCmd(e), newNotifyRetryCmd(e))
	return cmd
}

func newNotifyTestCmd(e *env) *cobra.Command {
	var config, sink string
	cmd := &cobra.Command{
		Use:   "test --sink NAME",
		Short: "Send a test alert to one configured sink, now, bypassing the outbox",
		Long: `Test builds the sink NAME from the configuration file's notify section (resolving
its secrets) and sends it one test alert of severity info directly, without the
outbox or rate limits. It exits 0 when the destination accepted the message and 1
with the reason (secrets removed) when not.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sink == "" {
				return usageErrorf("notify test: --sink NAME is required")
			}
			cfg, err := e.loadConfig(config)
			if err != nil {
				return err
			}
			sc, ok := cfg.Notify.Sinks[sink]
			if !ok {
				return usageErrorf("notify test: no sink %q in the configuration (have: %s)", sink, strings.Join(cfg.Notify.SinkNames(), ", "))
			}
			s, err := e.buildSink(cmd.Context(), sink, sc)
			if err != nil {
				return err
			}
			if err := notify.SendTest(cmd.Context(), s, e.now()); err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "sent a test alert to %s (%s)\n", sink, sc.Type)
			return err
		},
	}
	cmd.Flags().StringVarP(&config, "config", "c", "", "configuration file (default $IAMWATCH_CONFIG)")
	cmd.Flags().StringVar(&sink, "sink", "", "name of the sink to test")
	return cmd
}

// buildSink builds one sink from its configuration alone, so a test does not
// need every other sink's secrets.
func (e *env) buildSink(ctx context.Context, name string, sc notify.SinkConfig) (notify.Sink, error) {
	// Loading the AWS configuration makes no calls; clients are built only
	// for the sink types and secret references that need them.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	sinks, err := e.daemonSinks(ctx, notify.Config{Sinks: map[string]notify.SinkConfig{name: sc}}, awsCfg, e.log)
	if err != nil {
		return nil, err
	}
	return sinks[name], nil
}

func newNotifyRetryCmd(e *env) *cobra.Command {
	var db, sink string
	cmd := &cobra.Command{
		Use:   "retry [--sink NAME]",
		Short: "Set failed deliveries back to pending (of one sink, or all)",
		Long: `Retry sets deliveries that failed permanently (a 404 webhook, a rejected
credential) or ran out of attempts back to pending, due now, so the daemon
delivers them at its next poll. Fix the sink's configuration first. Deliveries
already sent are never sent again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := e.openStore(cmd.Context(), db)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.RetryFailed(cmd.Context(), sink, e.now())
			if err != nil {
				return err
			}
			what := "all sinks"
			if sink != "" {
				what = "sink " + untrusted.Terminal(sink)
			}
			_, err = fmt.Fprintf(e.stdout, "%d failed %s of %s set back to pending\n", n, plural(n, "delivery", "deliveries"), what)
			return err
		},
	}
	dbFlag(cmd.Flags(), &db)
	cmd.Flags().StringVar(&sink, "sink", "", "only this sink's deliveries")
	return cmd
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
