package notify_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/email"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/pagerduty"
	"github.com/iamwatch/iamwatch/notify/slack"
	"github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/notify/teams"
	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// FuzzRender renders an alert whose attacker-controlled fields hold
// arbitrary text through every medium and checks each medium's invariant:
// JSON valid, no Slack control sequences, no HTML from the input, an ASCII
// SNS subject, and a four-line text whose last line is the action.
func FuzzRender(f *testing.F) {
	for _, h := range untrustedtest.Strings {
		f.Add(h.Value)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := notifytest.HostileAlert(s)
		alerts := []iamwatch.Alert{a}
		m := notify.Format(alerts)

		text := m.Text()
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) < 4 || !strings.HasPrefix(lines[len(lines)-1], "Action required: ") && !strings.HasPrefix(lines[len(lines)-1], "View in CloudTrail: ") {
			t.Fatalf("text structure broken:\n%s", text)
		}

		sp, err := json.Marshal(slack.Payload(&m))
		if err != nil || !json.Valid(sp) {
			t.Fatalf("slack JSON: %v", err)
		}
		for _, blk := range slack.Payload(&m).Attachments[0].Blocks {
			for _, x := range append(blk.Fields, blk.Elements...) {
				if blk.Type != "context" && strings.ContainsAny(x.Text, "<>") {
					t.Fatalf("slack field with < or >: %q", x.Text)
				}
			}
			if blk.Text != nil && strings.ContainsAny(blk.Text.Text, "<>") {
				t.Fatalf("slack text with < or >: %q", blk.Text.Text)
			}
		}

		tp, err := json.Marshal(teams.Payload(&m))
		if err != nil || !json.Valid(tp) {
			t.Fatalf("teams JSON: %v", err)
		}
		pd, err := json.Marshal(pagerduty.Trigger("k", &a))
		if err != nil || !json.Valid(pd) {
			t.Fatalf("pagerduty JSON: %v", err)
		}

		c, err := email.Render(alerts)
		if err != nil {
			t.Fatal(err)
		}
		// The same alert with the HTML-special characters replaced has the
		// same markup: the input added no tag, attribute or entity.
		ref, err := email.Render([]iamwatch.Alert{notifytest.HostileAlert(strings.Map(func(r rune) rune {
			if strings.ContainsRune(`<>&"'`, r) {
				return '?'
			}
			return r
		}, s))})
		if err != nil {
			t.Fatal(err)
		}
		for _, special := range []string{"<", ">", "\""} {
			if strings.Count(c.HTML, special) != strings.Count(ref.HTML, special) {
				t.Fatalf("input changed the HTML markup (%s):\n%s", special, c.HTML)
			}
		}
		if h := untrusted.Header(c.Subject); strings.ContainsAny(h, "\r\n") {
			t.Fatalf("header value with a line break: %q", h)
		}

		subj := aws.ToString(sns.Input("arn:aws:sns:us-east-1:1:t", alerts).Subject)
		if len(subj) > sns.MaxSubject || strings.ContainsFunc(subj, func(r rune) bool { return r > 0x7e || unicode.IsControl(r) }) {
			t.Fatalf("sns subject %q", subj)
		}
	})
}
