package rules_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/internal/sample"
)

// TestProbedTrailOrderIndependent: a trail of leaked keys that strangers
// try all day (gentrail's probed shape: three IAM users, hundreds of
// addresses, most calls denied, four days) through the whole catalog, in
// random orders and batchings, ends in the alerts of file order. Its
// day-long windows of denied calls (denied-api-probing) reach into the next
// UTC day, which the catalog's inline tests and the sample do not.
func TestProbedTrailOrderIndependent(t *testing.T) {
	var evs []iamwatch.Event
	err := sample.StreamProbed(sample.Options{Days: 4}, 500, 6000, func(r *sample.Record) error {
		ev, err := cloudtrail.DecodeRecord(r.AppendJSON(nil))
		evs = append(evs, ev)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eng := ordertest.Catalog(t) // what scan runs
	want := ordertest.Standing(t, eng, evs, [][2]int{{0, len(evs)}})
	if n := strings.Count(want, "denied-api-probing/"); n < 8 {
		t.Fatalf("the trail raised %d denied-api-probing alerts, want one a user and day", n)
	}
	shuffledAsInFileOrder(t, eng, evs, want, rand.New(rand.NewPCG(5, 6)), 3)
}
