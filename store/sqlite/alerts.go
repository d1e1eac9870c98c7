package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

const alertColumns = `dedup_key, rule, severity, title, summary, action, time, account_id, region,
	user_name, source_ip, event_name, event_ids, grp, window_start, window_end, tags, refs,
	count, first_seen, last_seen, event_id, country, asn, as_org`

// alertColumnsOf returns alertColumns qualified by a table alias.
func alertColumnsOf(alias string) string {
	cols := strings.Split(alertColumns, ",")
	for i, c := range cols {
		cols[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// alertArgs returns a's values in alertColumns order.
func alertArgs(a *iamwatch.Alert) []any {
	return []any{a.DedupKey, a.Rule, int(a.Severity), a.Title, a.Summary, a.Action, eventTime(a.Time),
		a.AccountID, a.Region, a.UserName, a.SourceIP, a.EventName, jsonList(dedup(a.EventIDs)),
		a.Group, eventTime(a.WindowStart), eventTime(a.WindowEnd), jsonList(a.Tags), jsonList(a.References),
		max(a.Count, 1), eventTime(a.FirstSeen), eventTime(a.LastSeen), a.EventID, a.Country, a.ASN, a.ASOrg}
}

// hitChunk hits go into one INSERT statement.
const hitChunk = 128

// CommitAlerts records hits, resolves and claims the alerts in one
// transaction (see iamwatch.AlertStore). The resolver reads through the
// transaction, so it sees the hits just added and, since SQLite has one
// writer at a time, every other process's committed state. Times are kept
// to whole seconds.
func (s *Store) CommitAlerts(ctx context.Context, hits []iamwatch.Hit, resolve iamwatch.Resolver) ([]iamwatch.Claim, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit alerts: %w", err)
	}
	defer tx.Rollback()
	q := newTxStmts(tx)
	added, err := insertHits(ctx, q, hits)
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit alerts: %w", err)
	}
	alerts, err := resolve(ctx, &txView{s: s, q: q, added: added})
	if err != nil {
		return nil, fmt.Errorf("sqlite: commit alerts: %w", err)
	}
	claims := make([]iamwatch.Claim, len(alerts))
	for i, a := range alerts {
		if claims[i], err = s.claim(ctx, q, a); err != nil {
			return nil, fmt.Errorf("sqlite: claim alert %s: %w", a.DedupKey, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: commit alerts: %w", err)
	}
	return claims, nil
}

// insertHits records hits and returns the (rule, event ID) pairs that were new.
// The table's key is (rule, grp, time, event_id) (migrate_010.sql): an
// event has one group under a rule and one time, so that is one row per
// (rule, event).
//
// It is INSERT OR IGNORE rather than ON CONFLICT DO NOTHING, for the
// reason insertEvents gives: the same rows stored and returned (RETURNING
// gives only the rows inserted), but no statement journal copying every
// page the INSERT touches.
func insertHits(ctx context.Context, q *txStmts, hits []iamwatch.Hit) (map[[2]string]bool, error) {
	added := make(map[[2]string]bool, len(hits))
	args := make([]any, 0, 5*hitChunk)
	for start := 0; start < len(hits); start += hitChunk {
		chunk := hits[start:min(start+hitChunk, len(hits))]
		args = args[:0]
		for _, h := range chunk {
			if h.Rule == "" || h.EventID == "" {
				return nil, fmt.Errorf("add hit: rule and event ID are required (%q, %q)", h.Rule, h.EventID)
			}
			args = append(args, h.Rule, h.Group, h.EventID, eventTime(h.Time), h.Value)
		}
		err := eachRow(ctx, q, insertHitsQuery(len(chunk)), args, func(rows *sql.Rows) error {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				return err
			}
			added[k] = true
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("add %d hits: %w", len(chunk), err)
		}
	}
	return added, nil
}

// insertHitsQuery is the INSERT of n hits, returning the stored ones.
func insertHitsQuery(n int) string {
	return "INSERT OR IGNORE INTO threshold_hits (rule, grp, event_id, time, value) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?,?,?,?,?),", n), ",") +
		" RETURNING rule, event_id"
}

// Queries of alerts by key.
var (
	claimAlert = `INSERT INTO alerts (` + alertColumns + `, created_at)
		VALUES (` + strings.Repeat("?,", strings.Count(alertColumns, ",")+1) + `?)
		ON CONFLICT (dedup_key) DO NOTHING`
	alertByKey  = "SELECT " + alertColumns + " FROM alerts WHERE dedup_key = ?"
	updateAlert = func() string {
		cols := strings.Split(alertColumns, ",")
		set := make([]string, 0, len(cols)-1)
		for _, c := range cols[1:] {
			set = append(set, strings.TrimSpace(c)+" = ?")
		}
		return "UPDATE alerts SET " + strings.Join(set, ", ") + " WHERE dedup_key = ?"
	}()
)

// claim stores a, or merges it into the stored alert of its key.
func (s *Store) claim(ctx context.Context, q *txStmts, a iamwatch.Alert) (iamwatch.Claim, error) {
	if a.DedupKey == "" {
		return iamwatch.Claim{}, fmt.Errorf("empty dedup key (rule %q)", a.Rule)
	}
	a.Count = max(a.Count, 1)
	res, err := q.ExecContext(ctx, claimAlert, append(alertArgs(&a), wallTime(s.now()))...)
	if err != nil {
		return iamwatch.Claim{}, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return iamwatch.Claim{}, err
	} else if n == 1 {
		return iamwatch.Claim{Alert: a, New: true}, nil
	}
	stored, err := scanAlert(q.QueryRowContext(ctx, alertByKey, a.DedupKey))
	if err != nil {
		return iamwatch.Claim{}, fmt.Errorf("read stored alert: %w", err)
	}
	kept, changed := iamwatch.Merge(stored, a)
	if changed {
		args := append(alertArgs(&kept)[1:], a.DedupKey)
		if _, err := q.ExecContext(ctx, updateAlert, args...); err != nil {
			return iamwatch.Claim{}, fmt.Errorf("update stored alert: %w", err)
		}
	}
	return iamwatch.Claim{Alert: kept}, nil
}

// txView is the StateView of a CommitAlerts transaction. Not safe for
// concurrent use.
type txView struct {
	s     *Store
	q     *txStmts
	added map[[2]string]bool
}

func (v *txView) Added(rule, eventID string) (bool, bool) {
	return v.added[[2]string{rule, eventID}], true
}

func (v *txView) Alert(ctx context.Context, key string) (iamwatch.Alert, bool, error) {
	a, err := scanAlert(v.q.QueryRowContext(ctx, alertByKey, key))
	if errors.Is(err, sql.ErrNoRows) {
		return iamwatch.Alert{}, false, nil
	}
	if err != nil {
		return iamwatch.Alert{}, false, fmt.Errorf("sqlite: alert %s: %w", key, err)
	}
	return a, true, nil
}

func (v *txView) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	return queryHits(ctx, v.q, rule, group, from, to, -1)
}

// DropHits deletes hits in the commit's transaction (iamwatch.HitDropper).
func (v *txView) DropHits(ctx context.Context, hits []iamwatch.Hit) error {
	for _, h := range hits {
		if _, err := v.q.ExecContext(ctx, "DELETE FROM threshold_hits WHERE rule = ? AND grp = ? AND time = ? AND event_id = ?",
			h.Rule, h.Group, eventTime(h.Time), h.EventID); err != nil {
			return fmt.Errorf("sqlite: drop hit %s of %s: %w", h.EventID, h.Rule, err)
		}
	}
	return nil
}

func (v *txView) FirstHits(ctx context.Context, rule, group string, from, to time.Time, n int) ([]iamwatch.Hit, error) {
	return queryHits(ctx, v.q, rule, group, from, to, max(n, 0))
}

func (v *txView) Event(ctx context.Context, id string, t time.Time) (iamwatch.Event, bool, error) {
	cond, args := v.s.whereID(id, t)
	e, err := v.s.scanEvent(v.q.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM events WHERE "+cond, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return iamwatch.Event{}, false, nil
	}
	if err != nil {
		return iamwatch.Event{}, false, fmt.Errorf("sqlite: event %s: %w", id, err)
	}
	return e, true, nil
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
		{"dedup_key", f.Key}, {"rule", f.Rule}, {"grp", f.Group}, {"user_name", f.UserName}, {"account_id", f.AccountID},
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
	out, err := s.queryAlerts(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts: %w", err)
	}
	return out, nil
}

// queryAlerts runs q, which selects alertColumns, on the read connections.
func (s *Store) queryAlerts(ctx context.Context, q string, args ...any) ([]iamwatch.Alert, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []iamwatch.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AlertsByKey returns the stored alerts of keys (unknown keys give none),
// by time, then key: what a scan raised, read back once it is done. One
// query for all of them: a scan raising hundreds read them one Alerts
// call each, ~20 ms of its end on the 250k-record benchmark trail.
func (s *Store) AlertsByKey(ctx context.Context, keys []string) ([]iamwatch.Alert, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts by key: %w", err)
	}
	out, err := s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE dedup_key IN (SELECT value FROM json_each(?)) ORDER BY time, dedup_key", string(list))
	if err != nil {
		return nil, fmt.Errorf("sqlite: alerts by key: %w", err)
	}
	return out, nil
}

// scanAlert reads the alertColumns, in order, from r.
func scanAlert(r interface{ Scan(...any) error }) (iamwatch.Alert, error) {
	var (
		a                        iamwatch.Alert
		sev                      int
		t, ids, ws, we, tags, rf string
		first, last              string
	)
	if err := r.Scan(&a.DedupKey, &a.Rule, &sev, &a.Title, &a.Summary, &a.Action, &t,
		&a.AccountID, &a.Region, &a.UserName, &a.SourceIP, &a.EventName, &ids,
		&a.Group, &ws, &we, &tags, &rf, &a.Count, &first, &last, &a.EventID, &a.Country, &a.ASN, &a.ASOrg); err != nil {
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
	for _, p := range []struct {
		dst *time.Time
		src string
	}{{&a.Time, t}, {&a.WindowStart, ws}, {&a.WindowEnd, we}, {&a.FirstSeen, first}, {&a.LastSeen, last}} {
		if *p.dst, err = parseTime(p.src); err != nil {
			break
		}
	}
	if err != nil {
		return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
	}
	return a, nil
}
