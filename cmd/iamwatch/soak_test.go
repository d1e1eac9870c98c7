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

	"github.com/iamwatch/iamwatch/internal/syncbuf"
	"github.com/iamwatch/iamwatch/internal/testserver"
)

// flakySink is a webhook receiver that goes down and comes back: it fails
// three requests (500, a connection reset, 429 with Retry-After), then
// acknowledges (204) the next twelve, and so on. It counts the alerts of
// the requests it acknowledged, by dedup key.
type flakySink struct {
	srv *httptest.Server

	mu       sync.Mutex
	requests int
	failed   int
	acked    map[string]int
}

func startFlakySink(t *testing.T) *flakySink {
	s := &flakySink{acked: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Alerts []struct {
				DedupKey string `json:"dedup_key"`
			} `json:"alerts"`
		}
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		down := s.requests%15 < 3
		s.requests++
		if down {
			s.failed++
		}
		switch {
		case down && s.failed%3 == 1:
			http.Error(w, "down", http.StatusInternalServerError)
		case down && s.failed%3 == 2:
			if c, _, err := w.(http.Hijacker).Hijack(); err == nil {
				c.Close()
			}
		case down:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		default:
			if err := json.Unmarshal(b, &body); err != nil || len(body.Alerts) == 0 {
				http.Error(w, "no alerts", http.StatusBadRequest)
				return
			}
			for _, a := range body.Alerts {
				s.acked[a.DedupKey]++
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *flakySink) state() (failed int, acked map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.acked))
	for k, v := range s.acked {
		m[k] = v
	}
	return s.failed, m
}

// TestSoakSinkFailsAndRecovers runs the daemon (lookup source on a local
// CloudTrail server, webhook sink on a local receiver that goes down and
// comes back, failing in three ways) until every alert is acknowledged,
// bounded at 90 s: every alert the store holds reaches the receiver
// exactly once, through at least two outages, and every delivery is
// recorded as sent.
func TestSoakSinkFailsAndRecovers(t *testing.T) {
	if testing.Short() {
		t.Skip("soak")
	}
	now := time.Now().UTC()
	fake := testserver.StartLookup(t, testserver.LookupOptions{Rate: 100})
	sts := testserver.StartSTS(t, testserver.STSOptions{})
	setAWSEnv(t, map[string]string{"CLOUDTRAIL": fake.URL, "STS": sts.URL})
	const users = 24
	for i := range users * 3 {
		ev := testserver.LookupEvent{ID: fmt.Sprintf("soak-%04d", i), Name: "ListUsers", Source: "iam.amazonaws.com", Region: "us-east-1",
			ReadOnly: "true", Time: now.Add(-2*time.Hour + time.Duration(i)*20*time.Second).Truncate(time.Second)}
		if i%3 == 0 {
			// One actor each: the alerts of one rule and actor found
			// together would go out as one message (notify.MessageKey).
			ev.Name, ev.ReadOnly, ev.Username = "CreateUser", "false", fmt.Sprintf("admin-%02d", i/3)
		}
		fake.Add(ev)
	}
	sink := startFlakySink(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "db")
	cfgPath := filepath.Join(dir, "iamwatch.yaml")
	cfg := fmt.Sprintf(`db: %s
log: {format: json, level: warn}
sources:
  lookup:
    regions: [us-east-1]
    backfill_days: 1
    interval: 1s
notify:
  sinks:
    hook: {type: webhook, url: %s}
  routes:
    - {sinks: [hook]}
  retry: {base: 50ms, max: 400ms, max_attempts: 100}
`, db, sink.srv.URL)
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
	waitFor(t, 90*time.Second, fmt.Sprintf("%d alerts acknowledged", users), func() bool {
		_, acked := sink.state()
		return len(acked) >= users
	})
	time.Sleep(6 * time.Second) // a second copy, if any, has time to arrive (the dispatcher polls every 5 s)
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	failed, acked := sink.state()
	if failed < 6 {
		t.Errorf("only %d requests failed: fewer than two outages", failed)
	}
	if len(acked) != users {
		t.Errorf("%d alerts acknowledged, want %d", len(acked), users)
	}
	for k, n := range acked {
		if n != 1 {
			t.Errorf("alert %s acknowledged %d times, want once", k, n)
		}
	}
	sent := sentKeys(db)
	for k := range acked {
		if !sent[k] {
			t.Errorf("alert %s acknowledged but not recorded as sent", k)
		}
	}
	if len(sent) != users {
		t.Errorf("%d deliveries recorded as sent, want %d", len(sent), users)
	}
}
