package detect

import (
	"math/rand/v2"
	"slices"

	"github.com/iamwatch/iamwatch"
)

// shuffleBatches returns events in a random order (from seed) and a random
// split of it into batches, as [start, end) index pairs.
func shuffleBatches(events []iamwatch.Event, seed uint64) ([]iamwatch.Event, [][2]int) {
	r := rand.New(rand.NewPCG(seed, seed*7919))
	out := slices.Clone(events)
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	var batches [][2]int
	for start := 0; start < len(out); {
		end := min(len(out), start+1+r.IntN(len(out)/2+1))
		batches = append(batches, [2]int{start, end})
		start = end
	}
	return out, batches
}
