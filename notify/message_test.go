package notify_test

import (
	"flag"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/rules"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestTextGolden(t *testing.T) {
	threshold := notifytest.Alert()
	threshold.Rule, threshold.Title, threshold.Severity = "console-signin-failures", "IAM Alert: Repeated Console Login Failures", iamwatch.SeverityHigh
	threshold.Summary = "12 failed console sign-ins for alice within 5m"
	threshold.UserName, threshold.Action = "alice", ""
	threshold.EventIDs = append(threshold.EventIDs, "a1", "a2")
	threshold.WindowStart, threshold.WindowEnd = notifytest.Time.Add(-5*60e9), notifytest.Time
	tests := []struct {
		name   string
		alerts []iamwatch.Alert
	}{
		{"root_login.txt", []iamwatch.Alert{notifytest.Alert()}},
		{"threshold.txt", []iamwatch.Alert{threshold}},
		{"digest.txt", notifytest.Alerts(4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := notify.Format(tt.alerts)
			notifytest.Golden(t, tt.name, []byte(m.Text()), *update)
		})
	}
}

func TestFormatRootLogin(t *testing.T) {
	m := notify.Format([]iamwatch.Alert{notifytest.Alert()})
	want := []string{
		"[CRITICAL] IAM Alert: Root Account Login",
		"Root account logged in from IP: 203.0.113.24",
		"Event: ConsoleLogin · User: root · Source IP: 203.0.113.24 · Region: us-east-1 · Account: 111122223333 · Event ID: 5f0c9a52-7d1e-4b8a-9c3f-2e6d8a1b4c70 · Time: 2026-03-14T09:26:53Z",
		"Action required: confirm with the account owner that this sign-in was theirs; if not, rotate the root password and MFA now.",
		"View in CloudTrail: https://us-east-1.console.aws.amazon.com/cloudtrailv2/home?region=us-east-1#/events/5f0c9a52-7d1e-4b8a-9c3f-2e6d8a1b4c70",
	}
	if got := strings.Split(strings.TrimSuffix(m.Text(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Text:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestFormatLocated: an alert located by GeoIP says where its source IP is.
func TestFormatLocated(t *testing.T) {
	a := notifytest.Alert()
	a.Country, a.ASN, a.ASOrg = "NL", "AS64500", "Example Hosting B.V."
	m := notify.Format([]iamwatch.Alert{a})
	if got := m.Text(); !strings.Contains(got, "Source IP: 203.0.113.24 · Located: NL, AS64500 Example Hosting B.V. · Region: us-east-1") {
		t.Errorf("Text:\n%s", got)
	}
}

func TestFormatDigestBounded(t *testing.T) {
	m := notify.Format(notifytest.Alerts(notify.MaxDigest + 7))
	if len(m.Items) != notify.MaxDigest {
		t.Errorf("digest lists %d items, want %d", len(m.Items), notify.MaxDigest)
	}
	if m.Severity != iamwatch.SeverityCritical {
		t.Errorf("digest severity %v, want the highest (critical)", m.Severity)
	}
	if !strings.Contains(m.Subject, "57 alerts") {
		t.Errorf("subject %q does not count all alerts", m.Subject)
	}
}

// TestFormatEmpty: no alerts is a digest of none, as before digests named
// their actor (which read the first alert and panicked).
func TestFormatEmpty(t *testing.T) {
	for _, alerts := range [][]iamwatch.Alert{nil, {}} {
		m := notify.Format(alerts)
		if len(m.Items) != 0 || !strings.Contains(m.Subject, "0 alerts") {
			t.Errorf("Format(%v) = subject %q, %d items; want a digest of 0 alerts", alerts, m.Subject, len(m.Items))
		}
	}
}

func TestConsoleURL(t *testing.T) {
	tests := []struct{ region, id, want string }{
		{"eu-west-1", "abc-123", "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/abc-123"},
		{"us-gov-west-1", "x", "https://us-gov-west-1.console.aws.amazon.com/cloudtrailv2/home?region=us-gov-west-1#/events/x"},
		{"evil.com/x", "abc", ""},
		{"us-east-1", "a|b>", ""},
		{"", "abc", ""},
	}
	for _, tt := range tests {
		if got := notify.ConsoleURL(tt.region, tt.id); got != tt.want {
			t.Errorf("ConsoleURL(%q, %q) = %q, want %q", tt.region, tt.id, got, tt.want)
		}
	}
}

func BenchmarkFormatText(b *testing.B) {
	alerts := []iamwatch.Alert{notifytest.Alert()}
	b.ReportAllocs()
	for b.Loop() {
		m := notify.Format(alerts)
		_ = m.Text()
	}
}

// An incident names the event that raised it and how many more it stands
// for (its Count), not just the sample of IDs it carries.
func TestFormatIncident(t *testing.T) {
	a := notifytest.Alert()
	a.Count, a.EventID, a.EventIDs = 4588, "e-raised", []string{"e-first", "e-raised", "e-last"}
	m := notify.Format([]iamwatch.Alert{a})
	text := m.Text()
	for _, want := range []string{"Event ID: e-raised (+4587 more)", "#/events/e-raised"} {
		if !strings.Contains(text, want) {
			t.Errorf("message lacks %q:\n%s", want, text)
		}
	}
}

// TestSubjectOfCatalogTitles: the catalog's titles already say what kind of
// alert they are ("IAM Alert: …", "CloudTrail Alert: …"); the subject adds
// only the severity.
func TestSubjectOfCatalogTitles(t *testing.T) {
	catalog, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range catalog {
		a := notifytest.Alert()
		a.Rule, a.Title, a.Severity = r.ID, r.Title, r.Severity
		m := notify.Format([]iamwatch.Alert{a})
		if want := "[" + strings.ToUpper(r.Severity.String()) + "] " + r.Title; m.Subject != want {
			t.Errorf("rule %s: subject %q, want %q", r.ID, m.Subject, want)
		}
	}
}
