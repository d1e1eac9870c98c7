package dynamodb_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// countingSink records every alert it is sent, taking a little time per
// message so that concurrent dispatchers overlap.
type countingSink struct {
	mu   sync.Mutex
	sent map[string]int
}

func (s *countingSink) Name() string { return "hook" }

func (s *countingSink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	time.Sleep(20 * time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		s.sent[a.DedupKey]++
	}
	return nil
}

// TestConcurrentDispatchersSendOnce: several functions flushing one
// DynamoDB outbox at the same moment (two EventBridge rules delivering one
// event, the scheduled flush) send each delivery once: a delivery is
// claimed before it is sent, and only one claim wins.
func TestConcurrentDispatchersSendOnce(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, emulator(t), dynamodb.Config{})
	now := time.Now()
	const alerts = 6
	for i := range alerts {
		a := iamwatch.Alert{DedupKey: fmt.Sprintf("k%d", i), Rule: "r", Severity: iamwatch.SeverityHigh, Title: "t",
			Time: now, EventIDs: []string{fmt.Sprintf("e-%d", i)}, Count: 1}
		if _, err := iamwatch.ClaimAlert(ctx, s, a); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, a.DedupKey, []string{"hook"}, now); err != nil {
			t.Fatal(err)
		}
	}
	sink := &countingSink{sent: map[string]int{}}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		d, err := notify.NewDispatcher(notify.DispatcherOptions{
			Outbox: s, Sinks: map[string]notify.Sink{"hook": sink}, Now: time.Now,
			RateLimits: map[string]int{}, Concurrency: 1,
		})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			_, err := d.Flush(ctx)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Flush: %v", err)
		}
	}
	for i := range alerts {
		k := fmt.Sprintf("k%d", i)
		if n := sink.sent[k]; n != 1 {
			t.Errorf("alert %s sent %d times, want once", k, n)
		}
		ds, err := s.Deliveries(ctx, k)
		if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent || ds[0].Attempts != 1 {
			t.Errorf("deliveries of %s = %+v, %v; want one sent after 1 attempt", k, ds, err)
		}
	}
}
