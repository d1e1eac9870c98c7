package rules_test

import (
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/sampledata"
)

// TestGroupedRulesOrderIndependent: every inline test of every threshold,
// dedup and impossible-travel rule gives the same stored alerts whatever the order of its
// events and however they are split into batches.
func TestGroupedRulesOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tested := 0
	for _, rule := range load(t) {
		if rule.Threshold == nil && rule.Dedup == nil && rule.Travel == nil {
			continue
		}
		eng, err := detect.New([]*detect.Rule{rule}, detect.Config{Geo: sampleGeo(t)})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range rule.Tests {
			var evs []iamwatch.Event
			for _, raw := range tc.Events {
				ev, err := cloudtrail.DecodeRecord(raw)
				if err != nil {
					t.Fatal(err)
				}
				evs = append(evs, ev)
			}
			if len(evs) < 2 {
				continue
			}
			tested++
			want := ordertest.Standing(t, eng, evs, [][2]int{{0, len(evs)}})
			for i := range 10 {
				shuffled, batches := ordertest.Shuffle(evs, r, len(evs)/2+1)
				if got := ordertest.Standing(t, eng, shuffled, batches); got != want {
					t.Errorf("%s/%s, order %d: alerts differ\n got %s\nwant %s", rule.ID, tc.Name, i, got, want)
				}
			}
		}
	}
	if tested < 5 {
		t.Fatalf("only %d multi-event tests of grouped rules", tested)
	}
}

// TestSampleOrderIndependent: the shipped sample through the whole catalog,
// in random orders and batchings, ends in the same alerts as in file order.
func TestSampleOrderIndependent(t *testing.T) {
	fsys := sampledata.FS()
	var evs []iamwatch.Event
	err := fs.WalkDir(fsys, "AWSLogs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = cloudtrail.Decode(context.Background(), f, p, cloudtrail.Options{}, func(ev *iamwatch.Event) error {
			evs = append(evs, *ev)
			return nil
		})
		if errors.Is(err, cloudtrail.ErrSkipped) {
			return nil
		}
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
	if strings.Count(want, "\n") < 20 {
		t.Fatalf("the sample raised only %d alerts", strings.Count(want, "\n"))
	}
	shuffledAsInFileOrder(t, eng, evs, want, rand.New(rand.NewPCG(3, 4)), 4)
	rev, one := ordertest.NewestFirst(evs)
	if got := ordertest.Standing(t, eng, rev, one); got != want {
		t.Errorf("newest first, one event a batch: alerts differ, first at %s", ordertest.FirstDifference(got, want))
	}
}

// shuffledAsInFileOrder checks that evs through eng in orders random orders
// and batchings (one in -short) end in want, the alerts of file order.
func shuffledAsInFileOrder(t *testing.T, eng *detect.Engine, evs []iamwatch.Event, want string, r *rand.Rand, orders int) {
	t.Helper()
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
