package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/untrusted"
	"golang.org/x/sync/errgroup"
)

// DispatcherOptions configure a [Dispatcher]. Outbox, Sinks and Now are
// required; the rest have defaults.
type DispatcherOptions struct {
	Outbox iamwatch.Outbox
	Sinks  map[string]Sink
	// RateLimits are messages a minute per sink name (see SinkConfig.RateLimit).
	RateLimits map[string]int
	Retry      RetryPolicy
	Now        func() time.Time // wall clock: NextTry and SentAt are wall-clock times.
	Rand       func() float64   // uniform in [0, 1), for backoff jitter; nil: math/rand/v2.
	Logger     *slog.Logger
	// BatchSize is how many due deliveries one outbox read returns (100).
	BatchSize int
	// Poll is how long Run waits between flushes when not woken (5 s).
	Poll time.Duration
	// Concurrency is how many sinks are sent to at once (4); each sink's
	// deliveries go out one after the other, oldest first.
	Concurrency int
	// Lease is how long a delivery claimed for sending stays invisible to
	// other dispatchers (5 min): longer than a send can take. A dispatcher
	// that dies mid-send leaves the delivery due again after it.
	Lease time.Duration
	// Digest groups the due deliveries of alerts it holds (see [ActorDigest])
	// into one message per sink, actor and period; nil: no actor digests.
	// Pass the Router's Config.Digest.
	Digest *ActorDigest
}

// Dispatcher drains the outbox: it sends due deliveries, marks them sent,
// and schedules retries of retryable failures with exponential backoff and
// jitter (or the destination's Retry-After), marking permanent failures (and
// deliveries out of attempts) failed with the reason.
//
// A delivery is marked sent only after its sink accepted it, so a crash
// between the two sends it again on restart: delivery is at least once, and
// once marked sent, never again. Receivers that must not see a repeat use
// the dedup key each sink passes (PagerDuty dedup_key, webhook
// X-Iamwatch-Delivery).
//
// Several dispatchers (processes, Lambda instances) may drain one outbox:
// each delivery is claimed in the outbox (iamwatch.Outbox.ClaimDelivery)
// before it is sent, and only the dispatcher whose claim won sends it. A
// Dispatcher is safe for concurrent use; Flush calls are serialised.
type Dispatcher struct {
	o       DispatcherOptions
	digest  *digestPolicy
	flushMu sync.Mutex
	mu      sync.Mutex             // guards sent.
	sent    map[string][]time.Time // per sink, times of messages sent in the last minute.
	wake    chan struct{}
}

// NewDispatcher validates o and returns a dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Outbox == nil || o.Now == nil {
		return nil, errors.New("notify: dispatcher: outbox and clock are required")
	}
	for name, s := range o.Sinks {
		if s == nil {
			return nil, fmt.Errorf("notify: dispatcher: sink %q is nil", name)
		}
	}
	for name, n := range o.RateLimits {
		if n < 0 {
			return nil, fmt.Errorf("notify: dispatcher: sink %q: negative rate limit", name)
		}
	}
	o.Retry = o.Retry.withDefaults()
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Lease <= 0 {
		o.Lease = 5 * time.Minute
	}
	if err := o.Digest.validate(); err != nil {
		return nil, fmt.Errorf("notify: dispatcher: %w", err)
	}
	return &Dispatcher{o: o, digest: o.Digest.policy(), sent: map[string][]time.Time{}, wake: make(chan struct{}, 1)}, nil
}

// FlushStats counts what one Flush did, by delivery.
type FlushStats struct {
	Sent     int // marked sent.
	Retrying int // failed retryably; scheduled again.
	Failed   int // marked failed (permanent, out of attempts, or unknown sink).
	Deferred int // not attempted: rate limit reached or the sink is backing off.
	Messages int // messages sent (a digest is one).
	Taken    int // claimed or settled by another dispatcher first: not sent here.
}

func (s *FlushStats) add(o FlushStats) {
	s.Sent += o.Sent
	s.Retrying += o.Retrying
	s.Failed += o.Failed
	s.Deferred += o.Deferred
	s.Messages += o.Messages
	s.Taken += o.Taken
}

// maxRounds bounds the outbox reads of one Flush.
const maxRounds = 100

// Flush sends every delivery due now and returns what it did. It returns the
// first outbox error, or ctx's error when cancelled (deliveries being sent
// then stay pending, unchanged).
func (d *Dispatcher) Flush(ctx context.Context) (FlushStats, error) {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	var total FlushStats
	for range maxRounds {
		due, err := d.o.Outbox.Due(ctx, d.o.Now(), d.o.BatchSize)
		if err != nil {
			return total, fmt.Errorf("notify: flush: read outbox: %w", err)
		}
		if len(due) == 0 {
			return total, nil
		}
		var order []string
		bySink := map[string][]iamwatch.DueDelivery{}
		for _, dd := range due {
			if _, ok := bySink[dd.Sink]; !ok {
				order = append(order, dd.Sink)
			}
			bySink[dd.Sink] = append(bySink[dd.Sink], dd)
		}
		var mu sync.Mutex
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(d.o.Concurrency)
		for _, name := range order {
			g.Go(func() error {
				st, err := d.deliverSink(gctx, name, bySink[name])
				mu.Lock()
				total.add(st)
				mu.Unlock()
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return total, err
		}
		if len(due) < d.o.BatchSize {
			return total, nil
		}
	}
	return total, nil
}

// deliverSink sends one sink's due deliveries, oldest first, one message
// per unit (see units) while the rate limit allows, then the rest as one
// digest; after a retryable failure the rest wait with the failed one.
func (d *Dispatcher) deliverSink(ctx context.Context, name string, items []iamwatch.DueDelivery) (FlushStats, error) {
	var st FlushStats
	sink := d.o.Sinks[name]
	if sink == nil {
		for _, it := range items {
			del := it.Delivery
			del.Status, del.LastError = iamwatch.DeliveryFailed, fmt.Sprintf("sink %q is not configured", name)
			if err := d.update(ctx, del); err != nil {
				return st, err
			}
			st.Failed++
		}
		return st, nil
	}
	units := d.units(items)
	rest := func(i int) []iamwatch.DueDelivery { return slices.Concat(units[i:]...) }
	for i := 0; i < len(units); {
		now := d.o.Now()
		budget, free := d.budget(name, now)
		if budget <= 0 {
			n, err := d.postpone(ctx, rest(i), free)
			st.Deferred += n
			return st, err
		}
		next := units[i]
		i++
		if budget == 1 {
			// The last message this minute: it carries every unit that fits.
			for i < len(units) && len(next)+len(units[i]) <= MaxDigest {
				next = slices.Concat(next, units[i])
				i++
			}
		}
		// An actor digest whose first delivery another dispatcher claimed
		// is that dispatcher's to send: skip it whole rather than split it.
		digest := len(next) > 1 && d.digest.holds(&next[0].Alert)
		batch, taken, err := d.claim(ctx, next, digest)
		st.Taken += taken
		if err != nil {
			return st, err
		}
		if len(batch) == 0 {
			continue
		}
		alerts := make([]iamwatch.Alert, len(batch))
		for j, it := range batch {
			alerts[j] = it.Alert
		}
		err = sink.Send(ctx, alerts)
		if ctx.Err() != nil {
			// Shutting down: give the claims back, so the next start sends
			// them at once instead of after the lease.
			d.release(context.WithoutCancel(ctx), batch)
			return st, ctx.Err()
		}
		now = d.o.Now()
		if err == nil {
			d.record(name, now)
			st.Messages++
			for _, it := range batch {
				del := it.Delivery
				del.Attempts++
				del.Status, del.SentAt, del.LastError = iamwatch.DeliverySent, now, ""
				if err := d.update(ctx, del); err != nil {
					return st, err
				}
				st.Sent++
			}
			continue
		}
		reason := untrusted.Text(err.Error(), 500)
		retry := !IsPermanent(err)
		var retryAt time.Time
		for _, it := range batch {
			del := it.Delivery
			del.Attempts++
			del.LastError = reason
			switch {
			case !retry:
				del.Status = iamwatch.DeliveryFailed
				st.Failed++
			case del.Attempts >= d.o.Retry.MaxAttempts:
				del.Status = iamwatch.DeliveryFailed
				del.LastError = untrusted.Text(fmt.Sprintf("gave up after %d attempts: %s", del.Attempts, reason), 500)
				st.Failed++
			default:
				wait := RetryAfter(err)
				if wait <= 0 {
					wait = d.Backoff(del.Attempts)
				}
				del.NextTry = now.Add(wait)
				if del.NextTry.After(retryAt) {
					retryAt = del.NextTry
				}
				st.Retrying++
			}
			if err := d.update(ctx, del); err != nil {
				return st, err
			}
		}
		d.o.Logger.LogAttrs(ctx, slog.LevelWarn, "notify: send failed",
			slog.String("sink", name), slog.Int("alerts", len(batch)), slog.Bool("retry", retry), slog.String("error", reason))
		if retry && !retryAt.IsZero() {
			// The destination is down or throttling: the rest wait too.
			n, err := d.postpone(ctx, rest(i), retryAt)
			st.Deferred += n
			return st, err
		}
	}
	return st, nil
}

// units splits one sink's due deliveries into what one message each
// carries, in the order of their first delivery: the deliveries that share
// a MessageKey (one actor's digest; one rule and actor's burst), by event
// time, at most MaxDigest a message, or a delivery on its own.
func (d *Dispatcher) units(items []iamwatch.DueDelivery) [][]iamwatch.DueDelivery {
	var out [][]iamwatch.DueDelivery
	at := map[string]int{} // message key → index in out
	for _, it := range items {
		k := d.digest.messageKey(&it.Alert)
		if k == "" {
			out = append(out, []iamwatch.DueDelivery{it})
			continue
		}
		if j, ok := at[k]; ok && len(out[j]) < MaxDigest {
			out[j] = append(out[j], it)
			continue
		}
		at[k] = len(out)
		out = append(out, []iamwatch.DueDelivery{it})
	}
	for _, u := range out {
		slices.SortFunc(u, func(a, b iamwatch.DueDelivery) int {
			return cmp.Or(a.Alert.Time.Compare(b.Alert.Time), strings.Compare(a.AlertKey, b.AlertKey))
		})
	}
	return out
}

// postpone moves items' next try to until without counting an attempt.
func (d *Dispatcher) postpone(ctx context.Context, items []iamwatch.DueDelivery, until time.Time) (int, error) {
	for _, it := range items {
		del := it.Delivery
		del.NextTry = until
		if err := d.update(ctx, del); err != nil {
			return 0, err
		}
	}
	return len(items), nil
}

// release gives back claims taken by claim (their NextTry is the lease
// end): due now, as they were. A claim that another sender took in the
// meantime is left alone; a store error is logged (the lease still ends).
func (d *Dispatcher) release(ctx context.Context, items []iamwatch.DueDelivery) {
	now := d.o.Now()
	for _, it := range items {
		if _, err := d.o.Outbox.ClaimDelivery(ctx, it.Delivery, now); err != nil {
			d.o.Logger.LogAttrs(ctx, slog.LevelWarn, "notify: release claim",
				slog.String("alert", it.AlertKey), slog.String("sink", it.Sink), slog.String("error", err.Error()))
		}
	}
}

// claim takes items for sending (see iamwatch.Outbox.ClaimDelivery) and
// returns those this dispatcher won, their NextTry set to the lease end,
// and how many another dispatcher had taken. With whole set, losing the
// first item takes none of them: the dispatcher that won it sends them.
func (d *Dispatcher) claim(ctx context.Context, items []iamwatch.DueDelivery, whole bool) ([]iamwatch.DueDelivery, int, error) {
	until := d.o.Now().Add(d.o.Lease)
	won := make([]iamwatch.DueDelivery, 0, len(items))
	for i, it := range items {
		ok, err := d.o.Outbox.ClaimDelivery(ctx, it.Delivery, until)
		if err != nil {
			return won, len(items) - len(won), fmt.Errorf("notify: claim delivery of %s to %s: %w", it.AlertKey, it.Sink, err)
		}
		if !ok && i == 0 && whole {
			return nil, len(items), nil
		}
		if ok {
			it.NextTry = until
			won = append(won, it)
		}
	}
	return won, len(items) - len(won), nil
}

// update writes del. A delivery another dispatcher settled meanwhile (its
// lease ran out while this one was sending) is left as it is and logged:
// the alert was delivered, once by each.
func (d *Dispatcher) update(ctx context.Context, del iamwatch.Delivery) error {
	err := d.o.Outbox.UpdateDelivery(ctx, del)
	if errors.Is(err, iamwatch.ErrDeliverySettled) {
		d.o.Logger.LogAttrs(ctx, slog.LevelWarn, "notify: delivery settled by another dispatcher",
			slog.String("alert", del.AlertKey), slog.String("sink", del.Sink), slog.String("status", string(del.Status)))
		return nil
	}
	if err != nil {
		return fmt.Errorf("notify: mark delivery of %s to %s %s: %w", del.AlertKey, del.Sink, del.Status, err)
	}
	return nil
}

// Backoff returns the wait before the attempt after the attempts-th failure:
// Base·2^(attempts-1) capped at Max, of which the lower half is fixed and the
// upper half random.
func (d *Dispatcher) Backoff(attempts int) time.Duration {
	p := d.o.Retry
	w := p.Base
	for i := 1; i < attempts && w < p.Max; i++ {
		w *= 2
	}
	w = min(w, p.Max)
	half := w / 2
	return half + time.Duration(d.o.Rand()*float64(w-half))
}

// budget returns how many more messages sink may send in the minute before
// now (a large number when unlimited) and, when none, when one frees up.
func (d *Dispatcher) budget(sink string, now time.Time) (int, time.Time) {
	limit := d.o.RateLimits[sink]
	if limit <= 0 {
		return int(^uint(0) >> 1), time.Time{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ts := d.sent[sink]
	cut := 0
	for cut < len(ts) && !ts[cut].After(now.Add(-time.Minute)) {
		cut++
	}
	ts = ts[cut:]
	d.sent[sink] = ts
	if len(ts) < limit {
		return limit - len(ts), time.Time{}
	}
	return 0, ts[len(ts)-limit].Add(time.Minute)
}

func (d *Dispatcher) record(sink string, t time.Time) {
	if d.o.RateLimits[sink] <= 0 {
		return
	}
	d.mu.Lock()
	d.sent[sink] = append(d.sent[sink], t)
	d.mu.Unlock()
}

// Wake makes a running Run flush now instead of at its next poll. It never
// blocks.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run flushes until ctx is done: at once, then whenever woken and every
// Poll. Flush errors are logged and retried at the next poll. It returns nil
// when ctx is cancelled.
func (d *Dispatcher) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.wake:
		}
		if _, err := d.Flush(ctx); err != nil && ctx.Err() == nil {
			d.o.Logger.LogAttrs(ctx, slog.LevelError, "notify: flush", slog.String("error", err.Error()))
		}
		t.Reset(d.o.Poll)
	}
}
