package export

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// AlertRow is one alert as a Parquet row: the schema of every alert file.
// Field order is column order (AlertColumns). Times are text in
// iamwatch.TimeFormat, as event_time is ("" for an unset window), the
// severity is its name (low … critical), and event_ids is a JSON array of
// strings (text, which Athena's json_extract and DuckDB's json functions
// both read; a Parquet LIST would need UNNEST in one and list functions in
// the other).
type AlertRow struct {
	DedupKey    string `parquet:"dedup_key"`
	Rule        string `parquet:"rule,dict"`
	Severity    string `parquet:"severity,dict"`
	Title       string `parquet:"title"`
	Summary     string `parquet:"summary"`
	Time        string `parquet:"time"`
	AccountID   string `parquet:"account_id,dict"`
	Region      string `parquet:"region,dict"`
	UserName    string `parquet:"user_name,dict"`
	SourceIP    string `parquet:"source_ip,dict"`
	EventName   string `parquet:"event_name,dict"`
	EventIDs    string `parquet:"event_ids"`
	Group       string `parquet:"group,dict"`
	WindowStart string `parquet:"window_start"`
	WindowEnd   string `parquet:"window_end"`
	Count       int64  `parquet:"count"`
	FirstSeen   string `parquet:"first_seen"`
	LastSeen    string `parquet:"last_seen"`
}

// AlertColumns are the columns of AlertRow in order.
var AlertColumns = []string{
	"dedup_key", "rule", "severity", "title", "summary", "time", "account_id", "region",
	"user_name", "source_ip", "event_name", "event_ids", "group", "window_start", "window_end",
	"count", "first_seen", "last_seen",
}

// AlertRowOf returns the row of a.
func AlertRowOf(a *iamwatch.Alert) AlertRow {
	ids := a.EventIDs
	if ids == nil {
		ids = []string{}
	}
	b, _ := json.Marshal(ids) // strings only: cannot fail.
	return AlertRow{
		DedupKey: a.DedupKey, Rule: a.Rule, Severity: a.Severity.String(),
		Title: a.Title, Summary: a.Summary, Time: timeText(a.Time),
		AccountID: a.AccountID, Region: a.Region, UserName: a.UserName, SourceIP: a.SourceIP,
		EventName: a.EventName, EventIDs: string(b), Group: a.Group,
		WindowStart: timeText(a.WindowStart), WindowEnd: timeText(a.WindowEnd),
		Count: int64(max(a.Count, 1)), FirstSeen: timeText(a.FirstSeen), LastSeen: timeText(a.LastSeen),
	}
}

// Alert returns the alert r holds (without Action, Tags and References,
// which are not exported).
func (r *AlertRow) Alert() (iamwatch.Alert, error) {
	a := iamwatch.Alert{
		DedupKey: r.DedupKey, Rule: r.Rule, Title: r.Title, Summary: r.Summary,
		AccountID: r.AccountID, Region: r.Region, UserName: r.UserName, SourceIP: r.SourceIP,
		EventName: r.EventName, Group: r.Group, Count: int(r.Count),
	}
	var err error
	if a.Severity, err = iamwatch.ParseSeverity(r.Severity); err != nil {
		return a, fmt.Errorf("export: alert row %s: severity: %w", r.DedupKey, err)
	}
	if err := json.Unmarshal([]byte(r.EventIDs), &a.EventIDs); err != nil {
		return a, fmt.Errorf("export: alert row %s: event_ids: %w", r.DedupKey, err)
	}
	for _, f := range []struct {
		name string
		s    string
		dst  *time.Time
	}{{"time", r.Time, &a.Time}, {"window_start", r.WindowStart, &a.WindowStart}, {"window_end", r.WindowEnd, &a.WindowEnd},
		{"first_seen", r.FirstSeen, &a.FirstSeen}, {"last_seen", r.LastSeen, &a.LastSeen}} {
		if f.s == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.s)
		if err != nil {
			return a, fmt.Errorf("export: alert row %s: %s: %w", r.DedupKey, f.name, err)
		}
		*f.dst = t.UTC()
	}
	return a, nil
}

// timeText is t in iamwatch.TimeFormat (UTC), "" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(iamwatch.TimeFormat)
}
