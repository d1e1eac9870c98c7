package notify

import (
	"context"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// TestRule is the rule id of test alerts.
const TestRule = "iamwatch-test"

// TestAlert returns the alert `iamwatch notify test --sink NAME` sends: info
// severity, clearly marked as a test, with a dedup key unique to now so a
// receiver that deduplicates still shows it.
func TestAlert(now time.Time, sink string) iamwatch.Alert {
	now = now.UTC().Truncate(time.Second)
	return iamwatch.Alert{
		DedupKey:  fmt.Sprintf("%s/%s/%d", TestRule, sink, now.Unix()),
		Rule:      TestRule,
		Severity:  iamwatch.SeverityInfo,
		Title:     "Test notification",
		Summary:   fmt.Sprintf("This is a test alert from iamwatch to sink %q. If you can read it, the sink works.", sink),
		Action:    "none; this is only a test.",
		Time:      now,
		EventName: "TestNotification",
		UserName:  "iamwatch",
		Tags:      []string{"test"},
	}
}

// SendTest sends a test alert to sink directly, bypassing the outbox, and
// returns the sink's error.
func SendTest(ctx context.Context, sink Sink, now time.Time) error {
	if err := sink.Send(ctx, []iamwatch.Alert{TestAlert(now, sink.Name())}); err != nil {
		return fmt.Errorf("notify: test %s: %w", sink.Name(), err)
	}
	return nil
}
