package notifytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Time is the event time of the fixture alerts.
var Time = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// Alert returns a root console sign-in alert (fixture values, invented).
func Alert() iamwatch.Alert {
	return iamwatch.Alert{
		DedupKey:  "root-console-login/5f0c9a52-7d1e-4b8a-9c3f-2e6d8a1b4c70",
		Rule:      "root-console-login",
		Severity:  iamwatch.SeverityCritical,
		Title:     "IAM Alert: Root Account Login", // as the catalog titles it
		Summary:   "Root account logged in from IP: 203.0.113.24",
		Action:    "confirm with the account owner that this sign-in was theirs; if not, rotate the root password and MFA now.",
		Time:      Time,
		AccountID: "111122223333",
		Region:    "us-east-1",
		UserName:  "root",
		SourceIP:  "203.0.113.24",
		EventName: "ConsoleLogin",
		EventIDs:  []string{"5f0c9a52-7d1e-4b8a-9c3f-2e6d8a1b4c70"},
		Tags:      []string{"cis", "root"},
	}
}

// Alerts returns n distinct alerts of varying severity and rule, one minute apart.
func Alerts(n int) []iamwatch.Alert {
	out := make([]iamwatch.Alert, n)
	for i := range out {
		a := Alert()
		a.Severity = iamwatch.Severity(i % 5)
		a.Rule = fmt.Sprintf("rule-%d", i%3)
		a.Title = fmt.Sprintf("Test Alert %d", i)
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		a.DedupKey = a.Rule + "/" + id
		a.EventIDs = []string{id}
		a.Time = Time.Add(time.Duration(i) * time.Minute)
		out[i] = a
	}
	return out
}

// HostileAlert returns Alert with v in every text field an attacker can
// influence (v is one of untrustedtest.Strings).
func HostileAlert(v string) iamwatch.Alert {
	a := Alert()
	a.Summary = "Root account logged in; user agent " + v
	a.UserName = v
	a.SourceIP = v
	a.EventName = v
	a.AccountID = v
	a.Region = v
	a.Group = v
	a.EventIDs = []string{v}
	a.Rule = v
	a.Title = "Root Account Login " + v
	a.Action = v
	return a
}

// Request is a request a Server received.
type Request struct {
	Method string
	Path   string // with the raw query.
	Header http.Header
	Body   []byte
}

// Reply is a scripted response.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
	// Echo appends to Body what careless receivers (Express's "Cannot POST
	// /path", proxy error pages) repeat of the request: the path and query as
	// sent and decoded, the Authorization header and the start of the body.
	Echo bool
}

// EchoOf is the text a Reply with Echo adds for r.
func EchoOf(r *http.Request, body []byte) string {
	return fmt.Sprintf("Cannot %s %s (path %s, user %s, Authorization: %s, body: %.300s)",
		r.Method, r.URL.RequestURI(), r.URL.Path, r.URL.User, r.Header.Get("Authorization"), body)
}

// Server is an httptest server recording requests and answering from a
// script (then with Default). It is safe for concurrent use.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []Request
	script   []Reply
	Default  Reply
	accepted int
}

// NewServer starts a recording server on 127.0.0.1, closed in t.Cleanup;
// its default reply is 200 with body "ok".
func NewServer(t testing.TB, script ...Reply) *Server {
	s := &Server{script: script, Default: Reply{Status: 200, Body: "ok"}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body})
	rep := s.Default
	if len(s.script) > 0 {
		rep, s.script = s.script[0], s.script[1:]
	}
	if rep.Status >= 200 && rep.Status < 300 {
		s.accepted++
	}
	s.mu.Unlock()
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rep.Status)
	_, _ = io.WriteString(w, rep.Body) // the client sees a short body
	if rep.Echo {
		_, _ = io.WriteString(w, EchoOf(r, body))
	}
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Accepted returns how many requests got a 2xx reply.
func (s *Server) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Golden compares got with testdata/name, rewriting the file when update is
// set. JSON is compared after indenting, so golden files stay readable.
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	if json.Valid(got) {
		var b bytes.Buffer
		if err := json.Indent(&b, got, "", "  "); err == nil {
			b.WriteByte('\n')
			got = b.Bytes()
		}
	}
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden file (run with -update if intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// Fixed returns a clock stuck at t.
func Fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// Clock is a settable fake clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
