package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/iamwatch/iamwatch"
)

const alertColumns = `dedup_key, rule, severity, title, summary, action, time, account_id, region,
	user_name, source_ip, event_name, event_ids, grp, window_start, window_end, tags, refs`

// alertColumnsOf returns alertColumns qualified by a table alias.
func alertColumnsOf(alias string) string {
	cols := strings.Split(alertColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// ClaimAlert stores a if no alert with its DedupKey exists and reports true.
// Otherwise it adds a's EventIDs to the stored alert (set union, stored order
// first), keeps the earlier Time, and reports false. Event times are kept to
// whole seconds.
func (s *Store) ClaimAlert(ctx context.Context, a iamwatch.Alert) (claimed bool, err error) {
	if a.DedupKey == "" {
		return false, fmt.Errorf("sqlite: claim alert: empty dedup key (rule %q)", a.Rule)
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: claim alert %s: %w", a.DedupKey, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO alerts (`+alertColumns+`, created_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (dedup_key) DO NOTHING`,
		a.DedupKey, a.Rule, int(a.Severity), a.Title, a.Summary, a.Action, eventTime(a.Time),
		a.AccountID, a.Region, a.UserName, a.SourceIP, a.EventName, jsonList(dedup(a.EventIDs)),
		a.Group, eventTime(a.WindowStart), eventTime(a.WindowEnd), jsonList(a.Tags), jsonList(a.References),
		wallTime(s.now()))
	if err != nil {
		return false, fmt.Errorf("sqlite: claim alert %s: %w", a.DedupKey, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return false, fmt.Errorf("sqlite: claim alert %s: %w", a.DedupKey, err)
	} else if n == 1 {
		claimed = true
	} else {
		if err := mergeAlert(ctx, tx, a); err != nil {
			return false, fmt.Errorf("sqlite: claim alert %s: %w", a.DedupKey, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: claim alert %s: commit: %w", a.DedupKey, err)
	}
	return claimed, nil
}

// mergeAlert adds a's event IDs to the stored alert and keeps the earliest time.
func mergeAlert(ctx context.Context, tx *sql.Tx, a iamwatch.Alert) error {
	var idsJSON, t string
	err := tx.QueryRowContext(ctx, "SELECT event_ids, time FROM alerts WHERE dedup_key = ?", a.DedupKey).Scan(&idsJSON, &t)
	if err != nil {
		return fmt.Errorf("read stored alert: %w", err)
	}
	var ids []string
	if err := json.Unmarshal([]byte(idsJSON), &ids); err != nil {
		return fmt.Errorf("stored event_ids: %w", err)
	}
	merged := dedup(append(ids, a.EventIDs...))
	newT := t
	if at := eventTime(a.Time); at != "" && (t == "" || at < t) {
		newT = at
	}
	if len(merged) == len(ids) && newT == t {
		return nil
	}
	_, err = tx.ExecContext(ctx, "UPDATE alerts SET event_ids = ?, time = ? WHERE dedup_key = ?",
		jsonList(merged), newT, a.DedupKey)
	if err != nil {
		return fmt.Errorf("update stored alert: %w", err)
	}
	return nil
}

// dedup returns ids without repeats, first occurrence kept.
func dedup(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // cannot fail for []string.
	return string(b)
}

func parseList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("bad stored JSON list %.40q: %w", s, err)
	}
	return l, nil
}

// Alerts lists the alerts matching f, newest (by Time) first. Empty lists
// (EventIDs, Tags, References) come back nil.
func (s *Store) Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	for _, c := range []struct{ col, v string }{
		{"rule", f.Rule}, {"grp", f.Group}, {"user_name", f.UserName}, {"account_id", f.AccountID},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if f.MinSeverity > 0 {
		add("severity >= ?", int(f.MinSeverity))
	}
	if !f.Since.IsZero() {
		add("time >= ?", eventTimeCeil(f.Since))
	}
	if !f.Until.IsZero() {
		add("time < ?", eventTimeCeil(f.Until))
	}
	q := "SELECT " + alertColumns + " FROM alerts"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY time DESC, id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	defer rows.Close()
	var out []iamwatch.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	return out, nil
}

// scanAlert reads the alertColumns, in order, from r.
func scanAlert(r interface{ Scan(...any) error }) (iamwatch.Alert, error) {
	var (
		a                        iamwatch.Alert
		sev                      int
		t, ids, ws, we, tags, rf string
	)
	if err := r.Scan(&a.DedupKey, &a.Rule, &sev, &a.Title, &a.Summary, &a.Action, &t,
		&a.AccountID, &a.Region, &a.UserName, &a.SourceIP, &a.EventName, &ids,
		&a.Group, &ws, &we, &tags, &rf); err != nil {
		return a, err
	}
	a.Severity = iamwatch.Severity(sev)
	var err error
	for _, p := range []struct {
		dst *[]string
		src string
	}{{&a.EventIDs, ids}, {&a.Tags, tags}, {&a.References, rf}} {
		if *p.dst, err = parseList(p.src); err != nil {
			return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
		}
	}
	if a.Time, err = parseTime(t); err == nil {
		if a.WindowStart, err = parseTime(ws); err == nil {
			a.WindowEnd, err = parseTime(we)
		}
	}
	if err != nil {
		return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
	}
	return a, nil
}
