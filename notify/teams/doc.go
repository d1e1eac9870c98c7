// Package teams sends alerts to Microsoft Teams through a workflow (Power
// Automate) webhook, as an Adaptive Card: the subject coloured by severity,
// the summary, the key fields as a fact set, the action and a button opening
// the event in the CloudTrail console. Untrusted text is escaped for the
// card's markdown with untrusted.Markdown.
package teams
