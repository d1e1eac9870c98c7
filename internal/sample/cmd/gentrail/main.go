// Command gentrail writes a large, realistic CloudTrail trail for
// benchmarks: gzipped log files of about 100–300 records each (and a few
// much larger ones), in the S3 key layouts of the sample's two accounts
// (single-account and organisation trail), mostly ordinary noise with the
// sample's incident scenarios mixed in.
//
//	go run ./internal/sample/cmd/gentrail -records 500000 -out /tmp/trail
//
// It streams: memory holds the open files of each account and region, not
// the trail. The output is deterministic for given flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch/internal/sample"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("gentrail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	records := fs.Int("records", 500_000, "number of records to write")
	out := fs.String("out", "", "output directory (created; AWSLogs/… is written inside)")
	days := fs.Int("days", 0, "days the trail spans (default: one day per million records, at least 1)")
	seed := fs.Uint64("seed", sample.DefaultSeed, "generator seed")
	window := fs.Duration("window", 5*time.Minute, "delivery window of a log file (CloudTrail: about 5 minutes)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || *records <= 0 {
		fmt.Fprintln(stderr, "gentrail: -out DIR and a positive -records are required")
		return 2
	}
	if *days <= 0 {
		*days = max(1, (*records+999_999)/1_000_000)
	}
	if err := generate(ctx, *out, *records, *days, *seed, *window, stderr); err != nil {
		fmt.Fprintln(stderr, "gentrail:", err)
		return 1
	}
	return 0
}

func generate(ctx context.Context, out string, records, days int, seed uint64, window time.Duration, stderr io.Writer) error {
	began := time.Now()
	var mu sync.Mutex
	dirs := map[string]bool{}
	var bytes int64
	put := func(path string, data []byte) error { // called by the writer's workers.
		p := filepath.Join(out, filepath.FromSlash(path))
		d := filepath.Dir(p)
		mu.Lock()
		bytes += int64(len(data))
		var err error
		if !dirs[d] {
			err = os.MkdirAll(d, 0o755)
			dirs[d] = err == nil
		}
		mu.Unlock()
		if err != nil {
			return err
		}
		return os.WriteFile(p, data, 0o644)
	}
	w := sample.NewTrailWriter(put, seed)
	w.Window = window
	w.Workers = runtime.GOMAXPROCS(0)
	sizes := sample.NewFileSizes(seed)
	w.FileSize = sizes.Next
	w.DuplicateRate = 0.01

	// Noise at a rate that reaches the record count within the days; the
	// quieter nights are why the rate is set above the plain average.
	opt := sample.Options{Seed: seed, Days: days, RecordsPerHour: float64(records) / float64(days*24) * 1.6}
	n := 0
	err := sample.Stream(opt, records, func(r *sample.Record) error {
		n++
		if n%100_000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return w.Add(r)
	})
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	files := w.Files()
	elapsed := time.Since(began)
	fmt.Fprintf(stderr, "gentrail: %d records in %d files (%.1f MB gzipped) under %s in %s (%.0f records/s)\n",
		n, len(files), float64(bytes)/1e6, out, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	if n < records {
		fmt.Fprintf(stderr, "gentrail: only %d of %d records fit in %d days; raise -days\n", n, records, days)
	}
	return nil
}
