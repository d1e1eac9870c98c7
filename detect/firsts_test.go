package detect

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// changeStream is, from seed, three weeks of changes by three principals
// in five regions, in time order: each principal keeps to a region or two
// for days, then tries others.
func changeStream(t testing.TB, seed uint64) []iamwatch.Event {
	r := rand.New(rand.NewPCG(seed, 29))
	arns := []string{"", "arn:aws:sts::111122223333:assumed-role/deploy/ci-1", "arn:aws:sts::111122223333:assumed-role/ops/bob"}
	regions := []string{"us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1"}
	var evs []iamwatch.Event
	for i := range 400 {
		p := r.IntN(len(arns))
		day := r.IntN(21)
		region := regions[r.IntN(min(len(regions), 1+day/4))] // new regions come with time
		at := t0.Add(time.Duration(day)*24*time.Hour + time.Duration(r.IntN(86400))*time.Second)
		evs = append(evs, apiCall(t, fmt.Sprintf("c-%03d", i), arns[p], region, "CreateTags", false, at))
	}
	slices.SortStableFunc(evs, func(x, y iamwatch.Event) int { return x.Time.Compare(y.Time) })
	return evs
}

// splits cuts events into batches at random points (from r): a batch of
// one, of a few, or of many.
func splits(events []iamwatch.Event, r *rand.Rand) [][]iamwatch.Event {
	var out [][]iamwatch.Event
	for len(events) > 0 {
		n := min(len(events), 1+r.IntN([]int{1, 8, 120}[r.IntN(3)]))
		out = append(out, events[:n])
		events = events[n:]
	}
	return out
}

// evaluated runs batches, in order, through e into st.
func evaluated(t *testing.T, e *Engine, st *MemoryState, batches [][]iamwatch.Event) *MemoryState {
	t.Helper()
	for _, b := range batches {
		if _, err := e.Evaluate(context.Background(), st, b...); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// storedIDs returns the IDs of the events st holds, sorted.
func storedIDs(st *MemoryState) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	return slices.Sorted(maps.Keys(st.events))
}

// standing renders st's alerts but the withdrawn ones, without the
// summaries of first-seen alerts (they list the values known when raised).
func standing(t *testing.T, st *MemoryState) string {
	var b strings.Builder
	for _, a := range stored(t, st) {
		if !slices.Contains(a.Tags, iamwatch.WithdrawnTag) {
			a.Summary = ""
			fmt.Fprintf(&b, "%+v\n", a)
		}
	}
	return b.String()
}

// TestLightBaselineStoresFirstsWhateverTheBatching: a light first-seen rule
// stores the first event of each value and no other, however input in time
// order is split into batches, or interleaved value by value (a trail read
// region by region); in any order the standing alerts are the same (an
// alert withdrawn by a late older event is reinstated when a still older
// one moves the learning period back), and the firsts and every event an
// alert names are stored; and the same input again, in any order and
// batching, stores nothing more.
func TestLightBaselineStoresFirstsWhateverTheBatching(t *testing.T) {
	e := mustEngine(t, []*Rule{mustRule(t, regionRule)}, Config{})
	if !e.rules[0].light {
		t.Fatal("the rule is not light")
	}
	for seed := range uint64(3) {
		evs := changeStream(t, seed+1)
		first := map[string]iamwatch.Event{} // by principal and region
		for _, ev := range evs {
			k := fieldValue(&ev, "principal") + " " + ev.Region
			if f, ok := first[k]; !ok || ev.Time.Before(f.Time) || ev.Time.Equal(f.Time) && ev.ID < f.ID {
				first[k] = ev
			}
		}
		var firsts []string
		for _, ev := range first {
			firsts = append(firsts, ev.ID)
		}
		slices.Sort(firsts)
		ref := evaluated(t, e, NewMemoryState(), [][]iamwatch.Event{evs})
		alerts := standing(t, ref)
		if got := storedIDs(ref); !slices.Equal(got, firsts) || strings.Count(alerts, "\n") < 3 {
			t.Fatalf("seed %d, one batch: stored %q, want the first of each value %q; alerts:\n%s", seed+1, got, firsts, alerts)
		}
		byRegion := slices.Clone(evs)
		slices.SortStableFunc(byRegion, func(x, y iamwatch.Event) int { return cmp.Compare(x.Region, y.Region) })
		r := rand.New(rand.NewPCG(seed, 31))
		newest := slices.Clone(evs)
		slices.Reverse(newest)
		shuffled := slices.Clone(evs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for _, tc := range []struct {
			name    string
			batches [][]iamwatch.Event
			inOrder bool // each value's events come oldest first
		}{
			{"one by one", splits(evs, rand.New(rand.NewPCG(0, 0))), true},
			{"split", splits(evs, r), true},
			{"split again", splits(evs, r), true},
			{"region by region", splits(byRegion, r), true},
			{"newest first", splits(newest, r), false},
			{"shuffled", splits(shuffled, r), false},
		} {
			st := evaluated(t, e, NewMemoryState(), tc.batches)
			got := storedIDs(st)
			if standing(t, st) != alerts {
				t.Errorf("seed %d, %s: alerts\n%s\nwant\n%s", seed+1, tc.name, standing(t, st), alerts)
			}
			if tc.inOrder && !slices.Equal(got, firsts) {
				t.Errorf("seed %d, %s: stored %d events %q, want the %d firsts %q", seed+1, tc.name, len(got), got, len(firsts), firsts)
			}
			for _, id := range firsts {
				if _, ok := slices.BinarySearch(got, id); !ok {
					t.Errorf("seed %d, %s: the first event %s of its value is not stored", seed+1, tc.name, id)
				}
			}
			for _, a := range stored(t, st) {
				for _, id := range append([]string{a.EventID}, a.EventIDs...) {
					if _, ok := slices.BinarySearch(got, id); !ok {
						t.Errorf("seed %d, %s: alert %s names event %s, which is not stored", seed+1, tc.name, a.DedupKey, id)
					}
				}
			}
			// Seen again, in another order and batching: nothing more.
			again := tc.batches
			if tc.inOrder {
				again = splits(shuffled, r)
			}
			if evaluated(t, e, st, again); !slices.Equal(storedIDs(st), got) {
				t.Errorf("seed %d, %s: the same input again stored %d more events", seed+1, tc.name, len(storedIDs(st))-len(got))
			}
		}
	}
}
