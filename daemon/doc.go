// Package daemon is `iamwatch run`: it builds the configured live sources
// (LookupEvents, trail bucket, SQS) over one pipeline, runs each in its own
// goroutine together with the notification dispatcher and retention
// pruning, serves /healthz and Prometheus /metrics, and shuts down
// gracefully: in-flight batches finish and their checkpoints are saved.
//
// Batches from all sources go through the pipeline one at a time (SQLite has
// one writer). Metrics are kept by a small registry of its own ([Metrics]),
// written in the Prometheus text format.
package daemon
