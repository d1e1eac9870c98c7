package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Roll-ups: per-hour and per-day aggregates of the events table, so that the
// named queries that aggregate over the whole history (query package: daily
// summary, hourly activity, active users, failed authentications, role
// assumptions, Identity Center admins and activity) read thousands of rows
// instead of millions.
//
// Each roll-up row counts the events of one key (a UTC hour or day and a few
// event columns). The rows always equal a GROUP BY over the events table
// (rollupTable.aggregate is that GROUP BY, and the tests compare):
//   - PutEvents adds the events its INSERT stored (never a duplicate), in the
//     same transaction, aggregated in memory per call: a few upserts a batch;
//   - Prune drops the buckets older than its cut and recounts the one it cuts
//     through;
//   - migration 2 fills them from the events of an existing database.
//
// Columns: the key (named as in events; hour is 'YYYY-MM-DDTHH:00:00Z', day
// is event_date), n (events), n_errors (events with an error code) and,
// where kept, first_time and last_time (min and max event_time).

// rollupTable describes one roll-up table.
type rollupTable struct {
	name   string
	key    []rollupCol // the primary key, bucket (hour or day) first.
	errors bool        // keeps n_errors.
	times  bool        // keeps first_time and last_time.
	where  string      // the events counted (SQL over events); "" is all.
	// keyOf returns the key of e (in key order) and whether e counts.
	keyOf  func(e *iamwatch.Event, d *derived) (rollupKey, bool)
	hourly bool // the bucket is an hour, not a day.
	role   int  // the position of rollupKey.role in the key; 0: none.
}

// rollupCol is a key column and its expression over events.
type rollupCol struct{ name, expr, typ string }

// rollupKey is a key: its text columns in key order (unused slots empty)
// and, for rollup_roles, role_arn apart, since it holds whatever SQLite's
// json_extract gave (a string, almost always). Strings are kept out of
// interfaces so that a lookup allocates nothing.
type rollupKey struct {
	text [7]string
	role any
}

// derived are the values of one event that keys use, computed once.
type derived struct {
	day, hour, time string
	role            any
}

// roleArnExpr is the role an AssumeRole* call assumes, as the query package
// reads it: target_role, else requestParameters.roleArn (any JSON scalar), else ”.
const roleArnExpr = `CASE WHEN target_role <> '' THEN target_role ELSE COALESCE((CASE WHEN json_valid(request_parameters) THEN json_extract(request_parameters, '$.roleArn') END), '') END`

var assumeRoleNames = []string{"AssumeRole", "AssumeRoleWithSAML", "AssumeRoleWithWebIdentity"}

func isAssumeRole(name string) bool {
	for _, n := range assumeRoleNames {
		if name == n {
			return true
		}
	}
	return false
}

var (
	colHour    = rollupCol{"hour", "substr(event_time, 1, 13) || ':00:00Z'", "TEXT NOT NULL"}
	colDay     = rollupCol{"day", "event_date", "TEXT NOT NULL"}
	colAccount = rollupCol{"account_id", "account_id", "TEXT NOT NULL"}
	colUser    = rollupCol{"user_name", "user_name", "TEXT NOT NULL"}
)

func plain(name string) rollupCol { return rollupCol{name, name, "TEXT NOT NULL"} }

// rollupTables are the roll-ups, in migration order.
var rollupTables = []*rollupTable{
	{
		// hourly_activity.
		name: "rollup_hours", hourly: true, errors: true,
		key: []rollupCol{colHour, colAccount, colUser},
		keyOf: func(e *iamwatch.Event, d *derived) (rollupKey, bool) {
			return rollupKey{text: [7]string{d.hour, e.AccountID, e.UserName}}, true
		},
	},
	{
		// daily_summary, active_users, sso_admin_users, sso_activity_summary.
		name: "rollup_actions", errors: true, times: true,
		key: []rollupCol{colDay, colAccount, colUser, plain("event_source"), plain("event_name"), plain("event_type"), plain("read_only")},
		keyOf: func(e *iamwatch.Event, d *derived) (rollupKey, bool) {
			return rollupKey{text: [7]string{d.day, e.AccountID, e.UserName, e.Source, e.Name, string(e.Type), e.ReadOnly}}, true
		},
	},
	{
		// failed_auth: every event with an error code.
		name: "rollup_failures", times: true, where: "error_code <> ''",
		key: []rollupCol{colDay, colAccount, colUser, plain("source_ip"), plain("event_type"), plain("error_code")},
		keyOf: func(e *iamwatch.Event, d *derived) (rollupKey, bool) {
			return rollupKey{text: [7]string{d.day, e.AccountID, e.UserName, e.SourceIP, string(e.Type), e.ErrorCode}}, e.ErrorCode != ""
		},
	},
	{
		// role_assumptions. role_arn has no declared type, so it keeps the
		// type json_extract gave (as the query over events groups it).
		name: "rollup_roles", errors: true, times: true,
		where: "event_name IN ('" + strings.Join(assumeRoleNames, "', '") + "')",
		key:   []rollupCol{colDay, colAccount, colUser, {"role_arn", roleArnExpr, "NOT NULL"}, plain("source_ip")},
		role:  3,
		keyOf: func(e *iamwatch.Event, d *derived) (rollupKey, bool) {
			return rollupKey{text: [7]string{d.day, e.AccountID, e.UserName, "", e.SourceIP}, role: d.role}, isAssumeRole(e.Name)
		},
	},
}

// counterCols are the table's non-key columns with their aggregate over events.
func (t *rollupTable) counterCols() []rollupCol {
	c := []rollupCol{{"n", "count(*)", "INTEGER NOT NULL"}}
	if t.errors {
		c = append(c, rollupCol{"n_errors", "sum(error_code <> '')", "INTEGER NOT NULL"})
	}
	if t.times {
		c = append(c, rollupCol{"first_time", "min(event_time)", "TEXT NOT NULL"}, rollupCol{"last_time", "max(event_time)", "TEXT NOT NULL"})
	}
	return c
}

func (t *rollupTable) columns() []rollupCol {
	return append(append([]rollupCol{}, t.key...), t.counterCols()...)
}

func names(cols []rollupCol) string {
	s := make([]string, len(cols))
	for i, c := range cols {
		s[i] = c.name
	}
	return strings.Join(s, ", ")
}

// create is the table's CREATE statement.
func (t *rollupTable) create() string {
	var b strings.Builder
	b.WriteString("CREATE TABLE " + t.name + " (\n")
	for _, c := range t.columns() {
		b.WriteString("    " + c.name + " " + c.typ + ",\n")
	}
	b.WriteString("    PRIMARY KEY (" + names(t.key) + ")\n) WITHOUT ROWID;\n")
	return b.String()
}

// rebuild is the INSERT that counts the events matching cond (SQL over
// events; "" is all) into the table, which must hold none of their keys.
func (t *rollupTable) rebuild(cond string) string {
	return "INSERT INTO " + t.name + " (" + names(t.columns()) + ")\n" + t.aggregate(cond)
}

// aggregate is the SELECT of the table's rows over the events matching cond.
func (t *rollupTable) aggregate(cond string) string {
	var where []string
	if t.where != "" {
		where = append(where, t.where)
	}
	if cond != "" {
		where = append(where, cond)
	}
	sel := make([]string, 0, len(t.key)+4)
	group := make([]string, len(t.key))
	for i, c := range t.columns() {
		sel = append(sel, c.expr)
		if i < len(t.key) {
			group[i] = fmt.Sprint(i + 1)
		}
	}
	q := "SELECT " + strings.Join(sel, ", ") + "\nFROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q + "\nGROUP BY " + strings.Join(group, ", ")
}

// upsert is the INSERT of rows rows that adds to existing keys.
func (t *rollupTable) upsert(rows int) string {
	cols := t.columns()
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + names(cols) + ") VALUES ")
	row := "(" + strings.Repeat("?,", len(cols)-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	b.WriteString(" ON CONFLICT (" + names(t.key) + ") DO UPDATE SET n = n + excluded.n")
	if t.errors {
		b.WriteString(", n_errors = n_errors + excluded.n_errors")
	}
	if t.times {
		b.WriteString(", first_time = min(first_time, excluded.first_time), last_time = max(last_time, excluded.last_time)")
	}
	return b.String()
}

// rollupMigration is migration 2: the roll-up tables, filled from the events.
func rollupMigration() string {
	var b strings.Builder
	b.WriteString("-- Version 2: roll-up tables (store/sqlite/rollup.go).\n")
	for _, t := range rollupTables {
		b.WriteString(t.create())
		b.WriteString(t.rebuild("") + ";\n")
	}
	return b.String()
}

// rollupCounts are the counters of one key.
type rollupCounts struct {
	n, errors   int64
	first, last string
}

// rollup aggregates the events one PutEvents call stored. Not safe for
// concurrent use.
type rollup struct {
	rows []map[rollupKey]*rollupCounts // per rollupTables entry.
	// readBack reads the event IDs of a rowid range; prepared on first
	// use in the call's transaction, closed with it.
	readBack *sql.Stmt
}

// stmtQuerier runs a prepared statement as a querier (its query text unused).
type stmtQuerier struct{ st *sql.Stmt }

func (q stmtQuerier) QueryContext(ctx context.Context, _ string, args ...any) (*sql.Rows, error) {
	return q.st.QueryContext(ctx, args...)
}

func newRollup() *rollup {
	r := &rollup{rows: make([]map[rollupKey]*rollupCounts, len(rollupTables))}
	for i := range r.rows {
		r.rows[i] = map[rollupKey]*rollupCounts{}
	}
	return r
}

// addChunk counts the events of chunk that their INSERT stored: n rows,
// the last at rowid last. The INSERT skips duplicates (INSERT OR IGNORE), so
// when n is neither 0 nor len(chunk) the stored ones are read back: SQLite
// gives each new row the rowid max(rowid)+1, and a skipped row none, so the
// statement's rows are the rowids (last-n, last].
func (r *rollup) addChunk(ctx context.Context, tx *sql.Tx, chunk []iamwatch.Event, keys []derived, n, last int64) error {
	if n == 0 {
		return nil
	}
	if n == int64(len(chunk)) {
		for i := range chunk {
			if err := r.add(ctx, tx, &chunk[i], keys[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var err error
	if r.readBack == nil {
		if r.readBack, err = tx.PrepareContext(ctx, "SELECT event_id FROM events WHERE rowid > ? AND rowid <= ?"); err != nil { //nolint:sqlclosecheck // a statement of tx closes with it
			return fmt.Errorf("roll-up: read the new rows: %w", err)
		}
	}
	stored := make(map[string]bool, n)
	err = eachRow(ctx, stmtQuerier{r.readBack}, "", []any{last - n, last}, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		stored[id] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("roll-up: read the new rows: %w", err)
	}
	if int64(len(stored)) != n {
		return fmt.Errorf("roll-up: the insert stored %d rows, rowids (%d, %d] hold %d", n, last-n, last, len(stored))
	}
	for i := range chunk {
		// The first of several events with one ID is the stored one.
		if stored[chunk[i].ID] {
			delete(stored, chunk[i].ID)
			if err := r.add(ctx, tx, &chunk[i], keys[i]); err != nil {
				return err
			}
		}
	}
	if len(stored) > 0 {
		return fmt.Errorf("roll-up: %d new rows match no event of the insert", len(stored))
	}
	return nil
}

// derivedOf returns the values of e that roll-up keys (and the events
// table) use, but its role: event_time, event_date and the hour.
func derivedOf(e *iamwatch.Event) derived {
	t := e.Time.UTC()
	d := derived{time: t.Format(iamwatch.TimeFormat)}
	if len(d.time) == len(iamwatch.TimeFormat) { // years 0–9999: as event_date and hourExpr cut it.
		d.day, d.hour = d.time[:10], d.time[:13]+":00:00Z"
	} else {
		d.day, d.hour = t.Format(time.DateOnly), d.time[:13]+":00:00Z"
	}
	return d
}

// add counts one stored event, with d its derivedOf.
func (r *rollup) add(ctx context.Context, tx *sql.Tx, e *iamwatch.Event, d derived) error {
	if isAssumeRole(e.Name) {
		var err error
		if d.role, err = roleArn(ctx, tx, e); err != nil {
			return err
		}
	}
	for i, tb := range rollupTables {
		k, ok := tb.keyOf(e, &d)
		if !ok {
			continue
		}
		c := r.rows[i][k]
		if c == nil {
			c = &rollupCounts{first: d.time, last: d.time}
			r.rows[i][k] = c
		}
		c.n++
		if e.ErrorCode != "" {
			c.errors++
		}
		c.first, c.last = min(c.first, d.time), max(c.last, d.time)
	}
	return nil
}

// roleArn evaluates roleArnExpr for e. The decoder sets TargetRole from
// requestParameters.roleArn, so SQLite is asked only for the odd event
// without it, where the JSON may hold anything.
func roleArn(ctx context.Context, tx *sql.Tx, e *iamwatch.Event) (any, error) {
	if e.TargetRole != "" {
		return e.TargetRole, nil
	}
	rp := jsonText(e.RequestParameters)
	if rp == nil {
		return "", nil
	}
	var v any
	q := "SELECT " + strings.ReplaceAll(strings.ReplaceAll(roleArnExpr, "target_role", "''"), "request_parameters", "?1")
	if err := tx.QueryRowContext(ctx, q, rp).Scan(&v); err != nil {
		return nil, fmt.Errorf("roll-up: role of event %s: %w", e.ID, err)
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	return v, nil
}

// rollupChunk rows go into one upsert statement.
const rollupChunk = 64

// flush upserts the aggregated rows.
func (r *rollup) flush(ctx context.Context, tx *sql.Tx) error {
	for i, tb := range rollupTables {
		rows := r.rows[i]
		if len(rows) == 0 {
			continue
		}
		width := len(tb.columns())
		args := make([]any, 0, min(len(rows), rollupChunk)*width)
		pending := 0
		var full *sql.Stmt // the upsert of rollupChunk rows, prepared once.
		exec := func() error {
			var err error
			if pending == rollupChunk {
				if full == nil {
					full, err = tx.PrepareContext(ctx, tb.upsert(rollupChunk)) //nolint:sqlclosecheck // a statement of tx closes with it
				}
				if err == nil {
					_, err = full.ExecContext(ctx, args...)
				}
			} else {
				_, err = tx.ExecContext(ctx, tb.upsert(pending), args...)
			}
			if err != nil {
				return fmt.Errorf("roll-up: %s: %w", tb.name, err)
			}
			args, pending = args[:0], 0
			return nil
		}
		for k, c := range rows {
			for j, v := range k.text[:len(tb.key)] {
				if j > 0 && j == tb.role {
					args = append(args, k.role)
				} else {
					args = append(args, v)
				}
			}
			args = append(args, c.n)
			if tb.errors {
				args = append(args, c.errors)
			}
			if tb.times {
				args = append(args, c.first, c.last)
			}
			if pending++; pending == rollupChunk {
				if err := exec(); err != nil {
					return err
				}
			}
		}
		if pending > 0 {
			if err := exec(); err != nil {
				return err
			}
		}
		if full != nil {
			full.Close() // else the transaction's end closes it.
		}
	}
	return nil
}

// pruneRollups keeps the roll-ups right after Prune deleted the events
// before cut (rounded up to a whole second, as Prune does): buckets wholly
// before it go, and the one it falls in is counted again from the events left.
func pruneRollups(ctx context.Context, tx *sql.Tx, cut time.Time) error {
	if tr := cut.Truncate(time.Second); !tr.Equal(cut) {
		cut = tr.Add(time.Second)
	}
	for _, tb := range rollupTables {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+tb.name+" WHERE "+tb.key[0].name+" < ?", tb.bucketOf(cut).key); err != nil {
			return fmt.Errorf("roll-up: prune %s: %w", tb.name, err)
		}
		if err := tb.recount(ctx, tx, tb.bucketOf(cut)); err != nil {
			return fmt.Errorf("roll-up: prune %s: %w", tb.name, err)
		}
	}
	return nil
}

// bucket is one hour or day of a roll-up table: its key value and the
// event times it counts, start <= event_time < end.
type bucket struct {
	key        string
	start, end time.Time
}

// bucketOf returns the bucket of t in the table.
func (t *rollupTable) bucketOf(tm time.Time) bucket {
	tm = tm.UTC()
	if t.hourly {
		start := tm.Truncate(time.Hour)
		return bucket{eventTime(start), start, start.Add(time.Hour)}
	}
	start := time.Date(tm.Year(), tm.Month(), tm.Day(), 0, 0, 0, 0, time.UTC)
	return bucket{start.Format(time.DateOnly), start, start.AddDate(0, 0, 1)}
}

// keyWhere is the WHERE clause that selects one row of the table by its
// key columns (their values as arguments, in key order).
func (t *rollupTable) keyWhere() string {
	match := make([]string, len(t.key))
	for j, c := range t.key {
		match[j] = c.name + " = ?"
	}
	return " WHERE " + strings.Join(match, " AND ")
}

// subtract takes the events matching cond (SQL over events), about to be
// deleted, out of the table: each row they are in counts fewer, and goes
// when it counts none. It returns the keys of the rows that lose their
// first or last time, to count again (recountKey) once the events are
// gone; the others stay exact without reading the events they count.
func (t *rollupTable) subtract(ctx context.Context, tx *sql.Tx, cond string) (recount [][]any, err error) {
	type row struct {
		key         []any
		n, errors   int64
		first, last string
	}
	var rows []row
	err = eachRow(ctx, tx, t.aggregate(cond), nil, func(r *sql.Rows) error {
		g := row{key: make([]any, len(t.key))}
		dest := make([]any, 0, len(t.key)+4)
		for j := range g.key {
			dest = append(dest, &g.key[j])
		}
		dest = append(dest, &g.n)
		if t.errors {
			dest = append(dest, &g.errors)
		}
		if t.times {
			dest = append(dest, &g.first, &g.last)
		}
		if err := r.Scan(dest...); err != nil {
			return err
		}
		rows = append(rows, g)
		return nil
	})
	if err != nil {
		return nil, err
	}
	where := t.keyWhere()
	set := "UPDATE " + t.name + " SET n = n - ?"
	if t.errors {
		set += ", n_errors = n_errors - ?"
	}
	set += where + " RETURNING n"
	if t.times {
		set += ", first_time, last_time"
	}
	for i := range rows {
		g := &rows[i]
		args := []any{g.n}
		if t.errors {
			args = append(args, g.errors)
		}
		var left int64
		var first, last string
		dest := []any{&left}
		if t.times {
			dest = append(dest, &first, &last)
		}
		if err := tx.QueryRowContext(ctx, set, append(args, g.key...)...).Scan(dest...); err != nil {
			return nil, fmt.Errorf("subtract %v: %w", g.key, err)
		}
		switch {
		case left <= 0:
			if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+where, g.key...); err != nil {
				return nil, err
			}
		case t.times && (g.first == first || g.last == last):
			recount = append(recount, g.key)
		}
	}
	return recount, nil
}

// recountKey counts the table's row of key k (its key columns' values, as
// the key expressions give them) again from the events: the events of
// its bucket with those values, which the time and user indexes find.
func (t *rollupTable) recountKey(ctx context.Context, tx *sql.Tx, k []any) error {
	day, _ := k[0].(string)
	var start time.Time
	var err error
	if t.hourly {
		start, err = time.Parse(iamwatch.TimeFormat, day)
	} else {
		start, err = time.Parse(time.DateOnly, day)
	}
	if err != nil {
		return fmt.Errorf("bucket %q: %w", day, err)
	}
	b := t.bucketOf(start)
	cond := []string{"event_time >= ?", "event_time < ?"}
	args := []any{eventTime(b.start), eventTime(b.end)}
	for j, c := range t.key[1:] {
		cond = append(cond, c.expr+" = ?")
		args = append(args, k[j+1])
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+t.keyWhere(), k...); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, t.rebuild(strings.Join(cond, " AND ")), args...)
	return err
}

// recount counts bucket b of the table again from the events.
func (t *rollupTable) recount(ctx context.Context, tx *sql.Tx, b bucket) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+t.name+" WHERE "+t.key[0].name+" = ?", b.key); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, t.rebuild("event_time >= ? AND event_time < ?"), eventTime(b.start), eventTime(b.end))
	return err
}
