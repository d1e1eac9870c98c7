package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// BenchmarkPutEvents stores batches of 1000 new realistic events into a
// file database (WAL, synchronous=NORMAL) and reports events/s.
func BenchmarkPutEvents(b *testing.B) {
	for _, batch := range []int{1000} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			// Distinct IDs per batch; the pool repeats content only.
			const pool = 50
			batches := make([][]iamwatch.Event, pool)
			for i := range batches {
				batches[i] = testEvents(fmt.Sprintf("b%03d", i), time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC), batch)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				evs := batches[i%pool]
				if i >= pool { // fresh IDs: rewrite in place, cheap compared to the insert.
					for j := range evs {
						evs[j].ID = fmt.Sprintf("r%07d-%06d", i, j)
					}
				}
				n, err := s.PutEvents(ctx, evs)
				if err != nil {
					b.Fatal(err)
				}
				if n != len(evs) {
					b.Fatalf("inserted %d of %d", n, len(evs))
				}
			}
			b.ReportMetric(float64(b.N*batch)/time.Since(start).Seconds(), "events/s")
		})
	}
}
