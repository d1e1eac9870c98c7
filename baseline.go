package iamwatch

import (
	"context"
	"time"
)

// BaselineEntry is what a first-seen rule remembers of one value (a
// country, an ASN, a region) of one identity: when, in event time, it was
// first and last seen. Value "" is the identity's own entry: its first and
// last event under the rule, whatever the value (the learning period runs
// from its First).
//
// A baseline holds one entry per distinct value of an identity, never one
// per event, so it stays bounded however long the history.
type BaselineEntry struct {
	Rule       string
	Identity   string
	Value      string
	First      time.Time // event time of the earliest event with Value.
	FirstEvent string    // its event ID (ties in time: the smaller ID).
	Last       time.Time // event time of the latest.
}

// Earlier reports whether (t, id) comes before e's first event: earlier in
// event time, or as early with a smaller event ID. Merging with it is
// commutative, so the entries do not depend on the order events came in.
func (e BaselineEntry) Earlier(t time.Time, id string) bool {
	if c := t.Compare(e.First); c != 0 {
		return c < 0
	}
	return id < e.FirstEvent
}

// BaselineStore keeps the baselines of first-seen rules where every
// process sees them. Both stores implement it; CommitAlerts' StateView
// does too, so a resolver reads and merges within the commit.
type BaselineStore interface {
	// Baseline returns the entries of (rule, identity), the identity's own
	// entry (Value "") among them, in no particular order.
	Baseline(ctx context.Context, rule, identity string) ([]BaselineEntry, error)
	// MergeBaseline merges entries into the stored ones of their (Rule,
	// Identity, Value): First (with FirstEvent) becomes the earlier, Last
	// the later; an entry not stored is added. Merging is idempotent and
	// commutative.
	MergeBaseline(ctx context.Context, entries []BaselineEntry) error
}
