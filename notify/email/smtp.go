package email

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// TLS modes.
const (
	TLSStartTLS = "starttls" // plain connection upgraded with STARTTLS; required, never skipped.
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, usually port 465).
	TLSNone     = "none"     // no encryption: only for a relay on the same host.
)

// Config is the settings of an email (SMTP) sink. Password is a secret.
type Config struct {
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"` // default 587, or 465 for tls.
	TLS      string   `yaml:"tls"`  // starttls (default), tls or none.
	CAFile   string   `yaml:"ca_file"`
	Username string   `yaml:"username"`
	Password string   `yaml:"password"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	// HELO is the name announced in EHLO; default "localhost".
	HELO string `yaml:"helo"`
}

// SMTP sends alerts by SMTP. It is safe for concurrent use: each Send is its
// own connection.
type SMTP struct {
	name    string
	cfg     Config
	from    *mail.Address
	to      []*mail.Address
	tls     *tls.Config
	timeout time.Duration
	now     func() time.Time
}

var _ notify.Sink = (*SMTP)(nil)

// NewSMTP returns an SMTP sink from a resolved Config; roots, when not nil,
// are the CAs trusted for the server certificate (else the system's, or
// CAFile's).
func NewSMTP(name string, c Config, roots *x509.CertPool, now func() time.Time) (*SMTP, error) {
	if c.Host == "" {
		return nil, errors.New("host is required")
	}
	switch c.TLS {
	case "":
		c.TLS = TLSStartTLS
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("tls %q: want starttls, tls or none", c.TLS)
	}
	if c.Port == 0 {
		c.Port = 587
		if c.TLS == TLSImplicit {
			c.Port = 465
		}
	}
	if c.HELO == "" {
		c.HELO = "localhost"
	}
	from, err := mail.ParseAddress(c.From)
	if err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	if len(c.To) == 0 {
		return nil, errors.New("to is required")
	}
	var to []*mail.Address
	for _, t := range c.To {
		a, err := mail.ParseAddress(t)
		if err != nil {
			return nil, fmt.Errorf("to %q: %w", t, err)
		}
		to = append(to, a)
	}
	if (c.Username == "") != (c.Password == "") {
		return nil, errors.New("username and password go together")
	}
	if roots == nil && c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file %s: no certificates", c.CAFile)
		}
	}
	return &SMTP{
		name: name, cfg: c, from: from, to: to, now: now, timeout: time.Minute,
		tls: &tls.Config{ServerName: c.Host, RootCAs: roots, MinVersion: tls.VersionTLS12},
	}, nil
}

// BuildSMTP is the notify.Builder of type "email".
func BuildSMTP(ctx context.Context, name string, s notify.Settings, deps notify.Deps) (notify.Sink, error) {
	deps = deps.WithDefaults()
	var c Config
	if err := s.Decode(&c); err != nil {
		return nil, err
	}
	if c.Password != "" {
		var err error
		if c.Password, err = deps.Secrets.Resolve(ctx, c.Password); err != nil {
			return nil, err
		}
	}
	return NewSMTP(name, c, nil, deps.Now)
}

// Name returns the sink's name.
func (s *SMTP) Name() string { return s.name }

// Send mails one message for alerts to every recipient.
func (s *SMTP) Send(ctx context.Context, alerts []iamwatch.Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	c, err := Render(alerts)
	if err != nil {
		return notify.Permanent(err)
	}
	msg, err := Build(s.header(alerts), c)
	if err != nil {
		return notify.Permanent(fmt.Errorf("email: build message: %w", err))
	}
	if err := s.deliver(ctx, msg); err != nil {
		return notify.Redact(fmt.Errorf("email: smtp %s: %w", s.addr(), err), s.cfg.Password)
	}
	return nil
}

// header returns the message headers; the Message-ID derives from the
// alerts' dedup keys, so a resend is recognisably the same message.
func (s *SMTP) header(alerts []iamwatch.Alert) Header {
	return MessageHeader(s.from, s.to, s.now(), alerts)
}

// MessageHeader returns the headers of the message for alerts.
func MessageHeader(from *mail.Address, to []*mail.Address, now time.Time, alerts []iamwatch.Alert) Header {
	domain := "iamwatch.invalid"
	if _, d, ok := strings.Cut(from.Address, "@"); ok && d != "" {
		domain = d
	}
	extra := map[string]string{"X-Iamwatch-Severity": notify.Format(alerts).Severity.String()}
	if len(alerts) == 1 {
		extra["X-Iamwatch-Rule"] = untrusted.Text(alerts[0].Rule, notify.MaxValue)
	}
	return Header{
		From: from, To: to, Date: now,
		MessageID: notify.DeliveryID(alerts)[:32] + "@" + domain,
		Extra:     extra,
	}
}

func (s *SMTP) addr() string { return net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port)) }

// deliver runs one SMTP session and classifies its failure.
func (s *SMTP) deliver(ctx context.Context, msg []byte) error {
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var conn net.Conn
	var err error
	if s.cfg.TLS == TLSImplicit {
		d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second}, Config: s.tls}
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	} else {
		d := &net.Dialer{Timeout: 30 * time.Second}
		conn, err = d.DialContext(ctx, "tcp", s.addr())
	}
	if err != nil {
		return classify("connect", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) }) // unblocks the exchange; its error is the exchange's
	defer stop()
	_ = conn.SetDeadline(deadline)
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		conn.Close()
		return classify("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.HELO); err != nil {
		return classify("EHLO", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return notify.Permanent(errors.New("server does not offer STARTTLS (set tls: tls or none explicitly)"))
		}
		if err := c.StartTLS(s.tls); err != nil {
			return classify("STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		// PlainAuth refuses to send the password over a connection that is
		// neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return classify("AUTH", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return classify("MAIL FROM", err)
	}
	for _, a := range s.to {
		if err := c.Rcpt(a.Address); err != nil {
			return classify("RCPT TO "+a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("end of DATA", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failed QUIT does
		// not undo it.
		return nil
	}
	return nil
}

// classify: SMTP 4xx replies are transient, 5xx permanent; TLS certificate
// problems are permanent (configuration); other network errors transient.
func classify(step string, err error) error {
	err = fmt.Errorf("%s: %w", step, err)
	var te *textproto.Error
	if errors.As(err, &te) {
		if te.Code >= 500 {
			return notify.Permanent(err)
		}
		return notify.Retryable(err, 0)
	}
	var ce *tls.CertificateVerificationError
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	if errors.As(err, &ce) || errors.As(err, &ue) || errors.As(err, &he) {
		return notify.Permanent(err)
	}
	if strings.Contains(err.Error(), "unencrypted connection") { // net/smtp PlainAuth refusal.
		return notify.Permanent(err)
	}
	return notify.Retryable(err, 0)
}
