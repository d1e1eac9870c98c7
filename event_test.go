package iamwatch_test

import (
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func TestColumnCoversEveryDocumentedColumn(t *testing.T) {
	ev := iamwatch.Event{
		ID: "id-1", Time: time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("x", 3600)),
		Source: "iam.amazonaws.com", Name: "CreateUser", Type: iamwatch.TypeIAM, UserName: "alice",
		RequestParameters: []byte(`{"userName":"bob"}`), MFAUsed: "no", ReadOnly: "false",
	}
	for _, c := range append(iamwatch.Columns, "category", "invoked_by", "target_role") {
		if _, ok := ev.Column(c); !ok {
			t.Errorf("Column(%q) is unknown", c)
		}
	}
	for name, want := range map[string]string{
		"event_time": "2026-03-04T04:06:07Z", "event_date": "2026-03-04", "event_type": "iam",
		"request_parameters": `{"userName":"bob"}`, "response_elements": "", "mfa_used": "no",
	} {
		if got, _ := ev.Column(name); got != want {
			t.Errorf("Column(%q) = %q, want %q", name, got, want)
		}
	}
	if _, ok := ev.Column("no_such_column"); ok {
		t.Error("an unknown column was accepted")
	}
}

func TestSeverityText(t *testing.T) {
	for _, name := range []string{"info", "low", "medium", "high", "critical"} {
		s, err := iamwatch.ParseSeverity(name)
		if err != nil || s.String() != name {
			t.Errorf("ParseSeverity(%q) = %v, %v", name, s, err)
		}
	}
	if s, err := iamwatch.ParseSeverity("CRITICAL"); err != nil || s != iamwatch.SeverityCritical {
		t.Errorf("upper case: %v, %v", s, err)
	}
	if _, err := iamwatch.ParseSeverity("urgent"); err == nil {
		t.Error("an unknown severity was accepted")
	}
	if !(iamwatch.SeverityCritical > iamwatch.SeverityHigh && iamwatch.SeverityLow > iamwatch.SeverityInfo) {
		t.Error("severities are not ordered")
	}
}
