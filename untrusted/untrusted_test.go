package untrusted_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// media are the functions of the package, by the golden file they write.
var media = []struct {
	name string
	fn   func(string) string
}{
	{"terminal", untrusted.Terminal},
	{"terminal_lines", untrusted.TerminalLines},
	{"text", func(s string) string { return untrusted.Text(s, 160) }},
	{"csv", untrusted.CSV},
	{"slack", untrusted.Slack},
	{"markdown", untrusted.Markdown},
	{"html", untrusted.HTML},
	{"header", untrusted.Header},
	{"ascii", func(s string) string { return untrusted.ASCII(s, 100) }},
	{"json", func(s string) string {
		b, _ := json.Marshal(s)
		return string(untrusted.JSON(b))
	}},
}

// TestGolden runs the hostile table through every medium and compares
// with testdata/MEDIUM.txt (go test ./untrusted -update rewrites them).
// Outputs over 400 bytes are shown by their start and length.
func TestGolden(t *testing.T) {
	for _, m := range media {
		t.Run(m.name, func(t *testing.T) {
			var b bytes.Buffer
			for _, s := range untrustedtest.Strings {
				out := m.fn(s.Value)
				if !utf8.ValidString(out) {
					t.Errorf("%s: invalid UTF-8 %q", s.Name, out)
				}
				if len(out) > 400 {
					out = fmt.Sprintf("%s… (%d bytes)", untrusted.Truncate(out, 120), len(out))
				}
				// %q would hide what the function wrote: show it raw, one
				// value per line; only Terminal-safe media are shown raw.
				fmt.Fprintf(&b, "%s:\n\t%s\n", s.Name, strings.ReplaceAll(untrusted.TerminalLines(out), "\n", "\n\t"))
			}
			golden(t, m.name+".txt", b.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./untrusted -update if intended)\n--- got\n%s", path, got)
	}
}

func TestTerminal(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "plain"},
		{"a\x1b[31mb", `a\x1b[31mb`},
		{"line\nbreak\rret\ttab", `line\x0abreak\x0dret tab`},
		{"c1 \u009b x", `c1 \x9b x`},
		{"bidi \u202eevil", `bidi \u202eevil`},
		{"bad \xff byte", `bad \xff byte`},
		{"zw\u200b\u2060\ufeff", `zw\u200b\u2060\ufeff`},
		{"tag\U000E0041", `tag\U000e0041`},
		{"sep\u2028", `sep\u2028`},
		{"replacement \ufffd stays", "replacement \ufffd stays"},
		{"José-日本 Zoë 👨‍👩‍👧", `José-日本 Zoë 👨\u200d👩\u200d👧`},
	} {
		if got := untrusted.Terminal(tc.in); got != tc.want {
			t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := untrusted.TerminalLines("a\x1b\nb\r\n"); got != "a\\x1b\nb\\x0d\n" {
		t.Errorf("TerminalLines = %q", got)
	}
}

func TestText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"root", 0, "root"},
		{"a\r\nb\nc\td", 0, "a  b c d"},
		{"\x1b[31mred\x1b[0m\u009b", 0, `\x1b[31mred\x1b[0m\x9b`},
		{"ab\u202ecd", 0, `ab\u202ecd`},
		{"a\xffb", 0, `a\xffb`},
		{"abcdef", 4, "abc…"},
		{"abcd", 4, "abcd"},
		{"ééééé", 3, "éé…"},
		{"  x  ", 0, "x"},
	} {
		if got := untrusted.Text(tc.in, tc.max); got != tc.want {
			t.Errorf("Text(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestSlack(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"<https://evil|click>", "&lt;https://evil|click&gt;"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"a & b", "a &amp; b"},
		{"@channel @Here @EVERYONE", "@\u2060channel @\u2060Here @\u2060EVERYONE"},
		{"alice@example.com", "alice@example.com"},
		{"@herearound", "@\u2060herearound"},
		{"x\ny\x1b", `x y\x1b`},
	} {
		if got := untrusted.Slack(tc.in); got != tc.want {
			t.Errorf("Slack(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`[click](https://evil) **b** \`, `\[click\]\(https://evil\) \*\*b\*\* \\`},
		{"us-east-1", "us-east-1"},
		{"- item", `\- item`},
		{"# head", `\# head`},
		{"12. item", `12\. item`},
		{"203.0.113.24", "203.0.113.24"},
		{"<at>x</at>", `\<at\>x\</at\>`},
	} {
		if got := untrusted.Markdown(tc.in); got != tc.want {
			t.Errorf("Markdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCSV(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`=HYPERLINK("https://evil.example","x")`, `'=HYPERLINK("https://evil.example","x")`},
		{"+1+1", "'+1+1"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tcmd", "'\tcmd"},
		{"\r=1", `\x0d=1`},
		{"-5", "-5"},
		{"-", "-"},
		{"-0.5e3", "-0.5e3"},
		{"aws-cli/2.15", "aws-cli/2.15"},
		{"a\x1b]0;t\x07\nb\tc", "a\\x1b]0;t\\x07\nb\tc"},
	} {
		if got := untrusted.CSV(tc.in); got != tc.want {
			t.Errorf("CSV(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestASCII(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"[CRITICAL] IAM Alert: Root · Login…", 0, "[CRITICAL] IAM Alert: Root - Login..."},
		{"naïve\x1b[2J\nx", 0, `na?ve\x1b[2J x`},
		{strings.Repeat("a", 120), 99, strings.Repeat("a", 96) + "..."},
	} {
		if got := untrusted.ASCII(tc.in, tc.max); got != tc.want {
			t.Errorf("ASCII(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	in := []byte("{\n  \"a\": \"x\x1b[2J\u009b\u202e\x7f\xff\u200b\U000E0041\",\n  \"b\": \"ok é\"\n}\n")
	got := untrusted.JSON(in)
	want := "{\n  \"a\": \"x\\u001b[2J\\u009b\\u202e\\u007f\\ufffd\\u200b\\udb40\\udc41\",\n  \"b\": \"ok é\"\n}\n"
	if string(got) != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	var v map[string]string
	if err := json.Unmarshal(got, &v); err != nil || v["a"] != "x\x1b[2J\u009b\u202e\x7f\ufffd\u200b\U000E0041" {
		t.Errorf("not the same JSON value: %v %q", err, v["a"])
	}
	plain := []byte(`{"a":"b"}`)
	if got := untrusted.JSON(plain); &got[0] != &plain[0] {
		t.Error("clean JSON was copied")
	}
}

// terminalSafe fails t when s holds a rune a terminal acts on or hides;
// keep lists the control characters s may hold.
func terminalSafe(t *testing.T, fn, in, s, keep string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s(%q) = %q: invalid UTF-8", fn, in, s)
	}
	for _, r := range s {
		if (r < 0x20 || (r >= 0x7f && r < 0xa0) || untrusted.Hidden(r)) && !strings.ContainsRune(keep, r) {
			t.Fatalf("%s(%q) = %q holds %U", fn, in, s, r)
		}
	}
}

func seeds(f *testing.F) {
	for _, s := range untrustedtest.Strings {
		if len(s.Value) < 10_000 {
			f.Add(s.Value)
		}
	}
}

func FuzzTerminal(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.Terminal(s)
		terminalSafe(t, "Terminal", s, got, "")
		if again := untrusted.Terminal(got); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
		lines := untrusted.TerminalLines(s)
		terminalSafe(t, "TerminalLines", s, lines, "\n")
		if strings.Count(lines, "\n") != strings.Count(s, "\n") {
			t.Fatalf("TerminalLines(%q) = %q changed the lines", s, lines)
		}
		if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) || untrusted.Hidden(r) }) && got != s {
			t.Fatalf("Terminal changed safe text %q to %q", s, got)
		}
	})
}

func FuzzText(f *testing.F) {
	for _, s := range untrustedtest.Strings {
		if len(s.Value) < 10_000 {
			f.Add(s.Value, 50)
		}
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 1000
		got := untrusted.Text(s, max)
		terminalSafe(t, "Text", s, got, "")
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("Text(%q, %d) has %d runes", s, max, utf8.RuneCountInString(got))
		}
		// The bounded Text escapes only what it keeps, with the same result.
		if ref := untrusted.Truncate(untrusted.Text(s, 0), max); got != ref {
			t.Fatalf("Text(%q, %d) = %q, want %q", s, max, got, ref)
		}
		if again := untrusted.Text(got, max); again != got {
			t.Fatalf("not idempotent: %q then %q", got, again)
		}
	})
}

func FuzzCSV(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		cell := untrusted.CSV(s)
		terminalSafe(t, "CSV", s, cell, "\t\n")
		if untrusted.CSV(cell) != cell {
			t.Fatalf("not idempotent: %q", cell)
		}
		if len(cell) > 1 && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
			if _, err := strconv.ParseFloat(cell, 64); err != nil {
				t.Fatalf("CSV(%q) = %q starts a formula", s, cell)
			}
		}
		// The cell survives a CSV round trip.
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		if err := w.Write([]string{cell, "x"}); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		rec, err := csv.NewReader(&b).Read()
		if err != nil || len(rec) != 2 || strings.ReplaceAll(rec[0], "\r\n", "\n") != strings.ReplaceAll(cell, "\r\n", "\n") {
			t.Fatalf("CSV round trip of %q: %q, %v", cell, rec, err)
		}
	})
}

func FuzzSlack(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.Slack(s)
		// The word joiner is Slack's own, after an @ only.
		terminalSafe(t, "Slack", s, strings.ReplaceAll(got, "@\u2060", "@"), "")
		if strings.ContainsAny(got, "<>") {
			t.Fatalf("Slack(%q) = %q: raw < or >", s, got)
		}
		for i := strings.IndexByte(got, '&'); i >= 0; i = indexFrom(got, '&', i+1) {
			rest := got[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				t.Fatalf("Slack(%q) = %q: raw &", s, got)
			}
		}
		low := strings.ToLower(got)
		for _, w := range []string{"@channel", "@here", "@everyone"} {
			if strings.Contains(low, w) {
				t.Fatalf("Slack(%q) = %q: %s", s, got, w)
			}
		}
	})
}

func indexFrom(s string, c byte, from int) int {
	if i := strings.IndexByte(s[from:], c); i >= 0 {
		return from + i
	}
	return -1
}

func FuzzMarkdown(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.Markdown(s)
		terminalSafe(t, "Markdown", s, got, "")
		// Every syntax character is preceded by an odd run of backslashes.
		for i := 0; i < len(got); i++ {
			if !strings.ContainsRune("*_[]()`~<>", rune(got[i])) {
				continue
			}
			n := 0
			for j := i - 1; j >= 0 && got[j] == '\\'; j-- {
				n++
			}
			if n%2 == 0 {
				t.Fatalf("Markdown(%q) = %q: %c at %d unescaped", s, got, got[i], i)
			}
		}
		if got != "" && strings.ContainsRune("-+#", rune(got[0])) {
			t.Fatalf("Markdown(%q) = %q starts a block", s, got)
		}
	})
}

func FuzzHTML(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.HTML(s)
		terminalSafe(t, "HTML", s, got, "")
		if strings.ContainsAny(got, `<>"'`) {
			t.Fatalf("HTML(%q) = %q: raw markup", s, got)
		}
	})
}

func FuzzHeader(f *testing.F) {
	seeds(f)
	dec := new(mime.WordDecoder)
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.Header(s)
		if strings.ContainsAny(got, "\r\n\x00") {
			t.Fatalf("Header(%q) = %q holds CR, LF or NUL", s, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] >= 0x7f {
				t.Fatalf("Header(%q) = %q is not printable ASCII", s, got)
			}
		}
		back, err := dec.DecodeHeader(got)
		if err != nil {
			t.Fatalf("Header(%q) = %q does not decode: %v", s, got, err)
		}
		if back != untrusted.Text(s, untrusted.MaxHeader) {
			t.Fatalf("Header(%q) decodes to %q, not the text %q", s, back, untrusted.Text(s, untrusted.MaxHeader))
		}
		terminalSafe(t, "Header (decoded)", s, back, "")
	})
}

func FuzzASCII(f *testing.F) {
	for _, s := range untrustedtest.Strings {
		if len(s.Value) < 10_000 {
			f.Add(s.Value, 99)
		}
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max %= 500
		got := untrusted.ASCII(s, max)
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] >= 0x7f {
				t.Fatalf("ASCII(%q) = %q holds %#x", s, got, got[i])
			}
		}
		if max > 3 && len(got) > max {
			t.Fatalf("ASCII(%q, %d) has %d bytes", s, max, len(got))
		}
	})
}

// FuzzJSON: JSON of any string decodes to the same string, and of any
// bytes to what encoding/json makes of them; it is terminal-safe.
func FuzzJSON(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		for _, indent := range []bool{false, true} {
			v := map[string]any{"k" + s: []any{s, 1.5, nil}}
			var b []byte
			var err error
			if indent {
				b, err = json.MarshalIndent(v, "", "  ")
			} else {
				b, err = json.Marshal(v)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := untrusted.JSON(b)
			terminalSafe(t, "JSON", s, string(got), "\n")
			var want, back any
			if err := json.Unmarshal(b, &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("JSON(%q) = %q: %v", b, got, err)
			}
			if fmt.Sprint(back) != fmt.Sprint(want) {
				t.Fatalf("JSON(%q) = %q decodes to %v, want %v", b, got, back, want)
			}
		}
		// Raw bytes, as a stored record may hold: still valid UTF-8 out.
		if out := untrusted.JSON([]byte(s)); !utf8.Valid(out) {
			t.Fatalf("JSON(%q) = %q: invalid UTF-8", s, out)
		}
	})
}

// TestIdempotent: text made visible once (a stored summary) is shown the
// same by every visible medium.
func TestIdempotent(t *testing.T) {
	for _, s := range untrustedtest.Strings {
		term := untrusted.Terminal(s.Value)
		for name, fn := range map[string]func(string) string{
			"Terminal": untrusted.Terminal, "TerminalLines": untrusted.TerminalLines, "CSV": untrusted.CSV,
			"Text": func(s string) string { return untrusted.Text(s, 0) },
		} {
			once := fn(s.Value)
			if fn(once) != once {
				t.Errorf("%s is not idempotent on %s", name, s.Name)
			}
		}
		if strings.TrimSpace(term) == term && untrusted.Text(term, 0) != term && !strings.ContainsAny(term, "\t") {
			t.Errorf("Text changes Terminal's %s: %q", s.Name, term)
		}
	}
}

func TestShowHidden(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain <b>page</b>\n\tindented", "plain <b>page</b>\n\tindented"},
		{"user\u202eexe.txt", `user\u202eexe.txt`},
		{"a\u200bb\U000E0041c", `a\u200bb\U000e0041c`},
		{"esc \x1b[31m kept", "esc \x1b[31m kept"},
		{"bad \xff byte", `bad \xff byte`},
	} {
		if got := untrusted.ShowHidden(tc.in); got != tc.want {
			t.Errorf("untrusted.ShowHidden(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := untrusted.ShowHidden(untrusted.ShowHidden(tc.in)); again != untrusted.ShowHidden(tc.in) {
			t.Errorf("untrusted.ShowHidden(%q) is not idempotent: %q", tc.in, again)
		}
	}
}

func FuzzShowHidden(f *testing.F) {
	for _, h := range untrustedtest.Strings {
		f.Add(h.Value)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := untrusted.ShowHidden(s)
		if !utf8.ValidString(got) {
			t.Fatalf("untrusted.ShowHidden(%q) = %q: not UTF-8", s, got)
		}
		for _, r := range got {
			if untrusted.Hidden(r) {
				t.Fatalf("untrusted.ShowHidden(%q) = %q keeps %U", s, got, r)
			}
		}
		if untrusted.ShowHidden(got) != got {
			t.Fatalf("ShowHidden not idempotent on %q", s)
		}
	})
}
