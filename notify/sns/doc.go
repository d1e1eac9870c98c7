// Package sns publishes alerts to an Amazon SNS topic: the subject (printable
// ASCII, under SNS's 100-character limit) and the plain text message format
// as the body, with message attributes severity, rule and account_id so
// subscribers can filter (SNS subscription filter policies).
//
// It is the only notify package importing the SNS client.
package sns
