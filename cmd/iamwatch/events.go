package main

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

type eventsFlags struct {
	db          string
	rng         rangeFlags
	user        string
	eventName   string
	eventSource string
	sourceIP    string
	account     string
	region      string
	errors      bool
	limit       int
	out         outputFlags
}

func newEventsCmd(e *env) *cobra.Command {
	var f eventsFlags
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Search the stored events, newest first",
		Long: `Events lists stored events matching every filter given, newest first.

The table shows the main columns; json and csv carry every documented event
column (iamwatch show EVENT_ID prints the whole raw record).`,
		Example: `  iamwatch events --user alice --since 24h
  iamwatch events --source-ip 203.0.113.0/24 --errors -o json
  iamwatch events --event-name ConsoleLogin --account 111122223333`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.events(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	f.rng.add(fl, "7d")
	fl.StringVar(&f.user, "user", "", "user_name, exact")
	fl.StringVar(&f.eventName, "event-name", "", "event name, e.g. ConsoleLogin")
	fl.StringVar(&f.eventSource, "event-source", "", "event source, e.g. iam.amazonaws.com")
	fl.StringVar(&f.sourceIP, "source-ip", "", "source IP address, a CIDR block (203.0.113.0/24), or an AWS service name (ec2.amazonaws.com)")
	fl.StringVar(&f.account, "account", "", "account ID")
	fl.StringVar(&f.region, "region", "", "AWS region")
	fl.BoolVar(&f.errors, "errors", false, "only failed calls (an error code)")
	fl.IntVar(&f.limit, "limit", query.DefaultLimit, "at most this many events (0: no limit)")
	f.out.add(fl)
	return cmd
}

// eventTableColumns are the columns the table shows; json and csv show
// iamwatch.Columns.
var eventTableColumns = []string{"event_time", "event_name", "user_name", "source_ip", "country", "asn", "account_id", "aws_region", "error_code", "event_id"}

// eventGeoColumns follow iamwatch.Columns in json and csv: where the
// source IP is, when a GeoIP database was configured.
var eventGeoColumns = []string{"country", "asn", "as_org"}

func (e *env) events(ctx context.Context, f eventsFlags) error {
	opt, err := e.options(f.out)
	if err != nil {
		return err
	}
	if f.limit < 0 {
		return usageErrorf("--limit must be 0 or more")
	}
	filter := sqlite.EventFilter{
		UserName: f.user, EventName: f.eventName, EventSource: f.eventSource,
		AccountID: f.account, Region: f.region, ErrorsOnly: f.errors, NewestFirst: true,
	}
	if filter.Since, filter.Until, err = e.times(f.rng, opt.Location); err != nil {
		return err
	}
	if err := filter.SetSource(f.sourceIP); err != nil {
		return usageErrorf("--source-ip: %v", err)
	}
	if f.limit > 0 {
		filter.Limit = f.limit + 1
	}

	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	cols := append(slices.Clone(iamwatch.Columns), eventGeoColumns...)
	if opt.Format == query.Table {
		cols = eventTableColumns
	}
	res := &query.Result{Columns: cols, Rows: [][]any{}}
	for ev, err := range st.EventsSeq(ctx, filter) {
		if err != nil {
			return err
		}
		if f.limit > 0 && len(res.Rows) == f.limit {
			res.Truncated = true
			break
		}
		res.Rows = append(res.Rows, eventRow(&ev, cols))
	}
	return query.Write(e.stdout, res, opt)
}

// eventRow is the values of ev's columns, by documented column name.
func eventRow(ev *iamwatch.Event, cols []string) []any {
	row := make([]any, len(cols))
	for i, c := range cols {
		row[i] = eventColumn(ev, c)
	}
	return row
}

func eventColumn(ev *iamwatch.Event, col string) any {
	// JSON columns stay JSON in -o json (an object, not a string holding one).
	jsonOrNil := func(m json.RawMessage) any {
		switch {
		case len(m) == 0:
			return nil
		case json.Valid(m):
			return m
		}
		return string(m)
	}
	switch col {
	case "request_parameters":
		return jsonOrNil(ev.RequestParameters)
	case "response_elements":
		return jsonOrNil(ev.ResponseElements)
	}
	if v, ok := ev.Column(col); ok {
		return v
	}
	return nil
}
