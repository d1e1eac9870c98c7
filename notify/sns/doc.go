// Package sns publishes alerts to an Amazon SNS topic: the subject (printable
// ASCII, under SNS's 100-character limit) and the plain text message format
// as the body, with message attributes severity, rule and account_id so
// subscribers can filter (SNS subscription filter policies).
//
// [NewStructured] publishes with MessageStructure=json instead: the text for
// e-mail and the default, and for machines (the serverless notifier
// function, SQS subscribers) an [AlertMessage], the JSON of the alerts. The
// serverless stack's alert topic is such a sink.
//
// It is the only package importing the SNS client.
package sns
