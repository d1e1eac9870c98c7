package detect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// TestThresholdOverSQLite runs console-signin-failures over the real store:
// the 4th failure fires, the 5th merges, a replay does not count, and a new
// Engine over the reopened database (a restart) agrees.
func TestThresholdOverSQLite(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/db"
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng := ordertest.Catalog(t)
	base := time.Date(2025, 3, 4, 8, 0, 0, 0, time.UTC)
	ev := func(i int) iamwatch.Event {
		raw := fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","accountId":"111122223333","userName":"alice"},
		"eventTime":%q,"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",
		"sourceIPAddress":"203.0.113.7","userAgent":"Mozilla/5.0","errorMessage":"Failed authentication",
		"responseElements":{"ConsoleLogin":"Failure"},"eventID":"f-%d","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`,
			base.Add(time.Duration(i)*5*time.Minute).Format(time.RFC3339), i)
		e, err := cloudtrail.DecodeRecord([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	keyOf := func(eng *detect.Engine, e iamwatch.Event) string {
		claims, err := eng.Evaluate(ctx, st, e)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range claims {
			if c.Alert.Rule == "console-signin-failures" {
				return c.Alert.DedupKey
			}
		}
		return ""
	}
	for i := 1; i <= 3; i++ {
		if k := keyOf(eng, ev(i)); k != "" {
			t.Fatalf("event %d fired %s", i, k)
		}
	}
	if k := keyOf(eng, ev(3)); k != "" { // a replay of the 3rd
		t.Fatalf("replay counted: %s", k)
	}
	fourth := keyOf(eng, ev(4))
	if fourth == "" {
		t.Fatal("4th failure did not fire")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: reopen the database, build a new Engine.
	st, err = sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng = ordertest.Catalog(t)
	if k := keyOf(eng, ev(5)); k != fourth {
		t.Fatalf("5th after restart: %q, want %q", k, fourth)
	}
	stored, err := st.Alerts(ctx, iamwatch.AlertFilter{Rule: "console-signin-failures"})
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || len(stored[0].EventIDs) != 5 || stored[0].Count != 5 {
		t.Fatalf("stored alerts %+v", stored)
	}
}
