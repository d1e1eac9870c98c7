// Package ordertest checks that detection does not depend on the order in
// which events arrive: it runs events through an engine in given batches and
// renders the alerts that stand at the end, so that two orders can be
// compared as text.
package ordertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// Catalog returns an engine of the built-in catalog with the default
// settings: what scan runs.
func Catalog(t testing.TB) *detect.Engine {
	t.Helper()
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// Standing runs events through eng against a fresh MemoryState in the
// given batches ([start, end) pairs) and returns the alerts standing at
// the end, sorted by key, one a line.
//
// Two things are left out because they legitimately follow the order: an
// alert a late, older event withdrew, and the summary of a first-seen
// alert, which lists the values known when it was raised
// (detect/baseline.go).
func Standing(t testing.TB, eng *detect.Engine, events []iamwatch.Event, batches [][2]int) string {
	t.Helper()
	st := detect.NewMemoryState()
	for _, b := range batches {
		if _, err := eng.Evaluate(context.Background(), st, events[b[0]:b[1]]...); err != nil {
			t.Fatal(err)
		}
	}
	as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return Render(as, nil)
}

// Render returns the standing alerts of as, sorted by key, one a line, as
// Standing does; it leaves out the alerts that name an event of skip.
func Render(as []iamwatch.Alert, skip map[string]bool) string {
	as = slices.Clone(as)
	slices.SortFunc(as, func(a, b iamwatch.Alert) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	var out strings.Builder
	for _, a := range as {
		if slices.Contains(a.Tags, iamwatch.WithdrawnTag) || slices.ContainsFunc(a.EventIDs, func(id string) bool { return skip[id] }) || skip[a.EventID] {
			continue
		}
		if a.Group != "" && strings.Contains(a.DedupKey, "/first/") {
			a.Summary = ""
		}
		fmt.Fprintf(&out, "%+v\n", a)
	}
	return out.String()
}

// Shuffle returns events in a random order and a random split of them
// into batches ([start, end) pairs) of at most maxBatch events.
func Shuffle(events []iamwatch.Event, r *rand.Rand, maxBatch int) ([]iamwatch.Event, [][2]int) {
	out := slices.Clone(events)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	var batches [][2]int
	for start := 0; start < len(out); {
		end := min(len(out), start+1+r.IntN(maxBatch))
		batches = append(batches, [2]int{start, end})
		start = end
	}
	return out, batches
}

// NewestFirst returns events reversed, one event a batch: the order
// LookupEvents pages come in, read as a live source would deliver them.
func NewestFirst(events []iamwatch.Event) ([]iamwatch.Event, [][2]int) {
	rev := slices.Clone(events)
	slices.Reverse(rev)
	one := make([][2]int, len(rev))
	for i := range rev {
		one[i] = [2]int{i, i + 1}
	}
	return rev, one
}

// FirstDifference describes the first line where got and want differ.
func FirstDifference(got, want string) string {
	gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
	for j := range min(len(gl), len(wl)) {
		if gl[j] != wl[j] {
			return fmt.Sprintf("line %d:\n got %s\nwant %s", j+1, gl[j], wl[j])
		}
	}
	return fmt.Sprintf("%d alert lines, want %d", len(gl)-1, len(wl)-1)
}
