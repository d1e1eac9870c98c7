// Package export writes the stored event history as Parquet files laid out
// for Athena (or DuckDB, Spark, …), and generates the Athena DDL that reads
// them.
//
// # Layout
//
// One file per UTC day (and per region with Options.ByRegion), under
// Hive-style partition directories without leading zeros, so Athena's
// partition projection of integer ranges finds them:
//
//	year=2024/month=1/day=15/events_20240116_020000.parquet
//	year=2024/month=1/day=15/region=us-east-1/events_20240116_020000.parquet   (ByRegion)
//
// The file name carries the time of the export run (Options.Now, UTC), so a
// rewritten day gets a new name and readers never see a half-replaced file
// under an old name.
//
// # Schema
//
// One Parquet schema ([Row]): the documented event columns (iamwatch.Columns,
// same names, same order), then category, invoked_by and target_role, then
// raw (the whole CloudTrail record as JSON text, null unless Options.Raw).
// Every column is a UTF-8 string; request_parameters, response_elements and
// raw are optional (null when absent, as in SQLite), the others required
// ("" when unset). event_time is text in iamwatch.TimeFormat
// (2024-01-15T10:00:00Z), not a Parquet TIMESTAMP: the Athena dialect of the
// query package compares it as text (it sorts as time), the SQLite store
// keeps it so, and both Athena and DuckDB read it without time-zone
// surprises (DuckDB reads an isAdjustedToUTC TIMESTAMP as TIMESTAMPTZ in the
// session zone). Columns of few distinct values are dictionary-encoded;
// pages are Snappy-compressed. The partition columns year, month, day (and
// region) are in the paths only, as Hive expects.
//
// # Incremental runs and the manifest
//
// The destination root holds a manifest, _iamwatch_export.json, recording
// for each exported day its event count, the source's version of the day
// (for SQLite the highest rowid; see [Day]), whether it was split by region
// and the files written. A run asks the source for its days ([EventSource].Days)
// and writes only the days that are new or whose count or version changed
// since; a second run with nothing new writes nothing (not even the
// manifest). Rewriting a day writes its new files first, then deletes every
// other events_*.parquet file under the day's directory (so a run that died
// half-way is cleaned up by the next), then records the day in the manifest.
// A day for which the store now holds fewer events than were exported (the
// store was pruned) is kept as exported: the export is the long-term copy.
// Options.Force rewrites every day in range regardless.
//
// Partitions are whole UTC days: Since and Until select the days they touch.
//
// # Alerts
//
// When the source is also an [AlertSource] (the SQLite store is, and so is
// the DynamoDB store's ExportSourceWithAlerts), Run exports the alert
// history the same way, one file per UTC day of the alerts' event time, no
// region split:
//
//	alerts/year=2024/month=1/day=15/alerts_20240116_020000.parquet
//
// in the schema [AlertRow] (strings: severity by name, times as event_time
// is, event_ids a JSON array), read by the alerts table of [AthenaDDL]. The
// manifest records the alert days apart (alert_days), with a version hashed
// from the day's dedup keys and event-ID counts ([AlertDays]), so a day is
// rewritten when an alert is added to it or a stored alert absorbs more
// events. The store keeps alerts for a short time (30 days by default); a
// day it no longer holds, or holds fewer alerts of, is kept as exported,
// so the export is the long-term alert history. Force rewrites the days
// the store still holds, with what it holds.
//
// # Memory
//
// Events are streamed one day at a time from the source into temporary
// files (Options.TempDir), in row groups of Options.RowGroupRows rows, then
// uploaded; memory does not grow with the size of a day.
//
// Sources live with their stores, which do not import this package: the
// SQLite store itself, and store/dynamodb's ExportSource and
// ExportSourceWithAlerts. Destinations: export/s3 (a bucket) and [Dir] (a
// local directory).
package export
