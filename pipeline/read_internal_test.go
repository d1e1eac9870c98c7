package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestTailingBatchSize: full batches while the list is walked; until a
// full batch was received, batches from firstBatch on, each as large as
// all before it; then half the events the inputs not read should carry
// (one being read counts as half read), and reader batches once all are
// read.
func TestTailingBatchSize(t *testing.T) {
	l := ListOf([]Input{{Name: "a", Size: 600}, {Name: "b", Size: 400}})
	tl := &tailing{inputs: l}
	for _, c := range []struct {
		done     int64
		received int
		want     int
	}{
		{0, 0, firstBatch},
		{500, 0, firstBatch},
		{500, firstBatch - 1, firstBatch},     // less than a batch so far: growing batches
		{500, firstBatch + 1, firstBatch + 1}, // as large as all before
		{500, 7999, 7999},
		{500, 20000, 8000},                        // 20,000 left: full batches
		{500, 9000, 9000/2 + readerBatch},         // 9,000 left
		{900, 9000, 9000*100/900/2 + readerBatch}, // 1,000 left
		{1000, 9000, readerBatch},                 // every input is read
	} {
		tl.handed.Store(c.done)
		tl.done.Store(c.done)
		if got := tl.batchSize(c.received, 8000); got != c.want {
			t.Errorf("read %d bytes, received %d events: batch %d, want %d", c.done, c.received, got, c.want)
		}
	}
	// Both inputs handed out, neither read: each counts as half read.
	tl.handed.Store(1000)
	tl.done.Store(0)
	if got, want := tl.batchSize(9000, 8000), 9000/2+readerBatch; got != want {
		t.Errorf("both inputs being read, 9,000 events received: batch %d, want %d", got, want)
	}
	w := &List{walking: true}
	if got := (&tailing{inputs: w}).batchSize(9000, 8000); got != 8000 {
		t.Errorf("while walking: batch %d, want 8000", got)
	}
}

// TestListNextWaitsForTheWalk: next waits for an input the walk has not
// listed yet, returns it once listed, and false once the walk is over or
// the reader's context ends.
func TestListNextWaitsForTheWalk(t *testing.T) {
	l := &List{walking: true, walked: make(chan struct{})}
	l.grown = sync.NewCond(&l.mu)
	got := make(chan string, 2)
	go func() {
		for i := 0; ; i++ {
			in, ok := l.next(context.Background(), i)
			if !ok {
				close(got)
				return
			}
			got <- in.Name
		}
	}()
	select {
	case name := <-got:
		t.Fatalf("next returned %q before anything was listed", name)
	case <-time.After(20 * time.Millisecond):
	}
	l.mu.Lock()
	l.addPath("/x/a.json", 1)
	l.grown.Signal()
	l.mu.Unlock()
	if name := <-got; name != "/x/a.json" {
		t.Fatalf("next returned %q", name)
	}
	l.mu.Lock()
	l.walking = false
	l.grown.Broadcast()
	l.mu.Unlock()
	if name, ok := <-got; ok {
		t.Fatalf("next returned %q after the walk", name)
	}

	w := &List{walking: true}
	w.grown = sync.NewCond(&w.mu)
	ctx, cancel := context.WithCancel(context.Background())
	stop := context.AfterFunc(ctx, w.wake)
	defer stop()
	done := make(chan bool)
	go func() {
		_, ok := w.next(ctx, 0)
		done <- ok
	}()
	cancel()
	if <-done {
		t.Error("next returned an input after its context ended")
	}
}

// TestListNamesAcrossBlocks: names fill several blocks, some straddling
// two, and each comes back as it was given, after sorting too.
func TestListNamesAcrossBlocks(t *testing.T) {
	var l List
	var want []string
	for i := 0; l.namesLen() < 3*nameBlock+100; i++ {
		p := fmt.Sprintf("/d%d/%s-%d", i%3, strings.Repeat("x", i%250), i)
		want = append(want, p)
		l.addPath(p, int64(i))
	}
	if len(l.names) != 4 {
		t.Fatalf("%d blocks of names", len(l.names))
	}
	check := func(want []string) {
		t.Helper()
		for i, p := range want {
			if in := l.At(i); in.Name != p {
				t.Fatalf("input %d of %d is %q, want %q", i, len(want), in.Name, p)
			}
		}
	}
	check(want)
	l.sortFrom(10)
	slices.Sort(want[10:])
	check(want)
	if l.Len() != len(want) || l.namesLen() > 3*nameBlock+400 {
		t.Errorf("%d inputs, %d bytes of names after sorting", l.Len(), l.namesLen())
	}
}
