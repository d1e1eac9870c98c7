package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// The headers every request carries.
const (
	SignatureHeader = "X-Iamwatch-Signature"
	TimestampHeader = "X-Iamwatch-Timestamp"
	DeliveryHeader  = "X-Iamwatch-Delivery"
)

// Config is the settings of a webhook sink. URL, Secret and header values
// may be secret references.
type Config struct {
	URL     string            `yaml:"url"`
	Secret  string            `yaml:"secret"` // HMAC key; no signature header when empty.
	Headers map[string]string `yaml:"headers"`
}

// Sink posts signed JSON. It is safe for concurrent use.
type Sink struct {
	name   string
	cfg    Config
	client *http.Client
	now    func() time.Time
}

var _ notify.Sink = (*Sink)(nil)

// New returns a sink from a resolved Config.
func New(name string, c Config, client *http.Client, now func() time.Time) (*Sink, error) {
	if c.URL == "" {
		return nil, errors.New("url is required")
	}
	for k, v := range c.Headers {
		if !validName(k) {
			return nil, fmt.Errorf("header %q: invalid name", k)
		}
		if !validValue(v) {
			return nil, fmt.Errorf("header %q: invalid value", k)
		}
		switch http.CanonicalHeaderKey(k) {
		case SignatureHeader, TimestampHeader, DeliveryHeader, "Content-Type", "Content-Length", "Host":
			return nil, fmt.Errorf("header %q is set by iamwatch", k)
		}
	}
	return &Sink{name: name, cfg: c, client: client, now: now}, nil
}

// Build is the notify.Builder of type "webhook".
func Build(ctx context.Context, name string, s notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	var err error
	if c.URL, err = deps.Secrets.Resolve(ctx, c.URL); err != nil {
		return nil, err
	}
	if c.Secret != "" {
		if c.Secret, err = deps.Secrets.Resolve(ctx, c.Secret); err != nil {
			return nil, err
		}
	}
	hs := make(map[string]string, len(c.Headers))
	for k, v := range c.Headers {
		if hs[k], err = deps.Secrets.Resolve(ctx, v); err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
	}
	c.Headers = hs
	return New(name, c, deps.HTTP, deps.Now)
}

// Name returns the sink's name.
func (s *Sink) Name() string { return s.name }

// Body is the JSON a webhook receives. Alerts are the documented alert JSON
// (iamwatch.Alert), raw: the receiver escapes for wherever it shows them.
type Body struct {
	Version int              `json:"version"` // 1
	SentAt  string           `json:"sent_at"` // RFC 3339, the timestamp header's time.
	Subject string           `json:"subject"`
	Text    string           `json:"text"`   // the common message format, plain text.
	Alerts  []iamwatch.Alert `json:"alerts"` // the alerts' own values, each text field at most MaxField characters.
}

// MaxField bounds each text field of Body.Alerts (and MaxIDs the event IDs
// of each), so that a hostile record cannot make a body no receiver takes.
const (
	MaxField = 4096
	MaxIDs   = 50
)

// bounded returns alerts with long fields cut (ending with "…").
func bounded(alerts []iamwatch.Alert) []iamwatch.Alert {
	out := make([]iamwatch.Alert, len(alerts))
	for i, a := range alerts {
		for _, f := range []*string{&a.DedupKey, &a.Rule, &a.Title, &a.Summary, &a.Action, &a.AccountID, &a.Region,
			&a.UserName, &a.SourceIP, &a.EventName, &a.EventID, &a.Group} {
			*f = untrusted.Truncate(*f, MaxField)
		}
		a.EventIDs = cut(a.EventIDs, MaxIDs, 256)
		a.Tags = cut(a.Tags, MaxIDs, 256)
		a.References = cut(a.References, MaxIDs, 256)
		out[i] = a
	}
	return out
}

func cut(vs []string, n, runes int) []string {
	vs = vs[:min(len(vs), n)]
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = untrusted.Truncate(v, runes)
	}
	return out
}

// Send posts one body for alerts.
func (s *Sink) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	now := s.now().UTC().Truncate(time.Second)
	m := notify.Format(alerts)
	body, err := json.Marshal(Body{Version: 1, SentAt: now.Format(time.RFC3339), Subject: m.Subject, Text: m.Text(), Alerts: bounded(alerts)})
	if err != nil {
		return notify.Permanent(fmt.Errorf("webhook: encode body: %w", err))
	}
	h := http.Header{}
	for k, v := range s.cfg.Headers {
		h.Set(k, v)
	}
	h.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
	h.Set(DeliveryHeader, notify.DeliveryID(alerts))
	if s.cfg.Secret != "" {
		h.Set(SignatureHeader, Sign([]byte(s.cfg.Secret), body))
	}
	if _, err := notify.Post(ctx, s.client, s.now, notify.Request{URL: s.cfg.URL, Header: h, Body: body}); err != nil {
		secrets := []string{s.cfg.Secret}
		for _, v := range s.cfg.Headers {
			secrets = append(secrets, v)
		}
		return notify.Redact(fmt.Errorf("webhook: %w", err), secrets...)
	}
	return nil
}

// Sign returns the signature header value of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed by secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether sig (a header value) is body's signature under
// secret, in constant time. Receivers written in Go can use it.
func Verify(secret, body []byte, sig string) bool {
	want, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(want)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// validName reports whether k is an HTTP header name (an RFC 9110 token).
func validName(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range []byte(k) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// validValue reports whether v can be a header value: no control characters
// but tab (which would split or smuggle headers).
func validValue(v string) bool {
	for _, c := range []byte(v) {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
