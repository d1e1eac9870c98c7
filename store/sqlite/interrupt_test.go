package sqlite

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// The child side of TestKilledMidWrite: with these set, the test binary
// writes batches into the database in a loop until it is killed.
const (
	childEnvDB    = "IAMWATCH_SQLITE_TEST_CHILD_DB"
	childBatches  = 120
	childBatchLen = 250
)

var interruptStart = time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)

func interruptBatch(i int) []iamwatch.Event {
	return testEvents(fmt.Sprintf("k%04d", i), interruptStart.Add(time.Duration(i)*time.Hour), childBatchLen)
}

func TestMain(m *testing.M) {
	if path := os.Getenv(childEnvDB); path != "" {
		os.Exit(writeUntilKilled(path))
	}
	os.Exit(m.Run())
}

func writeUntilKilled(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range childBatches {
		if _, err := s.PutEvents(ctx, interruptBatch(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if i == 2 {
			fmt.Println("writing") // the parent kills after this.
		}
	}
	return 0
}

// TestKilledMidWrite kills a process writing batches (SIGKILL, no cleanup)
// and checks that the database opens, passes integrity_check, holds whole
// batches only, and that re-putting every batch yields exactly the full set.
func TestKilledMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "iamwatch.db")
	for round := range 2 { // the second round kills a process that resumed a killed one's file.
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnvDB+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 8)
		if _, err := out.Read(buf); err != nil {
			t.Fatalf("round %d: child: %v", round, err)
		}
		time.Sleep(time.Duration(50+round*70) * time.Millisecond) // well inside the loop.
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child was not killed mid-write (finished too early?): %v", round, err)
		}
		s := openTest(t, path)
		var check string
		if err := s.DB().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Fatalf("round %d: integrity_check = %q, %v", round, check, err)
		}
		var n int
		if err := s.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 || n%childBatchLen != 0 || n >= childBatches*childBatchLen {
			t.Errorf("round %d: %d events after the kill: want a positive whole number of %d-event batches, not all", round, n, childBatchLen)
		}
		t.Logf("round %d: killed after %d batches", round, n/childBatchLen)
		s.Close()
	}
	s := openTest(t, path)
	defer s.Close()
	ctx := t.Context()
	inserted := 0
	for i := range childBatches {
		k, err := s.PutEvents(ctx, interruptBatch(i))
		if err != nil {
			t.Fatal(err)
		}
		inserted += k
	}
	got, err := s.Events(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != childBatches*childBatchLen {
		t.Fatalf("after re-putting: %d events, want %d", len(got), childBatches*childBatchLen)
	}
	seen := map[string]bool{}
	for _, e := range got {
		seen[e.ID] = true
	}
	for i := range childBatches {
		for _, e := range interruptBatch(i) {
			if !seen[e.ID] {
				t.Fatalf("event %s missing after re-putting", e.ID)
			}
		}
	}
	if inserted >= len(got) {
		t.Errorf("re-putting inserted %d: the killed writers stored nothing?", inserted)
	}
}
