package slack_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/slack"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestWebhookPayloadGolden(t *testing.T) {
	tests := []struct {
		name   string
		alerts []iamwatch.Alert
	}{
		{"root_login.json", []iamwatch.Alert{notifytest.Alert()}},
		{"digest.json", notifytest.Alerts(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t)
			s, err := slack.New("slack", slack.Config{WebhookURL: srv.URL + "/services/T0/B0/s3cr3t"}, srv.Client(), notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Send(context.Background(), tt.alerts); err != nil {
				t.Fatal(err)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != "/services/T0/B0/s3cr3t" || reqs[0].Header.Get("Content-Type") != "application/json" {
				t.Fatalf("requests %+v", reqs)
			}
			notifytest.Golden(t, tt.name, reqs[0].Body, *update)
		})
	}
}

func TestChatPostMessage(t *testing.T) {
	tests := []struct {
		name      string
		reply     notifytest.Reply
		wantErr   string
		permanent bool
	}{
		{"ok", notifytest.Reply{Status: 200, Body: `{"ok":true,"ts":"1.2"}`}, "", false},
		{"channel not found", notifytest.Reply{Status: 200, Body: `{"ok":false,"error":"channel_not_found"}`}, "channel_not_found", true},
		{"invalid auth", notifytest.Reply{Status: 200, Body: `{"ok":false,"error":"invalid_auth"}`}, "invalid_auth", true},
		{"rate limited", notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}}, "429", false},
		{"server error", notifytest.Reply{Status: 500}, "500", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t, tt.reply)
			s, err := slack.New("slack", slack.Config{Token: "xoxb-s3cr3t", Channel: "C0SEC", APIURL: srv.URL + "/api/chat.postMessage"}, srv.Client(), notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
			req := srv.Requests()[0]
			if got := req.Header.Get("Authorization"); got != "Bearer xoxb-s3cr3t" {
				t.Errorf("Authorization %q", got)
			}
			var body slack.Message
			if err := json.Unmarshal(req.Body, &body); err != nil || body.Channel != "C0SEC" {
				t.Errorf("body channel %q, %v", body.Channel, err)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || notify.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v, want %q permanent=%v", err, tt.wantErr, tt.permanent)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error reveals the token: %v", err)
			}
		})
	}
}

func TestWebhookErrorsRedacted(t *testing.T) {
	srv := notifytest.NewServer(t, notifytest.Reply{Status: 404, Body: "no_service"})
	s, _ := slack.New("slack", slack.Config{WebhookURL: srv.URL + "/services/T0/B0/s3cr3t"}, srv.Client(), notifytest.Fixed(notifytest.Time))
	err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
	if !notify.IsPermanent(err) || strings.Contains(err.Error(), "s3cr3t") || !strings.Contains(err.Error(), "no_service") {
		t.Errorf("err = %v", err)
	}
}

var ourLink = regexp.MustCompile(`<https://[a-z0-9-]+\.console\.aws\.amazon\.com/cloudtrailv2/home\?region=[a-z0-9-]+#/events/[A-Za-z0-9-]+\|View event in CloudTrail>`)

// TestHostile: whatever the alert says, the Slack message cannot link,
// mention or broadcast, and stays valid JSON.
func TestHostile(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			m := notify.Format([]iamwatch.Alert{notifytest.HostileAlert(h.Value)})
			b, err := json.Marshal(slack.Payload(&m))
			if err != nil || !json.Valid(b) {
				t.Fatalf("invalid JSON: %v", err)
			}
			var p slack.Message
			if err := json.Unmarshal(b, &p); err != nil {
				t.Fatal(err)
			}
			texts := []string{p.Text}
			for _, blk := range p.Attachments[0].Blocks {
				if blk.Text != nil {
					texts = append(texts, blk.Text.Text)
				}
				for _, f := range append(blk.Fields, blk.Elements...) {
					texts = append(texts, f.Text)
				}
			}
			for _, s := range texts {
				s = ourLink.ReplaceAllString(s, "")
				if strings.ContainsAny(s, "<>") {
					t.Errorf("unescaped < or > in %q", s)
				}
				if regexp.MustCompile(`(?i)@(channel|here|everyone)`).MatchString(s) {
					t.Errorf("broadcast keyword in %q", s)
				}
				if len(s) > 3000 {
					t.Errorf("text of %d bytes exceeds Slack's 3000", len(s))
				}
			}
		})
	}
}

func BenchmarkPayload(b *testing.B) {
	alerts := []iamwatch.Alert{notifytest.Alert()}
	b.ReportAllocs()
	for b.Loop() {
		m := notify.Format(alerts)
		if _, err := json.Marshal(slack.Payload(&m)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Target{
		New: func(t *testing.T, base string, client *http.Client) notify.Sink {
			s, err := slack.New("slack", slack.Config{WebhookURL: base + "/services/T000/B000/xoxsecret"}, client, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Secret: "xoxsecret", MaxBody: 64 << 10, JSON: true,
	})
}
