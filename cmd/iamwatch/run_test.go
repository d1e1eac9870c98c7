package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/config"
	"github.com/iamwatch/iamwatch/internal/syncbuf"
	"github.com/iamwatch/iamwatch/internal/testserver"
)

func TestInit(t *testing.T) {
	r := runCLI(t, "", nil, "init", "-")
	if r.code != 0 || r.stdout != config.Example {
		t.Fatalf("init - = %d, stdout differs from config.Example; stderr %s", r.code, r.stderr)
	}
	path := filepath.Join(t.TempDir(), "iamwatch.yaml")
	if r := runCLI(t, "", nil, "init", path); r.code != 0 {
		t.Fatalf("init FILE = %d: %s", r.code, r.stderr)
	}
	if r := runCLI(t, "", nil, "config", "validate", path); r.code != 0 || r.stdout != path+": ok\n" {
		t.Errorf("validate the written example = %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, "", nil, "init", path); r.code != exitError || !strings.Contains(r.stderr, "--force") {
		t.Errorf("init over an existing file = %d %q, want refusal naming --force", r.code, r.stderr)
	}
	if r := runCLI(t, "", nil, "init", "--force", path); r.code != 0 {
		t.Errorf("init --force = %d %q", r.code, r.stderr)
	}
}

func TestConfigValidate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	bad := "log:\n  format: xml\nsources:\n  lookup:\n    backfill_days: 91\n    regoins: [us-east-1]\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", nil, "config", "validate", path)
	if r.code != exitError {
		t.Fatalf("exit %d, want %d", r.code, exitError)
	}
	golden(t, "config-validate-bad.txt", strings.ReplaceAll(r.stdout, path, "bad.yaml"))
	if r := runCLI(t, "", nil, "config", "validate"); r.code != exitUsage {
		t.Errorf("no FILE: exit %d, want %d", r.code, exitUsage)
	}
}

func TestRunNeedsConfig(t *testing.T) {
	r := runCLI(t, "", nil, "run")
	if r.code != exitUsage || !strings.Contains(r.stderr, "IAMWATCH_CONFIG") {
		t.Errorf("run without config = %d %q", r.code, r.stderr)
	}
}

// webhookSink is an httptest webhook receiver counting alert deliveries.
type webhookSink struct {
	mu       sync.Mutex
	requests int
	byKey    map[string]int
	srv      *httptest.Server
}

func startWebhook(t *testing.T) *webhookSink {
	w := &webhookSink{byKey: map[string]int{}}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var body struct {
			Alerts []struct {
				DedupKey string `json:"dedup_key"`
			} `json:"alerts"`
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		w.mu.Lock()
		w.requests++
		for _, a := range body.Alerts {
			w.byKey[a.DedupKey]++
		}
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookSink) counts() (int, map[string]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	m := map[string]int{}
	for k, v := range w.byKey {
		m[k] = v
	}
	return w.requests, m
}

// setAWSEnv points the SDK at the fakes through its standard variables.
func setAWSEnv(t *testing.T, endpoints map[string]string) {
	for svc, url := range endpoints {
		t.Setenv("AWS_ENDPOINT_URL_"+svc, url)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testserver.AccessKeyFor("111122223333"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// TestRunLookup runs the daemon against the LookupEvents fake with a
// webhook sink: events are stored, the alert delivered once, /healthz and
// /metrics answer, SIGTERM-like cancellation exits 0, and status shows the
// checkpoints.
func TestRunLookup(t *testing.T) {
	now := time.Now().UTC()
	fake := testserver.StartLookup(t, testserver.LookupOptions{Rate: 100})
	sts := testserver.StartSTS(t, testserver.STSOptions{})
	setAWSEnv(t, map[string]string{"CLOUDTRAIL": fake.URL, "STS": sts.URL})
	hook := startWebhook(t)
	fake.Add(
		testserver.LookupEvent{ID: "create-1", Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", Time: now.Add(-time.Hour).Truncate(time.Second)},
		testserver.LookupEvent{ID: "list-1", Name: "ListUsers", Source: "iam.amazonaws.com", Region: "us-east-1", ReadOnly: "true", Time: now.Add(-50 * time.Minute).Truncate(time.Second)},
		testserver.LookupEvent{ID: "sts-1", Name: "GetCallerIdentity", Source: "sts.amazonaws.com", Region: "eu-west-1", ReadOnly: "true", Time: now.Add(-40 * time.Minute).Truncate(time.Second)},
	)
	listen := fmt.Sprintf("127.0.0.1:%d", testserver.FreePort(t))
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "iamwatch.yaml")
	cfg := fmt.Sprintf(`db: %s
log: {format: json, level: info}
sources:
  lookup:
    regions: [us-east-1, eu-west-1]
    backfill_days: 1
    interval: 1s
notify:
  sinks:
    hook:
      type: webhook
      url: %s
server:
  listen: %s
`, filepath.Join(dir, "db"), hook.srv.URL, listen)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "--config", cfgPath}, func(string) string { return "" }, strings.NewReader(""), io.Discard, &stderr)
	}()
	waitFor(t, 20*time.Second, "the alert delivered", func() bool { n, _ := hook.counts(); return n > 0 })
	waitFor(t, 10*time.Second, "3 events in the metrics", func() bool {
		return strings.Contains(httpGet(t, "http://"+listen+"/metrics"), `iamwatch_events_total{source="lookup"} 3`)
	})
	metrics := httpGet(t, "http://"+listen+"/metrics")
	for _, want := range []string{`iamwatch_alerts_total{rule="iam-user-created",severity="high"} 1`, `iamwatch_deliveries_total{sink="hook"} 1`, `iamwatch_source_lag_seconds{source="lookup"}`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics)
		}
	}
	if h := httpGet(t, "http://"+listen+"/healthz"); !strings.Contains(h, `"status":"ok"`) {
		t.Errorf("healthz = %s", h)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d: %s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	if _, keys := hook.counts(); len(keys) != 1 {
		t.Errorf("webhook deliveries by alert = %v, want one alert once", keys)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if !json.Valid([]byte(line)) && !strings.HasPrefix(line, "iamwatch: created database") {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	r := runCLI(t, "", nil, "status", "--db", filepath.Join(dir, "db"))
	if r.code != 0 {
		t.Fatalf("status = %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"lookup/111122223333/us-east-1/iam.amazonaws.com", "lookup/111122223333/eu-west-1/sts.amazonaws.com", "active"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
	r = runCLI(t, "", nil, "status", "--db", filepath.Join(dir, "db"), "--pause", "lookup/111122223333/us-east-1/iam.amazonaws.com", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"key":"lookup/111122223333/us-east-1/iam.amazonaws.com","status":"paused"`) {
		t.Errorf("status --pause = %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
