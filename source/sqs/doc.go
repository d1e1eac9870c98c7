// Package sqs consumes an SQS queue that announces CloudTrail data: S3
// object-created notifications (sent directly, wrapped by SNS, or as
// EventBridge "Object Created" events), CloudTrail's own SNS delivery
// notifications (s3Bucket, s3ObjectKey[]), and CloudTrail events forwarded
// by an EventBridge rule. [ParseMessage] reads a message body; it is a pure
// function, fuzzed.
//
// A [Consumer] long-polls the queue and hands each message to a bounded
// pool of workers (Options.Workers). A worker downloads the objects the
// message names (or decodes the record it carries), runs the events
// through the pipeline, and deletes the message only after the pipeline
// returned: events stored, alerts claimed and queued for delivery. While it
// works it renews the message's visibility every third of
// Options.Visibility, so a long file is not handed to another consumer.
//
// A message that fails (unknown shape, missing object, store error) is not
// deleted: its visibility is set to a delay growing with its receive count,
// and from Options.MaxReceives on it is logged as poison and counted
// ([FailureObserver]); the queue's redrive policy moves it to the
// dead-letter queue. Records that cannot be decoded inside a readable
// message are counted and skipped, as everywhere else. Delivery is
// at-least-once; the store's idempotence (events by ID, alerts by dedup
// key) makes a redelivered message harmless.
package sqs
