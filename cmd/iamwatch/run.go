package main

import (
	"fmt"
	"log/slog"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/daemon"
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
		RunE: func(cmd *cobra.Command, _ []string) error { return e.runDaemon(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.config, "config", "c", "", "configuration file (default $IAMWATCH_CONFIG)")
	dbFlag(fl, &f.db)
	fl.StringVar(&f.listen, "listen", "", "address of /healthz and /metrics, e.g. 127.0.0.1:9108")
	fl.StringVar(&f.logFormat, "log-format", "", "json or text")
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error")
	fl.BoolVar(&f.noDetect, "no-detect", false, "store events without running the rules")
	return cmd
}

func (e *env) runDaemon(cmd *cobra.Command, f runFlags) error {
	ctx := cmd.Context()
	cfg, err := e.loadConfig(f.config)
	if err != nil {
		return err
	}
	fl := cmd.Flags() // flags win over the file, as in scan
	overFile(fl, "db", &cfg.DB, f.db)
	overFile(fl, "listen", &cfg.Server.Listen, f.listen)
	overFile(fl, "log-format", &cfg.Log.Format, f.logFormat)
	overFile(fl, "log-level", &cfg.Log.Level, f.logLevel)
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
		eng, closeGeo, err := e.detector(cfg.Rules, cfg.Detection, st)
		if err != nil {
			return err
		}
		defer closeGeo()
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
