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

// BenchmarkBulkLoad loads 200,000 realistic events (lower-case UUID IDs as
// CloudTrail's, one in five a redelivery of an earlier one) into a new file
// database the way scan --keep all does on a first import: BeginBulkLoad,
// batches of 8000, finish. It reports events/s over the whole load,
// index builds included, and the seconds of the index builds (finish).
func BenchmarkBulkLoad(b *testing.B) {
	const total, batch = 200_000, 8000
	ctx := context.Background()
	start := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	evs := make([]iamwatch.Event, 0, total)
	var prev []iamwatch.Event
	for id := 0; len(evs) < total; id += 800 {
		fresh := uuidEvents(id, start, 800)
		evs = append(evs, fresh...)
		if prev != nil {
			evs = append(evs, prev[:200]...)
		}
		prev = fresh
	}
	evs = evs[:total]
	b.ReportAllocs()
	var loaded, finished time.Duration
	for b.Loop() {
		b.StopTimer()
		s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		finish, _, err := s.BeginBulkLoad(ctx, total)
		if err != nil {
			b.Fatal(err)
		}
		for i := 0; i < len(evs); i += batch {
			if _, err := s.PutEvents(ctx, evs[i:min(i+batch, len(evs))]); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		if _, err := finish(ctx); err != nil {
			b.Fatal(err)
		}
		finished += time.Since(t1)
		loaded += time.Since(t0)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*total)/loaded.Seconds(), "events/s")
	b.ReportMetric(finished.Seconds()/float64(b.N), "s-index/op")
}

// BenchmarkCommitAlerts commits batches of 2000 new threshold hits over 64
// groups of two rules, as a scan's writer does: the resolver reads back
// each group's hits of this batch and the one before and its stored alert,
// and claims one alert per group (stored by the first batch, merged by the
// later ones). It reports hits/s.
func BenchmarkCommitAlerts(b *testing.B) {
	const batch, groups = 2000, 64
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rules := [2]string{"secrets-read-burst", "unauthorized-api-calls"}
	start := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	hits := make([]iamwatch.Hit, batch)
	b.ReportAllocs()
	t0 := time.Now()
	for i := 0; b.Loop(); i++ {
		now := start.Add(time.Duration(i) * time.Minute)
		for j := range hits {
			hits[j] = iamwatch.Hit{
				Rule: rules[j%2], Group: fmt.Sprintf("user-%02d", j/2%groups),
				EventID: fmt.Sprintf("e%07d-%04d", i, j), Time: now.Add(time.Duration(j) * time.Millisecond * 25),
			}
		}
		_, err := s.CommitAlerts(ctx, hits, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
			var out []iamwatch.Alert
			for g := range groups {
				for _, r := range rules {
					grp := fmt.Sprintf("user-%02d", g)
					in, err := v.Hits(ctx, r, grp, now.Add(-time.Minute), now.Add(time.Minute))
					if err != nil {
						return nil, err
					}
					key := r + "/" + grp
					if _, _, err := v.Alert(ctx, key); err != nil {
						return nil, err
					}
					out = append(out, iamwatch.Alert{DedupKey: key, Rule: r, Time: now, Count: len(in), EventIDs: []string{in[0].EventID}})
				}
			}
			return out, nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/time.Since(t0).Seconds(), "hits/s")
}

// BenchmarkOpen opens a new database file (created and migrated to the
// latest schema, what a first scan pays before reading) and an existing
// one (what every later command pays), and closes it.
func BenchmarkOpen(b *testing.B) {
	ctx := context.Background()
	b.Run("new", func(b *testing.B) {
		dir := b.TempDir()
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s, err := Open(ctx, filepath.Join(dir, fmt.Sprintf("new%d.db", i)), Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("existing", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "existing.db")
		s, err := Open(ctx, path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
		b.ReportAllocs()
		for b.Loop() {
			s, err := Open(ctx, path, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Close(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
