package daemon

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	sqssrc "github.com/iamwatch/iamwatch/source/sqs"
)

// Metrics counts what the daemon does, in a Prometheus registry of its own
// with the Go runtime and process collectors. It is a source.Observer. Safe
// for concurrent use.
type Metrics struct {
	now func() time.Time
	reg *prometheus.Registry

	events, stored, rejected *prometheus.CounterVec // by source
	removed                  *prometheus.CounterVec // by source
	apiErrors, throttles     *prometheus.CounterVec // by source, operation
	alerts                   *prometheus.CounterVec // by rule, severity
	sent, failures           *prometheus.CounterVec // by sink
	pruned                   *prometheus.CounterVec // by kind
	msgFailed, msgPoison     *prometheus.CounterVec // by source
	ruleErrors               *prometheus.CounterVec // by rule
	batchTime                prometheus.Histogram
	awsTime                  *prometheus.HistogramVec
	deliveryTime             *prometheus.HistogramVec

	mu         sync.Mutex
	newest     map[string]time.Time // source → newest event time seen.
	sourceDown map[string]bool      // source → its goroutine ended with an error.
}

var (
	_ source.Observer        = (*Metrics)(nil)
	_ sqssrc.FailureObserver = (*Metrics)(nil)
)

// Latency buckets: a batch commit or an AWS call takes milliseconds to
// seconds; a delivery up to its sink's 30 s timeout.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics returns empty metrics; now is the clock lag is measured with.
func NewMetrics(now func() time.Time) *Metrics {
	m := &Metrics{now: now, reg: prometheus.NewRegistry(), newest: map[string]time.Time{}, sourceDown: map[string]bool{}}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
		m.reg.MustRegister(v)
		return v
	}
	histogram := func(name, help string, labels ...string) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: latencyBuckets}, labels)
		m.reg.MustRegister(v)
		return v
	}
	m.batchTime = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "iamwatch_batch_duration_seconds", Buckets: latencyBuckets,
		Help: "Time to detect, store and commit the alerts of one batch (all sources: batches run one at a time).",
	})
	m.reg.MustRegister(m.batchTime)
	m.events = counter("iamwatch_events_total", "Events decoded and run through the pipeline, by source.", "source")
	m.stored = counter("iamwatch_events_stored_total", "Events newly stored, by source.", "source")
	m.removed = counter("iamwatch_events_removed_total", "Events an earlier batch stored only for a rule that ignores repeats or a first-seen rule, removed once a later batch superseded them and nothing named them, by source of that later batch.", "source")
	m.rejected = counter("iamwatch_records_rejected_total", "Records or inputs that could not be decoded, by source.", "source")
	m.apiErrors = counter("iamwatch_api_errors_total", "Failed AWS API calls (throttles included), by source and operation.", "source", "operation")
	m.throttles = counter("iamwatch_api_throttles_total", "Throttled AWS API calls, by source and operation.", "source", "operation")
	m.alerts = counter("iamwatch_alerts_total", "Alerts raised (first claim), by rule and severity.", "rule", "severity")
	m.sent = counter("iamwatch_deliveries_total", "Messages delivered, by sink.", "sink")
	m.failures = counter("iamwatch_delivery_failures_total", "Failed sends (retried or given up), by sink.", "sink")
	m.msgFailed = counter("iamwatch_messages_failed_total", "Queue messages that failed and were left on the queue, by source.", "source")
	m.msgPoison = counter("iamwatch_messages_poison_total", "Failed queue messages past the receive limit, left to the redrive policy, by source.", "source")
	m.pruned = counter("iamwatch_pruned_total", "Rows deleted by retention, by kind.", "kind")
	m.ruleErrors = counter("iamwatch_rule_errors_total", "Events a rule's condition or group expression failed to evaluate on (the rule did not match them), by rule.", "rule")
	m.awsTime = histogram("iamwatch_aws_request_duration_seconds", "AWS API calls made by the sources, retries included, by service, operation and outcome (ok, error, throttled).", "service", "operation", "outcome")
	m.deliveryTime = histogram("iamwatch_delivery_duration_seconds", "Sends to a sink, by sink and outcome (ok, error).", "sink", "outcome")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), sourceGauges{m})
	return m
}

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: nil})
}

// Batch implements source.Observer.
func (m *Metrics) Batch(src string, res pipeline.Result, newest time.Time) {
	m.events.WithLabelValues(src).Add(float64(res.Events))
	m.stored.WithLabelValues(src).Add(float64(res.Stored))
	m.removed.WithLabelValues(src).Add(float64(res.Removed))
	for _, e := range res.RuleErrors {
		m.ruleErrors.WithLabelValues(e.Rule).Add(float64(e.Events))
	}
	m.mu.Lock()
	if newest.After(m.newest[src]) {
		m.newest[src] = newest
	}
	m.mu.Unlock()
}

// Rejected implements source.Observer.
func (m *Metrics) Rejected(src string, n int) { m.rejected.WithLabelValues(src).Add(float64(n)) }

// APIError implements source.Observer.
func (m *Metrics) APIError(src, op string, throttled bool) {
	m.apiErrors.WithLabelValues(src, op).Inc()
	if throttled {
		m.throttles.WithLabelValues(src, op).Inc()
	}
}

// MessageFailed implements sqs.FailureObserver.
func (m *Metrics) MessageFailed(src string, poison bool) {
	m.msgFailed.WithLabelValues(src).Inc()
	if poison {
		m.msgPoison.WithLabelValues(src).Inc()
	}
}

// Alert counts a newly raised alert.
func (m *Metrics) Alert(a iamwatch.Alert) {
	m.alerts.WithLabelValues(a.Rule, a.Severity.String()).Inc()
}

// batchTook records how long one batch took in the pipeline.
func (m *Metrics) batchTook(d time.Duration) { m.batchTime.Observe(d.Seconds()) }

func (m *Metrics) delivery(sink string, d time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
		m.failures.WithLabelValues(sink).Inc()
	} else {
		m.sent.WithLabelValues(sink).Inc()
	}
	m.deliveryTime.WithLabelValues(sink, outcome).Observe(d.Seconds())
}

func (m *Metrics) prunedRows(events, alerts int) {
	m.pruned.WithLabelValues("events").Add(float64(events))
	m.pruned.WithLabelValues("alerts").Add(float64(alerts))
}

func (m *Metrics) setDown(src string, down bool) {
	m.mu.Lock()
	m.sourceDown[src] = down
	m.mu.Unlock()
}

// Lag returns now − the newest event time seen from src, and false before
// any event.
func (m *Metrics) Lag(src string) (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.newest[src]
	if !ok {
		return 0, false
	}
	return m.now().Sub(t), true
}

// WrapSinks returns sinks that count and time their deliveries.
func (m *Metrics) WrapSinks(sinks map[string]notify.Sink) map[string]notify.Sink {
	out := make(map[string]notify.Sink, len(sinks))
	for name, s := range sinks {
		out[name] = countingSink{Sink: s, m: m}
	}
	return out
}

type countingSink struct {
	notify.Sink
	m *Metrics
}

func (s countingSink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	start := time.Now()
	err := s.Sink.Send(ctx, alerts)
	if ctx.Err() == nil {
		s.m.delivery(s.Name(), time.Since(start), err)
	}
	return err
}

// AWSMiddleware times every AWS API call made with a configuration it is
// added to (aws.Config.APIOptions), by service, operation and outcome.
func (m *Metrics) AWSMiddleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("iamwatchMetrics",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			outcome := "ok"
			if err != nil {
				outcome = "error"
				var ae smithy.APIError
				if errors.As(err, &ae) && isThrottleCode(ae.ErrorCode()) {
					outcome = "throttled"
				}
			}
			m.awsTime.WithLabelValues(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), outcome).Observe(time.Since(start).Seconds())
			return out, md, err
		}), middleware.After)
}

func isThrottleCode(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "ThrottledException", "RequestLimitExceeded",
		"TooManyRequestsException", "ProvisionedThroughputExceededException", "SlowDown", "RequestThrottled":
		return true
	}
	return false
}

// sourceGauges computes the per-source gauges at scrape time: the lag
// behind now and whether the source still runs.
type sourceGauges struct{ m *Metrics }

var (
	lagDesc = prometheus.NewDesc("iamwatch_source_lag_seconds", "Now minus the newest event time seen, by source.", []string{"source"}, nil)
	upDesc  = prometheus.NewDesc("iamwatch_source_up", "1 while a source runs, 0 after it stopped with an error.", []string{"source"}, nil)
)

func (g sourceGauges) Describe(ch chan<- *prometheus.Desc) { ch <- lagDesc; ch <- upDesc }

func (g sourceGauges) Collect(ch chan<- prometheus.Metric) {
	m := g.m
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	for src, t := range m.newest {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, now.Sub(t).Seconds(), src)
	}
	for src, down := range m.sourceDown {
		up := 1.0
		if down {
			up = 0
		}
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, up, src)
	}
}
