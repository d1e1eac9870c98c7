package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/web"
)

type serveFlags struct {
	db              string
	listen          string
	rules           []string
	tlsCert, tlsKey string
	addUser         string
	readOnly        bool
	oidc            oidcFlags
}

// oidcFlags configure OIDC sign-in (web.OIDCConfig). The client secret
// comes from a file or the environment, never from a flag (flags show in
// ps and shell history).
type oidcFlags struct {
	issuer, clientID, secretFile, redirectURL, groupsClaim, name string
	admins, readOnly, scopes                                     []string
}

func newServeCmd(e *env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web console: alerts and their triage, events, an overview",
		Long: `Serve runs the web console over the SQLite database until interrupted.

The first run, while no account exists, prints a one-time link: open it to
choose the password of the admin account. Afterwards sign in as admin.

It listens on 127.0.0.1:8080 unless told otherwise; an address other than
loopback makes the console reachable from the network (a warning says so).
With --tls-cert and --tls-key (PEM files) it serves HTTPS, and the session
cookie is Secure.

With --oidc-issuer, people may also sign in through an OpenID Connect
provider (Okta, Entra ID, Keycloak, Google, ...): --oidc-admin and --oidc-read-only list who may, by email
address or group:NAME. The client secret is read from the file
--oidc-client-secret-file or from $IAMWATCH_OIDC_CLIENT_SECRET (neither:
a public client, PKCE alone). The provider must know the callback
--oidc-redirect-url (default: the console's URL + /oidc/callback).

--add-user NAME creates a console account (or sets its password) and exits,
without serving: the password is read from the first line of standard input.
With --read-only the account sees every page but can neither triage alerts
nor retry deliveries; without it, the account may do both.`,
		Example: `  iamwatch serve
  iamwatch serve --db ./iamwatch.db --listen 127.0.0.1:9000
  iamwatch serve --listen :8443 --tls-cert cert.pem --tls-key key.pem
  printf '%s\n' "$PASSWORD" | iamwatch serve --add-user auditor --read-only
  IAMWATCH_OIDC_CLIENT_SECRET=... iamwatch serve --oidc-issuer https://idp.example.com \
      --oidc-client-id iamwatch --oidc-admin group:secops --oidc-read-only group:auditors`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return e.serve(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.db, "db", "", "SQLite database file (default $IAMWATCH_DB or ~/.local/share/iamwatch/iamwatch.db)")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on (host:port)")
	fl.StringArrayVar(&f.rules, "rules", nil, "folder of rule files laid over the built-in catalog, for rule descriptions (repeatable)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fl.StringVar(&f.addUser, "add-user", "", "create this console account (password on standard input) and exit")
	fl.BoolVar(&f.readOnly, "read-only", false, "with --add-user: the account may look but not change anything")
	fl.StringVar(&f.oidc.issuer, "oidc-issuer", "", "offer sign-in through this OpenID Connect provider (issuer URL)")
	fl.StringVar(&f.oidc.clientID, "oidc-client-id", "", "the console's client ID at the provider")
	fl.StringVar(&f.oidc.secretFile, "oidc-client-secret-file", "", "file holding the client secret (default $IAMWATCH_OIDC_CLIENT_SECRET)")
	fl.StringVar(&f.oidc.redirectURL, "oidc-redirect-url", "", "the callback URL registered at the provider (default: the console's URL + /oidc/callback)")
	fl.StringArrayVar(&f.oidc.admins, "oidc-admin", nil, "EMAIL or group:NAME that signs in as an admin (repeatable)")
	fl.StringArrayVar(&f.oidc.readOnly, "oidc-read-only", nil, "EMAIL or group:NAME that signs in read-only (repeatable)")
	fl.StringArrayVar(&f.oidc.scopes, "oidc-scope", nil, "scope to ask for beyond openid, email and profile, e.g. groups (repeatable)")
	fl.StringVar(&f.oidc.groupsClaim, "oidc-groups-claim", "groups", "the ID token claim listing the user's groups")
	fl.StringVar(&f.oidc.name, "oidc-name", "", "the provider's name on the sign-in button")
	return cmd
}

// loopback reports whether the listen address host is a loopback address
// or localhost.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

func (e *env) serve(ctx context.Context, f serveFlags) error {
	if f.addUser != "" {
		return e.addConsoleUser(ctx, f)
	}
	if f.readOnly {
		return usageErrorf("--read-only goes with --add-user")
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return usageErrorf("--listen %q: %v", f.listen, err)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErrorf("--tls-cert and --tls-key go together")
	}
	oidcCfg, err := e.oidcConfig(f.oidc)
	if err != nil {
		return err
	}
	var tlsCfg *tls.Config
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsCfg = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	if !loopback(host) {
		how := "over plain HTTP"
		if tlsCfg != nil {
			how = "over HTTPS"
		}
		fmt.Fprintf(e.stderr, "iamwatch: warning: --listen %s is not a loopback address: the console is reachable from the network, %s\n", f.listen, how)
	}
	rs, err := loadRules(f.rules)
	if err != nil {
		return err
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	has, err := st.HasUsers(ctx)
	if err != nil {
		return err
	}
	cfg := web.Config{Store: st, Rules: rs, Now: e.now, Log: e.log}
	// The rules' inline tests run against the test GeoIP database, as
	// `iamwatch rules test` runs them.
	closeGeo, err := openGeo(&cfg.Detect, true)
	if err != nil {
		return err
	}
	defer closeGeo()
	if !has {
		cfg.SetupToken = web.NewSetupToken()
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", f.listen)
	if err != nil {
		return err
	}
	defer ln.Close()
	base := "http://" + ln.Addr().String()
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
		base = "https://" + strings.TrimPrefix(base, "http://")
	}
	if oidcCfg != nil {
		if oidcCfg.RedirectURL == "" {
			// Listening on every interface, the listener's address
			// (http://[::]:8080) is no URL a browser can come back to.
			if ap, err := netip.ParseAddrPort(ln.Addr().String()); err == nil && ap.Addr().IsUnspecified() {
				return usageErrorf("--oidc-redirect-url is needed with --listen %s: the console's URL, as browsers reach it, + /oidc/callback", f.listen)
			}
			oidcCfg.RedirectURL = base + "/oidc/callback"
		}
		if cfg.OIDC, err = web.NewOIDC(ctx, *oidcCfg); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "iamwatch: OIDC sign-in through %s (callback %s)\n", oidcCfg.Issuer, oidcCfg.RedirectURL)
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	// The rules page shows the inline tests' status: run them now, once.
	if passed, failed := srv.RuleTests(); failed > 0 {
		fmt.Fprintf(e.stderr, "iamwatch: warning: %d of %d rule tests fail (see the rules page, or iamwatch rules test)\n", failed, passed+failed)
	}
	fmt.Fprintf(e.stderr, "iamwatch: serving %s on %s\n", st.Path(), base)
	if cfg.SetupToken != "" {
		fmt.Fprintf(e.stderr, "iamwatch: no account yet: open this one-time link to set the admin password:\n    %s/setup?token=%s\n", base, cfg.SetupToken)
	} else {
		fmt.Fprintf(e.stderr, "iamwatch: sign in as %s\n", web.AdminUser)
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// oidcConfig returns the OIDC sign-in the flags ask for, nil for none;
// RedirectURL stays "" when not given (the listen address decides it).
func (e *env) oidcConfig(f oidcFlags) (*web.OIDCConfig, error) {
	if f.issuer == "" {
		if f.clientID != "" || f.secretFile != "" || f.redirectURL != "" || len(f.admins)+len(f.readOnly)+len(f.scopes) > 0 {
			return nil, usageErrorf("the --oidc-* flags need --oidc-issuer")
		}
		return nil, nil
	}
	if f.clientID == "" {
		return nil, usageErrorf("--oidc-issuer needs --oidc-client-id")
	}
	if len(f.admins)+len(f.readOnly) == 0 {
		return nil, usageErrorf("--oidc-issuer needs --oidc-admin or --oidc-read-only: nobody could sign in")
	}
	secret := e.getenv("IAMWATCH_OIDC_CLIENT_SECRET")
	if f.secretFile != "" {
		if secret != "" {
			return nil, usageErrorf("--oidc-client-secret-file and $IAMWATCH_OIDC_CLIENT_SECRET both set: give one")
		}
		b, err := os.ReadFile(f.secretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		if secret = strings.TrimRight(string(b), "\r\n"); secret == "" {
			return nil, usageErrorf("--oidc-client-secret-file %s is empty", f.secretFile)
		}
	}
	return &web.OIDCConfig{
		Issuer: f.issuer, ClientID: f.clientID, ClientSecret: web.Secret(secret), RedirectURL: f.redirectURL,
		Scopes: f.scopes, GroupsClaim: f.groupsClaim, Admins: f.admins, ReadOnly: f.readOnly, Name: f.name,
	}, nil
}

// addConsoleUser creates the console account f.addUser with the password
// on the first line of standard input.
func (e *env) addConsoleUser(ctx context.Context, f serveFlags) error {
	if !validUserName(f.addUser) {
		return usageErrorf("--add-user %q: a name of 1 to 64 letters, digits and . _ @ -", f.addUser)
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return usageErrorf("--add-user: no password on standard input")
	}
	pass := strings.TrimRight(line, "\r\n")
	switch {
	case len(pass) < web.MinPassword:
		return usageErrorf("--add-user: the password must be at least %d characters", web.MinPassword)
	case len(pass) > 72:
		return usageErrorf("--add-user: the password must be at most 72 bytes")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.PutUserRole(ctx, f.addUser, string(hash), f.readOnly); err != nil {
		return err
	}
	role := "may triage alerts and retry deliveries"
	if f.readOnly {
		role = "read-only"
	}
	_, err = fmt.Fprintf(e.stdout, "console account %s saved (%s)\n", f.addUser, role)
	return err
}

// validUserName keeps account names plain: they are shown on every page
// and in logs.
func validUserName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return false
		}
	}
	return true
}
