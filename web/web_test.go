package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/sampledata"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var sample struct {
	once sync.Once
	path string
	err  error
}

// sampleDB returns the path of a fresh copy of a database holding the
// shipped sample, scanned through the real pipeline and the built-in rules.
func sampleDB(t *testing.T) string {
	t.Helper()
	sample.once.Do(func() {
		dir, err := os.MkdirTemp("", "iamwatch-web-sample")
		if err != nil {
			sample.err = err
			return
		}
		sample.path = filepath.Join(dir, "sample.db")
		sample.err = scanSample(sample.path)
	})
	if sample.err != nil {
		t.Fatal(sample.err)
	}
	b, err := os.ReadFile(sample.path)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "test.db")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func scanSample(path string) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	rs, err := rules.Load()
	if err != nil {
		return err
	}
	geo, err := geoip.Sample() // as scan --sample: the sample's own GeoIP database
	if err != nil {
		return err
	}
	defer geo.Close()
	eng, err := detect.New(rs, detect.Config{Geo: geo})
	if err != nil {
		return err
	}
	p, err := pipeline.New(st, pipeline.Options{Detector: eng})
	if err != nil {
		return err
	}
	inputs, err := pipeline.FromFS(sampledata.FS(), ".")
	if err != nil {
		return err
	}
	_, err = p.Read(ctx, inputs, pipeline.ReadOptions{})
	return err
}

func TestMain(m *testing.M) {
	code := m.Run()
	if sample.path != "" {
		os.RemoveAll(filepath.Dir(sample.path))
	}
	os.Exit(code)
}

const testPassword = "correct horse battery"

// console is a server over a store, with an HTTP client that keeps
// cookies and does not follow redirects.
type console struct {
	t     *testing.T
	st    *sqlite.Store
	srv   *httptest.Server
	c     *http.Client
	token string
}

// newConsole serves a fresh copy of the sample, or an empty store when
// empty is set. withAdmin creates the admin account with testPassword.
func newConsole(t *testing.T, empty, withAdmin bool) *console {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.db")
	if !empty {
		path = sampleDB(t)
	}
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if withAdmin {
		h, err := bcrypt.GenerateFromPassword([]byte(testPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutUser(context.Background(), AdminUser, string(h)); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	c := &console{t: t, st: st, token: NewSetupToken()}
	s, err := New(Config{Store: st, Rules: rs, Detect: testDetect(t), SetupToken: c.token, BcryptCost: bcrypt.MinCost, Log: slog.New(slog.NewTextHandler(testLog{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	c.srv = httptest.NewServer(s)
	t.Cleanup(c.srv.Close)
	jar, _ := cookiejar.New(nil)
	c.c = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return c
}

// testLog writes the server's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

type response struct {
	status int
	header http.Header
	body   string
}

func (c *console) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

func (c *console) get(path string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

func (c *console) post(path string, form url.Values) response {
	c.t.Helper()
	req, err := http.NewRequest("POST", c.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf is the CSRF token of the form on the page at path.
func (c *console) csrf(path string) string {
	c.t.Helper()
	r := c.get(path)
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		c.t.Fatalf("GET %s: no CSRF field in %d page:\n%s", path, r.status, r.body)
	}
	return m[1]
}

func (c *console) signIn() {
	c.t.Helper()
	r := c.post("/signin", url.Values{"csrf": {c.csrf("/signin")}, "user": {AdminUser}, "password": {testPassword}, "next": {"/"}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		c.t.Fatalf("sign-in: %d %s\n%s", r.status, r.header.Get("Location"), r.body)
	}
}

func TestUnauthenticatedRedirected(t *testing.T) {
	c := newConsole(t, true, true)
	for _, p := range []string{"/", "/alerts?severity=high", "/alert?key=x", "/events"} {
		r := c.get(p)
		want := "/signin?next=" + url.QueryEscape(p)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("GET %s: %d Location %q, want 303 to %q", p, r.status, r.header.Get("Location"), want)
		}
	}
	for _, p := range []string{"/alert/triage", "/signout"} {
		if r := c.post(p, url.Values{"key": {"x"}, "status": {"resolved"}}); r.status != http.StatusForbidden {
			t.Errorf("POST %s signed out: %d, want 403", p, r.status)
		}
	}
}

func TestSignInCookieAndSignOut(t *testing.T) {
	c := newConsole(t, true, true)
	// The cookie jar hides the flags: read the Set-Cookie header itself.
	form := url.Values{"csrf": {c.csrf("/signin")}, "user": {AdminUser}, "password": {testPassword}, "next": {"/events?user=alice"}}
	req, _ := http.NewRequest("POST", c.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/events?user=alice" {
		t.Fatalf("sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie set")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || len(session.Value) != 64 {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, 256-bit value", session)
	}
	if session.Secure {
		t.Errorf("session cookie is Secure over plain HTTP: browsers would drop it")
	}
	if r := c.get("/"); r.status != http.StatusOK || !strings.Contains(r.body, "Alerts by severity") {
		t.Fatalf("GET / signed in: %d\n%s", r.status, r.body)
	}
	// The stored session is keyed by a hash, not by the cookie value.
	if _, err := c.st.Session(context.Background(), session.Value); err == nil {
		t.Error("the store holds the raw session cookie value")
	}
	tok := c.csrf("/")
	if r := c.post("/signout", url.Values{"csrf": {tok}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", r.status)
	}
	// The old cookie no longer works, even replayed by hand.
	req, _ = http.NewRequest("GET", c.srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
	res, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with a signed-out cookie: %d, want 303 to sign-in", res.StatusCode)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	c := newConsole(t, true, true)
	s, err := New(Config{Store: c.st, BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(s)
	defer srv.Close()
	cl := srv.Client()
	jar, _ := cookiejar.New(nil)
	cl.Jar = jar
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := cl.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	res, err = cl.PostForm(srv.URL+"/signin", url.Values{"csrf": {string(m[1])}, "user": {AdminUser}, "password": {testPassword}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	found := false
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			found = true
			if !ck.Secure || !ck.HttpOnly {
				t.Errorf("session cookie over TLS: %+v, want Secure and HttpOnly", ck)
			}
		}
	}
	if !found {
		t.Fatalf("sign-in over TLS: %d, no session cookie", res.StatusCode)
	}
}

func TestWrongPasswordRefused(t *testing.T) {
	c := newConsole(t, true, true)
	for _, tc := range []struct{ user, pass string }{
		{AdminUser, "wrong password here"}, {AdminUser, ""}, {"nobody", testPassword},
	} {
		r := c.post("/signin", url.Values{"csrf": {c.csrf("/signin")}, "user": {tc.user}, "password": {tc.pass}})
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong user name or password") {
			t.Errorf("sign-in %q/%q: %d, want 401 with a message", tc.user, tc.pass, r.status)
		}
	}
	if r := c.get("/"); r.status != http.StatusSeeOther {
		t.Errorf("GET / after refused sign-ins: %d, want a redirect to sign-in", r.status)
	}
}

func TestPostWithoutCSRFRefused(t *testing.T) {
	c := newConsole(t, false, true)
	// Sign-in itself needs the double-submit token.
	if r := c.post("/signin", url.Values{"user": {AdminUser}, "password": {testPassword}}); r.status != http.StatusForbidden {
		t.Errorf("sign-in without CSRF token: %d, want 403", r.status)
	}
	c.signIn()
	as, err := c.st.Alerts(context.Background(), iamwatch.AlertFilter{Limit: 1})
	if err != nil || len(as) == 0 {
		t.Fatalf("sample alerts: %v %d", err, len(as))
	}
	key := as[0].DedupKey
	for name, form := range map[string]url.Values{
		"none":  {"key": {key}, "status": {"resolved"}},
		"wrong": {"key": {key}, "status": {"resolved"}, "csrf": {strings.Repeat("0", 64)}},
	} {
		if r := c.post("/alert/triage", form); r.status != http.StatusForbidden {
			t.Errorf("triage with %s CSRF token: %d, want 403", name, r.status)
		}
	}
	if tr, err := c.st.Triage(context.Background(), key); err != nil || tr.Status != iamwatch.TriageOpen {
		t.Errorf("triage after refused POSTs: %+v %v, want open", tr, err)
	}
	if r := c.post("/signout", url.Values{}); r.status != http.StatusForbidden {
		t.Errorf("sign-out without CSRF token: %d, want 403", r.status)
	}
}

func TestSetupLinkOnce(t *testing.T) {
	c := newConsole(t, true, false)
	if r := c.get("/setup?token=" + strings.Repeat("a", 48)); r.status != http.StatusForbidden {
		t.Errorf("setup with a wrong token: %d, want 403", r.status)
	}
	link := "/setup?token=" + c.token
	tok := c.csrf(link)
	if r := c.post("/setup", url.Values{"csrf": {tok}, "token": {c.token}, "password": {"short"}, "confirm": {"short"}}); r.status != http.StatusBadRequest {
		t.Errorf("setup with a short password: %d, want 400", r.status)
	}
	r := c.post("/setup", url.Values{"csrf": {tok}, "token": {c.token}, "password": {testPassword}, "confirm": {testPassword}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/" {
		t.Fatalf("setup: %d %q\n%s", r.status, r.header.Get("Location"), r.body)
	}
	if r := c.get("/"); r.status != http.StatusOK {
		t.Errorf("GET / after setup: %d, want 200 (signed in)", r.status)
	}
	// The link is spent: a second use cannot reset the password.
	if r := c.post("/setup", url.Values{"csrf": {tok}, "token": {c.token}, "password": {"another password!"}, "confirm": {"another password!"}}); r.status != http.StatusForbidden {
		t.Errorf("second setup: %d, want 403", r.status)
	}
	h, err := c.st.PasswordHash(context.Background(), AdminUser)
	if err != nil {
		t.Fatal(err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte(testPassword)) != nil {
		t.Error("the stored hash does not match the password set")
	}
	if strings.Contains(h, testPassword) {
		t.Error("the password is stored in clear")
	}
}

func TestSecurityHeaders(t *testing.T) {
	c := newConsole(t, true, true)
	for _, p := range []string{"/signin", "/static/style.css", "/"} {
		r := c.get(p)
		csp := r.header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
		if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: headers %v", p, r.header)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/alerts?x=1": "/alerts?x=1", "": "/", "//evil.example/": "/", "https://evil.example/": "/",
		"/\\evil.example": "/", "javascript:alert(1)": "/", "alerts": "/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSessionExpires(t *testing.T) {
	c := newConsole(t, true, true)
	var now atomic.Int64 // Unix seconds; the handlers read it on their goroutines.
	now.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	s, err := New(Config{Store: c.st, BcryptCost: bcrypt.MinCost, SessionTTL: time.Hour, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	c.srv.Config.Handler = s
	c.signIn()
	if r := c.get("/events"); r.status != http.StatusOK {
		t.Fatalf("GET /events: %d", r.status)
	}
	now.Add(int64(time.Hour / time.Second))
	if r := c.get("/events"); r.status != http.StatusSeeOther {
		t.Errorf("GET /events an hour later: %d, want 303 to sign-in", r.status)
	}
}

// TestSetupRaced: two uses of the link at once set the password once.
func TestSetupRaced(t *testing.T) {
	c := newConsole(t, true, false)
	tok := c.csrf("/setup?token=" + c.token)
	const n = 4
	codes := make(chan int, n)
	for i := range n {
		go func() {
			pass := fmt.Sprintf("password number %d", i)
			form := url.Values{"csrf": {tok}, "token": {c.token}, "password": {pass}, "confirm": {pass}}
			req, _ := http.NewRequest("POST", c.srv.URL+"/setup", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(&http.Cookie{Name: preCSRFCookie, Value: tok})
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				codes <- 0
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		}()
	}
	won := 0
	for range n {
		switch code := <-codes; code {
		case http.StatusSeeOther:
			won++
		case http.StatusForbidden:
		default:
			t.Errorf("concurrent setup: %d", code)
		}
	}
	if won != 1 {
		t.Errorf("%d concurrent setups succeeded, want 1", won)
	}
}

// testDetect is what iamwatch serve gives the rules' inline tests: the test
// GeoIP database (geoip.Sample), as `iamwatch rules test` uses.
func testDetect(t testing.TB) detect.Config {
	t.Helper()
	db, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return detect.Config{Geo: db}
}
