// Package slack sends alerts to Slack: through an incoming webhook, or with a
// bot token through chat.postMessage. Messages are Block Kit: a coloured
// attachment by severity with the subject, summary, key fields, action and a
// link to the event in the CloudTrail console. Untrusted text is escaped for
// mrkdwn with untrusted.Slack.
package slack
