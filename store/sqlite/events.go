package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/klauspost/compress/s2"
)

// eventColumns are the events table's columns in schema order.
const eventColumns = `event_id, event_time, event_date, event_source, event_name, event_type,
	user_name, identity_type, principal_arn, account_id, aws_region, source_ip, user_agent,
	request_parameters, response_elements, error_code, error_message, mfa_used, read_only,
	category, invoked_by, target_role, country, asn, as_org, raw`

// insertChunk rows go into one INSERT statement: SQLite's per-statement
// cost, and database/sql's per-call cost, are paid once per chunk.
const insertChunk = 32

// insertColumns are eventColumns and the ones derived from them.
const insertColumns = eventColumns + ", source_ip_key"

const insertColumnCount = 27

// insertEvents returns the INSERT of n rows. It is INSERT OR IGNORE, not
// ON CONFLICT (event_id) DO NOTHING: the same for the one constraint a row
// can break (the bound values are never NULL), but a statement that cannot
// abort half-way needs no statement journal, which copied every page the
// INSERT touched (a tenth of a bulk load's CPU).
func insertEvents(n int) string {
	var b strings.Builder
	b.WriteString("INSERT OR IGNORE INTO events (" + insertColumns + ") VALUES ")
	row := "(" + strings.Repeat("?,", insertColumnCount-1) + "?)"
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(row)
	}
	return b.String()
}

// PutEvents stores each event not already stored (by ID), in one
// transaction with the roll-ups of the new ones (rollup.go), and returns how
// many were new. Event times are kept to whole seconds. An event without an
// ID or time is refused and nothing of the call is stored.
func (s *Store) PutEvents(ctx context.Context, events []iamwatch.Event) (inserted int, err error) {
	if len(events) == 0 {
		return 0, nil
	}
	for i := range events {
		if events[i].ID == "" || events[i].Time.IsZero() {
			return 0, fmt.Errorf("sqlite: put %d events: event %d (id %q) has no ID or time", len(events), i, events[i].ID)
		}
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put %d events: %w", len(events), err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put %d events: %w", len(events), err)
	}
	defer tx.Rollback()
	all := len(events)
	if s.bulking() {
		// Without the event_id index, two records of one ID in the batch
		// at different times would both go in: the first is kept, as the
		// index would have.
		events = firstOfEachID(events)
	}
	keys := make([]derived, len(events)) // the roll-ups' values of each event, filled by prepareInserts.
	chunks, err := insertAll(ctx, conn, events, keys)
	if err != nil {
		return 0, fmt.Errorf("sqlite: put %d events: %w", all, err)
	}
	var (
		roll  = newRollup()
		bytes int
	)
	for _, c := range chunks {
		chunk := events[c.start : c.start+c.len]
		inserted += int(c.n)
		bytes += c.bytes
		if err := roll.addChunk(ctx, tx, chunk, keys[c.start:c.start+c.len], c.n, c.last); err != nil {
			return 0, fmt.Errorf("sqlite: put %d events: %w", all, err)
		}
	}
	if err := roll.flush(ctx, tx); err != nil {
		return 0, fmt.Errorf("sqlite: put %d events: %w", all, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: put %d events: commit: %w", all, err)
	}
	s.walAdd(bytes)
	return inserted, nil
}

// firstOfEachID returns events without the later records of an ID, a copy
// only when there are any.
func firstOfEachID(events []iamwatch.Event) []iamwatch.Event {
	seen := make(map[string]bool, len(events))
	var out []iamwatch.Event
	for i := range events {
		id := events[i].ID
		switch {
		case !seen[id]:
			seen[id] = true
			if out != nil {
				out = append(out, events[i])
			}
		case out == nil:
			out = append(make([]iamwatch.Event, 0, len(events)-1), events[:i]...)
		}
	}
	if out == nil {
		return events
	}
	return out
}

// insertBatch is the bound values of one INSERT: insertChunk events or
// fewer, in insertColumns order.
type insertBatch struct {
	start, len int // the events: events[start:start+len] of the PutEvents call.
	bytes      int // of the text and blob values: about what the rows add to the WAL.
	args       []driver.NamedValue
	buf        []byte // backs the compressed records and IP keys; the driver copies them on bind.
	free       chan<- *insertBatch
}

// release hands b back for reuse once its INSERT has run.
func (b *insertBatch) release() {
	select {
	case b.free <- b:
	default:
	}
}

// insertedChunk is what one INSERT of insertAll did: of the events
// events[start:start+len], it stored n, the last at rowid last; bytes is
// insertBatch.bytes.
type insertedChunk struct {
	start, len, bytes int
	n, last           int64
}

// insertAll runs the INSERTs of events on conn, in the transaction open
// on it, and sets keys[i] to the roll-ups' values of events[i].
//
// It binds the values through the driver's own statement (conn.Raw): the
// write connection's goroutine is the bottleneck of a bulk load, and
// database/sql's conversion of every argument (a new []driver.NamedValue
// per call) cost a tenth of it. The values are prepared (records
// compressed, times formatted) on another goroutine, a few INSERTs ahead.
func insertAll(ctx context.Context, conn *sql.Conn, events []iamwatch.Event, keys []derived) ([]insertedChunk, error) {
	out := make([]insertedChunk, 0, (len(events)+insertChunk-1)/insertChunk)
	err := conn.Raw(func(dc any) (err error) {
		prep, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot prepare with a context", dc)
		}
		stmts := map[int]driver.Stmt{} // by rows per statement; at most two.
		defer func() {
			for _, st := range stmts {
				if cerr := st.Close(); err == nil {
					err = cerr
				}
			}
		}()
		batches, stop := prepareInserts(events, keys)
		defer stop()
		for b := range batches {
			st := stmts[b.len]
			if st == nil {
				if st, err = prep.PrepareContext(ctx, insertEvents(b.len)); err != nil {
					return err
				}
				stmts[b.len] = st
			}
			ex, ok := st.(driver.StmtExecContext)
			if !ok {
				return fmt.Errorf("driver statement %T cannot execute with a context", st)
			}
			res, err := ex.ExecContext(ctx, b.args)
			if err != nil {
				return fmt.Errorf("events %d to %d: %w", b.start, b.start+b.len-1, err)
			}
			c := insertedChunk{start: b.start, len: b.len, bytes: b.bytes}
			if c.n, err = res.RowsAffected(); err == nil {
				c.last, err = res.LastInsertId()
			}
			if err != nil {
				return err
			}
			out = append(out, c)
			b.release()
		}
		return nil
	})
	return out, err
}

// prepareInserts prepares the insertBatches of events, in order, on a
// goroutine of its own, a few ahead of the reader of batches, and sets
// keys[i] to derivedOf(&events[i]). stop ends the goroutine (whether or
// not batches was read to its end) and returns once it has ended; events
// and keys must not be used until then.
func prepareInserts(events []iamwatch.Event, keys []derived) (batches <-chan *insertBatch, stop func()) {
	const ahead = 4
	out := make(chan *insertBatch, ahead)
	free := make(chan *insertBatch, ahead+2)
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		for start := 0; start < len(events); start += insertChunk {
			var b *insertBatch
			select {
			case b = <-free:
			default:
				b = &insertBatch{free: free, args: make([]driver.NamedValue, 0, insertChunk*insertColumnCount)}
			}
			end := min(start+insertChunk, len(events))
			b.fill(start, events[start:end], keys[start:end])
			select {
			case out <- b:
			case <-quit:
				return
			}
		}
	}()
	return out, func() {
		close(quit)
		<-done
	}
}

// fill sets b to the values of chunk, the events from start on, and
// keys[i] to the roll-ups' values of chunk[i].
func (b *insertBatch) fill(start int, chunk []iamwatch.Event, keys []derived) {
	b.start, b.len, b.bytes = start, len(chunk), 0
	b.args, b.buf = b.args[:0], b.buf[:0]
	for i := range chunk {
		e := &chunk[i]
		var raw driver.Value
		if len(e.Raw) > 0 {
			n := len(b.buf)
			b.buf = slices.Grow(b.buf, s2.MaxEncodedLen(len(e.Raw)))
			enc := s2.Encode(b.buf[n:cap(b.buf)], e.Raw)
			b.buf = b.buf[:n+len(enc)]
			raw = b.buf[n:len(b.buf):len(b.buf)]
		}
		keys[i] = derivedOf(e)
		d := &keys[i]
		var ipKey any
		b.buf, ipKey = appendSourceIPKey(b.buf, e.SourceIP)
		for _, v := range [insertColumnCount]driver.Value{
			e.ID, d.time, d.day,
			e.Source, e.Name, string(e.Type),
			e.UserName, e.IdentityType, e.PrincipalARN, e.AccountID, e.Region, e.SourceIP, e.UserAgent,
			jsonText(e.RequestParameters), jsonText(e.ResponseElements),
			e.ErrorCode, e.ErrorMessage, e.MFAUsed, e.ReadOnly,
			e.Category, e.InvokedBy, e.TargetRole, e.Geo.Country, e.Geo.ASNText(), e.Geo.ASOrg, raw, ipKey,
		} {
			if t, ok := v.(string); ok {
				b.bytes += len(t)
			}
			b.args = append(b.args, driver.NamedValue{Ordinal: len(b.args) + 1, Value: v})
		}
	}
	b.bytes += len(b.buf)
}

// jsonText stores a JSON value as TEXT, or NULL when absent.
func jsonText(m json.RawMessage) any {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	return string(m)
}

// EventFilter selects events for Events. Zero fields do not filter; string
// fields match exactly. SetSource sets SourceIP or SourceNet from a
// user's text.
type EventFilter struct {
	Since       time.Time // event_time >= Since
	Until       time.Time // event_time < Until
	UserName    string
	EventName   string
	EventSource string
	AccountID   string
	Region      string
	SourceIP    string // source_ip as stored: a service name; for addresses, SourceNet.
	// SourceNet, when valid, keeps the events whose source IP address is
	// in the block, however the record spelled it (an IPv4 block also
	// holds its IPv4-mapped IPv6 addresses); one address is its /32 or
	// /128. Read through the address index (events_ip_time).
	SourceNet   netip.Prefix
	ErrorsOnly  bool // only events with an error code.
	Limit       int  // at most this many; 0 means no limit.
	Offset      int  // skip this many first (in the order asked), without reading them.
	NewestFirst bool // order by time descending (default: oldest first).
	Raw         bool // also read and decompress the raw record.
	// After, when set, keeps only the events that come after this
	// position in the order asked, by (event_time, event_id): a page
	// cursor that, unlike Offset, costs nothing however deep the page.
	After *EventPosition

	// broadNet (set by the Store, see broadNet) steers a SourceNet range
	// away from the address index.
	broadNet bool
}

// EventPosition is an event's place in the (event_time, event_id) order.
type EventPosition struct {
	Time time.Time
	ID   string
}

func (f EventFilter) query() (string, []any) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if !f.Since.IsZero() {
		add("event_time >= ?", eventTimeCeil(f.Since))
	}
	if !f.Until.IsZero() {
		add("event_time < ?", eventTimeCeil(f.Until))
	}
	for _, c := range []struct{ col, v string }{
		{"user_name", f.UserName}, {"event_name", f.EventName}, {"event_source", f.EventSource},
		{"account_id", f.AccountID}, {"aws_region", f.Region}, {"source_ip", f.SourceIP},
	} {
		if c.v != "" {
			add(c.col+" = ?", c.v)
		}
	}
	if f.SourceNet.IsValid() {
		lo, hi := keyRange(f.SourceNet)
		switch {
		case f.SourceNet.Bits() == f.SourceNet.Addr().BitLen():
			// One address: its events come out of the address index in
			// time order.
			add("source_ip_key = ?", lo)
		case f.broadNet:
			// Many events: walk the time order and keep those in the
			// block. coalesce hides the column from the planner, which
			// would otherwise scan the whole partial index (a comparison
			// implies its IS NOT NULL) and sort every event in the block:
			// 2.4 s for a /24 holding 430k of 1M events, 8 ms this way.
			where = append(where, "coalesce(source_ip_key, x'') BETWEEN ? AND ?")
			args = append(args, lo, hi)
		default:
			where = append(where, "source_ip_key BETWEEN ? AND ?")
			args = append(args, lo, hi)
		}
		if vlo, vhi, ok := hidesIPv4(f.SourceNet); ok {
			where = append(where, "source_ip_key NOT BETWEEN ? AND ?")
			args = append(args, vlo, vhi)
		}
	}
	if f.ErrorsOnly {
		where = append(where, "error_code <> ''")
	}
	if f.After != nil {
		op := ">"
		if f.NewestFirst {
			op = "<"
		}
		t := f.After.Time.UTC().Format(iamwatch.TimeFormat)
		// Spelled out rather than as a row value, so that SQLite uses the
		// time index's range.
		where = append(where, "(event_time "+op+" ? OR (event_time = ? AND event_id "+op+" ?))")
		args = append(args, t, t, f.After.ID)
	}
	cols := strings.Replace(eventColumns, ", raw", "", 1) + ", NULL"
	if f.Raw {
		cols = eventColumns
	}
	q := "SELECT " + cols + " FROM events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.NewestFirst {
		q += " ORDER BY event_time DESC, event_id DESC"
	} else {
		q += " ORDER BY event_time, event_id"
	}
	switch {
	case f.Limit > 0:
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	case f.Offset > 0:
		q += " LIMIT -1" // SQLite takes OFFSET only after a LIMIT.
	}
	if f.Offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", f.Offset)
	}
	return q, args
}

// ValueCount is one value of a column and how many events hold it.
type ValueCount struct {
	Value string
	Count int
}

// countColumns are the columns EventCounts counts by.
var countColumns = map[string]bool{"user_name": true, "source_ip": true, "user_agent": true, "event_name": true, "error_code": true}

// EventCounts counts the events matching f by the values of column
// (user_name, source_ip, user_agent, event_name or error_code), most
// frequent first (ties by value), at most top values (0: all). f.Limit,
// when set, bounds the events counted (the first f.Limit in f's order):
// a bounded cost over any history. It also returns how many events were
// counted.
func (s *Store) EventCounts(ctx context.Context, f EventFilter, column string, top int) ([]ValueCount, int, error) {
	if !countColumns[column] {
		return nil, 0, fmt.Errorf("sqlite: count events by %q: not a countable column", column)
	}
	f.Raw = false
	var err error
	if f.broadNet, err = s.broadNet(ctx, f); err != nil {
		return nil, 0, fmt.Errorf("sqlite: count events by %s: %w", column, err)
	}
	inner, args := f.query()
	// The inner SELECT keeps its order and limit; only column is needed.
	inner = strings.Replace(inner, "SELECT "+strings.Replace(eventColumns, ", raw", "", 1)+", NULL FROM", "SELECT "+column+" AS v FROM", 1)
	q := "SELECT v, count(*) AS n, sum(count(*)) OVER () FROM (" + inner + ") GROUP BY v ORDER BY n DESC, v"
	if top > 0 {
		q += fmt.Sprintf(" LIMIT %d", top)
	}
	var out []ValueCount
	total := 0
	err = eachRow(ctx, s.r, q, args, func(rows *sql.Rows) error {
		var vc ValueCount
		if err := rows.Scan(&vc.Value, &vc.Count, &total); err != nil {
			return err
		}
		out = append(out, vc)
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: count events by %s: %w", column, err)
	}
	return out, total, nil
}

// Event returns the event with the given ID, with its raw record
// decompressed; the error wraps ErrNotFound when there is none.
func (s *Store) Event(ctx context.Context, id string) (iamwatch.Event, error) {
	cond, args := s.whereID(id, time.Time{})
	row := s.r.QueryRowContext(ctx, "SELECT "+eventColumns+" FROM events WHERE "+cond, args...)
	e, err := s.scanEvent(row)
	if errors.Is(err, sql.ErrNoRows) {
		return iamwatch.Event{}, fmt.Errorf("sqlite: event %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return iamwatch.Event{}, fmt.Errorf("sqlite: event %s: %w", id, err)
	}
	return e, nil
}

// StoredEvent returns the event stored with id, false when there is none.
func (s *Store) StoredEvent(ctx context.Context, id string) (iamwatch.Event, bool, error) {
	e, err := s.Event(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return iamwatch.Event{}, false, nil
	}
	return e, err == nil, err
}

// identityColumns are the columns StoredEvents reads: what tells two
// records of one eventID apart (pipeline's sameEvent), not the record.
const identityColumns = "event_id, event_time, event_source, event_name, account_id, aws_region, principal_arn, user_name, source_ip, error_code"

// storedChunk IDs are looked up by one statement.
const storedChunk = 256

// StoredEvents returns, by ID, the stored events with the IDs of events,
// with only the fields that identify an event set (ID, Time, Source, Name,
// AccountID, Region, PrincipalARN, UserName, SourceIP, ErrorCode): one
// indexed query per storedChunk events, where StoredEvent reads and
// decompresses a whole record each. During a bulk load (no event_id index)
// they are looked up by time and ID, so a record stored under the ID at
// another time is not found (BeginBulkLoad).
func (s *Store) StoredEvents(ctx context.Context, events []*iamwatch.Event) (map[string]iamwatch.Event, error) {
	out := map[string]iamwatch.Event{}
	var full *sql.Stmt // the query of storedChunk events, prepared once.
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	// per values bound for each event, param the SQL of one event's.
	db, where, param, per := s.r, "event_id IN (", "?,", 1
	bulk := s.bulking()
	if bulk {
		// Through the writer's connection: the pipeline looks events up
		// between its writes, and a read connection's page cache on top
		// of the writer's took 11–13 MiB more RSS in a 250k-record scan.
		db, where, param, per = s.w, "(event_time, event_id) IN (VALUES ", "(?,?),", 2
	}
	keys := make([]any, 0, per*len(events))
	for _, e := range events {
		if bulk {
			keys = append(keys, eventTime(e.Time))
		}
		keys = append(keys, e.ID)
	}
	for start := 0; start < len(keys); start += per * storedChunk {
		args := keys[start:min(start+per*storedChunk, len(keys))]
		q := "SELECT " + identityColumns + " FROM events WHERE " + where + strings.TrimSuffix(strings.Repeat(param, len(args)/per), ",") + ")"
		var rows *sql.Rows
		var err error
		if len(args) == per*storedChunk {
			if full == nil {
				if full, err = db.PrepareContext(ctx, q); err != nil {
					return nil, fmt.Errorf("sqlite: stored events: %w", err)
				}
			}
			rows, err = full.QueryContext(ctx, args...)
		} else {
			rows, err = db.QueryContext(ctx, q, args...)
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: stored events: %w", err)
		}
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var e iamwatch.Event
				var t string
				if err := rows.Scan(&e.ID, &t, &e.Source, &e.Name, &e.AccountID, &e.Region, &e.PrincipalARN, &e.UserName, &e.SourceIP, &e.ErrorCode); err != nil {
					return err
				}
				if e.Time, err = parseTime(t); err != nil {
					return fmt.Errorf("event %s: %w", e.ID, err)
				}
				out[e.ID] = e
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, fmt.Errorf("sqlite: stored events: %w", err)
		}
	}
	return out, nil
}

// NewestEventTime returns the event time of the newest stored event, or the
// zero time when there is none: MAX over the time index, where
// Events(NewestFirst, Limit 1) sorts ties by event ID and took a second
// over a million events.
func (s *Store) NewestEventTime(ctx context.Context) (time.Time, error) {
	var v sql.NullString
	if err := s.r.QueryRowContext(ctx, "SELECT MAX(event_time) FROM events").Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("sqlite: newest event time: %w", err)
	}
	return parseTime(v.String)
}

// Events returns the events matching f.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]iamwatch.Event, error) {
	var out []iamwatch.Event
	for e, err := range s.EventsSeq(ctx, f) {
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// EventsSeq yields the events matching f one at a time, in constant memory
// (for exports). It holds a read connection while iterating; on an
// in-memory store that is the only connection, so the loop body must not
// call the Store. An error is yielded once, last.
func (s *Store) EventsSeq(ctx context.Context, f EventFilter) iter.Seq2[iamwatch.Event, error] {
	return func(yield func(iamwatch.Event, error) bool) {
		var err error
		if f.broadNet, err = s.broadNet(ctx, f); err != nil {
			yield(iamwatch.Event{}, fmt.Errorf("sqlite: events: %w", err))
			return
		}
		q, args := f.query()
		rows, err := s.r.QueryContext(ctx, q, args...)
		if err != nil {
			yield(iamwatch.Event{}, fmt.Errorf("sqlite: events: %w", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			e, err := s.scanEvent(rows)
			if err != nil {
				yield(iamwatch.Event{}, fmt.Errorf("sqlite: events: %w", err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(iamwatch.Event{}, fmt.Errorf("sqlite: events: %w", err))
		}
	}
}

func (s *Store) scanEvent(r interface{ Scan(...any) error }) (iamwatch.Event, error) {
	var (
		e                 iamwatch.Event
		t, date, typ, asn string
		reqP, respE, raw  []byte
	)
	err := r.Scan(&e.ID, &t, &date, &e.Source, &e.Name, &typ,
		&e.UserName, &e.IdentityType, &e.PrincipalARN, &e.AccountID, &e.Region, &e.SourceIP, &e.UserAgent,
		&reqP, &respE, &e.ErrorCode, &e.ErrorMessage, &e.MFAUsed, &e.ReadOnly,
		&e.Category, &e.InvokedBy, &e.TargetRole, &e.Geo.Country, &asn, &e.Geo.ASOrg, &raw)
	if err != nil {
		return e, err
	}
	e.Geo.ASN = iamwatch.ParseASN(asn)
	e.Type = iamwatch.EventType(typ)
	if e.Time, err = parseTime(t); err != nil {
		return e, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if len(reqP) > 0 {
		e.RequestParameters = json.RawMessage(reqP)
	}
	if len(respE) > 0 {
		e.ResponseElements = json.RawMessage(respE)
	}
	if len(raw) > 0 {
		b, err := s2.Decode(nil, raw)
		if err != nil {
			return e, fmt.Errorf("event %s: decompress raw: %w", e.ID, err)
		}
		e.Raw = b
	}
	return e, nil
}
