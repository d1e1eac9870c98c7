package notifytest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// Target is one HTTP sink under the conformance suite (Run), as store/storetest
// is for stores.
type Target struct {
	// New returns the sink, configured to send to base (the suite's server)
	// with Secret in its configuration: in the URL's path or query (a
	// Slack/Teams webhook token), or as a key or header.
	New func(t *testing.T, base string, client *http.Client) notify.Sink
	// Secret is the configured value that must never show in an error.
	Secret string
	// MaxBody bounds the bytes of one request, whatever the alert holds
	// (the receiver's own limit, or less).
	MaxBody int
	// JSON says the request bodies are JSON documents.
	JSON bool
	// Text returns what of a body people read, when the body also carries
	// data for machines (a webhook's alerts keep their true values, JSON
	// escaped); nil: every string of it.
	Text func(body []byte) (string, error)
}

// forbidden are runes no message may carry to a person: terminal escapes,
// C0/C1 controls, and hidden characters (untrusted.Hidden: bidi overrides
// and isolates, zero-width and tag characters). Line feeds and tabs may be
// part of a format; the word joiner Slack puts after an @ is its own.
func forbidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\u2060':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return true
	}
	return untrusted.Hidden(r)
}

// Run runs the sink conformance suite against target: hostile text in
// every attacker-controlled field, a bounded request for a 1 MB field,
// secrets kept out of errors when the receiver echoes the request, and the
// retry classification of the receiver's answers (5xx and 429 retryable,
// Retry-After honoured, other 4xx permanent).
func Run(t *testing.T, target Target) {
	t.Helper()
	send := func(t *testing.T, srv *Server, alerts ...iamwatch.Alert) error {
		t.Helper()
		s := target.New(t, srv.URL, srv.Client())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.Send(ctx, alerts)
	}
	t.Run("Hostile", func(t *testing.T) {
		for _, h := range untrustedtest.Strings {
			t.Run(h.Name, func(t *testing.T) {
				srv := NewServer(t)
				if err := send(t, srv, HostileAlert(h.Value)); err != nil {
					t.Fatalf("Send: %v", err)
				}
				for _, r := range srv.Requests() {
					checkBody(t, r.Body, target)
				}
			})
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		srv := NewServer(t)
		a := HostileAlert(strings.Repeat("x\u00e9<&", 256<<10)) // 1.25 MB in every field
		if err := send(t, srv, a, a, a); err != nil {
			t.Fatalf("Send: %v", err)
		}
		reqs := srv.Requests()
		if len(reqs) == 0 {
			t.Fatal("no request")
		}
		for _, r := range reqs {
			if len(r.Body) > target.MaxBody {
				t.Errorf("a request of %d bytes, over %d", len(r.Body), target.MaxBody)
			}
			checkBody(t, r.Body, target)
		}
	})
	t.Run("SecretsRedacted", func(t *testing.T) {
		srv := NewServer(t)
		// The receiver's error repeats what it was sent, as real ones do.
		srv.Default = Reply{Status: 400, Echo: true}
		err := send(t, srv, Alert())
		if err == nil {
			t.Fatal("Send to a 400 returned no error")
		}
		if target.Secret != "" && strings.Contains(err.Error(), target.Secret) {
			t.Errorf("the error shows the secret %q: %v", target.Secret, err)
		}
		reqs := srv.Requests()
		if len(reqs) == 0 || !strings.Contains(reqs[0].Path+reqs[0].Header.Get("Authorization")+strings.Join(reqs[0].Header.Values("X-Routing-Key"), "")+string(reqs[0].Body), target.Secret) {
			t.Errorf("the secret %q is not in the request: the check above cannot fail", target.Secret)
		}
	})
	t.Run("Classification", func(t *testing.T) {
		for _, c := range []struct {
			reply     Reply
			permanent bool
			after     time.Duration
		}{
			{Reply{Status: 500, Body: "oops"}, false, 0},
			{Reply{Status: 503, Body: "down"}, false, 0},
			{Reply{Status: 429, Header: map[string]string{"Retry-After": "7"}, Body: "slow down"}, false, 7 * time.Second},
			{Reply{Status: 400, Body: "bad"}, true, 0},
			{Reply{Status: 404, Body: "gone"}, true, 0},
			{Reply{Status: 403, Body: "no"}, true, 0},
		} {
			srv := NewServer(t)
			srv.Default = c.reply
			err := send(t, srv, Alert())
			switch {
			case err == nil:
				t.Errorf("%d: no error", c.reply.Status)
			case notify.IsPermanent(err) != c.permanent:
				t.Errorf("%d: permanent %v, want %v (%v)", c.reply.Status, notify.IsPermanent(err), c.permanent, err)
			case c.after > 0 && notify.RetryAfter(err) != c.after:
				t.Errorf("%d: retry after %s, want %s", c.reply.Status, notify.RetryAfter(err), c.after)
			}
		}
	})
}

// checkBody fails t when body is not valid UTF-8, is not JSON (when it
// should be), or carries a forbidden rune (after JSON unescaping).
func checkBody(t *testing.T, body []byte, target Target) {
	t.Helper()
	if !utf8.Valid(body) {
		t.Errorf("body is not valid UTF-8: %q", truncate(body))
		return
	}
	text := string(body)
	switch {
	case target.Text != nil:
		var err error
		if text, err = target.Text(body); err != nil {
			t.Errorf("body: %v: %q", err, truncate(body))
			return
		}
	case target.JSON:
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			t.Errorf("body is not JSON: %v: %q", err, truncate(body))
			return
		}
		var b strings.Builder
		strs(v, &b)
		text = b.String()
	}
	for _, r := range text {
		if forbidden(r) {
			t.Errorf("body carries %U: %q", r, truncate([]byte(text)))
			return
		}
	}
}

// strs writes every string of a decoded JSON value (keys and values).
func strs(v any, b *strings.Builder) {
	switch v := v.(type) {
	case string:
		b.WriteString(v)
		b.WriteByte('\n')
	case []any:
		for _, e := range v {
			strs(e, b)
		}
	case map[string]any:
		for k, e := range v {
			b.WriteString(k)
			b.WriteByte('\n')
			strs(e, b)
		}
	}
}

func truncate(b []byte) []byte {
	if len(b) > 300 {
		return append(bytes.Clone(b[:300]), "…"...)
	}
	return b
}
