// Package query holds iamwatch's named, pre-built questions about the stored
// history (user_lookup, failed_auth, root_usage, … see [All]) as data: a
// name, a description, the result columns and the SQL text for each dialect
// ([SQLite], and [Athena] for Trino/Presto over the exported Parquet). It
// also runs them against a SQLite database ([Run]), runs ad-hoc read-only SQL
// ([RunSQL], guarded by [CheckReadOnly]) and renders results as an aligned
// table, JSON lines or CSV ([Write]).
//
// It imports no SDK and no driver: callers hand it a *sql.DB.
//
// # Parameters
//
// Every query takes the same [Params]: a time range over event_time
// (Since inclusive, Until exclusive; a zero bound does not filter), an
// optional user (user_name, exact) and account (account_id), a row limit,
// and for off_hours and hourly_activity a time zone and business hours.
// [ParseTime] and [ParseAge] read the command-line forms ("7d", "24h",
// "2026-01-31", RFC 3339).
//
// The SQL texts use named placeholders (:since, :until, :user, :account,
// :tz, …) and macros ({{filter}}, {{alert_filter}}, {{limit}}, {{events}},
// {{req:field}}, …); [Query.Statement]
// expands them for one dialect into a statement with positional "?"
// arguments, which [Statement.Inline] can turn into literals for engines that
// take none (Athena's execution parameters are literal text anyway).
//
// # Time zones
//
// SQLite has no time zone database, so for SQLite the conversion to local
// time is computed in Go: {{local_epoch}} expands to unixepoch(event_time)
// plus the zone's UTC offset, written as a CASE over the offset changes
// (daylight-saving transitions) that fall inside the queried range (bounded
// by the data when Since/Until are zero). That is exact, keeps the work
// inside SQLite (no registered functions, which modernc.org/sqlite keeps in
// process-wide state), and costs one comparison per transition per row. The
// Athena dialect uses AT TIME ZONE.
//
// # The Athena dialect
//
// The Athena texts assume a table events with the documented event columns,
// event_time as VARCHAR in iamwatch.TimeFormat (RFC 3339, UTC, whole
// seconds), event_date VARCHAR YYYY-MM-DD, and partition columns year, month
// and day (INTEGER, the UTC date) used to prune partitions; daily_summary
// also reads a table alerts with the columns of the SQLite alerts table
// (time VARCHAR as above, severity INTEGER, user_name, account_id). They are
// plain ANSI/Trino SQL, written so that DuckDB runs them too, with two
// Trino functions DuckDB names differently (define them as macros there):
// json_extract_scalar (DuckDB json_extract_string) and array_join
// (DuckDB array_to_string). Results match the SQLite dialect's column for
// column, except that role_assumptions reads the role from
// request_parameters.roleArn where SQLite has it in target_role.
//
// # Roll-ups
//
// The SQLite store keeps per-hour and per-day aggregates of its events
// (store/sqlite/rollup.go). Seven queries have a second SQLite text over
// them: failed_auth (rollup_failures), role_assumptions (rollup_roles),
// active_users, daily_summary, sso_admin_users and sso_activity_summary
// (rollup_actions, per day) and hourly_activity (rollup_hours). [Run] and
// [Query.Statement] use it when it answers exactly the same: Since and Until
// zero or on whole UTC days (whole hours for hourly_activity), and for
// hourly_activity a time zone whose offset is a whole number of hours and
// changes on whole hours (Europe/Paris yes, Asia/Kolkata no). User and
// account filter the roll-ups too. Any other parameters read the events.
// TestRollupsAgree runs every query both ways and compares.
//
// # Performance
//
// BenchmarkWholeHistory (make bench-queries) runs every query over the whole
// history of 1M real-shaped events over 90 days (mostly AWS services, runs
// of denied calls, redeliveries) from a database cached in testdata/bench,
// and prints each figure beside the target of 1 s; with the roll-ups every
// query meets it, where the seven aggregates took 0.3–5 s over the events.
// BenchmarkQueries loads 1M uniformly generated events into a temporary
// file and times every query over the default window (7 days, ~78k events;
// every query answers in about 0.2 s or less, the time index bounding the
// rows read) and over the whole history. The row-listing queries stay fast
// over the whole history (newest first with a LIMIT walks the time index
// backwards). Over the events, {{events}} makes SQLite scan the table in
// storage order: without a time bound it would otherwise walk an index
// matching the GROUP BY and fetch each row at random, several times slower.
//
// # Output
//
// [Write] renders a [Result] as
//   - table: aligned columns, untrusted text escaped for the terminal and
//     cut to a bounded width with "…", optional colour of severity cells;
//   - json: JSON lines, one object per row with the columns as keys in column
//     order (stable for scripts: jq -s turns it into an array);
//   - csv: RFC 4180 (CRLF line ends, a header row).
//
// Times (any value in iamwatch.TimeFormat) are shown in UTC unless a
// location is given, in every format. JSON and CSV carry full values.
package query
