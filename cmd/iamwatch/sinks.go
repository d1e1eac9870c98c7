package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/email"
	"github.com/iamwatch/iamwatch/notify/jsonl"
	"github.com/iamwatch/iamwatch/notify/pagerduty"
	"github.com/iamwatch/iamwatch/notify/secretsmanager"
	"github.com/iamwatch/iamwatch/notify/ses"
	"github.com/iamwatch/iamwatch/notify/slack"
	"github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/notify/ssm"
	"github.com/iamwatch/iamwatch/notify/teams"
	"github.com/iamwatch/iamwatch/notify/webhook"
)

// daemonSinks builds the configured notification sinks, with secret
// references resolved from the environment, files, SSM and Secrets Manager.
func (e *env) daemonSinks(ctx context.Context, c notify.Config, awsCfg aws.Config, log *slog.Logger) (map[string]notify.Sink, error) {
	builders := sinkBuilders(awsCfg)
	return notify.BuildSinks(ctx, c, builders, notify.Deps{Secrets: e.secrets(awsCfg), Now: e.now, Stdout: e.stdout, Logger: log})
}

// sinkBuilders maps each sink type to its builder.
func sinkBuilders(awsCfg aws.Config) map[string]notify.Builder {
	load := func(context.Context) (aws.Config, error) { return awsCfg, nil }
	return map[string]notify.Builder{
		"slack": slack.Build, "teams": teams.Build, "pagerduty": pagerduty.Build, "webhook": webhook.Build,
		"jsonl": jsonl.Build, "email": email.BuildSMTP, "sns": sns.Builder(load), "ses": ses.Builder(load),
	}
}

// secrets resolves secret references from the environment, files, SSM and
// Secrets Manager.
func (e *env) secrets(awsCfg aws.Config) *notify.Resolver {
	return &notify.Resolver{
		Getenv: func(k string) (string, bool) { v := e.getenv(k); return v, v != "" },
		Lookups: map[string]notify.SecretLookup{
			"ssm":            ssm.Lookup(awsssm.NewFromConfig(awsCfg)),
			"secretsmanager": secretsmanager.Lookup(awssm.NewFromConfig(awsCfg)),
		},
	}
}
