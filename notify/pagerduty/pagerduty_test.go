package pagerduty_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/pagerduty"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

const accepted = `{"status":"success","message":"Event processed","dedup_key":"x"}`

func TestTriggerGolden(t *testing.T) {
	srv := notifytest.NewServer(t, notifytest.Reply{Status: 202, Body: accepted})
	s, err := pagerduty.New("pd", pagerduty.Config{RoutingKey: "R0UT1NGs3cr3t", URL: srv.URL + "/v2/enqueue"}, srv.Client(), notifytest.Fixed(notifytest.Time))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()}); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v2/enqueue" {
		t.Fatalf("requests %+v", reqs)
	}
	notifytest.Golden(t, "root_login.json", reqs[0].Body, *update)
}

func TestSeverityAndDedupKey(t *testing.T) {
	want := map[iamwatch.Severity]string{
		iamwatch.SeverityCritical: "critical", iamwatch.SeverityHigh: "error",
		iamwatch.SeverityMedium: "warning", iamwatch.SeverityLow: "info", iamwatch.SeverityInfo: "info",
	}
	for sev, w := range want {
		a := notifytest.Alert()
		a.Severity = sev
		if got := pagerduty.Trigger("k", &a).Payload.Severity; got != w {
			t.Errorf("%v → %q, want %q", sev, got, w)
		}
	}
	a := notifytest.Alert()
	if got := pagerduty.Trigger("k", &a).DedupKey; got != a.DedupKey {
		t.Errorf("dedup_key %q, want the alert's %q", got, a.DedupKey)
	}
	a.DedupKey = strings.Repeat("k", 400)
	b := a
	b.DedupKey = strings.Repeat("k", 399) + "j"
	ka, kb := pagerduty.Trigger("k", &a).DedupKey, pagerduty.Trigger("k", &b).DedupKey
	if len(ka) > 255 || ka == kb {
		t.Errorf("long dedup keys: %d bytes, distinct=%v", len(ka), ka != kb)
	}
}

// TestDigestSendsEach: a digest still triggers one event per alert, each
// with its own dedup key.
func TestDigestSendsEach(t *testing.T) {
	srv := notifytest.NewServer(t)
	srv.Default = notifytest.Reply{Status: 202, Body: accepted}
	s, _ := pagerduty.New("pd", pagerduty.Config{RoutingKey: "k", URL: srv.URL}, srv.Client(), notifytest.Fixed(notifytest.Time))
	alerts := notifytest.Alerts(3)
	if err := s.Send(context.Background(), alerts); err != nil {
		t.Fatal(err)
	}
	for i, r := range srv.Requests() {
		var ev pagerduty.Event
		if err := json.Unmarshal(r.Body, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.DedupKey != alerts[i].DedupKey {
			t.Errorf("event %d dedup_key %q, want %q", i, ev.DedupKey, alerts[i].DedupKey)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, tt := range []struct {
		reply     notifytest.Reply
		permanent bool
	}{
		{notifytest.Reply{Status: 400, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}`}, true},
		{notifytest.Reply{Status: 429}, false},
		{notifytest.Reply{Status: 500}, false},
	} {
		srv := notifytest.NewServer(t, tt.reply)
		s, _ := pagerduty.New("pd", pagerduty.Config{RoutingKey: "R0UT1NGs3cr3t", URL: srv.URL}, srv.Client(), notifytest.Fixed(notifytest.Time))
		err := s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
		if err == nil || notify.IsPermanent(err) != tt.permanent || strings.Contains(err.Error(), "R0UT1NGs3cr3t") {
			t.Errorf("status %d: err = %v", tt.reply.Status, err)
		}
	}
}

func TestHostile(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			a := notifytest.HostileAlert(h.Value)
			b, err := json.Marshal(pagerduty.Trigger("k", &a))
			if err != nil || !json.Valid(b) {
				t.Fatalf("invalid JSON: %v", err)
			}
			var ev pagerduty.Event
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatal(err)
			}
			if n := utf8.RuneCountInString(ev.Payload.Summary); n > 1024 {
				t.Errorf("summary %d runes > 1024", n)
			}
			if len(ev.DedupKey) > 255 {
				t.Errorf("dedup_key %d bytes", len(ev.DedupKey))
			}
			for _, s := range append([]string{ev.Payload.Summary, ev.Payload.Source, ev.Payload.Component}, mapValues(ev.Payload.CustomDetails)...) {
				if strings.ContainsFunc(s, unicode.IsControl) {
					t.Errorf("control character in %q", s)
				}
			}
			if len(ev.Links) != 0 {
				t.Errorf("link from hostile fields: %+v", ev.Links)
			}
		})
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func TestConformance(t *testing.T) {
	notifytest.Run(t, notifytest.Target{
		New: func(t *testing.T, base string, client *http.Client) notify.Sink {
			s, err := pagerduty.New("pd", pagerduty.Config{RoutingKey: "R0UTINGKEY0123456789", URL: base + "/v2/enqueue"}, client, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Secret: "R0UTINGKEY0123456789", MaxBody: 512 << 10, JSON: true,
	})
}
