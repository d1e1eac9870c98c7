package cloudtrail

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/iamwatch/iamwatch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenEvent is the JSON form of an Event in golden files: the documented
// column names, plus the fields that have no column. Raw is left out (it is
// the input) but its length is checked.
type goldenEvent struct {
	EventID           string          `json:"event_id"`
	EventTime         string          `json:"event_time"`
	EventDate         string          `json:"event_date"`
	EventSource       string          `json:"event_source"`
	EventName         string          `json:"event_name"`
	EventType         string          `json:"event_type"`
	Category          string          `json:"category"`
	UserName          string          `json:"user_name"`
	IdentityType      string          `json:"identity_type"`
	PrincipalARN      string          `json:"principal_arn"`
	AccountID         string          `json:"account_id"`
	Region            string          `json:"aws_region"`
	SourceIP          string          `json:"source_ip"`
	UserAgent         string          `json:"user_agent"`
	InvokedBy         string          `json:"invoked_by,omitempty"`
	TargetRole        string          `json:"target_role,omitempty"`
	RequestParameters json.RawMessage `json:"request_parameters"`
	ResponseElements  json.RawMessage `json:"response_elements"`
	ErrorCode         string          `json:"error_code"`
	ErrorMessage      string          `json:"error_message"`
	MFAUsed           string          `json:"mfa_used"`
	ReadOnly          string          `json:"read_only"`
}

func toGolden(e *iamwatch.Event) goldenEvent {
	return goldenEvent{
		EventID: e.ID, EventTime: e.Time.Format(iamwatch.TimeFormat), EventDate: e.Date(),
		EventSource: e.Source, EventName: e.Name, EventType: string(e.Type), Category: e.Category,
		UserName: e.UserName, IdentityType: e.IdentityType, PrincipalARN: e.PrincipalARN,
		AccountID: e.AccountID, Region: e.Region, SourceIP: e.SourceIP, UserAgent: e.UserAgent,
		InvokedBy: e.InvokedBy, TargetRole: e.TargetRole,
		RequestParameters: e.RequestParameters, ResponseElements: e.ResponseElements,
		ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, MFAUsed: e.MFAUsed, ReadOnly: e.ReadOnly,
	}
}

// checkGolden compares got (marshalled as indented JSON) with the golden
// file, or rewrites it under -update.
func checkGolden(t *testing.T, path string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(b, want) {
		t.Errorf("%s differs from what was decoded (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", path, b, want)
	}
}

func goldenPath(input string) string {
	return input[:len(input)-len(filepath.Ext(input))] + ".golden"
}
