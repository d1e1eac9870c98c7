package notify_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// openStore opens a real SQLite store in a temporary directory.
func openStore(t testing.TB) *sqlite.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "iamwatch.db"))
}

func openStoreAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// claim stores alerts so deliveries can refer to them.
func claim(t testing.TB, s iamwatch.AlertStore, alerts ...iamwatch.Alert) {
	t.Helper()
	for _, a := range alerts {
		if _, err := iamwatch.ClaimAlert(context.Background(), s, a); err != nil {
			t.Fatal(err)
		}
	}
}
