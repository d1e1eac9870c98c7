package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What config validate accepts, scan, run and the rules commands accept,
// and what they refuse it refuses, with the line: unknown sink types and
// settings, a sink missing what it needs, threshold overrides out of range
// or on a rule without a threshold (review F9).
func TestConfigValidateAgreesWithTheCommands(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, yaml string
		want       []string // in config validate's output, in this order
	}{
		{"sink type typo", "notify:\n  sinks:\n    b: {type: slackk}\n  routes:\n    - {sinks: [b]}\n",
			[]string{`:3: notify.sinks.b.type: unknown sink type "slackk"`}},
		{"unknown sink setting", "notify:\n  sinks:\n    a: {type: webhook, url: \"http://127.0.0.1:1/x\", urll: typo}\n  routes:\n    - {sinks: [a]}\n",
			[]string{`:3: notify.sinks.a: settings: field urll not found`}},
		{"email without host", "notify:\n  sinks:\n    m: {type: email}\n  routes:\n    - {sinks: [m]}\n",
			[]string{`:3: notify.sinks.m: `}},
		{"threshold count 1", "detection:\n  rules:\n    console-signin-failures:\n      threshold: {count: 1, within: 30m}\n",
			[]string{`:4: detection.rules.console-signin-failures.threshold.count: must be at least 2`}},
		{"threshold count -3 and within -1h", "detection:\n  rules:\n    console-signin-failures:\n      threshold: {count: -3, within: -1h}\n",
			[]string{`threshold.count: must be at least 2`, `threshold.within: must be positive`}},
		{"threshold on a single-event rule", "detection:\n  rules:\n    root-console-signin:\n      threshold: {count: 3}\n",
			[]string{`:4: detection.rules.root-console-signin.threshold: the rule has no threshold`}},
		{"unknown rule", "detection:\n  disabled: [no-such-rule]\n",
			[]string{`:2: detection.disabled.0: unknown rule "no-such-rule"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCLI(t, "", nil, "config", "validate", path)
			if r.code != exitError {
				t.Fatalf("config validate = %d %q, want %d", r.code, r.stdout, exitError)
			}
			rest := r.stdout
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("config validate output lacks %q (in order):\n%s", w, r.stdout)
				}
				rest = rest[i+len(w):]
			}
			// The commands refuse the same file at start, with the same message.
			first := strings.SplitN(r.stdout, "\n", 2)[0]
			trail := filepath.Join(dir, "empty.json")
			os.WriteFile(trail, []byte(`{"Records":[]}`), 0o600)
			for _, args := range [][]string{
				{"scan", "--db", filepath.Join(dir, "s.db"), "--config", path, trail},
				{"rules", "list", "--config", path},
				{"run", "--config", path, "--db", filepath.Join(dir, "r.db")},
			} {
				r := runCLI(t, "", nil, args...)
				if r.code == 0 || !strings.Contains(r.stderr, strings.TrimPrefix(first, path)) {
					t.Errorf("%s = %d, stderr %q; want a refusal with %q", args[0], r.code, r.stderr, first)
				}
			}
		})
	}
}

// config validate checks the file as written: a secret reference need not
// resolve here (the daemon's host has the secret, the laptop does not).
func TestConfigValidateLeavesSecretsUnread(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ok.yaml")
	cfg := "notify:\n  sinks:\n    s: {type: slack, webhook_url: \"env:IAMWATCH_TEST_UNSET\"}\n    w: {type: webhook, url: \"file:/nonexistent/secret\"}\n  routes:\n    - {sinks: [s, w]}\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, "", nil, "config", "validate", path); r.code != 0 || r.stdout != path+": ok\n" {
		t.Errorf("config validate = %d %q %q, want ok", r.code, r.stdout, r.stderr)
	}
}
