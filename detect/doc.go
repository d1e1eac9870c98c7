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
// and evaluates events ([Engine.Evaluate]), indexing rules by eventName so
// that events no rule cares about cost a map lookup. Threshold state lives in
// an iamwatch.ThresholdStore ([NewMemoryState] for tests and `rules test`).
//
// detect imports no SDK and no driver; it decodes test events with the
// cloudtrail package.
package detect
