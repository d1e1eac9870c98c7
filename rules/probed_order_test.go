package rules_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/internal/sample"
)

// TestProbedTrailOrderIndependent: a trail of leaked keys that strangers
// try all day (gentrail's probed shape: three IAM users, thousands of
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
	eng, err := detect.New(load(t), detect.Config{Geo: sampleGeo(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := ordertest.Standing(t, eng, evs, [][2]int{{0, len(evs)}})
	if n := strings.Count(want, "denied-api-probing/"); n < 8 {
		t.Fatalf("the trail raised %d denied-api-probing alerts, want one a user and day", n)
	}
	r := rand.New(rand.NewPCG(5, 6))
	orders := 3
	if testing.Short() {
		orders = 1
	}
	for i := range orders {
		shuffled, batches := ordertest.Shuffle(evs, r, 2000)
		if got := ordertest.Standing(t, eng, shuffled, batches); got != want {
			t.Errorf("order %d: alerts differ from file order, first at %s", i, ordertest.FirstDifference(got, want))
		}
	}
}
