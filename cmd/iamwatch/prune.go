package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
)

type pruneFlags struct {
	db          string
	eventsOlder string
	alertsOlder string
}

func newPruneCmd(e *env) *cobra.Command {
	var f pruneFlags
	cmd := &cobra.Command{
		Use:   "prune",
		Short: "Delete history past its retention and give the space back",
		Long: `Prune deletes events older than --events-older-than (default: keep every
event) and alerts older than --alerts-older-than (default 30d), with the
alerts' deliveries and threshold state, then returns the freed pages to the
file system. Ages count back from now, by event time. The daemon (iamwatch
run) prunes the same way on the schedule of its retention settings.`,
		Example: `  iamwatch prune
  iamwatch prune --events-older-than 365d --alerts-older-than 90d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.prune(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	fl.StringVar(&f.eventsOlder, "events-older-than", "", `delete events older than this age (e.g. 365d, 52w); "" or "never" keeps them all`)
	fl.StringVar(&f.alertsOlder, "alerts-older-than", "30d", `delete alerts older than this age; "never" keeps them all`)
	return cmd
}

// retention is how long history is kept; zero keeps forever.
type retention struct{ events, alerts time.Duration }

// pruner is the store call prune makes (iamwatch.Store's Prune).
type pruner interface {
	Prune(ctx context.Context, eventsBefore, alertsBefore time.Time) (events, alerts int, err error)
}

// pruneReport says what pruneHistory deleted.
type pruneReport struct {
	EventsBefore, AlertsBefore time.Time // zero: not pruned.
	Events, Alerts             int
}

// pruneHistory deletes what r no longer keeps, counting ages back from now.
func pruneHistory(ctx context.Context, st pruner, now time.Time, r retention) (pruneReport, error) {
	var rep pruneReport
	if r.events > 0 {
		rep.EventsBefore = now.Add(-r.events)
	}
	if r.alerts > 0 {
		rep.AlertsBefore = now.Add(-r.alerts)
	}
	var err error
	rep.Events, rep.Alerts, err = st.Prune(ctx, rep.EventsBefore, rep.AlertsBefore)
	return rep, err
}

func parseRetention(flag, s string) (time.Duration, error) {
	if s == "" || s == "never" || s == "0" {
		return 0, nil
	}
	d, err := query.ParseAge(s)
	if err != nil {
		return 0, usageErrorf("--%s: %v", flag, err)
	}
	return d, nil
}

func (e *env) prune(ctx context.Context, f pruneFlags) error {
	var r retention
	var err error
	if r.events, err = parseRetention("events-older-than", f.eventsOlder); err != nil {
		return err
	}
	if r.alerts, err = parseRetention("alerts-older-than", f.alertsOlder); err != nil {
		return err
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := pruneHistory(ctx, st, e.now(), r)
	if err != nil {
		return err
	}
	line := func(what string, n int, before time.Time) {
		if before.IsZero() {
			fmt.Fprintf(e.stdout, "Kept all %s (no retention set).\n", what)
			return
		}
		fmt.Fprintf(e.stdout, "Deleted %d %s older than %s.\n", n, what, before.UTC().Format(iamwatch.TimeFormat))
	}
	line("events", rep.Events, rep.EventsBefore)
	line("alerts", rep.Alerts, rep.AlertsBefore)
	return nil
}
