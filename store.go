package iamwatch

import (
	"context"
	"time"
)

// EventStore keeps the event history.
type EventStore interface {
	// PutEvents stores each event not already stored (by ID) and returns how
	// many were new. Storing the same events again changes nothing.
	PutEvents(ctx context.Context, events []Event) (inserted int, err error)
}

// AlertStore keeps the alert history.
type AlertStore interface {
	// ClaimAlert stores a if no alert with its DedupKey exists and reports
	// true. If one exists it adds a's EventIDs to it (a set union; Time keeps
	// the earliest) and reports false: the caller must not notify again.
	ClaimAlert(ctx context.Context, a Alert) (claimed bool, err error)
	// Alerts lists stored alerts matching f, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	Rule        string
	Group       string
	UserName    string
	AccountID   string
	MinSeverity Severity
	Since       time.Time // alert Time >= Since
	Until       time.Time // alert Time < Until
	Limit       int
}

// Hit is one event counted towards a threshold rule.
type Hit struct {
	Rule    string
	Group   string // the group value, e.g. a user name or a source IP.
	EventID string
	Time    time.Time // event time.
}

// ThresholdStore keeps threshold state where every process sees it, so a
// restart or a second process counts the same.
type ThresholdStore interface {
	// AddHit records h once per (Rule, EventID); it reports false for a repeat.
	AddHit(ctx context.Context, h Hit) (added bool, err error)
	// Hits returns the hits of (rule, group) with from <= Time <= to, oldest first.
	Hits(ctx context.Context, rule, group string, from, to time.Time) ([]Hit, error)
}

// Delivery is one (alert, sink) pair in the outbox.
type Delivery struct {
	AlertKey  string
	Sink      string
	Status    DeliveryStatus
	Attempts  int
	NextTry   time.Time // wall-clock time of the next attempt.
	LastError string    // the reason of the last failure, secrets removed.
	SentAt    time.Time
}

// DeliveryStatus is the state of one Delivery.
type DeliveryStatus string

// The delivery states.
const (
	DeliveryPending DeliveryStatus = "pending"
	DeliverySent    DeliveryStatus = "sent"
	DeliveryFailed  DeliveryStatus = "failed" // permanent; retried only by command.
)

// Outbox keeps alert deliveries so each (alert, sink) is sent at least once
// and, once marked sent, never again.
type Outbox interface {
	// Enqueue adds a pending delivery of the alert to each sink; pairs already
	// present are left as they are.
	Enqueue(ctx context.Context, alertKey string, sinks []string, now time.Time) error
	// Due returns pending deliveries whose NextTry <= now, oldest first, with their alerts.
	Due(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error)
	// UpdateDelivery writes d's Status, Attempts, NextTry, LastError and SentAt.
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries lists the deliveries of one alert.
	Deliveries(ctx context.Context, alertKey string) ([]Delivery, error)
	// RetryFailed sets failed deliveries (of one sink, or all when sink is "") back to pending; it returns how many.
	RetryFailed(ctx context.Context, sink string, now time.Time) (int, error)
}

// DueDelivery is a delivery with the alert it delivers.
type DueDelivery struct {
	Delivery
	Alert Alert
}

// Checkpoint is how far one live source has read.
type Checkpoint struct {
	Key       string    // e.g. "lookup/123456789012/us-east-1/iam.amazonaws.com" or "s3/bucket/prefix".
	Position  string    // source-specific: the last S3 key, a token.
	EventTime time.Time // the newest event time read.
	LastRun   time.Time
	Processed int64  // events processed in total.
	Status    string // active, paused or error.
	LastError string
}

// CheckpointStore keeps checkpoints.
type CheckpointStore interface {
	// Checkpoint returns the checkpoint for key, or a zero Checkpoint with Key set and ok false.
	Checkpoint(ctx context.Context, key string) (cp Checkpoint, ok bool, err error)
	PutCheckpoint(ctx context.Context, cp Checkpoint) error
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// Store is everything the pipeline needs of a store. Both the SQLite and the
// DynamoDB store implement it and pass store/storetest.
type Store interface {
	EventStore
	AlertStore
	ThresholdStore
	Outbox
	CheckpointStore
	// Prune deletes events with Time < eventsBefore (when not zero) and alerts
	// (with their deliveries and threshold hits) with Time < alertsBefore.
	Prune(ctx context.Context, eventsBefore, alertsBefore time.Time) (events, alerts int, err error)
	Close() error
}
