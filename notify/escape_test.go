package notify_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
)

func TestCleanText(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "root", 0, "root"},
		{"newlines become spaces", "a\r\nb\nc\td", 0, "a  b c d"},
		{"terminal escapes dropped", "\x1b[31mred\x1b[0m\u009b", 0, "[31mred[0m"},
		{"bidi dropped", "ab\u202ecd\u2066e\u2069", 0, "abcde"},
		{"invalid utf8 replaced", "a\xffb", 0, "a\ufffdb"},
		{"truncated with ellipsis", "abcdef", 4, "abc…"},
		{"exact length kept", "abcd", 4, "abcd"},
		{"runes not bytes", "ééééé", 3, "éé…"},
		{"trimmed", "  x  ", 0, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := notify.CleanText(tt.in, tt.max); got != tt.want {
				t.Errorf("CleanText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

func TestEscapeSlack(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<https://evil|click>", "&lt;https://evil|click&gt;"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"a & b", "a &amp; b"},
		{"@channel @Here @EVERYONE", "@\u2060channel @\u2060Here @\u2060EVERYONE"},
		{"alice@example.com", "alice@example.com"},
		{"@herearound", "@\u2060herearound"},
	}
	for _, tt := range tests {
		if got := notify.EscapeSlack(tt.in); got != tt.want {
			t.Errorf("EscapeSlack(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeMarkdown(t *testing.T) {
	tests := []struct{ in, want string }{
		{`[click](https://evil) **b** \`, `\[click\]\(https://evil\) \*\*b\*\* \\`},
		{"us-east-1", "us-east-1"},
		{"- item", `\- item`},
		{"# head", `\# head`},
		{"12. item", `12\. item`},
		{"203.0.113.24", "203.0.113.24"},
		{"<at>x</at>", `\<at\>x\</at\>`},
	}
	for _, tt := range tests {
		if got := notify.EscapeMarkdown(tt.in); got != tt.want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestASCII(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"[CRITICAL] IAM Alert: Root · Login…", 0, "[CRITICAL] IAM Alert: Root - Login..."},
		{"naïve\x1b[2J\nx", 0, "na?ve[2J x"},
		{strings.Repeat("a", 120), 99, strings.Repeat("a", 96) + "..."},
	}
	for _, tt := range tests {
		got := notify.ASCII(tt.in, tt.max)
		if got != tt.want {
			t.Errorf("ASCII(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

// TestHostileFormat checks the common format against every hostile string:
// no control characters, no line can be forged, lengths bounded.
func TestHostileFormat(t *testing.T) {
	for _, h := range notifytest.Hostile {
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

func FuzzCleanText(f *testing.F) {
	for _, h := range notifytest.Hostile {
		f.Add(h.Value, 50)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 1000
		got := notify.CleanText(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		for _, r := range got {
			if unicode.IsControl(r) {
				t.Fatalf("control %U in %q", r, got)
			}
		}
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("%d runes > %d", utf8.RuneCountInString(got), max)
		}
		esc := notify.EscapeSlack(got)
		if strings.ContainsAny(esc, "<>") {
			t.Fatalf("EscapeSlack left < or >: %q", esc)
		}
		if idx := strings.Index(strings.ToLower(esc), "@channel"); idx >= 0 {
			t.Fatalf("EscapeSlack left @channel: %q", esc)
		}
	})
}
