package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// DefaultURL is the Events API v2 enqueue endpoint (US service region; the
// EU one is https://events.eu.pagerduty.com/v2/enqueue).
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// Config is the settings of a pagerduty sink. RoutingKey (the integration
// key) is a secret: write it as a reference.
type Config struct {
	RoutingKey string `yaml:"routing_key"`
	URL        string `yaml:"url"` // DefaultURL if empty.
}

// Sink triggers PagerDuty events. It is safe for concurrent use.
type Sink struct {
	name   string
	cfg    Config
	client *http.Client
	now    func() time.Time
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink from a resolved Config.
func New(name string, c Config, client *http.Client, now func() time.Time) (*Sink, error) {
	if c.RoutingKey == "" {
		return nil, errors.New("routing_key is required")
	}
	if c.URL == "" {
		c.URL = DefaultURL
	}
	return &Sink{name: name, cfg: c, client: client, now: now}, nil
}

// Build is the notify.Builder of type "pagerduty".
func Build(ctx context.Context, name string, s notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	var err error
	if c.RoutingKey, err = deps.Secrets.Resolve(ctx, c.RoutingKey); err != nil {
		return nil, err
	}
	return New(name, c, deps.HTTP, deps.Now)
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send triggers one event per alert, even for a digest: PagerDuty groups by
// dedup_key itself, and a digest would merge distinct incidents. A failure
// part-way returns the error; the retry sends all again, which PagerDuty
// deduplicates.
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	for i := range alerts {
		body, err := json.Marshal(Trigger(s.cfg.RoutingKey, &alerts[i]))
		if err != nil {
			return notify.Permanent(fmt.Errorf("pagerduty: encode event: %w", err))
		}
		if _, err := notify.Post(ctx, s.client, s.now, notify.Request{URL: s.cfg.URL, Body: body, Secrets: []string{s.cfg.RoutingKey}}); err != nil {
			return notify.Redact(fmt.Errorf("pagerduty: enqueue %s: %w", untrusted.Text(alerts[i].DedupKey, 200), err), s.cfg.RoutingKey)
		}
	}
	return nil
}

// Event is an Events API v2 trigger.
type Event struct {
	RoutingKey  string  `json:"routing_key"`
	EventAction string  `json:"event_action"`
	DedupKey    string  `json:"dedup_key"`
	Payload     Payload `json:"payload"`
	Links       []Link  `json:"links,omitempty"`
	Client      string  `json:"client"`
}

// Payload is the event payload (summary ≤ 1024 characters).
type Payload struct {
	Summary       string            `json:"summary"`
	Source        string            `json:"source"`
	Severity      string            `json:"severity"`
	Timestamp     string            `json:"timestamp,omitempty"`
	Component     string            `json:"component,omitempty"`
	Group         string            `json:"group,omitempty"`
	Class         string            `json:"class,omitempty"`
	CustomDetails map[string]string `json:"custom_details,omitempty"`
}

// Link is a link shown on the incident.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text"`
}

// maxDedupKey is the Events API limit on dedup_key.
const maxDedupKey = 255

// Trigger builds the trigger event of a. Strings are cleaned and bounded;
// JSON encoding does the rest (PagerDuty shows them as text).
func Trigger(routingKey string, a *iamwatch.Alert) Event {
	m := notify.Format([]iamwatch.Alert{*a})
	details := map[string]string{"rule": untrusted.Text(a.Rule, notify.MaxValue)}
	for _, f := range m.Fields {
		details[f.Label] = f.Value
	}
	details["Action required"] = m.Action[len("Action required: "):]
	source := "aws"
	if a.AccountID != "" {
		source = "aws:" + untrusted.Text(a.AccountID, 32)
		if a.Region != "" {
			source += ":" + untrusted.Text(a.Region, 32)
		}
	}
	summary := m.Subject
	if m.Summary != "" {
		summary += ": " + m.Summary
	}
	ev := Event{
		RoutingKey:  routingKey,
		EventAction: "trigger",
		DedupKey:    dedupKey(a.DedupKey),
		Payload: Payload{
			Summary:       untrusted.Truncate(summary, 1024),
			Source:        source,
			Severity:      severity(a.Severity),
			Component:     untrusted.Text(a.EventName, notify.MaxValue),
			Group:         untrusted.Text(a.AccountID, 32),
			Class:         untrusted.Text(a.Rule, notify.MaxValue),
			CustomDetails: details,
		},
		Client: "iamwatch",
	}
	if !a.Time.IsZero() {
		ev.Payload.Timestamp = a.Time.UTC().Format(time.RFC3339)
	}
	if m.ConsoleURL != "" {
		ev.Links = []Link{{Href: m.ConsoleURL, Text: "View event in CloudTrail"}}
	}
	return ev
}

// dedupKey bounds k to PagerDuty's 255 characters, keeping it unique by
// replacing an over-long tail with a hash.
func dedupKey(k string) string {
	if len(k) <= maxDedupKey {
		return k
	}
	return k[:maxDedupKey-65] + "#" + notify.Digest(k)
}

// severity maps to PagerDuty's four severities.
func severity(s iamwatch.Severity) string {
	switch {
	case s >= iamwatch.SeverityCritical:
		return "critical"
	case s == iamwatch.SeverityHigh:
		return "error"
	case s == iamwatch.SeverityMedium:
		return "warning"
	default:
		return "info"
	}
}
