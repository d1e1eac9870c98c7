package pipeline_test

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// corpus points at a folder of real CloudTrail samples written by others
// (../shared/corpus beside the project); make corpus-check passes it.
var corpus = flag.String("corpus", "", "folder of real CloudTrail samples (skipped when empty)")

// TestCorpusScanOrderIndependent reads each dataset of the corpus as scan
// does (the files, the built-in catalog, the default keep filter, a SQLite
// store) in file order, then in reversed and shuffled file orders with
// small batches and one or two readers, and wants the same standing
// alerts; read a second time into the same store, a dataset raises
// nothing new and changes no alert. The stored events, threshold hits and
// roll-ups are the same too: an event kept only as a light rule's hit or
// a first-seen candidate, which a later batch superseded, does not stay.
// Alerts about an event ID that names two different records are left out:
// which record is stored, and so what its alert says, follows the order,
// and the scan reports the conflict.
func TestCorpusScanOrderIndependent(t *testing.T) {
	names, datasets := corpusDatasets(t)
	eng := ordertest.Catalog(t)
	r := rand.New(rand.NewPCG(7, 8))
	compared := 0
	for _, name := range names {
		inputs := datasets[name]
		skip := conflictingIDs(t, inputs)
		read := func(st *sqlite.Store, in []pipeline.Input, opt pipeline.ReadOptions) (pipeline.Report, string) {
			t.Helper()
			return readStanding(t, eng, st, in, opt, skip)
		}
		st := openStore(t)
		first, want := read(st, inputs, pipeline.ReadOptions{})
		ref := openStore(t)
		read(ref, inputs, pipeline.ReadOptions{})
		if again, got := read(st, inputs, pipeline.ReadOptions{}); again.NewAlerts != 0 || got != want {
			t.Errorf("%s read again: %d new alerts, changed: %v", name, again.NewAlerts, got != want)
		}
		if d := stateDiff(t, st, ref, skip); d != "" {
			t.Errorf("%s read again: the stored state changed, first at %s", name, d)
		}
		rev := slices.Clone(inputs)
		slices.Reverse(rev)
		rst := openStore(t)
		if _, got := read(rst, rev, pipeline.ReadOptions{Workers: 1, BatchSize: 7}); got != want {
			t.Errorf("%s, files in reverse, batches of 7: alerts differ, first at %s", name, ordertest.FirstDifference(got, want))
		}
		if d := stateDiff(t, rst, ref, skip); d != "" {
			t.Errorf("%s, files in reverse, batches of 7: the stored state differs, first at %s", name, d)
		}
		for i := range 3 {
			shuffled := slices.Clone(inputs)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			opt := pipeline.ReadOptions{Workers: 2, BatchSize: 1 + r.IntN(200)}
			sst := openStore(t)
			if _, got := read(sst, shuffled, opt); got != want {
				t.Errorf("%s, shuffled %d, batches of %d: alerts differ, first at %s", name, i, opt.BatchSize, ordertest.FirstDifference(got, want))
			}
			if d := stateDiff(t, sst, ref, skip); d != "" {
				t.Errorf("%s, shuffled %d, batches of %d: the stored state differs, first at %s", name, i, opt.BatchSize, d)
			}
		}
		n := strings.Count(want, "\n")
		compared += n
		t.Logf("%s: %d files, %d records, %d standing alerts (%d conflicting IDs left out), %d events stored; the same alerts, events and threshold hits in reverse and 3 shuffled orders, and again",
			name, len(inputs), first.Records, n, len(skip), first.Stored)
	}
	if compared == 0 {
		t.Fatal("the corpus raised no alert: nothing was compared")
	}
}

// corpusDatasets returns the inputs of each dataset (top-level folder) of
// the -corpus folder, by name, in name order. It skips the test when there
// is no corpus.
func corpusDatasets(t *testing.T) (names []string, inputs map[string][]pipeline.Input) {
	t.Helper()
	if *corpus == "" {
		t.Skip("no -corpus folder given")
	}
	dirs, err := os.ReadDir(*corpus)
	if err != nil {
		t.Skipf("corpus: %v", err)
	}
	inputs = map[string][]pipeline.Input{}
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		in, err := pipeline.Expand([]string{filepath.Join(*corpus, d.Name())}, nil)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, d.Name())
		inputs[d.Name()] = in
	}
	return names, inputs
}

// readStanding reads in into st as scan does (eng, the default keep
// filter) and returns the report and the standing alerts, those naming an
// event of skip left out (ordertest.Render).
func readStanding(t *testing.T, eng pipeline.Detector, st pipeline.Store, in []pipeline.Input, opt pipeline.ReadOptions, skip map[string]bool) (pipeline.Report, string) {
	t.Helper()
	p, err := pipeline.New(st, pipeline.Options{Detector: eng, Filter: pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), in, opt)
	if err != nil {
		t.Fatal(err)
	}
	as, err := st.(iamwatch.AlertStore).Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return rep, ordertest.Render(as, skip)
}

// conflictingIDs returns the event IDs that name two different records
// among inputs.
func conflictingIDs(t *testing.T, inputs []pipeline.Input) map[string]bool {
	t.Helper()
	raw := map[string][]byte{}
	out := map[string]bool{}
	for _, in := range inputs {
		if in.Open == nil {
			continue
		}
		rc, err := in.Open()
		if err != nil {
			continue
		}
		_, _ = cloudtrail.Decode(context.Background(), rc, in.Name, cloudtrail.Options{}, func(ev *iamwatch.Event) error {
			if r, ok := raw[ev.ID]; ok && !bytes.Equal(r, ev.Raw) {
				out[ev.ID] = true
			} else if !ok {
				raw[ev.ID] = bytes.Clone(ev.Raw)
			}
			return nil
		})
		rc.Close()
	}
	return out
}

// stateDiff compares the events and threshold hits two stores hold, and
// returns the first difference ("" when none). The events of skip are left
// out, and those a withdrawn alert names in either store: an alert raised
// out of order, then withdrawn by an older event, keeps its event (and
// ordertest.Render leaves the alert out).
func stateDiff(t *testing.T, got, want *sqlite.Store, skip map[string]bool) string {
	t.Helper()
	skip = maps.Clone(skip)
	if skip == nil {
		skip = map[string]bool{}
	}
	for _, st := range []*sqlite.Store{got, want} {
		as, err := st.Alerts(context.Background(), iamwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			if a.Withdrawn() {
				skip[a.EventID] = true
			}
		}
	}
	g, w := storedState(t, got, skip), storedState(t, want, skip)
	if g == w {
		return ""
	}
	return ordertest.FirstDifference(g, w)
}

// storedState renders the events and threshold hits st holds, one sorted
// line each, the events of skip left out.
func storedState(t *testing.T, st *sqlite.Store, skip map[string]bool) string {
	t.Helper()
	var lines []string
	for _, q := range []string{
		"SELECT 'event ' || event_id, event_id FROM events",
		"SELECT 'hit ' || rule || ' ' || grp || ' ' || time || ' ' || value || ' ' || event_id, event_id FROM threshold_hits",
	} {
		rows, err := st.DB().QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line, id string
			if err := rows.Scan(&line, &id); err != nil {
				t.Fatal(err)
			}
			if !skip[id] {
				lines = append(lines, line)
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}
