package iamwatch

import (
	"context"
	"fmt"
	"time"
)

// TriageStatus is where a person's handling of an alert stands.
type TriageStatus string

// The triage states: open → acknowledged → resolved or false positive.
// An alert nobody has touched is open.
const (
	TriageOpen          TriageStatus = "open"
	TriageAcknowledged  TriageStatus = "acknowledged"
	TriageResolved      TriageStatus = "resolved"
	TriageFalsePositive TriageStatus = "false_positive"
)

// TriageStatuses lists the states in their order.
var TriageStatuses = []TriageStatus{TriageOpen, TriageAcknowledged, TriageResolved, TriageFalsePositive}

// ParseTriageStatus reads a state by its name ("false-positive" is accepted
// for false_positive).
func ParseTriageStatus(s string) (TriageStatus, error) {
	if s == "false-positive" {
		s = string(TriageFalsePositive)
	}
	for _, t := range TriageStatuses {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown triage status %q (open, acknowledged, resolved, false_positive)", s)
}

// Closed reports whether the alert needs nobody any more.
func (s TriageStatus) Closed() bool { return s == TriageResolved || s == TriageFalsePositive }

// MaxTriageNote bounds a triage note, in bytes.
const MaxTriageNote = 4096

// Triage is the state of one alert's handling: who set it, when (wall
// clock) and why. The zero value with Status "" reads as open.
type Triage struct {
	AlertKey string       `json:"alert_key"`
	Status   TriageStatus `json:"status"`
	By       string       `json:"by,omitempty"`
	At       time.Time    `json:"at,omitzero"`
	Note     string       `json:"note,omitempty"`
}

// Validate checks t's status and bounds its note.
func (t Triage) Validate() error {
	if t.AlertKey == "" {
		return fmt.Errorf("triage: no alert key")
	}
	if _, err := ParseTriageStatus(string(t.Status)); err != nil {
		return fmt.Errorf("triage %s: %w", t.AlertKey, err)
	}
	if len(t.Note) > MaxTriageNote {
		return fmt.Errorf("triage %s: note of %d bytes is over %d", t.AlertKey, len(t.Note), MaxTriageNote)
	}
	return nil
}

// TriageStore keeps each alert's triage state with the alert. Both stores
// have it; it is not part of Store so that a store without a console
// (a test double, a future backend) need not.
type TriageStore interface {
	// SetTriage replaces the triage state of the alert t.AlertKey; it fails
	// when there is no such alert or t does not Validate.
	SetTriage(ctx context.Context, t Triage) error
	// Triage returns the alert's state: Status open when never set.
	Triage(ctx context.Context, key string) (Triage, error)
	// Triages returns every state ever set, by alert key.
	Triages(ctx context.Context) (map[string]Triage, error)
}
