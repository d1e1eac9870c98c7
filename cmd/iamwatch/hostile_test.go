package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/internal/syncbuf"
	"github.com/iamwatch/iamwatch/internal/testserver"
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
			if err := os.WriteFile(trail, []byte(`{"Records":[]}`), 0o600); err != nil {
				t.Fatal(err)
			}
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

// httpStatus is the status of a GET of url with the Authorization header
// auth (none when empty).
func httpStatus(t *testing.T, url, auth string) int {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// server.token guards /healthz and /metrics; listening beyond loopback
// logs a warning, naming the missing token (review F16).
func TestRunServerTokenAndListenWarning(t *testing.T) {
	fake := testserver.StartLookup(t, testserver.LookupOptions{Rate: 100})
	sts := testserver.StartSTS(t, testserver.STSOptions{})
	setAWSEnv(t, map[string]string{"CLOUDTRAIL": fake.URL, "STS": sts.URL})
	for _, tt := range []struct {
		name, host, token string
		warn              string // in the log; "" for no warning
	}{
		{"loopback with a token", "127.0.0.1", "env:IAMWATCH_TEST_TOKEN", ""},
		{"every interface without a token", "", "", "without authentication"},
		{"every interface with a token", "", "env:IAMWATCH_TEST_TOKEN", "served beyond this host"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			port := testserver.FreePort(t)
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "iamwatch.yaml")
			cfg := fmt.Sprintf("db: %s\nlog: {format: json, level: info}\nsources:\n  lookup:\n    regions: [us-east-1]\n    interval: 1s\nserver:\n  listen: %q\n",
				filepath.Join(dir, "db"), fmt.Sprintf("%s:%d", tt.host, port))
			if tt.token != "" {
				cfg += fmt.Sprintf("  token: %q\n", tt.token)
			}
			if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"IAMWATCH_TEST_TOKEN": "s3cret-token"}
			ctx, cancel := context.WithCancel(context.Background())
			var stderr syncbuf.Buffer
			done := make(chan int, 1)
			go func() {
				done <- run(ctx, []string{"run", "--config", cfgPath}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr)
			}()
			defer func() {
				cancel()
				<-done
			}()
			url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
			waitFor(t, 20*time.Second, "the server", func() bool { return httpStatus(t, url, "") != 0 })
			if tt.token != "" {
				for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "Bearer s3cret-token": 200} {
					if got := httpStatus(t, url, auth); got != want {
						t.Errorf("GET /metrics with %q = %d, want %d", auth, got, want)
					}
				}
				if got := httpStatus(t, strings.Replace(url, "/metrics", "/healthz", 1), ""); got != 401 {
					t.Errorf("GET /healthz without the token = %d, want 401", got)
				}
			} else if got := httpStatus(t, url, ""); got != 200 {
				t.Errorf("GET /metrics = %d, want 200", got)
			}
			log := stderr.String()
			if tt.warn == "" && strings.Contains(log, `"level":"WARN","msg":"daemon: /healthz`) {
				t.Errorf("a loopback listener warned:\n%s", log)
			}
			if tt.warn != "" && !strings.Contains(log, tt.warn) {
				t.Errorf("log lacks the warning %q:\n%s", tt.warn, log)
			}
			if strings.Contains(log, "s3cret-token") {
				t.Errorf("the token is in the log:\n%s", log)
			}
		})
	}
}

// query --sql cannot build a value past 16 MiB (randomblob(1e9) took
// 3.9 GB), still returns ordinary large values, and refuses a negative
// --timeout (review F17).
func TestQuerySQLBounds(t *testing.T) {
	db := fixtureDB(t)
	for _, tt := range []struct {
		sql, timeout string
		code         int
		want         string // in stdout or stderr
	}{
		{"SELECT randomblob(1000000000)", "", exitError, "string or blob too big"},
		{"SELECT length(zeroblob(20000000))", "", exitError, "string or blob too big"},
		{"SELECT length(randomblob(8000000))", "", exitOK, "8000000"},
		{"SELECT 1", "-5s", exitUsage, "must not be negative"},
		{"SELECT 1", "0", exitOK, "1"},
	} {
		args := []string{"query", "--db", db, "--sql", tt.sql}
		if tt.timeout != "" {
			args = append(args, "--timeout", tt.timeout)
		}
		r := runCLI(t, "", nil, args...)
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("%v = %d\n%s%s\nwant %d and %q", args, r.code, r.stdout, r.stderr, tt.code, tt.want)
		}
	}
}
