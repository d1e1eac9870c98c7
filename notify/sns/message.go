package sns

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/iamwatch/iamwatch"
)

// AlertMessage is the JSON the alert topic carries to machines (the
// notifier function, SQS subscribers): the "lambda" and "sqs" entries of a
// MessageStructure=json publish, next to the text for e-mail.
type AlertMessage struct {
	Version int              `json:"version"` // 1.
	Alerts  []iamwatch.Alert `json:"alerts"`
}

// MaxMessageEventIDs bounds the event IDs each alert carries in an
// AlertMessage, so a message stays far below SNS's 256 KB.
const MaxMessageEventIDs = 50

// EncodeAlertMessage returns the JSON of an AlertMessage of alerts.
func EncodeAlertMessage(alerts []iamwatch.Alert) ([]byte, error) {
	m := AlertMessage{Version: 1, Alerts: slices.Clone(alerts)}
	for i := range m.Alerts {
		if ids := m.Alerts[i].EventIDs; len(ids) > MaxMessageEventIDs {
			m.Alerts[i].EventIDs = ids[:MaxMessageEventIDs]
		}
	}
	return json.Marshal(m)
}

// DecodeAlertMessage reads an AlertMessage, refusing one without alerts or
// with an alert without a dedup key (untrusted input: the topic's policy
// decides who may publish, not this code).
func DecodeAlertMessage(b []byte) (AlertMessage, error) {
	var m AlertMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("sns: alert message: %w", err)
	}
	if m.Version != 1 {
		return m, fmt.Errorf("sns: alert message: version %d, want 1", m.Version)
	}
	if len(m.Alerts) == 0 {
		return m, errors.New("sns: alert message: no alerts")
	}
	for i, a := range m.Alerts {
		if a.DedupKey == "" || a.Rule == "" {
			return m, fmt.Errorf("sns: alert message: alert %d has no dedup key or rule", i)
		}
	}
	return m, nil
}
