package webhook_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/webhook"
	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestSendGolden(t *testing.T) {
	srv := notifytest.NewServer(t)
	s, err := webhook.New("hook", webhook.Config{
		URL: srv.URL + "/in", Secret: "sh4red",
		Headers: map[string]string{"X-Team": "security", "Authorization": "Bearer h34der"},
	}, srv.Client(), notifytest.Fixed(notifytest.Time))
	if err != nil {
		t.Fatal(err)
	}
	alerts := []iamwatch.Alert{notifytest.Alert()}
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	r := srv.Requests()[0]
	notifytest.Golden(t, "root_login.json", r.Body, *update)
	want := map[string]string{
		"Content-Type":          "application/json",
		"X-Team":                "security",
		"Authorization":         "Bearer h34der",
		webhook.TimestampHeader: "1773480413",
		webhook.DeliveryHeader:  notify.DeliveryID(alerts),
		webhook.SignatureHeader: webhook.Sign([]byte("sh4red"), r.Body),
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if !webhook.Verify([]byte("sh4red"), r.Body, r.Header.Get(webhook.SignatureHeader)) {
		t.Error("signature does not verify")
	}
	if webhook.Verify([]byte("other"), r.Body, r.Header.Get(webhook.SignatureHeader)) ||
		webhook.Verify([]byte("sh4red"), append(r.Body, ' '), r.Header.Get(webhook.SignatureHeader)) {
		t.Error("signature verifies with the wrong key or body")
	}
}

func TestSignKnownAnswer(t *testing.T) {
	// RFC 4231 test case 2.
	got := webhook.Sign([]byte("Jefe"), []byte("what do ya want for nothing?"))
	if want := "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestConfigRejects(t *testing.T) {
	for _, c := range []webhook.Config{
		{},
		{URL: "https://x", Headers: map[string]string{"Bad Name": "v"}},
		{URL: "https://x", Headers: map[string]string{"X-A": "v\r\nX-Injected: 1"}},
		{URL: "https://x", Headers: map[string]string{"x-iamwatch-signature": "forged"}},
	} {
		if _, err := webhook.New("h", c, nil, nil); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
}

func TestErrorsRedacted(t *testing.T) {
	srv := notifytest.NewServer(t, notifytest.Reply{Status: 401, Body: "bad token Bearer h34der"})
	s, _ := webhook.New("hook", webhook.Config{URL: srv.URL + "/in/p4th", Headers: map[string]string{"Authorization": "Bearer h34der"}}, srv.Client(), notifytest.Fixed(notifytest.Time))
	err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
	if !notify.IsPermanent(err) || strings.Contains(err.Error(), "h34der") || strings.Contains(err.Error(), "p4th") {
		t.Errorf("err = %v", err)
	}
}

// TestHostile: the body is valid JSON and carries the alert unchanged (the
// receiver escapes for its medium) but for fields over MaxField, which are
// cut; the text form is cleaned.
func TestHostile(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			srv := notifytest.NewServer(t)
			s, _ := webhook.New("hook", webhook.Config{URL: srv.URL}, srv.Client(), notifytest.Fixed(notifytest.Time))
			a := notifytest.HostileAlert(h.Value)
			if err := s.Send(context.Background(), []iamwatch.Alert{a}); err != nil {
				t.Fatal(err)
			}
			if len(h.Value) > webhook.MaxField {
				cut := untrusted.Truncate(h.Value, webhook.MaxField)
				a.Summary = untrusted.Truncate(a.Summary, webhook.MaxField)
				a.Title = untrusted.Truncate(a.Title, webhook.MaxField)
				a.UserName, a.SourceIP, a.EventName, a.AccountID, a.Region, a.Group, a.Rule, a.Action = cut, cut, cut, cut, cut, cut, cut, cut
				a.EventIDs = []string{untrusted.Truncate(h.Value, 256)}
			}
			body := srv.Requests()[0].Body
			if !json.Valid(body) {
				t.Fatalf("invalid JSON: %s", body)
			}
			var b webhook.Body
			if err := json.Unmarshal(body, &b); err != nil {
				t.Fatal(err)
			}
			if !strings.ContainsRune(h.Value, 0xFFFD) && !strings.Contains(h.Value, "\xff") && !reflect.DeepEqual(b.Alerts[0], a) {
				t.Errorf("alert changed in transit:\n got %+v\nwant %+v", b.Alerts[0], a)
			}
			if strings.Count(b.Text, "\n") != 4 {
				t.Errorf("text has forged lines: %q", b.Text)
			}
		})
	}
}

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Target{
		New: func(t *testing.T, base string, client *http.Client) notify.Sink {
			s, err := webhook.New("hook", webhook.Config{URL: base + "/hook?token=hooksecret99", Secret: "hmac-key", Headers: map[string]string{"Authorization": "Bearer bearersecret7"}}, client, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Secret: "hooksecret99", MaxBody: 1 << 20, JSON: true, Text: readable,
	})
	notifytest.Run(t, notifytest.Target{
		New: func(t *testing.T, base string, client *http.Client) notify.Sink {
			s, err := webhook.New("hook", webhook.Config{URL: base + "/hook", Headers: map[string]string{"Authorization": "Bearer bearersecret7"}}, client, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Secret: "bearersecret7", MaxBody: 1 << 20, JSON: true, Text: readable,
	})
}

// readable is what of a webhook body people read: its subject and text (its
// alerts keep their values for machines, JSON-escaped).
func readable(body []byte) (string, error) {
	var b webhook.Body
	if err := json.Unmarshal(body, &b); err != nil {
		return "", err
	}
	return b.Subject + "\n" + b.Text, nil
}
