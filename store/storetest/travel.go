package storetest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
)

// testTravelOrderIndependent runs signin-impossible-travel over one user's
// sign-ins (New York; Amsterdam two hours later; the company VPN in
// Ashburn, too near to count; Paris 45 minutes after New York the next
// day) into fresh stores, in time order, newest first, shuffled batches
// and twice: every run ends with the same standing alerts, each naming the
// same pair, distance and speed in its summary. The engine holds no state:
// each batch sees the earlier ones' sightings through the store (threshold
// hits), as a restarted process or a second Lambda would.
func testTravelOrderIndependent(t *testing.T, open func(t *testing.T) iamwatch.Store) {
	eng := geoEngine(t, func(r *detect.Rule) bool { return r.Travel != nil })
	evs := []iamwatch.Event{
		consoleSignIn(t, "t1", "alice", "2026-03-02T08:00:00Z", "203.0.113.10"), // New York
		consoleSignIn(t, "t2", "alice", "2026-03-02T10:00:00Z", "192.0.2.9"),    // Amsterdam: impossible from t1
		consoleSignIn(t, "t3", "alice", "2026-03-02T10:20:00Z", "198.51.100.7"), // Ashburn: impossible from t2, near t1
		consoleSignIn(t, "t4", "alice", "2026-03-03T08:00:00Z", "203.0.113.10"), // New York, a day on
		consoleSignIn(t, "t5", "alice", "2026-03-03T08:45:00Z", "2001:db8::1"),  // Paris: impossible from t4
		consoleSignIn(t, "u1", "bob", "2026-03-02T09:00:00Z", "192.0.2.10"),     // another user in Amsterdam
	}
	standing := func(batches [][]iamwatch.Event) string {
		return standingAlerts(t, open, eng, batches, func(a iamwatch.Alert) string {
			return fmt.Sprintf("%s %s %s %v %d %s", a.Rule, a.Group, a.EventID, a.EventIDs, a.Count, a.Summary)
		})
	}
	one := func(order []int) [][]iamwatch.Event { return oneByOne(evs, order) }
	want := standing([][]iamwatch.Event{evs})
	for _, w := range []string{
		"111122223333/alice t2 [t1 t2] 2 alice signed in to the console from Amsterdam, NL (192.0.2.9",
		"111122223333/alice t3 [t2 t3] 2 alice signed in to the console from Ashburn, US",
		"111122223333/alice t5 [t4 t5] 2 alice signed in to the console from Paris, FR",
		"5,863 km apart, 2,932 km/h",
	} {
		if !strings.Contains(want, w) {
			t.Fatalf("in time order, the standing alerts lack %q:\n%s", w, want)
		}
	}
	if n := strings.Count(want, "\n") + 1; n != 3 || strings.Contains(want, "bob") {
		t.Fatalf("in time order, %d standing alerts (want 3, none for bob):\n%s", n, want)
	}
	for name, batches := range map[string][][]iamwatch.Event{
		"newest first":  one([]int{5, 4, 3, 2, 1, 0}),
		"middle first":  one([]int{2, 4, 0, 5, 1, 3}),
		"two batches":   {{evs[2], evs[5]}, {evs[0], evs[1], evs[3], evs[4]}},
		"replayed":      {evs, evs},
		"reversed pair": {{evs[4], evs[1]}, {evs[2], evs[0], evs[3], evs[5]}},
	} {
		if got := standing(batches); got != want {
			t.Errorf("%s: standing alerts\n%s\nwant\n%s", name, got, want)
		}
	}
}
