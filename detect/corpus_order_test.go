package detect_test

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/ordertest"
)

// TestCorpusOrderIndependent runs each dataset of the corpus through the
// whole catalog in file order (one batch), in random orders and batchings,
// and newest first one event a batch (as LookupEvents pages come), and
// wants the same standing alerts each time: the order independence the
// sample shows (rules.TestSampleOrderIndependent), on trails nobody on the
// team wrote, with their same-second bursts, repeats and services.
func TestCorpusOrderIndependent(t *testing.T) {
	datasets, byDataset := corpusDatasets(t)
	eng := ordertest.Catalog(t)
	r := rand.New(rand.NewPCG(5, 6))
	total := 0
	for _, ds := range datasets {
		// Repeats of a record stay (redeliveries); another record under an
		// ID already read is left out: which of two records the store
		// keeps depends on which came first, and the pipeline reports the
		// conflict (pipeline.Result.Conflicts).
		var evs []iamwatch.Event
		first := map[string][]byte{}
		conflicts, refused := 0, 0
		for _, path := range byDataset[ds] {
			refused += readCorpusFile(t, path, false, func(_ string, ev *iamwatch.Event) {
				if raw, ok := first[ev.ID]; ok && !bytes.Equal(raw, ev.Raw) {
					conflicts++
					return
				}
				first[ev.ID] = ev.Raw
				evs = append(evs, *ev)
			})
		}
		want := ordertest.Standing(t, eng, evs, [][2]int{{0, len(evs)}})
		n := strings.Count(want, "\n")
		total += n
		orders := 0
		for i := range 6 {
			shuffled, batches := ordertest.Shuffle(evs, r, max(len(evs)/(i+1), 1))
			if got := ordertest.Standing(t, eng, shuffled, batches); got != want {
				t.Errorf("%s, order %d (%d batches): alerts differ from file order, first at %s", ds, i, len(batches), ordertest.FirstDifference(got, want))
			}
			orders++
		}
		rev, one := ordertest.NewestFirst(evs)
		if got := ordertest.Standing(t, eng, rev, one); got != want {
			t.Errorf("%s, newest first one event a batch: alerts differ from file order, first at %s", ds, ordertest.FirstDifference(got, want))
		}
		t.Logf("%s: %d events (%d refused by the decoder, %d conflicting records left out), %d standing alerts, the same in %d random orders and newest first",
			ds, len(evs), refused, conflicts, n, orders)
	}
	if total == 0 {
		t.Fatal("the corpus raised no alert: nothing was compared")
	}
}
