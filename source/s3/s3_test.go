package s3_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	s3src "github.com/iamwatch/iamwatch/source/s3"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

const bucket = "trail"

func awsConfig(t testing.TB, endpoint string) aws.Config {
	t.Helper()
	if tt, ok := t.(*testing.T); ok {
		tt.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
		tt.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE111122223333")
		tt.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
		tt.Setenv("AWS_REGION", "us-east-1")
		tt.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
		tt.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
		tt.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		cfg, err := config.LoadDefaultConfig(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	// Benchmarks cannot Setenv in parallel-safe ways; build the same by hand.
	return aws.Config{
		Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAFAKE111122223333", SecretAccessKey: "secret"}, nil
		}),
	}
}

// trailFile builds a gzipped trail file of n records and returns it with the event IDs.
func trailFile(t testing.TB, account, region string, at time.Time, n int, seq *int) ([]byte, []string) {
	var recs []json.RawMessage
	var ids []string
	for i := range n {
		*seq++
		id := fmt.Sprintf("evt-%07d", *seq)
		ids = append(ids, id)
		rec := testserver.LookupRecord(testserver.LookupEvent{
			ID: id, Name: "GetCallerIdentity", Source: "sts.amazonaws.com", Region: region, Account: account,
			Time: at.Add(time.Duration(i) * time.Second), ReadOnly: "true",
		})
		recs = append(recs, json.RawMessage(rec))
	}
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes(), ids
}

func key(base, account, region string, at time.Time, uniq string) string {
	return fmt.Sprintf("%s%s/%s_CloudTrail_%s_%s_%s.json.gz", base, at.Format("2006/01/02"), account, region, at.Format("20060102T1504Z"), uniq)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type harness struct {
	srv   *testserver.S3
	store *sqlite.Store
	proc  *pipeline.Pipeline
	aws   aws.Config
	clock *clock
	want  map[string]bool
	seq   int
}

func newHarness(t testing.TB, now time.Time) *harness {
	h := &harness{srv: testserver.StartS3(t, bucket), clock: &clock{t: now}, want: map[string]bool{}}
	h.aws = awsConfig(t, h.srv.URL)
	var err error
	h.store, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	h.proc, err = pipeline.New(h.store, pipeline.Options{Filter: pipeline.Filter{Keep: pipeline.KeepAll}})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) put(t testing.TB, base, account, region string, at time.Time, n int) string {
	body, ids := trailFile(t, account, region, at, n, &h.seq)
	k := key(base, account, region, at, fmt.Sprintf("u%05d", h.seq))
	h.srv.Put(t, bucket, k, body)
	for _, id := range ids {
		h.want[id] = true
	}
	return k
}

func (h *harness) source(t testing.TB, o s3src.Options) *s3src.Source {
	o.AWS, o.PathStyle, o.Bucket, o.Store, o.Processor, o.Now = h.aws, true, bucket, h.store, h.proc, h.clock.Now
	s, err := s3src.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (h *harness) checkExact(t *testing.T) {
	t.Helper()
	evs, err := h.store.Events(context.Background(), sqlite.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, e := range evs {
		got[e.ID] = true
	}
	var missing, extra []string
	for id := range h.want {
		if !got[id] {
			missing = append(missing, id)
		}
	}
	for id := range got {
		if !h.want[id] {
			extra = append(extra, id)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Fatalf("stored %d, want %d: missing %v, extra %v", len(got), len(h.want), missing[:min(5, len(missing))], extra[:min(5, len(extra))])
	}
}

func TestTrailBucket(t *testing.T) {
	for _, tc := range []struct{ name, prefix, org string }{
		{"single account", "", ""},
		{"organisation with prefix", "trails/main", "o-abcdefghij"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2025, 3, 12, 18, 0, 0, 0, time.UTC)
			h := newHarness(t, now)
			base := func(account, region string) string {
				b := "AWSLogs/"
				if tc.org != "" {
					b += tc.org + "/"
				}
				b += account + "/CloudTrail/" + region + "/"
				if tc.prefix != "" {
					b = tc.prefix + "/" + b
				}
				return b
			}
			accounts := []string{"111122223333", "444455556666"}
			regions := []string{"us-east-1", "eu-west-1"}
			for _, a := range accounts {
				for _, r := range regions {
					for day := range 3 { // 10, 11, 12 March; start is two days back.
						for f := range 4 {
							at := time.Date(2025, 3, 10+day, 1+f*4, 5*f, 0, 0, time.UTC)
							h.put(t, base(a, r), a, r, at, 3+f)
						}
					}
				}
			}
			// Files that must never be stored: another account, an older day,
			// digests, Insights, and a non-CloudTrail object in a log folder.
			other, _ := trailFile(t, "999988887777", "us-east-1", now.Add(-time.Hour), 2, &h.seq)
			h.srv.Put(t, bucket, key(base("999988887777", "us-east-1"), "999988887777", "us-east-1", now.Add(-time.Hour), "x"), other)
			old, _ := trailFile(t, accounts[0], "us-east-1", time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC), 2, &h.seq)
			h.srv.Put(t, bucket, key(base(accounts[0], "us-east-1"), accounts[0], "us-east-1", time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC), "old"), old)
			digestBase := base(accounts[0], "us-east-1")
			h.srv.Put(t, bucket, digestBase[:len(digestBase)-len("CloudTrail/us-east-1/")]+"CloudTrail-Digest/us-east-1/2025/03/12/d.json.gz", []byte(`{"digestStartTime":"x"}`))
			h.srv.Put(t, bucket, key(base(accounts[0], "eu-west-1"), accounts[0], "eu-west-1", now.Add(-3*time.Hour), "junk"), []byte("not json at all"))

			src := h.source(t, s3src.Options{Prefix: tc.prefix, OrgID: tc.org, Accounts: accounts, Regions: regions, Start: 2 * 24 * time.Hour, Workers: 4, Settle: 15 * time.Minute})
			if err := src.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			h.checkExact(t)
			gets := h.srv.Gets()
			if want := int64(len(accounts)*len(regions)*12 + 1); gets != want {
				t.Errorf("%d GETs, want %d (every log file once, the junk one included)", gets, want)
			}
			cp, ok, err := h.store.Checkpoint(context.Background(), "s3/"+bucket+"/"+base(accounts[1], "eu-west-1"))
			if err != nil || !ok || cp.Status != source.StatusActive || cp.Processed != 3*(3+4+5+6) {
				t.Errorf("checkpoint = %+v %v %v", cp, ok, err)
			}

			// A second pass lists only today's folder and downloads nothing.
			lists := h.srv.Lists()
			if err := src.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if g := h.srv.Gets(); g != gets {
				t.Errorf("second pass downloaded %d objects", g-gets)
			}
			if l := h.srv.Lists() - lists; l != int64(len(accounts)*len(regions)) {
				t.Errorf("second pass made %d list calls, want one per account and region (today only)", l)
			}

			// New files, one of them too recent to move the checkpoint; a
			// restarted source reads the recent one again, harmlessly.
			h.put(t, base(accounts[0], "us-east-1"), accounts[0], "us-east-1", now.Add(-30*time.Minute), 2)
			recent := h.put(t, base(accounts[0], "us-east-1"), accounts[0], "us-east-1", now.Add(-5*time.Minute), 2)
			gets = h.srv.Gets()
			if err := src.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			h.checkExact(t)
			if g := h.srv.Gets() - gets; g != 2 {
				t.Errorf("third pass downloaded %d objects, want 2", g)
			}
			cp, _, _ = h.store.Checkpoint(context.Background(), "s3/"+bucket+"/"+base(accounts[0], "us-east-1"))
			if cp.Position >= recent {
				t.Errorf("checkpoint %s moved past the unsettled %s", cp.Position, recent)
			}
			gets = h.srv.Gets()
			if err := src.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if g := h.srv.Gets() - gets; g != 0 {
				t.Errorf("the same process downloaded the recent file again (%d GETs)", g)
			}
			h.clock.Set(now.Add(time.Hour))
			restarted := h.source(t, s3src.Options{Prefix: tc.prefix, OrgID: tc.org, Accounts: accounts, Regions: regions, Start: 2 * 24 * time.Hour, Workers: 4})
			if err := restarted.PollOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			cp, _, _ = h.store.Checkpoint(context.Background(), "s3/"+bucket+"/"+base(accounts[0], "us-east-1"))
			if cp.Position != recent {
				t.Errorf("after settling, checkpoint = %s, want %s", cp.Position, recent)
			}
			h.checkExact(t)
		})
	}
}

// BenchmarkBucket measures the trail bucket path: list, download with the
// bounded pool, decode, store. Reports files/s and events/s.
func BenchmarkBucket(b *testing.B) {
	const files, perFile = 200, 100
	now := time.Date(2025, 3, 12, 18, 0, 0, 0, time.UTC)
	for _, workers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			h := newHarness(b, now)
			base := "AWSLogs/111122223333/CloudTrail/us-east-1/"
			for i := range files {
				h.put(b, base, "111122223333", "us-east-1", now.Add(-time.Duration(files-i)*time.Minute), perFile)
			}
			b.ReportAllocs()
			b.ResetTimer()
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				ctx := context.Background()
				st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db"), sqlite.Options{})
				if err != nil {
					b.Fatal(err)
				}
				p, _ := pipeline.New(st, pipeline.Options{Filter: pipeline.Filter{Keep: pipeline.KeepAll}})
				src, err := s3src.New(s3src.Options{AWS: h.aws, PathStyle: true, Bucket: bucket, Accounts: []string{"111122223333"}, Store: st, Processor: p, Now: h.clock.Now, Workers: workers})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := src.PollOnce(ctx); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(files*b.N)/elapsed.Seconds(), "files/s")
			b.ReportMetric(float64(files*perFile*b.N)/elapsed.Seconds(), "events/s")
		})
	}
}

// listsSeen is a Processor that notes, at each call, how many list calls
// the bucket had answered.
type listsSeen struct {
	source.Processor
	srv  *testserver.S3
	seen []int64
}

func (l *listsSeen) Process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error) {
	l.seen = append(l.seen, l.srv.Lists())
	return l.Processor.Process(ctx, events)
}

// TestBackfillReadsDayByDay: a pass over several days reads each day's
// files before it lists the next day (a backfill holds one day's keys),
// and stores every file once, the checkpoint on the last.
func TestBackfillReadsDayByDay(t *testing.T) {
	now := time.Date(2025, 3, 12, 18, 0, 0, 0, time.UTC)
	h := newHarness(t, now)
	base := "AWSLogs/111122223333/CloudTrail/us-east-1/"
	var last string
	for day := range 3 {
		for f := range 2 {
			last = h.put(t, base, "111122223333", "us-east-1", time.Date(2025, 3, 10+day, 1+f, 0, 0, 0, time.UTC), 2)
		}
	}
	seen := &listsSeen{Processor: h.proc, srv: h.srv}
	src, err := s3src.New(s3src.Options{AWS: h.aws, PathStyle: true, Bucket: bucket, Accounts: []string{"111122223333"},
		Store: h.store, Processor: seen, Now: h.clock.Now, Start: 2 * 24 * time.Hour, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.PollOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.checkExact(t)
	if want := []int64{1, 1, 2, 2, 3, 3}; fmt.Sprint(seen.seen) != fmt.Sprint(want) {
		t.Errorf("list calls answered at each file stored: %v, want %v", seen.seen, want)
	}
	if cp, _, _ := h.store.Checkpoint(context.Background(), "s3/"+bucket+"/"+base); cp.Position != last {
		t.Errorf("checkpoint at %s, want %s", cp.Position, last)
	}
}
