package testserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// MailpitOptions configures a mailpit SMTP server. The zero value is a plain
// SMTP server accepting mail without authentication.
type MailpitOptions struct {
	// TLSCertPEM and TLSKeyPEM, when set, enable TLS: STARTTLS, or implicit
	// TLS (SMTPS) when ImplicitTLS is true.
	TLSCertPEM, TLSKeyPEM []byte
	ImplicitTLS           bool
	RequireSTARTTLS       bool
	// Users, when set, requires SMTP authentication with one of these
	// username → password pairs.
	Users map[string]string
	// AllowInsecureAuth allows PLAIN/LOGIN authentication without TLS.
	AllowInsecureAuth bool
}

// Mailpit is a running github.com/axllent/mailpit (a tool dependency).
type Mailpit struct {
	SMTPAddr string // host:port of the SMTP listener.
	APIURL   string // base URL of the HTTP API, e.g. http://127.0.0.1:1234.
}

// StartMailpit starts mailpit on 127.0.0.1 (random free SMTP and HTTP ports)
// with the version check disabled, waits for both ports and stops it in
// t.Cleanup.
func StartMailpit(t testing.TB, o MailpitOptions) *Mailpit {
	t.Helper()
	bin := ToolBinary(t, "mailpit")
	dir := t.TempDir()
	var lastErr error
	for range 2 { // a second go if a free port was taken meanwhile.
		smtpAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
		httpAddr := "127.0.0.1:" + strconv.Itoa(FreePort(t))
		args := []string{
			"--disable-version-check", "--quiet",
			"--smtp", smtpAddr, "--listen", httpAddr,
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%s.db", filepath.Base(smtpAddr))),
			"--smtp-disable-rdns",
		}
		if o.TLSCertPEM != nil {
			cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
			writeFile(t, cert, o.TLSCertPEM)
			writeFile(t, key, o.TLSKeyPEM)
			args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
			if o.ImplicitTLS {
				args = append(args, "--smtp-require-tls")
			} else if o.RequireSTARTTLS {
				args = append(args, "--smtp-require-starttls")
			}
		}
		if len(o.Users) > 0 {
			var lines []byte
			for u, p := range o.Users {
				lines = fmt.Appendf(lines, "%s:%s\n", u, p)
			}
			authFile := filepath.Join(dir, "smtp-auth")
			writeFile(t, authFile, lines)
			args = append(args, "--smtp-auth-file", authFile)
		}
		if o.AllowInsecureAuth {
			args = append(args, "--smtp-auth-allow-insecure")
		}
		p := startProcess(t, bin, args...)
		if lastErr = p.waitTCP(smtpAddr); lastErr != nil {
			continue
		}
		if lastErr = p.waitTCP(httpAddr); lastErr != nil {
			continue
		}
		return &Mailpit{SMTPAddr: smtpAddr, APIURL: "http://" + httpAddr}
	}
	unavailable(t, "mailpit: %v", lastErr)
	return nil
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatalf("testserver: %v", err)
	}
}

// MailpitMessage is a message as mailpit's API reports it.
type MailpitMessage struct {
	ID      string
	Subject string
	From    struct{ Name, Address string }
	To      []struct{ Name, Address string }
	Text    string
	HTML    string
	Headers map[string][]string // from /api/v1/message/{ID}/headers.
	Raw     string              // the message as received, from /raw.
}

// Messages waits up to 10 s for at least want messages and returns them all,
// newest first, each read in full (text, HTML, headers and raw source).
func (m *Mailpit) Messages(t testing.TB, want int) []MailpitMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var list struct {
		Messages []struct{ ID string }
	}
	for {
		if err := m.getJSON(ctx, "/api/v1/messages?limit=1000", &list); err != nil {
			t.Fatalf("mailpit: list messages: %v", err)
		}
		if len(list.Messages) >= want {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("mailpit: have %d messages, want %d", len(list.Messages), want)
		case <-time.After(50 * time.Millisecond):
		}
	}
	out := make([]MailpitMessage, 0, len(list.Messages))
	for _, s := range list.Messages {
		var msg MailpitMessage
		id := url.PathEscape(s.ID)
		if err := m.getJSON(ctx, "/api/v1/message/"+id, &msg); err != nil {
			t.Fatalf("mailpit: read message %s: %v", s.ID, err)
		}
		if err := m.getJSON(ctx, "/api/v1/message/"+id+"/headers", &msg.Headers); err != nil {
			t.Fatalf("mailpit: read headers of %s: %v", s.ID, err)
		}
		raw, err := m.get(ctx, "/api/v1/message/"+id+"/raw")
		if err != nil {
			t.Fatalf("mailpit: read raw %s: %v", s.ID, err)
		}
		msg.Raw = string(raw)
		out = append(out, msg)
	}
	return out
}

func (m *Mailpit) getJSON(ctx context.Context, path string, v any) error {
	b, err := m.get(ctx, path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func (m *Mailpit) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, nil
}
