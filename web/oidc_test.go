package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch/internal/syncbuf"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// oidcConsole is a console on 127.0.0.1 with OIDC sign-in through a local
// OpenID provider (mockoidc: discovery, JWKS, RS256 ID tokens, PKCE), and
// a browser-like client that keeps cookies and stops at each redirect.
type oidcConsole struct {
	*console
	op  *mockoidc.MockOIDC
	log *syncbuf.Buffer
}

func newOIDCConsole(t *testing.T) *oidcConsole {
	t.Helper()
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = op.Shutdown() })
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "oidc.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	opc := op.Config()
	o, err := NewOIDC(t.Context(), OIDCConfig{
		Issuer: opc.Issuer, ClientID: opc.ClientID, ClientSecret: Secret(opc.ClientSecret), RedirectURL: base + "/oidc/callback",
		Scopes: []string{"groups"}, Admins: []string{"Alice@Example.com", "group:secops"}, ReadOnly: []string{"group:auditors"},
		Name: "Example SSO",
	})
	if err != nil {
		t.Fatal(err)
	}
	log := &syncbuf.Buffer{}
	s, err := New(Config{Store: st, Rules: rs, OIDC: o, BcryptCost: bcrypt.MinCost, Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = s
	srv.Start()
	jar, _ := cookiejar.New(nil)
	c := &console{t: t, st: st, srv: srv, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(func() {
		if strings.Contains(log.String(), opc.ClientSecret) {
			t.Errorf("the client secret reached the log:\n%s", log.String())
		}
	})
	return &oidcConsole{console: c, op: op, log: log}
}

// getURL fetches an absolute URL (the provider's or the console's).
func (c *oidcConsole) getURL(u string) response {
	c.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do(req)
}

// start begins a sign-in and returns the provider's authorization URL.
func (c *oidcConsole) start(next string) *url.URL {
	c.t.Helper()
	r := c.get("/oidc/login?next=" + url.QueryEscape(next))
	if r.status != http.StatusFound {
		c.t.Fatalf("GET /oidc/login: %d\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	return u
}

// authorize visits the provider (which signs the queued user in) and
// returns the callback URL it redirects to.
func (c *oidcConsole) authorize(auth *url.URL) *url.URL {
	c.t.Helper()
	r := c.getURL(auth.String())
	if r.status != http.StatusFound {
		c.t.Fatalf("provider authorize: %d\n%s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		c.t.Fatal(err)
	}
	return u
}

func TestOIDCSignIn(t *testing.T) {
	c := newOIDCConsole(t)
	if r := c.get("/signin"); !strings.Contains(r.body, `href="/oidc/login?next=%2f"`) || !strings.Contains(r.body, "Sign in with Example SSO") {
		t.Fatalf("the sign-in page offers no OIDC sign-in:\n%s", r.body)
	}
	c.op.QueueUser(&mockoidc.MockUser{Subject: "s-alice", Email: "alice@example.com", EmailVerified: true})
	auth := c.start("/alerts?severity=high")
	q := auth.Query()
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if len(q.Get(p)) < 32 {
			t.Errorf("authorization request %s = %q, want a random value", p, q.Get(p))
		}
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || !strings.Contains(q.Get("scope"), "openid") {
		t.Errorf("authorization request: %v", q)
	}
	cb := c.authorize(auth)
	r := c.getURL(cb.String())
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/alerts?severity=high" {
		t.Fatalf("callback: %d %s\n%s\nlog:\n%s", r.status, r.header.Get("Location"), r.body, c.log)
	}
	// The session cookie is the one password sign-ins get.
	if sc := strings.Join(r.header.Values("Set-Cookie"), "\n"); !strings.Contains(sc, sessionCookie+"=") || !strings.Contains(sc, "HttpOnly") || !strings.Contains(sc, "SameSite=Lax") {
		t.Errorf("callback cookies:\n%s", sc)
	}
	page := c.get("/alerts")
	if page.status != http.StatusOK || !strings.Contains(page.body, "alice@example.com") || strings.Contains(page.body, "(read-only)") {
		t.Fatalf("after OIDC sign-in /alerts: %d\n%.1500s", page.status, page.body)
	}
	// The same state cannot be used twice: its cookie is gone.
	if r := c.getURL(cb.String()); r.status != http.StatusForbidden {
		t.Errorf("callback replayed: %d, want 403", r.status)
	}
}

// A group listed as read-only signs in read-only, and cannot change
// anything; CSRF is checked as for passwords.
func TestOIDCReadOnlyGroup(t *testing.T) {
	c := newOIDCConsole(t)
	c.op.QueueUser(&mockoidc.MockUser{Subject: "s-dan", Email: "dan@example.com", EmailVerified: true, Groups: []string{"staff", "auditors"}})
	if r := c.getURL(c.authorize(c.start("/")).String()); r.status != http.StatusSeeOther {
		t.Fatalf("callback: %d\n%s\nlog:\n%s", r.status, r.body, c.log)
	}
	page := c.get("/")
	if !strings.Contains(page.body, "dan@example.com (read-only)") {
		t.Fatalf("read-only OIDC user: %.1500s", page.body)
	}
	csrf := c.csrf("/")
	if r := c.post("/alert/triage", url.Values{"csrf": {csrf}, "key": {"x"}, "status": {"acknowledged"}}); r.status != http.StatusForbidden || !strings.Contains(r.body, "read-only") {
		t.Errorf("triage by a read-only OIDC user: %d", r.status)
	}
	if r := c.post("/alert/triage", url.Values{"key": {"x"}, "status": {"acknowledged"}}); r.status != http.StatusForbidden || !strings.Contains(r.body, "CSRF") {
		t.Errorf("triage without CSRF: %d %s", r.status, r.body)
	}
	// An admin group signs in able to change things.
	c2 := newOIDCConsole(t)
	c2.op.QueueUser(&mockoidc.MockUser{Subject: "s-eve", Email: "eve@example.com", EmailVerified: true, Groups: []string{"secops"}})
	c2.getURL(c2.authorize(c2.start("/")).String())
	if page := c2.get("/"); !strings.Contains(page.body, "eve@example.com") || strings.Contains(page.body, "(read-only)") {
		t.Errorf("admin group member: %.1500s", page.body)
	}
}

func TestOIDCRefused(t *testing.T) {
	signedIn := func(c *oidcConsole) bool {
		return c.get("/").status == http.StatusOK
	}
	t.Run("wrong state", func(t *testing.T) {
		c := newOIDCConsole(t)
		cb := c.authorize(c.start("/"))
		q := cb.Query()
		q.Set("state", strings.Repeat("0", 64))
		cb.RawQuery = q.Encode()
		if r := c.getURL(cb.String()); r.status != http.StatusForbidden || !strings.Contains(r.body, "not started by this browser") {
			t.Errorf("callback with a wrong state: %d\n%s", r.status, r.body)
		}
		if signedIn(c) {
			t.Error("signed in with a wrong state")
		}
	})
	t.Run("no flow cookie", func(t *testing.T) {
		// Another browser's callback (a login CSRF): no cookie here.
		c := newOIDCConsole(t)
		cb := c.authorize(c.start("/"))
		other := newOIDCConsole(t)
		other.op = c.op
		if r := other.getURL(strings.Replace(cb.String(), c.srv.URL, other.srv.URL, 1)); r.status != http.StatusForbidden {
			t.Errorf("callback without the flow cookie: %d", r.status)
		}
	})
	t.Run("wrong nonce", func(t *testing.T) {
		// The provider issues its ID token for another nonce (a token
		// minted for another sign-in, replayed into this one).
		c := newOIDCConsole(t)
		auth := c.start("/")
		q := auth.Query()
		q.Set("nonce", "attacker-nonce")
		auth.RawQuery = q.Encode()
		if r := c.getURL(c.authorize(auth).String()); r.status != http.StatusForbidden || !strings.Contains(r.body, "not issued for this sign-in") {
			t.Errorf("ID token with a wrong nonce: %d\n%s", r.status, r.body)
		}
		if signedIn(c) {
			t.Error("signed in with a wrong nonce")
		}
	})
	t.Run("wrong PKCE challenge", func(t *testing.T) {
		// An authorization code obtained with another challenge (an
		// intercepted code) cannot be redeemed with this verifier.
		c := newOIDCConsole(t)
		auth := c.start("/")
		q := auth.Query()
		q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
		auth.RawQuery = q.Encode()
		if r := c.getURL(c.authorize(auth).String()); r.status != http.StatusUnauthorized || signedIn(c) {
			t.Errorf("code with a foreign PKCE challenge: %d\n%s", r.status, r.body)
		}
	})
	t.Run("unlisted user", func(t *testing.T) {
		c := newOIDCConsole(t)
		c.op.QueueUser(&mockoidc.MockUser{Subject: "s-mallory", Email: "mallory@example.net", EmailVerified: true, Groups: []string{"engineering"}})
		r := c.getURL(c.authorize(c.start("/")).String())
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "mallory@example.net") || !strings.Contains(r.body, "may not use this console") {
			t.Errorf("unlisted user: %d\n%s", r.status, r.body)
		}
		if signedIn(c) {
			t.Error("an unlisted user signed in")
		}
		if !strings.Contains(c.log.String(), "not listed") {
			t.Errorf("the refusal is not logged:\n%s", c.log)
		}
	})
	t.Run("named like a console account", func(t *testing.T) {
		// SECURITY.md: no OIDC sign-in is named like a local account
		// (--add-user takes names with @): its session, log lines and
		// triage notes would pass for that account's.
		c := newOIDCConsole(t)
		hash, err := bcrypt.GenerateFromPassword([]byte("correct horse battery"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.st.PutUser(t.Context(), "alice@example.com", string(hash)); err != nil {
			t.Fatal(err)
		}
		c.op.QueueUser(&mockoidc.MockUser{Subject: "s-alice", Email: "alice@example.com", EmailVerified: true})
		r := c.getURL(c.authorize(c.start("/")).String())
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "console account") {
			t.Errorf("OIDC user named like a console account: %d\n%s", r.status, r.body)
		}
		if signedIn(c) {
			t.Error("an OIDC user signed in under a console account's name")
		}
	})
	t.Run("provider error", func(t *testing.T) {
		c := newOIDCConsole(t)
		c.start("/")
		if r := c.get("/oidc/callback?error=access_denied&state=x"); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "access_denied") {
			t.Errorf("provider error: %d\n%s", r.status, r.body)
		}
	})
}

// role reads the claims as providers send them, and an unverified email
// matches no email entry.
func TestOIDCRole(t *testing.T) {
	o := &OIDC{cfg: OIDCConfig{GroupsClaim: "groups", Admins: []string{"alice@example.com", "group:secops"}, ReadOnly: []string{"bob@example.com", "group:auditors"}}}
	for _, tt := range []struct {
		claims       string
		ok, readOnly bool
	}{
		{`{"email":"ALICE@example.com","email_verified":true}`, true, false},
		{`{"email":"alice@example.com"}`, true, false},
		{`{"email":"alice@example.com","email_verified":"true"}`, true, false},
		{`{"email":"alice@example.com","email_verified":false}`, false, false},
		{`{"email":"alice@example.com","email_verified":"false"}`, false, false},
		{`{"email":"x@example.com","email_verified":false,"groups":["secops"]}`, true, false},
		{`{"email":"bob@example.com"}`, true, true},
		{`{"email":"x@example.com","groups":"auditors"}`, true, true},
		{`{"email":"x@example.com","groups":["auditors","secops"]}`, true, false},
		{`{"email":"x@example.com","groups":["Secops"]}`, false, false},
		{`{"groups":["secops"]}`, false, false},
		{`{"email":"admin","groups":["secops"]}`, false, false},
		{`{"email":"<script>@example.com","groups":["secops"]}`, false, false},
		{`{"email":"alice@example.com\u202e","groups":["secops"]}`, false, false},
	} {
		var claims map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tt.claims), &claims); err != nil {
			t.Fatal(err)
		}
		_, readOnly, ok := o.role(claims)
		if ok != tt.ok || readOnly != tt.readOnly {
			t.Errorf("role(%s) = read-only %v, ok %v; want %v, %v", tt.claims, readOnly, ok, tt.readOnly, tt.ok)
		}
	}
}

// NewOIDC refuses a configuration nobody could use, and the secret never
// prints.
func TestOIDCConfig(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = op.Shutdown() }()
	good := OIDCConfig{Issuer: op.Issuer(), ClientID: "c", ClientSecret: "s3cr3t-value", RedirectURL: "https://console.example.com/oidc/callback", Admins: []string{"group:secops"}}
	if _, err := NewOIDC(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(*OIDCConfig){
		"no issuer":        func(c *OIDCConfig) { c.Issuer = "" },
		"nobody":           func(c *OIDCConfig) { c.Admins = nil },
		"bad entry":        func(c *OIDCConfig) { c.ReadOnly = []string{"bob"} },
		"empty group":      func(c *OIDCConfig) { c.ReadOnly = []string{"group:"} },
		"redirect path":    func(c *OIDCConfig) { c.RedirectURL = "https://console.example.com/elsewhere" },
		"redirect scheme":  func(c *OIDCConfig) { c.RedirectURL = "javascript:alert(1)//oidc/callback" },
		"issuer not there": func(c *OIDCConfig) { c.Issuer = op.Issuer() + "/nope" },
	} {
		c := good
		mod(&c)
		if _, err := NewOIDC(context.Background(), c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: the error shows the secret: %v", name, err)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "oidc", good, "secret", good.ClientSecret)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s", good, good, good, good.ClientSecret), buf.String()} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("the secret prints: %s", s)
		}
	}
}
