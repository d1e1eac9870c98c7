package email

import (
	"bytes"
	"fmt"
	"html/template"
	"maps"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/untrusted"
)

// Content is a rendered email: the subject and both bodies.
type Content struct {
	Subject string // plain text, one line; encode before use in a header.
	Text    string
	HTML    string
}

var htmlTmpl = template.Must(template.New("alert").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.M.Subject}}</title></head>
<body style="font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; font-size: 14px; color: #212121;">
<div style="border-left: 6px solid {{.Colour}}; padding: 8px 16px;">
<h2 style="margin: 0 0 8px 0; font-size: 18px;">{{.M.Subject}}</h2>
{{with .M.Summary}}<p style="margin: 0 0 12px 0;">{{.}}</p>
{{end}}{{with .M.Fields}}<table style="border-collapse: collapse; margin: 0 0 12px 0;">
{{range .}}<tr><th style="text-align: left; padding: 2px 16px 2px 0; white-space: nowrap;">{{.Label}}</th><td style="padding: 2px 0;">{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{with .M.Items}}<ol style="margin: 0 0 12px 0; padding-left: 20px;">
{{range .}}<li>{{.ItemLine}}</li>
{{end}}</ol>
{{end}}<p style="margin: 0 0 12px 0;"><strong>{{.M.Action}}</strong></p>
{{with .M.ConsoleURL}}<p style="margin: 0;"><a href="{{.}}">View event in CloudTrail</a></p>
{{end}}</div>
<p style="color: #757575; font-size: 12px;">Sent by iamwatch.</p>
</body></html>
`))

// Render renders alerts (a digest when several) as an email.
func Render(alerts []iamwatch.Alert) (Content, error) {
	m := notify.Format(alerts)
	var h bytes.Buffer
	if err := htmlTmpl.Execute(&h, struct {
		M      *notify.Message
		Colour template.CSS
	}{&m, template.CSS(notify.Colour(m.Severity))}); err != nil {
		return Content{}, fmt.Errorf("email: render HTML: %w", err)
	}
	return Content{Subject: m.Subject, Text: m.Text(), HTML: h.String()}, nil
}

// Header values of a message.
type Header struct {
	From      *mail.Address
	To        []*mail.Address
	Date      time.Time
	MessageID string // without angle brackets: "id@domain".
	Extra     map[string]string
}

// Build writes an RFC 5322 message: headers (the subject RFC 2047-encoded
// when not plain ASCII), then multipart/alternative with text/plain and
// text/html parts, both UTF-8 quoted-printable, with CRLF line ends.
func Build(h Header, c Content) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ ctype, content string }{
		{"text/plain; charset=utf-8", c.Text},
		{"text/html; charset=utf-8", c.HTML},
	} {
		pw, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.ctype},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qw := quotedprintable.NewWriter(pw)
		if _, err := qw.Write([]byte(crlf(part.content))); err != nil {
			return nil, err
		}
		if err := qw.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	to := make([]string, len(h.To))
	for i, a := range h.To {
		to[i] = a.String()
	}
	var msg bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	hdr("From", h.From.String())
	hdr("To", strings.Join(to, ", "))
	hdr("Subject", untrusted.Header(c.Subject))
	hdr("Date", h.Date.Format(time.RFC1123Z))
	hdr("Message-ID", "<"+h.MessageID+">")
	hdr("MIME-Version", "1.0")
	hdr("Auto-Submitted", "auto-generated")
	for _, k := range slices.Sorted(maps.Keys(h.Extra)) {
		hdr(k, untrusted.Header(h.Extra[k]))
	}
	hdr("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}
