package daemon

import (
	"context"
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

type fakeSink struct{ err error }

func (fakeSink) Name() string                                   { return "pager" }
func (s fakeSink) Send(context.Context, []iamwatch.Alert) error { return s.err }

// TestMetricsExposition checks the text format against a golden file.
func TestMetricsExposition(t *testing.T) {
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	m := NewMetrics(func() time.Time { return now })
	m.Batch("lookup", pipeline.Result{Events: 50, Stored: 40}, now.Add(-7*time.Minute))
	m.Batch("lookup", pipeline.Result{Events: 10, Stored: 10}, now.Add(-9*time.Minute))
	m.Batch("s3", pipeline.Result{Events: 3, Stored: 3, RuleErrors: []pipeline.RuleErrors{{Rule: "custom", Events: 2}}}, now.Add(-90*time.Second))
	m.Batch("s3", pipeline.Result{Events: 1, RuleErrors: []pipeline.RuleErrors{{Rule: "custom", Events: 1}}}, now.Add(-2*time.Minute))
	m.Rejected("s3", 2)
	m.APIError("lookup", "LookupEvents", true)
	m.APIError("lookup", "LookupEvents", false)
	m.Alert(iamwatch.Alert{Rule: "root-console-signin", Severity: iamwatch.SeverityCritical})
	m.Alert(iamwatch.Alert{Rule: `we"ird\rule`, Severity: iamwatch.SeverityLow})
	sinks := m.WrapSinks(map[string]notify.Sink{"pager": fakeSink{}, "bad": fakeSink{err: errors.New("down")}})
	_ = sinks["pager"].Send(context.Background(), nil)
	_ = sinks["bad"].Send(context.Background(), nil) // named "pager" by the fake: counted under its Name.
	m.setDown("sqs", true)
	m.MessageFailed("sqs", false)
	m.MessageFailed("sqs", true)
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	const path = "testdata/metrics.txt"
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
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
}
