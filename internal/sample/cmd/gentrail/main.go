// Command gentrail writes a large, realistic CloudTrail trail for
// benchmarks, in the S3 key layouts of the sample's two accounts
// (single-account and organisation trail), with the sample's incident
// scenarios mixed in (but for probed). Four profiles:
//
//   - services (the default): a quiet account as real trails show it.
//     Files are heavy-tailed (median 2 records, mean about 8, a few of
//     thousands) in every region folder; 90% of the records are AWS
//     services' (AWSService callers, invokedBy, service-linked roles,
//     AwsServiceEvent), a third of all records one log-delivery principal
//     refused over and over, with bursts of an IAM user's denials; a fifth of
//     the records are delivered twice, in different files.
//
//   - people: busy files of about 100–300 records each (and a few much
//     larger ones), mostly people's activity, 1% of the files repeating a
//     record or two.
//
//   - objects: the services profile's shape, but a trail that logs S3
//     data events: 80% of the records an application's task role reading
//     and writing its objects (sample.ObjectsMix).
//
//   - probed: an account whose keys are public, shaped like flaws.cloud's
//     published trail: three IAM users' calls from thousands of addresses
//     (-addresses), 80% of the reads and every write denied, no service
//     events and no repeats, one file a region a day over 20 days. Every
//     record is a person's distinct call, which a default scan keeps: the
//     shape that loads the store's writer most.
//
//     go run ./internal/sample/cmd/gentrail -records 500000 -out /tmp/trail
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
	days := fs.Int("days", 0, "days the trail spans (default: services one day per 10,000 records, people one per million; at least 1)")
	seed := fs.Uint64("seed", sample.DefaultSeed, "generator seed")
	profile := fs.String("profile", "services", "services (a real account's shape: tiny files, 90% service events, redeliveries), people (busy files of human activity) probed (public keys: three IAM users' calls from thousands of addresses, 80% of reads and every write denied, a file a region a day, like flaws.cloud's published trail) or objects (services' shape, 80% of the records an application's S3 data events)")
	window := fs.Duration("window", 5*time.Minute, "delivery window of a log file (CloudTrail: about 5 minutes; probed: 24h)")
	addresses := fs.Int("addresses", 5000, "probed: source addresses the calls come from")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || *records <= 0 {
		fmt.Fprintln(stderr, "gentrail: -out DIR and a positive -records are required")
		return 2
	}
	switch *profile {
	case "services", "people", "objects":
	case "probed":
		if *days <= 0 {
			*days = 20
		}
		windowSet := false
		fs.Visit(func(f *flag.Flag) { windowSet = windowSet || f.Name == "window" })
		if !windowSet {
			*window = 24 * time.Hour
		}
	default:
		fmt.Fprintf(stderr, "gentrail: -profile %q: want services, people, probed or objects\n", *profile)
		return 2
	}
	if *days <= 0 && (*profile == "services" || *profile == "objects") {
		// About the pace of a real lab trail (30,476 records in six days,
		// 7.9 a file): denser and the files grow, sparser and they shrink.
		*days = max(1, *records/10_000)
	}
	if *days <= 0 {
		*days = max(1, (*records+999_999)/1_000_000)
	}
	if err := generate(ctx, *out, *profile, *records, *days, *seed, *window, *addresses, stderr); err != nil {
		fmt.Fprintln(stderr, "gentrail:", err)
		return 1
	}
	return 0
}

func generate(ctx context.Context, out, profile string, records, days int, seed uint64, window time.Duration, addresses int, stderr io.Writer) error {
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
	n := 0
	add := func(r *sample.Record) error {
		n++
		if n%100_000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return w.Add(r)
	}
	var err error
	switch profile {
	case "probed":
		w.FileSize = func() int { return records } // a window's records, whatever their number
		err = sample.StreamProbed(sample.Options{Seed: seed, Days: days}, addresses, records, add)
	case "people":
		w.FileSize = sample.NewFileSizes(seed).Next
		w.DuplicateRate = 0.01
		// Noise at a rate that reaches the record count within the days; the
		// quieter nights are why the rate is set above the plain average.
		opt := sample.Options{Seed: seed, Days: days, RecordsPerHour: float64(records) / float64(days*24) * 1.6}
		err = sample.Stream(opt, records, add)
	default:
		w.FileSize = sample.NewHeavyTailFileSizes(seed).Next
		// Each record delivered again with this probability: a fifth of
		// all records are repeats (0.25 / 1.25).
		w.RedeliverRate = 0.25
		mix := sample.ServiceMix{}
		if profile == "objects" {
			mix = sample.ObjectsMix
		}
		err = sample.StreamServices(sample.Options{Seed: seed, Days: days}, mix, records, add)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	files := w.Files()
	elapsed := time.Since(began)
	written := 0
	for _, f := range files {
		written += f.Records
	}
	fmt.Fprintf(stderr, "gentrail: %d records (%d with redeliveries) in %d files (%.1f MB gzipped) under %s in %s (%.0f records/s)\n",
		n, written, len(files), float64(bytes)/1e6, out, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	if n < records {
		fmt.Fprintf(stderr, "gentrail: only %d of %d records fit in %d days; raise -days\n", n, records, days)
	}
	return nil
}
