// Package topic is the notify.Sink of the alert topic: it publishes alerts
// to SNS with MessageStructure=json, so that each kind of subscriber gets
// its own form of one message: text for e-mail and the default, the JSON
// lambda.AlertMessage for the notifier function and SQS subscribers. It is
// the only package of the Lambda side importing the SNS client.
package topic
