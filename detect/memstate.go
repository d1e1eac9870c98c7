package detect

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
)

// MemoryState is an in-memory iamwatch.ThresholdStore for tests and for
// `iamwatch rules test`. It is safe for concurrent use. State is lost with
// the value; the daemon uses its store instead.
type MemoryState struct {
	mu   sync.Mutex
	seen map[[2]string]bool           // (rule, event ID)
	hits map[[2]string][]iamwatch.Hit // (rule, group) → hits, sorted by time
}

var _ iamwatch.ThresholdStore = (*MemoryState)(nil)

// NewMemoryState returns an empty MemoryState.
func NewMemoryState() *MemoryState {
	return &MemoryState{seen: map[[2]string]bool{}, hits: map[[2]string][]iamwatch.Hit{}}
}

// AddHit records h once per (Rule, EventID).
func (m *MemoryState) AddHit(_ context.Context, h iamwatch.Hit) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{h.Rule, h.EventID}
	if m.seen[k] {
		return false, nil
	}
	m.seen[k] = true
	g := [2]string{h.Rule, h.Group}
	list := m.hits[g]
	i, _ := slices.BinarySearchFunc(list, h.Time, func(x iamwatch.Hit, t time.Time) int {
		if x.Time.After(t) {
			return 1
		}
		return -1 // equal times: after the existing ones, as added
	})
	m.hits[g] = slices.Insert(list, i, h)
	return true, nil
}

// Hits returns the hits of (rule, group) with from <= Time <= to, oldest first.
func (m *MemoryState) Hits(_ context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []iamwatch.Hit
	for _, h := range m.hits[[2]string{rule, group}] {
		if !h.Time.Before(from) && !h.Time.After(to) {
			out = append(out, h)
		}
	}
	return out, nil
}
