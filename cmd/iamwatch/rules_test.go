package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// userRule is a rule file a user might keep in a folder of their own.
const userRule = `id: custom-create-role
title: "IAM Alert: Role Created"
severity: medium
match: {eventSource: [iam.amazonaws.com], eventName: [CreateRole], errorCode: [{exists: false}]}
summary: '{{.user_name}} created role {{req "roleName"}}'
action: Check the role.
tests:
  - name: role created
    expect: alert
    event: {eventID: r1, eventTime: "2025-03-04T09:00:00Z", eventSource: iam.amazonaws.com, eventName: CreateRole,
            userIdentity: {type: IAMUser, userName: alice}, requestParameters: {roleName: x}}
  - name: denied
    expect: none
    event: {eventID: r2, eventTime: "2025-03-04T09:00:00Z", eventSource: iam.amazonaws.com, eventName: CreateRole,
            errorCode: AccessDenied, userIdentity: {type: IAMUser, userName: alice}}
`

func ruleDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesCommands(t *testing.T) {
	good := ruleDir(t, map[string]string{"custom-create-role.yaml": userRule})
	failing := ruleDir(t, map[string]string{"custom-create-role.yaml": strings.Replace(userRule, "expect: none", "expect: alert", 1)})
	broken := ruleDir(t, map[string]string{"bad.yaml": "id: bad\ntitle: Bad\nseverity: urgent\nmatch: {eventName: [X]}\nsummary: s\n"})
	override := ruleDir(t, map[string]string{"root-console-signin.yaml": strings.Replace(
		strings.Replace(userRule, "custom-create-role", "root-console-signin", 1), "severity: medium", "severity: low", 1)})
	cfgFile := filepath.Join(t.TempDir(), "iamwatch.yaml")
	if err := os.WriteFile(cfgFile, []byte("sources:\n  lookup: {}\ndetection:\n  disabled: [console-signin-failed]\n  trusted_accounts: [\"444455556666\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string // each in stdout+stderr
	}{
		{"list", []string{"rules", "list"}, exitOK, []string{"ID", "root-console-signin", "critical", "IAM Alert: Root Account Login", "vpc-changed"}},
		{"list with a folder", []string{"rules", "list", "--rules", good}, exitOK, []string{"custom-create-role", filepath.Join(good, "custom-create-role.yaml")}},
		{"list disabled by config", []string{"rules", "list", "--config", cfgFile}, exitOK, []string{"console-signin-failed (disabled)"}},
		{"list bad output", []string{"rules", "list", "--output", "xml"}, exitUsage, []string{"--output must be text or json"}},
		{"show", []string{"rules", "show", "console-signin-failures"}, exitOK, []string{"threshold:   4 events within 1h0m0s", "eventbridge:", `"source":["aws.signin"]`, "four failures in forty minutes (alert)"}},
		{"show unknown", []string{"rules", "show", "nope"}, exitUsage, []string{`no rule "nope"`}},
		{"show no id", []string{"rules", "show"}, exitUsage, []string{"takes one rule ID"}},
		{"show override", []string{"rules", "show", "root-console-signin", "--rules", override}, exitOK, []string{"severity:    low"}},
		{"test built-ins", []string{"rules", "test"}, exitOK, []string{"35 rules,", "0 failed"}},
		{"test a folder", []string{"rules", "test", good}, exitOK, []string{"36 rules,", "0 failed"}},
		{"test verbose", []string{"rules", "test", "-v", good}, exitOK, []string{"ok   custom-create-role/role created"}},
		{"test failing", []string{"rules", "test", failing}, exitError, []string{"FAIL custom-create-role/denied", "custom-create-role.yaml:12", "expected an alert, got none", `"eventID":"r2"`, "1 failed"}},
		{"test broken folder", []string{"rules", "test", broken}, exitError, []string{"bad.yaml:3:", "unknown severity"}},
		{"validate", []string{"rules", "validate", good}, exitOK, []string{"36 rules: ok"}},
		{"validate broken", []string{"rules", "validate", broken}, exitError, []string{filepath.Join(broken, "bad.yaml") + `:3: severity: unknown severity "urgent"`}},
		{"validate missing dir", []string{"rules", "validate", "/nonexistent/rules"}, exitError, []string{"no such file"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := runCLI(t, "", nil, c.args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.stdout, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stdout+r.stderr, w) {
					t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", w, r.stdout, r.stderr)
				}
			}
		})
	}
}

func TestRulesListJSON(t *testing.T) {
	r := runCLI(t, "", nil, "rules", "list", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 35 {
		t.Fatalf("%d lines, want 35", len(lines))
	}
	var first struct {
		ID       string `json:"id"`
		Severity string `json:"severity"`
		Tests    int    `json:"tests"`
		Enabled  bool   `json:"enabled"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.ID != "access-key-created" || first.Severity != "critical" || first.Tests == 0 || !first.Enabled {
		t.Errorf("first line %+v", first)
	}
}

func TestRulesListGolden(t *testing.T) {
	r := runCLI(t, "", nil, "rules", "list")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "rules-list.txt", r.stdout)
}
