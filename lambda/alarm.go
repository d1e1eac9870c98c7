package lambda

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
)

// AlarmRule is the rule name of alerts made from the stack's own CloudWatch
// alarms (dead letters, function errors, throttling).
const AlarmRule = "iamwatch-alarm"

// cloudWatchAlarm is the part of a CloudWatch alarm notification (the JSON
// an alarm action publishes to SNS) an alert is made of.
type cloudWatchAlarm struct {
	AlarmName        string
	AlarmDescription string
	AWSAccountId     string
	NewStateValue    string
	OldStateValue    string
	NewStateReason   string
	StateChangeTime  string
	AlarmArn         string
}

// errNotAlarm says a message is not a CloudWatch alarm notification.
var errNotAlarm = errors.New("not a CloudWatch alarm notification")

// DecodeAlarm turns a CloudWatch alarm notification into an alert: a
// change to ALARM is high severity, back to OK informational. One state
// change is one alert (its dedup key is the alarm and the change time), so
// SNS repeating the message sends it once. A change to INSUFFICIENT_DATA,
// or a message that is not an alarm notification, is an error.
func DecodeAlarm(b []byte) (iamwatch.Alert, error) {
	var m cloudWatchAlarm
	if err := json.Unmarshal(b, &m); err != nil || m.AlarmName == "" || m.NewStateValue == "" || m.StateChangeTime == "" {
		return iamwatch.Alert{}, errNotAlarm
	}
	sev := iamwatch.SeverityHigh
	switch m.NewStateValue {
	case "ALARM":
	case "OK":
		sev = iamwatch.SeverityInfo
	default:
		return iamwatch.Alert{}, fmt.Errorf("alarm %s: state %s is not reported", untrusted.Text(m.AlarmName, 255), untrusted.Text(m.NewStateValue, 32))
	}
	at, err := time.Parse("2006-01-02T15:04:05.000-0700", m.StateChangeTime)
	if err != nil {
		return iamwatch.Alert{}, fmt.Errorf("alarm %s: state change time %q: %w", untrusted.Text(m.AlarmName, 255), untrusted.Text(m.StateChangeTime, 64), err)
	}
	name := untrusted.Text(m.AlarmName, 255)
	return iamwatch.Alert{
		DedupKey: fmt.Sprintf("%s/%s/%s/%d", AlarmRule, name, m.NewStateValue, at.UnixMilli()),
		Rule:     AlarmRule, Severity: sev,
		Title:     fmt.Sprintf("iamwatch alarm %s: %s", name, m.NewStateValue),
		Summary:   untrusted.Text(fmt.Sprintf("%s (was %s). %s", m.AlarmDescription, m.OldStateValue, m.NewStateReason), 1000),
		Action:    "Look at the stack's dead-letter queues, function logs (iamwatch logs) and throttling.",
		Time:      at.UTC(),
		AccountID: untrusted.Text(m.AWSAccountId, 12),
		Count:     1,
	}, nil
}
