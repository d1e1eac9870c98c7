package daemon

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

type fakeSink struct{ err error }

func (fakeSink) Name() string                                   { return "pager" }
func (s fakeSink) Send(context.Context, []iamwatch.Alert) error { return s.err }

// families gathers m's metric families by name.
func families(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, f := range fams {
		out[f.GetName()] = f
	}
	return out
}

// sampleCount is the number of observations of the histogram series of
// name whose labels include want.
func sampleCount(fams map[string]*dto.MetricFamily, name string, want map[string]string) uint64 {
	var n uint64
	for _, m := range fams[name].GetMetric() {
		match := 0
		for _, l := range m.GetLabel() {
			if want[l.GetName()] == l.GetValue() {
				match++
			}
		}
		if match == len(want) {
			n += m.GetHistogram().GetSampleCount()
		}
	}
	return n
}

// TestMetricsExposition checks the iamwatch counters and gauges against a
// golden file (the latency histograms and the runtime collectors vary from
// run to run: they are checked by count below).
func TestMetricsExposition(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	m := NewMetrics(func() time.Time { return now })
	m.Batch("lookup", pipeline.Result{Events: 50, Stored: 40}, now.Add(-7*time.Minute))
	m.Batch("lookup", pipeline.Result{Events: 10, Stored: 10, Removed: 4}, now.Add(-9*time.Minute))
	m.Batch("s3", pipeline.Result{Events: 3, Stored: 3, RuleErrors: []pipeline.RuleErrors{{Rule: "custom", Events: 2}}}, now.Add(-90*time.Second))
	m.Batch("s3", pipeline.Result{Events: 1, RuleErrors: []pipeline.RuleErrors{{Rule: "custom", Events: 1}}}, now.Add(-2*time.Minute))
	m.Rejected("s3", 2)
	m.APIError("lookup", "LookupEvents", true)
	m.APIError("lookup", "LookupEvents", false)
	m.Alert(iamwatch.Alert{Rule: "root-console-signin", Severity: iamwatch.SeverityCritical})
	m.Alert(iamwatch.Alert{Rule: "we\"ird\\rule\n", Severity: iamwatch.SeverityLow})
	sinks := m.WrapSinks(map[string]notify.Sink{"pager": fakeSink{}, "bad": fakeSink{err: errors.New("down")}})
	_ = sinks["pager"].Send(context.Background(), nil)
	_ = sinks["bad"].Send(context.Background(), nil) // named "pager" by the fake: counted under its Name.
	m.setDown("sqs", true)
	m.MessageFailed("sqs", false)
	m.MessageFailed("sqs", true)
	m.batchTook(40 * time.Millisecond)
	m.prunedRows(7, 1)

	fams := families(t, m)
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, name := range slices.Sorted(maps.Keys(fams)) {
		if !strings.HasPrefix(name, "iamwatch_") || strings.HasSuffix(name, "_duration_seconds") {
			continue
		}
		if err := enc.Encode(fams[name]); err != nil {
			t.Fatal(err)
		}
	}
	const path = "testdata/metrics.txt"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("metrics:\n%s\nwant:\n%s", b.String(), want)
	}
	if lag, ok := m.Lag("lookup"); !ok || lag != 7*time.Minute {
		t.Errorf("Lag(lookup) = %v %v, want 7m (the newest event)", lag, ok)
	}

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   uint64
	}{
		{"iamwatch_delivery_duration_seconds", map[string]string{"sink": "pager", "outcome": "ok"}, 1},
		{"iamwatch_delivery_duration_seconds", map[string]string{"sink": "pager", "outcome": "error"}, 1},
		{"iamwatch_batch_duration_seconds", map[string]string{}, 1},
	} {
		if got := sampleCount(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v: %d observations, want %d", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no %s: the runtime and process collectors are not registered", name)
		}
	}
}

// The handler serves the text format a Prometheus server scrapes.
func TestMetricsHandler(t *testing.T) {
	m := NewMetrics(time.Now)
	m.Batch("lookup", pipeline.Result{Events: 3}, time.Now())
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("GET /metrics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), `iamwatch_events_total{source="lookup"} 3`) {
		t.Errorf("body lacks the events counter:\n%s", body)
	}
}

// AWSMiddleware times real SDK calls by service, operation and outcome: a
// local endpoint answers LookupEvents once with a page, then with a
// throttling error.
func TestAWSMiddleware(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if calls == 1 {
			_, _ = io.WriteString(w, `{"Events":[]}`)
			return
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	}))
	defer srv.Close()
	m := NewMetrics(time.Now)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		RetryMaxAttempts: 1, APIOptions: nil}
	cfg.APIOptions = append(cfg.APIOptions, m.AWSMiddleware)
	client := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := client.LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{}); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if _, err := client.LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{}); err == nil {
		t.Fatal("second call: no error, want the throttling error")
	}
	fams := families(t, m)
	for _, outcome := range []string{"ok", "throttled"} {
		if n := sampleCount(fams, "iamwatch_aws_request_duration_seconds", map[string]string{"service": "CloudTrail", "operation": "LookupEvents", "outcome": outcome}); n != 1 {
			t.Errorf("LookupEvents %s: %d observations, want 1", outcome, n)
		}
	}
}
