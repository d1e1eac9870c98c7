package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/query/querytest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// sampleNow is the clock of the history tests: the day after the sample
// trail (2025-03-10 to 2025-03-12), so the default --since 7d covers it.
var sampleNow = time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC)

// runAt runs the command line like run does, with the clock at now.
func runAt(t *testing.T, now time.Time, vars map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		getenv: func(k string) string { return vars[k] },
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errb,
		now:    func() time.Time { return now },
		log:    slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	code := e.main(context.Background(), args)
	return result{code, out.String(), errb.String()}
}

// goldenAt compares got with testdata/path (subdirectories allowed).
func goldenAt(t *testing.T, path, got string) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// sampleDB scans the shipped sample trail (with the rules, so alerts and
// deliveries exist) into a new database and returns its path.
func sampleDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sample.db")
	if r := runAt(t, sampleNow, nil, "scan", "--sample", "--db", db); r.code != exitOK {
		t.Fatalf("scan --sample: exit %d\n%s", r.code, r.stderr)
	}
	return db
}

// fixtureDB loads the query fixture (hostile text, every delivery state).
func fixtureDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.db")
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{Now: querytest.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := querytest.Load(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestQueryGolden runs every pre-built query over the sample trail in every
// output format.
func TestQueryGolden(t *testing.T) {
	db := sampleDB(t)
	for _, name := range query.Names() {
		for _, out := range []string{"table", "json", "csv"} {
			args := []string{"query", name, "--db", db, "-o", out, "--limit", "0"}
			if name == "user_lookup" {
				args = append(args, "--user", "alice")
			}
			r := runAt(t, sampleNow, nil, args...)
			if r.code != exitOK || r.stderr != "" {
				t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
			}
			if strings.HasSuffix(r.stdout, "(0 rows)\n") || r.stdout == "" || out == "csv" && strings.Count(r.stdout, "\n") < 2 {
				t.Errorf("%s: no rows over the sample", name)
			}
			goldenAt(t, filepath.Join("query", name+"."+out), r.stdout)
		}
	}
}

// cliCase is one command line and what it must do.
type cliCase struct {
	name string
	args []string
	env  map[string]string
	code int
}

// TestHistoryCommands runs the history commands (query, events, show,
// alerts) over the fixture: exit code, stdout and stderr against goldens.
func TestHistoryCommands(t *testing.T) {
	db := fixtureDB(t)
	missing := filepath.Join(t.TempDir(), "missing.db")
	for _, tc := range []cliCase{
		{"query-list", []string{"query", "--list"}, nil, 0},
		{"query-list-json", []string{"query", "--list", "-o", "json"}, nil, 0},
		{"query-default-week", []string{"query", "root_usage", "--db", db}, nil, 0},
		{"query-since-date-tz", []string{"query", "off_hours", "--db", db, "--since", "2026-03-14", "--tz", "America/New_York"}, nil, 0},
		{"query-business-hours", []string{"query", "off_hours", "--db", db, "--business-hours", "09:00-17:00", "--weekends", "--limit", "3"}, nil, 0},
		{"query-user-account", []string{"query", "active_users", "--db", db, "--account", querytest.Dev}, nil, 0},
		{"query-wide", []string{"query", "user_lookup", "--user", "alice", "--db", db, "--wide"}, nil, 0},
		{"query-print-sql-athena", []string{"query", "failed_auth", "--print-sql", "athena", "--since", "2026-03-01", "--until", "2026-03-08"}, nil, 0},
		{"query-sql", []string{"query", "--db", db, "--sql", "SELECT rule, severity_name, count(*) AS n FROM alerts GROUP BY 1, 2 ORDER BY 1"}, nil, 0},
		{"query-sql-csv", []string{"query", "--db", db, "-o", "csv", "--sql", "SELECT event_id, user_agent FROM events WHERE event_name = 'DeleteGroup'"}, nil, 0},
		{"query-sql-drop", []string{"query", "--db", db, "--sql", "SELECT 1; DROP TABLE events"}, nil, 2},
		{"query-sql-attach", []string{"query", "--db", db, "--sql", "ATTACH 'x' AS y"}, nil, 2},
		{"query-sql-cte-delete", []string{"query", "--db", db, "--sql", "WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x"}, nil, 2},
		{"query-sql-comment", []string{"query", "--db", db, "--sql", "SELECT 1 /* ; */ -- ;\n; PRAGMA writable_schema=1"}, nil, 2},
		{"query-sql-pragma", []string{"query", "--db", db, "--sql", "PRAGMA writable_schema=1"}, nil, 2},
		{"query-sql-load-extension", []string{"query", "--db", db, "--sql", "SELECT load_extension('/tmp/x.so')"}, nil, 2},
		{"query-sql-error", []string{"query", "--db", db, "--sql", "SELECT nope FROM events"}, nil, 1},
		{"query-unknown", []string{"query", "nope", "--db", db}, nil, 2},
		{"query-needs-user", []string{"query", "user_lookup", "--db", db}, nil, 2},
		{"query-no-name", []string{"query", "--db", db}, nil, 2},
		{"query-bad-since", []string{"query", "root_usage", "--db", db, "--since", "yesterday"}, nil, 2},
		{"query-bad-output", []string{"query", "root_usage", "--db", db, "-o", "xml"}, nil, 2},
		{"query-bad-tz", []string{"query", "root_usage", "--db", db, "--tz", "Mars/Olympus"}, nil, 2},
		{"query-missing-db", []string{"query", "root_usage", "--db", missing}, nil, 1},
		{"events-default", []string{"events", "--db", db}, nil, 0},
		{"events-user-errors", []string{"events", "--db", db, "--user", "alice", "--errors"}, nil, 0},
		{"events-cidr", []string{"events", "--db", db, "--source-ip", "198.51.100.0/24", "--limit", "3"}, nil, 0},
		{"events-ip-json", []string{"events", "--db", db, "--source-ip", "192.0.2.11", "-o", "json"}, nil, 0},
		{"events-name-source-region-csv", []string{"events", "--db", db, "--event-name", "AssumeRole", "--event-source", "sts.amazonaws.com", "--region", "us-east-1", "--account", querytest.Prod, "-o", "csv"}, nil, 0},
		{"events-all-tz", []string{"events", "--db", db, "--since", "all", "--until", "2026-03-11", "--tz", "Asia/Tokyo"}, nil, 0},
		{"events-bad-cidr", []string{"events", "--db", db, "--source-ip", "10.0.0.0/33"}, nil, 2},
		{"events-cidr-30", []string{"events", "--db", db, "--source-ip", "192.0.2.8/30", "--since", "all"}, nil, 0},
		{"events-ipv6-cidr", []string{"events", "--db", db, "--source-ip", "2001:db8::/32"}, nil, 0},
		{"events-bad-ip", []string{"events", "--db", db, "--source-ip", "192.0.2.999"}, nil, 2},
		{"events-hostile-ip", []string{"events", "--db", db, "--source-ip", "x' OR '1'='1\x1b[2J"}, nil, 2},
		{"show", []string{"show", "00000000-0000-4000-8000-000000000014", "--db", db}, nil, 0},
		{"show-missing", []string{"show", "no-such-id\x1b[2J", "--db", db}, nil, 1},
		{"alerts-default", []string{"alerts", "--db", db}, nil, 0},
		{"alerts-all-json", []string{"alerts", "--db", db, "--since", "all", "-o", "json"}, nil, 0},
		{"alerts-min-severity-csv", []string{"alerts", "--db", db, "--min-severity", "high", "-o", "csv"}, nil, 0},
		{"alerts-rule-user", []string{"alerts", "--db", db, "--rule", "console-signin-failures", "--user", "alice"}, nil, 0},
		{"alerts-limit", []string{"alerts", "--db", db, "--limit", "1", "--account", querytest.Prod}, nil, 0},
		{"alerts-bad-severity", []string{"alerts", "--db", db, "--min-severity", "urgent"}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runAt(t, querytest.Now(), tc.env, tc.args...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			out := strings.ReplaceAll(r.stdout+"--- stderr\n"+r.stderr, db, "FIXTURE.db")
			out = strings.ReplaceAll(out, missing, "MISSING.db")
			goldenAt(t, filepath.Join("history", tc.name+".txt"), fmt.Sprintf("exit %d\n%s", r.code, out))
		})
	}
}

// TestHistoryReadOnly: the read commands never create or change a database.
func TestHistoryReadOnly(t *testing.T) {
	db := fixtureDB(t)
	for _, args := range [][]string{
		{"query", "daily_summary", "--db", db},
		{"query", "--db", db, "--sql", "SELECT count(*) FROM events"},
		{"events", "--db", db},
		{"alerts", "--db", db},
		{"show", "00000000-0000-4000-8000-000000000001", "--db", db},
	} {
		if r := runAt(t, querytest.Now(), nil, args...); r.code != exitOK {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB().QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != len(querytest.Events()) {
		t.Errorf("events: %d, %v", n, err)
	}
	st.Close()
}

// TestAlertsJSONLines checks the documented alert line fields and the
// deliveries of each alert.
func TestAlertsJSONLines(t *testing.T) {
	db := fixtureDB(t)
	r := runAt(t, querytest.Now(), nil, "alerts", "--db", db, "--since", "all", "-o", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(querytest.Alerts()) {
		t.Fatalf("%d lines, want %d", len(lines), len(querytest.Alerts()))
	}
	deliveries := map[string]string{}
	for _, l := range lines {
		var a struct {
			Rule, Severity, Title, Summary, Time, AccountID, Region, UserName, SourceIP string
			EventIDs                                                                    []string `json:"event_ids"`
			Deliveries                                                                  []struct{ Sink, Status string }
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if a.Rule == "" || a.Severity == "" || a.Time == "" || len(a.EventIDs) == 0 {
			t.Errorf("incomplete alert line %s", l)
		}
		for _, d := range a.Deliveries {
			deliveries[a.Rule+"/"+d.Sink] = d.Status
		}
	}
	want := map[string]string{"root-console-signin/email": "failed", "root-console-signin/slack": "sent", "console-signin-failures/slack": "pending"}
	if fmt.Sprint(deliveries) != fmt.Sprint(want) {
		t.Errorf("deliveries %v, want %v", deliveries, want)
	}
}

// TestPrune deletes by age from the injected clock and reports counts.
func TestPrune(t *testing.T) {
	for _, tc := range []cliCase{
		{"prune-default", []string{"prune"}, nil, 0},
		{"prune-events-and-alerts", []string{"prune", "--events-older-than", "7d", "--alerts-older-than", "3d"}, nil, 0},
		{"prune-never", []string{"prune", "--alerts-older-than", "never"}, nil, 0},
		{"prune-bad-age", []string{"prune", "--events-older-than", "a year"}, nil, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := fixtureDB(t)
			r := runAt(t, querytest.Now(), nil, append(tc.args, "--db", db)...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d: %s", r.code, tc.code, r.stderr)
			}
			goldenAt(t, filepath.Join("history", tc.name+".txt"), fmt.Sprintf("exit %d\n%s--- stderr\n%s", r.code, r.stdout, r.stderr))
		})
	}
	// What is left is what the retention keeps.
	db := fixtureDB(t)
	runAt(t, querytest.Now(), nil, "prune", "--db", db, "--events-older-than", "5d", "--alerts-older-than", "4d")
	st, err := sqlite.Open(context.Background(), db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var oldEvents, oldAlerts, deliveries int
	for q, n := range map[string]*int{
		"SELECT count(*) FROM events WHERE event_time < '2026-03-11T12:00:00Z'": &oldEvents,
		"SELECT count(*) FROM alerts WHERE time < '2026-03-12T12:00:00Z'":       &oldAlerts,
		"SELECT count(*) FROM deliveries":                                       &deliveries,
	} {
		if err := st.DB().QueryRow(q).Scan(n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if oldEvents != 0 || oldAlerts != 0 || deliveries != 3 {
		t.Errorf("after prune: %d old events, %d old alerts, %d deliveries; want 0, 0, 3", oldEvents, oldAlerts, deliveries)
	}
}

// TestColour: colour only on a terminal without NO_COLOR.
func TestColour(t *testing.T) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		tty = nil
	}
	devnull, _ := os.Open(os.DevNull) // a character device too.
	defer devnull.Close()
	for _, tc := range []struct {
		out  io.Writer
		env  map[string]string
		want bool
	}{
		{&bytes.Buffer{}, nil, false},
		{devnull, nil, true},
		{devnull, map[string]string{"NO_COLOR": "1"}, false},
		{devnull, map[string]string{"TERM": "dumb"}, false},
	} {
		e := &env{getenv: func(k string) string { return tc.env[k] }, stdout: tc.out}
		if got := e.colour(); got != tc.want {
			t.Errorf("colour(%T, %v) = %v, want %v", tc.out, tc.env, got, tc.want)
		}
	}
	if tty != nil {
		tty.Close()
	}
	var b bytes.Buffer
	res := &query.Result{Columns: []string{"severity", "rule"}, Rows: [][]any{{"critical", "x"}, {"info", "y"}}}
	if err := query.Write(&b, res, query.Options{Format: query.Table, Colour: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\x1b[1;31mcritical\x1b[0m") || strings.Count(b.String(), "\x1b[") != 2 {
		t.Errorf("coloured table:\n%q", b.String())
	}
}
