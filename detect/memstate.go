package detect

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
)

// MemoryState keeps events, threshold hits and alerts in memory, with the
// semantics of the stores (idempotent by event ID, by (rule, event ID) and
// by dedup key; alerts merged by iamwatch.Merge), for tests and for
// `iamwatch rules test`. It is safe for concurrent use; CommitAlerts runs
// as one critical section. State is lost with the value.
type MemoryState struct {
	mu     sync.Mutex
	events map[string]iamwatch.Event
	seen   map[[2]string]bool           // (rule, event ID)
	hits   map[[2]string][]iamwatch.Hit // (rule, group) → hits, as added
	alerts map[string]iamwatch.Alert
	base   map[[2]string]map[string]iamwatch.BaselineEntry // (rule, identity) → value → entry
}

var (
	_ State                   = (*MemoryState)(nil)
	_ iamwatch.ThresholdStore = (*MemoryState)(nil)
	_ iamwatch.BaselineStore  = (*MemoryState)(nil)
)

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState {
	return &MemoryState{events: map[string]iamwatch.Event{}, seen: map[[2]string]bool{},
		hits: map[[2]string][]iamwatch.Hit{}, alerts: map[string]iamwatch.Alert{},
		base: map[[2]string]map[string]iamwatch.BaselineEntry{}}
}

// PutEvents stores the events not stored yet (by ID).
func (m *MemoryState) PutEvents(_ context.Context, events []iamwatch.Event) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, ev := range events {
		if _, ok := m.events[ev.ID]; !ok {
			m.events[ev.ID] = ev
			n++
		}
	}
	return n, nil
}

// CommitAlerts records hits, resolves and claims, as the stores do.
func (m *MemoryState) CommitAlerts(ctx context.Context, hits []iamwatch.Hit, resolve iamwatch.Resolver) ([]iamwatch.Claim, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := map[[2]string]bool{}
	for _, h := range hits {
		k := [2]string{h.Rule, h.EventID}
		if !m.seen[k] {
			m.seen[k], added[k] = true, true
			g := [2]string{h.Rule, h.Group}
			m.hits[g] = append(m.hits[g], h)
		}
	}
	alerts, err := resolve(ctx, memView{m, added})
	if err != nil {
		return nil, err
	}
	out := make([]iamwatch.Claim, len(alerts))
	for i, a := range alerts {
		stored, ok := m.alerts[a.DedupKey]
		if !ok {
			m.alerts[a.DedupKey] = a
			out[i] = iamwatch.Claim{Alert: a, New: true}
			continue
		}
		kept, _ := iamwatch.Merge(stored, a)
		m.alerts[a.DedupKey] = kept
		out[i] = iamwatch.Claim{Alert: kept}
	}
	return out, nil
}

// Alerts returns the alerts matching f's Key, Rule and Group, newest first.
func (m *MemoryState) Alerts(_ context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []iamwatch.Alert
	for _, a := range m.alerts {
		if (f.Key == "" || a.DedupKey == f.Key) && (f.Rule == "" || a.Rule == f.Rule) && (f.Group == "" || a.Group == f.Group) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b iamwatch.Alert) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.DedupKey, a.DedupKey)
	})
	return out, nil
}

// Hits returns the hits of (rule, group) with from <= Time <= to, oldest first.
func (m *MemoryState) Hits(_ context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hitsLocked(rule, group, from, to), nil
}

func (m *MemoryState) hitsLocked(rule, group string, from, to time.Time) []iamwatch.Hit {
	var out []iamwatch.Hit
	for _, h := range m.hits[[2]string{rule, group}] {
		if !h.Time.Before(from) && !h.Time.After(to) {
			out = append(out, h)
		}
	}
	sortHits(out)
	return out
}

// memView is the StateView CommitAlerts gives its resolver (m.mu held).
type memView struct {
	m     *MemoryState
	added map[[2]string]bool
}

func (v memView) Added(rule, eventID string) (bool, bool) {
	return v.added[[2]string{rule, eventID}], true
}

func (v memView) Alert(_ context.Context, key string) (iamwatch.Alert, bool, error) {
	a, ok := v.m.alerts[key]
	return a, ok, nil
}

func (v memView) Hits(_ context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	return v.m.hitsLocked(rule, group, from, to), nil
}

func (v memView) FirstHits(_ context.Context, rule, group string, from, to time.Time, n int) ([]iamwatch.Hit, error) {
	hs := v.m.hitsLocked(rule, group, from, to)
	return hs[:min(len(hs), max(n, 0))], nil
}

func (v memView) Event(_ context.Context, id string, _ time.Time) (iamwatch.Event, bool, error) {
	ev, ok := v.m.events[id]
	return ev, ok, nil
}

// EventCount returns how many events are stored.
func (m *MemoryState) EventCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

// Baseline returns the entries of (rule, identity).
func (m *MemoryState) Baseline(_ context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.baselineLocked(rule, identity), nil
}

// MergeBaseline merges entries (see iamwatch.BaselineStore).
func (m *MemoryState) MergeBaseline(_ context.Context, entries []iamwatch.BaselineEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mergeBaselineLocked(entries)
	return nil
}

func (m *MemoryState) baselineLocked(rule, identity string) []iamwatch.BaselineEntry {
	var out []iamwatch.BaselineEntry
	for _, e := range m.base[[2]string{rule, identity}] {
		out = append(out, e)
	}
	return out
}

func (m *MemoryState) mergeBaselineLocked(entries []iamwatch.BaselineEntry) {
	for _, e := range entries {
		k := [2]string{e.Rule, e.Identity}
		if m.base[k] == nil {
			m.base[k] = map[string]iamwatch.BaselineEntry{}
		}
		m.base[k][e.Value] = mergeEntry(m.base[k][e.Value], e)
	}
}

// mergeEntry merges add into old (zero: none yet): the earlier first, the
// later last.
func mergeEntry(old, add iamwatch.BaselineEntry) iamwatch.BaselineEntry {
	if old.FirstEvent == "" {
		add.Last = maxTime(add.Last, add.First)
		return add
	}
	if old.Earlier(add.First, add.FirstEvent) {
		old.First, old.FirstEvent = add.First, add.FirstEvent
	}
	old.Last = maxTime(old.Last, add.Last)
	return old
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func (v memView) Baseline(_ context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	return v.m.baselineLocked(rule, identity), nil
}

func (v memView) MergeBaseline(_ context.Context, entries []iamwatch.BaselineEntry) error {
	v.m.mergeBaselineLocked(entries)
	return nil
}
