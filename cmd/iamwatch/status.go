package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	"github.com/iamwatch/iamwatch/untrusted"
)

type statusFlags struct {
	db     string
	config string
	output string
	pause  []string
	resume []string
	stack  string
	region string
}

func newStatusCmd(e *env) *cobra.Command {
	var f statusFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each live source's checkpoint, lag and last error",
		Long: `Status lists the checkpoints iamwatch run keeps in the database, one per
(account, region, event source) for LookupEvents, per account and region for
the trail bucket, and per queue for SQS: status (active, error, paused), the
newest event read, the lag behind now, the last run, events processed and the
last error.

--pause KEY stops iamwatch run from reading that checkpoint's stream (it takes
effect at the next poll); --resume KEY starts it again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.status(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	fl.StringVarP(&f.config, "config", "c", "", "configuration file, for its db setting")
	fl.StringVarP(&f.output, "output", "o", "text", "text or json")
	fl.StringSliceVar(&f.pause, "pause", nil, "pause the stream of this checkpoint key (repeatable)")
	fl.StringSliceVar(&f.resume, "resume", nil, "resume the stream of this checkpoint key (repeatable)")
	fl.StringVar(&f.stack, "stack", "", "show the serverless stack of this name instead (iamwatch deploy): its status, outputs and checkpoints in DynamoDB")
	fl.StringVar(&f.region, "region", "", "the stack's region (default: the AWS configuration's)")
	return cmd
}

func (e *env) status(ctx context.Context, f statusFlags) error {
	if f.output != "text" && f.output != "json" {
		return usageErrorf("--output must be text or json, not %q", f.output)
	}
	if f.stack != "" {
		if len(f.pause)+len(f.resume) > 0 || f.db != "" {
			return usageErrorf("--stack shows a serverless stack: --db, --pause and --resume do not apply")
		}
		return e.stackStatus(ctx, f)
	}
	db := f.db
	if db == "" && (f.config != "" || e.getenv("IAMWATCH_CONFIG") != "") {
		cfg, err := e.loadConfig(f.config)
		if err != nil {
			return err
		}
		db = cfg.DB
	}
	st, err := e.openStore(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	for _, set := range []struct {
		keys   []string
		status string
	}{{f.pause, source.StatusPaused}, {f.resume, source.StatusActive}} {
		for _, key := range set.keys {
			cp, ok, err := st.Checkpoint(ctx, key)
			if err != nil {
				return err
			}
			if !ok && set.status == source.StatusActive {
				return fmt.Errorf("no checkpoint %q", key)
			}
			cp.Status = set.status
			if err := st.PutCheckpoint(ctx, cp); err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "iamwatch: %s is now %s\n", untrusted.Terminal(key), set.status)
		}
	}
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return err
	}
	return e.printCheckpoints(cps, f.output)
}

// printCheckpoints writes the checkpoints as a table or JSON lines.
func (e *env) printCheckpoints(cps []iamwatch.Checkpoint, output string) error {
	now := e.now()
	if output == "json" {
		for _, cp := range cps {
			writeJSONLine(e.stdout, statusLine(cp, now))
		}
		return nil
	}
	var sources, rules []iamwatch.Checkpoint
	for _, cp := range cps {
		if strings.HasPrefix(cp.Key, pipeline.RuleCheckpointPrefix) {
			rules = append(rules, cp)
		} else {
			sources = append(sources, cp)
		}
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if len(sources) == 0 {
		fmt.Fprintln(tw, "No checkpoints yet: iamwatch run has not stored a batch.")
	} else {
		fmt.Fprintln(tw, "SOURCE\tSTATUS\tNEWEST EVENT\tLAG\tLAST RUN\tPROCESSED\tLAST ERROR")
	}
	for _, cp := range sources {
		l := statusLine(cp, now)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", untrusted.Terminal(l.Key), untrusted.Terminal(l.Status), dash(l.NewestEvent), dash(l.Lag), dash(l.LastRun), l.Processed, untrusted.Terminal(oneLine(l.LastError, 80)))
	}
	if err := tw.Flush(); err != nil || len(rules) == 0 {
		return err
	}
	fmt.Fprintln(e.stdout, "\nRules that failed to evaluate (they did not match those events; see iamwatch rules test):")
	fmt.Fprintln(tw, "RULE\tEVENTS\tLAST FAILED\tLAST ERROR")
	for _, cp := range rules {
		l := statusLine(cp, now)
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", untrusted.Terminal(strings.TrimPrefix(l.Key, pipeline.RuleCheckpointPrefix)), l.Processed, dash(l.LastRun), untrusted.Terminal(oneLine(l.LastError, 100)))
	}
	return tw.Flush()
}

// statusRow is one checkpoint as `status` shows it; the JSON form is --output json.
type statusRow struct {
	Key         string `json:"key"`
	Status      string `json:"status"`
	Position    string `json:"position,omitempty"`
	NewestEvent string `json:"newest_event,omitempty"`
	Lag         string `json:"lag,omitempty"`
	LagSeconds  int64  `json:"lag_seconds,omitempty"`
	LastRun     string `json:"last_run,omitempty"`
	Processed   int64  `json:"processed"`
	LastError   string `json:"last_error,omitempty"`
}

func statusLine(cp iamwatch.Checkpoint, now time.Time) statusRow {
	r := statusRow{Key: cp.Key, Status: cp.Status, Position: cp.Position, Processed: cp.Processed, LastError: cp.LastError}
	if !cp.EventTime.IsZero() {
		r.NewestEvent = cp.EventTime.UTC().Format(iamwatch.TimeFormat)
		lag := now.Sub(cp.EventTime).Truncate(time.Second)
		r.Lag, r.LagSeconds = lag.String(), int64(lag.Seconds())
	}
	if !cp.LastRun.IsZero() {
		r.LastRun = cp.LastRun.UTC().Format(iamwatch.TimeFormat)
	}
	return r
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
