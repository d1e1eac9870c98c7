package source

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/pipeline"
)

// Processor is the pipeline as a source sees it: *pipeline.Pipeline, or the
// daemon's wrapper around it. A source advances its checkpoint only after
// Process returned nil for every event up to it.
type Processor interface {
	Process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error)
}

// Observer is told what sources do, for metrics. Implementations must be
// safe for concurrent use; sources call it from several goroutines.
type Observer interface {
	// Batch reports a stored batch; newest is its newest event time (zero
	// when the batch was empty).
	Batch(source string, res pipeline.Result, newest time.Time)
	// Rejected reports records or inputs that could not be decoded.
	Rejected(source string, n int)
	// APIError reports a failed AWS call (op is the operation name);
	// throttled says it was a throttling error.
	APIError(source, op string, throttled bool)
}

// Nop is an Observer that ignores everything.
type Nop struct{}

func (Nop) Batch(string, pipeline.Result, time.Time) {}
func (Nop) Rejected(string, int)                     {}
func (Nop) APIError(string, string, bool)            {}

// Checkpoint statuses (iamwatch.Checkpoint.Status).
const (
	StatusActive = "active" // the last run succeeded.
	StatusError  = "error"  // the last run failed; LastError says why. It is retried.
	StatusPaused = "paused" // set by the operator (iamwatch status --pause): not polled.
)

// Newest returns the newest event time of events (zero for none).
func Newest(events []iamwatch.Event) time.Time {
	var t time.Time
	for i := range events {
		if events[i].Time.After(t) {
			t = events[i].Time
		}
	}
	return t
}

// Backoff returns the wait after the attempt-th consecutive failure (1, 2,
// …): base·2^(attempt-1), at most max, of which the lower half is fixed and
// the upper half random ("equal jitter"). rnd returns a uniform float in
// [0, 1); nil means math/rand/v2.
func Backoff(attempt int, base, max time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = rand.Float64
	}
	w := base
	for i := 1; i < attempt && w < max; i++ {
		w *= 2
	}
	w = min(w, max)
	half := w / 2
	return half + time.Duration(rnd()*float64(w-half))
}

// Sleep waits d, or until ctx is done (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Pacer spaces calls at least 1/rate seconds apart by the clock now: a rate
// limiter with a burst of one, which keeps a caller under an API's
// documented request rate whatever else it does. Safe for concurrent use.
type Pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
	now      func() time.Time
}

// NewPacer returns a Pacer allowing rate calls a second (rate > 0).
func NewPacer(rate float64, now func() time.Time) *Pacer {
	return &Pacer{interval: time.Duration(float64(time.Second) / rate), now: now}
}

// Wait blocks until the next call is allowed, or ctx is done.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	now := p.now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	return Sleep(ctx, at.Sub(now))
}

// DecodeObject decodes one downloaded trail file (or any CloudTrail shape)
// named name. A record that cannot be decoded is counted in rejected and
// left out; err is for the object as a whole: cloudtrail.ErrSkipped for a
// digest or Insights file, or why nothing could be read.
func DecodeObject(ctx context.Context, name string, body []byte, opt cloudtrail.Options) (events []iamwatch.Event, rejected int, err error) {
	opt.OnError = func(re *cloudtrail.RecordError) {
		if !errors.Is(re.Err, cloudtrail.ErrSkipped) {
			rejected++
		}
	}
	_, err = cloudtrail.Decode(ctx, bytes.NewReader(body), name, opt, func(ev *iamwatch.Event) error {
		events = append(events, *ev)
		return nil
	})
	return events, rejected, err
}

// ProcessChunks runs events through p in batches of at most size, and
// reports each to obs under name. The batches are finished even when ctx is
// cancelled (shutdown finishes the work in hand); p's error stops it.
func ProcessChunks(ctx context.Context, p Processor, obs Observer, name string, events []iamwatch.Event, size int) (pipeline.Result, error) {
	var total pipeline.Result
	ctx = context.WithoutCancel(ctx)
	for len(events) > 0 {
		n := min(size, len(events))
		res, err := p.Process(ctx, events[:n])
		total.Add(res)
		if err != nil {
			return total, err
		}
		obs.Batch(name, res, Newest(events[:n]))
		events = events[n:]
	}
	return total, nil
}
