package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/store/sqlite"
	"github.com/iamwatch/iamwatch/untrusted"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Store is what the console reads and writes; *sqlite.Store has it.
type Store interface {
	Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error)
	Deliveries(ctx context.Context, alertKey string) ([]iamwatch.Delivery, error)
	Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error)
	Event(ctx context.Context, id string) (iamwatch.Event, error)
	Events(ctx context.Context, f sqlite.EventFilter) ([]iamwatch.Event, error)
	NewestEventTime(ctx context.Context) (time.Time, error)
	// DB is the read pool the pre-built questions run on.
	DB() *sql.DB
	EventCounts(ctx context.Context, f sqlite.EventFilter, column string, top int) ([]sqlite.ValueCount, int, error)
	HasUsers(ctx context.Context) (bool, error)
	PutUser(ctx context.Context, name, passwordHash string) error
	PasswordHash(ctx context.Context, name string) (string, error)
	PutSession(ctx context.Context, s sqlite.Session) error
	Session(ctx context.Context, idHash string) (sqlite.Session, error)
	DeleteSession(ctx context.Context, idHash string, now time.Time) error
	SetTriage(ctx context.Context, t iamwatch.Triage) error
	RetryDelivery(ctx context.Context, alertKey, sink string, now time.Time) (bool, error)
	Triage(ctx context.Context, key string) (iamwatch.Triage, error)
	Triages(ctx context.Context) (map[string]iamwatch.Triage, error)
}

var _ Store = (*sqlite.Store)(nil)

// Config configures a Server.
type Config struct {
	Store Store
	// Rules is the catalog, for each alert's rule description and action
	// and the rules page.
	Rules []*detect.Rule
	// Detect is the detection configuration the rules' inline tests run
	// with (trusted accounts, admin policies), as `iamwatch rules test`.
	Detect detect.Config
	// SetupToken, when no user exists yet, is the secret of the one-time
	// link that creates the admin account (see NewSetupToken).
	SetupToken string
	// SessionTTL is how long a sign-in lasts. Zero means 12h.
	SessionTTL time.Duration
	// BcryptCost is the password hash cost. Zero means bcrypt.DefaultCost;
	// tests use bcrypt.MinCost.
	BcryptCost int
	// OIDC, when set, offers sign-in through an OpenID Connect provider
	// beside the passwords (see NewOIDC).
	OIDC *OIDC
	Now  func() time.Time // nil: time.Now.
	Log  *slog.Logger     // nil: discard.
}

// Server serves the console. It is safe for concurrent use.
type Server struct {
	cfg     Config
	rules   map[string]*detect.Rule
	pages   map[string]*template.Template
	mux     *http.ServeMux
	setupMu sync.Mutex // one set-up at a time, so a raced link cannot set the password twice.
	// testsOnce runs the rules' inline tests once; results by rule ID.
	testsOnce func() map[string][]detect.TestResult
}

// AdminUser is the name of the account the first run creates.
const AdminUser = "admin"

// Cookie names.
const (
	sessionCookie = "iamwatch_session"
	preCSRFCookie = "iamwatch_csrf" // double-submit token of the sign-in forms.
)

// New returns a Server over cfg.Store.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: no store")
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, rules: map[string]*detect.Rule{}, pages: map[string]*template.Template{}}
	for _, r := range cfg.Rules {
		s.rules[r.ID] = r
	}
	s.testsOnce = sync.OnceValue(func() map[string][]detect.TestResult {
		out := map[string][]detect.TestResult{}
		for _, t := range detect.RunTests(cfg.Rules, cfg.Detect) {
			out[t.Rule] = append(out[t.Rule], t)
		}
		return out
	})
	for _, p := range []string{"signin", "setup", "overview", "alerts", "alert", "events", "error", "timeline", "event", "questions", "question", "rules"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", p, err)
		}
		s.pages[p] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /signin", s.signinPage)
	m.HandleFunc("POST /signin", s.signin)
	if cfg.OIDC != nil {
		m.HandleFunc("GET /oidc/login", s.oidcLogin)
		m.HandleFunc("GET /oidc/callback", s.oidcCallback)
	}
	m.HandleFunc("GET /setup", s.setupPage)
	m.HandleFunc("POST /setup", s.setup)
	m.Handle("POST /signout", s.authed(s.signout))
	m.Handle("GET /{$}", s.authed(s.overview))
	m.Handle("GET /alerts", s.authed(s.alerts))
	m.Handle("GET /alert", s.authed(s.alert))
	m.Handle("POST /alert/triage", s.authed(s.writer(s.triage)))
	m.Handle("POST /alert/retry", s.authed(s.writer(s.retry)))
	m.Handle("GET /events", s.authed(s.events))
	m.Handle("GET /actor", s.authed(s.timeline))
	m.Handle("GET /event", s.authed(s.event))
	m.Handle("GET /questions", s.authed(s.questions))
	m.Handle("GET /rules", s.authed(s.rulesPage))
	m.Handle("GET /question/{name}", s.authed(s.question))
	s.mux = m
	return s, nil
}

// NewSetupToken returns a random token for Config.SetupToken.
func NewSetupToken() string { return randomHex(24) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails.
	return hex.EncodeToString(b)
}

func hashID(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// csp forbids script altogether: no page needs any.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// ServeHTTP serves one request, with the security headers on every answer.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	}
	s.mux.ServeHTTP(w, r)
}

type ctxKey struct{}

// sessionOf returns the request's signed-in session.
func sessionOf(r *http.Request) sqlite.Session {
	ss, _ := r.Context().Value(ctxKey{}).(sqlite.Session)
	return ss
}

// authed lets signed-in requests through to h; others are sent to the
// sign-in page (GET) or refused (POST). A POST must carry the session's
// CSRF token in the form field csrf.
func (s *Server) authed(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ss, ok := s.session(r)
		if !ok {
			if r.Method != http.MethodGet {
				http.Error(w, "not signed in", http.StatusForbidden)
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(ss.CSRF)) != 1 {
				http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ss)))
	})
}

// writer lets through the requests of users who may change things; a
// read-only user's are refused (403), whatever the page showed them.
func (s *Server) writer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ss := sessionOf(r); ss.ReadOnly {
			s.cfg.Log.Warn("console change refused: read-only user", "user", ss.UserName, "path", r.URL.Path)
			s.render(w, r, http.StatusForbidden, "error", "Read-only", "Your account is read-only: it can look at everything and change nothing.")
			return
		}
		h(w, r)
	}
}

func (s *Server) session(r *http.Request) (sqlite.Session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return sqlite.Session{}, false
	}
	ss, err := s.cfg.Store.Session(r.Context(), hashID(c.Value))
	if err != nil {
		if !errors.Is(err, sqlite.ErrNotFound) {
			s.cfg.Log.Error("session lookup", "err", err)
		}
		return sqlite.Session{}, false
	}
	if !s.cfg.Now().Before(ss.Expires) {
		return sqlite.Session{}, false
	}
	return ss, true
}

// startSession signs ss.UserName in (with ss's role when ss.FixedRole): a
// new session and its cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, ss sqlite.Session) error {
	id := randomHex(32)
	now := s.cfg.Now()
	ss.IDHash, ss.CSRF, ss.Created, ss.Expires = hashID(id), randomHex(32), now, now.Add(s.cfg.SessionTTL)
	if err := s.cfg.Store.PutSession(r.Context(), ss); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(s.cfg.SessionTTL / time.Second),
	})
	return nil
}

// preCSRF returns the double-submit token of the sign-in forms, setting
// its cookie when the request has none.
func (s *Server) preCSRF(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) == 64 {
		return c.Value
	}
	tok := randomHex(32)
	http.SetCookie(w, &http.Cookie{Name: preCSRFCookie, Value: tok, Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return tok
}

func checkPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// safeNext keeps a post-sign-in redirect on this site: a path, never
// "//host" or a scheme.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || len(next) < 1 || next[0] != '/' || (len(next) > 1 && (next[1] == '/' || next[1] == '\\')) {
		return "/"
	}
	return next
}

type signinData struct {
	CSRF, User, Next, Error string
	NeedSetup               bool
	// SSO is the OIDC provider's name, "" when none is configured.
	SSO string
}

func (s *Server) sso() string {
	if s.cfg.OIDC == nil {
		return ""
	}
	return s.cfg.OIDC.cfg.Name
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request) {
	has, err := s.cfg.Store.HasUsers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "signin", "Sign in", signinData{CSRF: s.preCSRF(w, r), User: AdminUser, Next: safeNext(r.URL.Query().Get("next")), NeedSetup: !has, SSO: s.sso()})
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	if !checkPreCSRF(r) {
		http.Error(w, "missing or wrong CSRF token: reload the sign-in page and try again", http.StatusForbidden)
		return
	}
	user, pass, next := r.PostFormValue("user"), r.PostFormValue("password"), safeNext(r.PostFormValue("next"))
	hash, err := s.cfg.Store.PasswordHash(r.Context(), user)
	if err != nil && !errors.Is(err, sqlite.ErrNotFound) {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		// Spend the same time as a wrong password, so timing does not tell
		// which user names exist.
		hash = string(dummyHash())
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) != nil || err != nil {
		s.cfg.Log.Warn("console sign-in refused", "user", user, "remote", r.RemoteAddr)
		s.render(w, r, http.StatusUnauthorized, "signin", "Sign in", signinData{CSRF: s.preCSRF(w, r), User: user, Next: next, Error: "Wrong user name or password.", SSO: s.sso()})
		return
	}
	if err := s.startSession(w, r, sqlite.Session{UserName: user}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// dummyHash is computed on first use, not at program start: every
// iamwatch command links this package.
var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)
	return h
})

func (s *Server) signout(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Store.DeleteSession(r.Context(), sessionOf(r).IDHash, s.cfg.Now()); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

type setupData struct {
	Token, CSRF, Error string
}

// setupAllowed reports whether token opens the one-time setup: a token was
// configured, it matches, and no user exists yet.
func (s *Server) setupAllowed(r *http.Request, token string) (bool, error) {
	if s.cfg.SetupToken == "" || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.SetupToken)) != 1 {
		return false, nil
	}
	has, err := s.cfg.Store.HasUsers(r.Context())
	return !has, err
}

func (s *Server) setupPage(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("token")
	ok, err := s.setupAllowed(r, tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusForbidden, "error", "Link used", "This set-up link is wrong or already used. Sign in instead.")
		return
	}
	s.render(w, r, http.StatusOK, "setup", "Set the admin password", setupData{Token: tok, CSRF: s.preCSRF(w, r)})
}

// MinPassword is the shortest password the console accepts, in bytes.
const MinPassword = 12

func (s *Server) setup(w http.ResponseWriter, r *http.Request) {
	if !checkPreCSRF(r) {
		http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	tok := r.PostFormValue("token")
	s.setupMu.Lock()
	defer s.setupMu.Unlock()
	ok, err := s.setupAllowed(r, tok)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.render(w, r, http.StatusForbidden, "error", "Link used", "This set-up link is wrong or already used. Sign in instead.")
		return
	}
	pass := r.PostFormValue("password")
	var msg string
	switch {
	case len(pass) < MinPassword:
		msg = fmt.Sprintf("The password must be at least %d characters.", MinPassword)
	case len(pass) > 72:
		msg = "The password must be at most 72 bytes." // bcrypt's limit.
	case pass != r.PostFormValue("confirm"):
		msg = "The two passwords differ."
	}
	if msg != "" {
		s.render(w, r, http.StatusBadRequest, "setup", "Set the admin password", setupData{Token: tok, CSRF: s.preCSRF(w, r), Error: msg})
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), s.cfg.BcryptCost)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Store.PutUser(r.Context(), AdminUser, string(hash)); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.startSession(w, r, sqlite.Session{UserName: AdminUser}); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// page is what the layout renders around every page.
type page struct {
	Title    string
	User     string
	ReadOnly bool
	CSRF     string
	Nav      string
	Data     any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	ss := sessionOf(r)
	var buf bytesBuffer
	if err := s.pages[name].Execute(&buf, page{Title: title, User: ss.UserName, ReadOnly: ss.ReadOnly, CSRF: ss.CSRF, Nav: name, Data: data}); err != nil {
		s.cfg.Log.Error("render", "page", name, "err", err)
		http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	// html/template escapes markup but passes bidi controls, zero-width and
	// tag characters: attacker-written text would reorder or hide what a
	// reader sees. Shown as \u202e instead, on every field of every page.
	_, _ = io.WriteString(w, untrusted.ShowHidden(string(buf.b)))
}

// fail answers an unexpected error: logged in full, shown as a short
// message (store errors may name files).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Log.Error("request failed", "path", r.URL.Path, "err", err)
	http.Error(w, "internal error (see the server log)", http.StatusInternalServerError)
}

type bytesBuffer struct{ b []byte }

func (b *bytesBuffer) Write(p []byte) (int, error) { b.b = append(b.b, p...); return len(p), nil }
