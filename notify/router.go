package notify

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Router decides which sinks an alert goes to and puts the deliveries in the
// outbox. It is safe for concurrent use.
type Router struct {
	routes []Route
	all    []string // every sink, for a configuration without routes.
	digest *digestPolicy
	outbox iamwatch.Outbox
	now    func() time.Time
	wake   func()
}

// NewRouter returns a router over cfg's routes (cfg must be valid). With no
// routes, every alert goes to every sink. now stamps the deliveries; wake,
// when not nil, is called after an enqueue (pass [Dispatcher.Wake]).
func NewRouter(cfg Config, outbox iamwatch.Outbox, now func() time.Time, wake func()) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("notify: router: %w", err)
	}
	if outbox == nil || now == nil {
		return nil, fmt.Errorf("notify: router: outbox and clock are required")
	}
	return &Router{routes: slices.Clone(cfg.Routes), all: cfg.SinkNames(), digest: cfg.Digest.policy(), outbox: outbox, now: now, wake: wake}, nil
}

// Sinks returns the sinks a goes to, sorted, without repeats.
func (r *Router) Sinks(a *iamwatch.Alert) []string {
	if len(r.routes) == 0 {
		return slices.Clone(r.all)
	}
	var out []string
	for i := range r.routes {
		if r.routes[i].Match(a) {
			out = append(out, r.routes[i].Sinks...)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Enqueue adds a's deliveries to the outbox and returns the sinks. The alert
// must already be stored (claimed) under a.DedupKey: the outbox keeps the
// key, not the alert. Enqueueing the same alert again changes nothing.
//
// An alert the configured ActorDigest holds is due when its digest is (the end
// of its actor's period plus the delay), not now: the dispatcher sends the
// held alerts of one actor and period, due together, as one message.
func (r *Router) Enqueue(ctx context.Context, a iamwatch.Alert) ([]string, error) {
	sinks := r.Sinks(&a)
	if len(sinks) == 0 {
		return nil, nil
	}
	due := r.now()
	if r.digest.holds(&a) {
		due = r.digest.due(&a, due)
	}
	if err := r.outbox.Enqueue(ctx, a.DedupKey, sinks, due); err != nil {
		return nil, fmt.Errorf("notify: enqueue alert %s: %w", a.DedupKey, err)
	}
	if r.wake != nil {
		r.wake()
	}
	return sinks, nil
}
