// Package dynamodb is the serverless store: an [iamwatch.Store] in five
// DynamoDB tables, through aws-sdk-go-v2. It passes store/storetest like the
// SQLite store, run against dynalite (an emulator with neither TTL nor
// transactions, so nothing here needs them).
//
// # Tables
//
// Every table is on-demand; key attributes and indexes are in tables.go, the
// one place the CloudFormation template (deploy/template.yaml) is checked
// against.
//
//	events      PK event_date (S, YYYY-MM-DD#k: the day's shard k, see
//	            shards.go; the bare YYYY-MM-DD in tables written before
//	            sharding, and for the day's marker)  SK event_id (S)
//	            no secondary index (nothing queries events by user or name here)
//	            attributes: the documented event columns, raw (S2-compressed record),
//	            expires_at (optional TTL, epoch seconds)
//	alerts      PK dedup_key; expires_at = claim time + AlertTTL (30 days)
//	hits        PK series ("<len(rule)>/<rule>/<group>")  SK event_id
//	            LSI by_time: hit_time (epoch ms), read with ConsistentRead
//	            hit_value: a distinct threshold's values (Hit.Value), absent when ""
//	deliveries  PK alert_key  SK sink (the outbox); expires_at like its alert
//	control     PK key (checkpoints per account/region/source; baselines,
//	            "baseline/<series>" and, past ~3,000 values, its "/overflow/NN" items)
//
// The TTL attribute of every table is expires_at; TTL itself is switched on
// by the template (AWS::DynamoDB::Table TimeToLiveSpecification), never by
// this code.
//
// # Idempotency and cost
//
// PutEvents writes each new event with a conditional PutItem
// (attribute_not_exists), in parallel up to Config.Concurrency: the count it
// returns is exact even with concurrent writers. [PutBatch] instead reads
// the batch's keys with BatchGetItem and writes the missing ones with
// BatchWriteItem (retrying UnprocessedItems with backoff): fewer requests
// and no write units spent on repeats, but a count that two concurrent
// writers of the same new event may both report (the item itself is written
// identically twice, so the data stays right). BatchWriteItem cannot be
// conditional, which is why it is not the default. See the benchmarks in
// bench_test.go and deploy/README.md for measurements.
//
// CommitAlerts writes the batch's hits with conditional PutItems, in
// parallel (so it knows which are new: the resolver's cheap path), then resolves
// with consistent reads (Hits queries the local secondary index with
// ConsistentRead, so a hit is counted by the very next read), then claims
// each alert with a conditional PutItem; a repeat replaces the stored fields
// with a conditional UpdateItem only when iamwatch.Merge keeps the claim
// (mergeCondition: it counts more events, say). The group is a function of the event (the rule's
// `by` field), so (rule, group, event ID) is unique where (rule, event ID) is.
//
// Alerts, Due, RetryFailed, Checkpoints and Prune scan their (small) tables
// with consistent reads: alerts and deliveries expire after 30 days, so the
// scans stay small; events are pruned by TTL in production and by a scan
// here.
//
// # Export
//
// [Store.ExportSource] is the events table as an export.EventSource for the
// Parquet export: a day is its bare date's partition and its shards,
// counted and read with paged Query calls.
//
// # Concurrency
//
// A *Store is safe for concurrent use, and any number of processes (Lambda
// instances) may share the tables.
package dynamodb
