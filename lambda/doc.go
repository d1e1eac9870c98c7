// Package lambda holds the AWS Lambda handlers of the serverless
// deployment, testable without Lambda: a [Handler] built from [Deps]
// (interfaces and functions, no SDK client) serves every kind of invocation
// of the one binary (cmd/iamwatch-lambda), told apart by the payload's
// shape ([Detect]):
//
//   - EventBridge events of CloudTrail records (the real-time path);
//   - SQS batches of trail-bucket notifications, CloudTrail SNS
//     notifications or forwarded events (shapes read by source/sqs), answered with
//     batchItemFailures so only the failed messages come back;
//   - SNS notifications of the alert topic (the notifier: [Notifier]);
//   - scheduled tasks {"iamwatch":"poll"|"export"|"flush"}.
//
// Events go through the same pipeline as the CLI; alerts are claimed in the
// store, their deliveries enqueued in the outbox and sent at once
// ([Publisher]) or by the next flush ([Flusher]), each function seeing only
// the deliveries of its own sinks. The alert topic carries an
// AlertMessage (JSON, notify/sns) to machines and text to people: the
// topic's sink is notify/sns.NewStructured.
package lambda
