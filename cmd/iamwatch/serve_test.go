package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
	"golang.org/x/crypto/bcrypt"

	"github.com/iamwatch/iamwatch/store/sqlite"
)

// TestServeSetupLink: serve over a scanned sample prints a one-time link
// that opens the set-up page, answers sign-in, and stops on cancel.
func TestServeSetupLink(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitAlerted && r.code != exitOK {
		t.Fatalf("scan --sample: %d\n%s", r.code, r.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		defer pw.Close()
		code <- run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0"}, func(string) string { return "" }, strings.NewReader(""), io.Discard, pw)
	}()
	lines := bufio.NewScanner(pr)
	var link string
	for link == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "http://127.0.0.1:") && strings.Contains(l, "/setup?token=") {
			link = l
		}
	}
	if link == "" {
		t.Fatal("serve printed no set-up link")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }() // drain the rest of the output
	res, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "admin") {
		t.Errorf("GET %s: %d\n%s", link, res.StatusCode, b)
	}
	base := link[:strings.Index(link, "/setup")]
	res, err = http.Get(base + "/alerts")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Request.URL.Path != "/signin" {
		t.Errorf("GET /alerts signed out ended at %s, want /signin", res.Request.URL)
	}
	stopServe(t, cancel, code)
}

func TestServeListenChecks(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "127.1.2.3": true, "0.0.0.0": false, "": false, "192.0.2.1": false, "example.com": false} {
		if got := loopback(host); got != want {
			t.Errorf("loopback(%q) = %v, want %v", host, got, want)
		}
	}
	if r := runCLI(t, "", nil, "serve", "--db", tempDB(t), "--listen", "nonsense"); r.code != exitUsage {
		t.Errorf("serve --listen nonsense: %d, want %d\n%s", r.code, exitUsage, r.stderr)
	}
	if r := runCLI(t, "", nil, "serve", "--db", tempDB(t)); r.code != exitError || !strings.Contains(r.stderr, "no database at") {
		t.Errorf("serve over a missing database: %d %q", r.code, r.stderr)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key (PEM) into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "iamwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServeTLS: given a certificate, serve speaks HTTPS, prints an https
// link, and its session cookie is Secure.
func TestServeTLS(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitAlerted && r.code != exitOK {
		t.Fatalf("scan --sample: %d\n%s", r.code, r.stderr)
	}
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		defer pw.Close()
		code <- run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile},
			func(string) string { return "" }, strings.NewReader(""), io.Discard, pw)
	}()
	lines := bufio.NewScanner(pr)
	var link string
	for link == "" && lines.Scan() {
		if l := strings.TrimSpace(lines.Text()); strings.HasPrefix(l, "https://127.0.0.1:") {
			link = l
		}
	}
	if link == "" {
		t.Fatal("serve --tls-cert printed no https link")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	res, err := cl.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.TLS == nil {
		t.Errorf("GET %s: %d", link, res.StatusCode)
	}
	for _, ck := range res.Cookies() {
		if !ck.Secure {
			t.Errorf("cookie %s over TLS is not Secure", ck.Name)
		}
	}
	// Plain HTTP to the TLS port gets no console.
	if res, err := http.Get("http://" + strings.TrimPrefix(link[:strings.Index(link, "/setup")], "https://") + "/signin"); err == nil {
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP to the TLS listener served the console")
		}
		res.Body.Close()
	}
	cancel()
	if c := <-code; c != exitOK {
		t.Errorf("serve exit code %d", c)
	}
	for _, args := range [][]string{{"--tls-cert", certFile}, {"--tls-key", keyFile}} {
		if r := runCLI(t, "", nil, append([]string{"serve", "--db", db}, args...)...); r.code != exitUsage {
			t.Errorf("serve %v: %d, want %d", args, r.code, exitUsage)
		}
	}
	if r := runCLI(t, "", nil, "serve", "--db", db, "--tls-cert", keyFile, "--tls-key", keyFile); r.code != exitError {
		t.Errorf("serve with a key as certificate: %d, want %d", r.code, exitError)
	}
}

// TestServeAddUser: --add-user saves an account with the password read
// from standard input, read-only when asked; bad names and short
// passwords are usage errors.
func TestServeAddUser(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitAlerted && r.code != exitOK {
		t.Fatalf("scan --sample: %d", r.code)
	}
	const pass = "a long enough password"
	if r := runCLI(t, pass+"\n", nil, "serve", "--db", db, "--add-user", "auditor", "--read-only"); r.code != exitOK || !strings.Contains(r.stdout, "auditor saved (read-only)") {
		t.Fatalf("add-user: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, pass+"\n", nil, "serve", "--db", db, "--add-user", "ops"); r.code != exitOK {
		t.Fatalf("add-user ops: %d %q", r.code, r.stderr)
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for user, ro := range map[string]bool{"auditor": true, "ops": false} {
		h, err := st.PasswordHash(context.Background(), user)
		if err != nil || bcrypt.CompareHashAndPassword([]byte(h), []byte(pass)) != nil {
			t.Errorf("%s: stored hash does not match (%v)", user, err)
		}
		ss := sqlite.Session{IDHash: "x-" + user, UserName: user, CSRF: "c", Created: time.Now(), Expires: time.Now().Add(time.Hour)}
		if err := st.PutSession(context.Background(), ss); err != nil {
			t.Fatal(err)
		}
		if got, err := st.Session(context.Background(), ss.IDHash); err != nil || got.ReadOnly != ro {
			t.Errorf("%s: read-only %v %v, want %v", user, got.ReadOnly, err, ro)
		}
	}
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"short\n", []string{"--add-user", "x"}},
		{"", []string{"--add-user", "x"}},
		{pass + "\n", []string{"--add-user", "<b>eve</b>"}},
		{pass + "\n", []string{"--read-only"}},
	} {
		if r := runCLI(t, tc.stdin, nil, append([]string{"serve", "--db", db}, tc.args...)...); r.code != exitUsage {
			t.Errorf("serve %v (stdin %q): %d, want %d", tc.args, tc.stdin, r.code, exitUsage)
		}
	}
}

// TestServeOIDC: serve with the --oidc-* flags signs a listed user in
// through a local OpenID provider, with the secret from the environment,
// which never reaches the output.
func TestServeOIDC(t *testing.T) {
	op, err := mockoidc.Run()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = op.Shutdown() }()
	opc := op.Config()
	db := tempDB(t)
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		defer pw.Close()
		env := func(k string) string {
			if k == "IAMWATCH_OIDC_CLIENT_SECRET" {
				return opc.ClientSecret
			}
			return ""
		}
		code <- run(ctx, []string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--oidc-issuer", opc.Issuer, "--oidc-client-id", opc.ClientID,
			"--oidc-admin", "jane.doe@example.com", "--oidc-scope", "groups", "--oidc-name", "Test IdP"}, env, strings.NewReader(""), io.Discard, io.MultiWriter(pw, &stderr))
	}()
	lines := bufio.NewScanner(pr)
	var base string
	for base == "" && lines.Scan() {
		if _, rest, ok := strings.Cut(lines.Text(), "(callback "); ok {
			base = strings.TrimSuffix(strings.TrimSuffix(rest, ")"), "/oidc/callback")
		}
	}
	if base == "" {
		t.Fatalf("serve printed no OIDC callback:\n%s", stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// The provider signs its default user in: jane.doe@example.com.
	res, err := c.Get(base + "/oidc/login?next=/rules")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/rules" || !strings.Contains(string(b), "jane.doe@example.com") {
		t.Errorf("OIDC sign-in ended at %d %s:\n%.1000s", res.StatusCode, res.Request.URL, b)
	}
	stopServe(t, cancel, code)
	if strings.Contains(stderr.String(), opc.ClientSecret) {
		t.Errorf("the client secret was printed:\n%s", stderr.String())
	}
}

func TestServeOIDCFlags(t *testing.T) {
	db := tempDB(t)
	st, err := sqlite.Open(t.Context(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--oidc-admin", "a@example.com"}, "need --oidc-issuer"},
		{nil, []string{"--oidc-issuer", "https://idp.example.com"}, "needs --oidc-client-id"},
		{nil, []string{"--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "c"}, "nobody could sign in"},
		{map[string]string{"IAMWATCH_OIDC_CLIENT_SECRET": "x"}, []string{"--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "c", "--oidc-admin", "a@example.com", "--oidc-client-secret-file", secret}, "give one"},
		// Listening on every interface, the console's URL is not the
		// listener's (http://[::]:PORT): no browser could come back to it.
		{nil, []string{"--listen", ":0", "--oidc-issuer", "https://idp.example.com", "--oidc-client-id", "c", "--oidc-admin", "a@example.com"}, "--oidc-redirect-url"},
	} {
		r := runCLI(t, "", tc.env, append([]string{"serve", "--db", db}, tc.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("serve %q: %d %q, want a usage error saying %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// stopServe cancels a running serve and checks it exits cleanly, soon.
func stopServe(t *testing.T, cancel context.CancelFunc, code <-chan int) {
	t.Helper()
	cancel()
	select {
	case c := <-code:
		if c != exitOK {
			t.Errorf("serve exit code %d after cancel, want 0", c)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop on cancel")
	}
}
