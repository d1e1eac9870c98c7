package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/pipeline"
)

// Kind is what an invocation is, found from the payload's shape.
type Kind string

// The kinds of invocation.
const (
	KindEventBridge Kind = "eventbridge" // an EventBridge event of a CloudTrail record.
	KindSQS         Kind = "sqs"         // an SQS batch.
	KindSNS         Kind = "sns"         // an SNS notification of alerts (the notifier).
	KindTask        Kind = "task"        // a scheduled task: {"iamwatch":"poll"|"export"|"flush"}.
)

// The scheduled tasks, the value of the "iamwatch" key of a schedule's input.
const (
	TaskPoll   = "poll"   // poll LookupEvents once.
	TaskExport = "export" // run the Parquet export.
	TaskFlush  = "flush"  // send the deliveries due in the outbox.
)

// ObjectReader opens S3 objects (trail log files).
type ObjectReader interface {
	Open(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// Poller polls a source once; *lookup.Source is one.
type Poller interface {
	PollOnce(ctx context.Context) error
}

// Exporter writes the events since its last run to the analytics bucket
// (cmd/iamwatch-lambda runs package export over the DynamoDB events
// table). A function configured without one refuses export tasks.
type Exporter interface {
	Export(ctx context.Context, now time.Time) error
}

// Deps are what the handlers use. Every field is optional: an invocation
// whose dependencies are missing fails with an error saying so, which is how
// one binary serves several functions with a role each.
type Deps struct {
	// The pipeline's parts, for EventBridge and SQS invocations. The
	// handlers build a pipeline per invocation, to learn which alerts it
	// matched.
	Store    pipeline.Store
	Detector pipeline.Detector
	Filter   pipeline.Filter
	// Enqueue puts a matched alert's deliveries in the outbox
	// (notify.Router.Enqueue); Publish then sends the deliveries of the
	// given alerts now (see Publisher). Both may be nil (no alerting).
	Enqueue func(ctx context.Context, a iamwatch.Alert) error
	Publish func(ctx context.Context, alertKeys []string) error

	Objects  ObjectReader // SQS messages pointing at trail files.
	Poller   Poller       // task poll.
	Exporter Exporter     // task export.
	// Notify handles alerts arriving from the SNS topic (the notifier
	// function): see Notifier.
	Notify func(ctx context.Context, alerts []iamwatch.Alert) error
	// Flush sends everything due (task flush; the notifier's retries).
	Flush func(ctx context.Context) error
	// Alarms is where the notifier claims the alerts it makes of the
	// stack's CloudWatch alarm notifications (see DecodeAlarm) before they
	// go to Notify; nil: alarm notifications are refused (logged).
	Alarms iamwatch.AlertStore

	Decode cloudtrail.Options
	Logger *slog.Logger
	Now    func() time.Time // wall clock; nil: time.Now.
}

// Handler serves every kind of invocation with one set of dependencies. It
// holds no per-invocation state and is safe for concurrent use (Lambda calls
// it once at a time per instance anyway).
type Handler struct {
	d   Deps
	dec *cloudtrail.Decoder
	log *slog.Logger
}

// New validates d and returns a Handler.
func New(d Deps) (*Handler, error) {
	dec, err := cloudtrail.NewDecoder(d.Decode)
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	if err := d.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{d: d, dec: dec, log: d.Logger}, nil
}

// Detect returns the kind of payload, by its shape:
//
//	{"Records":[{"eventSource":"aws:sqs",…}]}   KindSQS
//	{"Records":[{"EventSource":"aws:sns",…}]}   KindSNS
//	{"iamwatch":"poll"}                         KindTask (the schedules' constant input)
//	{"detail-type":…,"detail":{…}}              KindEventBridge
func Detect(payload []byte) (Kind, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"` // SNS spells it EventSource; json matches either.
		} `json:"Records"`
		Task       *string         `json:"iamwatch"`
		DetailType *string         `json:"detail-type"`
		Detail     json.RawMessage `json:"detail"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return "", fmt.Errorf("lambda: payload is not a JSON object: %w", err)
	}
	switch {
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sqs":
		return KindSQS, nil
	case len(probe.Records) > 0 && probe.Records[0].EventSource == "aws:sns":
		return KindSNS, nil
	case probe.Task != nil:
		return KindTask, nil
	case probe.DetailType != nil && len(probe.Detail) > 0:
		return KindEventBridge, nil
	}
	return "", errors.New("lambda: unknown payload shape (want an EventBridge event, an SQS or SNS batch, or a task)")
}

// Invoke handles one invocation: the function the Lambda runtime calls. The
// result is the SQS batch response for SQS invocations, nil otherwise.
func (h *Handler) Invoke(ctx context.Context, payload json.RawMessage) (any, error) {
	kind, err := Detect(payload)
	if err != nil {
		return nil, err
	}
	switch kind {
	case KindEventBridge:
		res, err := h.EventBridge(ctx, payload)
		h.log.LogAttrs(ctx, slog.LevelInfo, "eventbridge", resultAttrs(res, err)...)
		return nil, err
	case KindSQS:
		return h.SQS(ctx, payload)
	case KindSNS:
		return nil, h.SNS(ctx, payload)
	default:
		var t struct {
			Task string `json:"iamwatch"`
		}
		if err := json.Unmarshal(payload, &t); err != nil {
			return nil, fmt.Errorf("lambda: task: %w", err)
		}
		return nil, h.Task(ctx, t.Task)
	}
}

func resultAttrs(res pipeline.Result, err error) []slog.Attr {
	a := []slog.Attr{
		slog.Int("events", res.Events), slog.Int("stored", res.Stored), slog.Int("duplicates", res.Duplicates),
		slog.Int("alerts", res.Alerts), slog.Int("new_alerts", res.NewAlerts),
	}
	if err != nil {
		a = append(a, slog.String("error", err.Error()))
	}
	return a
}

// errNotConfigured says the function was deployed without what a kind of
// invocation needs (an event routed to the wrong function).
func errNotConfigured(what string) error {
	return fmt.Errorf("lambda: this function is not configured for %s", what)
}

// process runs events through a pipeline built for this call, then
// publishes the alerts it matched. A failure anywhere is returned, so the
// caller's retry (Lambda's, or SQS redelivery) replays it; every step is
// idempotent.
func (h *Handler) process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error) {
	if h.d.Store == nil {
		return pipeline.Result{}, errNotConfigured("CloudTrail events (no store)")
	}
	var keys []string
	opt := pipeline.Options{Filter: h.d.Filter, Detector: h.d.Detector}
	if h.d.Enqueue != nil {
		opt.Enqueue = func(ctx context.Context, a iamwatch.Alert) error {
			keys = append(keys, a.DedupKey) // Process calls Enqueue from its own goroutine only.
			return h.d.Enqueue(ctx, a)
		}
	}
	p, err := pipeline.New(h.d.Store, opt)
	if err != nil {
		return pipeline.Result{}, fmt.Errorf("lambda: %w", err)
	}
	res, err := p.Process(ctx, events)
	if err != nil {
		return res, fmt.Errorf("lambda: %w", err)
	}
	h.ruleErrors(ctx, res.RuleErrors)
	if len(keys) > 0 && h.d.Publish != nil {
		if err := h.d.Publish(ctx, keys); err != nil {
			return res, fmt.Errorf("lambda: publish alerts: %w", err)
		}
	}
	return res, nil
}

// ruleErrors logs the rules that failed to evaluate and records them in
// the store's checkpoints (`iamwatch status --stack` shows them). Neither
// fails the invocation: a retry would fail the same way.
func (h *Handler) ruleErrors(ctx context.Context, errs []pipeline.RuleErrors) {
	for _, e := range errs {
		h.log.LogAttrs(ctx, slog.LevelWarn, "rule failed to evaluate",
			slog.String("rule", e.Rule), slog.Int("events", e.Events), slog.String("first", e.First))
	}
	cps, ok := h.d.Store.(iamwatch.CheckpointStore)
	if !ok || len(errs) == 0 {
		return
	}
	if err := pipeline.RecordRuleErrors(ctx, cps, errs, h.now()); err != nil {
		h.log.LogAttrs(ctx, slog.LevelError, "record rule errors", slog.String("error", err.Error()))
	}
}

// decode decodes one input into events, counting records it had to reject.
func (h *Handler) decode(ctx context.Context, r io.Reader, name string) ([]iamwatch.Event, cloudtrail.Stats, error) {
	var evs []iamwatch.Event
	st, err := h.dec.Decode(ctx, r, name, func(ev *iamwatch.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	return evs, st, err
}

// EventBridge handles one EventBridge event of a CloudTrail record (an API
// call or a console sign-in). An event that is not CloudTrail is an error:
// the rule's target retries it and then sends it to the dead-letter queue,
// where it is visible instead of lost.
func (h *Handler) EventBridge(ctx context.Context, payload []byte) (pipeline.Result, error) {
	if h.d.Store == nil {
		return pipeline.Result{}, errNotConfigured("CloudTrail events (no store)")
	}
	evs, st, err := h.decode(ctx, bytes.NewReader(payload), "eventbridge")
	if err != nil {
		return pipeline.Result{}, fmt.Errorf("lambda: eventbridge event: %w", err)
	}
	if len(evs) == 0 {
		return pipeline.Result{}, fmt.Errorf("lambda: eventbridge event: no CloudTrail record in it (%d rejected, %d skipped)", st.Rejected, st.Skipped)
	}
	return h.process(ctx, evs)
}
