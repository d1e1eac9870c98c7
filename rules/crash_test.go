package rules_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/pipeline"
	sampledata "github.com/iamwatch/iamwatch/sampledata"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// sampleEvents is the shipped sample in file order.
func sampleEvents(t *testing.T) []iamwatch.Event {
	t.Helper()
	fsys := sampledata.FS()
	var evs []iamwatch.Event
	err := fs.WalkDir(fsys, "AWSLogs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = cloudtrail.Decode(context.Background(), f, p, cloudtrail.Options{}, func(ev *iamwatch.Event) error {
			evs = append(evs, *ev)
			return nil
		})
		if errors.Is(err, cloudtrail.ErrSkipped) {
			return nil
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// batchesOf splits n events into random batches of at most max.
func batchesOf(n int, r *rand.Rand, max int) [][2]int {
	var out [][2]int
	for start := 0; start < n; {
		end := min(n, start+1+r.IntN(max))
		out = append(out, [2]int{start, end})
		start = end
	}
	return out
}

// storedAlerts is every alert of st, by key, with its time and events.
func storedAlerts(t *testing.T, st *sqlite.Store) string {
	t.Helper()
	as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(as, func(a, b iamwatch.Alert) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	var out strings.Builder
	for _, a := range as {
		fmt.Fprintf(&out, "%s|%s|%d|%v\n", a.DedupKey, a.Time.Format("2006-01-02T15:04:05Z"), a.Count, a.EventIDs)
	}
	return out.String()
}

// TestKilledRunEndsInTheSameAlerts: a scan killed after some batch (or
// between storing a batch's events and committing its alerts, the two
// transactions of pipeline.Process), then run again from the start with a
// different batching, leaves the same alerts, times included, as one
// uninterrupted run (review F12 saw 2 of 96 threshold alerts with another
// time; thresholds are since counted independently of order).
func TestKilledRunEndsInTheSameAlerts(t *testing.T) {
	evs := sampleEvents(t)
	eng, err := detect.New(load(t), detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	run := func(st *sqlite.Store, batches [][2]int) {
		p, err := pipeline.New(st, pipeline.Options{Detector: eng})
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range batches {
			if _, err := p.Process(ctx, evs[b[0]:b[1]]); err != nil {
				t.Fatal(err)
			}
		}
	}
	open := func() *sqlite.Store {
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	ref := open()
	run(ref, [][2]int{{0, len(evs)}})
	want := storedAlerts(t, ref)
	if n := strings.Count(want, "\n"); n < 20 || !strings.Contains(want, "console-signin-failures/") {
		t.Fatalf("the sample raised only %d alerts, or no threshold alert", n)
	}
	r := rand.New(rand.NewPCG(5, 6))
	kills := 4
	if testing.Short() {
		kills = 1
	}
	for i := range kills {
		st := open()
		first := batchesOf(len(evs), r, 300)
		k := r.IntN(len(first))
		run(st, first[:k])
		if i%2 == 1 { // killed between the events' and the alerts' transactions
			b := first[k]
			if _, err := st.PutEvents(ctx, evs[b[0]:b[1]]); err != nil {
				t.Fatal(err)
			}
		}
		run(st, batchesOf(len(evs), r, 300))
		if got := storedAlerts(t, st); got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for j := range min(len(gl), len(wl)) {
				if gl[j] != wl[j] {
					t.Errorf("kill %d after batch %d of %d: first difference\n got %s\nwant %s", i, k, len(first), gl[j], wl[j])
					break
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("kill %d: %d alerts, want %d", i, len(gl)-1, len(wl)-1)
			}
		}
	}
}
