package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/iamwatch/iamwatch"
	"modernc.org/sqlite"
)

var _ iamwatch.Store = (*Store)(nil)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

//go:embed schema.sql
var schemaV1 string

//go:embed migrate_003.sql
var schemaV3 string

//go:embed migrate_004.sql
var schemaV4 string

//go:embed migrate_005.sql
var schemaV5 string

//go:embed migrate_006.sql
var schemaV6 string

//go:embed migrate_007.sql
var schemaV7 string

//go:embed migrate_008.sql
var schemaV8 string

//go:embed migrate_009.sql
var schemaV9 string

//go:embed migrate_010.sql
var schemaV10 string

//go:embed migrate_011.sql
var schemaV11 string

//go:embed migrate_012.sql
var schemaV12 string

// schemaLatest is the schema the migrations build, as a new database is
// created: generated from them by TestLatestSchema (-update), which proves
// a database created from it alike in every table, index, page and pragma
// to one that took every step.
//
//go:embed schema_latest.sql
var schemaLatest string

// migrations are applied in order; migrations[i] takes the database from
// user_version i to i+1. Append, never edit.
var migrations = []string{schemaV1, rollupMigration(), schemaV3, schemaV4, schemaV5, schemaV6, schemaV7, schemaV8, schemaV9, schemaV10, schemaV11, schemaV12}

// migrationData fills, in Go, what a migration's SQL cannot: after the SQL
// of migrations[i], in its transaction, migrationData[i] runs if present.
var migrationData = map[int]func(context.Context, *sql.Tx) error{8: sourceIPBackfill}

// Options configure a Store. The zero value is usable.
type Options struct {
	// BusyTimeout is how long a statement waits for another connection's
	// lock before failing. Zero means 5s.
	BusyTimeout time.Duration
	// ReadConns bounds the read pool. Zero means 4.
	ReadConns int
	// Now is the wall clock, used for alerts.created_at. Nil means time.Now.
	Now func() time.Time
}

func (o *Options) setDefaults() error {
	if o.BusyTimeout < 0 || o.ReadConns < 0 {
		return fmt.Errorf("negative BusyTimeout or ReadConns")
	}
	if o.BusyTimeout == 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.ReadConns == 0 {
		o.ReadConns = 4
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Store is an iamwatch.Store backed by one SQLite file. It is safe for
// concurrent use; see the package documentation.
type Store struct {
	w    *sql.DB // the single writer connection.
	r    *sql.DB // query_only readers; == w for ":memory:".
	path string
	busy string // the busy timeout in milliseconds, for connections opened later.
	now  func() time.Time
	bulkState
}

// cacheKiB is the writer's page cache: 32 MB cost 80 MB more RSS in the
// pure-Go driver's allocator (its 16 KiB pages round up) and was no faster
// on a 250k-record scan, the event_id index being read from the OS cache
// either way.
const cacheKiB = 8000

// Open opens (creating it if needed) the database at path and migrates it to
// the latest schema version. path ":memory:" opens a private in-memory database.
func Open(ctx context.Context, path string, opt Options) (*Store, error) {
	if err := opt.setDefaults(); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	busy := strconv.FormatInt(opt.BusyTimeout.Milliseconds(), 10)
	s := &Store{path: path, busy: busy, now: opt.Now}
	var err error
	params := url.Values{}
	params.Set("_busy_timeout", busy)
	params.Set("_txlock", "immediate")
	params.Set("_foreign_keys", "1")
	params.Add("_pragma", "temp_store(memory)")
	if path == ":memory:" {
		s.w, err = sql.Open("sqlite", ":memory:?"+params.Encode())
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetConnMaxIdleTime(0)
		s.w.SetConnMaxLifetime(0)
		s.r = s.w
	} else {
		if err := initFile(ctx, path, busy); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		params.Set("_journal_mode", "WAL")
		params.Set("_synchronous", "NORMAL")
		params.Add("_pragma", fmt.Sprintf("cache_size(-%d)", cacheKiB))
		params.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", autoCheckpoint))
		s.w, err = sql.Open("sqlite", fileURI(path, params))
		if err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxIdleTime(0)
		s.w.SetConnMaxLifetime(0)
		rp := url.Values{}
		rp.Set("_busy_timeout", busy)
		rp.Set("_query_only", "1")
		rp.Add("_pragma", "temp_store(memory)")
		s.r, err = sql.Open("sqlite", fileURI(path, rp))
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
		s.r.SetMaxOpenConns(opt.ReadConns)
		s.r.SetMaxIdleConns(opt.ReadConns)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := s.ensureIndexes(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

// initFile sets the settings that only a new, empty database file accepts:
// large pages (fewer write calls, which are costly in VMs, per commit and
// checkpoint), incremental auto-vacuum (see Prune) and WAL. On an existing
// database it changes nothing.
func initFile(ctx context.Context, path string, busy string) error {
	// The busy timeout matters here too: after a crash another process may be
	// recovering the WAL when this one starts (SQLITE_BUSY_RECOVERY).
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"_busy_timeout": {busy}}))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var pages int
	if err := db.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if pages > 0 {
		return nil
	}
	for _, p := range []string{"page_size = 16384", "auto_vacuum = INCREMENTAL", "journal_mode = WAL"} {
		if _, err := db.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return fmt.Errorf("init: pragma %s: %w", p, err)
		}
	}
	return db.Close()
}

func fileURI(path string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	if u.Path != "" && u.Path[0] != '/' {
		// A relative path: "file:rel/x.db", not "file://rel/x.db".
		u.Opaque = (&url.URL{Path: path}).EscapedPath()
	}
	return u.String()
}

// migrate brings the schema to len(migrations), one transaction a step, so
// that an upgrade interrupted half-way keeps the steps it made. A new
// database takes one step, to schemaLatest, instead: replaying nine steps
// cost 15 ms before a first scan could start (a commit a step, and each
// ALTER TABLE reads the whole schema again).
func (s *Store) migrate(ctx context.Context) error {
	return s.migrateSteps(ctx, true)
}

// migrateSteps is migrate; with create false, a new database takes every
// step too (TestLatestSchema compares the two).
func (s *Store) migrateSteps(ctx context.Context, create bool) error {
	for {
		done, err := s.migrateStep(ctx, create)
		if err != nil || done {
			return err
		}
	}
}

func (s *Store) migrateStep(ctx context.Context, create bool) (done bool, err error) {
	tx, err := s.w.BeginTx(ctx, nil) // IMMEDIATE: a second process waits here.
	if err != nil {
		return false, fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return false, fmt.Errorf("migrate: read user_version: %w", err)
	}
	switch {
	case v == len(migrations):
		return true, nil
	case v > len(migrations):
		return false, fmt.Errorf("migrate: database schema version %d is newer than this program's %d", v, len(migrations))
	}
	step, fill, to := migrations[v], migrationData[v], v+1
	if v == 0 && create && latestVersion() == len(migrations) {
		step, fill, to = schemaLatest, nil, len(migrations)
	}
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", to, err)
	}
	if fill != nil {
		if err := fill(ctx, tx); err != nil {
			return false, fmt.Errorf("migrate to version %d: %w", to, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", to)); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", to, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migrate to version %d: %w", to, err)
	}
	return false, nil
}

// latestVersionLine starts schemaLatest, naming its version.
const latestVersionLine = "-- iamwatch SQLite schema, version %d"

// latestVersion is the version schemaLatest is at; 0 if it does not say.
// Until TestLatestSchema has generated it again, a new migration makes it
// older than the latest: new databases take every step then.
func latestVersion() int {
	var v int
	if _, err := fmt.Sscanf(schemaLatest, latestVersionLine, &v); err != nil {
		return 0
	}
	return v
}

// DB returns the read pool: connections with PRAGMA query_only set, for
// read-only queries (the query package). Do not close it; Close does.
func (s *Store) DB() *sql.DB { return s.r }

// Path returns the path Open was given.
func (s *Store) Path() string { return s.path }

// Close closes the database. It is not safe to call concurrently with other
// methods.
func (s *Store) Close() error {
	errs := []error{s.stopWAL()} // a bulk load left unfinished.
	if s.r != nil && s.r != s.w {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// OpenReadOnly opens an existing database for ad-hoc read-only SQL. The
// file is opened with mode=ro and query_only, and every connection carries an
// authorizer that allows only reading: SELECT, reading columns, functions,
// recursive CTEs and transactions. Writes, ATTACH, PRAGMA and DDL fail when
// the statement is prepared. The caller closes the returned *sql.DB.
func OpenReadOnly(ctx context.Context, path string) (*sql.DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open read-only %q: need a database file", path)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", "5000")
	q.Set("_query_only", "1")
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(c sqlite.ExecQuerierContext, _ string) error {
		ar, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return errors.New("driver connection has no authorizer")
		}
		return ar.RegisterAuthorizer(readOnlyAuthorizer)
	})
	db := sql.OpenDB(connector{drv: drv, dsn: fileURI(path, q)})
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open read-only %s: %w", path, err)
	}
	return db, nil
}

// sqliteLimitLength is SQLITE_LIMIT_LENGTH, the largest string or blob.
const sqliteLimitLength = 0

// LimitValueBytes bounds the strings and blobs the statements run on db
// may build to n bytes (SQLITE_LIMIT_LENGTH; past it a statement fails
// with "string or blob too big"). It keeps db to one connection, set once,
// so the limit holds for every statement: for a db of OpenReadOnly that
// runs ad-hoc SQL.
func LimitValueBytes(ctx context.Context, db *sql.DB, n int) error {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	c, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: limit value size: %w", err)
	}
	defer c.Close()
	if _, err := sqlite.Limit(c, sqliteLimitLength, n); err != nil {
		return fmt.Errorf("sqlite: limit value size: %w", err)
	}
	return nil
}

func readOnlyAuthorizer(action sqlite.AuthorizerActionCode, _, _, _, _ string) sqlite.AuthorizerReturnCode {
	switch action {
	case sqlite.AuthSelect, sqlite.AuthRead, sqlite.AuthFunction, sqlite.AuthRecursive, sqlite.AuthTransaction:
		return sqlite.AuthorizerOK
	}
	return sqlite.AuthorizerDeny
}

// connector opens connections through a Driver of our own, so that its
// connection hook applies to those connections only.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// Time encodings; see schema.sql.
const wallFormat = "2006-01-02T15:04:05.000000000Z"

// eventTime formats an event time: UTC, whole seconds (truncated).
func eventTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(iamwatch.TimeFormat)
}

// eventTimeCeil formats the smallest whole second >= t, for bounds "x >= t"
// and "x < t" over whole-second columns.
func eventTimeCeil(t time.Time) string {
	if tr := t.Truncate(time.Second); !tr.Equal(t) {
		t = tr.Add(time.Second)
	}
	return eventTime(t)
}

func wallTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(wallFormat)
}

// parseTime reads either encoding; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// eachRow runs query on q and calls f on each row, closing the rows on
// every path; the error is f's, the query's or the iteration's.
func eachRow(ctx context.Context, q querier, query string, args []any, f func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := f(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
