// Package iamwatch holds the vocabulary every other package speaks: the
// normalised CloudTrail [Event], the [Alert] a rule raises, its [Severity],
// and the ports a store must provide ([EventStore], [AlertStore],
// [ThresholdStore], [Outbox], [CheckpointStore]).
//
// It imports nothing but the standard library. Adapters (SQLite, DynamoDB,
// S3, SQS, notification sinks) live in their own packages and depend on this
// one, never the other way round.
package iamwatch
