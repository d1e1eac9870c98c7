// Package sqs consumes an SQS queue that announces CloudTrail data: S3
// object-created notifications (sent directly, wrapped by SNS, or as
// EventBridge "Object Created" events), CloudTrail's own SNS delivery
// notifications (s3Bucket, s3ObjectKey[]), and CloudTrail events forwarded
// by an EventBridge rule. [ParseMessage] reads a message body; it is a pure
// function, fuzzed.
package sqs
