package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	awssm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/daemon"
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

type runFlags struct {
	config    string
	db        string
	listen    string
	logFormat string
	logLevel  string
	noDetect  bool
}

func newRunCmd(e *env) *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --config FILE",
		Short: "Run as a daemon: poll LookupEvents, read the trail bucket, consume SQS",
		Long: `Run reads CloudTrail continuously from the sources the configuration file lists
(LookupEvents, a trail's S3 bucket, an SQS queue), stores events, raises alerts and
delivers them, and serves /healthz and Prometheus /metrics. Each source keeps
checkpoints in the database, so a restart resumes where it stopped. SIGTERM or
SIGINT stops it after the batches in hand are stored.

The configuration file is --config, else $IAMWATCH_CONFIG; ` + "`iamwatch init`" + ` writes an
example. Flags override environment variables, which override the file.
AWS credentials come from the standard chain; endpoints from AWS_ENDPOINT_URL*.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.runDaemon(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "configuration file (default $IAMWATCH_CONFIG)")
	fl.StringVar(&f.db, "db", "", "SQLite database file (overrides the file's db and $IAMWATCH_DB)")
	fl.StringVar(&f.listen, "listen", "", "address of /healthz and /metrics, e.g. 127.0.0.1:9108")
	fl.StringVar(&f.logFormat, "log-format", "", "json or text")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fl.BoolVar(&f.noDetect, "no-detect", false, "store events without running the rules")
	return cmd
}

// loadConfig reads the configuration file (path, else $IAMWATCH_CONFIG) and
// applies the IAMWATCH_* environment.
func (e *env) loadConfig(path string) (*config.Config, error) {
	if path == "" {
		path = e.getenv("IAMWATCH_CONFIG")
	}
	if path == "" {
		return nil, usageErrorf("no configuration: give --config FILE or set IAMWATCH_CONFIG (iamwatch init writes an example)")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg, err := config.Parse(f, path)
	if err != nil {
		return nil, err
	}
	if err := checkConfig(context.Background(), cfg); err != nil {
		return nil, err
	}
	if err := cfg.ApplyEnv(e.getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (e *env) runDaemon(ctx context.Context, f runFlags) error {
	cfg, err := e.loadConfig(f.config)
	if err != nil {
		return err
	}
	for dst, v := range map[*string]string{&cfg.DB: f.db, &cfg.Server.Listen: f.listen, &cfg.Log.Format: f.logFormat, &cfg.Log.Level: f.logLevel} {
		if v != "" {
			*dst = v
		}
	}
	if err := cfg.Validate(); err != nil {
		return usageErrorf("%v", err)
	}
	log := newLogger(e, cfg.Log)

	// The SDK reads its own settings (profiles, AWS_ENDPOINT_URL_*) from the process.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("aws configuration: %w", err)
	}
	st, err := e.openStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer st.Close()

	deps := daemon.Deps{Config: cfg, AWS: awsCfg, Store: st, Logger: log, Now: e.now}
	if cfg.Server.Token != "" {
		if deps.Token, err = e.secrets(awsCfg).Resolve(ctx, cfg.Server.Token); err != nil {
			return fmt.Errorf("server.token: %w", err)
		}
	}
	if !f.noDetect {
		eng, err := e.detector(cfg.Rules, cfg.Detection, st)
		if err != nil {
			return err
		}
		deps.Detector = eng
	}
	if len(cfg.Notify.Sinks) > 0 {
		if deps.Sinks, err = e.daemonSinks(ctx, cfg.Notify, awsCfg, log); err != nil {
			return err
		}
	}
	d, err := daemon.New(deps)
	if err != nil {
		return err
	}
	log.Info("iamwatch: running", "version", version, "db", st.Path())
	return d.Run(ctx)
}

// newLogger returns the daemon's structured logger on stderr.
func newLogger(e *env, c config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opt := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(e.stderr, opt))
	}
	return slog.New(slog.NewJSONHandler(e.stderr, opt))
}

// sinkBuilders maps each sink type to its builder.
func sinkBuilders(awsCfg aws.Config) map[string]notify.Builder {
	load := func(context.Context) (aws.Config, error) { return awsCfg, nil }
	return map[string]notify.Builder{
		"slack": slack.Build, "teams": teams.Build, "pagerduty": pagerduty.Build, "webhook": webhook.Build,
		"jsonl": jsonl.Build, "email": email.BuildSMTP, "sns": sns.Builder(load), "ses": ses.Builder(load),
	}
}

// daemonSinks builds the configured notification sinks, with secret
// references resolved from the environment, files, SSM and Secrets Manager.
func (e *env) daemonSinks(ctx context.Context, c notify.Config, awsCfg aws.Config, log *slog.Logger) (map[string]notify.Sink, error) {
	builders := sinkBuilders(awsCfg)
	return notify.BuildSinks(ctx, c, builders, notify.Deps{Secrets: e.secrets(awsCfg), Now: e.now, Stdout: e.stdout, Logger: log})
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
