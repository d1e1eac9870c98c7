// Package sqlite is the embedded store: an [iamwatch.Store] in one SQLite
// file, through the pure-Go driver modernc.org/sqlite.
//
// The schema is in schema.sql (embedded, and the documentation users read
// before querying the file directly). Open creates or migrates the file,
// versioned by PRAGMA user_version; migrations are idempotent and run in one
// IMMEDIATE transaction each, so two processes opening a new file at once
// agree.
//
// # Durability
//
// The database runs in WAL mode with synchronous=NORMAL: every method that
// writes does so in one transaction, so a process killed at any point leaves
// a consistent database that holds every committed call and nothing of the
// interrupted one (a power loss may lose the last few commits, never
// consistency). Re-running an interrupted PutEvents completes it.
//
// # Concurrency
//
// A *Store is safe for concurrent use by multiple goroutines, and several
// Stores (in one or several processes) may open the same file. Writes go
// through a single connection per Store and are serialised by SQLite across
// Stores (BEGIN IMMEDIATE with a busy timeout, Options.BusyTimeout); reads use
// a separate pool of query_only connections and proceed in parallel with
// writes. During a bulk load (BeginBulkLoad) one more connection copies
// the WAL into the database file, so that the writer does not (wal.go).
// An in-memory store (path ":memory:") has one connection for everything.
//
// # Raw records
//
// events.raw holds the raw CloudTrail record compressed as one S2 block
// (github.com/klauspost/compress/s2; see schema.sql for why not zstd).
// [Store.Event] returns it decompressed.
//
// # Roll-ups
//
// Migration 2 adds per-hour and per-day aggregates of the events
// (rollup_hours, rollup_actions, rollup_failures, rollup_roles; see
// rollup.go), which the query package reads for whole-history aggregates.
// [Store.PutEvents] adds the events it stores (never a duplicate) in its own
// transaction, [Store.Prune] recounts what it cuts, and the migration fills
// them from an existing database's events (a few seconds per million).
//
// # Retention
//
// [Store.Prune] deletes in one transaction, then runs PRAGMA
// incremental_vacuum (the file is created with auto_vacuum=INCREMENTAL), so
// the freed pages go back to the file system without the full rewrite and
// exclusive lock of VACUUM.
package sqlite
