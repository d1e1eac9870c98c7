package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/pipeline"
)

// TestWalkListReadsWhileListing: a scan over a list still being walked
// reads every file once, as over the complete list; Begin is called once,
// before the first batch is stored; the list ends up holding what Expand
// lists (in walk order).
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
	rep, err := p.ReadList(ctx, l, pipeline.ReadOptions{BatchSize: 7, Begin: func(ctx context.Context) (int, error) {
		begun++
		return 0, l.Wait(ctx)
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
	if got := names(l.Inputs()); !slices.Equal(got, names(want)) {
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
