package notify_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
)

const secretPath = "/services/T000/B000/s3cr3tT0k3n"

func TestPostClassifies(t *testing.T) {
	now := notifytest.Time
	tests := []struct {
		name       string
		reply      notifytest.Reply
		wantErr    bool
		permanent  bool
		retryAfter time.Duration
	}{
		{"200", notifytest.Reply{Status: 200, Body: "ok"}, false, false, 0},
		{"202", notifytest.Reply{Status: 202}, false, false, 0},
		{"404 permanent", notifytest.Reply{Status: 404, Body: "no_service"}, true, true, 0},
		{"400 permanent", notifytest.Reply{Status: 400, Body: "invalid_payload"}, true, true, 0},
		{"403 permanent", notifytest.Reply{Status: 403}, true, true, 0},
		{"500 retryable", notifytest.Reply{Status: 500}, true, false, 0},
		{"502 retryable", notifytest.Reply{Status: 502}, true, false, 0},
		{"408 retryable", notifytest.Reply{Status: 408}, true, false, 0},
		{"429 seconds", notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "30"}}, true, false, 30 * time.Second},
		{"429 date", notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}}, true, false, 90 * time.Second},
		{"429 no header", notifytest.Reply{Status: 429}, true, false, 0},
		{"503 retry-after", notifytest.Reply{Status: 503, Header: map[string]string{"Retry-After": "5"}}, true, false, 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := notifytest.NewServer(t, tt.reply)
			_, err := notify.Post(context.Background(), srv.Client(), notifytest.Fixed(now), notify.Request{
				URL: srv.URL + secretPath + "?token=qs3cr3t", Body: []byte(`{}`),
				Header: http.Header{"Authorization": {"Bearer hdrs3cr3t"}},
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil {
				return
			}
			if notify.IsPermanent(err) != tt.permanent {
				t.Errorf("IsPermanent(%v) = %v, want %v", err, !tt.permanent, tt.permanent)
			}
			if got := notify.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got, tt.retryAfter)
			}
			for _, s := range []string{"s3cr3tT0k3n", "qs3cr3t", "hdrs3cr3t", "/services"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q reveals %q", err, s)
				}
			}
		})
	}
}

func TestPostNetworkErrorRedacted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens now: connection refused.
	_, err = notify.Post(context.Background(), &http.Client{Timeout: 5 * time.Second}, time.Now, notify.Request{URL: "http://" + addr + secretPath})
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if notify.IsPermanent(err) {
		t.Errorf("network error classified permanent: %v", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error reveals the URL path: %v", err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Errorf("error %q does not name the host", err)
	}
}

func TestPostInvalidURL(t *testing.T) {
	_, err := notify.Post(context.Background(), http.DefaultClient, time.Now, notify.Request{URL: "ftp://x/s3cr3t"})
	if !notify.IsPermanent(err) || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("err = %v, want permanent without the URL", err)
	}
}

func TestRedact(t *testing.T) {
	base := notify.Retryable(errors.New("call with key abcd1234 failed"), 3*time.Second)
	err := notify.Redact(base, "abcd1234", "")
	if strings.Contains(err.Error(), "abcd1234") {
		t.Errorf("not redacted: %v", err)
	}
	if notify.IsPermanent(err) || notify.RetryAfter(err) != 3*time.Second {
		t.Errorf("classification lost: %v", err)
	}
	if got := notify.Redact(nil, "x"); got != nil {
		t.Errorf("Redact(nil) = %v", got)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := notifytest.Fixed(notifytest.Time)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"-5", 0}, {"120", 2 * time.Minute}, {"99999999", 24 * time.Hour},
		{notifytest.Time.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{notifytest.Time.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := notify.ParseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "1", "120", "Sun, 06 Nov 1994 08:49:37 GMT", "-1", "1e9"} {
		f.Add(s)
	}
	now := notifytest.Fixed(notifytest.Time)
	f.Fuzz(func(t *testing.T, s string) {
		d := notify.ParseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour {
			t.Fatalf("ParseRetryAfter(%q) = %v, out of [0, 24h]", s, d)
		}
	})
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.slack.com/services/T/B/x", "https://hooks.slack.com/…"},
		{"https://example.com", "https://example.com"},
		{"https://example.com/?sig=x", "https://example.com/…"},
		{"::", "(invalid URL)"},
	}
	for _, tt := range tests {
		if got := notify.RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPostErrorBodyRedacted: a receiver whose error page repeats the request
// (path, query, credentials, headers, body) does not get the secrets in them
// into the error, which ends up on stderr, in the log and in the database.
func TestPostErrorBodyRedacted(t *testing.T) {
	for _, status := range []int{404, 500, 429} {
		srv := notifytest.NewServer(t)
		srv.Default = notifytest.Reply{Status: status, Echo: true}
		u := strings.Replace(srv.URL, "http://", "http://hookuser:PassW0rdS3cret@", 1) +
			"/services/T000/B000/PathT0kenS3cret?token=QueryT0kenS3cret&sig=Sig%2FS3cret%3D"
		_, err := notify.Post(context.Background(), srv.Client(), time.Now, notify.Request{
			URL:     u,
			Header:  http.Header{"Authorization": {"Bearer HeaderT0kenS3cret"}, "X-Api-Key": {"ApiKeyS3cret"}},
			Body:    []byte(`{"routing_key":"BodyKeyS3cret","x":1}`),
			Secrets: []string{"BodyKeyS3cret"},
		})
		if err == nil {
			t.Fatalf("%d: no error", status)
		}
		t.Logf("%d: %v", status, err)
		if !strings.Contains(err.Error(), "Cannot POST") {
			t.Errorf("%d: error %q lost the receiver's message", status, err)
		}
		basic := base64.StdEncoding.EncodeToString([]byte("hookuser:PassW0rdS3cret"))
		for _, s := range []string{basic, "PassW0rd", "PathT0ken", "QueryT0ken", "Sig/S3cret", "Sig%2FS3cret", "HeaderT0ken", "ApiKeyS3cret", "BodyKey", "S3cret"} {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%d: error %q reveals %q", status, err, s)
			}
		}
	}
}
