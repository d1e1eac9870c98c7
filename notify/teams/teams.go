package teams

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

// Config is the settings of a teams sink. WebhookURL is a secret (its query
// carries the signature): write it as a reference.
type Config struct {
	WebhookURL string `yaml:"webhook_url"`
}

// Sink posts Adaptive Cards to a Teams workflow. It is safe for concurrent use.
type Sink struct {
	name   string
	url    string
	client *http.Client
	now    func() time.Time
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink posting to the resolved webhookURL.
func New(name, webhookURL string, client *http.Client, now func() time.Time) (*Sink, error) {
	if webhookURL == "" {
		return nil, errors.New("webhook_url is required")
	}
	return &Sink{name: name, url: webhookURL, client: client, now: now}, nil
}

// Build is the notify.Builder of type "teams".
func Build(ctx context.Context, name string, s notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	u, err := deps.Secrets.Resolve(ctx, c.WebhookURL)
	if err != nil {
		return nil, err
	}
	return New(name, u, deps.HTTP, deps.Now)
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send posts one card for alerts (a digest when there are several).
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	m := notify.Format(alerts)
	body, err := json.Marshal(Payload(&m))
	if err != nil {
		return notify.Permanent(fmt.Errorf("teams: encode card: %w", err))
	}
	if _, err := notify.Post(ctx, s.client, s.now, notify.Request{URL: s.url, Body: body}); err != nil {
		return fmt.Errorf("teams: webhook: %w", err)
	}
	return nil
}

// Envelope is the message a workflow webhook receives.
type Envelope struct {
	Type        string       `json:"type"` // "message"
	Attachments []Attachment `json:"attachments"`
}

// Attachment wraps the card.
type Attachment struct {
	ContentType string  `json:"contentType"`
	ContentURL  *string `json:"contentUrl"` // always null.
	Content     Card    `json:"content"`
}

// Card is an Adaptive Card (schema 1.4).
type Card struct {
	Schema  string         `json:"$schema"`
	Type    string         `json:"type"`
	Version string         `json:"version"`
	MSTeams map[string]any `json:"msteams,omitempty"`
	Body    []Element      `json:"body"`
	Actions []Action       `json:"actions,omitempty"`
}

// Element is a TextBlock or a FactSet.
type Element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Weight string `json:"weight,omitempty"`
	Size   string `json:"size,omitempty"`
	Color  string `json:"color,omitempty"`
	Facts  []Fact `json:"facts,omitempty"`
}

// Fact is one row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Action is an Action.OpenUrl button.
type Action struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
}

// Payload renders m as a Teams workflow message with an Adaptive Card.
func Payload(m *notify.Message) Envelope {
	esc := untrusted.Markdown
	body := []Element{{Type: "TextBlock", Text: esc(m.Subject), Wrap: true, Weight: "Bolder", Size: "Medium", Color: colour(m.Severity)}}
	if m.Summary != "" {
		body = append(body, Element{Type: "TextBlock", Text: esc(m.Summary), Wrap: true})
	}
	if len(m.Fields) > 0 {
		facts := make([]Fact, len(m.Fields))
		for i, f := range m.Fields {
			facts[i] = Fact{Title: f.Label, Value: esc(f.Value)}
		}
		body = append(body, Element{Type: "FactSet", Facts: facts})
	}
	for i, it := range m.Items {
		body = append(body, Element{Type: "TextBlock", Text: fmt.Sprintf("%d\\. %s", i+1, esc(untrusted.Truncate(it.ItemLine(), 280))), Wrap: true})
	}
	body = append(body, Element{Type: "TextBlock", Text: esc(m.Action), Wrap: true, Weight: "Bolder"})
	card := Card{
		Schema:  "http://adaptivecards.io/schemas/adaptive-card.json",
		Type:    "AdaptiveCard",
		Version: "1.4",
		MSTeams: map[string]any{"width": "Full"},
		Body:    body,
	}
	if m.ConsoleURL != "" {
		card.Actions = []Action{{Type: "Action.OpenUrl", Title: "View event in CloudTrail", URL: m.ConsoleURL}}
	}
	return Envelope{Type: "message", Attachments: []Attachment{{ContentType: "application/vnd.microsoft.card.adaptive", Content: card}}}
}

// colour maps a severity to an Adaptive Card text colour.
func colour(s iamwatch.Severity) string {
	switch {
	case s >= iamwatch.SeverityHigh:
		return "Attention"
	case s == iamwatch.SeverityMedium:
		return "Warning"
	default:
		return "Accent"
	}
}
