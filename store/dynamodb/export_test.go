package dynamodb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/export"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// TestExportSource: the events and alerts tables feed the Parquet export:
// days are counted per partition, a second run writes nothing, a new event
// (or events merged into an alert) rewrite only their day.
func TestExportSource(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2024, 6, 5, 12, 0, 0, 0, time.UTC)
	s := openStore(t, emulator(t), dynamodb.Config{Now: func() time.Time { return now }})
	evs := benchEvents("x", 3000) // one a second from 2024-06-03T00:00:00Z: 50 minutes.
	late := benchEvents("late", 5)
	for i := range late {
		late[i].Time = time.Date(2024, 6, 4, 23, 59, 50+i, 0, time.UTC)
	}
	if _, err := s.PutEvents(ctx, append(evs, late...)); err != nil {
		t.Fatal(err)
	}
	alerts := []iamwatch.Alert{
		{DedupKey: "r1:x-0", Rule: "r1", Severity: iamwatch.SeverityHigh, Title: "one", Time: evs[0].Time,
			AccountID: "111122223333", UserName: "deployer", EventIDs: []string{evs[0].ID}},
		{DedupKey: "r2:late", Rule: "r2", Severity: iamwatch.SeverityCritical, Title: "two", Time: late[0].Time,
			AccountID: "111122223333", UserName: "deployer", EventIDs: []string{late[0].ID}},
	}
	for _, a := range alerts {
		if _, err := iamwatch.ClaimAlert(ctx, s, a); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := any(s.ExportSource()).(export.AlertSource); ok {
		t.Error("ExportSource is an AlertSource: the exporter role may not read the alerts table")
	}
	src := s.ExportSourceWithAlerts()
	days, err := src.Days(ctx, time.Date(2024, 6, 2, 0, 0, 0, 0, time.UTC), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []iamwatch.Day{{Date: "2024-06-03", Count: 3000}, {Date: "2024-06-04", Count: 5}}; !slices.Equal(days, want) {
		t.Errorf("Days = %+v, want %+v", days, want)
	}
	if _, err := src.Days(ctx, time.Time{}, now); err == nil {
		t.Error("Days without a start: want an error")
	}
	n := 0
	for ev, err := range src.DayEvents(ctx, "2024-06-04", false) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Raw != nil || ev.UserName != "deployer" || ev.Type != "sts" || ev.RequestParameters == nil {
			t.Errorf("DayEvents without raw: %+v", ev)
		}
		n++
	}
	if n != 5 {
		t.Errorf("DayEvents yielded %d, want 5", n)
	}

	dst, err := export.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	run := func() export.Report {
		t.Helper()
		rep, err := export.Run(ctx, src, dst, export.Options{Now: func() time.Time { return now }, Since: now.AddDate(0, 0, -3)})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	if rep := run(); rep.Written != 2 || rep.Events != 3005 || rep.Alerts.Written != 2 || rep.Alerts.Alerts != 2 {
		t.Errorf("first export: %+v", rep)
	}
	if rep := run(); rep.Written != 0 || rep.Unchanged != 2 || rep.Alerts.Written != 0 || rep.Alerts.Unchanged != 2 {
		t.Errorf("second export: %+v, want nothing written", rep)
	}
	merged := alerts[1]
	merged.EventIDs, merged.Count = []string{alerts[1].EventIDs[0], late[1].ID}, 2
	if _, err := iamwatch.ClaimAlert(ctx, s, merged); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if rep := run(); rep.Written != 0 || len(rep.Alerts.Files) != 1 || rep.Alerts.Files[0].Key != "alerts/year=2024/month=6/day=4/alerts_20240605_130000.parquet" {
		t.Errorf("export after a merged alert: %+v, want only the alerts of 2024-06-04 rewritten", rep.Alerts)
	}
	more := benchEvents("more", 1)
	more[0].Time = late[0].Time
	if _, err := s.PutEvents(ctx, more); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	if rep := run(); rep.Written != 1 || rep.Events != 6 {
		t.Errorf("export after a late event: %+v, want only 2024-06-04 rewritten", rep)
	}
}
