package detect

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// thin is what a reader does with events: those e's Thinner wants
// (keep: the filter's), thinned.
func thin(e *Engine, events []iamwatch.Event, keep func(*iamwatch.Event) bool) []iamwatch.Event {
	th := e.Thinner()
	wanted := events[:0]
	for i := range events {
		if th.Note(&events[i], keep(&events[i])) {
			wanted = append(wanted, events[i])
		}
	}
	return th.Thin(wanted)
}

// TestThinChangesNothing: a batch made of reader batches that a Thinner has
// thinned gives the baselines, the stored events and the alerts the whole
// batch gives, in any order, with far fewer events; what keep keeps stays.
func TestThinChangesNothing(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, regionRule)}, Config{})
	for seed := range uint64(4) {
		evs := changeStream(t, seed+1)
		r := rand.New(rand.NewPCG(seed, 31))
		r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
		kept := func(ev *iamwatch.Event) bool { return strings.HasSuffix(ev.ID, "7") }
		var thinned []iamwatch.Event
		for c := range slices.Chunk(evs, 200) {
			thinned = append(thinned, thin(e, slices.Clone(c), kept)...)
		}
		if len(thinned)*2 > len(evs) {
			t.Errorf("seed %d: %d of %d events left: want under half", seed+1, len(thinned), len(evs))
		}
		for i := range evs {
			if kept(&evs[i]) && !slices.ContainsFunc(thinned, func(ev iamwatch.Event) bool { return ev.ID == evs[i].ID }) {
				t.Errorf("seed %d: %s, which keep keeps, was thinned", seed+1, evs[i].ID)
			}
		}
		whole := evaluated(t, e, NewMemoryState(), [][]iamwatch.Event{evs})
		thin := evaluated(t, e, NewMemoryState(), [][]iamwatch.Event{thinned})
		if got, want := fmt.Sprint(thin.base), fmt.Sprint(whole.base); got != want {
			t.Errorf("seed %d: baselines differ:\n got %s\nwant %s", seed+1, got, want)
		}
		if got, want := storedIDs(thin), storedIDs(whole); !slices.Equal(got, want) {
			t.Errorf("seed %d: stored %v, want %v", seed+1, got, want)
		}
		if got, want := fmt.Sprint(stored(t, thin)), fmt.Sprint(stored(t, whole)); got != want || len(stored(t, whole)) == 0 {
			t.Errorf("seed %d: alerts differ (or none):\n got %s\nwant %s", seed+1, got, want)
		}
	}
	// A light threshold rule counts every event it matches: none is thinned.
	count := mustEngine(t, []*Rule{mustRule(t, regionRule), mustRule(t, fmt.Sprintf(repeatsRule, ""))}, Config{})
	evs := readStream(t, 1)
	if got := thin(count, slices.Clone(evs), func(*iamwatch.Event) bool { return false }); len(got) != len(evs) {
		t.Errorf("with a light threshold rule over them, %d of %d events left", len(got), len(evs))
	}
	// A reader's Thinner wants what Interested wants.
	mixed := append(append(changeStream(t, 9), readStream(t, 2)...),
		createUser(t, "cu-1", "arn:aws:iam::111122223333:user/alice", "198.51.100.7", "aws-cli/2", t0))
	for i, eng := range []*Engine{e, count, mustEngine(t, []*Rule{mustRule(t, regionRule), mustRule(t, singleRule)}, Config{})} {
		th, wanted := eng.Thinner(), 0
		for j := range mixed {
			got, want := th.Note(&mixed[j], false), eng.Interested(&mixed[j])
			if got != want {
				t.Errorf("engine %d, %s: Note %v, Interested %v", i, mixed[j].ID, got, want)
			}
			if got {
				wanted++
			}
		}
		if wanted == 0 || wanted == len(mixed) {
			t.Errorf("engine %d wants %d of %d events: want some", i, wanted, len(mixed))
		}
	}
}
