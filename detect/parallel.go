package detect

import (
	"runtime"

	"golang.org/x/sync/errgroup"
)

// forEach calls f(i) for each i in [0, n) on up to GOMAXPROCS goroutines
// and returns once every call has. Loading and compiling the rules is the
// fixed cost every scan, CLI command and Lambda cold start pays before its
// first event (about 50 ms of CPU for the built-in catalog), and each
// rule's share of it is independent of the others'; f must write only its
// own i's results.
func forEach(n int, f func(i int)) {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error {
			f(i)
			return nil
		})
	}
	g.Wait()
}
