package notify_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// TestHostileFormat checks the common format against every hostile string:
// no control characters, no line can be forged, lengths bounded.
func TestHostileFormat(t *testing.T) {
	for _, h := range untrustedtest.Strings {
		t.Run(h.Name, func(t *testing.T) {
			a := notifytest.HostileAlert(h.Value)
			m := notify.Format([]iamwatch.Alert{a})
			text := m.Text()
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			if len(lines) != 4 { // subject, summary, fields, action; no console link for a hostile region.
				t.Errorf("text has %d lines, want 4:\n%s", len(lines), text)
			}
			if !strings.HasPrefix(lines[3], "Action required: ") {
				t.Errorf("last line %q is not the action", lines[3])
			}
			for _, r := range text {
				if r != '\n' && (unicode.IsControl(r) || r == '\u202e') {
					t.Fatalf("control character %U in text %q", r, text)
				}
			}
			if !utf8.ValidString(text) {
				t.Error("text is not valid UTF-8")
			}
			if n := utf8.RuneCountInString(m.Summary); n > notify.MaxSummary {
				t.Errorf("summary has %d runes, bound is %d", n, notify.MaxSummary)
			}
			for _, f := range m.Fields {
				if n := utf8.RuneCountInString(f.Value); n > notify.MaxValue+20 {
					t.Errorf("field %s has %d runes", f.Label, n)
				}
			}
			if m.ConsoleURL != "" {
				t.Errorf("console URL built from hostile region/event ID: %s", m.ConsoleURL)
			}
		})
	}
}
