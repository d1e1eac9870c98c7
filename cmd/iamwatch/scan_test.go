package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
)

func TestScanExitCodes(t *testing.T) {
	okRecord := `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"0f0e0d0c-0000-4000-8000-000000000001","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
	cases := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string // in stdout+stderr
	}{
		{"no path", []string{"scan"}, "", exitUsage, "needs at least one PATH"},
		{"bad output", []string{"scan", "--output", "xml", "-"}, "", exitUsage, "--output must be text or json"},
		{"bad keep", []string{"scan", "--keep", "some", "-"}, "", exitUsage, "unknown keep policy"},
		{"bad format", []string{"scan", "--format", "xml", "-"}, "", exitUsage, "--format"},
		{"bad fail-on", []string{"scan", "--fail-on", "urgent", "-"}, "", exitUsage, "unknown severity"},
		{"unknown flag", []string{"scan", "--frobnicate", "-"}, "", exitUsage, "unknown flag"},
		{"missing file", []string{"scan", "/nonexistent/trail.json"}, "", exitError, "no such file"},
		{"sample and path", []string{"scan", "--sample", "x"}, "", exitUsage, "not both"},
		{"stdin record", []string{"scan", "-"}, okRecord, exitOK, "Root Account"},
		{"fail-on critical", []string{"scan", "--fail-on", "critical", "-"}, okRecord, exitAlerted, "Root Account"},
		{"fail-on below", []string{"scan", "--fail-on", "critical", "--no-detect", "-"}, okRecord, exitOK, "Stored 1 new events"},
		{"nothing readable", []string{"scan", "-"}, "{not json\n", exitError, "nothing could be read"},
		{"strict", []string{"scan", "--strict", "-"}, okRecord + "\n{not json\n", exitError, "--strict: 1 records"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append(c.args[:1:1], append([]string{"--db", tempDB(t)}, c.args[1:]...)...)
			r := runCLI(t, c.stdin, nil, args...)
			if r.code != c.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, c.code, r.stdout, r.stderr)
			}
			if !strings.Contains(r.stdout+r.stderr, c.want) {
				t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c.want, r.stdout, r.stderr)
			}
		})
	}
}

// TestScanStartErrors: the store opens while the rules load; when either
// fails, both errors are reported and the store is closed (closing the
// last connection of a WAL database removes its -wal file).
func TestScanStartErrors(t *testing.T) {
	rules := ruleDir(t, map[string]string{"bad.yaml": "id: bad\ntitle: Bad\nseverity: urgent\nmatch: {eventName: [X]}\nsummary: s\n"})
	db := tempDB(t)
	r := runCLI(t, "", nil, "scan", "--db", db, "--rules", rules, "-")
	if r.code != exitError || !strings.Contains(r.stderr, "bad.yaml:3: severity") {
		t.Errorf("broken rules: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(db + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the store was left open: %v", err)
	}

	notDB := filepath.Join(t.TempDir(), "not.db")
	if err := os.WriteFile(notDB, bytes.Repeat([]byte("not a database "), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, "", nil, "scan", "--db", notDB, "--rules", rules, "-")
	if r.code != exitError || !strings.Contains(r.stderr, "not a database") || !strings.Contains(r.stderr, "bad.yaml:3: severity") {
		t.Errorf("broken store and rules: exit %d, want both errors\n%s", r.code, r.stderr)
	}
}

func TestScanSampleGolden(t *testing.T) {
	db := tempDB(t)
	r := runCLI(t, "", nil, "scan", "--sample", "--db", db, "--workers", "1")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	golden(t, "scan-sample.txt", stable(r.stdout))

	// The same input again: nothing new is stored and no alert is raised twice.
	r = runCLI(t, "", nil, "scan", "--sample", "--db", db, "--output", "json")
	if r.code != exitOK {
		t.Fatalf("second scan: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("second scan printed %d lines, want only the summary:\n%s", len(lines), r.stdout)
	}
	var sum struct {
		Summary struct {
			Stored     int `json:"stored"`
			NewAlerts  int `json:"new_alerts"`
			Duplicates int `json:"duplicates"`
		} `json:"summary"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Summary.Stored != 0 || sum.Summary.NewAlerts != 0 || sum.Summary.Duplicates == 0 {
		t.Errorf("second scan: %+v; want nothing stored, no new alert, duplicates counted", sum.Summary)
	}
}

// The shipped sample raises every rule of the built-in catalog at least once.
func TestScanSampleRaisesEveryRule(t *testing.T) {
	r := runCLI(t, "", nil, "scan", "--sample", "--db", tempDB(t), "--output", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	raised := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Rule     string   `json:"rule"`
			Severity string   `json:"severity"`
			Title    string   `json:"title"`
			EventIDs []string `json:"event_ids"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %v: %s", err, sc.Text())
		}
		if line.Rule == "" {
			continue // the summary
		}
		if line.Severity == "" || line.Title == "" || len(line.EventIDs) == 0 {
			t.Errorf("incomplete alert line: %s", sc.Text())
		}
		raised[line.Rule]++
	}
	catalog, err := detect.LoadFS(rules.Builtin(), ".")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, rule := range catalog {
		if raised[rule.ID] == 0 {
			missing = append(missing, rule.ID)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the sample raises no alert for %d rules: %s", len(missing), strings.Join(missing, ", "))
	}
}

func TestScanDirectoryGlobAndDefaultDB(t *testing.T) {
	dir := t.TempDir()
	rec := func(id string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli/2","eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	}
	for i, name := range []string{"a/one.json", "a/b/two.json", "three.jsonl"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rec(string(rune('a'+i)))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	home := t.TempDir()
	env := map[string]string{"HOME": home}
	r := runCLI(t, "", env, "scan", filepath.Join(dir, "a"), filepath.Join(dir, "*.jsonl"))
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	want := filepath.Join(home, ".local", "share", "iamwatch", "iamwatch.db")
	if !strings.Contains(r.stderr, "created database "+want) {
		t.Errorf("stderr does not say where the database was created:\n%s", r.stderr)
	}
	if !strings.Contains(r.stdout, "Scanned 3 files") || !strings.Contains(r.stdout, "Stored 3 new events") {
		t.Errorf("unexpected summary:\n%s", r.stdout)
	}
	r = runCLI(t, "", env, "scan", filepath.Join(dir, "a"))
	if strings.Contains(r.stderr, "created database") {
		t.Errorf("second run says it created the database again:\n%s", r.stderr)
	}
}

func TestScanEscapesUntrustedText(t *testing.T) {
	// A user agent and a user name carrying terminal escape sequences.
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory\u001b[2J"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"evil\u001b]0;pwned\u0007","requestParameters":{"userName":"x\u001b[31m"},"responseElements":null,"eventID":"esc-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	r := runCLI(t, rec, nil, "scan", "--db", tempDB(t), "-")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.ContainsRune(r.stdout, 0x1b) || strings.ContainsRune(r.stdout, 0x07) {
		t.Errorf("raw control characters reached the terminal:\n%q", r.stdout)
	}
	if !strings.Contains(r.stdout, `mallory\x1b[2J`) {
		t.Errorf("the escaped user name is not shown:\n%s", r.stdout)
	}
}

func TestScanConfigAllowListAndDisabledRules(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "iamwatch.yaml")
	db := filepath.Join(dir, "from-config.db")
	content := "db: " + db + "\n" +
		"detection:\n" +
		"  disabled: [root-api-activity]\n" +
		"  allow:\n" +
		"    source_ips: [\"198.51.100.0/24\"]\n"
	if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	rootSignin := `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"%s","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
	in := fmt.Sprintf(rootSignin, "198.51.100.9", "allowed-1") + "\n" + fmt.Sprintf(rootSignin, "203.0.113.9", "raised-1") + "\n"
	r := runCLI(t, in, map[string]string{"IAMWATCH_CONFIG": cfg}, "scan", "--output", "json", "-")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "allowed-1") {
		t.Errorf("an allow-listed source IP raised an alert:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, `"raised-1"`) {
		t.Errorf("the sign-in from elsewhere raised nothing:\n%s", r.stdout)
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the database named in the configuration was not used: %v", err)
	}
}

// scan --notify delivers each new alert once; scanning again delivers nothing.
func TestScanNotifyDeliversOnce(t *testing.T) {
	hook := startWebhook(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "iamwatch.yaml")
	content := fmt.Sprintf("db: %s\nnotify:\n  sinks:\n    hook:\n      type: webhook\n      url: %s\n  routes:\n    - sinks: [hook]\n      min_severity: critical\n",
		filepath.Join(dir, "db"), hook.srv.URL)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, "", nil, "scan", "--sample", "--config", cfg, "--notify", "--output", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	sequence := map[string]bool{}
	for _, rl := range catalog {
		sequence[rl.ID] = rl.Sequence != nil
	}
	type raised struct {
		Key      string   `json:"dedup_key"`
		Rule     string   `json:"rule"`
		Severity string   `json:"severity"`
		EventID  string   `json:"event_id"`
		EventIDs []string `json:"event_ids"`
		Account  string   `json:"account_id"`
		User     string   `json:"user_name"`
	}
	var critical []raised
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var a raised
		if json.Unmarshal([]byte(line), &a) == nil && a.Severity == "critical" {
			critical = append(critical, a)
		}
	}
	requests, byKey := hook.counts()
	if len(critical) == 0 || len(byKey) == 0 {
		t.Fatalf("%d critical alerts raised, %d delivered (in %d requests)", len(critical), len(byKey), requests)
	}
	// Every critical alert is delivered once, but for the steps of a
	// sequence alert resolved with it: the sequence's message lists them.
	quieted := 0
	for _, a := range critical {
		if byKey[a.Key] > 0 {
			continue
		}
		part := !sequence[a.Rule] && slices.ContainsFunc(critical, func(s raised) bool {
			return sequence[s.Rule] && byKey[s.Key] > 0 && slices.Contains(append([]string{s.EventID}, s.EventIDs...), a.EventID)
		})
		if !part {
			t.Errorf("critical alert %s (%s) was not delivered", a.Key, a.Rule)
		}
		quieted++
	}
	if quieted == 0 {
		t.Errorf("no step of the sample's backdoor sequences was quieted; the sequence alerts should stand for them")
	}
	if len(byKey) != len(critical)-quieted {
		t.Errorf("%d alerts delivered, want %d (%d critical, %d quieted steps)", len(byKey), len(critical)-quieted, len(critical), quieted)
	}
	for k, n := range byKey {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", k, n)
		}
	}
	// The alerts of one rule and actor, due together, are one message.
	messages := map[string]bool{}
	for _, a := range critical {
		if byKey[a.Key] > 0 {
			messages[a.Rule+" "+a.Account+" "+a.User] = true
		}
	}
	if requests != len(messages) || requests >= len(byKey) {
		t.Errorf("%d requests carried %d alerts, want one a rule and actor: %d", requests, len(byKey), len(messages))
	}
	if !strings.Contains(r.stderr, fmt.Sprintf("delivered %d alerts", len(byKey))) {
		t.Errorf("stderr does not report the deliveries:\n%s", r.stderr)
	}

	r = runCLI(t, "", nil, "scan", "--sample", "--config", cfg, "--notify")
	if r.code != exitOK {
		t.Fatalf("second scan: exit %d\n%s", r.code, r.stderr)
	}
	if again, _ := hook.counts(); again != requests {
		t.Errorf("the second scan sent %d more requests", again-requests)
	}

	r = runCLI(t, "", nil, "scan", "--sample", "--db", filepath.Join(dir, "x.db"), "--notify")
	if r.code != exitUsage {
		t.Errorf("--notify without a configuration: exit %d, want %d", r.code, exitUsage)
	}
}

// TestAlertEvents: an incident's count matches the events --events lists,
// and a rescan in any order leaves the same alerts.
func TestAlertEvents(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	list := func() []map[string]any {
		r := runCLI(t, "", nil, "alerts", "--db", db, "--since", "2025-03-01", "--limit", "0", "-o", "json")
		if r.code != exitOK {
			t.Fatalf("alerts: exit %d\n%s", r.code, r.stderr)
		}
		var out []map[string]any
		for line := range strings.Lines(r.stdout) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatal(err)
			}
			delete(m, "deliveries")
			out = append(out, m)
		}
		return out
	}
	before := list()
	grouped := 0
	for _, a := range before {
		if a["rule"] != "unauthorized-api-calls" && a["rule"] != "console-signin-failures" {
			continue
		}
		grouped++
		r := runCLI(t, "", nil, "alerts", "--db", db, "--events", a["dedup_key"].(string), "-o", "csv")
		if r.code != exitOK {
			t.Fatalf("alerts --events: exit %d\n%s", r.code, r.stderr)
		}
		rows := strings.Count(r.stdout, "\n") - 1 // the header
		if n := int(a["count"].(float64)); rows != n || n < 4 {
			t.Errorf("%s: --events lists %d events, count %d\n%s", a["dedup_key"], rows, n, r.stdout)
		}
	}
	if grouped < 2 {
		t.Fatalf("the sample raised %d threshold alerts", grouped)
	}
	// The same files again (one reader: other batches): nothing changes.
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db, "--workers", "1"); r.code != exitOK {
		t.Fatalf("rescan: exit %d\n%s", r.code, r.stderr)
	}
	if after := list(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a rescan changed the alerts:\n%v\n%v", before, after)
	}
}

// TestAlertsShowGeo: after a scan of the sample (its own GeoIP database),
// the alerts table shows the country and network of the source IP, and
// the events of an impossible-travel alert are its two sign-ins, each
// with its country.
func TestAlertsShowGeo(t *testing.T) {
	db := tempDB(t)
	if r := runCLI(t, "", nil, "scan", "--sample", "--db", db); r.code != exitOK {
		t.Fatalf("scan: exit %d\n%s", r.code, r.stderr)
	}
	r := runCLI(t, "", nil, "alerts", "--db", db, "--since", "2025-03-01", "--rule", "signin-impossible-travel", "-o", "csv")
	if r.code != exitOK {
		t.Fatalf("alerts: exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "time,severity,rule,count,user_name,account_id,source_ip,country,asn,") ||
		!strings.Contains(lines[1], ",ivan,111122223333,192.0.2.77,NL,AS64500,") {
		t.Fatalf("alerts:\n%s", r.stdout)
	}
	key := lines[1][strings.LastIndex(lines[1], ",")+1:]
	r = runCLI(t, "", nil, "alerts", "--db", db, "--events", key, "-o", "csv")
	if r.code != exitOK {
		t.Fatalf("alerts --events: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, ",ConsoleLogin,ivan,203.0.113.12,US,AS64496") || !strings.Contains(r.stdout, ",ConsoleLogin,ivan,192.0.2.77,NL,AS64500") ||
		len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 3 {
		t.Errorf("alerts --events %s:\n%s", key, r.stdout)
	}
}

// A rule whose condition fails on every event (here: a field that is not a
// number) used to be silent; scan names it in its summary and status lists
// it beside the sources.
func TestScanShowsFailingRule(t *testing.T) {
	broken := strings.Replace(userRule, "summary:", "condition: int(request.roleName) > 0\nsummary:", 1)
	broken = broken[:strings.Index(broken, "tests:")]
	dir := ruleDir(t, map[string]string{"custom-create-role.yaml": broken})
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli","requestParameters":{"roleName":"ops-%d"},"responseElements":null,"eventID":"role-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	var in strings.Builder
	for i := range 3 {
		fmt.Fprintf(&in, rec+"\n", i, i)
	}
	db := tempDB(t)
	r := runCLI(t, in.String(), nil, "scan", "--db", db, "--rules", dir, "-")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if want := "Rule custom-create-role failed to evaluate on 3 events (it did not match them); the first: event \"role-"; !strings.Contains(r.stdout, want) {
		t.Errorf("scan summary lacks %q:\n%s", want, r.stdout)
	}
	s := runCLI(t, "", nil, "status", "--db", db)
	if s.code != exitOK {
		t.Fatalf("status: exit %d\n%s", s.code, s.stderr)
	}
	for _, want := range []string{"Rules that failed to evaluate", "custom-create-role  3 "} {
		if !strings.Contains(s.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, s.stdout)
		}
	}
	// A second scan of other events adds to the count.
	r = runCLI(t, strings.ReplaceAll(in.String(), `"role-`, `"again-`), nil, "scan", "--db", db, "--rules", dir, "-")
	if r.code != exitOK {
		t.Fatalf("second scan: exit %d\n%s", r.code, r.stderr)
	}
	s = runCLI(t, "", nil, "status", "--db", db, "--output", "json")
	if !strings.Contains(s.stdout, `"key":"rule/custom-create-role","status":"failing"`) || !strings.Contains(s.stdout, `"processed":6`) {
		t.Errorf("status --output json after two scans:\n%s", s.stdout)
	}
}

func TestProgressLine(t *testing.T) {
	for _, c := range []struct {
		done, total, records int
		elapsed              time.Duration
		want                 string
	}{
		{0, 100, 0, 0, "[························] 0/100 files · 0 records"},
		{25, 100, 5000, 10 * time.Second, "[██████··················] 25/100 files · 5000 records · 500/s · 30s left"},
		{100, 100, 20000, 40 * time.Second, "[████████████████████████] 100/100 files · 20000 records · 500/s"},
		{25, -1, 5000, 10 * time.Second, "25 files (listing) · 5000 records · 500/s"},
	} {
		if got := progressLine(c.done, c.total, c.records, c.elapsed); got != c.want {
			t.Errorf("progressLine(%d, %d, %d, %s) = %q, want %q", c.done, c.total, c.records, c.elapsed, got, c.want)
		}
	}
}

// An incident that escalates is delivered again, once per step: two scans
// of a growing burst reach the webhook twice (medium, then high); a replay
// sends nothing.
func TestScanNotifyEscalation(t *testing.T) {
	hook := startWebhook(t)
	dir := t.TempDir()
	rule := `id: custom-role-burst
title: Roles created in a burst
severity: medium
match: {eventSource: [iam.amazonaws.com], eventName: [CreateRole]}
threshold: {count: 2, within: 1h, by: [user_name]}
escalate: [{count: 4, severity: high}]
summary: '{{.count}} roles by {{.group}}'
`
	rules := ruleDir(t, map[string]string{"burst.yaml": rule})
	cfg := filepath.Join(dir, "iamwatch.yaml")
	content := fmt.Sprintf("db: %s\nnotify:\n  sinks:\n    hook:\n      type: webhook\n      url: %s\n  routes:\n    - sinks: [hook]\n      rules: [custom-role-burst]\n",
		filepath.Join(dir, "db"), hook.srv.URL)
	if err := os.WriteFile(cfg, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2026-01-05T09:0%d:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateRole","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli","requestParameters":{"roleName":"r%d"},"responseElements":null,"eventID":"role-%d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	events := func(from, to int) string {
		var b strings.Builder
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, rec+"\n", i, i, i)
		}
		return b.String()
	}
	scan := func(in string) {
		t.Helper()
		if r := runCLI(t, in, nil, "scan", "--config", cfg, "--rules", rules, "--notify", "-"); r.code != exitOK {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	}
	scan(events(0, 2))
	if n, _ := hook.counts(); n != 1 {
		t.Fatalf("after 2 events: %d requests, want 1 (the medium incident)", n)
	}
	scan(events(2, 5))
	if n, byKey := hook.counts(); n != 2 || len(byKey) != 1 {
		t.Fatalf("after 5 events: %d requests for %d alerts, want 2 for 1 (escalated to high)", n, len(byKey))
	}
	scan(events(0, 5))
	if n, _ := hook.counts(); n != 2 {
		t.Errorf("a replay sent %d more requests", n-2)
	}
	r := runCLI(t, "", nil, "alerts", "--db", filepath.Join(dir, "db"), "--since", "all", "--output", "json")
	if !strings.Contains(r.stdout, `"severity":"high"`) || !strings.Contains(r.stdout, `"count":5`) {
		t.Errorf("stored alert:\n%s", r.stdout)
	}
}

// Bidi overrides, zero-width and tag characters in a record reach the
// terminal as visible escapes, in the alert lines and in a fatal error
// naming a file.
func TestScanShowsHiddenCharacters(t *testing.T) {
	rec := `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"admin\u202egnp.exe\u200b"},"eventTime":"2026-01-05T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"x\udb40\udc41","requestParameters":{"userName":"x"},"responseElements":null,"eventID":"hid-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	r := runCLI(t, rec, nil, "scan", "--db", tempDB(t), "-")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, c := range []rune{0x202e, 0x200b, 0xe0041} {
		if strings.ContainsRune(r.stdout, c) {
			t.Errorf("%U reached the terminal:\n%q", c, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, `admin\u202egnp.exe\u200b`) {
		t.Errorf("the escaped user name is not shown:\n%s", r.stdout)
	}
	bad := filepath.Join(t.TempDir(), "evil\x1b]0;pwned\x07\u202e.json")
	r = runCLI(t, "", nil, "scan", "--db", tempDB(t), "--strict", bad)
	if strings.ContainsRune(r.stderr, 0x1b) || strings.ContainsRune(r.stderr, 0x202e) {
		t.Errorf("a file name's escapes reached the terminal:\n%q", r.stderr)
	}
}

// TestScanJSONKeys: every key scan -o json writes, in the alerts and in the
// summary, is snake_case (the summary once mixed in Go field names).
func TestScanJSONKeys(t *testing.T) {
	r := runCLI(t, "", nil, "scan", "--sample", "--db", filepath.Join(t.TempDir(), "db"), "--output", "json")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if !snake.MatchString(k) {
					t.Errorf("key %q at %s is not snake_case", k, path)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	for _, line := range lines {
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		walk("$", v)
	}
	if !strings.Contains(lines[len(lines)-1], `"new_alerts":`) {
		t.Errorf("the last line is not the summary: %s", lines[len(lines)-1])
	}
}

// TestScanBulkConflictingRecord: a bulk load skips a stored event by its
// time and ID; a later record of the ID at another time is stored and left
// out when the load ends, and the summary counts it as a conflict, not as
// stored.
func TestScanBulkConflictingRecord(t *testing.T) {
	defer func(n, r int64) { bulkMinBytes, bulkMinRows = n, r }(bulkMinBytes, bulkMinRows)
	bulkMinBytes, bulkMinRows = 0, 0
	rec := func(id, at, name string) string {
		return `{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/dana","accountId":"111122223333","userName":"dana"},"eventTime":"` +
			at + `","eventSource":"iam.amazonaws.com","eventName":"` + name + `","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20","userAgent":"aws-cli/2","requestParameters":null,"responseElements":null,"eventID":"` +
			id + `","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	}
	first := rec("same-id", "2026-01-05T09:00:00Z", "ListUsers")
	trail := `{"Records":[` + first + `,` + rec("other-id", "2026-01-05T09:30:00Z", "ListRoles") + `,` + first + `,` +
		rec("same-id", "2026-01-05T10:00:00Z", "GetUser") + `]}`
	path := filepath.Join(t.TempDir(), "trail.json")
	if err := os.WriteFile(path, []byte(trail), 0o644); err != nil {
		t.Fatal(err)
	}
	db := tempDB(t)
	// One event a batch: the later record is not in its first record's batch.
	r := runCLI(t, "", nil, "scan", "--db", db, "--keep", "all", "--batch-size", "1", path)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"Stored 2 new events, 1 duplicates skipped", "Conflicting records (an eventID already taken by a different record; the first kept): 1", `event "same-id"`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	show := runCLI(t, "", nil, "show", "--db", db, "same-id")
	if show.code != exitOK || !strings.Contains(show.stdout, "ListUsers") || strings.Contains(show.stdout, "GetUser") {
		t.Errorf("show same-id: exit %d, want the first record (ListUsers):\n%s%s", show.code, show.stdout, show.stderr)
	}
}

// TestScanLogArchive: a copy of an organisation's log archive holds AWS
// Config's and other services' files beside the trail's. The scan reads
// the trail, skips the rest by name and sums the skipped files up by
// reason, one line each, instead of refusing (or listing) them one by one.
func TestScanLogArchive(t *testing.T) {
	dir := t.TempDir()
	acct := "o-a1b2c3d4e5/AWSLogs/111122223333/"
	files := map[string]string{
		acct + "CloudTrail/us-east-1/2026/01/05/111122223333_CloudTrail_us-east-1_20260105T0900Z_a.json": `{"Records":[` +
			`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/dana","accountId":"111122223333","userName":"dana"},` +
			`"eventTime":"2026-01-05T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.20",` +
			`"userAgent":"aws-cli/2","eventID":"e-1","eventType":"AwsApiCall","recipientAccountId":"111122223333"}]}`,
		acct + "CloudTrail-Digest/us-east-1/2026/01/05/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260105T100000Z.json.gz": "{}",
		acct + "Config/ConfigWritabilityCheckFile": "",
		acct + "Config/us-east-1/2026/1/5/ConfigHistory/111122223333_Config_us-east-1_ConfigHistory_AWS::IAM::User_20260105T000000Z_20260105T010000Z_1.json.gz":      `{"fileVersion":"1.0","configurationItems":[]}`,
		acct + "Config/us-east-1/2026/1/5/ConfigSnapshot/111122223333_Config_us-east-1_ConfigSnapshot_20260105T000000Z_1d8a0c2e-3b8f-4d4c-9c8e-1e2f3a4b5c6d.json.gz": `{"fileVersion":"1.0","configurationItems":[]}`,
	}
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := tempDB(t)
	r := runCLI(t, "", nil, "scan", "--db", db, dir)
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"Scanned 1 files (4 skipped, 0 rejected): 1 records, 0 rejected.",
		"  skipped 3 files: an AWS Config log file, not CloudTrail; the first: " + filepath.Join(dir, acct, "Config/ConfigWritabilityCheckFile") + "\n",
		"  skipped 1 file: digest file; the first: " + filepath.Join(dir, acct) + "/CloudTrail-Digest/",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Count(r.stdout, "  skipped") != 2 || strings.Contains(r.stdout, "rejected ") {
		t.Errorf("want two skipped lines and no rejection:\n%s", r.stdout)
	}
	j := runCLI(t, "", nil, "scan", "--db", db, "--output", "json", dir)
	var sum struct {
		Summary struct {
			SkippedBy []pipeline.SkipCount `json:"skipped_by"`
		} `json:"summary"`
	}
	lines := strings.Split(strings.TrimSpace(j.stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("%v: %s", err, j.stdout)
	}
	if want := []pipeline.SkipCount{
		{Reason: "an AWS Config log file, not CloudTrail", Files: 3, First: filepath.Join(dir, acct, "Config/ConfigWritabilityCheckFile")},
		{Reason: "digest file", Files: 1, First: filepath.Join(dir, acct, "CloudTrail-Digest/us-east-1/2026/01/05/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260105T100000Z.json.gz")},
	}; !slices.Equal(sum.Summary.SkippedBy, want) {
		t.Errorf("skipped_by = %v, want %v", sum.Summary.SkippedBy, want)
	}
}

// TestScanTimings: --timings prints when each stage ended, in the order a
// scan passes them and never going back; a bulk load adds its index
// builds, and without the flag nothing is printed.
func TestScanTimings(t *testing.T) {
	defer func(n, r int64) { bulkMinBytes, bulkMinRows = n, r }(bulkMinBytes, bulkMinRows)
	stagesOf := func(stderr string) []string {
		_, line, ok := strings.Cut(stderr, "iamwatch: timings (ms from the scan's start): ")
		if !ok {
			return nil
		}
		line, _, _ = strings.Cut(line, "\n")
		var names []string
		prev := int64(-1)
		for _, f := range strings.Fields(line) {
			name, ms, _ := strings.Cut(f, "=")
			n, err := strconv.ParseInt(ms, 10, 64)
			if err != nil || n < prev {
				t.Fatalf("stage %q: %q is not a time after the previous stage's (%d)", name, ms, prev)
			}
			names, prev = append(names, name), n
		}
		return names
	}
	r := runCLI(t, "", nil, "scan", "--db", tempDB(t), "--sample", "--timings")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got, want := stagesOf(r.stderr), []string{stageStarted, stageRead, stageAlerts, stageClosed}; !slices.Equal(got, want) {
		t.Errorf("stages %q, want %q\n%s", got, want, r.stderr)
	}
	bulkMinBytes, bulkMinRows = 0, 0
	r = runCLI(t, "", nil, "scan", "--db", tempDB(t), "--sample", "--keep", "all", "--timings")
	if got, want := stagesOf(r.stderr), []string{stageStarted, stageRead, stageAlerts, stageIndexed, stageClosed}; r.code != exitOK || !slices.Equal(got, want) {
		t.Errorf("bulk load: exit %d, stages %q, want %q\n%s", r.code, got, want, r.stderr)
	}
	if r := runCLI(t, "", nil, "scan", "--db", tempDB(t), "--sample"); r.code != exitOK || strings.Contains(r.stderr, "timings") {
		t.Errorf("without --timings: exit %d\n%s", r.code, r.stderr)
	}
}
