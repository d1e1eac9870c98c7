// Package detect is the rule engine: it decides which events raise alerts.
//
// A [Rule] is data (one YAML file, see rule.go for the format): an
// EventBridge event pattern over the CloudTrail record ([Pattern]), an
// optional CEL condition with helpers for policy documents and principals
// (cel.go, [ParsePolicy]), an optional threshold counted in event time
// (threshold.go), a dedup window, a summary template (summary.go), a one-line
// action and inline tests ([RunTests]). [LoadFS] and [LoadDir] read rule
// folders, refusing a broken file with file, line and reason; [Merge] lets a
// user's folder override built-ins by ID.
//
// An [Engine] ([New]) compiles the rules once under a [Config] (disabled
// rules, allow-lists, trusted accounts, admin policies, threshold overrides)
// and matches batches of events ([Engine.Match]), indexing rules by
// eventName so that events no rule cares about cost a map lookup. It holds
// no state: a [Batch] carries the single-event alerts and the threshold hits
// to the store, whose iamwatch.AlertStore.CommitAlerts records the hits and
// calls [Batch.Resolve] to compute each incident from the hits it shows
// (threshold.go). [Engine.Evaluate] runs that round trip against a store or
// a [MemoryState] (tests and `rules test`).
//
// detect imports no SDK and no driver; it decodes test events with the
// cloudtrail package.
package detect
