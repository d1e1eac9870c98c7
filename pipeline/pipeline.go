package pipeline

import (
	"context"
	"fmt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
)

// Detector matches a batch of events against the rules. detect.Engine
// implements it.
type Detector interface {
	// Match evaluates the rules on events, reading no state; the store
	// then records the batch's hits and resolves its alerts.
	Match(ctx context.Context, events []iamwatch.Event) (*detect.Batch, error)
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
	return &Pipeline{store: store, detect: opt.Detector, filter: opt.Filter, enqueue: opt.Enqueue, onNew: opt.OnNew}, nil
}

// Result counts what one batch did.
type Result struct {
	Events     int // events in the batch.
	Kept       int // events the filter (or an alert) kept.
	Stored     int // events newly stored.
	Duplicates int // kept events already stored.
	Alerts     int // alerts the batch belongs to (new or not), once each.
	NewAlerts  int // alerts claimed for the first time.
	// Unevaluated counts events stored but not evaluated by the rules
	// (their record did not parse), and once more for each rule that
	// could not evaluate an event (its condition ran over detect.MaxCost);
	// FirstUnevaluated says which and why.
	Unevaluated      int
	FirstUnevaluated string `json:",omitempty"`
}

// Add accumulates o into r.
func (r *Result) Add(o Result) {
	r.Events += o.Events
	r.Kept += o.Kept
	r.Stored += o.Stored
	r.Duplicates += o.Duplicates
	r.Alerts += o.Alerts
	r.NewAlerts += o.NewAlerts
	r.Unevaluated += o.Unevaluated
	if r.FirstUnevaluated == "" {
		r.FirstUnevaluated = o.FirstUnevaluated
	}
}

// Process detects, filters, stores and claims alerts for one batch, in that
// order of durability: events are stored before the batch's threshold hits
// and alerts are committed (one store call: one transaction in SQLite), so a
// crash in between replays to the same state. It is idempotent: the same
// batch twice stores nothing new and claims no alert twice.
func (p *Pipeline) Process(ctx context.Context, events []iamwatch.Event) (Result, error) {
	res := Result{Events: len(events)}
	var batch *detect.Batch
	if p.detect != nil {
		var err error
		if batch, err = p.detect.Match(ctx, events); err != nil {
			return res, fmt.Errorf("pipeline: detect: %w", err)
		}
		if res.Unevaluated = len(batch.Unevaluated); res.Unevaluated > 0 {
			res.FirstUnevaluated = batch.Unevaluated[0].Error()
		}
	}
	keep := make([]iamwatch.Event, 0, len(events))
	for i := range events {
		ev := &events[i]
		if (batch != nil && batch.Keep[i]) || p.filter.Stores(ev) {
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
	if batch == nil || (len(batch.Hits) == 0 && !batch.HasAlerts()) {
		return res, nil
	}
	claims, err := p.store.CommitAlerts(ctx, batch.Hits, batch.Resolve)
	if err != nil {
		return res, fmt.Errorf("pipeline: commit alerts: %w", err)
	}
	res.Alerts = len(claims)
	for _, c := range claims {
		if p.enqueue != nil {
			if err := p.enqueue(ctx, c.Alert); err != nil {
				return res, fmt.Errorf("pipeline: enqueue alert %s: %w", c.Alert.DedupKey, err)
			}
		}
		if c.New {
			res.NewAlerts++
			if p.onNew != nil {
				p.onNew(c.Alert)
			}
		}
	}
	return res, nil
}
