package notify

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch/untrusted"
)

// maxResponse bounds how much of a response body is read.
const maxResponse = 64 << 10

// Request is one HTTP POST of a sink. URL and Header may hold secrets; they
// never appear in the error Post returns.
type Request struct {
	URL         string
	Header      http.Header // extra headers; Content-Type defaults to application/json.
	Body        []byte
	ContentType string
	// Secrets are further values that must never appear in an error, such
	// as a routing key inside Body. Post already keeps out the URL's
	// credentials, path segments and query values and the Header values.
	Secrets []string
}

// Response is what Post returns of a 2xx response.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte // at most 64 KiB.
}

// Post sends r with client and classifies the outcome: a 2xx response is
// success; 408, 425, 429 and 5xx are retryable (honouring Retry-After, in
// seconds or as an HTTP date relative to now()); any other status is
// permanent; transport errors are retryable. Errors name the host but never
// the URL path, query or headers, which may carry secrets.
func Post(ctx context.Context, client *http.Client, now func() time.Time, r Request) (*Response, error) {
	u, err := url.Parse(r.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, Permanent(errors.New("invalid URL (it is not shown because it may hold a secret)"))
	}
	where := RedactURL(r.URL)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return nil, Permanent(fmt.Errorf("POST %s: build request", where))
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	ct := r.ContentType
	if ct == "" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "iamwatch")
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("POST %s: %w", where, ctx.Err())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error's text holds the whole URL.
		}
		return nil, Retryable(fmt.Errorf("POST %s: %w", where, err), 0)
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if rerr != nil {
			// Accepted; the body was only informative.
			body = nil
		}
		return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
	}
	body = scrub(body, requestSecrets(u, req.Header, r.Secrets))
	return nil, StatusError(fmt.Sprintf("POST %s", where), resp.StatusCode, resp.Header, body, now)
}

// requestSecrets lists what of a request may be a credential, in every form
// a receiver may repeat it: the URL's user information (also as the Basic
// Authorization value), its path and path segments and its query and query
// values (as sent and decoded), the value of every header but Content-Type
// and User-Agent (and the token after "Bearer "), and extra.
func requestSecrets(u *url.URL, h http.Header, extra []string) []string {
	s := append([]string(nil), extra...)
	if u.User != nil {
		pw, _ := u.User.Password()
		s = append(s, u.User.String(), u.User.Username(), pw,
			base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pw)))
	}
	if u.Path != "" && u.Path != "/" {
		s = append(s, u.EscapedPath(), u.Path)
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			dec, _ := url.PathUnescape(seg)
			s = append(s, seg, dec)
		}
	}
	if u.RawQuery != "" {
		s = append(s, u.RawQuery)
		for _, kv := range strings.Split(u.RawQuery, "&") {
			_, v, _ := strings.Cut(kv, "=")
			dec, _ := url.QueryUnescape(v)
			s = append(s, v, dec)
		}
	}
	for k, vs := range h {
		if k == "Content-Type" || k == "User-Agent" {
			continue
		}
		for _, v := range vs {
			s = append(s, v)
			if _, tok, ok := strings.Cut(v, " "); ok {
				s = append(s, tok)
			}
		}
	}
	return s
}

// scrub replaces in b every secret of at least minSecret bytes, longest
// first, with "[redacted]".
func scrub(b []byte, secrets []string) []byte {
	secrets = slices.DeleteFunc(secrets, func(s string) bool { return len(s) < minSecret })
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, s := range secrets {
		b = bytes.ReplaceAll(b, []byte(s), []byte("[redacted]"))
	}
	return b
}

// minSecret is the shortest value redacted: shorter path segments ("T01",
// "api") are names, not credentials, and redacting them would garble errors.
const minSecret = 4

// StatusError classifies a non-2xx HTTP status (see [Post]). op names the
// request without secrets; the error quotes at most 200 characters of body,
// cleaned of control characters.
func StatusError(op string, status int, h http.Header, body []byte, now func() time.Time) error {
	err := fmt.Errorf("%s: %d %s", op, status, http.StatusText(status))
	if excerpt := untrusted.Text(string(body), 200); excerpt != "" {
		err = fmt.Errorf("%s: %d %s: %s", op, status, http.StatusText(status), excerpt)
	}
	switch {
	case status == http.StatusTooManyRequests, status == http.StatusServiceUnavailable:
		return Retryable(err, ParseRetryAfter(h.Get("Retry-After"), now))
	case status == http.StatusRequestTimeout, status == http.StatusTooEarly, status >= 500:
		return Retryable(err, 0)
	default:
		return Permanent(err)
	}
}

// ParseRetryAfter reads a Retry-After value: delay seconds or an HTTP date
// (relative to now). It returns zero when v is empty, invalid or in the past,
// and at most a day.
func ParseRetryAfter(v string, now func() time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, 86400)) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now())
	}
	return max(0, min(d, 24*time.Hour))
}

// RedactURL returns the scheme and host of raw followed by "/…" when it has a
// path or query: enough to tell destinations apart, never a secret path
// (Slack and Teams webhook URLs are credentials).
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// Redact returns err with every non-empty secret in its text replaced by
// "[redacted]", keeping its classification. Sinks use it on errors from
// libraries that might echo what they were given.
func Redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	scrub := func(msg string) (string, bool) {
		changed := false
		for _, s := range secrets {
			if len(s) >= 4 && strings.Contains(msg, s) {
				msg = strings.ReplaceAll(msg, s, "[redacted]")
				changed = true
			}
		}
		return msg, changed
	}
	var e *Error
	if errors.As(err, &e) {
		if msg, changed := scrub(e.Err.Error()); changed {
			return &Error{Kind: e.Kind, RetryAfter: e.RetryAfter, Err: errors.New(msg)}
		}
		return err
	}
	if msg, changed := scrub(err.Error()); changed {
		return errors.New(msg)
	}
	return err
}
