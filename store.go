package iamwatch

import (
	"context"
	"errors"
	"slices"
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
	// CommitAlerts records hits (once per Rule and EventID: a repeat changes
	// nothing), then calls resolve with a view that sees them and every
	// commit before, then claims the alerts resolve returns: an alert whose
	// DedupKey is not stored yet is stored (New); a stored one is replaced
	// by the claimed one only when Merge keeps the claim (it counts more
	// events, say), so the same input twice, or two processes racing, end
	// in one state.
	// Where the store has transactions all of it is one transaction.
	// The claims come back in the order resolve returned the alerts.
	CommitAlerts(ctx context.Context, hits []Hit, resolve Resolver) ([]Claim, error)
	// Alerts lists stored alerts matching f, newest first.
	Alerts(ctx context.Context, f AlertFilter) ([]Alert, error)
}

// Resolver computes the alerts of a batch from the state a store shows it.
type Resolver func(ctx context.Context, view StateView) ([]Alert, error)

// StateView is what a Resolver may read: threshold hits, stored events and
// alerts, and which of the batch's hits were new.
type StateView interface {
	ThresholdStore
	BaselineStore
	// Event returns the stored event with id (t is its event time, which
	// some stores key by), false when it is not stored.
	Event(ctx context.Context, id string, t time.Time) (Event, bool, error)
	// Alert returns the stored alert with key, false when there is none.
	Alert(ctx context.Context, key string) (Alert, bool, error)
	// Added reports whether the hit (rule, eventID) of this commit was
	// recorded for the first time by it; known is false when the store
	// cannot tell (the resolver then reads the whole group instead).
	Added(rule, eventID string) (added, known bool)
}

// HitDropper is a StateView that can delete stored hits (both stores'
// views are). Of a group whose rule ignores repeats, a Resolver keeps the
// first and the last hit of each value in each slot (detect's keepEnds) and
// drops the others through it, so the hits stored are those of reading the
// events as one batch, whatever the batches were, and a group's hits stay
// bounded however long its repeats go on (a Lambda given one event at a
// time stored every one). A view without it keeps them: the alerts are the
// same either way.
type HitDropper interface {
	// DropHits deletes the hits (by rule, group, time and event ID);
	// hits not stored are ignored.
	DropHits(ctx context.Context, hits []Hit) error
}

// Claim is what claiming one alert did.
type Claim struct {
	Alert Alert // the alert as claimed.
	New   bool  // stored for the first time: notify.
}

// ClaimAlert claims one alert with no hits and reports whether it was new.
func ClaimAlert(ctx context.Context, s AlertStore, a Alert) (bool, error) {
	cs, err := s.CommitAlerts(ctx, nil, func(context.Context, StateView) ([]Alert, error) { return []Alert{a}, nil })
	if err != nil {
		return false, err
	}
	return len(cs) == 1 && cs[0].New, nil
}

// Merge returns what a store keeps when claimed is claimed over stored (the
// same DedupKey). Both alerts were computed from the state a store showed,
// and a later view holds every hit of an earlier one; Merge keeps the alert
// of the later view:
//   - the one that counts more events;
//   - on a tie, the one whose first event is earlier, then the one whose
//     last event is later (compared only when both are known): a rule that
//     ignores repeats keeps the first and the last of each value in each
//     slot, so a later view may swap a kept event for an earlier or a later
//     repeat of it without counting more;
//   - then the one raised by the earlier event (Time). A first-seen alert
//     counts one event, its identity's first with the value: a later view
//     can only move that event earlier (see BaselineEntry), never later;
//   - raised as early, a claim that is not withdrawn replaces a withdrawn
//     alert (see WithdrawnTag): only a later view, whose learning period
//     starts earlier, finds the event that withdrew it new again;
//   - raised in the same second (event times keep seconds) and alike
//     withdrawn or not, the claim whose raising event has the smaller ID is
//     kept, as a baseline keeps the smaller of two firsts of one second:
//     two events of one second then give the same alert in either order;
//   - equal in all of these, the claim: a swap in the middle of the
//     incident changes only the sample of event IDs or the summary, and a
//     store that resolves inside its commit (SQLite, MemoryState) claims
//     from a view that holds every stored hit. changed then says whether
//     the claim differs in anything a store keeps.
func Merge(stored, claimed Alert) (kept Alert, changed bool) {
	if claimed.Count != stored.Count {
		return pick(stored, claimed, claimed.Count > stored.Count)
	}
	if known(stored.FirstSeen, claimed.FirstSeen) && !claimed.FirstSeen.Equal(stored.FirstSeen) {
		return pick(stored, claimed, claimed.FirstSeen.Before(stored.FirstSeen))
	}
	if known(stored.LastSeen, claimed.LastSeen) && !claimed.LastSeen.Equal(stored.LastSeen) {
		return pick(stored, claimed, claimed.LastSeen.After(stored.LastSeen))
	}
	if !claimed.Time.Equal(stored.Time) {
		return pick(stored, claimed, claimed.Time.Before(stored.Time))
	}
	if claimed.Withdrawn() != stored.Withdrawn() {
		return pick(stored, claimed, stored.Withdrawn())
	}
	if claimed.EventID != "" && stored.EventID != "" && claimed.EventID != stored.EventID {
		return pick(stored, claimed, claimed.EventID < stored.EventID)
	}
	return claimed, !sameAlert(stored, claimed)
}

// known reports whether both times are set: alerts stored before first and
// last seen were kept have none.
func known(a, b time.Time) bool { return !a.IsZero() && !b.IsZero() }

// sameAlert reports whether a and b agree in every field a store keeps
// (times to the second, as stores keep them).
func sameAlert(a, b Alert) bool {
	sec := func(t time.Time) int64 { return t.Unix() }
	return a.DedupKey == b.DedupKey && a.Rule == b.Rule && a.Severity == b.Severity && a.Title == b.Title &&
		a.Summary == b.Summary && a.Action == b.Action && sec(a.Time) == sec(b.Time) &&
		a.AccountID == b.AccountID && a.Region == b.Region && a.UserName == b.UserName && a.SourceIP == b.SourceIP &&
		a.Country == b.Country && a.ASN == b.ASN && a.ASOrg == b.ASOrg && a.EventName == b.EventName &&
		a.EventID == b.EventID && max(a.Count, 1) == max(b.Count, 1) && sec(a.FirstSeen) == sec(b.FirstSeen) &&
		sec(a.LastSeen) == sec(b.LastSeen) && slices.Equal(a.EventIDs, b.EventIDs) &&
		a.Group == b.Group && sec(a.WindowStart) == sec(b.WindowStart) && sec(a.WindowEnd) == sec(b.WindowEnd) &&
		slices.Equal(a.Tags, b.Tags) && slices.Equal(a.References, b.References)
}

func pick(stored, claimed Alert, takeClaimed bool) (Alert, bool) {
	if takeClaimed {
		return claimed, true
	}
	return stored, false
}

// AlertFilter selects alerts. Zero fields do not filter.
type AlertFilter struct {
	Key         string // one DedupKey
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
	// Value is what the hit counts under a distinct threshold (a rule's
	// threshold.distinct or sequence step, see detect): its values, each
	// free of control characters and at most 256 characters, joined by
	// "\n"; "" for a rule that counts events, or an event with no value.
	// It is a function of the event, so a repeat carries the same Value.
	Value string
}

// ThresholdStore keeps threshold state where every process sees it, so a
// restart or a second process counts the same. Hits are recorded by
// AlertStore.CommitAlerts.
type ThresholdStore interface {
	// Hits returns the hits of (rule, group) with from <= Time <= to, oldest
	// first (ties by EventID).
	Hits(ctx context.Context, rule, group string, from, to time.Time) ([]Hit, error)
}

// FirstHitsStore is a ThresholdStore that can read only the first hits of
// a range: an alert whose period's hits arrive out of order then grows
// without reading the whole period back.
type FirstHitsStore interface {
	// FirstHits returns at most n of the hits Hits returns, the first.
	FirstHits(ctx context.Context, rule, group string, from, to time.Time, n int) ([]Hit, error)
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
	// Severity is the alert's severity when it was last enqueued: an
	// incident that escalates (a rule's escalate:) past it is sent again.
	Severity Severity
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
	// Enqueue adds a pending delivery of the stored alert to each sink, due
	// at now, at the alert's stored severity. A pair already present at that
	// severity or above is left as it is. Below it (the incident escalated),
	// the pair takes the new severity and, when already sent or failed, is
	// pending again with no attempts: each sink hears once of each rise;
	// when pending and due after now (held for a digest), it is due at now.
	Enqueue(ctx context.Context, alertKey string, sinks []string, now time.Time) error
	// Due returns pending deliveries whose NextTry <= now, oldest first, with their alerts.
	Due(ctx context.Context, now time.Time, limit int) ([]DueDelivery, error)
	// ClaimDelivery takes d, as Due returned it, for sending. When the stored
	// delivery is still pending with d's Attempts and NextTry, its NextTry
	// becomes until (a lease: Due does not return it again before then, so
	// no other dispatcher sends it) and ok is true. ok is false when another
	// dispatcher claimed, retried or settled it first, or it does not exist.
	// A dispatcher that dies holding a lease leaves the delivery pending; it
	// is due again when the lease ends.
	ClaimDelivery(ctx context.Context, d Delivery, until time.Time) (ok bool, err error)
	// UpdateDelivery writes d's Status, Attempts, NextTry, LastError and
	// SentAt, only while the stored delivery is pending: once sent or
	// failed it stays so, and the error wraps ErrDeliverySettled. d is the
	// delivery as Due or Deliveries returned it, Severity included: when
	// the stored severity has risen above d.Severity since (the incident
	// escalated while d was being sent), nothing is written and the
	// delivery stays pending at its new severity, due as Enqueue left it,
	// so the rise is sent too; the error is nil.
	UpdateDelivery(ctx context.Context, d Delivery) error
	// Deliveries lists the deliveries of one alert.
	Deliveries(ctx context.Context, alertKey string) ([]Delivery, error)
	// RetryFailed sets failed deliveries (of one sink, or all when sink is "") back to pending; it returns how many.
	RetryFailed(ctx context.Context, sink string, now time.Time) (int, error)
}

// ErrDeliverySettled is wrapped by Outbox.UpdateDelivery when the delivery
// was already marked sent or failed (by another dispatcher).
var ErrDeliverySettled = errors.New("delivery already sent or failed")

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

// Day is one UTC day of a store's event history, as the export reads it
// (export.EventSource).
type Day struct {
	Date  string // YYYY-MM-DD.
	Count int64  // events stored for the day.
	// Version changes whenever events are added to the day; it is compared
	// for equality only. The SQLite store gives the highest rowid; a store
	// that has nothing of the kind leaves it "" and Count alone tells
	// changes (enough where events are only ever added, by ID).
	Version string
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
	BaselineStore
	Outbox
	CheckpointStore
	// Prune deletes events with Time < eventsBefore (when not zero) and alerts
	// (with their deliveries and threshold hits) with Time < alertsBefore.
	Prune(ctx context.Context, eventsBefore, alertsBefore time.Time) (events, alerts int, err error)
	Close() error
}
