package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	sqssrc "github.com/iamwatch/iamwatch/source/sqs"
)

// Metrics counts what the daemon does and writes it in the Prometheus text
// exposition format (version 0.0.4). It is a source.Observer. Safe for
// concurrent use.
type Metrics struct {
	now func() time.Time

	mu         sync.Mutex
	events     map[string]int64     // source → events decoded and processed.
	stored     map[string]int64     // source → events newly stored.
	rejected   map[string]int64     // source → records or inputs rejected.
	newest     map[string]time.Time // source → newest event time seen.
	apiErrors  map[[2]string]int64  // (source, op) → failed calls, throttles included.
	throttles  map[[2]string]int64  // (source, op) → throttled calls.
	alerts     map[[2]string]int64  // (rule, severity) → alerts raised (new).
	sent       map[string]int64     // sink → messages delivered.
	failures   map[string]int64     // sink → failed sends.
	pruned     map[string]int64     // events|alerts → rows pruned.
	sourceDown map[string]bool      // source → its goroutine ended with an error.
	msgFailed  map[string]int64     // source → queue messages that failed and were left on the queue.
	msgPoison  map[string]int64     // source → of those, the ones past the receive limit (left to the redrive policy).
	ruleErrors map[string]int64     // rule → events its condition or group expression failed on.
}

var (
	_ source.Observer        = (*Metrics)(nil)
	_ sqssrc.FailureObserver = (*Metrics)(nil)
)

// NewMetrics returns empty metrics; now is the clock lag is measured with.
func NewMetrics(now func() time.Time) *Metrics {
	return &Metrics{
		now: now, events: map[string]int64{}, stored: map[string]int64{}, rejected: map[string]int64{},
		newest: map[string]time.Time{}, apiErrors: map[[2]string]int64{}, throttles: map[[2]string]int64{},
		alerts: map[[2]string]int64{}, sent: map[string]int64{}, failures: map[string]int64{},
		pruned: map[string]int64{}, sourceDown: map[string]bool{},
		msgFailed: map[string]int64{}, msgPoison: map[string]int64{}, ruleErrors: map[string]int64{},
	}
}

// Batch implements source.Observer.
func (m *Metrics) Batch(src string, res pipeline.Result, newest time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events[src] += int64(res.Events)
	m.stored[src] += int64(res.Stored)
	for _, e := range res.RuleErrors {
		m.ruleErrors[e.Rule] += int64(e.Events)
	}
	if newest.After(m.newest[src]) {
		m.newest[src] = newest
	}
}

// Rejected implements source.Observer.
func (m *Metrics) Rejected(src string, n int) {
	m.mu.Lock()
	m.rejected[src] += int64(n)
	m.mu.Unlock()
}

// APIError implements source.Observer.
func (m *Metrics) APIError(src, op string, throttled bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.apiErrors[[2]string{src, op}]++
	if throttled {
		m.throttles[[2]string{src, op}]++
	}
}

// MessageFailed implements sqs.FailureObserver.
func (m *Metrics) MessageFailed(src string, poison bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgFailed[src]++
	if poison {
		m.msgPoison[src]++
	}
}

// Alert counts a newly raised alert.
func (m *Metrics) Alert(a iamwatch.Alert) {
	m.mu.Lock()
	m.alerts[[2]string{a.Rule, a.Severity.String()}]++
	m.mu.Unlock()
}

func (m *Metrics) delivery(sink string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.failures[sink]++
	} else {
		m.sent[sink]++
	}
}

func (m *Metrics) prunedRows(events, alerts int) {
	m.mu.Lock()
	m.pruned["events"] += int64(events)
	m.pruned["alerts"] += int64(alerts)
	m.mu.Unlock()
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

// WrapSinks returns sinks that count their deliveries and failures.
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
	err := s.Sink.Send(ctx, alerts)
	if ctx.Err() == nil {
		s.m.delivery(s.Name(), err)
	}
	return err
}

// WriteTo writes every metric in the text exposition format.
func (m *Metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cw := &countWriter{w: bufio.NewWriter(w)}
	family := func(name, typ, help string) {
		fmt.Fprintf(cw, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	by1 := func(name, typ, help, label string, v map[string]int64) {
		family(name, typ, help)
		for _, k := range slices.Sorted(maps.Keys(v)) {
			fmt.Fprintf(cw, "%s{%s=%s} %d\n", name, label, quote(k), v[k])
		}
	}
	by2 := func(name, typ, help, l1, l2 string, v map[[2]string]int64) {
		family(name, typ, help)
		keys := slices.SortedFunc(maps.Keys(v), func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
		for _, k := range keys {
			fmt.Fprintf(cw, "%s{%s=%s,%s=%s} %d\n", name, l1, quote(k[0]), l2, quote(k[1]), v[k])
		}
	}
	by1("iamwatch_events_total", "counter", "Events decoded and run through the pipeline, by source.", "source", m.events)
	by1("iamwatch_events_stored_total", "counter", "Events newly stored, by source.", "source", m.stored)
	by1("iamwatch_records_rejected_total", "counter", "Records or inputs that could not be decoded, by source.", "source", m.rejected)
	family("iamwatch_source_lag_seconds", "gauge", "Now minus the newest event time seen, by source.")
	now := m.now()
	for _, k := range slices.Sorted(maps.Keys(m.newest)) {
		fmt.Fprintf(cw, "iamwatch_source_lag_seconds{source=%s} %s\n", quote(k), strconv.FormatFloat(now.Sub(m.newest[k]).Seconds(), 'f', 3, 64))
	}
	family("iamwatch_source_up", "gauge", "1 while a source runs, 0 after it stopped with an error.")
	for _, k := range slices.Sorted(maps.Keys(m.sourceDown)) {
		up := 1
		if m.sourceDown[k] {
			up = 0
		}
		fmt.Fprintf(cw, "iamwatch_source_up{source=%s} %d\n", quote(k), up)
	}
	by2("iamwatch_api_errors_total", "counter", "Failed AWS API calls (throttles included), by source and operation.", "source", "operation", m.apiErrors)
	by2("iamwatch_api_throttles_total", "counter", "Throttled AWS API calls, by source and operation.", "source", "operation", m.throttles)
	by2("iamwatch_alerts_total", "counter", "Alerts raised (first claim), by rule and severity.", "rule", "severity", m.alerts)
	by1("iamwatch_deliveries_total", "counter", "Messages delivered, by sink.", "sink", m.sent)
	by1("iamwatch_delivery_failures_total", "counter", "Failed sends (retried or given up), by sink.", "sink", m.failures)
	by1("iamwatch_messages_failed_total", "counter", "Queue messages that failed and were left on the queue, by source.", "source", m.msgFailed)
	by1("iamwatch_messages_poison_total", "counter", "Failed queue messages past the receive limit, left to the redrive policy, by source.", "source", m.msgPoison)
	by1("iamwatch_rule_errors_total", "counter", "Events a rule's condition or group expression failed to evaluate on (the rule did not match them), by rule.", "rule", m.ruleErrors)
	by1("iamwatch_pruned_total", "counter", "Rows deleted by retention, by kind.", "kind", m.pruned)
	if err := cw.w.(*bufio.Writer).Flush(); err != nil && cw.err == nil {
		cw.err = err
	}
	return cw.n, cw.err
}

// quote writes a label value: quoted, with \, " and newline escaped.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}
