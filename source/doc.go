// Package source holds what every live source shares: the [Processor] they
// feed, the [Observer] they report to, checkpoint statuses, and the pacing
// and backoff helpers for the AWS APIs they poll. The sources themselves are
// its subpackages, one per input (lookup, s3, sqs); only they import their
// AWS SDK clients.
package source
