package pipeline

import (
	"context"
	"fmt"

	"github.com/iamwatch/iamwatch"
)

// Detector evaluates one event against the rules. detect.Engine implements it.
type Detector interface {
	// Evaluate returns the alerts ev belongs to (new or already raised); the
	// pipeline claims them to learn which are new.
	Evaluate(ctx context.Context, ev *iamwatch.Event) ([]iamwatch.Alert, error)
}

// interested is an optional Detector method: whether any rule could match
// ev, whatever the threshold state. The pipeline stores such events, so the
// events a threshold counts are kept whether or not the threshold has been
// reached yet: the same input read twice, in any order, leaves the same rows.
type interested interface {
	Interested(ev *iamwatch.Event) bool
}

// Store is what the pipeline needs of a store.
type Store interface {
	iamwatch.EventStore
	iamwatch.AlertStore
}

// Pipeline runs batches through detection and into the store. It holds no
// per-batch state and is safe for concurrent use when its Store and
// Detector are; sources usually call it from one goroutine so batches are
// committed in order.
type Pipeline struct {
	store   Store
	detect  Detector // nil: no detection.
	filter  Filter
	enqueue func(context.Context, iamwatch.Alert) error
	onNew   func(iamwatch.Alert)
	keeps   interested // the detector's Interested, when it has one.
}

// Options configure a Pipeline.
type Options struct {
	Filter   Filter
	Detector Detector // optional.
	// Enqueue is called for every alert matched, new or not, after it is
	// claimed; it must be idempotent (iamwatch.Outbox.Enqueue is), because a
	// batch that failed after a claim is retried and must still deliver.
	Enqueue func(context.Context, iamwatch.Alert) error
	// OnNew is told of each alert claimed for the first time (to print it).
	OnNew func(iamwatch.Alert)
}

// New returns a Pipeline over store.
func New(store Store, opt Options) (*Pipeline, error) {
	if err := opt.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if opt.Filter.Keep == "" {
		opt.Filter.Keep = KeepIdentity
	}
	p := &Pipeline{store: store, detect: opt.Detector, filter: opt.Filter, enqueue: opt.Enqueue, onNew: opt.OnNew}
	p.keeps, _ = opt.Detector.(interested)
	return p, nil
}

func (p *Pipeline) interested(ev *iamwatch.Event) bool {
	return p.keeps != nil && p.keeps.Interested(ev)
}

// Result counts what one batch did.
type Result struct {
	Events     int // events in the batch.
	Kept       int // events the filter (or an alert) kept.
	Stored     int // events newly stored.
	Duplicates int // kept events already stored.
	Alerts     int // alerts matched (new or not).
	NewAlerts  int // alerts claimed for the first time.
}

// Add accumulates o into r.
func (r *Result) Add(o Result) {
	r.Events += o.Events
	r.Kept += o.Kept
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.Alerts += o.Alerts
	r.NewAlerts += o.NewAlerts
}

// Process detects, filters, stores and claims alerts for one batch, in that
// order of durability: events are stored before their alerts are claimed, so
// a crash in between replays to the same state. It is idempotent: the same
// batch twice stores nothing new and claims no alert twice.
func (p *Pipeline) Process(ctx context.Context, events []iamwatch.Event) (Result, error) {
	res := Result{Events: len(events)}
	var alerts []iamwatch.Alert
	keep := make([]iamwatch.Event, 0, len(events))
	for i := range events {
		ev := &events[i]
		var raised bool
		if p.detect != nil {
			as, err := p.detect.Evaluate(ctx, ev)
			if err != nil {
				return res, fmt.Errorf("pipeline: detect event %s: %w", ev.ID, err)
			}
			raised = len(as) > 0
			alerts = append(alerts, as...)
		}
		if raised || p.filter.Stores(ev) || p.interested(ev) {
			keep = append(keep, *ev)
		}
	}
	res.Kept = len(keep)
	if len(keep) > 0 {
		n, err := p.store.PutEvents(ctx, keep)
		if err != nil {
			return res, fmt.Errorf("pipeline: store %d events: %w", len(keep), err)
		}
		res.Stored = n
		res.Duplicates = len(keep) - n
	}
	res.Alerts = len(alerts)
	for _, a := range alerts {
		claimed, err := p.store.ClaimAlert(ctx, a)
		if err != nil {
			return res, fmt.Errorf("pipeline: claim alert %s: %w", a.DedupKey, err)
		}
		if p.enqueue != nil {
			if err := p.enqueue(ctx, a); err != nil {
				return res, fmt.Errorf("pipeline: enqueue alert %s: %w", a.DedupKey, err)
			}
		}
		if claimed {
			res.NewAlerts++
			if p.onNew != nil {
				p.onNew(a)
			}
		}
	}
	return res, nil
}
