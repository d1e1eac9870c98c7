package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
	"github.com/iamwatch/iamwatch/untrusted"
)

type alertsFlags struct {
	db          string
	rng         rangeFlags
	rule        string
	minSeverity string
	user        string
	account     string
	limit       int
	events      string
	triage      triageFlags
	out         outputFlags
}

func newAlertsCmd(e *env) *cobra.Command {
	var f alertsFlags
	cmd := &cobra.Command{
		Use:   "alerts",
		Short: "List the alert history with each alert's delivery status, newest first",
		Long: `Alerts lists stored alerts matching every filter given, newest first (by the
time of the event that raised them), with the delivery status of each sink:
sent, pending (with attempts so far) or failed.

An alert of a threshold or dedup rule stands for every matching event of its
group in its dedup period: COUNT says how many; event_ids names the first 20
and the latest; --events KEY lists them all (event time, ID, name, user,
source IP), oldest first.

STATUS is the triage state (open, acknowledged, resolved, false_positive),
set here with --triage KEY --status S [--note TEXT] or in iamwatch serve.

-o json writes the documented alert lines (rule, severity, title, summary,
time, account_id, region, user_name, source_ip, count, first_seen,
last_seen, event_ids, …) with a "deliveries" array.`,
		Example: `  iamwatch alerts --since 30d --min-severity high
  iamwatch alerts --rule root-console-signin -o json
  iamwatch alerts --events 'unauthorized-api-calls/2025-03-11T00:00:00Z/1f0c2a9d3b4e5f60'
  iamwatch alerts --triage 'root-console-signin/…' --status acknowledged --note 'on it'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.alerts(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	f.rng.add(fl, "7d")
	fl.StringVar(&f.rule, "rule", "", "only this rule ID")
	fl.StringVar(&f.minSeverity, "min-severity", "", "only alerts at or above this severity (info, low, medium, high, critical)")
	fl.StringVar(&f.user, "user", "", "only this user (user_name, exact)")
	fl.StringVar(&f.account, "account", "", "only this account ID")
	fl.IntVar(&f.limit, "limit", query.DefaultLimit, "at most this many alerts (0: no limit)")
	fl.StringVar(&f.events, "events", "", "list every event of the alert with this dedup key instead")
	f.triage.add(fl)
	f.out.add(fl)
	return cmd
}

// alertLine is an alert as -o json writes it: the documented alert line
// plus its deliveries.
type alertLine struct {
	iamwatch.Alert
	Deliveries []deliveryLine  `json:"deliveries"`
	Triage     iamwatch.Triage `json:"triage"`
}

type deliveryLine struct {
	Sink      string                  `json:"sink"`
	Status    iamwatch.DeliveryStatus `json:"status"`
	Attempts  int                     `json:"attempts"`
	LastError string                  `json:"last_error,omitempty"`
	SentAt    *time.Time              `json:"sent_at,omitempty"`
}

var alertColumns = []string{"time", "severity", "rule", "count", "user_name", "account_id", "source_ip", "country", "asn", "summary", "deliveries", "status", "dedup_key"}

var alertEventColumns = []string{"event_time", "event_id", "event_name", "user_name", "source_ip", "country", "asn"}

// alertEvents lists every event of the alert with key: the threshold hits
// of its rule and group from its first to its last event, or its event IDs.
func (e *env) alertEvents(ctx context.Context, f alertsFlags, opt query.Options) error {
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	as, err := st.Alerts(ctx, iamwatch.AlertFilter{Key: f.events})
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return fmt.Errorf("no alert with dedup key %q", f.events)
	}
	a := as[0]
	ids := a.EventIDs
	if a.Count > 1 || a.Group != "" {
		hits, err := st.Hits(ctx, a.Rule, a.Group, a.FirstSeen, a.LastSeen)
		if err != nil {
			return err
		}
		if len(hits) > 0 {
			ids = ids[:0:0]
			for _, h := range hits {
				ids = append(ids, h.EventID)
			}
		}
	}
	res := &query.Result{Columns: alertEventColumns, Rows: [][]any{}}
	for _, id := range ids {
		ev, err := st.Event(ctx, id)
		switch {
		case errors.Is(err, sqlite.ErrNotFound):
			res.Rows = append(res.Rows, []any{"", id, "(not stored: pruned)", "", "", "", ""})
		case err != nil:
			return err
		default:
			res.Rows = append(res.Rows, []any{ev.Time.UTC().Format(iamwatch.TimeFormat), id, ev.Name, ev.UserName, ev.SourceIP, ev.Geo.Country, ev.Geo.ASNText()})
		}
	}
	return query.Write(e.stdout, res, opt)
}

func (e *env) alerts(ctx context.Context, f alertsFlags) error {
	opt, err := e.options(f.out)
	if err != nil {
		return err
	}
	if f.limit < 0 {
		return usageErrorf("--limit must be 0 or more")
	}
	if f.events != "" {
		return e.alertEvents(ctx, f, opt)
	}
	if f.triage.key != "" {
		return e.setTriage(ctx, f.db, f.triage)
	}
	filter := iamwatch.AlertFilter{Rule: f.rule, UserName: f.user, AccountID: f.account}
	if f.minSeverity != "" {
		if filter.MinSeverity, err = iamwatch.ParseSeverity(f.minSeverity); err != nil {
			return usageErrorf("--min-severity: %v", err)
		}
	}
	if filter.Since, filter.Until, err = e.times(f.rng, opt.Location); err != nil {
		return err
	}
	if f.limit > 0 {
		filter.Limit = f.limit + 1
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	alerts, err := st.Alerts(ctx, filter)
	if err != nil {
		return err
	}
	truncated := f.limit > 0 && len(alerts) > f.limit
	if truncated {
		alerts = alerts[:f.limit]
	}
	triages, err := st.Triages(ctx)
	if err != nil {
		return err
	}
	res := &query.Result{Columns: alertColumns, Rows: [][]any{}, Truncated: truncated}
	for _, a := range alerts {
		ds, err := st.Deliveries(ctx, a.DedupKey)
		if err != nil {
			return err
		}
		if opt.Format == query.JSON {
			line := alertLine{Alert: a, Deliveries: []deliveryLine{}, Triage: triageOf(triages, a.DedupKey)}
			if opt.Location != nil {
				line.Time = a.Time.In(opt.Location)
			}
			for _, d := range ds {
				dl := deliveryLine{Sink: d.Sink, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError}
				if !d.SentAt.IsZero() {
					t := d.SentAt.UTC()
					if opt.Location != nil {
						t = t.In(opt.Location)
					}
					dl.SentAt = &t
				}
				line.Deliveries = append(line.Deliveries, dl)
			}
			b, err := json.Marshal(line)
			if err != nil {
				return fmt.Errorf("alert %s: %w", a.DedupKey, err)
			}
			if _, err := e.stdout.Write(append(untrusted.JSON(b), '\n')); err != nil {
				return err
			}
			continue
		}
		res.Rows = append(res.Rows, []any{
			a.Time.UTC().Format(iamwatch.TimeFormat), a.Severity.String(), a.Rule, max(a.Count, 1), a.UserName,
			a.AccountID, a.SourceIP, a.Country, a.ASN, a.Summary, deliverySummary(ds), string(triageOf(triages, a.DedupKey).Status), a.DedupKey,
		})
	}
	if opt.Format == query.JSON {
		return nil
	}
	return query.Write(e.stdout, res, opt)
}

// deliverySummary is "email:failed(5) slack:sent", sinks in order; "-" for
// an alert sent nowhere.
func deliverySummary(ds []iamwatch.Delivery) string {
	if len(ds) == 0 {
		return "-"
	}
	parts := make([]string, len(ds))
	for i, d := range ds {
		s := d.Sink + ":" + string(d.Status)
		if d.Status != iamwatch.DeliverySent && d.Attempts > 0 {
			s += fmt.Sprintf("(%d)", d.Attempts)
		}
		parts[i] = s
	}
	return strings.Join(parts, " ")
}
