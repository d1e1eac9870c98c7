package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestExampleParses(t *testing.T) {
	c, err := config.Parse(strings.NewReader(config.Example), "example.yaml")
	if err != nil {
		t.Fatalf("the example does not parse:\n%v", err)
	}
	l := c.Sources.Lookup
	if l == nil || l.BackfillDays != 7 || l.Delay.D() != 5*time.Minute || c.Retention.Events.D() != 365*24*time.Hour {
		t.Errorf("example decoded to %+v / lookup %+v", c, l)
	}
	if c.Sources.S3 != nil || c.Sources.SQS != nil {
		t.Error("the example's commented-out sources were decoded")
	}
	if c.Notify.Sinks["security-slack"].Type != "slack" {
		t.Errorf("notify sinks = %+v", c.Notify.Sinks)
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse(strings.NewReader("sources:\n  sqs:\n    queue_url: http://127.0.0.1:1/q\n  s3:\n    bucket: b\n    accounts: ['123456789012']\n  lookup: {}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Format != "json" || c.Keep != "identity" || c.Sources.SQS.Workers != 4 || c.Sources.SQS.Visibility.D() != 5*time.Minute ||
		c.Sources.S3.Workers != 8 || c.Sources.Lookup.Regions[0] != "us-east-1" || c.Sources.Lookup.Interval.D() != time.Minute {
		t.Errorf("defaults not filled: %+v %+v %+v %+v", c, c.Sources.SQS, c.Sources.S3, c.Sources.Lookup)
	}
}

// TestMistakes checks each bad file against its golden error text in
// testdata/mistakes/NAME.golden (go test -update rewrites them).
func TestMistakes(t *testing.T) {
	files, err := filepath.Glob("testdata/mistakes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".yaml")
		t.Run(name, func(t *testing.T) {
			r, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			_, err = config.Parse(r, filepath.Base(f))
			if err == nil {
				t.Fatal("Parse accepted it")
			}
			var ce *config.Error
			if !errors.As(err, &ce) || ce.Line == 0 {
				t.Errorf("error %v names no line", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("error:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

func TestApplyEnv(t *testing.T) {
	c, err := config.Parse(strings.NewReader("sources:\n  lookup: {}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"IAMWATCH_DB": "/tmp/x.db", "IAMWATCH_LOOKUP_REGIONS": "us-east-1,eu-west-1", "IAMWATCH_LOOKUP_BACKFILL_DAYS": "120", "IAMWATCH_LISTEN": "127.0.0.1:1"}
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.DB != "/tmp/x.db" || len(c.Sources.Lookup.Regions) != 2 || c.Server.Listen != "127.0.0.1:1" {
		t.Errorf("env not applied: %+v", c)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "backfill_days: 120 is outside") {
		t.Errorf("Validate = %v, want backfill_days error", err)
	}
	env["IAMWATCH_LOOKUP_BACKFILL_DAYS"] = "x"
	if err := c.ApplyEnv(func(k string) string { return env[k] }); err == nil {
		t.Error("bad number accepted")
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1h30m": 90 * time.Minute, "0d": 0} {
		got, err := config.ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got.D(), err, want)
		}
	}
	for _, in := range []string{"", "d", "-1d", "3 days", "1.5d"} {
		if _, err := config.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

// TestNotifyDigest: a file that says nothing gets the default actor digest
// (low alerts, one message per actor and hour); it can be turned off or
// widened to medium, never to high.
func TestNotifyDigest(t *testing.T) {
	low := iamwatch.SeverityLow
	c, err := config.Parse(strings.NewReader("log: {level: info}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := c.Notify.Digest.Holds(&iamwatch.Alert{Severity: low, UserName: "ci", AccountID: "111122223333", Time: time.Date(2026, 3, 14, 9, 26, 0, 0, time.UTC)}); !ok ||
		k != "digest/111122223333/ci/2026-03-14T09:00:00Z" {
		t.Errorf("default digest holds a low alert: %q, %v; want the actor's 09:00 digest", k, ok)
	}
	if _, ok := c.Notify.Digest.Holds(&iamwatch.Alert{Severity: iamwatch.SeverityMedium}); ok {
		t.Error("default digest holds a medium alert")
	}
	c, err = config.Parse(strings.NewReader("notify:\n  digest: {off: true}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Notify.Digest.Holds(&iamwatch.Alert{Severity: low}); ok {
		t.Error("digest off holds a low alert")
	}
	c, err = config.Parse(strings.NewReader("notify:\n  digest: {max_severity: medium, period: 2h}\n"), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Notify.Digest.Holds(&iamwatch.Alert{Severity: iamwatch.SeverityMedium}); !ok {
		t.Error("max_severity medium does not hold a medium alert")
	}
	if _, err := config.Parse(strings.NewReader("notify:\n  digest: {max_severity: high}\n"), "c.yaml"); err == nil || !strings.Contains(err.Error(), "max_severity") {
		t.Errorf("max_severity high: %v, want an error", err)
	}
}
