package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAlertsTriage(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitAlerted && r.code != exitOK {
		t.Fatalf("scan --sample: %d\n%s", r.code, r.stderr)
	}
	lines := func() []alertLine {
		t.Helper()
		r := runCLI(t, "", nil, "alerts", "--db", db, "--since", "all", "-o", "json")
		if r.code != 0 {
			t.Fatalf("alerts: %d %s", r.code, r.stderr)
		}
		var out []alertLine
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var a alertLine
			if err := json.Unmarshal([]byte(l), &a); err != nil {
				t.Fatal(err)
			}
			out = append(out, a)
		}
		return out
	}
	before := lines()
	for _, a := range before {
		if a.Triage.Status != "open" {
			t.Fatalf("fresh alert %s is %q, want open", a.DedupKey, a.Triage.Status)
		}
	}
	key := before[0].DedupKey
	r := runCLI(t, "", map[string]string{"USER": "carol"}, "alerts", "--db", db, "--triage", key, "--status", "false-positive", "--note", "our scanner")
	if r.code != 0 || !strings.Contains(r.stdout, "false_positive by carol") {
		t.Fatalf("--triage: %d %q %q", r.code, r.stdout, r.stderr)
	}
	after := lines()
	if got := after[0].Triage; got.Status != "false_positive" || got.By != "carol" || got.Note != "our scanner" || got.At.IsZero() {
		t.Errorf("triage after --triage: %+v", got)
	}
	if r := runCLI(t, "", nil, "alerts", "--db", db, "--since", "all"); !strings.Contains(r.stdout, "false_positive") {
		t.Errorf("the table does not show the status:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--triage", key}, exitUsage, "needs --status"},
		{[]string{"--triage", key, "--status", "done"}, exitUsage, "unknown triage status"},
		{[]string{"--triage", "no/such", "--status", "resolved"}, exitError, "no alert with dedup key"},
		{[]string{"--triage", key, "--status", "resolved", "--note", strings.Repeat("x", 5000)}, exitUsage, "note of 5000 bytes"},
	} {
		r := runCLI(t, "", nil, append([]string{"alerts", "--db", db}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("alerts %v: %d %q, want %d with %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
	}
}
