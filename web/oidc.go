package web

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/iamwatch/iamwatch/store/sqlite"
)

// Secret is a value that must never reach a log or a page: it prints as
// [redacted] through fmt and log/slog.
type Secret string

func (Secret) String() string                 { return "[redacted]" }
func (Secret) GoString() string               { return "[redacted]" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("[redacted]") }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// OIDCConfig configures sign-in through an OpenID Connect provider: the
// authorization code flow with PKCE (S256), a state and a nonce, each
// checked on the way back.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL; NewOIDC reads its discovery
	// document (Issuer + /.well-known/openid-configuration).
	Issuer   string
	ClientID string
	// ClientSecret is sent to the token endpoint only. "" for a public
	// client (PKCE alone).
	ClientSecret Secret
	// RedirectURL is this console's callback as registered with the
	// provider: the console's URL + "/oidc/callback".
	RedirectURL string
	// Scopes are asked for beyond openid, email and profile: "groups"
	// where the provider needs it for a groups claim.
	Scopes []string
	// GroupsClaim names the ID token claim listing the user's groups; ""
	// means "groups".
	GroupsClaim string
	// Admins and ReadOnly say who may sign in, and as what. An entry is an
	// email address (compared without case; an ID token that marks its
	// email unverified matches none) or "group:NAME" (NAME is in the
	// groups claim). Admins are checked first; a user matching no entry
	// is refused.
	Admins, ReadOnly []string
	// Name is the provider's name on the sign-in page; "" means "single
	// sign-on".
	Name string
	// Client reaches the provider; nil means http.DefaultClient.
	Client *http.Client
}

// OIDC is a provider ready for sign-in: its discovery document read, its
// keys fetched on first use. It is safe for concurrent use.
type OIDC struct {
	cfg      OIDCConfig
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// NewOIDC validates cfg and reads the provider's discovery document.
func NewOIDC(ctx context.Context, cfg OIDCConfig) (*OIDC, error) {
	switch {
	case cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "":
		return nil, errors.New("web: oidc: the issuer, client ID and redirect URL are required")
	case len(cfg.Admins)+len(cfg.ReadOnly) == 0:
		return nil, errors.New("web: oidc: no admin or read-only entry: nobody could sign in")
	}
	u, err := url.Parse(cfg.RedirectURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "/oidc/callback" {
		return nil, fmt.Errorf("web: oidc: redirect URL %q: want the console's http(s) URL + /oidc/callback", cfg.RedirectURL)
	}
	for _, e := range append(slices.Clone(cfg.Admins), cfg.ReadOnly...) {
		if name, isGroup := strings.CutPrefix(e, "group:"); isGroup && name == "" || !isGroup && !strings.Contains(e, "@") {
			return nil, fmt.Errorf("web: oidc: %q is neither an email address nor group:NAME", e)
		}
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Name == "" {
		cfg.Name = "single sign-on"
	}
	if cfg.Client == nil {
		cfg.Client = http.DefaultClient
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, cfg.Client), cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("web: oidc: discover %s: %w", cfg.Issuer, err)
	}
	o := &OIDC{cfg: cfg}
	o.oauth = oauth2.Config{
		ClientID: cfg.ClientID, ClientSecret: string(cfg.ClientSecret), Endpoint: p.Endpoint(), RedirectURL: cfg.RedirectURL,
		Scopes: append([]string{oidc.ScopeOpenID, "email", "profile"}, cfg.Scopes...),
	}
	// The keys are fetched with the configured client, whatever the
	// request that first needs them (VerifierContext ignores ctx's end).
	o.verifier = p.VerifierContext(oidc.ClientContext(ctx, cfg.Client), &oidc.Config{ClientID: cfg.ClientID})
	return o, nil
}

// oidcCookie carries one sign-in attempt from /oidc/login to the
// callback: the state and nonce to expect back and the PKCE verifier.
const oidcCookie = "iamwatch_oidc"

type oidcFlow struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Next     string `json:"next"`
}

// oidcLogin starts a sign-in: a fresh state, nonce and PKCE verifier kept
// in a short-lived cookie, and a redirect to the provider.
func (s *Server) oidcLogin(w http.ResponseWriter, r *http.Request) {
	o := s.cfg.OIDC
	f := oidcFlow{State: randomHex(32), Nonce: randomHex(32), Verifier: oauth2.GenerateVerifier(), Next: safeNext(r.URL.Query().Get("next"))}
	b, err := json.Marshal(f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: oidcCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/oidc/", MaxAge: 600,
		// Lax: the provider's redirect back is a top-level GET from
		// another site, which a Strict cookie would not come with.
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	http.Redirect(w, r, o.oauth.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// readFlow returns the sign-in attempt of the request's cookie, and
// removes the cookie: a state is good for one callback.
func readFlow(w http.ResponseWriter, r *http.Request) (oidcFlow, bool) {
	var f oidcFlow
	c, err := r.Cookie(oidcCookie)
	if err != nil {
		return f, false
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: "/oidc/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || json.Unmarshal(b, &f) != nil || f.State == "" || f.Nonce == "" || f.Verifier == "" {
		return oidcFlow{}, false
	}
	return f, true
}

// oidcCallback finishes a sign-in: the state must be this browser's, the
// code is exchanged with the PKCE verifier, the ID token must be the
// provider's, for this client, unexpired, with this attempt's nonce, and
// its user must be listed.
func (s *Server) oidcCallback(w http.ResponseWriter, r *http.Request) {
	o := s.cfg.OIDC
	q := r.URL.Query()
	f, ok := readFlow(w, r)
	refuse := func(status int, why, logMsg string, attrs ...any) {
		s.cfg.Log.Warn("console OIDC sign-in refused: "+logMsg, append(attrs, "remote", r.RemoteAddr)...)
		s.render(w, r, status, "error", "Sign-in refused", why+" Sign in again from the sign-in page.")
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusUnauthorized, "The provider did not sign you in ("+truncate(e, 100)+").", "provider error", "error", truncate(e, 100))
		return
	}
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		refuse(http.StatusForbidden, "This sign-in was not started by this browser, or is too old.", "state mismatch")
		return
	}
	ctx := oidc.ClientContext(r.Context(), o.cfg.Client)
	tok, err := o.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		refuse(http.StatusUnauthorized, "The provider did not accept the sign-in code.", "code exchange", "err", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse(http.StatusUnauthorized, "The provider sent no ID token.", "no id_token")
		return
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		refuse(http.StatusUnauthorized, "The provider's ID token is not valid.", "id token", "err", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		refuse(http.StatusForbidden, "The ID token was not issued for this sign-in.", "nonce mismatch", "sub", idt.Subject)
		return
	}
	var claims map[string]json.RawMessage
	if err := idt.Claims(&claims); err != nil {
		refuse(http.StatusUnauthorized, "The provider's ID token is not valid.", "claims", "err", err)
		return
	}
	user, readOnly, ok := o.role(claims)
	if !ok {
		refuse(http.StatusForbidden, "Your account ("+truncate(user, 100)+") may not use this console: ask an admin to list your email address or group.",
			"not listed", "email", truncate(user, 100), "sub", idt.Subject)
		return
	}
	// Console account names may hold an @ too (--add-user): a session of
	// that name would pass for the account's in the pages, logs and
	// triage notes.
	switch _, err := s.cfg.Store.PasswordHash(r.Context(), user); {
	case err == nil:
		refuse(http.StatusForbidden, "Your account ("+user+") has the name of a console account: ask an admin to remove that account.",
			"named like a console account", "email", user, "sub", idt.Subject)
		return
	case !errors.Is(err, sqlite.ErrNotFound):
		s.fail(w, r, err)
		return
	}
	if err := s.startSession(w, r, sqlite.Session{UserName: user, ReadOnly: readOnly, FixedRole: true}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.cfg.Log.Info("console OIDC sign-in", "user", user, "read_only", readOnly, "remote", r.RemoteAddr)
	http.Redirect(w, r, safeNext(f.Next), http.StatusSeeOther)
}

// role returns the user (the email address) of an ID token's claims and
// the role its entries give it; ok is false when no entry matches, or the
// email is missing or not a plain address.
func (o *OIDC) role(claims map[string]json.RawMessage) (user string, readOnly, ok bool) {
	var email string
	_ = json.Unmarshal(claims["email"], &email)
	// email_verified is a boolean, or (some providers) the string "true".
	verified := true
	if v, present := claims["email_verified"]; present {
		verified = string(v) == "true" || string(v) == `"true"`
	}
	var groups []string
	if json.Unmarshal(claims[o.cfg.GroupsClaim], &groups) != nil {
		var one string
		if json.Unmarshal(claims[o.cfg.GroupsClaim], &one) == nil && one != "" {
			groups = []string{one}
		}
	}
	if !strings.Contains(email, "@") || !plainName(email) {
		return email, false, false
	}
	match := func(entries []string) bool {
		for _, e := range entries {
			if g, isGroup := strings.CutPrefix(e, "group:"); isGroup {
				if slices.Contains(groups, g) {
					return true
				}
			} else if verified && strings.EqualFold(e, email) {
				return true
			}
		}
		return false
	}
	switch {
	case match(o.cfg.Admins):
		return email, false, true
	case match(o.cfg.ReadOnly):
		return email, true, true
	}
	return email, false, false
}

// plainName keeps the names shown on every page and in logs plain: 1 to
// 254 letters, digits and . _ @ + -.
func plainName(s string) bool {
	if s == "" || len(s) > 254 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@+-", r)) {
			return false
		}
	}
	return true
}

// truncate bounds attacker-influenced text (a provider's error, an email
// refused) before it is shown or logged.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
