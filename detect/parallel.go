package detect

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// forEach calls f(i) for each i in [0, n) on up to GOMAXPROCS goroutines
// and returns once every call has. Loading and compiling the rules is the
// fixed cost every scan, CLI command and Lambda cold start pays before its
// first event (about 50 ms of CPU for the built-in catalog), and each
// rule's share of it is independent of the others'; f must write only its
// own i's results.
func forEach(n int, f func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				f(i)
			}
		})
	}
	wg.Wait()
}
