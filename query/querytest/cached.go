package querytest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/store/sqlite"
)

// CachedStore opens the benchmark database at path, building it first with
// build when it does not exist (into a temporary file, renamed once build
// and the close that checkpoints it succeed, so an interrupted build is
// never taken for a complete one). build's text is logged with the time it
// took. The store is closed when tb ends.
func CachedStore(tb testing.TB, path string, build func(context.Context, *sqlite.Store) (string, error)) *sqlite.Store {
	tb.Helper()
	ctx := context.Background()
	if _, err := os.Stat(path); err != nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			tb.Fatal(err)
		}
		tmp := path + ".building"
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(tmp + suffix)
		}
		start := time.Now()
		st, err := sqlite.Open(ctx, tmp, sqlite.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		what, err := build(ctx, st)
		if err != nil {
			tb.Fatal(err)
		}
		if err := st.Close(); err != nil {
			tb.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			tb.Fatal(err)
		}
		tb.Logf("built %s: %s in %s", path, what, time.Since(start).Round(time.Second))
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}
