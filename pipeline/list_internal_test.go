package pipeline

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/store/sqlite"
)

// smallWalkedLists makes walked lists hold at most held inputs and release
// them chunk at a time, for the test.
func smallWalkedLists(t *testing.T, held, chunk int) {
	t.Helper()
	h, c := maxHeld, releaseChunk
	maxHeld, releaseChunk = held, chunk
	t.Cleanup(func() { maxHeld, releaseChunk = h, c })
}

// TestWalkedListHoldsFewInputs: readers taking the inputs of a walked
// list in any interleaving get every input once, as listed, while the
// list holds a few blocks of names and directories, however many were
// listed; Len and Bytes count them all.
func TestWalkedListHoldsFewInputs(t *testing.T) {
	smallWalkedLists(t, 50, 7)
	l := &List{walking: true, walked: make(chan struct{})}
	l.grown, l.room = sync.NewCond(&l.mu), sync.NewCond(&l.mu)
	const n = 5000
	var want []string
	var size int64
	for i := range n {
		// ~230 bytes a name: names straddle blocks, and 1.1 MB of them
		// fill 18; a new directory every 9 files.
		want = append(want, fmt.Sprintf("/trail/d%04d/%s-%d.json.gz", i/9, strings.Repeat("n", 30+i%400), i))
		size += int64(i % 7)
	}
	var maxBlocks, maxDirs int
	go func() {
		for i, p := range want {
			l.mu.Lock()
			l.waitRoom(nil)
			if i%500 == 499 {
				l.add(Input{Name: p, Size: int64(i % 7)}) // a few inputs that are not OS files
			} else {
				l.addPath(p, int64(i%7))
			}
			maxBlocks, maxDirs = max(maxBlocks, len(l.names)), max(maxDirs, len(l.dirs))
			l.grown.Signal()
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.walking = false
		l.grown.Broadcast()
		l.mu.Unlock()
	}()
	got := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				in, ok := l.next(context.Background(), i)
				if !ok {
					return
				}
				got[i] = in.Name
			}
		})
	}
	wg.Wait()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("input %d is %q, want %q", i, got[i], want[i])
		}
	}
	if l.Len() != n || l.Bytes() != size {
		t.Errorf("Len %d, Bytes %d; want %d, %d", l.Len(), l.Bytes(), n, size)
	}
	// 50 names of at most 450 bytes span at most two blocks, and six
	// directories; the whole list 18 blocks and 556 directories.
	if maxBlocks > 2 || maxDirs > 8 {
		t.Errorf("the list held up to %d blocks of names and %d directories", maxBlocks, maxDirs)
	}
}

// TestWalkedListStopsWithTheRead: a scan of a walked list reads every
// file once while the walk waits for room (also when the list holds fewer
// than a chunk it releases); a read that ends early stops the walk
// waiting for it.
func TestWalkedListStopsWithTheRead(t *testing.T) {
	dir := t.TempDir()
	const n = 120
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i/7), fmt.Sprintf("f%03d.json", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		rec := fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","userName":"u"},"eventTime":%q,"eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventID":"e-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			time.Date(2026, 3, 2, 10, 0, i, 0, time.UTC).Format(time.RFC3339), i)
		if err := os.WriteFile(p, []byte(`{"Records":[`+rec+`]}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var p *Pipeline
	for _, c := range []struct{ held, chunk int }{{4, 100}, {10, 3}} {
		smallWalkedLists(t, c.held, c.chunk)
		st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "iamwatch.db"), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		if p, err = New(st, Options{}); err != nil {
			t.Fatal(err)
		}
		l, err := WalkList(ctx, []string{dir}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := p.ReadList(ctx, l, ReadOptions{BatchSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Inputs != n || rep.Stored != n || rep.InputsRejected != 0 || l.Len() != n {
			t.Errorf("holding %d: read %d files (%d rejected), stored %d, listed %d; want %d, 0, %d, %d", c.held, rep.Inputs, rep.InputsRejected, rep.Stored, l.Len(), n, n, n)
		}
	}

	// A read whose context has ended takes nothing: the walk, whose own
	// context goes on, waits for room after 10 files until the read is over.
	l, err := WalkList(ctx, []string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ended, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.ReadList(ended, l, ReadOptions{}); err == nil {
		t.Error("a read with an ended context: no error")
	}
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	if err := l.Wait(wait); err != nil {
		t.Fatalf("the walk went on after the read: %v", err)
	}
	if l.Len() >= n {
		t.Errorf("the walk listed %d files with no reader", l.Len())
	}
}

// TestWalkedListCount: a walk waiting for room (no reader) has listed
// only the files it holds, and Count lists its arguments again to give
// the total, overlaps left out as the walk leaves them; with its context
// ended Count gives -1, and for a list not walked its length.
func TestWalkedListCount(t *testing.T) {
	smallWalkedLists(t, 10, 3)
	dir := t.TempDir()
	const n = 60
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%4), fmt.Sprintf("f%02d.json", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "d1"), dir, filepath.Join(dir, "d2", "f02.json")}
	l, err := WalkList(t.Context(), args, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		l.abandon()
		_ = l.Wait(context.Background()) // over before maxHeld is restored
	}()
	for l.Len() < maxHeld {
		time.Sleep(time.Millisecond)
	}
	if got := l.Count(t.Context()); got != n || l.Len() > maxHeld+1 || !l.Walking() {
		t.Errorf("Count %d with %d listed, walking %v; want %d, at most %d listed, walking", got, l.Len(), l.Walking(), n, maxHeld+1)
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	if got := l.Count(ended); got != -1 {
		t.Errorf("Count with an ended context: %d, want -1", got)
	}
	e, err := ExpandList(args, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Count(t.Context()); got != n || e.Len() != n {
		t.Errorf("an expanded list: Count %d, Len %d; want %d", got, e.Len(), n)
	}
}
