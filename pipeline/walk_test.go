package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/pipeline"
)

// TestWalkListReadsWhileListing: a scan over a list still being walked
// reads every file once, as over the complete list; Begin is called once,
// before the first batch is stored; the list ends up holding what Expand
// lists (in walk order). The trail is smaller than what a walked list
// holds: Begin can wait for the walk.
func TestWalkListReadsWhileListing(t *testing.T) {
	dir := t.TempDir()
	n := 0
	for d := range 20 {
		for f := range 10 {
			writeFile(t, dir, fmt.Sprintf("d%02d/f%02d.json", d, f),
				`{"Records":[`+record(fmt.Sprintf("e%d", n), "iam.amazonaws.com", "CreateUser", "IAMUser", t0.Add(time.Duration(n)*time.Second))+`]}`)
			n++
		}
	}
	writeFile(t, dir, "a-b.json", "not json") // sorts after "a/" in a walk, before it by path
	ctx := context.Background()
	l, err := pipeline.WalkList(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	begun := 0
	rep, err := p.ReadList(ctx, l, pipeline.ReadOptions{BatchSize: 7, Begin: func(ctx context.Context) (int, bool, error) {
		begun++
		return 0, true, l.Wait(ctx)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Inputs != n || rep.InputsRejected != 1 || rep.Stored != n || begun != 1 {
		t.Errorf("read %d files (%d rejected), stored %d, Begin called %d times; want %d, 1, %d, 1", rep.Inputs, rep.InputsRejected, rep.Stored, begun, n, n)
	}
	if l.Walking() {
		t.Error("still walking after the read")
	}
	want, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	names := func(ins []pipeline.Input) []string {
		var s []string
		for _, in := range ins {
			s = append(s, in.Name)
		}
		slices.Sort(s)
		return s
	}
	if l.Len() != len(want) {
		t.Errorf("walked %d inputs, Expand %d", l.Len(), len(want))
	}
	// A walk no one reads holds every file (fewer than a walked list
	// holds at most): the ones Expand lists.
	unread, err := pipeline.WalkList(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := unread.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(unread.Inputs()); !slices.Equal(got, names(want)) {
		t.Errorf("walked %d inputs, Expand %d: %q", len(got), len(want), got)
	}
}

// TestWalkListStopsWithItsContext: a walk whose context ended lists
// nothing more, and readers waiting for it go on.
func TestWalkListStopsWithItsContext(t *testing.T) {
	dir := t.TempDir()
	for f := range 50 {
		writeFile(t, dir, fmt.Sprintf("d/f%02d.json", f), "{}")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l, err := pipeline.WalkList(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Len() != 0 {
		t.Errorf("a cancelled walk listed %d files", l.Len())
	}
	if _, err := pipeline.WalkList(ctx, []string{filepath.Join(dir, "nothing*")}, nil); err == nil {
		t.Error("a glob that matches nothing: no error")
	}
}

// TestBeginAskedUntilDone: a Begin that cannot tell yet is asked again
// each time the writer gathers more events, the events gathered meanwhile
// are stored at the batch size given, and once it is done the batch size
// it returns applies and it is asked no more.
func TestBeginAskedUntilDone(t *testing.T) {
	dir := t.TempDir()
	var inputs []string
	n := 0
	for f := range 3 {
		var recs []string
		for range 300 {
			recs = append(recs, record(fmt.Sprintf("e%d", n), "iam.amazonaws.com", "CreateUser", "IAMUser", t0.Add(time.Duration(n)*time.Second)))
			n++
		}
		inputs = append(inputs, writeFile(t, dir, fmt.Sprintf("f%d.json", f), `{"Records":[`+strings.Join(recs, ",")+`]}`))
	}
	l, err := pipeline.Expand(inputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		asked    int
		before   []int // events stored when Begin was asked
		after    []int // events per batch once Begin was done
		stored   int
		doneSeen bool
	)
	rep, err := p.Read(t.Context(), l, pipeline.ReadOptions{
		Workers: 1, BatchSize: 100,
		Begin: func(context.Context) (int, bool, error) {
			if doneSeen {
				t.Error("Begin asked after it was done")
			}
			asked++
			before = append(before, stored)
			if asked < 3 {
				return 0, false, nil
			}
			doneSeen = true
			return 500, true, nil
		},
		Progress: func(r pipeline.Report) {
			if doneSeen {
				after = append(after, r.Stored-stored)
			} else if r.Stored-stored > 100 {
				t.Errorf("a batch of %d events before Begin was done, want at most 100", r.Stored-stored)
			}
			stored = r.Stored
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != n || asked != 3 {
		t.Fatalf("stored %d of %d events, Begin asked %d times (at %v stored); want all, 3", rep.Stored, n, asked, before)
	}
	if !slices.IsSorted(before) || before[0] != 0 || before[2] == 0 {
		t.Errorf("Begin asked with %v events stored, want first at 0 and later ones after batches were stored", before)
	}
	if len(after) == 0 || slices.Max(after) <= 100 {
		t.Errorf("batches once Begin was done: %v, want one above the first batch size (100)", after)
	}
}
