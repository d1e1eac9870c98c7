// Package cloudtrail turns every shape in which AWS hands out CloudTrail
// records into normalised [iamwatch.Event] values, and owns the rules that
// name the actor of an event (see identity.go).
//
// It reads:
//   - trail log files as delivered to S3, {"Records":[...]}, plain or gzipped;
//   - JSON lines of records, a JSON array of records, a single record;
//   - EventBridge events whose detail is a CloudTrail record;
//   - LookupEvents output ({"Events":[{"CloudTrailEvent":"<record>"}]}, pages
//     or one event per line);
//   - a trail's CloudWatch Logs log group read back: filter-log-events and
//     get-log-events output ({"events":[{"message":"<record>"}]}),
//     subscription payloads (DATA_MESSAGE objects, one after another as
//     Firehose writes them; CONTROL_MESSAGEs are skipped) and export-task
//     lines ("2025-03-04T09:12:44.000Z <record>").
//
// Digest and Insights files are recognised and skipped ([ErrSkipped]), and so
// are the files other AWS services deliver beside a trail's, by their names
// ([SkipByName]).
//
// [DecodeRecord] normalises one record. [Decoder] streams a whole input in
// bounded memory: a record is never larger than Options.MaxRecordBytes in
// memory, whatever the size of the file, and a gzip member never inflates past
// Options.MaxDecompressedBytes. A bad record is reported as a [RecordError]
// and skipped; decoding goes on. [ParseKey] reads the S3 key layout of trail
// buckets.
//
// The package imports no AWS SDK. Everything in it is safe for concurrent use
// unless a comment says otherwise.
package cloudtrail
