// Package s3 reads a CloudTrail trail's S3 bucket, single-account
// ([prefix/]AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/) or organisation
// ([prefix/]AWSLogs/o-ID/ACCOUNT/…) layout.
//
// Each account and region is one checkpoint, keyed s3/BUCKET/REGION-FOLDER,
// whose position is the last key read: keys sort by delivery time within a
// day, so a pass lists only the day folders from the checkpoint's day to
// today, starting after that key. Files are downloaded and decoded by a
// bounded pool (Options.Workers) and stored one after the other in key
// order; the checkpoint moves after each file is stored. Digest and
// Insights files are never listed (they live in other folders) and are
// skipped if named.
//
// CloudTrail does not always deliver files in name order: the checkpoint
// does not pass files younger than Options.Settle (by the time in their
// name). They are read at once anyway and remembered, so they are not read
// twice by one process; after a restart they are read again, which the
// store's idempotence makes harmless. A file delivered later than Settle
// behind a newer one is missed by this source; the SQS source, driven by
// the bucket's notifications, has no such window.
package s3
