package detect

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Thresholds.
//
// A threshold rule (count N, within W) fires when N matching events of one
// group fall inside W of event time. Every matching event is recorded once
// in the ThresholdStore (AddHit by rule and event ID, so a replayed or
// duplicated event never counts twice), and so is every window that fired:
// under the series "<rule>#window", one hit per window whose Time is the
// window start. State lives only in the store, so a restart, or a second
// process sharing the store, computes the same windows.
//
// Windows. A window is [S, S+W] where S is the time of a hit. When an event
// at time T arrives:
//
//  1. If a fired window contains T (S <= T <= S+W; the latest such S), T
//     belongs to it: the alert of that window is returned again, with the
//     same DedupKey (the 5th and 6th event of a burst).
//  2. Otherwise the earliest S <= T among the hits after the end of the
//     previous fired window is sought whose window [S, S+W] contains T and
//     at least N hits; hits at or after the start of a later fired window
//     (possible when events arrive out of order) do not count. If found,
//     the window is recorded and its alert returned (the N-th event).
//  3. Otherwise, if a fired window starts within W after T (T arrived late),
//     T is added to that window's alert.
//  4. Otherwise nothing fires.
//
// So a burst raises one alert per group per window, windows of one group
// never start inside another, and processing the same events again, in any
// order, returns the same keys whenever the bursts of a group are more than
// W apart. Within a long burst, arrival order can shift where a window
// starts (the greedy choice depends on the hits seen so far); the keys stay
// stable across replays of the same order.
//
// The DedupKey of a window is "<rule>/<S as RFC 3339>/<hash of the group>".

// windowSeries names the store series holding the fired windows of a rule.
func windowSeries(rule string) string { return rule + "#window" }

// window is the fired window an event belongs to.
type window struct {
	start time.Time
	hits  []iamwatch.Hit // the hits in the window (and the late event of case 3), by time
}

// groupLocks serialises threshold evaluation per (rule, group) within one
// Engine, so concurrent events of one group cannot fire two windows.
type groupLocks struct {
	seed  maphash.Seed
	locks [64]sync.Mutex
}

func (g *groupLocks) lock(rule, group string) *sync.Mutex {
	var h maphash.Hash
	h.SetSeed(g.seed)
	h.WriteString(rule)
	h.WriteByte(0)
	h.WriteString(group)
	m := &g.locks[h.Sum64()%uint64(len(g.locks))]
	m.Lock()
	return m
}

func sortHits(hs []iamwatch.Hit) {
	slices.SortStableFunc(hs, func(a, b iamwatch.Hit) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return cmp.Compare(a.EventID, b.EventID)
	})
}

// evalThreshold records ev as a hit of (rule, group) and returns the window
// it belongs to, or nil.
func evalThreshold(ctx context.Context, store iamwatch.ThresholdStore, locks *groupLocks, rule, group string, count int, within time.Duration, ev *iamwatch.Event) (*window, error) {
	mu := locks.lock(rule, group)
	defer mu.Unlock()

	t := ev.Time
	if _, err := store.AddHit(ctx, iamwatch.Hit{Rule: rule, Group: group, EventID: ev.ID, Time: t}); err != nil {
		return nil, fmt.Errorf("threshold %s: %w", rule, err)
	}
	series := windowSeries(rule)
	anchors, err := store.Hits(ctx, series, group, t.Add(-2*within), t.Add(within))
	if err != nil {
		return nil, fmt.Errorf("threshold %s: %w", rule, err)
	}
	sortHits(anchors)
	var containing, previous, next *iamwatch.Hit
	for i := range anchors {
		a := &anchors[i]
		switch {
		case !a.Time.After(t) && !t.After(a.Time.Add(within)):
			containing = a // the latest such, anchors are sorted
		case a.Time.Before(t):
			previous = a
		case next == nil:
			next = a
		}
	}
	windowHits := func(start time.Time) ([]iamwatch.Hit, error) {
		hs, err := store.Hits(ctx, rule, group, start, start.Add(within))
		if err != nil {
			return nil, fmt.Errorf("threshold %s: %w", rule, err)
		}
		sortHits(hs)
		return hs, nil
	}
	// 1. Inside a fired window.
	if containing != nil {
		hs, err := windowHits(containing.Time)
		if err != nil {
			return nil, err
		}
		return &window{start: containing.Time, hits: hs}, nil
	}
	// 2. A new window.
	from := t.Add(-within)
	if previous != nil {
		if end := previous.Time.Add(within); !end.Before(from) {
			from = end.Add(time.Nanosecond)
		}
	}
	to := t.Add(within)
	hs, err := store.Hits(ctx, rule, group, from, to)
	if err != nil {
		return nil, fmt.Errorf("threshold %s: %w", rule, err)
	}
	sortHits(hs)
	if next != nil { // hits of a later window do not count
		hs = slices.DeleteFunc(hs, func(h iamwatch.Hit) bool { return !h.Time.Before(next.Time) })
	}
	for i, s := range hs {
		if s.Time.After(t) {
			break
		}
		if t.After(s.Time.Add(within)) {
			continue
		}
		end := s.Time.Add(within)
		j := i
		for j < len(hs) && !hs[j].Time.After(end) {
			j++
		}
		if j-i < count {
			continue
		}
		anchor := iamwatch.Hit{Rule: series, Group: group, EventID: group + "\x00" + s.Time.UTC().Format(time.RFC3339Nano), Time: s.Time}
		if _, err := store.AddHit(ctx, anchor); err != nil {
			return nil, fmt.Errorf("threshold %s: record window: %w", rule, err)
		}
		return &window{start: s.Time, hits: slices.Clone(hs[i:j])}, nil
	}
	// 3. Late for a window that fired after it.
	if next != nil {
		whs, err := windowHits(next.Time)
		if err != nil {
			return nil, err
		}
		whs = append([]iamwatch.Hit{{Rule: rule, Group: group, EventID: ev.ID, Time: t}}, whs...)
		return &window{start: next.Time, hits: whs}, nil
	}
	return nil, nil
}
