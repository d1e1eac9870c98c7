package notify_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/webhook"
)

// The child half of TestKilledMidDelivery: flush the outbox in the store at
// $IAMWATCH_KILL_DB to the webhook at $IAMWATCH_KILL_URL, then exit.
const (
	killDBEnv  = "IAMWATCH_KILL_DB"
	killURLEnv = "IAMWATCH_KILL_URL"
)

func runKillChild(t *testing.T) {
	ctx := context.Background()
	store := openStoreAt(t, os.Getenv(killDBEnv))
	sink, err := webhook.New("hook", webhook.Config{URL: os.Getenv(killURLEnv)}, &http.Client{Timeout: time.Minute}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	// The delivery in flight at the kill stays claimed until its lease ends;
	// a short lease lets the restarted child retry it at once (the default,
	// 5 min, would make the restart wait that long).
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Outbox: store, Sinks: map[string]notify.Sink{"hook": sink}, Now: time.Now, Lease: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestKilledMidDelivery kills a process (SIGKILL) while a delivery is in
// flight and restarts it: every pending alert is accepted exactly once.
// The request in flight at the kill was never acknowledged (no 2xx), so its
// retry is not a duplicate from the receiver's point of view.
func TestKilledMidDelivery(t *testing.T) {
	if os.Getenv(killDBEnv) != "" {
		runKillChild(t)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "outbox.db")
	alerts := notifytest.Alerts(5)
	func() {
		s := openStoreAt(t, db)
		claim(t, s, alerts...)
		for _, a := range alerts {
			if err := s.Enqueue(ctx, a.DedupKey, []string{"hook"}, notifytest.Time); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}()

	var (
		mu       sync.Mutex
		requests = map[string]int{} // delivery ID → requests received.
		accepted = map[string]int{} // delivery ID → 2xx replies.
		inFlight = make(chan struct{})
		release  = make(chan struct{})
		n        int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(webhook.DeliveryHeader)
		mu.Lock()
		n++
		requests[id]++
		third := n == 3
		mu.Unlock()
		if third { // hold the third request until the child is dead.
			close(inFlight)
			<-release
			return
		}
		mu.Lock()
		accepted[id]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	child := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledMidDelivery$", "-test.count=1")
		cmd.Env = append(os.Environ(), killDBEnv+"="+db, killURLEnv+"="+srv.URL+"/hook")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd, &out
	}

	first, out := child()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		_ = first.Process.Kill()
		t.Fatalf("child never reached the third delivery; output:\n%s", out)
	}
	if err := first.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.Wait() // killed: the error says so
	close(release)

	second, out := child()
	if err := second.Run(); err != nil {
		t.Fatalf("restarted child: %v\n%s", err, out)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(accepted) != len(alerts) {
		t.Errorf("%d alerts accepted, want %d: %v", len(accepted), len(alerts), accepted)
	}
	for _, a := range alerts {
		id := notify.DeliveryID([]iamwatch.Alert{a})
		if accepted[id] != 1 {
			t.Errorf("%s accepted %d times, want exactly 1 (requests %d)", a.DedupKey, accepted[id], requests[id])
		}
	}
	if n != len(alerts)+1 {
		t.Errorf("%d requests, want %d (one retry of the request in flight at the kill)", n, len(alerts)+1)
	}
	s := openStoreAt(t, db)
	for _, a := range alerts {
		ds, err := s.Deliveries(ctx, a.DedupKey)
		if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent {
			t.Errorf("%s: %+v, %v", a.DedupKey, ds, err)
		}
	}
}
