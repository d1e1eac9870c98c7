package export_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/export"
)

// fixtureAlerts are our own alerts over three days (one with a day-edge
// time), a threshold alert with its window and group, and untrusted text.
func fixtureAlerts() []iamwatch.Alert {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	return []iamwatch.Alert{
		{DedupKey: "root-signin:ev-004", Rule: "root-signin", Severity: iamwatch.SeverityCritical,
			Title: "Root sign-in", Summary: "root signed in from 192.0.2.10 «\x1b[31m»", Action: "Check it was you.",
			Time: at("2024-01-06T00:00:00Z"), AccountID: "111122223333", Region: "us-east-1", UserName: "root",
			SourceIP: "192.0.2.10", EventName: "ConsoleLogin", EventIDs: []string{"ev-004"}, Tags: []string{"cis"}},
		{DedupKey: "admin-policy:ev-002", Rule: "admin-policy", Severity: iamwatch.SeverityHigh,
			Title: "AdministratorAccess attached", Summary: "alice attached AdministratorAccess to bob2",
			Time: at("2024-01-05T10:11:12Z"), AccountID: "111122223333", Region: "eu-west-1", UserName: "alice",
			SourceIP: "192.0.2.10", EventName: "AttachUserPolicy", EventIDs: []string{"ev-002"}},
		{DedupKey: "failed-signins:alice:2024-01-05T23", Rule: "failed-signins", Severity: iamwatch.SeverityMedium,
			Title: "5 failed sign-ins", Summary: "alice failed to sign in 5 times",
			Time: at("2024-01-05T23:59:59Z"), AccountID: "111122223333", Region: "us-east-1", UserName: "alice",
			SourceIP: "198.51.100.7", EventName: "ConsoleLogin", EventIDs: []string{"ev-a", "ev-b", "ev-c", "ev-d", "ev-e"},
			Group: "alice", WindowStart: at("2024-01-05T23:50:00Z"), WindowEnd: at("2024-01-05T23:59:59Z")},
		{DedupKey: "cloudtrail-stopped:ev-006", Rule: "cloudtrail-stopped", Severity: iamwatch.SeverityCritical,
			Title: "CloudTrail stopped", Summary: "StopLogging on trail main",
			Time: at("2024-12-31T23:00:00Z"), AccountID: "444455556666", Region: "ap-southeast-2", UserName: "mallory",
			SourceIP: "203.0.113.9", EventName: "StopLogging", EventIDs: []string{"ev-006"}},
	}
}

func (h *harness) claim(t testing.TB, as ...iamwatch.Alert) {
	t.Helper()
	for _, a := range as {
		if _, err := iamwatch.ClaimAlert(context.Background(), h.st, a); err != nil {
			t.Fatal(err)
		}
	}
}

func alertFiles(t testing.TB, dst export.Destination) []string {
	t.Helper()
	var out []string
	for _, k := range list(t, dst) {
		if strings.HasPrefix(k, export.AlertsDir) {
			out = append(out, k)
		}
	}
	return out
}

// readAlerts reads every alert file under dir back, by dedup key, and
// checks each row is in the partition of its day.
func readAlerts(t *testing.T, dir string, dst export.Destination) map[string]iamwatch.Alert {
	t.Helper()
	got := map[string]iamwatch.Alert{}
	for _, k := range alertFiles(t, dst) {
		rows, err := parquet.ReadFile[export.AlertRow](filepath.Join(dir, filepath.FromSlash(k)))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		for _, r := range rows {
			a, err := r.Alert()
			if err != nil {
				t.Fatal(err)
			}
			if want := export.AlertsDir + dayPath(a.Time); !strings.HasPrefix(k, want) {
				t.Errorf("alert %s (%s) in %s, want under %s", a.DedupKey, r.Time, k, want)
			}
			if _, dup := got[a.DedupKey]; dup {
				t.Errorf("alert %s exported twice", a.DedupKey)
			}
			got[a.DedupKey] = a
		}
	}
	return got
}

// TestAlertsReadBack exports the stored alerts and reads them back, field
// by field, with the exact partition paths and file names.
func TestAlertsReadBack(t *testing.T) {
	h := newHarness(t, fixtureEvents())
	h.claim(t, fixtureAlerts()...)
	dir := t.TempDir()
	dst, err := export.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := h.run(t, dst, export.Options{})
	if ar := rep.Alerts; ar.Days != 3 || ar.Written != 3 || ar.Alerts != 4 || len(ar.Files) != 3 || ar.Bytes == 0 {
		t.Errorf("alert report %+v; want 3 days written, 4 alerts, 3 files", ar)
	}
	wantKeys := []string{
		"alerts/year=2024/month=1/day=5/alerts_20250304_050607.parquet",
		"alerts/year=2024/month=1/day=6/alerts_20250304_050607.parquet",
		"alerts/year=2024/month=12/day=31/alerts_20250304_050607.parquet",
	}
	if got := alertFiles(t, dst); !slices.Equal(got, wantKeys) {
		t.Errorf("alert files:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantKeys, "\n"))
	}
	stored, err := h.st.Alerts(context.Background(), iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := readAlerts(t, dir, dst)
	if len(got) != len(stored) {
		t.Errorf("%d alerts read back, %d stored", len(got), len(stored))
	}
	for _, want := range stored {
		want.Action, want.Tags, want.References = "", nil, nil // not exported.
		if g := got[want.DedupKey]; !reflect.DeepEqual(g, want) {
			t.Errorf("alert %s read back\n%+v\nwant\n%+v", want.DedupKey, g, want)
		}
	}
	// The row schema: strings, times as event_time is, severity by name,
	// event IDs as a JSON array.
	r := export.AlertRowOf(&fixtureAlerts()[2])
	if r.Severity != "medium" || r.Time != "2024-01-05T23:59:59Z" || r.WindowStart != "2024-01-05T23:50:00Z" ||
		r.EventIDs != `["ev-a","ev-b","ev-c","ev-d","ev-e"]` || r.Group != "alice" {
		t.Errorf("row %+v", r)
	}
	if r := export.AlertRowOf(&iamwatch.Alert{}); r.EventIDs != "[]" || r.WindowStart != "" || r.Time != "" {
		t.Errorf("empty alert row %+v", r)
	}
	m, err := export.ReadManifest(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	if e := m.AlertDays["2024-01-05"]; e.Count != 2 || e.Version == "" || !slices.Equal(e.Files, wantKeys[:1]) {
		t.Errorf("manifest alert day 2024-01-05: %+v", e)
	}
}

// TestAlertsIncremental: a second run writes nothing; a new alert, or new
// events merged into a stored alert, rewrite only that day; a day the
// store pruned stays exported; Force rewrites everything.
func TestAlertsIncremental(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, fixtureEvents())
	fx := fixtureAlerts()
	h.claim(t, fx...)
	dir := t.TempDir()
	dst, err := export.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	h.run(t, dst, export.Options{})
	before := alertFiles(t, dst)

	h.clock.t = h.clock.t.Add(time.Hour)
	if rep := h.run(t, dst, export.Options{}); rep.Alerts.Written != 0 || rep.Alerts.Unchanged != 3 || len(rep.Alerts.Files) != 0 {
		t.Errorf("second run: %+v", rep.Alerts)
	}
	if got := alertFiles(t, dst); !slices.Equal(got, before) {
		t.Errorf("second run changed the files: %v", got)
	}

	step := func(name string, change func(), wantDays []string, opt export.Options) {
		t.Helper()
		h.clock.t = h.clock.t.Add(time.Hour)
		change()
		rep := h.run(t, dst, opt)
		var days []string
		for _, f := range rep.Alerts.Files {
			days = append(days, strings.TrimPrefix(filepath.Dir(f.Key), export.AlertsDir))
		}
		if !slices.Equal(days, wantDays) {
			t.Errorf("%s: rewrote %v, want %v", name, days, wantDays)
		}
		if len(rep.Alerts.Deleted) != len(wantDays) {
			t.Errorf("%s: deleted %v, want one file per rewritten day", name, rep.Alerts.Deleted)
		}
		got := readAlerts(t, dir, dst)
		stored, err := h.st.Alerts(ctx, iamwatch.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range stored {
			if g, ok := got[a.DedupKey]; !ok || !slices.Equal(g.EventIDs, a.EventIDs) {
				t.Errorf("%s: alert %s exported as %+v, stored with events %v", name, a.DedupKey, g, a.EventIDs)
			}
		}
	}
	step("new alert", func() {
		a := fx[0]
		a.DedupKey, a.Time, a.EventIDs = "root-signin:ev-099", a.Time.Add(5*time.Hour), []string{"ev-099"}
		h.claim(t, a)
	}, []string{"year=2024/month=1/day=6"}, export.Options{})
	step("merged events", func() {
		a := fx[3]
		a.EventIDs = append(slices.Clone(a.EventIDs), "ev-007")
		a.Count = len(a.EventIDs) // a claim that counts more replaces the stored alert
		h.claim(t, a)
	}, []string{"year=2024/month=12/day=31"}, export.Options{})

	// The store keeps alerts 30 days: pruning them must not remove the
	// export's history.
	h.clock.t = h.clock.t.Add(time.Hour)
	if _, n, err := h.st.Prune(ctx, time.Time{}, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil || n != 4 {
		t.Fatalf("prune: %d alerts, %v", n, err)
	}
	kept := alertFiles(t, dst)
	rep := h.run(t, dst, export.Options{})
	if rep.Alerts.Days != 1 || rep.Alerts.Written != 0 || len(rep.Alerts.Deleted) != 0 {
		t.Errorf("after prune: %+v", rep.Alerts)
	}
	if got := alertFiles(t, dst); !slices.Equal(got, kept) {
		t.Errorf("after prune the files are %v, want %v", got, kept)
	}
	if got := readAlerts(t, dir, dst); len(got) != 5 {
		t.Errorf("after prune %d alerts exported, want the 5 ever stored", len(got))
	}

	// A partly pruned day (fewer alerts than exported) is kept too.
	h.clock.t = h.clock.t.Add(time.Hour)
	h.claim(t, fx[1], fx[2])
	if _, _, err := h.st.Prune(ctx, time.Time{}, time.Date(2024, 1, 5, 12, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if rep := h.run(t, dst, export.Options{}); !slices.Equal(rep.Alerts.Kept, []string{"2024-01-05"}) || rep.Alerts.Written != 0 {
		t.Errorf("partly pruned day: %+v", rep.Alerts)
	}

	step("force", func() {}, []string{"year=2024/month=1/day=5", "year=2024/month=12/day=31"}, export.Options{Force: true})
}

// TestAlertDaysVersion: the version changes exactly when an alert is
// added or absorbs events, not with the order the store lists them in.
func TestAlertDaysVersion(t *testing.T) {
	fx := fixtureAlerts()
	base, _ := export.AlertDays(fx)
	rev := slices.Clone(fx)
	slices.Reverse(rev)
	if got, _ := export.AlertDays(rev); !reflect.DeepEqual(got, base) {
		t.Errorf("order changed the days: %+v, want %+v", got, base)
	}
	more := slices.Clone(fx)
	more[2].EventIDs = append(slices.Clone(more[2].EventIDs), "ev-f")
	got, _ := export.AlertDays(more)
	for i := range got {
		if changed := got[i].Version != base[i].Version; changed != (got[i].Date == "2024-01-05") {
			t.Errorf("day %s: version changed %v", got[i].Date, changed)
		}
	}
	if fmt.Sprint(len(base)) != "3" || base[0].Date != "2024-01-05" || base[0].Count != 2 {
		t.Errorf("days %+v", base)
	}
}
