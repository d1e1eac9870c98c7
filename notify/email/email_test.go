package email_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/email"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestRenderGolden(t *testing.T) {
	c, err := email.Render([]iamwatch.Alert{notifytest.Alert()})
	if err != nil {
		t.Fatal(err)
	}
	notifytest.Golden(t, "root_login.txt", []byte(c.Text), *update)
	notifytest.Golden(t, "root_login.html", []byte(c.HTML), *update)
	d, err := email.Render(notifytest.Alerts(3))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.Golden(t, "digest.html", []byte(d.HTML), *update)
}

// selfSigned returns a certificate for 127.0.0.1 and the pool trusting it.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "iamwatch test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), roots
}

func hostPort(t *testing.T, addr string) (string, int) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func TestSMTPMailpit(t *testing.T) {
	certPEM, keyPEM, roots := selfSigned(t)
	users := map[string]string{"alerts": "p4ssw0rd-s3cr3t"}
	tests := []struct {
		name string
		opts testserver.MailpitOptions
		tls  string
		auth bool
	}{
		{"starttls with auth", testserver.MailpitOptions{TLSCertPEM: certPEM, TLSKeyPEM: keyPEM, RequireSTARTTLS: true, Users: users}, email.TLSStartTLS, true},
		{"implicit tls with auth", testserver.MailpitOptions{TLSCertPEM: certPEM, TLSKeyPEM: keyPEM, ImplicitTLS: true, Users: users}, email.TLSImplicit, true},
		{"plain local relay", testserver.MailpitOptions{}, email.TLSNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mp := testserver.StartMailpit(t, tt.opts)
			host, port := hostPort(t, mp.SMTPAddr)
			c := email.Config{Host: host, Port: port, TLS: tt.tls, From: "iamwatch <iamwatch@example.com>", To: []string{"sec@example.com", "Ops Team <ops@example.com>"}}
			if tt.auth {
				c.Username, c.Password = "alerts", users["alerts"]
			}
			s, err := email.NewSMTP("mail", c, roots, notifytest.Fixed(notifytest.Time))
			if err != nil {
				t.Fatal(err)
			}
			alert := notifytest.Alert()
			if err := s.Send(context.Background(), []iamwatch.Alert{alert}); err != nil {
				t.Fatal(err)
			}
			msgs := mp.Messages(t, 1)
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			m := msgs[0]
			if m.Subject != "[CRITICAL] IAM Alert: Root Account Login" {
				t.Errorf("subject %q", m.Subject)
			}
			if m.From.Address != "iamwatch@example.com" || len(m.To) != 2 || m.To[1].Name != "Ops Team" {
				t.Errorf("from %+v to %+v", m.From, m.To)
			}
			want, _ := email.Render([]iamwatch.Alert{alert})
			if strings.TrimSpace(strings.ReplaceAll(m.Text, "\r\n", "\n")) != strings.TrimSpace(want.Text) {
				t.Errorf("text part:\n%s\nwant:\n%s", m.Text, want.Text)
			}
			if !strings.Contains(m.HTML, "<th style=\"text-align: left; padding: 2px 16px 2px 0; white-space: nowrap;\">Source IP</th><td style=\"padding: 2px 0;\">203.0.113.24</td>") {
				t.Errorf("HTML part lacks the field table:\n%s", m.HTML)
			}
			if !strings.Contains(m.HTML, `href="https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/5f0c9a52-7d1e-4b8a-9c3f-2e6d8a1b4c70"`) {
				t.Errorf("HTML part lacks the console link")
			}
			for k, v := range map[string]string{
				"Auto-Submitted": "auto-generated", "Mime-Version": "1.0", "X-Iamwatch-Severity": "critical",
				"X-Iamwatch-Rule": "root-console-login", "Date": "Sat, 14 Mar 2026 09:26:53 +0000",
				"Message-Id": "<" + notify.DeliveryID([]iamwatch.Alert{alert})[:32] + "@example.com>",
			} {
				if got := m.Headers[k]; len(got) != 1 || got[0] != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if ct := m.Headers["Content-Type"]; len(ct) != 1 || !strings.HasPrefix(ct[0], "multipart/alternative; boundary=") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	certPEM, keyPEM, roots := selfSigned(t)
	withTLS := testserver.StartMailpit(t, testserver.MailpitOptions{TLSCertPEM: certPEM, TLSKeyPEM: keyPEM, Users: map[string]string{"alerts": "right"}})
	plain := testserver.StartMailpit(t, testserver.MailpitOptions{})
	tlsHost, tlsPort := hostPort(t, withTLS.SMTPAddr)
	plainHost, plainPort := hostPort(t, plain.SMTPAddr)
	base := email.Config{From: "iamwatch@example.com", To: []string{"sec@example.com"}}
	tests := []struct {
		name      string
		c         func(c *email.Config)
		roots     bool
		want      string
		permanent bool
	}{
		{"wrong password", func(c *email.Config) {
			c.Host, c.Port, c.Username, c.Password = tlsHost, tlsPort, "alerts", "wr0ng-s3cr3t"
		}, true, "AUTH", true},
		{"untrusted certificate", func(c *email.Config) { c.Host, c.Port = tlsHost, tlsPort }, false, "STARTTLS", true},
		{"no STARTTLS offered", func(c *email.Config) { c.Host, c.Port = plainHost, plainPort }, true, "does not offer STARTTLS", true},
		{"nothing listening", func(c *email.Config) { c.Host, c.Port = "127.0.0.1", testserver.FreePort(t) }, true, "connect", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.c(&c)
			var r *x509.CertPool
			if tt.roots {
				r = roots
			}
			s, err := email.NewSMTP("mail", c, r, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(context.Background(), []iamwatch.Alert{notifytest.Alert()})
			if err == nil || !strings.Contains(err.Error(), tt.want) || notify.IsPermanent(err) != tt.permanent {
				t.Fatalf("err = %v, want %q permanent=%v", err, tt.want, tt.permanent)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

// TestHostile sends every hostile alert through a real SMTP server and reads
// it back: no header injection, no HTML injection, subject one line.
func TestHostile(t *testing.T) {
	mp := testserver.StartMailpit(t, testserver.MailpitOptions{})
	host, port := hostPort(t, mp.SMTPAddr)
	s, err := email.NewSMTP("mail", email.Config{Host: host, Port: port, TLS: email.TLSNone, From: "iamwatch@example.com", To: []string{"sec@example.com"}}, nil, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range untrustedtest.Strings {
		if err := s.Send(context.Background(), []iamwatch.Alert{notifytest.HostileAlert(h.Value)}); err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
	}
	msgs := mp.Messages(t, len(untrustedtest.Strings))
	if len(msgs) != len(untrustedtest.Strings) {
		t.Fatalf("%d messages for %d sends (an injected SMTP command?)", len(msgs), len(untrustedtest.Strings))
	}
	for _, m := range msgs {
		for _, bad := range []string{"Bcc", "X-Evil", "Injected"} {
			if _, ok := m.Headers[bad]; ok {
				t.Errorf("injected header %s in %q", bad, m.Subject)
			}
		}
		if len(m.To) != 1 || m.To[0].Address != "sec@example.com" {
			t.Errorf("recipients changed: %+v", m.To)
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("multi-line subject %q", m.Subject)
		}
		for _, bad := range []string{"<script", "<img", `href="https://evil`, "<at>", "<b>b</b>"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("HTML injection %q in message %q", bad, m.Subject)
			}
		}
		if strings.Contains(m.HTML, "\x1b") || strings.Contains(m.Text, "\x1b") {
			t.Errorf("escape character in message %q", m.Subject)
		}
	}
}
