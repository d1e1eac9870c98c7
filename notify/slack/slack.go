package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// DefaultAPIURL is chat.postMessage.
const DefaultAPIURL = "https://slack.com/api/chat.postMessage"

// Config is the settings of a slack sink: either WebhookURL, or Token and
// Channel. WebhookURL and Token are secrets: write them as references
// (env:NAME, file:/path, ssm:/name, secretsmanager:name).
type Config struct {
	WebhookURL string `yaml:"webhook_url"`
	Token      string `yaml:"token"`   // bot token (xoxb-…) for chat.postMessage.
	Channel    string `yaml:"channel"` // channel ID or name, with Token.
	APIURL     string `yaml:"api_url"` // chat.postMessage endpoint; DefaultAPIURL if empty.
}

// Sink posts to Slack. It is safe for concurrent use.
type Sink struct {
	name   string
	cfg    Config // secrets resolved.
	client *http.Client
	now    func() time.Time
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink from a resolved Config (secret values, not references).
func New(name string, c Config, client *http.Client, now func() time.Time) (*Sink, error) {
	switch {
	case c.WebhookURL != "" && c.Token != "":
		return nil, errors.New("set webhook_url or token, not both")
	case c.WebhookURL == "" && c.Token == "":
		return nil, errors.New("webhook_url or token is required")
	case c.Token != "" && c.Channel == "":
		return nil, errors.New("channel is required with token")
	}
	if c.APIURL == "" {
		c.APIURL = DefaultAPIURL
	}
	return &Sink{name: name, cfg: c, client: client, now: now}, nil
}

// Build is the notify.Builder of type "slack".
func Build(ctx context.Context, name string, s notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	var err error
	if c.WebhookURL != "" {
		if c.WebhookURL, err = deps.Secrets.Resolve(ctx, c.WebhookURL); err != nil {
			return nil, err
		}
	}
	if c.Token != "" {
		if c.Token, err = deps.Secrets.Resolve(ctx, c.Token); err != nil {
			return nil, err
		}
	}
	return New(name, c, deps.HTTP, deps.Now)
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Send posts one message for alerts (a digest when there are several).
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	m := notify.Format(alerts)
	p := Payload(&m)
	if s.cfg.Token != "" {
		p.Channel = s.cfg.Channel
	}
	body, err := json.Marshal(p)
	if err != nil {
		return notify.Permanent(fmt.Errorf("slack: encode message: %w", err))
	}
	if s.cfg.Token == "" {
		if _, err := notify.Post(ctx, s.client, s.now, notify.Request{URL: s.cfg.WebhookURL, Body: body}); err != nil {
			return fmt.Errorf("slack: webhook: %w", err)
		}
		return nil
	}
	resp, err := notify.Post(ctx, s.client, s.now, notify.Request{
		URL: s.cfg.APIURL, Body: body, ContentType: "application/json; charset=utf-8",
		Header: http.Header{"Authorization": {"Bearer " + s.cfg.Token}},
	})
	if err != nil {
		return notify.Redact(fmt.Errorf("slack: chat.postMessage: %w", err), s.cfg.Token)
	}
	return apiError(resp, s.now)
}

// apiError classifies a Web API reply: HTTP 200 with {"ok": false, "error": …}.
func apiError(resp *notify.Response, now func() time.Time) error {
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return notify.Retryable(errors.New("slack: chat.postMessage: unreadable reply"), 0)
	}
	if r.OK {
		return nil
	}
	err := fmt.Errorf("slack: chat.postMessage: %s", untrusted.Text(r.Error, 100))
	switch r.Error {
	case "ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return notify.Retryable(err, notify.ParseRetryAfter(resp.Header.Get("Retry-After"), now))
	default: // invalid_auth, channel_not_found, not_in_channel, invalid_blocks, …
		return notify.Permanent(err)
	}
}

// Message is the JSON body Slack receives.
type Message struct {
	Channel     string       `json:"channel,omitempty"`
	Text        string       `json:"text"` // notification and fallback text.
	Attachments []Attachment `json:"attachments"`
	UnfurlLinks bool         `json:"unfurl_links"`
}

// Attachment carries the severity colour bar and the blocks.
type Attachment struct {
	Color  string  `json:"color"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit block (section, context).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"` // mrkdwn
	Text string `json:"text"`
}

// Block Kit limits: section text 3000 characters, 10 fields per section.
const (
	maxSectionText = 3000
	maxFields      = 10
)

// Payload renders m as a Slack message. Every piece of alert text is escaped
// with untrusted.Slack; only our own markup (bold labels, the console
// link) is mrkdwn.
func Payload(m *notify.Message) Message {
	esc := untrusted.Slack
	head := "*" + esc(m.Subject) + "*"
	if m.Summary != "" {
		head += "\n" + esc(m.Summary)
	}
	blocks := []Block{{Type: "section", Text: mrkdwn(head)}}
	if len(m.Fields) > 0 {
		var fs []Text
		for _, f := range m.Fields[:min(len(m.Fields), maxFields)] {
			fs = append(fs, Text{Type: "mrkdwn", Text: "*" + f.Label + ":*\n" + esc(f.Value)})
		}
		blocks = append(blocks, Block{Type: "section", Fields: fs})
	}
	if len(m.Items) > 0 {
		var b strings.Builder
		for i, it := range m.Items {
			line := fmt.Sprintf("%d. %s\n", i+1, esc(untrusted.Truncate(it.ItemLine(), 280)))
			if b.Len()+len(line) > maxSectionText-20 {
				fmt.Fprintf(&b, "… and %d more", len(m.Items)-i)
				break
			}
			b.WriteString(line)
		}
		blocks = append(blocks, Block{Type: "section", Text: mrkdwn(strings.TrimSuffix(b.String(), "\n"))})
	}
	action := esc(m.Action)
	if a, ok := strings.CutPrefix(action, "Action required: "); ok {
		action = "*Action required:* " + a
	}
	blocks = append(blocks, Block{Type: "section", Text: mrkdwn(action)})
	if m.ConsoleURL != "" {
		// ConsoleURL is built from validated parts; it holds no | or >.
		blocks = append(blocks, Block{Type: "context", Elements: []Text{{Type: "mrkdwn", Text: "<" + m.ConsoleURL + "|View event in CloudTrail>"}}})
	}
	return Message{
		Text:        esc(m.Subject),
		Attachments: []Attachment{{Color: notify.Colour(m.Severity), Blocks: blocks}},
	}
}

func mrkdwn(s string) *Text { return &Text{Type: "mrkdwn", Text: s} }
