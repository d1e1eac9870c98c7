package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
)

// SNS handles notifications from the alert topic (the notifier function):
// each message's alerts, and the alert made of each CloudWatch alarm
// notification of the stack's own alarms, go to Deps.Notify. An error makes Lambda retry the
// whole invocation, which is safe: the outbox sends each (alert, sink) once.
func (h *Handler) SNS(ctx context.Context, payload []byte) error {
	if h.d.Notify == nil {
		return errNotConfigured("alert notifications")
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return fmt.Errorf("lambda: sns event: %w", err)
	}
	var alerts []iamwatch.Alert
	for _, r := range ev.Records {
		m, err := nsns.DecodeAlertMessage([]byte(r.SNS.Message))
		if err != nil && h.d.Alarms != nil {
			a, aerr := DecodeAlarm([]byte(r.SNS.Message))
			switch {
			case aerr == nil:
				// The alert must be stored before its deliveries are
				// enqueued; claiming it again (an SNS repeat) is a no-op.
				if _, err := iamwatch.ClaimAlert(ctx, h.d.Alarms, a); err != nil {
					return fmt.Errorf("lambda: alarm %s: %w", a.DedupKey, err)
				}
				alerts = append(alerts, a)
				continue
			case !errors.Is(aerr, errNotAlarm):
				err = aerr
			}
		}
		if err != nil {
			// Not retryable: log it and go on, so one bad message cannot
			// block the topic's others.
			h.log.LogAttrs(ctx, slog.LevelError, "sns: message refused",
				slog.String("message_id", r.SNS.MessageID), slog.String("error", err.Error()))
			continue
		}
		alerts = append(alerts, m.Alerts...)
	}
	if len(alerts) == 0 {
		return nil
	}
	if err := h.d.Notify(ctx, alerts); err != nil {
		return fmt.Errorf("lambda: notify %d alerts: %w", len(alerts), err)
	}
	return nil
}

// Notifier returns a Deps.Notify that puts each alert's deliveries in the
// outbox through router, then sends them with flush. The alerts must be in
// the store already (the real-time function claimed them before publishing).
func Notifier(router *notify.Router, flush func(ctx context.Context) error) func(context.Context, []iamwatch.Alert) error {
	return func(ctx context.Context, alerts []iamwatch.Alert) error {
		for _, a := range alerts {
			if _, err := router.Enqueue(ctx, a); err != nil {
				return err
			}
		}
		return flush(ctx)
	}
}

// Digest returns the actor digest of the Lambda deployment, which has no
// configuration file: the defaults (alerts at or below low, one message per
// actor and hour). Routers that enqueue for these dispatchers use it too.
func Digest() *notify.ActorDigest { return &notify.ActorDigest{} }

// Flusher returns a Deps.Flush: a dispatcher over the deliveries of sinks
// only (other functions own the other sinks of the shared outbox), built
// per call, that sends what is due. Failed sends stay in the outbox
// (retried by the next flush, or marked failed) and are logged; only an
// outbox error is returned.
func Flusher(outbox iamwatch.Outbox, sinks map[string]notify.Sink, retry notify.RetryPolicy, now func() time.Time, log *slog.Logger) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		return flush(ctx, &filteredOutbox{Outbox: outbox, sinks: sinks}, sinks, retry, now, log)
	}
}

// Publisher returns a Deps.Publish: like Flusher, but restricted to the
// deliveries of the given alerts, so concurrent instances do not send each
// other's deliveries.
func Publisher(outbox iamwatch.Outbox, sinks map[string]notify.Sink, retry notify.RetryPolicy, now func() time.Time, log *slog.Logger) func(ctx context.Context, alertKeys []string) error {
	return func(ctx context.Context, keys []string) error {
		only := make(map[string]bool, len(keys))
		for _, k := range keys {
			only[k] = true
		}
		return flush(ctx, &filteredOutbox{Outbox: outbox, sinks: sinks, keys: only}, sinks, retry, now, log)
	}
}

func flush(ctx context.Context, outbox iamwatch.Outbox, sinks map[string]notify.Sink, retry notify.RetryPolicy, now func() time.Time, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d, err := notify.NewDispatcher(notify.DispatcherOptions{Outbox: outbox, Sinks: sinks, Retry: retry, Digest: Digest(), Now: now, Logger: log})
	if err != nil {
		return err
	}
	st, err := d.Flush(ctx)
	log.LogAttrs(ctx, slog.LevelInfo, "flush", slog.Int("sent", st.Sent), slog.Int("retrying", st.Retrying),
		slog.Int("failed", st.Failed), slog.Int("deferred", st.Deferred))
	return err
}

// filteredOutbox shows a dispatcher only the due deliveries of its sinks
// (and, when keys is set, of those alerts).
type filteredOutbox struct {
	iamwatch.Outbox
	sinks map[string]notify.Sink
	keys  map[string]bool
}

// Due reads every due delivery and filters: the outbox is small (deliveries
// expire with their alerts), and a limit applied before the filter could
// hide this function's deliveries behind another's.
func (f *filteredOutbox) Due(ctx context.Context, now time.Time, limit int) ([]iamwatch.DueDelivery, error) {
	all, err := f.Outbox.Due(ctx, now, 0)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if _, ok := f.sinks[d.Sink]; !ok {
			continue
		}
		if f.keys != nil && !f.keys[d.AlertKey] {
			continue
		}
		out = append(out, d)
	}
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
