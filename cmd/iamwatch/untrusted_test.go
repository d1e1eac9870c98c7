package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iamwatch/iamwatch/untrusted"
	"github.com/iamwatch/iamwatch/untrusted/untrustedtest"
)

// hostileTrail writes one CreateUser record per hostile string, the string
// in the actor's user name, the user agent, the source IP field and the new
// user's name (the 1 MB string in the user agent only: a record holds at
// most 1 MiB), and returns the file and the event IDs.
func hostileTrail(t *testing.T) (string, []string) {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	base := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	var ids []string
	for i, h := range untrustedtest.Strings {
		name, ip := h.Value, h.Value
		if len(h.Value) > 10_000 {
			name, ip = "long-agent", "198.51.100.20"
		}
		id := fmt.Sprintf("hostile-%02d", i)
		ids = append(ids, id)
		rec := map[string]any{
			"eventVersion": "1.08",
			"userIdentity": map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": "arn:aws:iam::111122223333:user/mallory",
				"accountId": "111122223333", "userName": name},
			"eventTime": base.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "eventSource": "iam.amazonaws.com",
			"eventName": "CreateUser", "awsRegion": "us-east-1", "sourceIPAddress": ip, "userAgent": h.Value,
			"requestParameters": map[string]any{"userName": name}, "responseElements": nil,
			"eventID": id, "eventType": "AwsApiCall", "recipientAccountId": "111122223333",
		}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "hostile.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, ids
}

// checkTerminal fails t when out, which a terminal shows, is not UTF-8 or
// carries a control character other than a line feed (CSV: and a tab, and
// CR only before LF) or a hidden character.
func checkTerminal(t *testing.T, what, out string, isCSV bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Errorf("%s: output is not valid UTF-8", what)
		return
	}
	if isCSV {
		out = strings.ReplaceAll(strings.ReplaceAll(out, "\r\n", "\n"), "\t", " ")
	}
	for i, r := range out {
		if (r < 0x20 && r != '\n') || (r >= 0x7f && r < 0xa0) || untrusted.Hidden(r) {
			lo := max(0, i-60)
			t.Errorf("%s: %U reached the terminal: %q", what, r, out[lo:min(len(out), i+20)])
			return
		}
	}
}

// checkCSV fails t when a cell of out would run as a spreadsheet formula.
func checkCSV(t *testing.T, what, out string) {
	t.Helper()
	r := csv.NewReader(strings.NewReader(out))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Errorf("%s: not CSV: %v", what, err)
		return
	}
	for _, rec := range recs {
		for _, c := range rec {
			if len(c) > 1 && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				if _, err := strconv.ParseFloat(c, 64); err != nil {
					t.Errorf("%s: a cell starts a formula: %.80q", what, c)
				}
			}
		}
	}
}

// checkJSON fails t when out is not JSON lines (or, indented, one JSON
// document).
func checkJSON(t *testing.T, what, out string, indented bool) {
	t.Helper()
	if indented {
		if !json.Valid([]byte(out)) {
			t.Errorf("%s: not JSON", what)
		}
		return
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("%s: a line is not JSON: %.200q", what, line)
		}
	}
}

// TestHostileStringsEveryOutput runs untrustedtest.Strings through scan
// (its alert lines and the fatal error naming a file), and the tables,
// JSON and CSV of events, alerts and query (named and --sql), and show:
// nothing a terminal acts on or hides gets out, CSV cells are not
// formulas, JSON stays JSON. The alert lines and the events table are
// golden files (testdata/hostile/).
func TestHostileStringsEveryOutput(t *testing.T) {
	in, ids := hostileTrail(t)
	db := tempDB(t)
	r := runCLI(t, "", nil, "scan", "--db", db, in)
	if r.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	checkTerminal(t, "scan", r.stdout+r.stderr, false)
	var alertLines []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, "[") || strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "  skipped") && !strings.HasPrefix(l, "  rejected") {
			alertLines = append(alertLines, l)
		}
	}
	if got := strings.Count(r.stdout, "IAM user created") + strings.Count(r.stdout, "User Created"); got == 0 && len(alertLines) < len(ids) {
		t.Errorf("scan raised %d alert lines for %d records:\n%s", len(alertLines), len(ids), r.stdout)
	}
	goldenAt(t, "hostile/scan-alerts.txt", strings.Join(alertLines, "\n")+"\n")

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"events", []string{"events", "--since", "all", "--limit", "100"}},
		{"events-json", []string{"events", "--since", "all", "--limit", "100", "-o", "json"}},
		{"events-csv", []string{"events", "--since", "all", "--limit", "100", "-o", "csv"}},
		{"alerts", []string{"alerts", "--since", "all", "--limit", "100"}},
		{"alerts-json", []string{"alerts", "--since", "all", "--limit", "100", "-o", "json"}},
		{"alerts-csv", []string{"alerts", "--since", "all", "--limit", "100", "-o", "csv"}},
		{"query", []string{"query", "active_users", "--since", "2026-01-01", "--wide"}},
		{"query-sql", []string{"query", "--sql", "SELECT * FROM events"}},
		{"query-sql-json", []string{"query", "--sql", "SELECT * FROM events", "-o", "json"}},
		{"query-sql-csv", []string{"query", "--sql", "SELECT * FROM events", "-o", "csv"}},
		{"query-sql-alerts-csv", []string{"query", "--sql", "SELECT * FROM alerts", "-o", "csv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, "", nil, append(tc.args, "--db", db)...)
			if r.code != exitOK {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			if len(r.stdout) < 1000 {
				t.Errorf("short output, the hostile rows are missing?\n%s", r.stdout)
			}
			isCSV := strings.HasSuffix(tc.name, "csv")
			checkTerminal(t, tc.name, r.stdout+r.stderr, isCSV)
			switch {
			case isCSV:
				checkCSV(t, tc.name, r.stdout)
			case strings.HasSuffix(tc.name, "json"):
				checkJSON(t, tc.name, r.stdout, false)
			}
			if tc.name == "events" {
				goldenAt(t, "hostile/events.txt", r.stdout)
			}
		})
	}
	t.Run("show", func(t *testing.T) {
		for _, id := range ids {
			r := runCLI(t, "", nil, "show", id, "--db", db)
			if r.code != exitOK {
				t.Fatalf("show %s: exit %d\n%s", id, r.code, r.stderr)
			}
			checkTerminal(t, "show "+id, r.stdout+r.stderr, false)
			checkJSON(t, "show "+id, r.stdout, true)
		}
	})
	t.Run("file names", func(t *testing.T) {
		dir := t.TempDir()
		for _, h := range untrustedtest.Strings {
			if len(h.Value) > 200 {
				continue
			}
			r := runCLI(t, "", nil, "scan", "--db", tempDB(t), "--strict", filepath.Join(dir, h.Value+".json"))
			checkTerminal(t, "scan of a file named "+h.Name, r.stdout+r.stderr, false)
		}
	})
}
