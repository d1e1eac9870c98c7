package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/iamwatch/iamwatch/pipeline"
)

// fakeSecrets answers Secrets Manager's GetSecretValue (JSON 1.1) with
// secret, counting the calls.
func fakeSecrets(t *testing.T, secret string, calls *int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("X-Amz-Target"); got != "secretsmanager.GetSecretValue" {
			http.Error(w, `{"__type":"UnknownOperationException"}`, http.StatusBadRequest)
			return
		}
		*calls++
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"ARN": "arn:aws:secretsmanager:us-east-1:111122223333:secret:hooks", "SecretString": secret})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestBuild(t *testing.T) {
	calls := 0
	secrets := fakeSecrets(t, `{"slack_webhook_url":"https://hooks.slack.example/T/B/x","teams_webhook_url":"","webhook_url":"https://hooks.example/iamwatch","webhook_secret":"s3cret"}`, &calls)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""), BaseEndpoint: aws.String(secrets.URL)}
	base := map[string]string{
		"IAMWATCH_TABLE_EVENTS": "t-events", "IAMWATCH_TABLE_ALERTS": "t-alerts", "IAMWATCH_TABLE_HITS": "t-hits",
		"IAMWATCH_TABLE_DELIVERIES": "t-deliveries", "IAMWATCH_TABLE_CONTROL": "t-control",
		"IAMWATCH_TOPIC_ARN":        "arn:aws:sns:us-east-1:111122223333:iamwatch-alerts",
		"IAMWATCH_NOTIFY_SECRET":    "arn:aws:secretsmanager:us-east-1:111122223333:secret:hooks",
		"IAMWATCH_ANALYTICS_BUCKET": "analytics",
	}
	tests := []struct {
		function string
		env      map[string]string
		wantErr  string
	}{
		{"realtime", nil, ""},
		{"poller", map[string]string{"IAMWATCH_POLL_REGIONS": "us-east-1, eu-west-1"}, ""},
		{"poller", map[string]string{"IAMWATCH_POLL_BACKFILL_DAYS": "7"}, ""},
		{"poller", map[string]string{"IAMWATCH_POLL_BACKFILL_DAYS": "0"}, "IAMWATCH_POLL_BACKFILL_DAYS"},
		{"poller", map[string]string{"IAMWATCH_POLL_BACKFILL_DAYS": "91"}, "IAMWATCH_POLL_BACKFILL_DAYS"},
		{"poller", map[string]string{"IAMWATCH_POLL_ACCOUNTS": "444455556666", "IAMWATCH_POLL_ROLE": "arn:aws:iam::{account}:role/iamwatch-lookup"}, ""},
		{"poller", map[string]string{"IAMWATCH_POLL_ACCOUNTS": "444455556666", "IAMWATCH_POLL_ROLE": "arn:aws:iam::444455556666:role/x"}, "IAMWATCH_POLL_ROLE"},
		{"poller", map[string]string{"IAMWATCH_POLL_ACCOUNTS": "4444-5555", "IAMWATCH_POLL_ROLE": "arn:aws:iam::{account}:role/x"}, "IAMWATCH_POLL_ACCOUNTS"},
		{"exporter", nil, ""},
		{"exporter", map[string]string{"IAMWATCH_ANALYTICS_BUCKET": ""}, "IAMWATCH_ANALYTICS_BUCKET is not set"},
		{"exporter", map[string]string{"IAMWATCH_EXPORT_LOOKBACK_DAYS": "x"}, "IAMWATCH_EXPORT_LOOKBACK_DAYS"},
		{"notifier", nil, ""},
		{"scanner", nil, `IAMWATCH_FUNCTION "scanner"`},
		{"realtime", map[string]string{"IAMWATCH_TOPIC_ARN": ""}, "IAMWATCH_TOPIC_ARN is not set"},
		{"realtime", map[string]string{"IAMWATCH_EVENT_TTL_DAYS": "-1"}, "IAMWATCH_EVENT_TTL_DAYS"},
		{"realtime", map[string]string{"IAMWATCH_KEEP": "some"}, "keep policy"},
		{"poller", map[string]string{"IAMWATCH_KEEP_SERVICE_EVENTS": "true"}, ""},
		{"realtime", map[string]string{"IAMWATCH_KEEP_SERVICE_EVENTS": "sometimes"}, "IAMWATCH_KEEP_SERVICE_EVENTS"},
		{"realtime", map[string]string{"IAMWATCH_EVENT_SHARDS": "16"}, ""},
		{"realtime", map[string]string{"IAMWATCH_EVENT_SHARDS": "65"}, "IAMWATCH_EVENT_SHARDS"},
		{"poller", map[string]string{"IAMWATCH_EVENT_SHARDS": "x"}, "IAMWATCH_EVENT_SHARDS"},
		{"realtime", map[string]string{"IAMWATCH_TABLE_EVENTS": "t-alerts"}, "used twice"},
		{"realtime", map[string]string{"IAMWATCH_GEOIP": "../../geoip/testdata/test.mmdb"}, ""},
		{"poller", map[string]string{"IAMWATCH_GEOIP": " ../../geoip/testdata/test.mmdb , "}, ""},
		{"realtime", map[string]string{"IAMWATCH_GEOIP": "/opt/geoip/missing.mmdb"}, "IAMWATCH_GEOIP"},
	}
	for _, tt := range tests {
		t.Run(tt.function+tt.wantErr, func(t *testing.T) {
			env := map[string]string{"IAMWATCH_FUNCTION": tt.function}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range tt.env {
				env[k] = v
			}
			h, err := build(t.Context(), func(k string) string { return env[k] }, cfg, slog.New(slog.DiscardHandler), time.Now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("build error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || h == nil {
				t.Fatalf("build = %v, %v", h, err)
			}
		})
	}
	if calls != 1 {
		t.Errorf("the notifier read its secret %d times, want once per cold start", calls)
	}
}

// TestRunInitError: a function that cannot be built exits 1 with the
// reason logged as JSON, without starting the runtime loop.
func TestRunInitError(t *testing.T) {
	var logs strings.Builder
	started := false
	t.Setenv("AWS_REGION", "us-east-1")
	code := run(t.Context(), func(k string) string {
		if k == "IAMWATCH_FUNCTION" {
			return "nope"
		}
		return ""
	}, &logs, func(any) { started = true })
	if code != 1 || started || !strings.Contains(logs.String(), `"msg":"init"`) {
		t.Errorf("run = %d, started %v, log %s", code, started, logs.String())
	}
}

// BenchmarkBuild is the cold-start work of the real-time function besides
// the runtime and the SDK's first connections: loading and compiling the
// rule catalog, building the store, router and sinks.
func BenchmarkBuild(b *testing.B) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}
	env := map[string]string{"IAMWATCH_FUNCTION": "realtime", "IAMWATCH_TOPIC_ARN": "arn:aws:sns:us-east-1:111122223333:t"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := build(b.Context(), func(k string) string { return env[k] }, cfg, slog.New(slog.DiscardHandler), time.Now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFilterOf: the functions store what scan and run store by default,
// service events left out unless IAMWATCH_KEEP_SERVICE_EVENTS says so.
func TestFilterOf(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want pipeline.Filter
	}{
		{nil, pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}},
		{map[string]string{"IAMWATCH_KEEP": "identity", "IAMWATCH_KEEP_SERVICE_EVENTS": "false"}, pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}},
		{map[string]string{"IAMWATCH_KEEP_SERVICE_EVENTS": "true"}, pipeline.Filter{Keep: pipeline.KeepIdentity}},
		{map[string]string{"IAMWATCH_KEEP": "all"}, pipeline.Filter{Keep: pipeline.KeepAll, DropServiceEvents: true}},
	} {
		got, err := filterOf(func(k string) string { return c.env[k] })
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("filterOf(%v) = %+v, %v; want %+v", c.env, got, err, c.want)
		}
	}
}
