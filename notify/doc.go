// Package notify delivers alerts: it decides which sinks an alert goes to
// ([Router]), keeps every (alert, sink) pair in the store's outbox and drains
// it ([Dispatcher]) with retries, backoff and per-sink rate limits, so each
// pair is delivered at least once and, once marked sent, never again.
//
// It owns the one message format every sink shows ([Format], [Message.Text];
// its text is made safe by package untrusted, which every sink also uses
// for its medium), the error classification sinks report with
// ([Permanent], [Retryable]), the routing configuration ([Config]) and secret
// references ([Resolver]).
//
// The sinks live in subpackages, one per medium: slack, teams, pagerduty,
// webhook, email (SMTP), jsonl (stdout/file) use only the standard library;
// sns and ses import the AWS SDK, as do the ssm and secretsmanager secret
// lookups. A [Builder] per sink type turns configuration into a [Sink]; the
// command wires the builders it links in (see [BuildSinks]).
package notify
