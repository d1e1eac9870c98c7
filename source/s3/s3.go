package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/source"
)

// Name is the source name in metrics and logs.
const Name = "s3"

// Defaults.
const (
	DefaultWorkers  = 8
	DefaultInterval = 5 * time.Minute
	// DefaultSettle is how old a file (by the time in its name) must be
	// before the checkpoint moves past it: CloudTrail delivers files about
	// five minutes after their events, not always in name order.
	DefaultSettle = 15 * time.Minute
	// MaxObjectBytes bounds one downloaded object.
	MaxObjectBytes = 512 << 20
)

// Options configure a Source. AWS, Bucket, Accounts, Store, Processor and
// Now are required.
type Options struct {
	AWS       aws.Config
	PathStyle bool // path-style addressing, for S3-compatible servers.
	Bucket    string
	Prefix    string   // the trail's key prefix, without a trailing slash.
	OrgID     string   // organisation trail: o-…; "" for a single-account trail.
	Accounts  []string // account IDs under AWSLogs/.
	Regions   []string // none: us-east-1.

	Store     iamwatch.CheckpointStore
	Processor source.Processor
	Observer  source.Observer // nil: source.Nop.
	Logger    *slog.Logger    // nil: discard.
	Now       func() time.Time

	Workers  int           // objects downloaded and decoded at once (DefaultWorkers).
	Interval time.Duration // between passes (DefaultInterval).
	Start    time.Duration // first pass: how far back to begin (a day).
	Settle   time.Duration // (DefaultSettle).
	Decode   cloudtrail.Options
}

// api is the part of the S3 client the source uses.
type api interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, opts ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Source reads a trail bucket. Create it with New.
type Source struct {
	o       Options
	client  api
	streams []*stream
}

// stream is one account and region of the trail: one checkpoint.
type stream struct {
	base string // [prefix/]AWSLogs/[org/]ACCOUNT/CloudTrail/REGION/
	key  string // checkpoint key: s3/BUCKET/BASE
	// done holds keys after the checkpoint already processed by this
	// process (files too recent to move the checkpoint past).
	done map[string]bool
}

// New validates o and returns a Source.
func New(o Options) (*Source, error) {
	if o.Bucket == "" || len(o.Accounts) == 0 || o.Store == nil || o.Processor == nil || o.Now == nil {
		return nil, errors.New("s3: Bucket, Accounts, Store, Processor and Now are required")
	}
	if o.Observer == nil {
		o.Observer = source.Nop{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(o.Regions) == 0 {
		o.Regions = []string{"us-east-1"}
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Start <= 0 {
		o.Start = 24 * time.Hour
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	if _, err := cloudtrail.NewDecoder(o.Decode); err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	s := &Source{o: o, client: s3.NewFromConfig(o.AWS, func(so *s3.Options) { so.UsePathStyle = o.PathStyle })}
	for _, acct := range o.Accounts {
		for _, region := range o.Regions {
			parts := []string{"AWSLogs"}
			if o.OrgID != "" {
				parts = append(parts, o.OrgID)
			}
			parts = append(parts, acct, "CloudTrail", region)
			base := path.Join(parts...) + "/"
			if o.Prefix != "" {
				base = strings.TrimSuffix(o.Prefix, "/") + "/" + base
			}
			s.streams = append(s.streams, &stream{base: base, key: "s3/" + o.Bucket + "/" + base, done: map[string]bool{}})
		}
	}
	return s, nil
}

// Run reads new files every Interval until ctx is done, then returns nil
// once the file in hand is stored and its checkpoint saved. A failed pass is
// recorded in the checkpoint and retried at the next.
func (s *Source) Run(ctx context.Context) error {
	for {
		if err := s.PollOnce(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.ErrorContext(ctx, "s3: pass failed", "error", err.Error())
		}
		if source.Sleep(ctx, s.o.Interval) != nil {
			return nil //nolint:nilerr // the context ended: a clean stop
		}
	}
}

// PollOnce reads every new file of every account and region once.
func (s *Source) PollOnce(ctx context.Context) error {
	var errs []error
	for _, st := range s.streams {
		if ctx.Err() != nil {
			break
		}
		if err := s.pollStream(ctx, st); err != nil && ctx.Err() == nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// pollStream lists the day folders from the checkpoint's day to today and
// reads the files after the checkpoint, in key order, a day at a time: a
// backfill of a year holds one day's keys (~300 a region), not 100,000s,
// and reads its first day before it lists the next.
func (s *Source) pollStream(ctx context.Context, st *stream) error {
	cp, _, err := s.o.Store.Checkpoint(ctx, st.key)
	if err != nil {
		return fmt.Errorf("s3: %w", err)
	}
	if cp.Status == source.StatusPaused {
		return nil
	}
	now := s.o.Now().UTC()
	day := now.Add(-s.o.Start).Truncate(24 * time.Hour)
	if ki, ok := cloudtrail.ParseKey(cp.Position); ok {
		day = ki.Date
	}
	readSome, contiguous := false, true
	for ; !day.After(now); day = day.AddDate(0, 0, 1) {
		ks, err := s.list(ctx, st.base+day.Format("2006/01/02/"), cp.Position)
		if err != nil {
			return s.fail(ctx, cp, fmt.Errorf("s3: list %s: %w", st.base+day.Format("2006/01/02/"), err))
		}
		keys := ks[:0]
		for _, k := range ks {
			if !st.done[k] {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue
		}
		readSome = true
		if cp, contiguous, err = s.read(ctx, st, cp, keys, contiguous); err != nil || ctx.Err() != nil {
			return err
		}
	}
	if readSome {
		return nil // read moved the checkpoint
	}
	cp.LastRun = now
	if cp.Status == "" || cp.Status == source.StatusError {
		cp.Status, cp.LastError = source.StatusActive, ""
	}
	return s.o.Store.PutCheckpoint(context.WithoutCancel(ctx), cp)
}

// list returns the log file keys under prefix sorting after after.
func (s *Source) list(ctx context.Context, prefix, after string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.o.Bucket), Prefix: aws.String(prefix)}
	if after > prefix {
		in.StartAfter = aws.String(after)
	}
	var keys []string
	for {
		out, err := s.client.ListObjectsV2(ctx, in)
		if err != nil {
			s.o.Observer.APIError(Name, "ListObjectsV2", false)
			return nil, err
		}
		for _, o := range out.Contents {
			k := aws.ToString(o.Key)
			if ki, ok := cloudtrail.ParseKey(k); ok && ki.Kind == cloudtrail.KindLog {
				keys = append(keys, k)
			}
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return keys, nil
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

// file is one downloaded and decoded object.
type file struct {
	key      string
	events   []iamwatch.Event
	rejected int
	skipped  bool  // digest, Insights, or unreadable: reported and passed.
	err      error // download failed: the pass stops before this file.
}

// read downloads and decodes keys with Workers at once, and stores them
// one after the other in key order, moving the checkpoint after each while
// every key so far is settled and stored (contiguous, carried from the
// pass's earlier days). It returns the checkpoint and contiguous as they
// end, and an error when the pass is to stop (not when ctx ended).
func (s *Source) read(ctx context.Context, st *stream, cp iamwatch.Checkpoint, keys []string, contiguous bool) (iamwatch.Checkpoint, bool, error) {
	fctx, stop := context.WithCancel(ctx) // stops the downloads after a failure.
	defer stop()
	g, gctx := errgroup.WithContext(fctx)
	futures := make(chan chan file, s.o.Workers) // in key order; bounds the files in memory.
	g.Go(func() error {
		defer close(futures)
		sem := make(chan struct{}, s.o.Workers)
		for _, k := range keys {
			f := make(chan file, 1)
			select {
			case futures <- f:
			case <-gctx.Done():
				return nil
			}
			select {
			case sem <- struct{}{}:
			case <-gctx.Done():
				f <- file{key: k, err: gctx.Err()}
				continue
			}
			g.Go(func() error {
				defer func() { <-sem }()
				f <- s.fetch(gctx, k)
				return nil
			})
		}
		return nil
	})
	var failed error
	settledBefore := s.o.Now().Add(-s.o.Settle)
	for f := range futures {
		res := <-f
		if failed != nil {
			continue // drain.
		}
		if res.err != nil {
			failed = res.err
			stop()
			continue
		}
		if res.rejected > 0 {
			s.o.Observer.Rejected(Name, res.rejected)
		}
		if len(res.events) > 0 {
			if _, err := source.ProcessChunks(ctx, s.o.Processor, s.o.Observer, Name, res.events, 1000); err != nil {
				failed = fmt.Errorf("s3: %s: %w", res.key, err)
				stop()
				continue
			}
		}
		cp.Processed += int64(len(res.events))
		if t := source.Newest(res.events); t.After(cp.EventTime) {
			cp.EventTime = t
		}
		if contiguous && fileTime(res.key).Before(settledBefore) {
			cp.Position = res.key
			for k := range st.done {
				if k <= res.key {
					delete(st.done, k)
				}
			}
		} else {
			contiguous = false
			st.done[res.key] = true
		}
		cp.LastRun, cp.Status, cp.LastError = s.o.Now().UTC(), source.StatusActive, ""
		if err := s.o.Store.PutCheckpoint(context.WithoutCancel(ctx), cp); err != nil {
			failed = err
		}
		if ctx.Err() != nil && failed == nil {
			failed = ctx.Err() // shutting down: stop after the file in hand.
		}
	}
	_ = g.Wait()
	if failed != nil {
		if ctx.Err() != nil {
			return cp, contiguous, nil
		}
		return cp, contiguous, s.fail(ctx, cp, failed)
	}
	return cp, contiguous, nil
}

// fetch downloads and decodes one object.
func (s *Source) fetch(ctx context.Context, key string) file {
	f := file{key: key}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.o.Bucket), Key: aws.String(key)})
	if err != nil {
		s.o.Observer.APIError(Name, "GetObject", false)
		f.err = fmt.Errorf("s3: get %s: %w", key, err)
		return f
	}
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxObjectBytes+1))
	out.Body.Close()
	if err != nil {
		f.err = fmt.Errorf("s3: read %s: %w", key, err)
		return f
	}
	name := "s3://" + s.o.Bucket + "/" + key
	if len(body) > MaxObjectBytes {
		s.o.Logger.WarnContext(ctx, "s3: object too large, skipped", "object", name)
		s.o.Observer.Rejected(Name, 1)
		f.skipped = true
		return f
	}
	f.events, f.rejected, err = source.DecodeObject(ctx, name, body, s.o.Decode)
	switch {
	case err == nil:
	case errors.Is(err, cloudtrail.ErrSkipped):
		f.skipped = true
	case ctx.Err() != nil:
		f.err = ctx.Err()
	default:
		// The object is there but is not CloudTrail: report it and go on.
		s.o.Logger.WarnContext(ctx, "s3: object rejected", "object", name, "error", err.Error())
		f.rejected++
		f.skipped = true
	}
	return f
}

// fail records err in the checkpoint and returns it.
func (s *Source) fail(ctx context.Context, cp iamwatch.Checkpoint, err error) error {
	cp.LastRun, cp.Status, cp.LastError = s.o.Now().UTC(), source.StatusError, err.Error()
	if perr := s.o.Store.PutCheckpoint(context.WithoutCancel(ctx), cp); perr != nil {
		return errors.Join(err, perr)
	}
	return err
}

// fileTime reads the delivery time in a trail file name
// (ACCOUNT_CloudTrail_REGION_20250310T1205Z_xxxx.json.gz), or the zero time.
func fileTime(key string) time.Time {
	name := path.Base(key)
	parts := strings.Split(name, "_")
	if len(parts) < 5 {
		return time.Time{}
	}
	t, err := time.Parse("20060102T1504Z", parts[3])
	if err != nil {
		return time.Time{}
	}
	return t
}
